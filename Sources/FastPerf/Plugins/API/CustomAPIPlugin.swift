import Foundation

/// The `custom` API plugin: a template to copy into your own package (evalscope's `custom_api.py`), written
/// against FastPerf's public API only, so it compiles unchanged outside this module. As shipped it speaks the
/// OpenAI chat-completions wire format (so it runs against `fastperf serve`); change the three marked places
/// for your API and register the copy with `PluginRegistry.register(api: "my_api", MyPlugin())` before calling
/// `FastPerfTool.main()` (see `Examples/CustomPlugin`).
///
/// Request: `{"model", "messages", "max_tokens", "temperature", "stream"}`, `--extra-args` merged last.
/// Response: per SSE event, `choices[0].delta.content` is the text, `usage` the counts, `[DONE]` the end; a
/// non-stream body reads `choices[0].message.content`. Decoded with `JSONSerialization` for brevity — the
/// built-in plugins use `Decodable` types, which are faster.
public struct CustomAPIPlugin: APIPlugin {
    /// Creates the plugin; it has no state.
    public init() {}

    /// (1) The path used when `--url` names only a host.
    public var defaultPath: String { "/v1/chat/completions" }

    /// (2) Turns one dataset item into a request body. Runs before the run starts; throwing stops the run with
    /// the error's message.
    public func buildRequest(_ item: DatasetItem, arguments: RunArguments, path: String) throws -> APIRequest {
        var body: [String: Any] = [
            "model": arguments.model,
            "messages": (item.messages ?? []).map { ["role": $0.role, "content": $0.content] },
            "stream": arguments.stream,
        ]
        if case .body(let json) = item.base,
            let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        {
            body = object
        }
        if let maxTokens = item.maxTokens ?? arguments.maxTokens { body["max_tokens"] = maxTokens }
        if let temperature = arguments.temperature { body["temperature"] = temperature }
        if let extra = arguments.extraArgs,
            let object = try JSONSerialization.jsonObject(with: Data(extra.utf8)) as? [String: Any]
        {
            body.merge(object) { _, new in new }
        }
        let bytes = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        return APIRequest(headers: [], body: [UInt8](bytes), isStream: body["stream"] as? Bool ?? false)
    }

    /// (3) Reads one finished response on the writer thread. Fill `outputEventIndices` (which events carried
    /// output: they time TTFT and ITL), the usage counts, `sawTerminalMarker` and `errorMessage`;
    /// `RequestResult` turns that into the row's outcome and metrics. Throwing makes the row a failure.
    public func parseResponses(_ record: RequestRecord, request: APIRequest) throws -> ParsedResponse {
        var parsed = ParsedResponse()
        if !record.isEventStream {
            let object = try JSONSerialization.jsonObject(with: Data(record.payload)) as? [String: Any] ?? [:]
            read(object, delta: "message", into: &parsed)
            parsed.sawTerminalMarker = object["choices"] != nil
            return parsed
        }
        for i in record.events.indices {
            let data = Data(record.eventData(i))
            if data == Data("[DONE]".utf8) {
                parsed.sawTerminalMarker = true
                continue
            }
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                parsed.undecodableEvents += 1
                continue
            }
            let before = parsed.generatedText.count
            read(object, delta: "delta", into: &parsed)
            if parsed.generatedText.count > before { parsed.outputEventIndices.append(i) }
        }
        return parsed
    }

    /// Takes `choices[0][key].content`, `usage` and `error` from one JSON object.
    private func read(_ object: [String: Any], delta key: String, into parsed: inout ParsedResponse) {
        if let error = object["error"] as? [String: Any] {
            parsed.errorMessage = error["message"] as? String ?? "error"
        }
        if let usage = object["usage"] as? [String: Any] {
            parsed.promptTokens = usage["prompt_tokens"] as? Int ?? parsed.promptTokens
            parsed.completionTokens = usage["completion_tokens"] as? Int ?? parsed.completionTokens
        }
        let choices = object["choices"] as? [[String: Any]] ?? []
        if let message = choices.first?[key] as? [String: Any], let content = message["content"] as? String {
            parsed.generatedText += content
        }
    }
}
