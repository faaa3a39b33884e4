import Foundation

/// The `openai` API plugin: OpenAI-compatible `/v1/chat/completions` and `/v1/completions`
/// (vLLM, SGLang, TGI, llama.cpp, OpenRouter, …), evalscope's `OpenaiPlugin`.
///
/// Request side (EVALSCOPE-PERF §2.4): renders one JSON body per dataset item before the run.
/// Response side (DESIGN §3, EVALSCOPE-PERF §2.5): finds output-bearing SSE events, the last
/// `usage` object, the terminal marker and in-band errors, on the writer thread.
public struct OpenAIPlugin: APIPlugin {
    /// Creates the plugin; it has no state.
    public init() {}

    /// `/v1/chat/completions`: the path used when `--url` names only a host.
    public var defaultPath: String { "/v1/chat/completions" }

    // MARK: - Requests

    /// Whether `path` selects the legacy completions API (`prompt` instead of `messages`): it ends with
    /// `/completions` but not `chat/completions` (a query string is ignored).
    public static func isCompletionsPath(_ path: String) -> Bool {
        let bare = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? path
        return bare.hasSuffix("/completions") && !bare.hasSuffix("chat/completions")
    }

    /// Renders `item` into a compact UTF-8 JSON body (non-ASCII and `/` not escaped, keys sorted).
    ///
    /// - `.messages` → `messages` (chat) or `prompt` = the contents joined with `"\n"` (completions path).
    /// - `.prompt(s)` → `messages: [{"role":"user","content":s}]` (chat) or `prompt: s` (completions).
    /// - `.body(json)` → that object is the body; flag values below only fill keys it lacks.
    /// - `.withMaxTokens(item, n)` → `item`, with `max_tokens` = n whatever the flags say.
    ///
    /// Then the flags: `model`, `max_tokens`, `min_tokens`, `temperature`, `top_p`, `top_k`, `seed`, `stop`
    /// (each only when set), `stream` (always), then `--extra-args` merged last (overriding), and finally
    /// `stream_options: {"include_usage": true}` when the final body streams and has no `stream_options`.
    /// `isStream` is the final body's `stream`.
    /// - Throws: `FastPerfError` when `--extra-args` or a body item is not a JSON object.
    public func buildRequest(_ item: DatasetItem, arguments: RunArguments, path: String) throws -> APIRequest {
        let completions = Self.isCompletionsPath(path)
        var body = try RequestBody(item: item) { base in
            if completions { return ["prompt": base.promptText ?? ""] }
            return ["messages": RequestBody.messagesJSON(base.messages ?? [])]
        }
        body.set([.model, .maxTokens("max_tokens"), .minTokens, .temperature, .topP, .topK, .seed, .stop("stop"), .stream],
                 from: arguments)
        try body.mergeExtraArgs(arguments)

        let isStream = body.streams
        if isStream && body.object["stream_options"] == nil {
            body.object["stream_options"] = ["include_usage": true]
        }
        return APIRequest(headers: [], body: try body.encoded(), isStream: isStream)
    }

    // MARK: - Responses

    /// Reads one finished response (writer thread). Streamed when `record.isEventStream`.
    ///
    /// Stream: per SSE event, `[DONE]` is the terminal marker; other data is decoded as JSON (failures
    /// counted in `undecodableEvents`); a top-level `error` (or an `event: error`) sets `errorMessage`
    /// (the first one wins); an event is output-bearing when any choice's `delta` has non-empty `content`,
    /// `reasoning_content`/`reasoning`, a non-empty `tool_calls`, or a non-empty `text` (completions);
    /// `usage` fields are taken from the last usage object (never summed); every choice index seen having
    /// a `finish_reason` is also a terminal marker.
    /// Non-stream: `payload` is the JSON body (`choices[].message` or `choices[].text`, `usage`, `error`);
    /// a 2xx body with choices is the terminal marker; a 2xx body that is not JSON sets `malformed`;
    /// a non-2xx body sets `errorMessage` (its `error` object, or its first 200 bytes of text).
    public func parseResponses(_ record: RequestRecord, request: APIRequest) -> ParsedResponse {
        if record.isEventStream {
            return parseStream(record)
        }
        return parseBody(record)
    }

    private func parseStream(_ record: RequestRecord) -> ParsedResponse {
        var parsed = ParsedResponse()
        let decoder = JSONDecoder()
        var sawDone = false
        // Choice index → whether that choice has carried a non-null finish_reason.
        var finished = ChoiceFlags()
        for i in record.events.indices {
            let data = record.eventData(i)
            let name = record.eventName(i)
            let trimmed = Self.trimmed(data)
            if trimmed.isEmpty { continue }
            if Self.equals(trimmed, Self.doneMarker) {
                sawDone = true
                continue
            }
            let chunk: ChunkJSON
            do {
                chunk = try OpenAIChunkScanner.scan(trimmed) ?? decoder.decode(ChunkJSON.self, from: Data(trimmed))
            } catch {
                parsed.undecodableEvents += 1
                if Self.equals(name, Self.errorEventName), parsed.errorMessage == nil {
                    parsed.errorMessage = "error event: " + Self.textPrefix(trimmed, limit: 200)
                }
                continue
            }
            if let error = chunk.error, parsed.errorMessage == nil {
                parsed.errorMessage = error.summary
            } else if Self.equals(name, Self.errorEventName), parsed.errorMessage == nil {
                parsed.errorMessage = chunk.message ?? ("error event: " + Self.textPrefix(trimmed, limit: 200))
            }
            if let usage = chunk.usage {
                if let p = usage.promptTokens { parsed.promptTokens = p }
                if let c = usage.completionTokens { parsed.completionTokens = c }
            }
            guard let choices = chunk.choices else { continue }
            var outputBearing = false
            for (position, choice) in choices.enumerated() {
                let index = choice.index ?? position
                finished.see(index, finished: choice.finishReason != nil)
                if let delta = choice.delta {
                    if let c = delta.content, !c.isEmpty {
                        parsed.generatedText += c
                        outputBearing = true
                    }
                    if let r = delta.reasoningContent ?? delta.reasoning, !r.isEmpty {
                        parsed.reasoningText += r
                        outputBearing = true
                    }
                    if delta.toolCallCount > 0 {
                        parsed.toolCallCount += delta.toolCallCount
                        outputBearing = true
                    }
                }
                if let t = choice.text, !t.isEmpty {
                    parsed.generatedText += t
                    outputBearing = true
                }
            }
            if outputBearing { parsed.outputEventIndices.append(i) }
        }
        let allFinished = finished.allFinished
        parsed.sawTerminalMarker = sawDone || allFinished
        return parsed
    }

    private func parseBody(_ record: RequestRecord) -> ParsedResponse {
        var parsed = ParsedResponse()
        let is2xx = (200..<300).contains(record.httpStatus)
        let body = Self.trimmed(record.payload[...])
        guard let chunk = ResponseReading.decodeBody(ChunkJSON.self, in: record, parsed: &parsed, decoder: JSONDecoder()) else {
            return parsed
        }
        if let error = chunk.error {
            parsed.errorMessage = error.summary
        } else if !is2xx {
            parsed.errorMessage = chunk.message ?? Self.textPrefix(body, limit: 200)
        }
        if let usage = chunk.usage {
            parsed.promptTokens = usage.promptTokens
            parsed.completionTokens = usage.completionTokens
        }
        if let choices = chunk.choices {
            for choice in choices {
                if let message = choice.message {
                    if let c = message.content { parsed.generatedText += c }
                    if let r = message.reasoningContent ?? message.reasoning { parsed.reasoningText += r }
                    parsed.toolCallCount += message.toolCallCount
                }
                if let t = choice.text { parsed.generatedText += t }
            }
            parsed.sawTerminalMarker = true
        } else if is2xx && chunk.error == nil {
            parsed.malformed = "JSON response has no choices: " + Self.textPrefix(body, limit: 80)
        }
        return parsed
    }

    // MARK: - Byte helpers

    private static let doneMarker: [UInt8] = Array("[DONE]".utf8)

    /// `a == b` byte for byte (a plain loop: `elementsEqual` is generic and slow here, once per event).
    @inline(__always)
    static func equals(_ a: ArraySlice<UInt8>, _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var i = a.startIndex
        for x in b {
            if a[i] != x { return false }
            i += 1
        }
        return true
    }
    private static let errorEventName: [UInt8] = Array("error".utf8)

    /// `bytes` without leading and trailing ASCII whitespace.
    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        var lo = bytes.startIndex
        var hi = bytes.endIndex
        while lo < hi, isSpace(bytes[lo]) { lo += 1 }
        while hi > lo, isSpace(bytes[hi - 1]) { hi -= 1 }
        return bytes[lo..<hi]
    }

    /// The first `limit` bytes of `bytes` as one line of text (invalid UTF-8 repaired, newlines → spaces).
    static func textPrefix(_ bytes: ArraySlice<UInt8>, limit: Int) -> String {
        oneLine(String(decoding: bytes.prefix(limit), as: UTF8.self), limit: limit)
    }

    /// `text` with line breaks replaced by spaces, cut to `limit` characters (with `…` when cut).
    static func oneLine(_ text: String, limit: Int) -> String {
        let flat = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        return flat.count > limit ? String(flat.prefix(limit)) + "…" : flat
    }
}

/// Which choice indices a stream has shown and whether each has carried a `finish_reason` (index 0… in an
/// array; a dictionary only for unusual indices).
struct ChoiceFlags {
    private var seen: [Bool] = []
    private var done: [Bool] = []
    private var other: [Int: Bool] = [:]

    mutating func see(_ index: Int, finished: Bool) {
        if index >= 0 && index < 64 {
            while seen.count <= index { seen.append(false); done.append(false) }
            seen[index] = true
            if finished { done[index] = true }
        } else {
            if other[index] == nil { other[index] = false }
            if finished { other[index] = true }
        }
    }

    /// At least one choice was seen and every seen choice has finished.
    var allFinished: Bool {
        var any = false
        for (s, d) in zip(seen, done) where s {
            any = true
            if !d { return false }
        }
        for (_, d) in other {
            any = true
            if !d { return false }
        }
        return any
    }
}

// MARK: - Response JSON shapes (every field optional, tolerant of null and of unexpected types)

/// One SSE chunk or a whole non-stream body of the OpenAI API.
struct ChunkJSON: Decodable {
    var choices: [ChoiceJSON]?
    var usage: UsageJSON?
    var error: ErrorJSON?
    /// A top-level `message` (some servers' error bodies: `{"message": "...", "object": "error"}`).
    var message: String?

    enum CodingKeys: String, CodingKey { case choices, usage, error, message }

    init() {}

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        choices = try? c.decodeIfPresent([ChoiceJSON].self, forKey: .choices)
        usage = try? c.decodeIfPresent(UsageJSON.self, forKey: .usage)
        error = try? c.decodeIfPresent(ErrorJSON.self, forKey: .error)
        message = try? c.decodeIfPresent(String.self, forKey: .message)
    }
}

/// One entry of `choices`.
struct ChoiceJSON: Decodable {
    var index: Int?
    var delta: MessageJSON?
    var message: MessageJSON?
    var text: String?
    var finishReason: String?

    enum CodingKeys: String, CodingKey {
        case index, delta, message, text
        case finishReason = "finish_reason"
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        index = try? c.decodeIfPresent(Int.self, forKey: .index)
        delta = try? c.decodeIfPresent(MessageJSON.self, forKey: .delta)
        message = try? c.decodeIfPresent(MessageJSON.self, forKey: .message)
        text = try? c.decodeIfPresent(String.self, forKey: .text)
        finishReason = try? c.decodeIfPresent(String.self, forKey: .finishReason)
    }
}

/// A `delta` (stream) or `message` (non-stream) object.
struct MessageJSON: Decodable {
    var content: String?
    var reasoningContent: String?
    var reasoning: String?
    /// Number of entries in `tool_calls` (0 when absent or null).
    var toolCallCount: Int = 0

    init() {}

    enum CodingKeys: String, CodingKey {
        case content, reasoning
        case reasoningContent = "reasoning_content"
        case toolCalls = "tool_calls"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        content = try? c.decodeIfPresent(String.self, forKey: .content)
        reasoningContent = try? c.decodeIfPresent(String.self, forKey: .reasoningContent)
        reasoning = try? c.decodeIfPresent(String.self, forKey: .reasoning)
        toolCallCount = (try? c.decodeIfPresent([AnyJSON].self, forKey: .toolCalls))??.count ?? 0
    }
}

/// A `usage` object; counts in tokens.
struct UsageJSON: Decodable {
    var promptTokens: Int?
    var completionTokens: Int?

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        promptTokens = try? c.decodeIfPresent(Int.self, forKey: .promptTokens)
        completionTokens = try? c.decodeIfPresent(Int.self, forKey: .completionTokens)
    }
}

/// A top-level `error`: an object with `message`/`type`/`code`, or a bare string.
struct ErrorJSON: Decodable {
    var message: String?
    var type: String?
    /// `code`, as text (servers send numbers or strings).
    var code: String?

    enum CodingKeys: String, CodingKey { case message, type, code }

    init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer(), let text = try? single.decode(String.self) {
            message = text
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        message = try? c.decodeIfPresent(String.self, forKey: .message)
        type = try? c.decodeIfPresent(String.self, forKey: .type)
        if let n = try? c.decodeIfPresent(Int.self, forKey: .code) {
            code = String(n)
        } else {
            code = try? c.decodeIfPresent(String.self, forKey: .code)
        }
    }

    /// `"type: message (code N)"`, leaving out the parts the server did not send.
    var summary: String {
        var text = ""
        if let type, !type.isEmpty { text = type }
        let msg = message ?? ""
        if !msg.isEmpty { text = text.isEmpty ? msg : "\(text): \(msg)" }
        if let code, !code.isEmpty { text = text.isEmpty ? "code \(code)" : "\(text) (code \(code))" }
        return text.isEmpty ? "error object without message" : OpenAIPlugin.oneLine(text, limit: 500)
    }
}

/// Any JSON value, skipped: used to count array entries without decoding them.
struct AnyJSON: Decodable {
    init(from decoder: any Decoder) throws {}
}
