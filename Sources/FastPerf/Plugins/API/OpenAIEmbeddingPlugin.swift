/// The `openai_embedding` / `embedding` API plugin: OpenAI-compatible `POST /v1/embeddings` (vLLM, TEI,
/// Infinity, OpenAI), evalscope's `OpenaiEmbeddingPlugin`. Never streamed.
///
/// Request (OpenAI API reference, "Create embeddings"): `{"model": M, "input": …}` with `input` the prompt
/// (a string), or for a conversation the list of its message contents; a whole-body item is sent as is
/// (`model` filled when missing); `--extra-args` merged last (e.g. `{"dimensions": 256}`). Generation flags
/// (`--max-tokens`, `--temperature`, `--stream`, …) do not apply and are not sent.
/// Response: see `PoolingResponse.parse` (latency to the end of the body, prompt tokens from `usage`).
public struct OpenAIEmbeddingPlugin: APIPlugin {
    /// Creates the plugin; it has no state.
    public init() {}

    /// `/v1/embeddings`.
    public var defaultPath: String { "/v1/embeddings" }

    /// Renders `{"model", "input"}` (see the type's documentation). `isStream` is always false.
    /// - Throws: `FastPerfError` for a body item or `--extra-args` that is not a JSON object.
    public func buildRequest(_ item: DatasetItem, arguments: RunArguments, path: String) throws -> APIRequest {
        var body = try RequestBody(item: item) { base in
            if case .messages(let messages) = base, messages.count > 1 { return ["input": messages.map(\.content)] }
            return ["input": base.promptText ?? ""]
        }
        body.set("model", arguments.model)
        try body.mergeExtraArgs(arguments)
        return APIRequest(headers: [], body: try body.encoded(), isStream: false)
    }

    /// Reads the JSON body: `data` entries, `usage.prompt_tokens`; see `PoolingResponse.parse`.
    public func parseResponses(_ record: RequestRecord, request: APIRequest) -> ParsedResponse {
        PoolingResponse.parse(record, resultKey: "data")
    }
}
