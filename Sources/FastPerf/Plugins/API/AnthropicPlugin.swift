/// The `anthropic` API plugin: Anthropic's Messages API (`POST /v1/messages`; also the Anthropic-compatible
/// endpoints of vLLM, SGLang, LiteLLM and others). evalscope has no Anthropic plugin (EVALSCOPE-PERF §2.3).
///
/// Request (Anthropic API reference, "Messages"): headers `x-api-key: KEY` (from `--api-key`, instead of
/// `Authorization`) and `anthropic-version: 2023-06-01` (unless `--headers` sets one); body `{"model",
/// "max_tokens" (required by the API), "messages", "system" (the conversation's system messages, joined),
/// "temperature", "top_p", "top_k", "stop_sequences" (`--stop`), "stream"}`, `--extra-args` merged last.
///
/// Stream (Anthropic "Streaming Messages"; each event has an `event:` line and a JSON `type`, no `[DONE]`):
/// - `message_start`: `message.usage.input_tokens` (+ cache tokens) → prompt tokens;
/// - `content_block_delta`: non-empty `delta.text` (text), `delta.thinking` (reasoning) or
///   `delta.partial_json` (tool input) is output-bearing; a `tool_use` `content_block_start` is a tool call;
/// - `message_delta`: `usage.output_tokens` → completion tokens (a running total: the last one wins);
/// - `message_stop`: the terminal marker; `ping`: ignored;
/// - `error`: `{"type": "error", "error": {"type", "message"}}` → in-band error (case-13).
/// Non-stream: the message object (`content` blocks, `stop_reason`, `usage`) or an error object.
public struct AnthropicPlugin: APIPlugin {
    /// Creates the plugin; it has no state.
    public init() {}

    /// `/v1/messages`.
    public var defaultPath: String { "/v1/messages" }

    /// The `anthropic-version` header value sent (the current version in Anthropic's "Versioning" page).
    public static let apiVersion = "2023-06-01"

    /// `x-api-key: KEY` (Anthropic "Authentication").
    public func authorizationHeaders(apiKey: String) -> [(String, String)] {
        [("x-api-key", apiKey)]
    }

    /// Renders the request described on the type.
    /// - Throws: `FastPerfError` for a body item or `--extra-args` that is not a JSON object.
    public func buildRequest(_ item: DatasetItem, arguments: RunArguments, path: String) throws -> APIRequest {
        var body = try RequestBody(item: item) { base in
            let messages = base.messages ?? []
            var object: [String: Any] = ["messages": RequestBody.messagesJSON(messages.filter { $0.role != "system" })]
            let system = messages.filter { $0.role == "system" }.map(\.content)
            if !system.isEmpty { object["system"] = system.joined(separator: "\n") }
            return object
        }
        body.set([.model, .maxTokens("max_tokens"), .temperature, .topP, .topK, .stop("stop_sequences"), .stream], from: arguments)
        try body.mergeExtraArgs(arguments)
        let hasVersion = arguments.headers.keys.contains { $0.lowercased() == "anthropic-version" }
        let headers = hasVersion ? [] : [("anthropic-version", Self.apiVersion)]
        return APIRequest(headers: headers, body: try body.encoded(), isStream: body.streams)
    }

    /// Reads one finished response (see the type's documentation).
    public func parseResponses(_ record: RequestRecord, request: APIRequest) -> ParsedResponse {
        var parsed = ParsedResponse()
        if !record.isEventStream {
            guard let message = ResponseReading.decodeBody(AnthropicMessageJSON.self, in: record, parsed: &parsed) else {
                return parsed
            }
            if let error = message.error {
                parsed.errorMessage = error.summary
            } else if !ResponseReading.isSuccess(record) {
                parsed.errorMessage = ResponseReading.bodyText(record)
            }
            message.usage?.apply(to: &parsed)
            for block in message.content ?? [] {
                parsed.generatedText += block.text ?? ""
                parsed.reasoningText += block.thinking ?? ""
                if block.type == "tool_use" { parsed.toolCallCount += 1 }
            }
            if message.stopReason != nil { parsed.sawTerminalMarker = true }
            return parsed
        }
        ResponseReading.forEachEvent(AnthropicEventJSON.self, in: record, parsed: &parsed) { i, event, isErrorEvent, parsed in
            switch event.type ?? "" {
            case "message_start":
                event.message?.usage?.apply(to: &parsed)
            case "content_block_start":
                if event.contentBlock?.type == "tool_use" {
                    parsed.toolCallCount += 1
                    parsed.outputEventIndices.append(i)
                }
            case "content_block_delta":
                let text = event.delta?.text ?? ""
                let thinking = event.delta?.thinking ?? ""
                parsed.generatedText += text
                parsed.reasoningText += thinking
                if !text.isEmpty || !thinking.isEmpty || !(event.delta?.partialJson ?? "").isEmpty {
                    parsed.outputEventIndices.append(i)
                }
            case "message_delta":
                event.usage?.apply(to: &parsed)
            case "message_stop":
                parsed.sawTerminalMarker = true
            case "error":
                if parsed.errorMessage == nil { parsed.errorMessage = event.error?.summary ?? "error event" }
            default:
                if isErrorEvent, parsed.errorMessage == nil { parsed.errorMessage = event.error?.summary ?? "error event" }
            }
        }
        return parsed
    }
}

// MARK: - Messages API JSON shapes (every field lenient; keys converted from snake_case)

/// A Messages API message object (the non-stream body, or `message` of `message_start`), or an error body.
struct AnthropicMessageJSON: Decodable {
    @Lenient var content: [Block]?
    @Lenient var stopReason: String?
    @Lenient var usage: InputOutputUsageJSON?
    @Lenient var error: ErrorJSON?

    /// A content block: `text` (`text`), `thinking` (`thinking`), `tool_use`.
    struct Block: Decodable {
        @Lenient var type: String?
        @Lenient var text: String?
        @Lenient var thinking: String?
    }
}

/// One Messages API stream event.
struct AnthropicEventJSON: Decodable {
    @Lenient var type: String?
    @Lenient var message: AnthropicMessageJSON?
    @Lenient var contentBlock: AnthropicMessageJSON.Block?
    @Lenient var delta: Delta?
    @Lenient var usage: InputOutputUsageJSON?
    @Lenient var error: ErrorJSON?

    /// `content_block_delta`'s `delta` (`text_delta`, `thinking_delta`, `input_json_delta`) or
    /// `message_delta`'s (`stop_reason`).
    struct Delta: Decodable {
        @Lenient var text: String?
        @Lenient var thinking: String?
        @Lenient var partialJson: String?
    }
}
