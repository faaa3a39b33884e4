/// The `openai_responses` / `openai_response` / `responses` API plugin: OpenAI's Responses API
/// (`POST /v1/responses`; also served by vLLM and SGLang), evalscope's `OpenAIResponsesPlugin`.
///
/// Request (OpenAI API reference, "Create a model response"): `{"model", "input", "max_output_tokens",
/// "temperature", "top_p", "stream"}` — `input` is the prompt string, or a conversation as a list of
/// `{"role", "content"}` input messages; `--extra-args` merged last. `top_k`, `seed`, `stop` and
/// `min_tokens` have no Responses API field and are not sent.
///
/// Stream (OpenAI "Streaming API responses"; every event names its kind in `type`, no `[DONE]`):
/// - output-bearing: non-empty `delta` of `response.output_text.delta` and `response.refusal.delta` (text),
///   `response.reasoning_text.delta` and `response.reasoning_summary_text.delta` (reasoning),
///   `response.function_call_arguments.delta` (a tool call);
/// - terminal: `response.completed` and `response.incomplete` (e.g. `max_output_tokens` reached), whose
///   `response.usage` gives `input_tokens` → prompt, `output_tokens` → completion,
///   `output_tokens_details.reasoning_tokens` → reasoning tokens;
/// - failure: `response.failed` (`response.error`) and `error` events (`code`, `message`) → in-band error.
/// Non-stream: the body is the response object (`status`, `output[]` items, `usage`, `error`).
public struct OpenAIResponsesPlugin: APIPlugin {
    /// Creates the plugin; it has no state.
    public init() {}

    /// `/v1/responses`.
    public var defaultPath: String { "/v1/responses" }

    /// Renders the request body described on the type.
    /// - Throws: `FastPerfError` for a body item or `--extra-args` that is not a JSON object.
    public func buildRequest(_ item: DatasetItem, arguments: RunArguments, path: String) throws -> APIRequest {
        var body = try RequestBody(item: item) { base in
            if case .prompt(let text) = base { return ["input": text] }
            return ["input": RequestBody.messagesJSON(base.messages ?? [])]
        }
        body.set([.model, .maxTokens("max_output_tokens"), .temperature, .topP, .stream], from: arguments)
        try body.mergeExtraArgs(arguments)
        return APIRequest(headers: [], body: try body.encoded(), isStream: body.streams)
    }

    /// Reads one finished response (see the type's documentation).
    public func parseResponses(_ record: RequestRecord, request: APIRequest) -> ParsedResponse {
        var parsed = ParsedResponse()
        if !record.isEventStream {
            guard let object = ResponseReading.decodeBody(ResponseObjectJSON.self, in: record, parsed: &parsed) else {
                return parsed
            }
            if !ResponseReading.isSuccess(record) && object.error == nil {
                parsed.errorMessage = ResponseReading.bodyText(record)
            } else if object.status == nil && object.error == nil {
                parsed.malformed = "JSON response has no status: " + ResponseReading.bodyText(record)
            }
            read(object, into: &parsed, withOutput: true)
            return parsed
        }
        ResponseReading.forEachEvent(ResponsesEventJSON.self, in: record, parsed: &parsed) { i, event, isErrorEvent, parsed in
            let delta = event.delta ?? ""
            switch event.type ?? "" {
            case "response.output_text.delta", "response.refusal.delta":
                parsed.generatedText += delta
                if !delta.isEmpty { parsed.outputEventIndices.append(i) }
            case "response.reasoning_text.delta", "response.reasoning_summary_text.delta":
                parsed.reasoningText += delta
                if !delta.isEmpty { parsed.outputEventIndices.append(i) }
            case "response.function_call_arguments.delta":
                if !delta.isEmpty { parsed.outputEventIndices.append(i) }
            case "response.function_call_arguments.done":
                parsed.toolCallCount += 1
            case "response.completed", "response.incomplete", "response.failed":
                if let object = event.response { read(object, into: &parsed, withOutput: false) }
            case "error":
                if parsed.errorMessage == nil { parsed.errorMessage = event.errorSummary }
            default:
                if isErrorEvent, parsed.errorMessage == nil { parsed.errorMessage = event.errorSummary }
            }
        }
        return parsed
    }

    /// Takes status, usage and error from a response object; with `withOutput` (non-stream) also its text.
    private func read(_ object: ResponseObjectJSON, into parsed: inout ParsedResponse, withOutput: Bool) {
        object.usage?.apply(to: &parsed)
        switch object.status {
        case "completed", "incomplete": parsed.sawTerminalMarker = true
        case "failed":
            parsed.sawTerminalMarker = true
            if parsed.errorMessage == nil { parsed.errorMessage = object.error?.summary ?? "response.failed" }
        default: break
        }
        if let error = object.error, parsed.errorMessage == nil { parsed.errorMessage = error.summary }
        guard withOutput else { return }
        for item in object.output ?? [] {
            switch item.type {
            case "message":
                for part in item.content ?? [] where part.type == "output_text" || part.type == "refusal" {
                    parsed.generatedText += part.text ?? part.refusal ?? ""
                }
            case "reasoning":
                for part in (item.content ?? []) + (item.summary ?? []) { parsed.reasoningText += part.text ?? "" }
            case "function_call":
                parsed.toolCallCount += 1
            default:
                break
            }
        }
    }
}

// MARK: - Responses API JSON shapes (every field lenient; keys converted from snake_case)

/// One Responses API stream event.
struct ResponsesEventJSON: Decodable {
    @Lenient var type: String?
    @Lenient var delta: String?
    @Lenient var response: ResponseObjectJSON?
    /// `error` events: `code` and `message` at the top level.
    @Lenient var code: String?
    @Lenient var message: String?

    /// `"code: message"` of an `error` event, leaving out what is missing.
    var errorSummary: String {
        let parts = [code, message].compactMap { $0 }.filter { !$0.isEmpty }
        return parts.isEmpty ? "error event" : parts.joined(separator: ": ")
    }
}

/// A Responses API response object (the non-stream body, or `response` of a lifecycle event).
struct ResponseObjectJSON: Decodable {
    @Lenient var status: String?
    @Lenient var usage: InputOutputUsageJSON?
    @Lenient var error: ErrorJSON?
    @Lenient var output: [OutputItem]?

    /// One `output` item: `message` (content parts), `reasoning` (summary/content parts), `function_call`.
    struct OutputItem: Decodable {
        @Lenient var type: String?
        @Lenient var content: [Part]?
        @Lenient var summary: [Part]?
    }

    /// A content part: `output_text` (`text`), `refusal` (`refusal`), `reasoning_text`/`summary_text` (`text`).
    struct Part: Decodable {
        @Lenient var type: String?
        @Lenient var text: String?
        @Lenient var refusal: String?
    }
}
