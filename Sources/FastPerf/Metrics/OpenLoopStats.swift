import Histogram

/// What open-loop load adds to a point's metrics (DESIGN.md §3): send lag (start − intended start) of every
/// request sent, TTFT and latency measured from the intended start ("corrected", so a client or connection
/// queue that falls behind cannot hide the delay), the achieved arrival rate and the mean concurrency.
public struct OpenLoopStats: Sendable {
    /// Send lag of every request sent, ns (HdrHistogram, 3 significant digits).
    var sendLag = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000_000,
                                    numberOfSignificantValueDigits: .three)
    /// Successes only: TTFT and latency from the intended start.
    var correctedTTFTMillis: [Double] = []
    var correctedLatencySeconds: [Double] = []
    /// Σ (completed − start) over every request, ns: the integral of in-flight requests over time.
    var busyNanos: Double = 0
    /// First and last actual send, ns (0 = none).
    var firstStartNanos: UInt64 = 0
    var lastStartNanos: UInt64 = 0
    var sent = 0

    mutating func add(_ r: RequestResult) {
        guard r.startNanos != 0 else { return }
        sent += 1
        let intended = r.intendedStartNanos == 0 ? r.startNanos : r.intendedStartNanos
        _ = sendLag.record(r.startNanos > intended ? r.startNanos - intended : 0)
        if firstStartNanos == 0 || r.startNanos < firstStartNanos { firstStartNanos = r.startNanos }
        lastStartNanos = max(lastStartNanos, r.startNanos)
        if r.completedNanos > r.startNanos { busyNanos += Double(r.completedNanos - r.startNanos) }
        guard r.success else { return }
        let wait = r.startNanos > intended ? r.startNanos - intended : 0
        if let t = r.ttftNanos { correctedTTFTMillis.append(Double(t + wait) / 1e6) }
        if let l = r.latencyNanos { correctedLatencySeconds.append(Double(l + wait) / 1e9) }
    }

    mutating func merge(_ o: OpenLoopStats) {
        sendLag.add(o.sendLag)
        correctedTTFTMillis += o.correctedTTFTMillis
        correctedLatencySeconds += o.correctedLatencySeconds
        busyNanos += o.busyNanos
        if o.firstStartNanos != 0 && (firstStartNanos == 0 || o.firstStartNanos < firstStartNanos) { firstStartNanos = o.firstStartNanos }
        lastStartNanos = max(lastStartNanos, o.lastStartNanos)
        sent += o.sent
    }

    /// The summary part, given the point's test duration (s) and configured rate (req/s).
    func summary(rate: Double, durationSeconds: Double) -> OpenLoopSummary {
        func lagMillis(_ q: Double) -> Double { sendLag.totalCount == 0 ? 0 : Double(sendLag.valueAtPercentile(q)) / 1e6 }
        let window = Double(lastStartNanos &- firstStartNanos) / 1e9
        return OpenLoopSummary(
            targetRate: rate,
            achievedRate: sent > 1 && window > 0 ? Double(sent - 1) / window : 0,
            sendLagP50Millis: lagMillis(50), sendLagP99Millis: lagMillis(99),
            sendLagMaxMillis: sendLag.totalCount == 0 ? 0 : Double(sendLag.max) / 1e6,
            meanConcurrency: durationSeconds > 0 ? busyNanos / 1e9 / durationSeconds : 0,
            correctedTTFT: PercentileColumn(name: "Corrected TTFT (ms)", values: correctedTTFTMillis),
            correctedLatency: PercentileColumn(name: "Corrected Latency (s)", values: correctedLatencySeconds))
    }
}

/// Open-loop figures of one point, as written to `benchmark_summary.json` (FastPerf's keys).
public struct OpenLoopSummary: Sendable {
    /// `Request Rate (req/s)`: the configured `--rate`.
    public var targetRate: Double
    /// `Achieved Rate (req/s)`: (requests sent − 1) / (last send − first send).
    public var achievedRate: Double
    /// `Send Lag P50/P99/Max (ms)`: actual send − intended send, over every request sent.
    public var sendLagP50Millis: Double
    public var sendLagP99Millis: Double
    public var sendLagMaxMillis: Double
    /// `Mean Concurrency`: requests in flight on average (Σ request durations / test duration).
    public var meanConcurrency: Double
    /// Percentile columns measured from the intended start, successes only.
    public var correctedTTFT: PercentileColumn
    public var correctedLatency: PercentileColumn

    /// Send lag p99 above which the client, not the server, set the pace, ms.
    public static let sendLagLimitMillis = 1.0
}
