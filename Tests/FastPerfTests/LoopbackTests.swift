import Foundation
import Testing
@testable import FastPerf

/// Whole runs over loopback: `fastperf serve` with exact delays, and failure modes from a scripted server.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct LoopbackTests {
    /// DESIGN §3 against the mock server: TTFT 50 ms, ITL 10 ms, 20 tokens, 4 connections, 40 requests.
    @Test func mockServerTimingsAreMeasured() throws {
        let (server, port) = try BenchmarkHarness.mockServer(ttftMillis: 50, itlMillis: 10)
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(port)/v1/chat/completions", parallel: 4, number: 40)
        args.maxTokens = 20
        let out = try BenchmarkHarness.run(args)
        #expect(out.rows.count == 40)
        #expect(out.rows.allSatisfy { $0.success })
        try BenchmarkHarness.expectTimeline(out, server, ttft: 50, itl: 10, tokens: 20)
        #expect(out.rows.allSatisfy { $0.int("completion_tokens") == 20 })
        #expect(out.report.points[0].client.peakInFlight == 4)
        #expect(out.report.points[0].loopCloseStatus == 0)
        // Four keep-alive connections carried all 40 requests.
        #expect(Set(out.rows.compactMap { $0.int("connection_id") }).count == 4)
    }

    /// Three loop threads share 7 connections (3 + 2 + 2) and claim the 90 requests from one counter: every
    /// request is one row, each loop's rows carry its loop id, and each loop keeps its own connections.
    @Test func severalLoopThreadsShareTheRequests() throws {
        let (server, port) = try BenchmarkHarness.mockServer(ttftMillis: 2, itlMillis: 1)
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(port)/v1/chat/completions", parallel: 7, number: 90)
        args.threads = 3
        args.maxTokens = 5
        let out = try BenchmarkHarness.run(args)
        #expect(out.rows.count == 90)
        #expect(out.rows.allSatisfy { $0.success })
        let loops = Set(out.rows.compactMap { $0.int("loop_id") })
        #expect(loops == [0, 1, 2])
        let connections = Set(out.rows.compactMap { $0.int("connection_id") })
        #expect(connections.count == 7)
        for c in connections { #expect(c >> 32 == out.rows.first { $0.int("connection_id") == c }!.int("loop_id")!) }
        let point = out.report.points[0]
        #expect(point.client.loopThreads == 3)
        #expect(point.client.peakInFlight == 7)
        #expect(point.client.ringOverflows == 0)
        #expect(point.loopCloseStatus == 0)
        #expect(out.summaryJSON["Success Requests"] as? Int == 90)
    }

    /// A dataset shorter than `--number` cycles: the arena keeps its 3 distinct requests, and request k (sent in
    /// order on one connection) is item k % 3, over HTTP/1.1 and h2c.
    @Test(arguments: [false, true]) func shortDatasetCyclesThroughItsDistinctRequests(http2: Bool) throws {
        PluginRegistry.register(dataset: "test-three") { _ in
            struct Three: DatasetPlugin {
                init(arguments: RunArguments) throws {}
                func buildMessages() throws -> [DatasetItem] { [.prompt("first"), .prompt("second"), .prompt("third")] }
            }
            return try Three(arguments: RunArguments())
        }
        let (server, port) = try BenchmarkHarness.mockServer { $0.http2 = true }
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(port)/v1/chat/completions", parallel: 1, number: 7)
        args.prompt = nil
        args.dataset = "test-three"
        args.maxTokens = 2
        args.http2 = http2
        let out = try BenchmarkHarness.run(args)
        #expect(out.rows.count == 7)
        let prompts = out.rows.map { row -> String in
            let text = row.text("request") ?? ""
            return ["first", "second", "third"].first { text.contains("\"\($0)\"") } ?? "none: \(text)"
        }
        #expect(prompts == ["first", "second", "third", "first", "second", "third", "first"])
        #expect(out.rows.allSatisfy { $0.success })
    }

    /// Credentials never reach the disk: a `user:password@` in the URL, the API key and an Authorization-like
    /// header are masked in every file of the run (arguments JSON, log, summaries, report, the database bytes).
    @Test func credentialsAreMaskedInEveryFile() throws {
        let (server, port) = try BenchmarkHarness.mockServer()
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "http://alice:pa55w0rd-url@127.0.0.1:\(port)/v1/chat/completions", number: 2)
        args.apiKey = "sk-key-secret-0123456789"
        args.headers = ["X-Api-Token": "header-secret-987654321"]
        args.maxTokens = 2
        defer { try? FileManager.default.removeItem(atPath: args.outputsDir) }
        let report = try Benchmark.run(args) { _ in }
        #expect(report.points[0].summary.successRequests == 2)
        let files = FileManager.default.enumerator(atPath: args.outputsDir)?.compactMap { $0 as? String } ?? []
        #expect(files.contains { $0.hasSuffix("benchmark_args.json") } && files.contains { $0.hasSuffix("benchmark.log") })
        for f in files {
            guard let data = FileManager.default.contents(atPath: args.outputsDir + "/" + f) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            for secret in ["pa55w0rd-url", "alice:", "key-secret-0123", "header-secret-98"] {
                #expect(!text.contains(secret), "\(f) holds \(secret)")
            }
        }
    }

    /// Reads like `openai`, 2 ms per response: a writer at most 500 rows/s, far slower than the loop.
    struct SlowParse: APIPlugin {
        var defaultPath: String { "/v1/chat/completions" }
        func buildRequest(_ item: DatasetItem, arguments: RunArguments, path: String) throws -> APIRequest {
            try OpenAIPlugin().buildRequest(item, arguments: arguments, path: path)
        }
        func parseResponses(_ record: RequestRecord, request: APIRequest) -> ParsedResponse {
            usleep(2000)
            return OpenAIPlugin().parseResponses(record, request: request)
        }
    }

    /// A writer slower than the loop: with a 4-slot ring the closed loop stops sending while finished records
    /// wait for the ring, so a loop never holds more than its 8 requests in flight (without the pause it would
    /// hold nearly all 200), and still every request is one row. Over HTTP/1.1 and h2c.
    @Test(arguments: [false, true]) func slowWriterPausesTheClosedLoop(http2: Bool) throws {
        PluginRegistry.register(api: "test-slow-parse", SlowParse())
        let (server, port) = try BenchmarkHarness.mockServer(ttftMillis: 0, itlMillis: 0) { $0.http2 = true }
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(port)/v1/chat/completions", parallel: 8, number: 200)
        args.api = "test-slow-parse"
        args.threads = 1
        args.maxTokens = 2
        args.http2 = http2
        args.maxStreams = 4
        let out = try BenchmarkHarness.run(args, ringCapacity: 4)
        #expect(out.rows.count == 200)
        #expect(out.rows.allSatisfy { $0.success })
        let client = out.report.points[0].client
        #expect(client.ringOverflows > 0)
        #expect(client.peakOverflow >= 1 && client.peakOverflow <= 8, "peak overflow \(client.peakOverflow)")
        #expect(client.peakInFlight == 8)
        #expect(out.report.points[0].loopCloseStatus == 0)
    }

    @Test func nonStreamAgainstMockServer() throws {
        let (server, port) = try BenchmarkHarness.mockServer(ttftMillis: 20, itlMillis: 1)
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(port)/v1/completions", parallel: 2, number: 6)
        args.stream = false
        args.maxTokens = 10
        let out = try BenchmarkHarness.run(args)
        #expect(out.rows.count == 6)
        for r in out.rows {
            #expect(r.success, "\(r.outcome) \(r.text("error") ?? "")")
            #expect(r.int("is_stream") == 0)
            #expect(r.ttftMillis == r.latencyMillis)
            #expect(r.latencyMillis! >= 29)  // 20 + 9 × 1 ms
            #expect(r.int("completion_tokens") == 10)
        }
    }

    @Test func sweepWritesOnePointFolderEach() throws {
        let (server, port) = try BenchmarkHarness.mockServer(ttftMillis: 0, itlMillis: 0)
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(port)", parallel: 1, number: 3)
        args.parallel = [1, 3]
        args.number = [3, 9]
        args.maxTokens = 4
        let report = try Benchmark.run(args) { _ in }
        defer { try? FileManager.default.removeItem(atPath: args.outputsDir) }
        #expect(report.points.map(\.rows) == [3, 9])
        #expect(report.url.hasSuffix("/v1/chat/completions"))
        for p in report.points {
            for f in ["benchmark_data.db", "benchmark_args.json", "benchmark_summary.json", "benchmark_percentile.json"] {
                #expect(FileManager.default.fileExists(atPath: p.directory + "/" + f), "\(f) in \(p.directory)")
            }
        }
        #expect(FileManager.default.fileExists(atPath: report.runDirectory + "/performance_summary.txt"))
        #expect(FileManager.default.fileExists(atPath: report.runDirectory + "/benchmark.log"))
        #expect(report.points[1].directory.hasSuffix("parallel_3_number_9"))
    }

    @Test func apiKeyIsSentAndMaskedInSavedArguments() throws {
        let body = Array(#"{"choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#.utf8)
        let server = try ReplayServer(steps: [.init(atMillis: 0, bytes: Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)])
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(server.port)/v1/chat/completions")
        args.apiKey = "sk-secret-key-123456"
        args.headers = ["X-Trace": "abc"]
        args.stream = false
        let report = try Benchmark.run(args) { _ in }
        defer { try? FileManager.default.removeItem(atPath: args.outputsDir) }
        let head = try #require(server.requests.first)
        #expect(head.contains("Authorization: Bearer sk-secret-key-123456"))
        #expect(head.contains("X-Trace: abc"))
        #expect(head.hasPrefix("POST /v1/chat/completions HTTP/1.1"))
        let saved = try String(contentsOfFile: report.points[0].directory + "/benchmark_args.json", encoding: .utf8)
        #expect(!saved.contains("sk-secret-key-123456"))
        #expect(saved.contains("\"api_key\""))
    }

    // MARK: bad responses become failed rows with their reason

    @Test func http500IsAFailedRowWithStatusAndBody() throws {
        let body = Array(#"{"error":{"message":"model crashed","type":"server_error"}}"#.utf8)
        let out = try BenchmarkHarness.replay([.init(atMillis: 0, bytes: Array("HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)], number: 3)
        #expect(out.rows.count == 3)
        for r in out.rows {
            #expect(!r.success && r.outcome == "http_status")
            #expect(r.int("http_status") == 500)
            #expect(r.text("error")?.contains("model crashed") == true)
        }
        #expect((out.summaryJSON["Failures by kind"] as? [String: Int])?["http_status"] == 3)
    }

    /// The replay server keeps no connection open after its one response but does not say `Connection: close`:
    /// a request sent on the reused connection is lost before any response byte, and is sent again.
    @Test func requestLostOnAnIdleCloseIsResent() throws {
        let body = Array(#"{"choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#.utf8)
        let out = try BenchmarkHarness.replay([.init(atMillis: 0, bytes: Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)], number: 5) {
            $0.stream = false
        }
        #expect(out.rows.count == 5)
        let outcomes = out.rows.map(\.outcome)
        #expect(outcomes.allSatisfy { $0 == "ok" }, "\(outcomes)")
    }

    /// The same, when the server resets (RST) the connection after each response instead of closing it.
    @Test func requestLostOnAResetIsResent() throws {
        let body = Array(#"{"choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#.utf8)
        let server = try ReplayServer(steps: [.init(atMillis: 0, bytes: Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)])
        server.resetOnClose = true
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(server.port)/v1/chat/completions", parallel: 2, number: 30)
        args.stream = false
        let out = try BenchmarkHarness.run(args)
        #expect(out.rows.count == 30)
        let outcomes = out.rows.map(\.outcome)
        #expect(outcomes.allSatisfy { $0 == "ok" }, "\(outcomes)")
    }

    @Test func secondRunIntoTheSameFolderIsRefusedBeforeSending() throws {
        let c = try CaseFixtures.load("case-02")
        let server = try ReplayServer(steps: [.init(atMillis: 0, bytes: c.whole)])
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(server.port)/v1/chat/completions", number: 2)
        args.name = "same"
        defer { try? FileManager.default.removeItem(atPath: args.outputsDir) }
        let first = try Benchmark.run(args) { _ in }
        let log = try String(contentsOfFile: first.runDirectory + "/benchmark.log", encoding: .utf8)
        let sentBefore = server.requests.count
        let error = #expect(throws: FastPerfError.self) { try Benchmark.run(args) { _ in } }
        #expect(error?.message.contains("already exists") == true)
        #expect(server.requests.count == sentBefore, "no request is sent by a refused run")
        #expect(try String(contentsOfFile: first.runDirectory + "/benchmark.log", encoding: .utf8) == log)
    }

    @Test func twoHundredThatIsNotSSEIsAProtocolError() throws {
        let body = Array("<html>gateway login page</html>".utf8)
        let out = try BenchmarkHarness.replay([.init(atMillis: 0, bytes: Array("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)])
        let r = try #require(out.rows.first)
        #expect(!r.success && r.outcome == "protocol_error")
        #expect(r.int("http_status") == 200)
        #expect(r.text("error") != nil)
    }

    @Test func chunkedStreamCutMidwayIsReset() throws {
        let head = Array("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        let event = Array("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n".utf8)
        let chunk = Array((String(event.count, radix: 16) + "\r\n").utf8) + event + [13, 10]
        let out = try BenchmarkHarness.replay([.init(atMillis: 0, bytes: head + chunk)])
        let r = try #require(out.rows.first)
        #expect(!r.success && r.outcome == "reset")
        #expect(r.text("error")?.contains("closed") == true)
        #expect(r.responseMessages.count == 1)
    }

    /// A complete response followed, in the same write, by bytes the server should not have sent (a stray CRLF after
    /// the last chunk, as the fresh-clone attack found) is a success: the bytes are discarded and the connection
    /// is not reused (RFC 9112 §6.3). Before, the row failed as "unexpected data after the end".
    @Test func bytesAfterACompleteResponseAreDiscarded() throws {
        let head = Array("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        let events = Array(("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n").utf8)
        let chunk = Array((String(events.count, radix: 16) + "\r\n").utf8) + events + Array("\r\n0\r\n\r\n".utf8)
        for extra in ["\r\n", "HTTP/1.1 200 OK\r\n"] {
            let out = try BenchmarkHarness.replay([.init(atMillis: 0, bytes: head + chunk + Array(extra.utf8))], number: 2)
            BenchmarkHarness.expectAllSucceeded(out, rows: 2)
            #expect(out.rows.allSatisfy { $0.int("completion_tokens") == 1 && $0.responseMessages.count == 2 })
            #expect(Set(out.rows.compactMap { $0.int("connection_id") }).count == 2)
        }
    }

    /// An HTTP/1.1 response whose SSE body passes the cap fails as `protocol_error` with the cap in its
    /// error and its connection closed (a new one carries the next request). Under the cap every row succeeds.
    @Test func responseOverThePayloadCapFails() throws {
        let (server, port) = try BenchmarkHarness.mockServer(ttftMillis: 1, itlMillis: 1)
        defer { server.stop() }
        for (cap, fails) in [(2_000, true), (1 << 20, false)] {
            var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(port)/v1/chat/completions", parallel: 1, number: 3)
            args.maxTokens = 40
            args.maxStreamBodyBytes = cap
            let out = try BenchmarkHarness.run(args)
            if fails {
                BenchmarkHarness.expectAllOverThePayloadCap(out, rows: 3, cap: cap)
                #expect(Set(out.rows.compactMap { $0.int("connection_id") }).count == 3)
            } else {
                BenchmarkHarness.expectAllSucceeded(out, rows: 3)
                #expect(Set(out.rows.compactMap { $0.int("connection_id") }).count == 1)
            }
        }
    }

    /// The cap counts body bytes, once: events the SSE parser assembles from several `data` lines are also copied
    /// into the record, and a body of exactly the cap still succeeds (it once counted those copies too, and cut
    /// such a stream at about half the cap).
    @Test func theCapCountsTheBodyOnceWhateverTheEvents() throws {
        var body = ""
        for k in 0..<20 {  // each event's JSON over two data lines (LF joins them: JSON whitespace)
            body += "data: {\"choices\":[{\"index\":0,\ndata: \"delta\":{\"content\":\"t\(k)\"},\"finish_reason\":null}]}\n\n"
        }
        body += "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":20}}\n\ndata: [DONE]\n\n"
        let bytes = Array(body.utf8)
        let head = Array("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: \(bytes.count)\r\n\r\n".utf8)
        for (cap, fails) in [(bytes.count, false), (bytes.count - 1, true)] {
            let out = try BenchmarkHarness.replay([.init(atMillis: 0, bytes: head + bytes)], number: 1) { $0.maxStreamBodyBytes = cap }
            if fails {
                BenchmarkHarness.expectAllOverThePayloadCap(out, rows: 1, cap: cap)
            } else {
                BenchmarkHarness.expectAllSucceeded(out, rows: 1)
                #expect(out.rows.first?.int("completion_tokens") == 20)
            }
        }
    }

    @Test func malformedStatusLineIsAProtocolError() throws {
        let out = try BenchmarkHarness.replay([.init(atMillis: 0, bytes: Array("HTTX/1.1 200 OK\r\n\r\n".utf8))])
        let r = try #require(out.rows.first)
        #expect(r.outcome == "protocol_error")
        #expect(r.int("http_status") == nil)
    }

    @Test func readTimeoutEndsAStalledStream() throws {
        let c = try CaseFixtures.load("case-01")
        let blocks = BenchmarkHarness.blocks(c.body)
        // Head and one block, then silence for 3 s; --read-timeout 0.3 s.
        let out = try BenchmarkHarness.replay([.init(atMillis: 0, bytes: c.head + blocks[0]), .init(atMillis: 3000, bytes: blocks[1])]) {
            $0.readTimeout = 0.3
        }
        let r = try #require(out.rows.first)
        #expect(r.outcome == "timeout_idle")
        let elapsed = (r.double("completed_time")! - r.double("start_time")!)
        #expect(elapsed > 0.29 && elapsed < 1.5, "timed out after \(elapsed) s")
    }

    @Test func connectionRefusedMidRunBecomesRows() throws {
        // The server answers the pre-run probe, then each request with a response that closes the connection;
        // after it stops listening, the remaining requests fail to connect and still become rows.
        let c = try CaseFixtures.load("case-02")
        let server = try ReplayServer(steps: [.init(atMillis: 0, bytes: c.whole)])
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(server.port)/v1/chat/completions", number: 1)
        args.number = [4]
        server.stopAfter(connections: 3)  // the probe + 2 requests
        let out = try BenchmarkHarness.run(args)
        server.stop()
        #expect(out.rows.count == 4)
        #expect(out.rows.filter(\.success).count == 2)
        #expect(out.rows.filter { $0.outcome == "connect_failed" }.count == 2)
    }

    // MARK: bad input fails before the run, with one line

    @Test func unreachableURLFailsBeforeTheRun() throws {
        let args = BenchmarkHarness.arguments(url: "http://127.0.0.1:9/v1/chat/completions")
        let error = #expect(throws: FastPerfError.self) { try Benchmark.run(args) { _ in } }
        #expect(error?.message.contains("cannot connect to 127.0.0.1:9") == true)
        #expect(error?.message.contains("\n") == false)
        #expect(!FileManager.default.fileExists(atPath: args.outputsDir))
    }

    @Test func badArgumentsFailBeforeTheRun() throws {
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:9/v1/chat/completions")
        args.extraArgs = "{not json"
        #expect(throws: FastPerfError.self) { try Benchmark.run(args) { _ in } }
        args = BenchmarkHarness.arguments(url: "http://127.0.0.1:9/v1/chat/completions")
        args.prompt = nil
        args.dataset = "line_by_line"
        args.datasetPath = "/nonexistent/prompts.txt"
        let e = #expect(throws: FastPerfError.self) { try Benchmark.run(args) { _ in } }
        #expect(e?.message.contains("/nonexistent/prompts.txt") == true)
        args = BenchmarkHarness.arguments(url: "http://127.0.0.1:9/v1/chat/completions")
        args.parallel = [1, 2]
        #expect(throws: FastPerfError.self) { try Benchmark.run(args) { _ in } }
        args = BenchmarkHarness.arguments(url: "https://127.0.0.1:9/v1/chat/completions")
        #expect(throws: FastPerfError.self) { try Benchmark.run(args) { _ in } }
    }
}
