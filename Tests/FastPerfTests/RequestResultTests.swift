import Foundation
import Testing
@testable import FastPerf

/// Case files of `../shared/cases` judged by OpenAIPlugin + RequestResult, against the hand-computed values
/// of cases/README.md (ms timelines → ns).
@Suite struct RequestResultCaseTests {
    typealias L = WriterCaseLoader

    static func ms(_ x: Double) -> UInt64 { UInt64((x * 1_000_000).rounded()) }

    /// The record's `event_times` column as the writer stores it, read back as seconds.
    static func eventTimes(_ record: RequestRecord) -> [Double] {
        (try? JSONSerialization.jsonObject(with: Data(RowEncoding.eventTimes(record)))) as? [Double] ?? [-1]
    }

    @Test func case01RoleAndEmptyChunksBeforeFirstToken() throws {
        let record = try L.record(1, blockMillis: [5, 150, 180, 210, 240, 270, 275, 276, 277], endMillis: 277)
        let (parsed, r) = L.judge(record)
        #expect(parsed.outputEventIndices == [3, 4, 5])
        #expect(r.outcome == .ok)
        #expect(r.success)
        #expect(r.error == nil)
        #expect(r.generatedText == "I am fine")
        #expect(r.promptTokens == 12)
        #expect(r.completionTokens == 3)
        #expect(r.ttftNanos == Self.ms(210))
        #expect(r.latencyNanos == Self.ms(270))
        #expect(r.itlNanos == [Self.ms(30), Self.ms(30)])
        #expect(abs(r.tpotSeconds! - 0.030) < 1e-12)
        #expect(r.completedNanos == L.base + Self.ms(277))
        #expect(r.startNanos == L.base)
        #expect(r.httpStatus == 200)
        #expect(r.isStream)
        let times = Self.eventTimes(record)
        #expect(times.count == 9)
        #expect(abs(times[0] - 0.005) < 1e-12)
        #expect(abs(times[8] - 0.277) < 1e-12)
    }

    @Test func case02UsageInTrailingChunkWithoutChoices() throws {
        let record = try L.record(2, blockMillis: [10, 20, 30, 40, 50, 60])
        let (parsed, r) = L.judge(record)
        #expect(r.outcome == .ok)
        #expect(r.generatedText == "Hello!")
        #expect(r.promptTokens == 26)
        #expect(r.completionTokens == 2)
        #expect(parsed.outputEventIndices == [1, 2])
        // The usage chunk (50 ms) moves neither the latency nor the ITL.
        #expect(r.ttftNanos == Self.ms(20))
        #expect(r.latencyNanos == Self.ms(30))
        #expect(r.itlNanos == [Self.ms(10)])
        #expect(abs(r.tpotSeconds! - 0.010) < 1e-12)
    }

    @Test func case04DataWithoutSpace() throws {
        let (parsed, r) = L.judge(try L.record(4))
        #expect(r.outcome == .ok)
        #expect(parsed.sawTerminalMarker)
        #expect(r.generatedText == "Good morning")
        #expect(r.promptTokens == 8)
        #expect(r.completionTokens == 2)
        #expect(parsed.undecodableEvents == 0)
    }

    @Test func case06KeepAliveCommentsAreNotTokens() throws {
        let record = try L.record(6, blockMillis: [500, 1000, 1500, 1900, 2000, 2100, 2200, 2210, 2211], endMillis: 2211)
        let (_, r) = L.judge(record)
        #expect(r.outcome == .ok)
        #expect(r.generatedText == "Hi there")
        #expect(r.ttftNanos == Self.ms(2000))
        #expect(r.latencyNanos == Self.ms(2200))
        #expect(r.itlNanos == [Self.ms(200)])
        #expect(r.promptTokens == nil)
        #expect(r.completionTokens == nil)
        #expect(r.tpotSeconds == nil)
        // Only the five data events are events; comment blocks are not.
        let times = Self.eventTimes(record)
        #expect(times.count == 5)
        #expect(abs(times[0] - 1.9) < 1e-12)
    }

    @Test func case09MultiLineDataEvent() throws {
        let record = try L.record(9)
        #expect(record.events.count == 5)
        let (parsed, r) = L.judge(record)
        #expect(r.outcome == .ok)
        #expect(r.generatedText == "Hi there")
        #expect(parsed.outputEventIndices == [1, 2])
        #expect(parsed.undecodableEvents == 0)
    }

    @Test func case12ErrorObjectAfterTokensIsInBandError() throws {
        let (parsed, r) = L.judge(try L.record(12, blockMillis: [10, 20, 30, 40, 50]))
        #expect(parsed.sawTerminalMarker)  // [DONE] came, but the error wins
        #expect(r.outcome == .inBandError)
        #expect(!r.success)
        let error = try #require(r.error)
        #expect(error.contains("engine failure (test fixture)"))
        #expect(error.contains("InternalServerError"))
        #expect(error.contains("500"))
        #expect(r.generatedText == "The answer")
        #expect(r.ttftNanos == nil)
        #expect(r.latencyNanos == nil)
        #expect(r.itlNanos.isEmpty)
        #expect(r.completionTokens == nil)
        #expect(r.httpStatus == 200)
    }

    @Test func case15CloseMidStreamIsTruncated() throws {
        let (parsed, r) = L.judge(try L.record(15))
        #expect(!parsed.sawTerminalMarker)
        #expect(r.outcome == .truncated)
        #expect(r.error == "stream ended without a terminal marker")
        #expect(r.generatedText == "Once upon")
        #expect(r.ttftNanos == nil)
        #expect(r.tpotSeconds == nil)
    }

    @Test func case16RateLimitedNonStream() throws {
        let record = try L.record(16, blockMillis: [40])
        #expect(!record.isEventStream)
        let (_, r) = L.judge(record)
        #expect(r.outcome == .httpStatus)
        #expect(r.httpStatus == 429)
        let error = try #require(r.error)
        #expect(error.contains("rate_limit_error"))
        #expect(error.contains("Rate limit reached (test fixture)"))
        #expect(error.contains("rate_limit_exceeded"))
        #expect(r.ttftNanos == nil)
        #expect(r.latencyNanos == nil)
        #expect(r.isStream)  // failed: classified from the request body, which asked for a stream
    }

    @Test func case20MultiTokenChunksWithContinuousUsage() throws {
        let record = try L.record(20, blockMillis: [50, 100, 120, 140, 160, 165, 166, 167], endMillis: 167)
        let (_, r) = L.judge(record)
        #expect(r.outcome == .ok)
        #expect(r.generatedText == "A B C D E F G H I")
        #expect(r.completionTokens == 9)
        #expect(r.promptTokens == 7)
        #expect(r.ttftNanos == Self.ms(100))
        #expect(r.latencyNanos == Self.ms(160))
        #expect(r.itlNanos == [Self.ms(20), Self.ms(20), Self.ms(20)])
        #expect(abs(r.tpotSeconds! - 0.0075) < 1e-12)
    }

    @Test func case21NoOutputToken() throws {
        let (parsed, r) = L.judge(try L.record(21))
        #expect(parsed.sawTerminalMarker)
        #expect(parsed.outputEventIndices.isEmpty)
        #expect(r.outcome == .noOutput)
        #expect(r.error == "no output token")
        #expect(r.ttftNanos == nil)
        #expect(r.latencyNanos == nil)
        #expect(r.tpotSeconds == nil)
        #expect(r.completionTokens == nil)
    }
}

/// Hand-built records: non-stream bodies, transport failures, stream edge cases.
@Suite struct RequestResultRecordTests {
    typealias L = WriterCaseLoader

    static func nonStream(status: Int, body: String, endMillis: Double = 250) -> RequestRecord {
        var record = RequestRecord(requestIndex: 3, loopID: 1, connectionID: 9)
        record.intendedStartNanos = L.base - 5_000_000
        record.startNanos = L.base
        record.httpStatus = status
        record.payload = Array(body.utf8)
        record.bodyBytes = record.payload.count
        record.endNanos = L.nanos(endMillis)
        return record
    }

    static func stream(_ events: [(String, Double)], names: [String] = []) -> RequestRecord {
        var record = RequestRecord(requestIndex: 0, loopID: 0, connectionID: 0)
        record.startNanos = L.base
        record.intendedStartNanos = L.base
        record.httpStatus = 200
        record.isEventStream = true
        for (i, (data, ms)) in events.enumerated() {
            L.appendEvent(&record, data: data, name: i < names.count ? names[i] : "", at: L.nanos(ms))
        }
        record.endNanos = L.nanos((events.last?.1 ?? 0) + 1)
        return record
    }

    @Test func nonStreamJSONSuccess() {
        let body = #"{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Bonjour à tous"},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":4,"total_tokens":15}}"#
        let record = Self.nonStream(status: 200, body: body)
        let (parsed, r) = L.judge(record, stream: false)
        #expect(parsed.sawTerminalMarker)
        #expect(r.outcome == .ok)
        #expect(r.generatedText == "Bonjour à tous")
        #expect(r.promptTokens == 11)
        #expect(r.completionTokens == 4)
        #expect(r.ttftNanos == 250_000_000)
        #expect(r.latencyNanos == 250_000_000)
        #expect(r.itlNanos.isEmpty)
        #expect(r.tpotSeconds == nil)
        #expect(!r.isStream)
        #expect(r.intendedStartNanos == L.base - 5_000_000)
        #expect(r.loopID == 1)
        #expect(r.connectionID == 9)
        #expect(r.requestIndex == 3)
        #expect(RequestResultCaseTests.eventTimes(record).isEmpty)
    }

    @Test func nonStreamToolCallOnlyIsOutput() {
        let body = #"{"choices":[{"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":7}}"#
        let (parsed, r) = L.judge(Self.nonStream(status: 200, body: body), stream: false)
        #expect(parsed.toolCallCount == 1)
        #expect(r.outcome == .ok)
        #expect(r.completionTokens == 7)
    }

    @Test func nonStreamCompletionsTextAndEmptyOutput() {
        let ok = #"{"choices":[{"text":"42","index":0,"finish_reason":"length"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#
        #expect(L.judge(Self.nonStream(status: 200, body: ok), stream: false).1.generatedText == "42")
        let empty = #"{"choices":[{"message":{"role":"assistant","content":""},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":0}}"#
        let r = L.judge(Self.nonStream(status: 200, body: empty), stream: false).1
        #expect(r.outcome == .noOutput)
        #expect(r.latencyNanos == nil)
    }

    @Test func nonStreamNon2xxPlainText() {
        let text = String(repeating: "x", count: 300)
        let r = L.judge(Self.nonStream(status: 502, body: text), stream: false).1
        #expect(r.outcome == .httpStatus)
        #expect(r.httpStatus == 502)
        #expect(r.error!.hasPrefix(String(repeating: "x", count: 200)))
        #expect(!r.error!.hasPrefix(String(repeating: "x", count: 201)))
        let empty = L.judge(Self.nonStream(status: 503, body: ""), stream: false).1
        #expect(empty.error == "HTTP 503")
        let vllm = L.judge(Self.nonStream(status: 400, body: #"{"object":"error","message":"max_tokens too large","type":"BadRequestError","code":400}"#), stream: false).1
        #expect(vllm.error == "max_tokens too large")
    }

    @Test func nonStream200NotJSONIsProtocolError() {
        let r = L.judge(Self.nonStream(status: 200, body: "<html>hello</html>"), stream: false).1
        #expect(r.outcome == .protocolError)
        #expect(r.error!.contains("not SSE"))
        #expect(r.error!.contains("<html>"))
        #expect(r.ttftNanos == nil)
        let noChoices = L.judge(Self.nonStream(status: 200, body: #"{"id":"x"}"#), stream: false).1
        #expect(noChoices.outcome == .protocolError)
        let errorBody = L.judge(Self.nonStream(status: 200, body: #"{"error":"quota exhausted"}"#), stream: false).1
        #expect(errorBody.outcome == .inBandError)
        #expect(errorBody.error == "quota exhausted")
    }

    @Test(arguments: [
        (TransportOutcome.connectFailed, RequestResult.Outcome.connectFailed, "connect_failed"),
        (.reset, .reset, "reset"),
        (.timeoutConnect, .timeoutConnect, "timeout_connect"),
        (.timeoutIdle, .timeoutIdle, "timeout_idle"),
        (.timeoutTotal, .timeoutTotal, "timeout_total"),
        (.protocolError, .protocolError, "protocol_error"),
    ])
    func transportFailuresMapToTheirOutcome(transport: TransportOutcome, outcome: RequestResult.Outcome, raw: String) {
        var record = Self.stream([(#"{"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":"stop"}]}"#, 10), ("[DONE]", 11)])
        record.transport = transport
        record.error = "ECONNRESET: connection reset by peer"
        let r = L.judge(record).1
        #expect(r.outcome == outcome)
        #expect(r.outcome.rawValue == raw)
        #expect(!r.success)
        #expect(r.error == "ECONNRESET: connection reset by peer")
        #expect(r.ttftNanos == nil)
        #expect(r.itlNanos.isEmpty)

        var unsent = RequestRecord(requestIndex: 1, loopID: 0, connectionID: 0)
        unsent.transport = transport
        let u = L.judge(unsent).1
        #expect(u.outcome == outcome)
        #expect(u.httpStatus == nil)
        #expect(u.error != nil)
    }

    @Test func finishReasonOnEveryChoiceIsTerminalWithoutDone() {
        let two = Self.stream([
            (#"{"choices":[{"index":0,"delta":{"content":"a"}},{"index":1,"delta":{"content":"b"}}]}"#, 10),
            (#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#, 20),
        ])
        #expect(L.judge(two).1.outcome == .truncated)  // choice 1 never finished
        let done = Self.stream([
            (#"{"choices":[{"index":0,"delta":{"content":"a"}},{"index":1,"delta":{"content":"b"}}]}"#, 10),
            (#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#, 20),
            (#"{"choices":[{"index":1,"delta":{},"finish_reason":"length"}],"usage":{"prompt_tokens":4,"completion_tokens":2}}"#, 30),
        ])
        let r = L.judge(done).1
        #expect(r.outcome == .ok)
        #expect(r.generatedText == "ab")
        #expect(r.latencyNanos == 10_000_000)
        #expect(r.tpotSeconds == 0)  // one output event, two tokens: (10 − 10) ms / 1
    }

    @Test func reasoningToolCallsAndCompletionsTextAreOutput() {
        let record = Self.stream([
            (#"{"choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"think"}}]}"#, 10),
            (#"{"choices":[{"index":0,"delta":{"reasoning":" more"}}]}"#, 15),
            (#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f"}}]}}]}"#, 25),
            (#"{"choices":[{"index":0,"delta":{"tool_calls":[]}}]}"#, 30),
            (#"{"choices":[{"index":0,"text":"t"}]}"#, 40),
            (#"{"choices":[{"index":0,"delta":{"content":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":2,"completion_tokens":5}}"#, 50),
            ("[DONE]", 51),
        ])
        let (parsed, r) = L.judge(record)
        #expect(parsed.outputEventIndices == [0, 1, 2, 4])
        #expect(parsed.reasoningText == "think more")
        #expect(parsed.generatedText == "t")
        #expect(parsed.toolCallCount == 1)
        #expect(r.outcome == .ok)
        #expect(r.itlNanos == [5_000_000, 10_000_000, 15_000_000])
        #expect(abs(r.tpotSeconds! - 0.030 / 4) < 1e-12)
    }

    @Test func usageLastObjectWinsAndUndecodableEventsAreCounted() {
        let record = Self.stream([
            (#"{"choices":[{"index":0,"delta":{"content":"x"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#, 10),
            ("not json", 11),
            (#"{"choices":[{"index":0,"delta":{"content":"y"}}],"usage":null}"#, 12),
            (#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#, 13),
            (" [DONE] ", 14),
        ])
        let (parsed, r) = L.judge(record)
        #expect(parsed.undecodableEvents == 1)
        #expect(parsed.completionTokens == 2)
        #expect(parsed.promptTokens == 3)
        #expect(r.outcome == .ok)
    }

    @Test func errorFormsInStream() {
        let named = Self.stream([
            (#"{"choices":[{"index":0,"delta":{"content":"x"}}]}"#, 10),
            (#"{"message":"overloaded"}"#, 11),
        ], names: ["", "error"])
        let r = L.judge(named).1
        #expect(r.outcome == .inBandError)
        #expect(r.error == "overloaded")

        let string = Self.stream([(#"{"error":"bad things"}"#, 5), ("[DONE]", 6)])
        #expect(L.judge(string).1.error == "bad things")

        let nullError = Self.stream([
            (#"{"error":null,"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}"#, 5),
        ])
        #expect(L.judge(nullError).1.outcome == .ok)
    }

    @Test func completionTokensZeroIsNoOutputEvenWithText() {
        let record = Self.stream([
            (#"{"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":0}}"#, 5),
            ("[DONE]", 6),
        ])
        #expect(L.judge(record).1.outcome == .noOutput)
    }

    @Test func nonStreamResponseToAStreamRequestUsesNonStreamTiming() {
        let body = #"{"choices":[{"message":{"content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#
        let r = L.judge(Self.nonStream(status: 200, body: body, endMillis: 80), stream: true).1
        #expect(r.outcome == .ok)
        #expect(!r.isStream)
        #expect(r.ttftNanos == 80_000_000)
    }
}
