import Foundation
import Testing
@testable import FastPerf

/// Rate-driven load over loopback against the mock server: the schedule is followed, latency is measured from
/// the intended send, and a server stall shows up in the corrected figures (the wrk2 demonstration, with SSE).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct OpenLoopTests {
    static func server(_ configure: (inout MockServerConfiguration) -> Void = { _ in }) throws -> (MockServer, Int) {
        try BenchmarkHarness.mockServer(ttftMillis: 5, itlMillis: 1, configure)
    }

    /// Every request leaves at its scheduled time: intended start times are the schedule's offsets from one
    /// origin, and the actual sends follow them closely.
    @Test func openLoopFollowsTheSchedule() throws {
        let (server, port) = try Self.server()
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(port)/v1/chat/completions", number: 300)
        args.rate = [300]
        args.openLoop = true
        args.seed = 11
        args.maxTokens = 4
        args.threads = 2
        let out = try BenchmarkHarness.run(args)
        #expect(out.rows.count == 300)
        #expect(out.rows.filter { !$0.success }.isEmpty)
        #expect(out.report.points[0].directory.hasSuffix("rate_300.0_number_300"))
        let schedule = ArrivalSchedule(count: 300, rate: 300, process: .poisson, seed: 11)
        let intended = out.rows.compactMap { $0.double("intended_start_time") }.sorted()
        for (k, t) in intended.enumerated() {
            let want = Double(schedule.offsetsNanos[k]) / 1e9
            #expect(abs((t - intended[0]) - want) < 2e-6, "arrival \(k)")
        }
        let lags = out.rows.map { $0.double("start_time")! - $0.double("intended_start_time")! }
        #expect(lags.allSatisfy { $0 >= -1e-6 }, "never sent early")
        let o = try #require(out.report.points[0].summary.openLoop)
        #expect(o.sendLagP99Millis < 20, "send lag p99 \(o.sendLagP99Millis) ms")  // loose: shared 2-core machine
        #expect(abs(o.achievedRate / 300 - 1) < 0.25)
        #expect(out.summaryJSON["Concurrency"] as? Int == -1)
        #expect(out.summaryJSON["Request Rate (req/s)"] as? Double == 300)
        #expect(out.summaryJSON["Send Lag P99 (ms)"] != nil)
    }

    /// The server pauses for 1.5 s; requests keep arriving at 200/s but only 4 connections may be open. Raw
    /// latency (from the actual send) hides the pause; latency from the intended send shows it.
    @Test func serverStallShowsInCorrectedLatencyOnly() throws {
        let (server, port) = try Self.server {
            $0.stallAtMillis = 1500
            $0.stallMillis = 1500
        }
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(port)/v1/chat/completions", parallel: 4, number: 1000)
        args.rate = [200]
        args.maxTokens = 5
        args.seed = 5
        let out = try BenchmarkHarness.run(args)
        #expect(out.rows.count == 1000)
        let s = out.report.points[0].summary
        let o = try #require(s.openLoop)
        let corrected = try #require(o.correctedLatency.value(permille: 990))
        let raw = try #require(s.column("Latency (s)")?.value(permille: 990))
        #expect(corrected >= 1.0, "corrected latency p99 \(corrected) s")
        #expect(raw < 0.5, "raw latency p99 \(raw) s")
        #expect(o.sendLagP99Millis > 500, "the queue for a connection is send lag")
        // That lag is the cap's (4 in flight), not the client's: a note, not a client warning.
        let client = out.report.points[0].client
        #expect(client.capReached)
        #expect(client.warning?.contains("send lag") != true, "\(client.warning ?? "")")
        #expect(client.notes.first?.contains("the cap was reached") == true)
        #expect(out.report.summaryText.contains("Rate-paced: achieved"))
        #expect(out.report.summaryText.contains("Note: send lag p99"))
        #expect(out.report.points[0].directory.hasSuffix("parallel_4_number_1000"))
    }

    @Test func durationStopsSendingAndKeepsEveryRow() throws {
        let (server, port) = try Self.server()
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(port)/v1/chat/completions", parallel: 2, number: 100_000)
        args.duration = 1
        args.maxTokens = 3
        let t0 = Date()
        let out = try BenchmarkHarness.run(args)
        #expect(Date().timeIntervalSince(t0) < 10)
        #expect(out.rows.count > 10 && out.rows.count < 100_000)
        #expect(out.rows.filter { !$0.success }.isEmpty)
        #expect(out.summaryJSON["Total Requests"] as? Int == out.rows.count)
    }

    @Test func warmupIsSentButNotStored() throws {
        let c = try CaseFixtures.load("case-02")
        let server = try ReplayServer(steps: [.init(atMillis: 0, bytes: c.whole)])
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(server.port)/v1/chat/completions", parallel: 2, number: 10)
        args.warmupNum = 0.5
        let out = try BenchmarkHarness.run(args)
        #expect(out.rows.count == 10)
        #expect(server.requests.count == 15)
        #expect(out.summaryJSON["Total Requests"] as? Int == 10)
    }

    /// A trace is replayed at its recorded times (sorted, divided by --trace-speed), with its ids and lengths.
    @Test func workloadTraceIsReplayedAtItsTimes() throws {
        let (server, port) = try Self.server()
        defer { server.stop() }
        let trace = FileManager.default.temporaryDirectory.appendingPathComponent("trace-\(UUID().uuidString).jsonl")
        try """
            {"timestamp": 0, "prompt": "first", "output_length": 3, "request_id": "a1"}
            {"timestamp": 400, "messages": [{"role": "user", "content": "third"}], "request_id": "a3"}
            {"timestamp": 200, "prompt": "second", "output_length": 5, "request_id": 2}
            {"timestamp": 1000, "body": {"messages": [{"role": "user", "content": "fourth"}], "max_tokens": 2}}
            """.write(to: trace, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: trace) }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(port)/v1/chat/completions", number: 1000)
        args.prompt = nil
        args.dataset = "workload_trace"
        args.datasetPath = trace.path
        args.traceSpeed = 2
        let out = try BenchmarkHarness.run(args)
        #expect(out.rows.count == 4)
        #expect(out.rows.map { $0.text("request_id") } == ["a1", "2", "a3", nil])
        let t0 = out.rows[0].double("intended_start_time")!
        let offsets = out.rows.map { (($0.double("intended_start_time")! - t0) * 1000).rounded() }
        #expect(offsets == [0, 100, 200, 500])
        #expect(out.rows.map { $0.int("completion_tokens") } == [3, 5, 20, 2])  // max_tokens 20 from the flags
        #expect(out.report.points[0].directory.hasSuffix("trace_number_4"))
        #expect(out.summaryJSON["Concurrency"] as? Int == -1)
    }

    /// A 1,000-line trace (Poisson arrivals at 500/s, recorded with ms precision) is sent at its offsets.
    @Test func thousandLineTraceKeepsItsOffsets() throws {
        let (server, port) = try Self.server()
        defer { server.stop() }
        let schedule = ArrivalSchedule(count: 1000, rate: 500, process: .poisson, seed: 21)
        let offsets = schedule.offsetsNanos.map { (Double($0) / 1e6 * 1000).rounded() / 1000 }  // ms, µs precision
        let lines = offsets.enumerated().map { k, t in #"{"timestamp": \#(t), "prompt": "trace \#(k)", "output_length": 2, "request_id": "r\#(k)"}"# }
        let trace = FileManager.default.temporaryDirectory.appendingPathComponent("trace1000-\(UUID().uuidString).jsonl")
        try lines.joined(separator: "\n").write(to: trace, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: trace) }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(port)/v1/chat/completions", number: 1000)
        args.prompt = nil
        args.dataset = "workload_trace"
        args.datasetPath = trace.path
        args.dbStore = "metrics"
        let out = try BenchmarkHarness.run(args)
        #expect(out.rows.count == 1000)
        let rows = out.rows.sorted { $0.double("intended_start_time")! < $1.double("intended_start_time")! }
        let t0 = rows[0].double("intended_start_time")!
        var worst = 0.0
        for (k, r) in rows.enumerated() {
            #expect(r.text("request_id") == "r\(k)")
            worst = max(worst, abs((r.double("intended_start_time")! - t0) * 1000 - offsets[k]))
        }
        #expect(worst < 0.01, "intended offsets within 10 µs of the trace (worst \(worst) ms)")
        let lag = try #require(out.report.points[0].summary.openLoop?.sendLagP99Millis)
        #expect(lag < 20, "send lag p99 \(lag) ms")  // loose: tests run side by side on a shared 2-core machine
    }

    @Test func rateArgumentsAreChecked() {
        var a = BenchmarkHarness.arguments(url: "http://127.0.0.1:9/x")
        a.openLoop = true
        #expect(throws: FastPerfError.self) { try Benchmark.validate(a) }
        a.rate = [10, 20]
        #expect(throws: FastPerfError.self) { try Benchmark.validate(a) }  // two rates, one number
        a.rate = [-1]
        #expect(throws: FastPerfError.self) { try Benchmark.validate(a) }
        a.rate = [10]
        a.burstiness = 0
        #expect(throws: FastPerfError.self) { try Benchmark.validate(a) }
    }
}
