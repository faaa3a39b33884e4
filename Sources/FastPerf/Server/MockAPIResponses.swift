import Foundation

/// The APIs `fastperf serve` answers, each at its documented path, so every API plugin has a loopback peer.
enum MockAPI: Sendable, Equatable {
    /// OpenAI `POST /v1/chat/completions`.
    case chat
    /// OpenAI `POST /v1/completions`.
    case completions
    /// OpenAI `POST /v1/embeddings` (never streamed).
    case embeddings
    /// Jina/Cohere/vLLM `POST /v1/rerank` (also `/rerank`, `/v2/rerank`; never streamed).
    case rerank
    /// OpenAI Responses `POST /v1/responses`.
    case responses
    /// DashScope native `POST /api/v1/services/aigc/text-generation/generation`.
    case dashscope
    /// Anthropic Messages `POST /v1/messages`.
    case anthropic

    /// The API served at `path` (query string removed) for a POST; nil when none is.
    static func route(path: String) -> MockAPI? {
        switch path {
        case "/v1/chat/completions": return .chat
        case "/v1/completions": return .completions
        case "/v1/embeddings": return .embeddings
        case "/v1/rerank", "/rerank", "/v2/rerank": return .rerank
        case "/v1/responses": return .responses
        case "/api/v1/services/aigc/text-generation/generation": return .dashscope
        case "/v1/messages": return .anthropic
        default: return nil
        }
    }

    /// Whether the API generates tokens (embeddings and rerank answer after TTFT with no tokens).
    var generates: Bool { self != .embeddings && self != .rerank }

    /// What the mock reads from a request body.
    struct RequestShape {
        /// Answer with SSE (`stream: true`; DashScope: header `X-DashScope-SSE: enable`).
        var streamed = false
        /// The requested output length in tokens (`max_tokens`, `max_output_tokens`, `parameters.max_tokens`).
        var maxTokens: Int?
        /// Characters of the prompt (message contents, prompt, inputs, query and documents).
        var promptChars = 0
        /// Inputs (embeddings) or documents (rerank) to answer for.
        var items: [String] = []
        /// DashScope `parameters.incremental_output` (default false, as DashScope documents).
        var incremental = false
        /// A request the real API rejects: (HTTP status, error body).
        var rejection: (status: Int, json: String)?
    }

    /// Reads `object` (the request body) and `request` (its headers) the way this API defines them.
    func shape(of object: [String: Any], request: HTTP1Request) -> RequestShape {
        var shape = RequestShape()
        shape.streamed = (object["stream"] as? Bool) ?? false
        shape.maxTokens = object["max_tokens"] as? Int
        switch self {
        case .chat:
            shape.promptChars = Self.chars(ofMessages: object["messages"])
        case .completions:
            shape.promptChars = (object["prompt"] as? String)?.count ?? 0
        case .embeddings:
            shape.streamed = false
            shape.items = (object["input"] as? [String]) ?? [(object["input"] as? String) ?? ""]
            shape.promptChars = shape.items.reduce(0) { $0 + $1.count }
        case .rerank:
            shape.streamed = false
            shape.items = (object["documents"] as? [String]) ?? []
            shape.promptChars = shape.items.reduce((object["query"] as? String)?.count ?? 0) { $0 + $1.count }
        case .responses:
            shape.maxTokens = object["max_output_tokens"] as? Int
            shape.promptChars = (object["input"] as? String)?.count ?? Self.chars(ofMessages: object["input"])
        case .dashscope:
            let input = object["input"] as? [String: Any] ?? [:]
            let parameters = object["parameters"] as? [String: Any] ?? [:]
            shape.streamed = request.header("X-DashScope-SSE")?.lowercased() == "enable"
            shape.maxTokens = parameters["max_tokens"] as? Int
            shape.incremental = (parameters["incremental_output"] as? Bool) ?? false
            shape.promptChars = (input["prompt"] as? String)?.count ?? Self.chars(ofMessages: input["messages"])
        case .anthropic:
            shape.promptChars = Self.chars(ofMessages: object["messages"]) + ((object["system"] as? String)?.count ?? 0)
            if request.header("anthropic-version") == nil {
                shape.rejection = (400, MockAPIFormat.anthropicError("anthropic-version: header is required"))
            } else if shape.maxTokens == nil {
                shape.rejection = (400, MockAPIFormat.anthropicError("max_tokens: Field required"))
            }
        }
        return shape
    }

    /// Characters in a messages list: string contents, or the `text` of content parts.
    static func chars(ofMessages value: Any?) -> Int {
        guard let messages = value as? [[String: Any]] else { return 0 }
        return messages.reduce(0) { sum, message in
            if let text = message["content"] as? String { return sum + text.count }
            let parts = message["content"] as? [[String: Any]] ?? []
            return sum + parts.reduce(0) { $0 + (($1["text"] as? String)?.count ?? 0) }
        }
    }
}

/// The SSE events and JSON bodies of each `MockAPI`, shaped as the APIs document them (OpenAI chat and
/// completions chunks, Responses API events, DashScope `id:`/`event:result` events with cumulative usage,
/// Anthropic `event:` lines with `message_start` … `message_stop`). Every function returns text; the
/// exchange frames it in HTTP chunks.
enum MockAPIFormat {
    /// The words the mock generates, token k being `words[k % 10]`.
    static let words = ["The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", "."]

    /// The text of the first `count` tokens.
    static func text(tokens count: Int) -> String {
        (0..<count).map { words[$0 % words.count] }.joined()
    }

    /// One SSE event: an optional `event:` line, then `data: …`, then a blank line.
    static func event(_ data: String, name: String? = nil) -> String {
        (name.map { "event: \($0)\n" } ?? "") + "data: " + data + "\n\n"
    }

    /// Events sent with the response head, before the first token.
    static func preamble(_ plan: MockExchange.StreamPlan) -> [String] {
        switch plan.api {
        case .chat:
            return [event(chunkJSON(plan, delta: #"{"role":"assistant","content":""}"#, finish: nil))]
        case .responses:
            return [
                event(#"{"type":"response.created","sequence_number":0,"response":"# + responseObject(plan, status: "in_progress", text: nil) + "}",
                      name: "response.created"),
                event(#"{"type":"response.output_item.added","sequence_number":1,"output_index":0,"item":{"id":"msg_"# + plan.id
                      + #"","type":"message","status":"in_progress","role":"assistant","content":[]}}"#, name: "response.output_item.added"),
                event(#"{"type":"response.content_part.added","sequence_number":2,"item_id":"msg_"# + plan.id
                      + #"","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}"#,
                      name: "response.content_part.added"),
            ]
        case .anthropic:
            return [
                event(#"{"type":"message_start","message":{"id":""# + plan.id + #"","type":"message","role":"assistant","model":"#
                      + JSONText.quote(plan.model) + #","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":"#
                      + "\(plan.promptTokens)" + #","output_tokens":1}}}"#, name: "message_start"),
                event(#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#, name: "content_block_start"),
                event(#"{"type":"ping"}"#, name: "ping"),
            ]
        default:
            return []
        }
    }

    /// The event carrying token `k` (0-based).
    static func token(_ plan: MockExchange.StreamPlan, _ k: Int) -> String {
        let word = words[k % words.count]
        switch plan.api {
        case .chat: return event(chunkJSON(plan, delta: #"{"content":"# + JSONText.quote(word) + "}", finish: nil))
        case .responses:
            return event(#"{"type":"response.output_text.delta","sequence_number":"# + "\(3 + k)" + #","item_id":"msg_"# + plan.id
                         + #"","output_index":0,"content_index":0,"delta":"# + JSONText.quote(word) + "}", name: "response.output_text.delta")
        case .dashscope:
            return dashScopeEvent(plan, id: k + 1, content: plan.incremental ? word : text(tokens: k + 1), finish: "null", outputTokens: k + 1)
        case .anthropic:
            return event(#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"# + JSONText.quote(word) + "}}",
                         name: "content_block_delta")
        default:
            return event(chunkJSON(plan, delta: JSONText.quote(word), finish: nil))
        }
    }

    /// Events after the last token (finish, usage, end marker).
    static func closing(_ plan: MockExchange.StreamPlan, usage: Bool) -> [String] {
        let n = plan.tokens
        switch plan.api {
        case .chat, .completions:
            var out = [event(chunkJSON(plan, delta: plan.api == .chat ? "{}" : #""""#, finish: "stop"))]
            if usage {
                let object = plan.api == .chat ? "chat.completion.chunk" : "text_completion"
                out.append(event(#"{"id":""# + plan.id + #"","object":""# + object + #"","created":0,"model":"# + JSONText.quote(plan.model)
                                 + #","choices":[],"usage":"# + openAIUsage(plan) + "}"))
            }
            out.append(event("[DONE]"))
            return out
        case .responses:
            let full = JSONText.quote(text(tokens: n))
            let item = #"{"id":"msg_"# + plan.id + #"","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"#
                + full + #","annotations":[]}]}"#
            return [
                event(#"{"type":"response.output_text.done","sequence_number":"# + "\(3 + n)" + #","item_id":"msg_"# + plan.id
                      + #"","output_index":0,"content_index":0,"text":"# + full + "}", name: "response.output_text.done"),
                event(#"{"type":"response.output_item.done","sequence_number":"# + "\(4 + n)" + #","output_index":0,"item":"# + item + "}",
                      name: "response.output_item.done"),
                event(#"{"type":"response.completed","sequence_number":"# + "\(5 + n)" + #","response":"#
                      + responseObject(plan, status: "completed", text: text(tokens: n)) + "}", name: "response.completed"),
            ]
        case .dashscope:
            return [dashScopeEvent(plan, id: n + 1, content: plan.incremental ? "" : text(tokens: n), finish: "stop", outputTokens: n)]
        case .anthropic:
            return [
                event(#"{"type":"content_block_stop","index":0}"#, name: "content_block_stop"),
                event(#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":"#
                      + "\(n)}}", name: "message_delta"),
                event(#"{"type":"message_stop"}"#, name: "message_stop"),
            ]
        case .embeddings, .rerank:
            return []
        }
    }

    /// The whole JSON body of a non-streamed reply.
    static func body(_ plan: MockExchange.StreamPlan, usage: Bool) -> String {
        let reply = text(tokens: plan.tokens)
        let model = JSONText.quote(plan.model)
        switch plan.api {
        case .chat, .completions:
            let usageJSON = usage ? #","usage":"# + openAIUsage(plan) : ""
            if plan.api == .chat {
                return #"{"id":""# + plan.id + #"","object":"chat.completion","created":0,"model":"# + model
                    + #","choices":[{"index":0,"message":{"role":"assistant","content":"# + JSONText.quote(reply)
                    + #"},"finish_reason":"stop"}]"# + usageJSON + "}"
            }
            return #"{"id":""# + plan.id + #"","object":"text_completion","created":0,"model":"# + model
                + #","choices":[{"index":0,"text":"# + JSONText.quote(reply) + #","finish_reason":"stop"}]"# + usageJSON + "}"
        case .embeddings:
            let data = plan.items.indices.map { #"{"object":"embedding","index":\#($0),"embedding":[0.125,-0.25,0.5,1.0]}"# }
            return #"{"object":"list","data":["# + data.joined(separator: ",") + #"],"model":"# + model
                + #","usage":{"prompt_tokens":\#(plan.promptTokens),"total_tokens":\#(plan.promptTokens)}}"#
        case .rerank:
            let results = plan.items.indices.map {
                #"{"index":\#($0),"document":{"text":"# + JSONText.quote(plan.items[$0]) + #"},"relevance_score":"# + "\(1.0 / Double($0 + 1))}"
            }
            return #"{"id":""# + plan.id + #"","model":"# + model + #","usage":{"total_tokens":\#(plan.promptTokens)},"results":["#
                + results.joined(separator: ",") + "]}"
        case .responses:
            return responseObject(plan, status: "completed", text: reply)
        case .dashscope:
            return #"{"output":{"choices":[{"message":{"content":"# + JSONText.quote(reply) + #","role":"assistant"},"finish_reason":"stop"}]},"usage":"#
                + dashScopeUsage(plan, outputTokens: plan.tokens) + #","request_id":""# + plan.id + #""}"#
        case .anthropic:
            return #"{"id":""# + plan.id + #"","type":"message","role":"assistant","model":"# + model + #","content":[{"type":"text","text":"#
                + JSONText.quote(reply) + #"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":"#
                + "\(plan.promptTokens)" + #","output_tokens":"# + "\(plan.tokens)}}"
        }
    }

    /// An Anthropic error body (`{"type": "error", "error": {…}}`).
    static func anthropicError(_ message: String) -> String {
        #"{"type":"error","error":{"type":"invalid_request_error","message":"# + JSONText.quote(message) + "}}"
    }

    /// An OpenAI chat or completions chunk with one choice.
    static func chunkJSON(_ plan: MockExchange.StreamPlan, delta: String, finish: String?) -> String {
        let finishJSON = finish.map { "\"\($0)\"" } ?? "null"
        if plan.api == .chat {
            return #"{"id":""# + plan.id + #"","object":"chat.completion.chunk","created":0,"model":"# + JSONText.quote(plan.model)
                + #","choices":[{"index":0,"delta":"# + delta + #","finish_reason":"# + finishJSON + "}]}"
        }
        return #"{"id":""# + plan.id + #"","object":"text_completion","created":0,"model":"# + JSONText.quote(plan.model)
            + #","choices":[{"index":0,"text":"# + delta + #","finish_reason":"# + finishJSON + "}]}"
    }

    /// OpenAI `usage` for the whole reply.
    static func openAIUsage(_ plan: MockExchange.StreamPlan) -> String {
        #"{"prompt_tokens":\#(plan.promptTokens),"completion_tokens":\#(plan.tokens),"total_tokens":\#(plan.promptTokens + plan.tokens)}"#
    }

    /// A Responses API response object; `text` nil gives an empty `output` and `usage: null`.
    private static func responseObject(_ plan: MockExchange.StreamPlan, status: String, text: String?) -> String {
        var json = #"{"id":"resp_"# + plan.id + #"","object":"response","created_at":0,"status":""# + status + #"","model":"#
            + JSONText.quote(plan.model) + #","output":["#
        guard let text else { return json + #"],"usage":null}"# }
        json += #"{"id":"msg_"# + plan.id + #"","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"#
            + JSONText.quote(text) + #","annotations":[]}]}],"usage":{"input_tokens":"# + "\(plan.promptTokens)"
            + #","input_tokens_details":{"cached_tokens":0},"output_tokens":"# + "\(plan.tokens)"
            + #","output_tokens_details":{"reasoning_tokens":0},"total_tokens":"# + "\(plan.promptTokens + plan.tokens)}}"
        return json
    }

    /// A DashScope SSE event (`id:`, `event:result`, `:HTTP_STATUS/200`, `data:`) with cumulative usage.
    private static func dashScopeEvent(_ plan: MockExchange.StreamPlan, id: Int, content: String, finish: String, outputTokens: Int) -> String {
        "id:\(id)\nevent:result\n:HTTP_STATUS/200\ndata:" + #"{"output":{"choices":[{"message":{"content":"# + JSONText.quote(content)
            + #","role":"assistant"},"finish_reason":""# + finish + #""}]},"usage":"# + dashScopeUsage(plan, outputTokens: outputTokens)
            + #","request_id":""# + plan.id + "\"}\n\n"
    }

    /// DashScope `usage` after `outputTokens` tokens.
    private static func dashScopeUsage(_ plan: MockExchange.StreamPlan, outputTokens: Int) -> String {
        #"{"total_tokens":\#(plan.promptTokens + outputTokens),"output_tokens":\#(outputTokens),"input_tokens":\#(plan.promptTokens)}"#
    }
}
