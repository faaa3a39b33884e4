import Foundation
import Testing
@testable import FastPerf

/// Every API plugin end to end (libuv loop, HTTP/1 and SSE parsers, ring, writer, plugin, SQLite): against
/// `fastperf serve` with exact delays, and replaying real-format responses — cases 12, 13, 16, 19 and 20 of
/// `../shared/cases/` and the `APIFixtures` — from a loopback server. Timings use generous tolerances: the
/// servers sleep on a shared 2-core machine.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct APIPluginLoopbackTests {
    /// Absolute tolerance for replay timelines, in ms.
    let tol = 25.0
    /// A 40-character prompt: the mock server counts 40 / 4 = 10 prompt tokens.
    static let prompt = "Explain TTFT to me in exactly one line.."

    // MARK: - against fastperf serve

    /// Runs `number` requests of `api` against an in-process `fastperf serve` (TTFT 30 ms, ITL 5 ms, 8 tokens
    /// per reply) at `path`.
    static func serve(api: String, path: String, number: Int = 6, configure: (inout RunArguments) -> Void = { _ in })
        throws -> BenchmarkHarness.Outcome
    {
        try BenchmarkHarness.withMockServer(ttftMillis: 30, itlMillis: 5) { port in
            var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(port)\(path)", parallel: 2, number: number)
            args.api = api
            args.prompt = prompt
            args.maxTokens = 8
            configure(&args)
            return try BenchmarkHarness.run(args)
        }
    }

    /// Checks a streamed run against the mock's timeline: 8 tokens, TTFT ≥ 30 ms, TPOT ≈ 5 ms, 7 ITL gaps.
    static func expectStreamTimeline(_ out: BenchmarkHarness.Outcome, promptTokens: Int = 10, events: Int) {
        #expect(out.rows.count == 6)
        for r in out.rows {
            #expect(r.success, "\(r.outcome) \(r.text("error") ?? "")")
            #expect(r.int("is_stream") == 1)
            #expect(r.int("prompt_tokens") == promptTokens)
            #expect(r.int("completion_tokens") == 8)
            #expect(r.itlMillis.count == 7)
            #expect(r.responseMessages.count == events)
            if let ttft = r.ttftMillis { #expect(ttft >= 29.5 && ttft < 80, "TTFT \(ttft) ms") }
        }
        let tpot = out.report.points[0].summary.avgTPOTMillis ?? 0
        #expect(abs(tpot - 5) <= 1.5, "avg TPOT \(tpot) ms")
        #expect(out.report.points[0].loopCloseStatus == 0)
    }

    /// The text of a row's events, read with `extract` (one event's JSON object → its text).
    static func text(_ row: BenchmarkHarness.Row, _ extract: ([String: Any]) -> String?) -> String {
        row.responseMessages.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
            .compactMap(extract).joined()
    }

    @Test func openAIChatAgainstServe() throws {
        let out = try Self.serve(api: "openai", path: "/v1/chat/completions")
        Self.expectStreamTimeline(out, events: 12)  // role, 8 tokens, finish, usage, [DONE]
    }

    @Test func anthropicAgainstServe() throws {
        let out = try Self.serve(api: "anthropic", path: "/v1/messages")
        // message_start, content_block_start, ping, 8 deltas, content_block_stop, message_delta, message_stop;
        // the mock answers 400 without anthropic-version, so success also shows the header was sent.
        Self.expectStreamTimeline(out, events: 14)
        let text = Self.text(out.rows[0]) { ($0["delta"] as? [String: Any])?["text"] as? String }
        #expect(text == "The quick brown fox jumps over the lazy")
    }

    @Test func dashScopeAgainstServe() throws {
        let out = try Self.serve(api: "dashscope", path: "")  // no path: the plugin's native endpoint
        #expect(out.report.url.hasSuffix("/api/v1/services/aigc/text-generation/generation"))
        Self.expectStreamTimeline(out, events: 9)  // 8 tokens, then finish_reason "stop"
        let text = Self.text(out.rows[0]) {
            (((($0["output"] as? [String: Any])?["choices"] as? [[String: Any]])?.first?["message"]) as? [String: Any])?["content"] as? String
        }
        #expect(text == "The quick brown fox jumps over the lazy")
    }

    @Test func dashScopeCumulativeOutputAgainstServe() throws {
        let out = try Self.serve(api: "dashscope", path: "/api/v1/services/aigc/text-generation/generation") {
            $0.extraArgs = #"{"incremental_output": false}"#
        }
        Self.expectStreamTimeline(out, events: 9)
        let last = try #require(out.rows[0].responseMessages.last)
        #expect(last.contains(#""content":"The quick brown fox jumps over the lazy""#))
    }

    @Test func responsesAgainstServe() throws {
        let out = try Self.serve(api: "responses", path: "/v1/responses")
        Self.expectStreamTimeline(out, events: 14)  // 3 opening events, 8 deltas, 3 closing events
        let text = Self.text(out.rows[0]) { $0["type"] as? String == "response.output_text.delta" ? $0["delta"] as? String : nil }
        #expect(text == "The quick brown fox jumps over the lazy")
    }

    /// Non-streamed replies: TTFT = latency ≥ 30 + 7 × 5 ms, the body's usage.
    @Test(arguments: [("anthropic", "/v1/messages"), ("openai_responses", "/v1/responses"), ("dashscope", ""), ("openai", "")])
    func nonStreamAgainstServe(_ api: String, _ path: String) throws {
        let out = try Self.serve(api: api, path: path) { $0.stream = false }
        for r in out.rows {
            #expect(r.success && r.int("is_stream") == 0, "\(r.outcome) \(r.text("error") ?? "")")
            #expect(r.int("prompt_tokens") == 10 && r.int("completion_tokens") == 8)
            #expect(r.ttftMillis == r.latencyMillis)
            #expect(r.latencyMillis! >= 64.5)
        }
    }

    @Test func embeddingAgainstServe() throws {
        let out = try Self.serve(api: "embedding", path: "/v1/embeddings")
        #expect(out.rows.count == 6)
        for r in out.rows {
            #expect(r.success, "\(r.outcome) \(r.text("error") ?? "")")
            #expect(r.int("is_stream") == 0)
            #expect(r.int("prompt_tokens") == 10 && r.int("completion_tokens") == 0)
            #expect(r.ttftMillis == r.latencyMillis)
            #expect(r.latencyMillis! >= 29.5 && r.latencyMillis! < 100, "latency \(r.latencyMillis!) ms")
        }
        #expect(out.summaryJSON["Output Throughput (tok/s)"] as? Double == 0)
    }

    @Test func rerankAgainstServe() throws {
        let out = try Self.serve(api: "openai_rerank", path: "/v1/rerank")
        for r in out.rows {
            #expect(r.success, "\(r.outcome) \(r.text("error") ?? "")")
            #expect(r.int("prompt_tokens") == 20 && r.int("completion_tokens") == 0)  // query + 1 document, 80 chars
            #expect(r.latencyMillis! >= 29.5)
        }
    }

    @Test func customTemplateAgainstServe() throws {
        let out = try Self.serve(api: "custom", path: "/v1/chat/completions")
        for r in out.rows {
            #expect(r.success, "\(r.outcome) \(r.text("error") ?? "")")
            #expect(r.int("completion_tokens") == 8 && r.int("prompt_tokens") == 10)
            #expect(r.itlMillis.count == 7)
        }
    }

    // MARK: - headers each API needs

    /// Runs one `api` request (`--api-key KEY`, `--url` = `url` on a replay server answering `response`) and
    /// returns the request head the server received.
    static func sentHead(api: String, urlPath: String, response: [UInt8]) throws -> String {
        let server = try ReplayServer(steps: [.init(atMillis: 0, bytes: response)])
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(server.port)" + urlPath)
        args.api = api
        args.apiKey = "sk-test-secret-123456"
        let out = try BenchmarkHarness.run(args)
        #expect(out.rows.first?.success == true, "\(out.rows.first?.text("error") ?? "")")
        return try #require(server.requests.last)
    }

    @Test func anthropicSendsItsHeadersToItsPath() throws {
        let head = try Self.sentHead(api: "anthropic", urlPath: "/v1", response: Array((APIFixtures.sseHead + (try APIFixtures.case13Success())).utf8))
        #expect(head.hasPrefix("POST /v1/messages HTTP/1.1"))
        #expect(head.contains("x-api-key: sk-test-secret-123456"))
        #expect(head.contains("anthropic-version: 2023-06-01"))
        #expect(!head.contains("Authorization"))
    }

    @Test func dashScopeAsksForSSE() throws {
        let head = try Self.sentHead(api: "dashscope", urlPath: "", response: try CaseFixtures.load("case-19").whole)
        #expect(head.hasPrefix("POST /api/v1/services/aigc/text-generation/generation HTTP/1.1"))
        #expect(head.contains("X-DashScope-SSE: enable"))
        #expect(head.contains("Authorization: Bearer sk-test-secret-123456"))
    }

    // MARK: - replayed cases

    /// Replays `head + body` with block k at `times[k]` ms through `api`.
    static func replay(_ head: String, _ body: String, times: [Double], api: String,
                       configure: (inout RunArguments) -> Void = { _ in }) throws -> BenchmarkHarness.Row {
        let blocks = BenchmarkHarness.blocks(Array(body.utf8))
        precondition(blocks.count == times.count, "\(blocks.count) blocks, \(times.count) times")
        let steps = [ReplayServer.Step(atMillis: 0, bytes: Array(head.utf8))] + zip(blocks, times).map { .init(atMillis: $1, bytes: $0) }
        let out = try BenchmarkHarness.replay(steps) {
            $0.api = api
            configure(&$0)
        }
        #expect(out.rows.count == 1)
        return try #require(out.rows.first)
    }

    @Test func case12InBandErrorReplayed() throws {
        let out = try BenchmarkHarness.replay(try BenchmarkHarness.caseSteps("case-12"))
        let r = try #require(out.rows.first)
        #expect(!r.success && r.outcome == "in_band_error")
        #expect(r.text("error") == "InternalServerError: engine failure (test fixture) (code 500)")
        #expect(r.int("completion_tokens") == nil && r.ttftMillis == nil)
        #expect(r.responseMessages.compactMap { CaseReplayTests.content(of: $0) }.joined() == "The answer")
    }

    @Test func case13AnthropicErrorReplayed() throws {
        let steps = try BenchmarkHarness.caseSteps("case-13")
        let out = try BenchmarkHarness.replay(steps) { $0.api = "anthropic" }
        let r = try #require(out.rows.first)
        #expect(!r.success && r.outcome == "in_band_error")
        #expect(r.text("error") == "overloaded_error: Overloaded")
        #expect(r.responseMessages.count == 6)
        let text = Self.text(r) { ($0["delta"] as? [String: Any])?["text"] as? String }
        #expect(text == "Hello wor")
    }

    @Test func case13AnthropicSuccessReplayed() throws {
        let r = try Self.replay(APIFixtures.sseHead, try APIFixtures.case13Success(), times: [10, 20, 30, 100, 130, 131, 132, 133],
                                api: "anthropic")
        #expect(r.success, "\(r.outcome) \(r.text("error") ?? "")")
        #expect(r.int("prompt_tokens") == 12 && r.int("completion_tokens") == 2)
        #expect(abs(r.ttftMillis! - 100) < tol, "TTFT \(r.ttftMillis!)")
        #expect(abs(r.latencyMillis! - 130) < tol)
        #expect(abs(r.tpotMillis! - 30) < tol)
        #expect(r.itlMillis.count == 1)
    }

    @Test(arguments: ["openai", "anthropic", "dashscope", "openai_embedding", "responses"])
    func case16RateLimitedReplayed(_ api: String) throws {
        let out = try BenchmarkHarness.replay(try BenchmarkHarness.caseSteps("case-16")) { $0.api = api }
        let r = try #require(out.rows.first)
        #expect(!r.success && r.outcome == "http_status")
        #expect(r.int("http_status") == 429)
        #expect(r.text("error")?.contains("rate_limit_error") == true, "\(r.text("error") ?? "")")
        #expect(r.ttftMillis == nil && r.latencyMillis == nil)
        #expect((out.summaryJSON["Failures by kind"] as? [String: Int])?["http_status"] == 1)
    }

    @Test func case19DashScopeReplayed() throws {
        let steps = try BenchmarkHarness.caseSteps("case-19", times: [100, 150, 180, 200])
        let out = try BenchmarkHarness.replay(steps) { $0.api = "dashscope" }
        let r = try #require(out.rows.first)
        #expect(r.success, "\(r.outcome) \(r.text("error") ?? "")")
        #expect(r.int("prompt_tokens") == 20 && r.int("completion_tokens") == 3)
        #expect(abs(r.ttftMillis! - 100) < tol, "TTFT \(r.ttftMillis!)")  // the reasoning event (id:1)
        #expect(abs(r.latencyMillis! - 180) < tol)
        #expect(r.itlMillis.count == 2)
        #expect(abs(r.tpotMillis! - 40) < tol)
        #expect(r.responseMessages.count == 4)
    }

    @Test func case19CumulativeVariantReplayed() throws {
        let r = try Self.replay(APIFixtures.sseHead, try APIFixtures.case19Cumulative(), times: [100, 150, 180, 200], api: "dashscope") {
            $0.extraArgs = #"{"incremental_output": false}"#
        }
        #expect(r.success, "\(r.outcome) \(r.text("error") ?? "")")
        #expect(r.int("completion_tokens") == 3)
        #expect(r.itlMillis.count == 2)  // id:4 repeats the text: not an output event
        #expect(abs(r.latencyMillis! - 180) < tol)
    }

    @Test func case20MultiTokenChunksReplayed() throws {
        let steps = try BenchmarkHarness.caseSteps("case-20", times: [50, 100, 120, 140, 160, 165, 166, 167])
        let out = try BenchmarkHarness.replay(steps)
        let r = try #require(out.rows.first)
        #expect(r.success)
        #expect(r.int("completion_tokens") == 9 && r.int("prompt_tokens") == 7)
        #expect(abs(r.ttftMillis! - 100) < tol)
        #expect(abs(r.latencyMillis! - 160) < tol)
        #expect(abs(r.tpotMillis! - 7.5) < 5)
        #expect(r.itlMillis.count == 3)
        #expect(r.responseMessages.compactMap { CaseReplayTests.content(of: $0) }.joined() == "A B C D E F G H I")
    }

    @Test func responsesStreamReplayed() throws {
        let r = try Self.replay(APIFixtures.sseHead, APIFixtures.responsesStream, times: [5, 6, 7, 8, 100, 120, 150, 151, 152, 153],
                                api: "openai_responses")
        #expect(r.success, "\(r.outcome) \(r.text("error") ?? "")")
        #expect(r.int("prompt_tokens") == 37 && r.int("completion_tokens") == 3)
        #expect(abs(r.ttftMillis! - 100) < tol)
        #expect(abs(r.latencyMillis! - 150) < tol)
        #expect(r.itlMillis.count == 2)
    }

    @Test func responsesFailedReplayed() throws {
        let r = try Self.replay(APIFixtures.sseHead, APIFixtures.responsesFailed, times: [5, 10, 15], api: "responses")
        #expect(!r.success && r.outcome == "in_band_error")
        #expect(r.text("error") == "The model failed to generate a response. (code server_error)")
    }

    @Test func embeddingsAndRerankReplayed() throws {
        let e = try Self.replay(APIFixtures.jsonHead(APIFixtures.embeddingsBody), APIFixtures.embeddingsBody, times: [60],
                                api: "openai_embedding")
        #expect(e.success && e.int("prompt_tokens") == 8 && e.int("completion_tokens") == 0)
        #expect(abs(e.latencyMillis! - 60) < tol)  // the end of the body, which came 60 ms after the head
        let r = try Self.replay(APIFixtures.jsonHead(APIFixtures.rerankBody), APIFixtures.rerankBody, times: [40], api: "rerank")
        #expect(r.success && r.int("prompt_tokens") == 26 && r.int("completion_tokens") == 0)
        #expect(abs(r.latencyMillis! - 40) < tol)
    }
}
