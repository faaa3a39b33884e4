import Foundation

/// How arrivals are spaced in open-loop load (`--arrival`).
public enum ArrivalProcess: String, Sendable, Codable, CaseIterable {
    /// Exponential gaps (a Poisson process): coefficient of variation 1.
    case poisson
    /// Equal gaps of 1/rate: coefficient of variation 0.
    case constant
    /// Gamma-distributed gaps with shape `--burstiness` B and mean 1/rate: coefficient of variation 1/√B
    /// (B = 1 is Poisson; B < 1 is burstier, B > 1 smoother), as vLLM's benchmark defines burstiness.
    case gamma
}

/// The intended send times of an open-loop run point, computed once before the run from the seed, as
/// absolute offsets from the point's start (never relative sleeps, which drift).
public struct ArrivalSchedule: Sendable, Equatable {
    /// Intended send time of request k, ns after the point's start; non-decreasing.
    public let offsetsNanos: [UInt64]

    public init(offsetsNanos: [UInt64]) {
        self.offsetsNanos = offsetsNanos
    }

    /// `count` arrivals at `rate` requests/s.
    /// - Parameters:
    ///   - burstiness: gamma shape (used by `.gamma` only), > 0.
    ///   - seed: the same seed gives the same schedule.
    public init(count: Int, rate: Double, process: ArrivalProcess, burstiness: Double = 1, seed: UInt64) {
        precondition(rate > 0 && burstiness > 0)
        var rng = SplitMix64(seed: seed)
        var offsets: [UInt64] = []
        offsets.reserveCapacity(count)
        var t = 0.0  // seconds, accumulated in Double and converted once per arrival (no drift)
        let mean = 1 / rate
        for k in 0..<count {
            if k > 0 {
                switch process {
                case .constant: t = Double(k) * mean
                case .poisson: t += -log(1 - rng.nextDouble()) * mean
                case .gamma: t += Self.gamma(shape: burstiness, rng: &rng) * mean / burstiness
                }
            }
            offsets.append(UInt64((t * 1e9).rounded()))
        }
        self.offsetsNanos = offsets
    }

    /// A schedule from given offsets in ms (trace replay), divided by `speed` (2 = twice as fast).
    public init(offsetsMillis: [Double], speed: Double) {
        offsetsNanos = offsetsMillis.map { UInt64(max(0, $0 / speed * 1e6).rounded()) }
    }

    /// The arrivals loop `loop` of `loops` sends: every `loops`-th request, starting at `loop`, as
    /// (arena index, offset ns). The shares of all loops together are the whole schedule.
    public func share(loop: Int, of loops: Int) -> [(index: Int, offsetNanos: UInt64)] {
        stride(from: loop, to: offsetsNanos.count, by: loops).map { ($0, offsetsNanos[$0]) }
    }

    /// Gamma(shape, 1) by Marsaglia and Tsang (2000); shape < 1 via the boost Gamma(a+1)·U^(1/a).
    static func gamma(shape: Double, rng: inout SplitMix64) -> Double {
        if shape < 1 {
            let u = max(rng.nextDouble(), .leastNormalMagnitude)
            return gamma(shape: shape + 1, rng: &rng) * pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double
            var v: Double
            repeat {
                x = rng.nextGaussian()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = rng.nextDouble()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if log(max(u, .leastNormalMagnitude)) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small, fast, seedable generator, so that a schedule is the same
/// on every platform and Swift version for the same seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// The generator of item `stream` of a run seeded with `seed`: separate streams give independent draws.
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: seed &* 0x9E37_79B9_7F4A_7C15 ^ (stream &+ 1) &* 0xBF58_476D_1CE4_E5B9)
    }

    /// A uniform integer in `0..<n` (n ≥ 1), by rejection so it has no modulo bias.
    public mutating func below(_ n: Int) -> Int {
        Int(next(upperBound: UInt64(n)))
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 53 bits.
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal by Box–Muller.
    public mutating func nextGaussian() -> Double {
        let u1 = max(nextDouble(), .leastNormalMagnitude)
        let u2 = nextDouble()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
