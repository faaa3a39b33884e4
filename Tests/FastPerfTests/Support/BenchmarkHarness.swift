import Foundation
import Testing
@testable import FastPerf

/// Runs `Benchmark.run` into a fresh temporary outputs folder and reads back what it stored.
enum BenchmarkHarness {
    /// One `result` row, by column name.
    struct Row {
        var values: [String: SQLValue]
        func double(_ c: String) -> Double? {
            switch values[c] { case .real(let v): v; case .integer(let v): Double(v); default: nil }
        }
        func int(_ c: String) -> Int? {
            if case .integer(let v) = values[c] { return Int(v) } else { return nil }
        }
        func text(_ c: String) -> String? {
            if case .text(let v) = values[c] { return v } else { return nil }
        }
        var success: Bool { int("success") == 1 }
        var outcome: String { text("outcome") ?? "?" }
        var ttftMillis: Double? { double("first_chunk_latency").map { $0 * 1000 } }
        var latencyMillis: Double? { double("latency").map { $0 * 1000 } }
        var tpotMillis: Double? { double("time_per_output_token").map { $0 * 1000 } }
        var itlMillis: [Double] {
            guard let t = text("inter_token_latencies"), let a = try? JSONSerialization.jsonObject(with: Data(t.utf8)) as? [Double] else { return [] }
            return a.map { $0 * 1000 }
        }
        var responseMessages: [String] {
            guard let t = text("response_messages"), let a = try? JSONSerialization.jsonObject(with: Data(t.utf8)) as? [String] else { return [] }
            return a
        }
    }

    struct Outcome {
        var report: BenchmarkReport
        var rows: [Row]
        var summaryJSON: [String: Any]
    }

    static func arguments(url: String?, parallel: Int = 1, number: Int = 1) -> RunArguments {
        var a = RunArguments()
        a.url = url
        a.parallel = [parallel]
        a.number = [number]
        a.prompt = "hello"
        a.maxTokens = 20
        a.sleepInterval = 0
        a.outputsDir = FileManager.default.temporaryDirectory.appendingPathComponent("fastperf-tests-\(UUID().uuidString)").path
        a.noTimestamp = true
        a.connectTimeout = 5
        a.totalTimeout = 30
        return a
    }

    static func run(_ args: RunArguments, ringCapacity: Int = Benchmark.ringCapacity) throws -> Outcome {
        defer { try? FileManager.default.removeItem(atPath: args.outputsDir) }
        let report = try Benchmark.run(args, ringCapacity: ringCapacity) { _ in }
        let point = report.points[0]
        // A finished database stands alone: no WAL or shared-memory file is left beside it.
        for p in report.points {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: p.directory)) ?? []
            #expect(!files.contains { $0.hasSuffix("-wal") || $0.hasSuffix("-shm") }, "\(files)")
        }
        let db = try SQLiteDatabase(path: point.directory + "/benchmark_data.db")
        let names = ResultSchema.columns.map(\.name)
        let rows = try db.query("SELECT \(names.joined(separator: ", ")) FROM result ORDER BY start_time").map { values in
            Row(values: Dictionary(uniqueKeysWithValues: zip(names, values)))
        }
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: point.directory + "/benchmark_summary.json"))) as? [String: Any] ?? [:]
        return Outcome(report: report, rows: rows, summaryJSON: summary)
    }

    /// Runs `body` with the port of an in-process `fastperf serve` (`MockServer`) on a free port, stopped after.
    static func withMockServer<T>(ttftMillis: Double = 0, itlMillis: Double = 0, _ body: (Int) throws -> T) throws -> T {
        var config = MockServerConfiguration()
        config.port = 0
        config.ttftMillis = ttftMillis
        config.itlMillis = itlMillis
        let server = MockServer(configuration: config)
        let port = try server.start()
        defer { server.stop() }
        return try body(port)
    }

    /// Starts the mock server on a free port with TTFT `ttftMillis`, ITL `itlMillis` and any other setting
    /// `configure` makes; returns it and its port (stop it when done).
    static func mockServer(ttftMillis: Double = 0, itlMillis: Double = 0,
                           _ configure: (inout MockServerConfiguration) -> Void = { _ in }) throws -> (MockServer, Int) {
        var config = MockServerConfiguration()
        config.port = 0
        config.ttftMillis = ttftMillis
        config.itlMillis = itlMillis
        configure(&config)
        let server = MockServer(configuration: config)
        return (server, try server.start())
    }

    /// Checks that `out` holds `count` rows, every one a success (else the message names how many failed and the
    /// first failure's outcome and error), carried over `protocolName` when given.
    static func expectAllSucceeded(_ out: Outcome, rows count: Int, protocolName: String? = nil,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        let failed = out.rows.filter { !$0.success }
        #expect(out.rows.count == count, sourceLocation: sourceLocation)
        #expect(failed.isEmpty, "\(failed.count) failed, first: \(failed.first.map { "\($0.outcome) \($0.text("error") ?? "")" } ?? "")",
                sourceLocation: sourceLocation)
        if let protocolName {
            #expect(out.rows.allSatisfy { $0.text("protocol") == protocolName }, sourceLocation: sourceLocation)
        }
    }

    /// Checks that `out` holds `count` rows, every one a `protocol_error` for an SSE body over `cap` bytes.
    static func expectAllOverThePayloadCap(_ out: Outcome, rows count: Int, cap: Int,
                                           sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(out.rows.count == count, sourceLocation: sourceLocation)
        #expect(out.rows.allSatisfy {
            $0.outcome == "protocol_error" && $0.text("error")?.contains("over \(cap) bytes of SSE body") == true
        }, "\(out.rows.map { $0.text("error") ?? "" })", sourceLocation: sourceLocation)
    }

    /// Checks a closed-loop point's mean TTFT and TPOT against the mock server's timeline (`ttft` ms, then one
    /// token every `itl` ms, `tokens` tokens) as the server actually kept it: its timers may fire late on a
    /// loaded machine, and the server reports by how much (`MockServerLateness`), so what is left over is the
    /// client's own error, which must stay within `tolerance` ms plus the loop lag the client itself reported
    /// (a loop thread descheduled by the other tests reads late, and says so). The client can never see the
    /// first token before it was due (the server may send 0.5 ms early).
    static func expectTimeline(_ out: Outcome, _ server: MockServer, ttft: Double, itl: Double, tokens: Int,
                               tolerance: Double = 2, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let s = out.report.points[0].summary
        let measuredTTFT = try #require(s.avgTTFTMillis, sourceLocation: sourceLocation)
        let measuredTPOT = try #require(s.avgTPOTMillis, sourceLocation: sourceLocation)
        let late = server.lateness
        let allowance = tolerance + out.report.points[0].client.loopLagMaxMillis
        #expect(late.count == out.rows.count, sourceLocation: sourceLocation)
        let expectedTTFT = ttft + late.meanFirstTokenMillis
        let expectedTPOT = itl + (late.meanLastTokenMillis - late.meanFirstTokenMillis) / Double(tokens - 1)
        #expect(measuredTTFT >= ttft - 0.5, "avg TTFT \(measuredTTFT) ms", sourceLocation: sourceLocation)
        #expect(abs(measuredTTFT - expectedTTFT) <= allowance,
                "avg TTFT \(measuredTTFT) ms, server sent at \(expectedTTFT) ms, allowance \(allowance) ms", sourceLocation: sourceLocation)
        #expect(abs(measuredTPOT - expectedTPOT) <= allowance / 2,
                "avg TPOT \(measuredTPOT) ms, server kept \(expectedTPOT) ms", sourceLocation: sourceLocation)
    }

    /// Replays `steps` from a loopback server for `number` requests and returns the rows.
    static func replay(_ steps: [ReplayServer.Step], number: Int = 1, configure: (inout RunArguments) -> Void = { _ in }) throws -> Outcome {
        let server = try ReplayServer(steps: steps)
        defer { server.stop() }
        var args = arguments(url: "http://127.0.0.1:\(server.port)/v1/chat/completions", number: number)
        configure(&args)
        return try run(args)
    }

    /// Splits a case body into blocks, each ending with a blank line (LF bodies).
    static func blocks(_ body: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var start = 0
        var i = 0
        while i + 1 < body.count {
            if body[i] == 10 && body[i + 1] == 10 {
                out.append(Array(body[start...(i + 1)]))
                start = i + 2
                i += 2
            } else {
                i += 1
            }
        }
        if start < body.count { out.append(Array(body[start...])) }
        return out
    }

    /// Steps for a case: the head at 0 ms, then block k at `times[k]` ms (all at 0 when `times` is nil).
    static func caseSteps(_ name: String, times: [Double]? = nil) throws -> [ReplayServer.Step] {
        let c = try CaseFixtures.load(name)
        var steps = [ReplayServer.Step(atMillis: 0, bytes: c.head)]
        let bs = blocks(c.body)
        if let times {
            precondition(times.count == bs.count, "\(name): \(bs.count) blocks, \(times.count) times")
            for (b, t) in zip(bs, times) { steps.append(.init(atMillis: t, bytes: b)) }
        } else {
            steps.append(.init(atMillis: 0, bytes: c.body))
        }
        return steps
    }
}
