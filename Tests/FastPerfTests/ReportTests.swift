import Foundation
import Testing
@testable import FastPerf

/// The report's pieces with hand-computed values: timelines, sweep analysis, the client verdict, the progress
/// line, reading rows back, escaping and the charts.
struct ReportTests {
    /// A successful stream request: `latency` and `ttft` in ms, started `start` s after 0.
    static func ok(start: Double, latencyMillis: Double, ttftMillis: Double = 10, tokens: Int = 10) -> RequestResult {
        let s = UInt64(start * 1e9) + 1_000_000_000
        let latency = UInt64(latencyMillis * 1e6)
        return RequestResult(requestIndex: 0, loopID: 0, connectionID: 0, intendedStartNanos: s, startNanos: s,
                             completedNanos: s + latency, success: true, outcome: .ok, httpStatus: 200, error: nil,
                             ttftNanos: UInt64(ttftMillis * 1e6), latencyNanos: latency, itlNanos: [],
                             tpotSeconds: nil, promptTokens: 5, completionTokens: tokens, isStream: true,
                             generatedText: "", reasoningText: "")
    }

    /// A summary of `n` requests started `0.1 / parallel` s apart, each `latencyMillis` long.
    static func summary(parallel: Int, n: Int, latencyMillis: Double, failures: Int = 0) -> RunSummary {
        var a = MetricsAccumulator()
        for i in 0..<n { a.add(ok(start: Double(i) * 0.1 / Double(parallel), latencyMillis: latencyMillis)) }
        for _ in 0..<failures {
            var f = ok(start: 0, latencyMillis: 1)
            f.success = false
            f.outcome = .httpStatus
            a.add(f)
        }
        return a.summary(parallel: parallel, number: n + failures)
    }

    // MARK: timeline

    /// [0,1] ok, [0.5,1.5] ok, [1,2] failed, 1-s bins: completions land in bin 1 (the failure's end at 2.0 s is
    /// clamped into the last bin); in flight 1.5 on average in both bins; at most 2 at once.
    @Test func timelineBinsByHand() {
        let t = Timeline(samples: [
            .init(start: 10, end: 11, success: true),
            .init(start: 10.5, end: 11.5, success: true),
            .init(start: 11, end: 12, success: false),
        ], binSeconds: 1)
        #expect(t.completedPerSecond == [0, 2])
        #expect(t.errorsPerSecond == [0, 1])
        #expect(t.meanInFlight == [1.5, 1.5])
        #expect(t.peakInFlight == 2)
    }

    @Test func timelineBinWidthIsNiceAndAtMostFortyBins() {
        #expect(Timeline.binWidth(forDuration: 1.6) == 0.1)
        #expect(Timeline.binWidth(forDuration: 30) == 1)
        #expect(Timeline.binWidth(forDuration: 100) == 5)
        #expect(Timeline.binWidth(forDuration: 600) == 20)
        let t = Timeline(samples: (0..<100).map { .init(start: Double($0), end: Double($0) + 0.5, success: true) })
        #expect(t.binSeconds == 5 && t.completedPerSecond.count == 20)
        #expect(t.completedPerSecond.allSatisfy { $0 == 1 })  // 5 completions per 5-s bin
        #expect(abs(t.meanInFlight[0] - 0.5) < 1e-12)
    }

    // MARK: sweep analysis

    @Test func bestPointAndLatencyClimb() {
        // Latency p50: 100, 110, 130 (×1.3 ≥ 1.25: climbs here), 400 ms; req/s 10, 36.9, 120.2, then 167 with only
        // 90 % success (not "best").
        let s = [
            Self.summary(parallel: 1, n: 10, latencyMillis: 100),
            Self.summary(parallel: 4, n: 40, latencyMillis: 110),
            Self.summary(parallel: 16, n: 60, latencyMillis: 130),
            Self.summary(parallel: 64, n: 90, latencyMillis: 400, failures: 10),  // 90 % success: not "best"
        ]
        #expect(SweepAnalysis.bestIndex(s) == 2)
        let climb = SweepAnalysis.climb(s)
        #expect(climb?.index == 2)
        #expect(abs((climb?.ratio ?? 0) - 1.3) < 1e-9)
        #expect(SweepAnalysis.climb(Array(s.prefix(2))) == nil)
        #expect(SweepAnalysis.bestIndex([Self.summary(parallel: 1, n: 0, latencyMillis: 1, failures: 3)]) == nil)
    }

    static func counters(parallel: Int = 8, number: Int = 100, rate: Double? = nil, peak: Int = 8, overflows: Int = 0,
                         busiestLoop: Double = 0.1, writerCPU: Double = 2, loopLagP99: Double = 0.5) -> PointCounters {
        let client = ClientUsage(loopThreads: 2, loopCPUSeconds: 1, busiestLoopFraction: busiestLoop, writerCPUSeconds: writerCPU,
                                 wallSeconds: 10, loopLagP99Millis: loopLagP99, loopLagMaxMillis: 1, loopLagSamples: 2000,
                                 ringOverflows: overflows, peakInFlight: peak, peakRSSBytes: 1 << 20)
        return PointCounters(shape: PointShape(parallel: parallel, number: number, rate: rate, concurrency: parallel, summaryRate: nil),
                             url: "http://x", rows: number, loopCloseStatus: 0, client: client)
    }

    @Test func clientVerdicts() {
        let ok = SweepAnalysis.clientVerdict(counters: Self.counters())
        #expect(ok.level == .ok)
        #expect(abs((ok.loopBusyPercent ?? 0) - 10) < 1e-9 && abs((ok.writerBusyPercent ?? 0) - 20) < 1e-9)
        #expect(abs((ok.cpuMicrosPerRequest ?? 0) - 30_000) < 1e-9)  // 3 s / 100 rows
        let busy = SweepAnalysis.clientVerdict(counters: Self.counters(writerCPU: 7.5))
        #expect(busy.level == .busy && busy.reasons == ["the writer thread was busy 75% of the time"])
        let hot = SweepAnalysis.clientVerdict(counters: Self.counters(busiestLoop: 0.95))
        #expect(hot.level == .saturated && hot.reasons == ["a loop thread was busy 95% of the time"])
        let lag = SweepAnalysis.clientVerdict(counters: Self.counters(loopLagP99: 3))
        #expect(lag.level == .saturated && lag.reasons == ["loop lag p99 3.00 ms > 2 ms"])
        let few = SweepAnalysis.clientVerdict(counters: Self.counters(peak: 5))
        #expect(few.level == .saturated && few.reasons == ["only 5 of 8 requests were in flight at once"])
        #expect(SweepAnalysis.clientVerdict(counters: Self.counters(overflows: 3)).level == .saturated)
        // Fewer requests than connections: the target is the request count; a paced loop needs not fill its cap.
        #expect(SweepAnalysis.clientVerdict(counters: Self.counters(parallel: 8, number: 5, peak: 5)).level == .ok)
        #expect(SweepAnalysis.clientVerdict(counters: Self.counters(rate: 2, peak: 1)).level == .ok)
        #expect(SweepAnalysis.clientVerdict(counters: nil).level == .unknown)
    }

    // MARK: progress

    @Test func progressLineByHand() {
        // 312 of 400 stored in 2.6 s (2 failed): 310 / 2.6 = 119.2 req/s, 9920 / 2.6 = 3815 tok/s, 120 stored/s → ETA 0.73 s.
        let line = ProgressDisplay.line(label: "parallel 8", number: 400, done: 312, failed: 2, outputTokens: 9920, inFlight: 8,
                                        elapsedSeconds: 2.6)
        #expect(line == "parallel 8: 312/400 (78%) | 119.2 req/s | 3815 tok/s | 8 in flight | 2 errors | 0:02 elapsed | ETA 0:00")
        #expect(ProgressDisplay.line(label: "rate 2.5", number: 10, done: 0, failed: 0, outputTokens: 0, inFlight: 1, elapsedSeconds: 0)
                .hasSuffix("| 0 errors | 0:00 elapsed | ETA -"))
        #expect(ProgressDisplay.clock(3725) == "1:02:05")
        #expect(ProgressDisplay.clock(65.9) == "1:05")
    }

    @Test func progressDisplayModes() {
        final class Sink { var text: [String] = [] }
        let progress = RunProgress(totalRequests: 10)
        progress.stored.store(3, ordering: .relaxed)
        progress.count(Self.ok(start: 0, latencyMillis: 1, tokens: 7))
        var failed = Self.ok(start: 0, latencyMillis: 1)
        failed.success = false
        progress.count(failed)
        #expect(progress.outputTokens.load(ordering: .relaxed) == 7 && progress.failed.load(ordering: .relaxed) == 1)
        for mode in [ProgressDisplayMode.off, .terminal, .log] {
            let written = Sink(), logged = Sink()
            let d = ProgressDisplay(mode: mode, label: "parallel 2", number: 10, progress: progress,
                                    log: { logged.text.append($0) }, write: { written.text.append($0) }, nowNanos: 0)
            d.update(nowNanos: 100_000_000)    // too soon for either
            d.update(nowNanos: 300_000_000)    // terminal redraw
            d.update(nowNanos: 5_100_000_000)  // terminal redraw and log line
            d.finish(nowNanos: 6_000_000_000)
            switch mode {
            case .off:
                #expect(written.text.isEmpty && logged.text.isEmpty)
            case .terminal:
                #expect(written.text.count == 3 && logged.text.isEmpty)
                #expect(written.text[0] == "\r" + d.line(nowNanos: 300_000_000) + "\u{1B}[K")
                #expect(written.text[2].hasSuffix("\u{1B}[K\n") && written.text[2].contains("3/10 (30%)") && written.text[2].contains("1 error |"))
            case .log:
                #expect(written.text.isEmpty && logged.text == ["  " + d.line(nowNanos: 5_100_000_000)])
            }
        }
    }

    // MARK: reading rows back

    @Test func storedSecondsReadBackAsTheSameNanoseconds() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<10_000 {
            let ns = UInt64.random(in: 0..<(10 * 86_400 * 1_000_000_000), using: &generator)  // up to 10 days
            #expect(PointDatabase.nanos(Double(ns) / 1e9) == ns)
            let text = String(decoding: RowEncoding.secondsArray([ns, 1]), as: UTF8.self)  // the writer's inter_token_latencies encoding
            #expect(PointDatabase.numberArray(text).map(PointDatabase.nanos) == [ns, 1])
        }
        #expect(PointDatabase.numberArray("[]").isEmpty)
    }

    @Test func reportFolderNames() {
        #expect(PointShape(folder: "parallel_16_number_400")
                == PointShape(parallel: 16, number: 400, rate: nil, concurrency: 16, summaryRate: nil))
        #expect(PointShape(folder: "rate_2.5_number_5")
                == PointShape(parallel: 0, number: 5, rate: 2.5, concurrency: -1, summaryRate: 2.5))
        #expect(PointShape(folder: "trace_number_5") == nil)
        #expect(RunReport.label(of: "/x/outputs/20250102_030405/qwen") == "20250102_030405/qwen")
        #expect(RunReport.label(of: "/x/outputs/qwen/") == "qwen")
    }

    // MARK: HTML

    @Test func everyUserStringIsEscaped() {
        let evil = "<img src=x onerror=alert(1)>"
        var point = ReportPoint(folder: "parallel_1_number_3",
                                shape: PointShape(parallel: 1, number: 3, rate: nil, concurrency: 1, summaryRate: nil), summary: Self.summary(parallel: 1, n: 2, latencyMillis: 5, failures: 1),
                                counters: Self.counters(parallel: 1, number: 3, peak: 1), timeline: Timeline(samples: []),
                                failures: [.init(outcome: "http_status", httpStatus: 500, error: evil, count: 1)])
        point.timeline = Timeline(samples: [.init(start: 0, end: 1, success: true)])
        let args = #"{"model": "</title><script>alert(1)</script>", "url": "http://user:secret@host:1/v1/chat/completions", "api_key": "sk-***xy"}"#
        let run = ReportRun(label: "run \"<b>\"", url: "http://user:secret@host:1/v1/chat/completions", argumentsJSON: args,
                            version: "0.1.0", startedAt: "2025-01-01T00:00:00Z", points: [point])
        let html = HTMLReport.render(runs: [run])
        #expect(!html.contains("<script") && !html.contains("<img") && !html.contains("<b>\""))
        #expect(html.contains("&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;"))
        #expect(html.contains("run &quot;&lt;b&gt;&quot;"))
        #expect(!html.contains("user:secret") && html.contains("http://***@host:1/v1/chat/completions"))
        #expect(html.contains("sk-***xy"))
        #expect(HTMLText.escape("a&b<'\">") == "a&amp;b&lt;&#39;&quot;&gt;")
    }

    @Test func chartTicksAndLabels() {
        #expect(SVGChart.niceTicks(max: 3.7) == [0, 1, 2, 3, 4])
        #expect(SVGChart.niceTicks(max: 380) == [0, 100, 200, 300, 400])
        let fine = SVGChart.niceTicks(min: 0.0406, max: 0.0452)  // step 0.001 from 0.040 to 0.046
        #expect(fine.count == 7 && abs(fine[0] - 0.04) < 1e-12 && abs(fine[6] - 0.046) < 1e-12, "\(fine)")
        #expect(SVGChart.format(12_000, step: 5000) == "12k")
        #expect(SVGChart.format(0.25, step: 0.05) == "0.25")
        #expect(SVGChart.format(400, step: 100) == "400")
        let chart = SVGChart(title: "t", xLabel: "x", yLabel: "y",
                             series: [.init(name: "a", color: "#000", points: [(0, 1), (1, nil), (2, 3), (3, 4)])])
        let svg = chart.render()
        // The gap at x = 1 splits the line: one polyline (2–3), the lone point at 0 is only a dot; 3 dots.
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 1)
        #expect(svg.components(separatedBy: "<circle").count - 1 == 3)
        #expect(SVGChart(title: "e", xLabel: "", yLabel: "", series: []).render().contains("no data"))
    }
}
