/// The `openai_rerank` / `rerank` API plugin: Jina/Cohere/vLLM-style `POST /v1/rerank`, evalscope's
/// `OpenaiRerankPlugin`. Never streamed.
///
/// Request (vLLM "Re-rank API", Jina and Cohere rerank references): `{"model": M, "query": Q, "documents": [D…]}`.
/// A conversation's first message is the query and the rest are the documents; a plain prompt is the query
/// and also the one document (so any text dataset can drive a rerank server); a whole-body item (e.g. a
/// `line_by_line` line `{"query": …, "documents": […]}`) is sent as is with `model` filled when missing;
/// `--extra-args` merged last (e.g. `{"top_n": 3}`).
/// Response: see `PoolingResponse.parse` (`results`, latency to the end of the body, prompt tokens from `usage`).
public struct OpenAIRerankPlugin: APIPlugin {
    /// Creates the plugin; it has no state.
    public init() {}

    /// `/v1/rerank`.
    public var defaultPath: String { "/v1/rerank" }

    /// Renders `{"model", "query", "documents"}` (see the type's documentation). `isStream` is always false.
    /// - Throws: `FastPerfError` for a body item or `--extra-args` that is not a JSON object.
    public func buildRequest(_ item: DatasetItem, arguments: RunArguments, path: String) throws -> APIRequest {
        var body = try RequestBody(item: item) { base in
            let texts = base.messages?.map(\.content) ?? []
            let query = texts.first ?? ""
            return ["query": query, "documents": texts.count > 1 ? Array(texts.dropFirst()) : [query]]
        }
        body.set("model", arguments.model)
        try body.mergeExtraArgs(arguments)
        return APIRequest(headers: [], body: try body.encoded(), isStream: false)
    }

    /// Reads the JSON body: `results` entries, `usage`; see `PoolingResponse.parse`.
    public func parseResponses(_ record: RequestRecord, request: APIRequest) -> ParsedResponse {
        PoolingResponse.parse(record, resultKey: "results")
    }
}
