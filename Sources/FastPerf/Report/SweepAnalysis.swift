import Foundation

/// What the report concludes from a sweep: the best point, the point where latency starts to climb, and
/// whether the client itself was the bottleneck at a point.
enum SweepAnalysis {
    /// A point counts for "best" only with at least this success rate, %.
    static let bestMinimumSuccessPercent = 95.0
    /// Latency "starts to climb" at the first point whose p50 latency is at least this × the lowest-load point's.
    static let climbFactor = 1.25
    /// A loop or the writer thread busy (CPU s ÷ wall s) at or above this percentage: "busy".
    static let busyPercent = 70.0

    /// Index of the summary with the highest `Req Throughput (req/s)` among those with at least
    /// `bestMinimumSuccessPercent` success (among all with a success when none qualifies); nil when none succeeded.
    static func bestIndex(_ summaries: [RunSummary]) -> Int? {
        let candidates = summaries.indices.filter { summaries[$0].successRequests > 0 }
        let good = candidates.filter { summaries[$0].successPercent >= bestMinimumSuccessPercent }
        return (good.isEmpty ? candidates : good).max { summaries[$0].requestThroughput < summaries[$1].requestThroughput }
    }

    /// p50 of `Latency (s)`, s; nil without successes.
    static func medianLatency(_ s: RunSummary) -> Double? { s.column("Latency (s)")?.value(permille: 500) }

    /// For summaries in increasing load order: the index of the first whose p50 latency is at least
    /// `climbFactor` × the first measured p50 latency, with that ratio; nil when latency stays below it.
    static func climb(_ summaries: [RunSummary]) -> (index: Int, ratio: Double)? {
        guard let base = summaries.firstIndex(where: { (medianLatency($0) ?? 0) > 0 }),
              let baseline = medianLatency(summaries[base]) else { return nil }
        for i in summaries.indices where i > base {
            if let p50 = medianLatency(summaries[i]), p50 >= climbFactor * baseline { return (i, p50 / baseline) }
        }
        return nil
    }

    /// The client-saturation verdict of one point.
    struct ClientVerdict: Sendable, Equatable {
        enum Level: String, Sendable {
            /// The client kept up with room to spare.
            case ok
            /// A loop or the writer thread was busy at least `busyPercent` of the time: little headroom left.
            case busy
            /// The client may have limited the load: a signal of the client line (`ClientUsage.limits`), or
            /// fewer requests in flight than a closed loop asked for.
            case saturated
            /// The database holds no client figures.
            case unknown
        }
        var level: Level
        /// The busiest loop thread's CPU ÷ wall time, %; the writer thread's, %.
        var loopBusyPercent: Double?
        var writerBusyPercent: Double?
        /// Client CPU (loops + writer) per stored row, µs.
        var cpuMicrosPerRequest: Double?
        /// One phrase per finding, e.g. `"a loop thread was busy 93% of the time"`.
        var reasons: [String]
    }

    /// Judges the client at one point from its counters (nil = unknown).
    static func clientVerdict(counters: PointCounters?) -> ClientVerdict {
        guard let c = counters else {
            return ClientVerdict(level: .unknown, reasons: ["the database holds no client figures (point table)"])
        }
        let u = c.client
        let loopBusy = u.busiestLoopFraction * 100
        let writerBusy = u.wallSeconds > 0 ? u.writerCPUSeconds / u.wallSeconds * 100 : 0
        let perRequest = (u.loopCPUSeconds + u.writerCPUSeconds) / Double(max(1, c.rows)) * 1e6
        var reasons = u.limits
        // A closed loop keeps min(parallel, number) requests in flight; a paced one may not need them all.
        let target = min(c.shape.parallel, c.shape.number)
        if c.shape.rate == nil && c.shape.parallel > 0 && u.peakInFlight < target {
            reasons.append("only \(u.peakInFlight) of \(target) requests were in flight at once")
        }
        var level = ClientVerdict.Level.ok
        if !reasons.isEmpty {
            level = .saturated
        } else {
            for (name, busy) in [("the busiest loop thread", loopBusy), ("the writer thread", writerBusy)] where busy >= busyPercent {
                level = .busy
                reasons.append("\(name) was busy " + String(format: "%.0f", busy) + "% of the time")
            }
        }
        if reasons.isEmpty, let note = u.notes.first {
            reasons.append("not the client: " + note)
        } else if reasons.isEmpty {
            reasons.append("not the bottleneck: concurrency reached, no ring overflow, no loop lag, threads under "
                           + String(format: "%.0f", busyPercent) + "% busy")
        }
        return ClientVerdict(level: level, loopBusyPercent: loopBusy, writerBusyPercent: writerBusy,
                             cpuMicrosPerRequest: perRequest, reasons: reasons)
    }
}
