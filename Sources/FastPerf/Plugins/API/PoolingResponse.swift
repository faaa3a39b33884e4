/// The response side of the APIs that generate no tokens: embeddings (`openai_embedding`) and rerank
/// (`openai_rerank`). The reply is one JSON body; its latency is measured to the end of the body (the
/// record's `endNanos`), not to the response head as evalscope does (EVALSCOPE-PERF §2.5), and TTFT = latency.
enum PoolingResponse {
    /// Reads a finished embeddings or rerank response.
    ///
    /// - 2xx JSON with a non-empty `resultKey` array (`data` for embeddings, `results` for rerank; a bare
    ///   top-level array for TEI's `/rerank`) → terminal marker; no output token is expected.
    /// - `usage.prompt_tokens`, else `usage.total_tokens`, else `meta.billed_units.input_tokens` (Cohere) →
    ///   `promptTokens`; `completionTokens` is 0 (nothing is generated; evalscope does the same).
    /// - A top-level `error` (object or string), or a non-2xx body → `errorMessage`.
    static func parse(_ record: RequestRecord, resultKey: String) -> ParsedResponse {
        var parsed = ParsedResponse()
        parsed.expectsOutput = false
        guard let json = ResponseReading.decodeBody(PoolingJSON.self, in: record, parsed: &parsed) else { return parsed }
        let is2xx = ResponseReading.isSuccess(record)
        if let error = json.error {
            parsed.errorMessage = error.summary
        } else if !is2xx {
            parsed.errorMessage = json.message ?? json.detail ?? ResponseReading.bodyText(record)
        }
        parsed.promptTokens = json.usage?.promptTokens ?? json.usage?.totalTokens ?? json.meta?.billedUnits?.inputTokens
        if is2xx && parsed.errorMessage == nil {
            let count = resultKey == "data" ? json.data?.count : json.results?.count
            if let count, count > 0 {
                parsed.sawTerminalMarker = true
                parsed.completionTokens = 0
            } else {
                parsed.malformed = "JSON response has no non-empty \"\(resultKey)\" array: "
                    + OpenAIPlugin.textPrefix(OpenAIPlugin.trimmed(record.payload[...]), limit: 80)
            }
        }
        return parsed
    }
}

/// An embeddings or rerank response body (every field lenient; keys converted from snake_case). A top-level
/// JSON array is read as `results` (Hugging Face TEI's `/rerank` answers `[{"index": 0, "score": …}]`).
struct PoolingJSON: Decodable {
    @Lenient var data: [AnyJSON]?
    @Lenient var results: [AnyJSON]?
    @Lenient var usage: Usage?
    @Lenient var meta: Meta?
    @Lenient var error: ErrorJSON?
    @Lenient var message: String?
    /// FastAPI-style error bodies (`{"detail": "…"}`).
    @Lenient var detail: String?

    struct Usage: Decodable {
        @Lenient var promptTokens: Int?
        @Lenient var totalTokens: Int?
    }

    /// Cohere's `meta.billed_units.input_tokens`.
    struct Meta: Decodable {
        @Lenient var billedUnits: BilledUnits?
    }

    struct BilledUnits: Decodable {
        @Lenient var inputTokens: Int?
    }

    private enum CodingKeys: String, CodingKey { case data, results, usage, meta, error, message, detail }

    init(from decoder: any Decoder) throws {
        if let array = try? decoder.singleValueContainer().decode([AnyJSON].self) {
            results = array
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        (_data, _results, _usage) = (try c.decode(Lenient.self, forKey: .data), try c.decode(Lenient.self, forKey: .results),
                                     try c.decode(Lenient.self, forKey: .usage))
        (_meta, _error) = (try c.decode(Lenient.self, forKey: .meta), try c.decode(Lenient.self, forKey: .error))
        (_message, _detail) = (try c.decode(Lenient.self, forKey: .message), try c.decode(Lenient.self, forKey: .detail))
    }
}
