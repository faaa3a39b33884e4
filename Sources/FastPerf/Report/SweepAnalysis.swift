import Foundation

/// What the report concludes from a sweep: the best point, the point where latency starts to climb, and
/// whether the client itself was the bottleneck at a point.
enum SweepAnalysis {
    /// A point counts for "best" only with at least this success rate, %.
    static let bestMinimumSuccessPercent = 95.0
    /// Latency "starts to climb" at the first point whose p50 latency is at least this × the lowest-load point's.
    static let climbFactor = 1.25
    /// Loop or writer thread busy (CPU s ÷ wall s) at or above these percentages: busy / saturated.
    static let busyPercent = 70.0
    static let saturatedPercent = 90.0

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
            /// A client thread was busy at least `busyPercent` of the time: numbers hold, with little headroom.
            case busy
            /// The client limited the load: ring overflows, concurrency not reached, or a thread at `saturatedPercent`.
            case saturated
            /// The database holds no client counters.
            case unknown
        }
        var level: Level
        /// Loop threads' CPU ÷ (wall time × loops), %; writer's CPU ÷ wall time, %.
        var loopBusyPercent: Double?
        var writerBusyPercent: Double?
        /// Client CPU (loops + writer) per stored row, µs.
        var cpuMicrosPerRequest: Double?
        /// One sentence per finding, e.g. `"loop thread busy 93 % of the time"`.
        var reasons: [String]
    }

    /// Judges the client at one point from its counters (nil = unknown) and its summary's duration.
    static func clientVerdict(counters: PointCounters?, summary: RunSummary) -> ClientVerdict {
        guard let c = counters else {
            return ClientVerdict(level: .unknown, reasons: ["the database holds no client counters (point table)"])
        }
        let duration = summary.testDurationSeconds
        let loopBusy = duration > 0 ? c.loopCPUSeconds / (duration * Double(max(1, c.loops))) * 100 : nil
        let writerBusy = duration > 0 ? c.writerCPUSeconds / duration * 100 : nil
        let perRequest = (c.loopCPUSeconds + c.writerCPUSeconds) / Double(max(1, c.rows)) * 1e6
        var level = ClientVerdict.Level.ok
        var reasons: [String] = []
        let target = min(c.parallel, c.number)
        if c.peakInFlight < target {
            level = .saturated
            reasons.append("only \(c.peakInFlight) of \(target) requests were in flight at once")
        }
        if c.ringOverflows > 0 {
            level = .saturated
            reasons.append("\(c.ringOverflows) records waited for a full ring (the writer fell behind)")
        }
        for (name, busy) in [("loop thread", loopBusy), ("writer thread", writerBusy)] {
            guard let busy, busy >= busyPercent else { continue }
            if busy >= saturatedPercent { level = .saturated } else if level == .ok { level = .busy }
            reasons.append("\(name) busy " + String(format: "%.0f", busy) + " % of the time")
        }
        if reasons.isEmpty {
            reasons.append("not the bottleneck: concurrency reached, no ring overflow, threads under "
                           + String(format: "%.0f", busyPercent) + " % busy")
        }
        return ClientVerdict(level: level, loopBusyPercent: loopBusy, writerBusyPercent: writerBusy,
                             cpuMicrosPerRequest: perRequest, reasons: reasons)
    }
}
