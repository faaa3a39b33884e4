/// One sweep point over time, in equal bins from its first start: successes and failures completed per second
/// and the mean number of requests in flight, for the report's over-time charts.
struct Timeline: Sendable, Equatable {
    /// One request: start and end in s (any common origin), and whether it succeeded. `start` nil = never sent.
    struct Sample: Sendable {
        var start: Double?
        var end: Double
        var success: Bool
    }

    /// Bin width, s.
    var binSeconds: Double
    /// Per bin (bin k covers [k·binSeconds, (k+1)·binSeconds) from the first start): successes that ended in it,
    /// per second.
    var completedPerSecond: [Double]
    /// Per bin: failures that ended in it, per second.
    var errorsPerSecond: [Double]
    /// Per bin: requests in flight averaged over the bin's time (∫ in-flight dt / binSeconds).
    var meanInFlight: [Double]
    /// Most requests in flight at once (an end at the same instant as a start counts first).
    var peakInFlight: Int

    /// Bins `samples` into bins of `binSeconds` (default: `binWidth(forDuration:)` of their span).
    /// An end at or after the last bin's end is counted in the last bin.
    init(samples: [Sample], binSeconds: Double? = nil) {
        let starts = samples.compactMap(\.start)
        let origin = starts.min() ?? samples.map(\.end).min() ?? 0
        let span = max((samples.map(\.end) + starts).max() ?? origin, origin) - origin
        let width = binSeconds ?? Self.binWidth(forDuration: span)
        let bins = max(1, Int((span / width).rounded(.up)))
        self.binSeconds = width
        var completed = [Double](repeating: 0, count: bins)
        var errors = [Double](repeating: 0, count: bins)
        var area = [Double](repeating: 0, count: bins)
        func bin(_ t: Double) -> Int { min(max(Int((t - origin) / width), 0), bins - 1) }
        for s in samples {
            if s.success { completed[bin(s.end)] += 1 / width } else { errors[bin(s.end)] += 1 / width }
        }
        // Sweep over starts (+1) and ends (−1), adding in-flight × time to the bins each segment covers.
        var events: [(t: Double, delta: Int)] = []
        for s in samples { if let start = s.start { events.append((start, 1)); events.append((max(s.end, start), -1)) } }
        events.sort { $0.t != $1.t ? $0.t < $1.t : $0.delta < $1.delta }
        var inFlight = 0
        var peak = 0
        var last = origin
        for e in events {
            if inFlight > 0 && e.t > last {
                var t = last
                while t < e.t {
                    var k = bin(t)
                    if k < bins - 1 && origin + Double(k + 1) * width <= t { k += 1 }  // t on a bin edge
                    let segmentEnd = k == bins - 1 ? e.t : min(origin + Double(k + 1) * width, e.t)
                    area[k] += Double(inFlight) * (segmentEnd - t)
                    t = segmentEnd
                }
            }
            last = max(last, e.t)
            inFlight += e.delta
            peak = max(peak, inFlight)
        }
        completedPerSecond = completed
        errorsPerSecond = errors
        meanInFlight = area.map { $0 / width }
        peakInFlight = peak
    }

    /// A bin width of 1, 2 or 5 × 10^k s giving at most 40 bins over `duration` s (at least 0.1 s).
    static func binWidth(forDuration duration: Double) -> Double {
        let raw = max(duration / 40, 0.1)
        var decade = 0.1
        while decade * 10 <= raw { decade *= 10 }
        for m in [1.0, 2, 5, 10] where decade * m >= raw { return decade * m }
        return decade * 10
    }
}
