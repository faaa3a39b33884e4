import Foundation
import Histogram

/// Collects every `RequestResult` of one run point (writer thread) and keeps the exact per-request values
/// that the summary and the percentiles need (DESIGN.md §3: percentiles on exact, unrounded values).
/// `add` is O(1) amortized (array appends); `summary` sorts once.
public struct MetricsAccumulator: Sendable {
    /// Requests added (successes and failures).
    public private(set) var totalRequests = 0
    /// Requests with `outcome == .ok`.
    public private(set) var successRequests = 0
    /// Failure count per outcome kind (never contains `.ok`).
    public private(set) var failuresByKind: [RequestResult.Outcome: Int] = [:]
    /// Smallest non-zero `startNanos` over all requests, ns (0 = none yet).
    public private(set) var firstStartNanos: UInt64 = 0
    /// Largest `completedNanos` over all requests, ns (0 = none yet).
    public private(set) var lastCompletedNanos: UInt64 = 0
    /// Successful requests whose prompt or completion token count is unknown.
    public private(set) var requestsWithoutTokenCounts = 0

    // Successes only. Stream/non-stream are kept apart for evalscope's "stream rows, else all rows" rule.
    var latencySeconds: [Double] = []
    var ttftMillisStream: [Double] = []
    var ttftMillisNonStream: [Double] = []
    var tpotMillisStream: [Double] = []
    var tpotMillisNonStream: [Double] = []
    /// Inter-token gaps pooled over successful streamed requests, ns: an HdrHistogram (3 significant digits,
    /// 1 ns … 1 h) so that memory stays bounded however long the run; the mean is exact (sum / count).
    var itlHistogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000_000,
                                         numberOfSignificantValueDigits: .three)
    var itlSumNanos: UInt64 = 0
    var itlCount: UInt64 = 0
    /// Gaps longer than the histogram's range (1 h): counted in the mean, not in the percentiles.
    public private(set) var itlOutOfRange = 0
    var inputTokens: [Double] = []
    var outputTokens: [Double] = []
    var outputTokensPerSecond: [Double] = []
    var totalTokensPerSecond: [Double] = []
    var promptTokenSum = 0
    var completionTokenSum = 0
    /// Send lag, corrected latencies, achieved rate, concurrency (reported for rate-driven points).
    var openLoop = OpenLoopStats()

    /// An empty accumulator.
    public init() {}

    /// Adds one judged request. Failures count in the totals, the failure kinds and the wall window only.
    public mutating func add(_ r: RequestResult) {
        totalRequests += 1
        openLoop.add(r)
        if r.startNanos != 0 && (firstStartNanos == 0 || r.startNanos < firstStartNanos) {
            firstStartNanos = r.startNanos
        }
        if r.completedNanos > lastCompletedNanos { lastCompletedNanos = r.completedNanos }
        guard r.success else {
            failuresByKind[r.outcome, default: 0] += 1
            return
        }
        successRequests += 1
        let latency = r.latencyNanos.map { Double($0) / 1e9 }
        if let latency { latencySeconds.append(latency) }
        if let t = r.ttftNanos {
            if r.isStream { ttftMillisStream.append(Double(t) / 1e6) } else { ttftMillisNonStream.append(Double(t) / 1e6) }
        }
        if let t = r.tpotSeconds {
            if r.isStream { tpotMillisStream.append(t * 1000) } else { tpotMillisNonStream.append(t * 1000) }
        }
        // Only streamed responses have inter-token gaps (a non-stream body is one event). A run of equal gaps (tokens
        // that came in one read have gaps of 0) is recorded as one value with its count.
        r.itlNanos.withUnsafeBufferPointer { gaps in
            var k = 0
            while k < gaps.count {
                let gap = gaps[k]
                var end = k + 1
                while end < gaps.count && gaps[end] == gap { end += 1 }
                let n = UInt64(end - k)
                itlSumNanos &+= gap &* n
                itlCount += n
                if !itlHistogram.record(gap, count: n) { itlOutOfRange += end - k }
                k = end
            }
        }
        if let p = r.promptTokens {
            inputTokens.append(Double(p))
            promptTokenSum += p
        }
        if let c = r.completionTokens {
            outputTokens.append(Double(c))
            completionTokenSum += c
            if let latency, latency > 0 {
                outputTokensPerSecond.append(Double(c) / latency)
                if let p = r.promptTokens { totalTokensPerSecond.append(Double(p + c) / latency) }
            }
        }
        if r.promptTokens == nil || r.completionTokens == nil { requestsWithoutTokenCounts += 1 }
    }

    /// Adds everything `other` collected (the writer keeps one accumulator per loop thread and merges them).
    public mutating func merge(_ other: MetricsAccumulator) {
        totalRequests += other.totalRequests
        successRequests += other.successRequests
        for (k, n) in other.failuresByKind { failuresByKind[k, default: 0] += n }
        if other.firstStartNanos != 0 && (firstStartNanos == 0 || other.firstStartNanos < firstStartNanos) {
            firstStartNanos = other.firstStartNanos
        }
        lastCompletedNanos = max(lastCompletedNanos, other.lastCompletedNanos)
        requestsWithoutTokenCounts += other.requestsWithoutTokenCounts
        latencySeconds += other.latencySeconds
        ttftMillisStream += other.ttftMillisStream
        ttftMillisNonStream += other.ttftMillisNonStream
        tpotMillisStream += other.tpotMillisStream
        tpotMillisNonStream += other.tpotMillisNonStream
        itlHistogram.add(other.itlHistogram)
        itlSumNanos &+= other.itlSumNanos
        itlCount += other.itlCount
        itlOutOfRange += other.itlOutOfRange
        inputTokens += other.inputTokens
        outputTokens += other.outputTokens
        outputTokensPerSecond += other.outputTokensPerSecond
        totalTokensPerSecond += other.totalTokensPerSecond
        promptTokenSum += other.promptTokenSum
        completionTokenSum += other.completionTokenSum
        openLoop.merge(other.openLoop)
    }

    /// The run point's summary and percentiles.
    /// - Parameters:
    ///   - parallel: configured `--parallel` (evalscope's `Concurrency`; −1 for open loop).
    ///   - number: configured `--number` for this point.
    ///   - rate: the configured `--rate` of a rate-driven point (adds the open-loop figures), nil otherwise.
    public func summary(parallel: Int, number: Int, rate: Double? = nil) -> RunSummary {
        let duration = lastCompletedNanos > firstStartNanos && firstStartNanos != 0
            ? Double(lastCompletedNanos - firstStartNanos) / 1e9 : 0
        func perSecond(_ x: Double) -> Double { duration > 0 ? x / duration : 0 }
        func mean(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }
        let ttft = ttftMillisStream.isEmpty ? ttftMillisNonStream : ttftMillisStream
        let tpot = tpotMillisStream.isEmpty ? tpotMillisNonStream : tpotMillisStream
        var failures: [(RequestResult.Outcome, Int)] = []
        for kind in RequestResult.Outcome.allCases {
            if let n = failuresByKind[kind], n > 0 { failures.append((kind, n)) }
        }
        let columns: [PercentileColumn] = [
            PercentileColumn(name: "TTFT (ms)", values: ttft),
            PercentileColumn(name: "ITL (ms)", histogram: itlHistogram, nanosPerUnit: 1e6),
            PercentileColumn(name: "TPOT (ms)", values: tpot),
            PercentileColumn(name: "Latency (s)", values: latencySeconds),
            PercentileColumn(name: "Input tokens", values: inputTokens),
            PercentileColumn(name: "Output tokens", values: outputTokens),
            PercentileColumn(name: "Output (tok/s)", values: outputTokensPerSecond),
            PercentileColumn(name: "Total (tok/s)", values: totalTokensPerSecond),
        ]
        return RunSummary(
            testDurationSeconds: duration,
            concurrency: parallel,
            number: number,
            totalRequests: totalRequests,
            successRequests: successRequests,
            failedRequests: totalRequests - successRequests,
            requestThroughput: perSecond(Double(successRequests)),
            avgLatencySeconds: mean(latencySeconds),
            avgInputTokens: mean(inputTokens),
            avgOutputTokens: mean(outputTokens),
            outputThroughput: perSecond(Double(completionTokenSum)),
            totalThroughput: perSecond(Double(promptTokenSum + completionTokenSum)),
            avgTTFTMillis: mean(ttft),
            avgTPOTMillis: mean(tpot),
            avgITLMillis: itlCount == 0 ? nil : Double(itlSumNanos) / Double(itlCount) / 1e6,
            failuresByKind: failures,
            requestsWithoutTokenCounts: requestsWithoutTokenCounts,
            percentileColumns: columns,
            openLoop: rate.map { openLoop.summary(rate: $0, durationSeconds: duration) })
    }
}

/// One percentile column: a metric's exact per-request values over successes, sorted, or (ITL, pooled over
/// every gap) an HdrHistogram read with the same nearest-rank rule to 3 significant digits.
public struct PercentileColumn: Sendable {
    /// The column's evalscope key, e.g. `"TTFT (ms)"`; the unit is in the name.
    public var name: String
    /// The values, sorted ascending, unrounded; empty for a histogram column.
    public var sortedValues: [Double]
    private var histogram: Histogram<UInt64>?
    private var nanosPerUnit: Double = 1

    /// Sorts `values` once.
    public init(name: String, values: [Double]) {
        self.name = name
        self.sortedValues = values.sorted()
    }

    /// A column read from a histogram of ns values, reported in units of `nanosPerUnit` ns (1e6 for ms).
    init(name: String, histogram: Histogram<UInt64>, nanosPerUnit: Double) {
        self.name = name
        self.sortedValues = []
        self.histogram = histogram
        self.nanosPerUnit = nanosPerUnit
    }

    /// Mean of an exact column (nil when empty or histogram-backed).
    public var mean: Double? {
        sortedValues.isEmpty ? nil : sortedValues.reduce(0, +) / Double(sortedValues.count)
    }

    /// Number of values in the column.
    public var count: Int { histogram.map { Int($0.totalCount) } ?? sortedValues.count }

    /// The value at percentile `permille`/10 % (see `RunSummary.nearestRank`); nil when there are no values.
    /// For a histogram column: the value of the same rank, ⌊n·p/100⌋ (0-based, clamped), to 3 digits.
    public func value(permille: Int) -> Double? {
        guard let h = histogram else { return RunSummary.nearestRank(sortedValues, permille: permille) }
        let n = h.totalCount
        guard n > 0 else { return nil }
        let rank = min(n * UInt64(permille) / 1000, n - 1)  // 0-based
        // valueAtPercentile(q) returns the value whose cumulative count first reaches ceil(q·n/100).
        let q = min(100, Double(rank + 1) / Double(n) * 100)
        let v = rank == 0 ? h.min : h.valueAtPercentile(q)
        return Double(v) / nanosPerUnit
    }
}

/// The summary of one run point: evalscope's `benchmark_summary.json` keys (EVALSCOPE-PERF §4.2,
/// DESIGN.md §3) plus FastPerf's failure breakdown, and the percentile table (`benchmark_percentile.json`).
/// Values are exact; rounding happens only when written (`summaryJSON`, `percentileJSON`, report text).
/// An average with no samples is nil (written as −1, evalscope's "missing" value).
public struct RunSummary: Sendable {
    /// `Test Duration (s)`: last `completedNanos` − first `startNanos` over all requests (failures included), s.
    public var testDurationSeconds: Double
    /// `Concurrency`: configured `--parallel`.
    public var concurrency: Int
    /// Configured `--number` of this point.
    public var number: Int
    /// `Total Requests`: requests judged (successes + failures).
    public var totalRequests: Int
    /// `Success Requests`.
    public var successRequests: Int
    /// `Failed Requests`.
    public var failedRequests: Int
    /// `Req Throughput (req/s)`: successes / duration.
    public var requestThroughput: Double
    /// `Avg Latency (s)`: mean latency over successes, s.
    public var avgLatencySeconds: Double?
    /// `Avg Input Tokens`: mean prompt tokens over successes with a known count, tokens.
    public var avgInputTokens: Double?
    /// `Avg Output Tokens`: mean completion tokens over successes with a known count, tokens.
    public var avgOutputTokens: Double?
    /// `Output Throughput (tok/s)`: Σ completion tokens of successes / duration.
    public var outputThroughput: Double
    /// `Total Throughput (tok/s)`: (Σ prompt + Σ completion tokens of successes) / duration.
    public var totalThroughput: Double
    /// `Avg TTFT (ms)`: mean TTFT over successful stream requests (all successes if none streamed), ms.
    public var avgTTFTMillis: Double?
    /// `Avg TPOT (ms)`: mean per-request TPOT over successful stream requests that have one, ms.
    public var avgTPOTMillis: Double?
    /// `Avg ITL (ms)`: mean of all inter-token gaps pooled across successful requests, ms.
    public var avgITLMillis: Double?
    /// `Failures by kind` (FastPerf): outcome → count, failures only, in `Outcome` declaration order.
    public var failuresByKind: [(RequestResult.Outcome, Int)]
    /// `Requests without token counts` (FastPerf): successes whose prompt or completion count is unknown.
    public var requestsWithoutTokenCounts: Int
    /// Percentile columns in evalscope's order (`TTFT (ms)` … `Total (tok/s)`).
    public var percentileColumns: [PercentileColumn]
    /// Rate-driven points only: send lag, corrected latencies, achieved rate, mean concurrency.
    public var openLoop: OpenLoopSummary?

    /// Percentile row labels (DESIGN §3), paired with the percentile in per-mille (min = 0, max = 1000).
    public static let percentileRows: [(label: String, permille: Int)] = [
        ("min", 0), ("1%", 10), ("5%", 50), ("10%", 100), ("25%", 250), ("50%", 500), ("75%", 750),
        ("90%", 900), ("95%", 950), ("99%", 990), ("99.9%", 999), ("max", 1000),
    ]

    /// Success rate in percent (0 when there were no requests).
    public var successPercent: Double {
        totalRequests == 0 ? 0 : Double(successRequests) * 100 / Double(totalRequests)
    }

    /// Nearest rank on exact sorted values (DESIGN §3): index `floor(n·p/100)` clamped to `n − 1`, with p
    /// given in per-mille (`permille = 10·p`) so that 99.9 % is exact integer arithmetic. nil when empty.
    public static func nearestRank(_ sorted: [Double], permille: Int) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let index = min(sorted.count * max(permille, 0) / 1000, sorted.count - 1)
        return sorted[index]
    }

    /// The column named `name`, if any.
    public func column(_ name: String) -> PercentileColumn? {
        percentileColumns.first { $0.name == name }
    }

    /// `benchmark_summary.json`: one JSON object, keys in evalscope's order then FastPerf's, values rounded
    /// to 4 decimals (ms fields to 2); a missing average is −1.
    public func summaryJSON() -> Data {
        var fields: [(String, String)] = [
            ("Test Duration (s)", JSONText.number(testDurationSeconds, decimals: 4)),
            ("Concurrency", String(concurrency)),
            ("Total Requests", String(totalRequests)),
            ("Success Requests", String(successRequests)),
            ("Failed Requests", String(failedRequests)),
            ("Req Throughput (req/s)", JSONText.number(requestThroughput, decimals: 4)),
            ("Avg Latency (s)", JSONText.number(avgLatencySeconds ?? -1, decimals: 4)),
            ("Avg Input Tokens", JSONText.number(avgInputTokens ?? -1, decimals: 4)),
            ("Avg Output Tokens", JSONText.number(avgOutputTokens ?? -1, decimals: 4)),
            ("Output Throughput (tok/s)", JSONText.number(outputThroughput, decimals: 4)),
            ("Total Throughput (tok/s)", JSONText.number(totalThroughput, decimals: 4)),
            ("Avg TTFT (ms)", JSONText.number(avgTTFTMillis ?? -1, decimals: 2)),
            ("Avg TPOT (ms)", JSONText.number(avgTPOTMillis ?? -1, decimals: 2)),
            ("Avg ITL (ms)", JSONText.number(avgITLMillis ?? -1, decimals: 2)),
        ]
        let failures = failuresByKind.map { (kind, n) in (kind.rawValue, String(n)) }
        fields.append(("Failures by kind", JSONText.object(failures, indent: 1)))
        fields.append(("Requests without token counts", String(requestsWithoutTokenCounts)))
        if let o = openLoop {
            fields += [
                ("Request Rate (req/s)", JSONText.number(o.targetRate, decimals: 4)),
                ("Achieved Rate (req/s)", JSONText.number(o.achievedRate, decimals: 4)),
                ("Send Lag P50 (ms)", JSONText.number(o.sendLagP50Millis, decimals: 3)),
                ("Send Lag P99 (ms)", JSONText.number(o.sendLagP99Millis, decimals: 3)),
                ("Send Lag Max (ms)", JSONText.number(o.sendLagMaxMillis, decimals: 3)),
                ("Mean Concurrency", JSONText.number(o.meanConcurrency, decimals: 2)),
                ("Corrected Avg TTFT (ms)", JSONText.number(o.correctedTTFT.mean ?? -1, decimals: 2)),
                ("Corrected Avg Latency (s)", JSONText.number(o.correctedLatency.mean ?? -1, decimals: 4)),
            ]
        }
        return Data((JSONText.object(fields, indent: 0) + "\n").utf8)
    }

    /// `benchmark_percentile.json`: a list of row objects `{"Percentiles": "min", "TTFT (ms)": …, …}`,
    /// values rounded to 4 decimals, null where a column has no data.
    public func percentileJSON() -> Data {
        var rows: [String] = []
        for (label, permille) in Self.percentileRows {
            var fields: [(String, String)] = [("Percentiles", JSONText.string(label))]
            for column in percentileColumns + (openLoop.map { [$0.correctedTTFT, $0.correctedLatency] } ?? []) {
                fields.append((column.name, column.value(permille: permille).map { JSONText.number($0, decimals: 4) } ?? "null"))
            }
            rows.append("  " + JSONText.object(fields, indent: 1))
        }
        return Data(("[\n" + rows.joined(separator: ",\n") + "\n]\n").utf8)
    }
}
