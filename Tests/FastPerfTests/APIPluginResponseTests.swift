import Foundation
import Testing
@testable @_spi(Benchmarks) import FastPerf

/// The response side of every API plugin on the writer thread, fed by `../shared/cases/` (case-13 Anthropic,
/// case-19 DashScope, with the variants their READMEs describe) and documented-format fixtures
/// (`APIFixtures`), with hand-computed timelines: block k arrives at the listed ms after the start.
@Suite struct APIPluginResponseTests {
    typealias L = WriterCaseLoader

    /// `ms` milliseconds in ns.
    static func ms(_ ms: Double) -> UInt64 { UInt64((ms * 1_000_000).rounded()) }

    /// The request `plugin` renders for a one-prompt item with the default flags (plus `configure`).
    static func request(_ plugin: any APIPlugin, configure: (inout RunArguments) -> Void = { _ in }) throws -> APIRequest {
        var a = RunArguments()
        configure(&a)
        return try plugin.buildRequest(.prompt("hello"), arguments: a, path: plugin.defaultPath)
    }

    /// Parses `record` with `plugin` (through `PluginCall`, as the writer does) and judges it.
    static func judge(_ record: RequestRecord, _ plugin: any APIPlugin, request: APIRequest? = nil) throws
        -> (ParsedResponse, RequestResult)
    {
        let request = try request ?? Self.request(plugin)
        let parsed = PluginCall.parse(plugin, record: record, request: request)
        return (parsed, RequestResult.make(record: record, parsed: parsed, isStreamRequest: request.isStream))
    }

    /// The judged non-streamed JSON `body` (200), complete `ms` after the start, read by `plugin`.
    static func nonStream(_ plugin: any APIPlugin, _ body: String, ms: Double) throws -> RequestResult {
        let request = try Self.request(plugin) { $0.stream = false }
        return try Self.judge(try Self.record(APIFixtures.jsonHead(body), body, times: [ms - 1]), plugin, request: request).1
    }

    /// A record of `head + body` with block times `times` (ms).
    static func record(_ head: String, _ body: String, times: [Double] = []) throws -> RequestRecord {
        try L.record(raw: Array((head + body).utf8), label: "fixture", blockMillis: times)
    }

    // MARK: - Anthropic (case-13)

    @Test func case13AnthropicErrorEventMidStream() throws {
        let record = try L.record(13, blockMillis: [10, 20, 30, 40, 50, 60])
        #expect(record.events.count == 6)
        let (parsed, r) = try Self.judge(record, AnthropicPlugin())
        #expect(r.outcome == .inBandError)
        #expect(r.error == "overloaded_error: Overloaded")
        #expect(r.generatedText == "Hello wor")
        #expect(parsed.outputEventIndices == [3, 4])  // the ping (block 2) is not a token
        #expect(parsed.promptTokens == 12)
        #expect(!parsed.sawTerminalMarker)
        #expect(r.ttftNanos == nil && r.latencyNanos == nil && r.completionTokens == nil)
    }

    @Test func case13AnthropicSuccessVariant() throws {
        let record = try Self.record(APIFixtures.sseHead, try APIFixtures.case13Success(), times: [10, 20, 30, 40, 55, 56, 57, 58])
        let (parsed, r) = try Self.judge(record, AnthropicPlugin())
        #expect(r.outcome == .ok, "\(r.error ?? "")")
        #expect(r.generatedText == "Hello wor")
        #expect(r.promptTokens == 12)
        #expect(r.completionTokens == 2)  // message_delta's running total, not 1 + 2
        #expect(parsed.sawTerminalMarker)  // message_stop, no [DONE]
        #expect(r.ttftNanos == Self.ms(40))
        #expect(r.latencyNanos == Self.ms(55))
        #expect(r.itlNanos == [Self.ms(15)])
        #expect(abs(r.tpotSeconds! - 0.015) < 1e-12)
        #expect(r.completedNanos == L.base + Self.ms(59))
    }

    @Test func case13WithoutMessageStopIsTruncated() throws {
        let body = APIFixtures.blocks(try APIFixtures.case13Success()).dropLast().joined()
        let (_, r) = try Self.judge(try Self.record(APIFixtures.sseHead, body), AnthropicPlugin())
        #expect(r.outcome == .truncated)
    }

    @Test func anthropicNonStreamBody() throws {
        let r = try Self.nonStream(AnthropicPlugin(), APIFixtures.anthropicBody, ms: 301)
        #expect(r.outcome == .ok)
        #expect(r.generatedText == "Hi! My name is Claude.")
        #expect(r.promptTokens == 2095 && r.completionTokens == 503)
        #expect(r.ttftNanos == r.latencyNanos)
        #expect(r.latencyNanos == Self.ms(301))
    }

    @Test func lenientFieldsSurviveUnexpectedTypes() throws {
        // `code` as a number, `usage.output_tokens` as a string, `finish_reason` null: those fields read as nil,
        // the rest of the object still decodes.
        let body = #"{"output":{"choices":[{"message":{"content":"ok","role":"assistant"},"finish_reason":"stop"}]},"usage":{"input_tokens":5,"output_tokens":"7"},"code":500,"extra":[1,2]}"#
        let r = try Self.nonStream(DashScopePlugin(), body, ms: 10)
        #expect(r.outcome == .ok)
        #expect(r.generatedText == "ok")
        #expect(r.promptTokens == 5 && r.completionTokens == nil)
    }

    @Test func anthropicCacheTokensCountAsPrompt() throws {
        let body = "event: message_start\ndata: "
            + #"{"type":"message_start","message":{"usage":{"input_tokens":5,"cache_creation_input_tokens":100,"cache_read_input_tokens":20,"output_tokens":1}}}"#
            + "\n\nevent: content_block_delta\ndata: " + #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me think"}}"#
            + "\n\nevent: content_block_delta\ndata: " + #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Yes"}}"#
            + "\n\nevent: message_delta\ndata: " + #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":7}}"#
            + "\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
        let (parsed, r) = try Self.judge(try Self.record(APIFixtures.sseHead, body), AnthropicPlugin())
        #expect(r.outcome == .ok)
        #expect(r.promptTokens == 125)
        #expect(r.completionTokens == 7)
        #expect(r.reasoningText == "Let me think" && r.generatedText == "Yes")
        #expect(parsed.outputEventIndices == [1, 2])
    }

    // MARK: - DashScope (case-19)

    @Test func case19DashScopeIncremental() throws {
        let record = try L.record(19, blockMillis: [100, 150, 180, 200])
        #expect(record.events.count == 4)
        let (parsed, r) = try Self.judge(record, DashScopePlugin())
        #expect(r.outcome == .ok, "\(r.error ?? "")")
        #expect(r.generatedText == "Hello!")
        #expect(r.reasoningText == "Hmm")
        #expect(r.promptTokens == 20)
        #expect(r.completionTokens == 3)  // the last cumulative usage, not 1 + 2 + 3 + 3 = 9
        #expect(parsed.reasoningTokens == 1)
        #expect(parsed.outputEventIndices == [0, 1, 2])  // TTFT at id:1 (reasoning), first content at id:2
        #expect(r.ttftNanos == Self.ms(100))
        #expect(r.latencyNanos == Self.ms(180))
        #expect(r.itlNanos == [Self.ms(50), Self.ms(30)])
        #expect(abs(r.tpotSeconds! - 0.040) < 1e-12)
        #expect(r.completedNanos == L.base + Self.ms(201))  // close after "stop" is the normal end
    }

    @Test func case19NullStringIsNotAFinish() throws {
        let record = try L.record(19, blockMillis: [100, 150, 180, 200])
        var cut = record
        cut.events.removeLast()
        let (parsed, r) = try Self.judge(cut, DashScopePlugin())
        #expect(!parsed.sawTerminalMarker)
        #expect(r.outcome == .truncated)
    }

    @Test func case19CumulativeOutputIsReplacedNotAppended() throws {
        let record = try Self.record(APIFixtures.sseHead, try APIFixtures.case19Cumulative(), times: [100, 150, 180, 200])
        let cumulative = try Self.request(DashScopePlugin()) { $0.extraArgs = #"{"incremental_output": false}"# }
        #expect(!DashScopePlugin.isIncremental(cumulative))
        let (parsed, r) = try Self.judge(record, DashScopePlugin(), request: cumulative)
        #expect(r.outcome == .ok)
        #expect(r.generatedText == "Hello!")  // not "HelloHello!Hello!"
        #expect(r.reasoningText == "Hmm")
        #expect(r.completionTokens == 3)
        #expect(parsed.outputEventIndices == [0, 1, 2])  // id:4 repeats the text: no new output
        #expect(r.latencyNanos == Self.ms(180))
        // The same events read as incremental output would be appended: the request decides.
        let (_, appended) = try Self.judge(record, DashScopePlugin())
        #expect(appended.generatedText == "HelloHello!Hello!")
    }

    @Test func dashScopeErrorEventAndErrorBody() throws {
        let body = "id:1\nevent:result\n:HTTP_STATUS/200\ndata:"
            + #"{"output":{"choices":[{"message":{"content":"Hi","role":"assistant"},"finish_reason":"null"}]},"usage":{"input_tokens":4,"output_tokens":1}}"#
            + "\n\nid:2\nevent:error\n:HTTP_STATUS/500\ndata:" + #"{"code":"InternalError","message":"boom","request_id":"x"}"# + "\n\n"
        let (_, r) = try Self.judge(try Self.record(APIFixtures.sseHead, body), DashScopePlugin())
        #expect(r.outcome == .inBandError)
        #expect(r.error == "InternalError: boom")
        #expect(r.generatedText == "Hi")

        let error = APIFixtures.dashScopeError
        let (_, e) = try Self.judge(try Self.record(APIFixtures.jsonHead(error, status: "400 Bad Request"), error), DashScopePlugin())
        #expect(e.outcome == .httpStatus && e.httpStatus == 400)
        #expect(e.error == "InvalidParameter: Range of input length should be [1, 30720]")
    }

    @Test func dashScopeNonStreamBody() throws {
        let r = try Self.nonStream(DashScopePlugin(), APIFixtures.dashScopeBody, ms: 81)
        #expect(r.outcome == .ok)
        #expect(r.generatedText == "I am Qwen, a large language model.")
        #expect(r.promptTokens == 22 && r.completionTokens == 9)
        #expect(r.latencyNanos == Self.ms(81) && r.ttftNanos == Self.ms(81))
    }

    // MARK: - Responses API

    @Test func responsesStream() throws {
        let record = try Self.record(APIFixtures.sseHead, APIFixtures.responsesStream, times: [5, 6, 7, 8, 100, 120, 150, 151, 152, 153])
        #expect(record.events.count == 10)
        let (parsed, r) = try Self.judge(record, OpenAIResponsesPlugin())
        #expect(r.outcome == .ok, "\(r.error ?? "")")
        #expect(r.generatedText == "Hi there!")
        #expect(parsed.outputEventIndices == [4, 5, 6])
        #expect(r.promptTokens == 37 && r.completionTokens == 3)
        #expect(r.ttftNanos == Self.ms(100))
        #expect(r.latencyNanos == Self.ms(150))  // response.completed (153) does not move it
        #expect(r.itlNanos == [Self.ms(20), Self.ms(30)])
        #expect(abs(r.tpotSeconds! - 0.025) < 1e-12)
    }

    @Test func responsesFailedIsInBandError() throws {
        let (_, r) = try Self.judge(try Self.record(APIFixtures.sseHead, APIFixtures.responsesFailed), OpenAIResponsesPlugin())
        #expect(r.outcome == .inBandError)
        #expect(r.error == "The model failed to generate a response. (code server_error)")
        #expect(r.generatedText == "Hi")
    }

    @Test func responsesStreamWithoutCompletedIsTruncated() throws {
        let body = APIFixtures.blocks(APIFixtures.responsesStream).dropLast().joined()
        let (_, r) = try Self.judge(try Self.record(APIFixtures.sseHead, body), OpenAIResponsesPlugin())
        #expect(r.outcome == .truncated)
    }

    @Test func responsesNonStreamBody() throws {
        let r = try Self.nonStream(OpenAIResponsesPlugin(), APIFixtures.responsesBody, ms: 701)
        #expect(r.outcome == .ok)
        #expect(r.generatedText == "The image depicts a scenic landscape.")
        #expect(r.promptTokens == 328 && r.completionTokens == 52)
        #expect(r.latencyNanos == Self.ms(701))
    }

    // MARK: - Embeddings and rerank

    @Test func embeddingsBody() throws {
        let body = APIFixtures.embeddingsBody
        let (parsed, r) = try Self.judge(try Self.record(APIFixtures.jsonHead(body), body, times: [40]), OpenAIEmbeddingPlugin())
        #expect(r.outcome == .ok)
        #expect(!parsed.expectsOutput)
        #expect(r.promptTokens == 8 && r.completionTokens == 0)
        #expect(r.latencyNanos == Self.ms(41) && r.ttftNanos == Self.ms(41))  // to the end of the body
        #expect(!r.isStream)
    }

    @Test func rerankBodies() throws {
        let body = APIFixtures.rerankBody
        let (_, r) = try Self.judge(try Self.record(APIFixtures.jsonHead(body), body), OpenAIRerankPlugin())
        #expect(r.outcome == .ok)
        #expect(r.promptTokens == 26 && r.completionTokens == 0)  // usage.total_tokens when prompt_tokens is absent

        let tei = APIFixtures.teiRerankBody
        let (_, t) = try Self.judge(try Self.record(APIFixtures.jsonHead(tei), tei), OpenAIRerankPlugin())
        #expect(t.outcome == .ok)
        #expect(t.promptTokens == nil)

        let empty = #"{"results":[]}"#
        let (_, e) = try Self.judge(try Self.record(APIFixtures.jsonHead(empty), empty), OpenAIRerankPlugin())
        #expect(e.outcome == .protocolError)
        #expect(e.error?.hasPrefix("JSON response has no non-empty \"results\" array") == true)
    }

    @Test func poolingErrors() throws {
        let error = #"{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","code":null}}"#
        let (_, r) = try Self.judge(try Self.record(APIFixtures.jsonHead(error, status: "400 Bad Request"), error), OpenAIEmbeddingPlugin())
        #expect(r.outcome == .httpStatus && r.httpStatus == 400)
        #expect(r.error == "invalid_request_error: This model's maximum context length is 8192 tokens")

        let text = "upstream connect error"
        let (_, p) = try Self.judge(try Self.record(APIFixtures.jsonHead(text), text), OpenAIEmbeddingPlugin())
        #expect(p.outcome == .protocolError)
        #expect(p.error == "response is not SSE and not a JSON object: upstream connect error")
    }

    // MARK: - custom (the template) and plugin failures

    @Test func customTemplateReadsOpenAIStream() throws {
        let (parsed, r) = try Self.judge(try L.record(2), CustomAPIPlugin())
        #expect(r.outcome == .ok)
        #expect(r.generatedText == "Hello!")
        #expect(r.promptTokens == 26 && r.completionTokens == 2)
        #expect(parsed.outputEventIndices == [1, 2])
    }

    @Test func pluginThatThrowsGivesAFailedRowWithTheMessage() throws {
        // The custom template throws on a 2xx body that is not JSON.
        let text = "<html>gateway</html>"
        let record = try Self.record(APIFixtures.jsonHead(text), text)
        let request = try Self.request(CustomAPIPlugin()) { $0.stream = false }
        let (_, r) = try Self.judge(record, CustomAPIPlugin(), request: request)
        #expect(r.outcome == .protocolError)
        #expect(r.error?.hasPrefix("API plugin CustomAPIPlugin could not read the response: ") == true)
        #expect(r.error?.contains("\n") == false)
    }

    /// A server's ill-formed UTF-8 inside a text: the chunk or the body is read after Swift's repair, its usage kept
    /// and its text with U+FFFD. `JSONDecoder` alone refused the whole chunk or body: no_output, usage lost.
    @Test func illFormedUTF8InATextKeepsTheChunkAndTheBody() throws {
        let plugin = OpenAIPlugin()
        var sse = Array(#"data: {"choices":[{"index":0,"delta":{"content":"abc"#.utf8) + [0xFF]
            + Array(#""},"finish_reason":null}]}"#.utf8) + Array("\n\n".utf8)
        sse += Array(#"data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":12}}"#.utf8)
            + Array("\n\ndata: [DONE]\n\n".utf8)
        let (parsed, result) = try Self.judge(makeStreamRecord(sseBody: sse), plugin)
        #expect(result.success && result.promptTokens == 5 && result.completionTokens == 12, "\(result.outcome)")
        #expect(parsed.generatedText == "abc\u{FFFD}" && parsed.undecodableEvents == 0)

        let body = Array(#"{"choices":[{"index":0,"message":{"role":"assistant","content":"x"#.utf8) + [0xE2, 0x82]
            + Array(#" y"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":3}}"#.utf8)
        var record = RequestRecord(requestIndex: 0, loopID: 0, connectionID: 1)
        record.httpStatus = 200
        record.startNanos = 1_000_000_000
        record.intendedStartNanos = record.startNanos
        record.headNanos = record.startNanos + 1_000_000
        record.endNanos = record.startNanos + 2_000_000
        record.payload = body
        record.bodyBytes = body.count
        let request = try Self.request(plugin) { $0.stream = false }
        let (bodyParsed, bodyResult) = try Self.judge(record, plugin, request: request)
        #expect(bodyResult.success && bodyResult.completionTokens == 3, "\(bodyResult.outcome)")
        #expect(bodyParsed.generatedText == "x\u{FFFD} y")
    }
}
