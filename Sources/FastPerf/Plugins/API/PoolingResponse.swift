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

/// An embeddings or rerank response body (every field optional). A top-level JSON array is read as `results`
/// (Hugging Face TEI's `/rerank` answers `[{"index": 0, "score": …}]`).
struct PoolingJSON: Decodable {
    var data: [AnyJSON]?
    var results: [AnyJSON]?
    var usage: Usage?
    var meta: Meta?
    var error: ErrorJSON?
    var message: String?
    /// FastAPI-style error bodies (`{"detail": "…"}`).
    var detail: String?

    struct Usage: Decodable {
        var promptTokens: Int?
        var totalTokens: Int?
        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case totalTokens = "total_tokens"
        }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            promptTokens = try? c.decodeIfPresent(Int.self, forKey: .promptTokens)
            totalTokens = try? c.decodeIfPresent(Int.self, forKey: .totalTokens)
        }
    }

    struct Meta: Decodable {
        var billedUnits: BilledUnits?
        enum CodingKeys: String, CodingKey { case billedUnits = "billed_units" }
    }

    struct BilledUnits: Decodable {
        var inputTokens: Int?
        enum CodingKeys: String, CodingKey { case inputTokens = "input_tokens" }
    }

    enum CodingKeys: String, CodingKey { case data, results, usage, meta, error, message, detail }

    init(from decoder: any Decoder) throws {
        if let array = try? decoder.singleValueContainer().decode([AnyJSON].self) {
            results = array
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        data = try? c.decodeIfPresent([AnyJSON].self, forKey: .data)
        results = try? c.decodeIfPresent([AnyJSON].self, forKey: .results)
        usage = try? c.decodeIfPresent(Usage.self, forKey: .usage)
        meta = try? c.decodeIfPresent(Meta.self, forKey: .meta)
        error = try? c.decodeIfPresent(ErrorJSON.self, forKey: .error)
        message = try? c.decodeIfPresent(String.self, forKey: .message)
        detail = try? c.decodeIfPresent(String.self, forKey: .detail)
    }
}
