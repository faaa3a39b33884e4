import Foundation
import Testing
@testable import FastPerf

struct ArrivalScheduleTests {
    /// Mean rate and coefficient of variation of the gaps.
    static func stats(_ s: ArrivalSchedule) -> (rate: Double, cv: Double) {
        let o = s.offsetsNanos.map { Double($0) / 1e9 }
        let gaps = zip(o.dropFirst(), o).map { $0 - $1 }
        let mean = gaps.reduce(0, +) / Double(gaps.count)
        let variance = gaps.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(gaps.count)
        return (1 / mean, variance.squareRoot() / mean)
    }

    @Test(arguments: [ArrivalProcess.poisson, .constant, .gamma])
    func meanRateWithinOnePercentOver100kArrivals(_ p: ArrivalProcess) {
        let s = ArrivalSchedule(count: 100_000, rate: 250, process: p, burstiness: 0.25, seed: 7)
        let (rate, _) = Self.stats(s)
        #expect(abs(rate / 250 - 1) < 0.01, "\(p): \(rate) req/s")
        #expect(zip(s.offsetsNanos.dropFirst(), s.offsetsNanos).allSatisfy { $0 >= $1 })
        #expect(s.offsetsNanos[0] == 0)
    }

    @Test func coefficientOfVariation() {
        #expect(abs(Self.stats(ArrivalSchedule(count: 100_000, rate: 100, process: .poisson, seed: 1)).cv - 1) < 0.02)
        #expect(Self.stats(ArrivalSchedule(count: 100_000, rate: 100, process: .constant, seed: 1)).cv < 1e-6)
        for b in [0.25, 1.0, 4.0] {
            let cv = Self.stats(ArrivalSchedule(count: 100_000, rate: 100, process: .gamma, burstiness: b, seed: 3)).cv
            #expect(abs(cv - 1 / b.squareRoot()) < 0.03 / b.squareRoot(), "gamma B=\(b): CV \(cv)")
        }
    }

    @Test func sameSeedSameScheduleOtherSeedOther() {
        let a = ArrivalSchedule(count: 1000, rate: 50, process: .gamma, burstiness: 0.5, seed: 42)
        #expect(a == ArrivalSchedule(count: 1000, rate: 50, process: .gamma, burstiness: 0.5, seed: 42))
        #expect(a != ArrivalSchedule(count: 1000, rate: 50, process: .gamma, burstiness: 0.5, seed: 43))
    }

    @Test(arguments: [1, 2, 3, 7])
    func loopSharesMakeTheSchedule(_ loops: Int) {
        let s = ArrivalSchedule(count: 1001, rate: 20, process: .poisson, seed: 9)
        let merged = (0..<loops).flatMap { s.share(loop: $0, of: loops) }.sorted { $0.index < $1.index }
        #expect(merged.map(\.index) == Array(0..<1001))
        #expect(merged.map(\.offsetNanos) == s.offsetsNanos)
    }

    @Test func traceOffsetsAreScaledBySpeed() {
        let s = ArrivalSchedule(offsetsMillis: [0, 10, 1000.5], speed: 2)
        #expect(s.offsetsNanos == [0, 5_000_000, 500_250_000])
    }
}
