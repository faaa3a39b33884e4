import Foundation
import Testing
@testable import FastPerf

/// Builds judged results by hand (times in s from a 1 s base, converted to ns).
enum SummaryFixture {
    static let base: UInt64 = 1_000_000_000
    static func ns(_ s: Double) -> UInt64 { UInt64((s * 1e9).rounded()) }

    static func success(start: Double, end: Double, ttft: Double, latency: Double, itl: [Double], tpot: Double?,
                        prompt: Int?, completion: Int?, stream: Bool = true) -> RequestResult {
        var record = RequestRecord(requestIndex: 0, loopID: 0, connectionID: 0)
        record.startNanos = base + ns(start)
        record.endNanos = base + ns(end)
        record.httpStatus = 200
        var r = RequestResult.make(record: record, parsed: ParsedResponse(), isStreamRequest: stream)
        r.success = true
        r.outcome = .ok
        r.error = nil
        r.isStream = stream
        r.ttftNanos = ns(ttft)
        r.latencyNanos = ns(latency)
        r.itlNanos = itl.map(ns)
        r.tpotSeconds = tpot
        r.promptTokens = prompt
        r.completionTokens = completion
        return r
    }

    static func failure(_ outcome: RequestResult.Outcome, start: Double, end: Double, status: Int = 0) -> RequestResult {
        var record = RequestRecord(requestIndex: 0, loopID: 0, connectionID: 0)
        record.startNanos = base + ns(start)
        record.endNanos = base + ns(end)
        record.httpStatus = status
        var r = RequestResult.make(record: record, parsed: ParsedResponse(), isStreamRequest: true)
        r.outcome = outcome
        #expect(!r.success)
        return r
    }

    /// 3 successes + 2 failures; hand-computed values in `RunSummaryTests.threeSuccessesTwoFailures`.
    static func accumulator() -> MetricsAccumulator {
        var acc = MetricsAccumulator()
        acc.add(success(start: 0, end: 1.0, ttft: 0.1, latency: 0.5, itl: [0.1, 0.3], tpot: 0.2, prompt: 10, completion: 3))
        acc.add(failure(.httpStatus, start: 2.0, end: 2.1, status: 429))
        acc.add(success(start: 0.5, end: 2.0, ttft: 0.2, latency: 1.0, itl: [0.8], tpot: 0.8, prompt: 20, completion: 2))
        acc.add(success(start: 1.0, end: 3.5, ttft: 0.3, latency: 2.0, itl: [0.5, 0.5, 0.7], tpot: 1.7 / 3, prompt: 30, completion: 4))
        acc.add(failure(.truncated, start: 3.0, end: 4.0, status: 200))
        return acc
    }
}

@Suite struct RunSummaryTests {
    static let rows = RunSummary.percentileRows.map(\.permille)

    @Test func percentileRowLabels() {
        #expect(RunSummary.percentileRows.map(\.label) == ["min", "1%", "5%", "10%", "25%", "50%", "75%", "90%", "95%", "99%", "99.9%", "max"])
    }

    @Test func nearestRankOneToTen() {
        let values = (1...10).map(Double.init)
        let got = Self.rows.map { RunSummary.nearestRank(values, permille: $0)! }
        // floor(10·p/100): 0, 0.1, 0.5, 1, 2.5, 5, 7.5, 9, 9.5, 9.9, 9.99, max → indices 0,0,0,1,2,5,7,9,9,9,9,9
        #expect(got == [1, 1, 1, 2, 3, 6, 8, 10, 10, 10, 10, 10])
    }

    @Test func nearestRankOneToHundredAndThousand() {
        let hundred = (1...100).map(Double.init)
        #expect(Self.rows.map { RunSummary.nearestRank(hundred, permille: $0)! } == [1, 2, 6, 11, 26, 51, 76, 91, 96, 100, 100, 100])
        let thousand = (1...1000).map(Double.init)
        #expect(RunSummary.nearestRank(thousand, permille: 990) == 991)
        #expect(RunSummary.nearestRank(thousand, permille: 999) == 1000)  // floor(999.0) exactly, no float drift
        #expect(RunSummary.nearestRank(thousand, permille: 500) == 501)  // upper median
    }

    @Test func nearestRankOneAndNone() {
        #expect(Self.rows.map { RunSummary.nearestRank([42], permille: $0)! } == Array(repeating: 42, count: 12))
        #expect(RunSummary.nearestRank([], permille: 500) == nil)
        // Unsorted input to a column is sorted once.
        #expect(PercentileColumn(name: "x", values: [3, 1, 2]).value(permille: 0) == 1)
    }

    @Test func threeSuccessesTwoFailures() {
        let s = SummaryFixture.accumulator().summary(parallel: 2, number: 5)
        #expect(s.testDurationSeconds == 4.0)  // last completion 4.0 (a failure) − first start 0
        #expect(s.concurrency == 2)
        #expect(s.number == 5)
        #expect(s.totalRequests == 5)
        #expect(s.successRequests == 3)
        #expect(s.failedRequests == 2)
        #expect(s.requestThroughput == 0.75)
        #expect(abs(s.avgLatencySeconds! - 3.5 / 3) < 1e-12)
        #expect(s.avgInputTokens == 20)
        #expect(s.avgOutputTokens == 3)
        #expect(s.outputThroughput == 2.25)  // 9 / 4
        #expect(s.totalThroughput == 17.25)  // (60 + 9) / 4
        #expect(abs(s.avgTTFTMillis! - 200) < 1e-9)
        #expect(abs(s.avgTPOTMillis! - (200 + 800 + 1700.0 / 3) / 3) < 1e-9)
        #expect(abs(s.avgITLMillis! - 2900.0 / 6) < 1e-9)  // pooled [100, 300, 800, 500, 500, 700]
        #expect(s.failuresByKind.map(\.0) == [.httpStatus, .truncated])
        #expect(s.failuresByKind.map(\.1) == [1, 1])
        #expect(s.requestsWithoutTokenCounts == 0)
        #expect(abs(s.successPercent - 60) < 1e-12)

        #expect(s.column("Latency (s)")?.sortedValues == [0.5, 1.0, 2.0])
        // ITL is pooled in an HdrHistogram (3 significant digits): every row matches the exact nearest rank.
        let exactITL: [Double] = [100, 300, 500, 500, 700, 800]
        #expect(s.column("ITL (ms)")?.count == 6)
        for (label, permille) in RunSummary.percentileRows {
            let want = RunSummary.nearestRank(exactITL, permille: permille)!
            let got = s.column("ITL (ms)")!.value(permille: permille)!
            #expect(abs(got - want) <= want * 0.001, "ITL \(label): \(got) vs \(want)")
        }
        #expect(abs(s.avgITLMillis! - 2900.0 / 6) < 1e-9)
        #expect(s.column("Output (tok/s)")?.sortedValues == [2, 2, 6])  // 2/1.0, 4/2.0, 3/0.5
        #expect(s.column("Total (tok/s)")?.sortedValues == [17, 22, 26])  // 34/2, 22/1, 13/0.5
        #expect(abs(s.column("ITL (ms)")!.value(permille: 500)! - 500) <= 0.5)
        #expect(abs(s.column("ITL (ms)")!.value(permille: 250)! - 300) <= 0.3)
    }

    @Test func summaryJSONKeysInOrderAndRounded() {
        let text = String(decoding: SummaryFixture.accumulator().summary(parallel: 2, number: 5).summaryJSON(), as: UTF8.self)
        let expected = """
            {
              "Test Duration (s)": 4.0,
              "Concurrency": 2,
              "Total Requests": 5,
              "Success Requests": 3,
              "Failed Requests": 2,
              "Req Throughput (req/s)": 0.75,
              "Avg Latency (s)": 1.1667,
              "Avg Input Tokens": 20.0,
              "Avg Output Tokens": 3.0,
              "Output Throughput (tok/s)": 2.25,
              "Total Throughput (tok/s)": 17.25,
              "Avg TTFT (ms)": 200.0,
              "Avg TPOT (ms)": 522.22,
              "Avg ITL (ms)": 483.33,
              "Failures by kind": {
                "http_status": 1,
                "truncated": 1
              },
              "Requests without token counts": 0
            }

            """
        #expect(text == expected)
        #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8))) is [String: Any])
    }

    @Test func percentileJSONRows() throws {
        let data = SummaryFixture.accumulator().summary(parallel: 2, number: 5).percentileJSON()
        let rows = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(rows.count == 12)
        #expect(rows.map { $0["Percentiles"] as? String } == ["min", "1%", "5%", "10%", "25%", "50%", "75%", "90%", "95%", "99%", "99.9%", "max"])
        let median = rows[5]
        #expect(median["TTFT (ms)"] as? Double == 200)
        #expect(abs((median["ITL (ms)"] as? Double ?? 0) - 500) <= 0.5)  // HdrHistogram: 3 significant digits
        #expect(median["TPOT (ms)"] as? Double == 566.6667)  // 1700/3 rounded to 4 decimals
        #expect(median["Latency (s)"] as? Double == 1)
        #expect(median["Input tokens"] as? Double == 20)
        #expect(median["Output tokens"] as? Double == 3)
        #expect(median["Output (tok/s)"] as? Double == 2)
        #expect(median["Total (tok/s)"] as? Double == 22)
        #expect(rows[0]["Latency (s)"] as? Double == 0.5)
        #expect(rows[11]["ITL (ms)"] as? Double == 800)
        // Key order in each row: the label first, then the columns in evalscope's order.
        let text = String(decoding: data, as: UTF8.self)
        let first = try #require(text.range(of: "\"Percentiles\": \"min\""))
        let ttft = try #require(text.range(of: "\"TTFT (ms)\""))
        let total = try #require(text.range(of: "\"Total (tok/s)\""))
        #expect(first.lowerBound < ttft.lowerBound && ttft.lowerBound < total.lowerBound)
    }

    /// Runs of equal gaps (tokens that came in one read) are recorded in the ITL histogram as one value with its
    /// count: the count, the exact mean and every percentile are those of the gaps one by one, and a run of gaps
    /// over the histogram's range (1 h) counts each gap out of range.
    @Test func runsOfEqualGapsCountEachGap() {
        let gaps: [Double] = [0, 0, 0, 0.005, 0.005, 7200, 7200, 0.001, 0.002, 0.002]
        var acc = MetricsAccumulator()
        acc.add(SummaryFixture.success(start: 0, end: 1, ttft: 0.1, latency: 1, itl: gaps, tpot: nil, prompt: 1, completion: 11))
        #expect(acc.itlCount == 10)
        #expect(acc.itlOutOfRange == 2)
        #expect(acc.itlSumNanos == 14_400_015_000_000)  // 2 × 7200 s + 2 × 5 ms + 1 ms + 2 × 2 ms
        let s = acc.summary(parallel: 1, number: 1)
        #expect(abs(s.avgITLMillis! - 14_400_015.0 / 10) < 1e-6)
        let inRange: [Double] = [0, 0, 0, 1, 2, 2, 5, 5]  // ms, sorted
        #expect(s.column("ITL (ms)")?.count == 8)
        for (label, permille) in RunSummary.percentileRows {
            let want = RunSummary.nearestRank(inRange, permille: permille)!
            let got = s.column("ITL (ms)")!.value(permille: permille)!
            #expect(abs(got - want) <= want * 0.001, "ITL \(label): \(got) vs \(want)")
        }
    }

    @Test func failuresStayOutOfAveragesAndMissingCountsAreCounted() {
        var acc = MetricsAccumulator()
        acc.add(SummaryFixture.success(start: 1, end: 2, ttft: 0.4, latency: 0.9, itl: [0.5], tpot: nil, prompt: nil, completion: nil))
        acc.add(SummaryFixture.failure(.reset, start: 0.5, end: 1.5))
        var unsent = SummaryFixture.failure(.connectFailed, start: 0, end: 0)
        unsent.startNanos = 0  // never sent: start 0 ("did not happen") does not open the window
        unsent.completedNanos = 0
        acc.add(unsent)
        let s = acc.summary(parallel: 1, number: 3)
        #expect(s.testDurationSeconds == 1.5)  // 2.0 − 0.5
        #expect(s.requestThroughput == 1 / 1.5)
        #expect(s.avgInputTokens == nil)
        #expect(s.avgOutputTokens == nil)
        #expect(s.outputThroughput == 0)
        #expect(s.requestsWithoutTokenCounts == 1)
        #expect(abs(s.avgTTFTMillis! - 400) < 1e-9)
        #expect(s.avgTPOTMillis == nil)
        #expect(s.column("Output (tok/s)")?.sortedValues == [])
        #expect(s.failuresByKind.map(\.0) == [.connectFailed, .reset])
        #expect(s.failuresByKind.map(\.1) == [1, 1])
        let text = String(decoding: s.summaryJSON(), as: UTF8.self)
        #expect(text.contains("\"Avg Input Tokens\": -1.0"))
        #expect(text.contains("\"Avg TPOT (ms)\": -1.0"))
        #expect(text.contains("\"Requests without token counts\": 1"))
        let rows = String(decoding: s.percentileJSON(), as: UTF8.self)
        #expect(rows.contains("\"Output tokens\": null"))
    }

    @Test func nonStreamTTFTOnlyWhenNoStreamSucceeded() {
        var acc = MetricsAccumulator()
        acc.add(SummaryFixture.success(start: 0, end: 1, ttft: 1, latency: 1, itl: [], tpot: nil, prompt: 1, completion: 1, stream: false))
        #expect(acc.summary(parallel: 1, number: 2).avgTTFTMillis == 1000)
        acc.add(SummaryFixture.success(start: 0, end: 1, ttft: 0.25, latency: 1, itl: [], tpot: nil, prompt: 1, completion: 1))
        #expect(acc.summary(parallel: 1, number: 2).avgTTFTMillis == 250)  // stream rows only
    }

    @Test func emptyRun() {
        let s = MetricsAccumulator().summary(parallel: 4, number: 0)
        #expect(s.testDurationSeconds == 0)
        #expect(s.requestThroughput == 0)
        #expect(s.avgLatencySeconds == nil)
        #expect(s.failuresByKind.isEmpty)
        let text = String(decoding: s.summaryJSON(), as: UTF8.self)
        #expect(text.contains("\"Failures by kind\": {},"))
        #expect(text.contains("\"Test Duration (s)\": 0.0,"))
    }

    @Test func jsonStringEscaping() {
        #expect(JSONText.string("a\"b\\c\nd\u{1}é") == "\"a\\\"b\\\\c\\nd\\u0001é\"")
        #expect(JSONText.number(2.0 / 3, decimals: 4) == "0.6667")
        #expect(JSONText.number(.infinity, decimals: 2) == "null")
        #expect(JSONText.number(-0.00001, decimals: 2) == "0.0")
    }
}
