/// The `dashscope` API plugin: Alibaba Cloud Model Studio's native text-generation endpoint
/// (`POST /api/v1/services/aigc/text-generation/generation`, Qwen models). evalscope registers the name but
/// its plugin cannot send requests (EVALSCOPE-PERF §2.3); this one can.
///
/// Request (DashScope "Qwen API reference", HTTP): `{"model": M, "input": {"messages": […]}, "parameters":
/// {"result_format": "message", "incremental_output": true, "max_tokens", "temperature", "top_p", "top_k",
/// "seed", "stop"}}`, with header `X-DashScope-SSE: enable` when streaming (`incremental_output` is only
/// sent then). `--extra-args` is merged into `parameters` (where DashScope reads options such as
/// `enable_thinking`); a whole-body item or `--query-template` keeps its own fields.
///
/// Stream: SSE events `id:N`, `event:result`, a `:HTTP_STATUS/200` comment and `data:{"output": {"choices":
/// [{"message": {"content", "reasoning_content", "tool_calls"}, "finish_reason"}]}, "usage": {"input_tokens",
/// "output_tokens", "output_tokens_details": {"reasoning_tokens"}}, "request_id"}`; no `[DONE]`:
/// - `finish_reason` is the string `"null"` until the last event; any other value ends the choice
///   (the terminal marker once every choice has ended);
/// - `usage` is cumulative per event: the last one is taken, never a sum (case-19);
/// - with `incremental_output: true` each event carries new text (appended); with `false` each carries the
///   whole text so far, so it replaces the previous one, and an event is output-bearing only when its text
///   grew (case-19's variant: `Hello`, `Hello!` → `Hello!`);
/// - `event:error` / a top-level `code` with `message` → in-band error.
/// The older `result_format: "text"` shape (`output.text`, `output.finish_reason`) is read as one choice.
/// Non-stream: the same object as one JSON body.
public struct DashScopePlugin: APIPlugin {
    /// Creates the plugin; it has no state.
    public init() {}

    /// `/api/v1/services/aigc/text-generation/generation`.
    public var defaultPath: String { "/api/v1/services/aigc/text-generation/generation" }

    /// Renders the native request described on the type; `isStream` follows `--stream`.
    /// - Throws: `FastPerfError` for a body item or `--extra-args` that is not a JSON object.
    public func buildRequest(_ item: DatasetItem, arguments: RunArguments, path: String) throws -> APIRequest {
        var body = try RequestBody(item: item) { base in
            ["input": ["messages": RequestBody.messagesJSON(base.messages ?? [])]]
        }
        body.set("model", arguments.model)
        body.set("result_format", "message", in: "parameters")
        if arguments.stream { body.set("incremental_output", true, in: "parameters") }
        body.set([.maxTokens("max_tokens"), .temperature, .topP, .topK, .seed, .stop("stop")], from: arguments, in: "parameters")
        try body.mergeExtraArgs(arguments, in: "parameters")
        let headers = arguments.stream ? [("X-DashScope-SSE", "enable")] : []
        return APIRequest(headers: headers, body: try body.encoded(), isStream: arguments.stream)
    }

    /// Whether the request asked for incremental output: its body does not hold `"incremental_output":false`.
    /// The body is compact JSON rendered by `buildRequest`, and that byte sequence cannot occur inside a JSON
    /// string (a quote there is escaped), so a byte search answers exactly without decoding the body.
    static func isIncremental(_ request: APIRequest) -> Bool {
        let needle = Array(#""incremental_output":false"#.utf8)
        let body = request.body
        guard body.count >= needle.count else { return true }
        for start in 0...(body.count - needle.count) where body[start] == needle[0] {
            if body[start..<(start + needle.count)].elementsEqual(needle) { return false }
        }
        return true
    }

    /// Reads one finished response (see the type's documentation).
    public func parseResponses(_ record: RequestRecord, request: APIRequest) -> ParsedResponse {
        var parsed = ParsedResponse()
        var state = Accumulator(incremental: Self.isIncremental(request))
        if record.isEventStream {
            ResponseReading.forEachEvent(DashScopeJSON.self, in: record, parsed: &parsed) { i, event, isErrorEvent, parsed in
                if state.add(event, into: &parsed, isErrorEvent: isErrorEvent) { parsed.outputEventIndices.append(i) }
            }
        } else if let body = ResponseReading.decodeBody(DashScopeJSON.self, in: record, parsed: &parsed) {
            state.incremental = false
            _ = state.add(body, into: &parsed, isErrorEvent: false)
            if !ResponseReading.isSuccess(record) && parsed.errorMessage == nil {
                parsed.errorMessage = ResponseReading.bodyText(record)
            }
            if body.output != nil { state.sawBody = true }
        }
        parsed.generatedText = state.texts.joined()
        parsed.reasoningText = state.reasonings.joined()
        parsed.sawTerminalMarker = state.sawBody || (!state.finished.isEmpty && state.finished.allSatisfy { $0 })
        return parsed
    }

    /// Per-choice text, reasoning and finish state across the events of one response.
    private struct Accumulator {
        var incremental: Bool
        var texts: [String] = []
        var reasonings: [String] = []
        var finished: [Bool] = []
        /// A complete non-stream body was read (its end is the terminal marker).
        var sawBody = false

        /// Folds one event in; returns whether it was output-bearing (new text, reasoning or tool calls).
        mutating func add(_ event: DashScopeJSON, into parsed: inout ParsedResponse, isErrorEvent: Bool) -> Bool {
            event.usage?.apply(to: &parsed)
            if let code = event.code, !code.isEmpty, event.output == nil || isErrorEvent, parsed.errorMessage == nil {
                parsed.errorMessage = event.message.map { "\(code): \($0)" } ?? code
            } else if isErrorEvent, parsed.errorMessage == nil {
                parsed.errorMessage = event.message ?? "error event"
            }
            guard let output = event.output else { return false }
            var choices = output.choices ?? []
            if choices.isEmpty, output.text != nil || output.finishReason != nil {
                let message = DashScopeJSON.Message(content: output.text.map { TextOrPartsJSON(text: $0) })
                choices = [DashScopeJSON.Choice(message: message, finishReason: output.finishReason)]
            }
            var outputBearing = false
            for (k, choice) in choices.enumerated() {
                while texts.count <= k {
                    texts.append("")
                    reasonings.append("")
                    finished.append(false)
                }
                if fold(choice.message?.content?.text, into: &texts[k]) { outputBearing = true }
                if fold(choice.message?.reasoningContent, into: &reasonings[k]) { outputBearing = true }
                let calls = choice.message?.toolCallCount ?? 0
                if calls > 0 {
                    parsed.toolCallCount = incremental ? parsed.toolCallCount + calls : max(parsed.toolCallCount, calls)
                    outputBearing = true
                }
                if let reason = choice.finishReason, reason != "null" { finished[k] = true }
            }
            return outputBearing
        }

        /// Appends (incremental) or replaces (cumulative) `text` into `whole`; true when it added text.
        private func fold(_ text: String?, into whole: inout String) -> Bool {
            guard let text, !text.isEmpty else { return false }
            if incremental {
                whole += text
                return true
            }
            let grew = text.count > whole.count || !text.hasPrefix(whole)
            whole = text
            return grew
        }
    }
}

// MARK: - DashScope JSON shapes (every field lenient; keys converted from snake_case)

/// One DashScope event (or a non-stream body, or an error body `{"code", "message", "request_id"}`).
struct DashScopeJSON: Decodable {
    @Lenient var output: Output?
    @Lenient var usage: InputOutputUsageJSON?
    @Lenient var code: String?
    @Lenient var message: String?

    /// `output`: `choices` (`result_format: "message"`) or `text` + `finish_reason` (`"text"`).
    struct Output: Decodable {
        @Lenient var choices: [Choice]?
        @Lenient var text: String?
        @Lenient var finishReason: String?
    }

    struct Choice: Decodable {
        @Lenient var message: Message? = nil
        @Lenient var finishReason: String? = nil
    }

    struct Message: Decodable {
        @Lenient var content: TextOrPartsJSON? = nil
        @Lenient var reasoningContent: String? = nil
        @Lenient var toolCalls: [AnyJSON]? = nil
        /// Entries in `tool_calls` (0 when absent).
        var toolCallCount: Int { toolCalls?.count ?? 0 }
    }
}
