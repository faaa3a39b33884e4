import Foundation
@testable import FastPerf

/// Real-format responses of the APIs that have no case file in `../shared/cases/`, written after the APIs'
/// own documentation examples (OpenAI "Streaming API responses" and "Create embeddings", vLLM/Jina rerank,
/// Anthropic "Messages", DashScope "Qwen API reference"), and variants of case-13 and case-19 their READMEs
/// describe. Bodies use LF; heads CRLF, as the case files do.
enum APIFixtures {
    /// A 200 SSE head, close-delimited (as the case files).
    static let sseHead = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\nconnection: close\r\n\r\n"

    /// A JSON response head with `content-length`.
    static func jsonHead(_ body: String, status: String = "200 OK") -> String {
        "HTTP/1.1 \(status)\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\nconnection: close\r\n\r\n"
    }

    /// The body of `case-NN.http` as text (everything after the head).
    static func caseBody(_ name: String) throws -> String {
        String(decoding: try CaseFixtures.load(name).body, as: UTF8.self)
    }

    /// The blocks of a body (each ending with its blank line).
    static func blocks(_ body: String) -> [String] {
        BenchmarkHarness.blocks(Array(body.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// case-13's success variant (its README): the first five blocks (`message_start` with input tokens 12,
    /// `content_block_start`, `ping`, `Hello`, ` wor`), then `content_block_stop`, `message_delta` with
    /// `stop_reason` and `usage.output_tokens` 2 (a running total: `message_start` said 1), `message_stop`.
    static func case13Success() throws -> String {
        try blocks(caseBody("case-13")).prefix(5).joined()
            + "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
            + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":2}}\n\n"
            + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
    }

    /// case-19's `incremental_output=false` variant (its README): every event carries the whole text so far —
    /// reasoning `Hmm` from id:1 on, content `Hello` at id:2, `Hello!` at id:3 and id:4.
    static func case19Cumulative() throws -> String {
        var b = blocks(try caseBody("case-19"))
        for k in 1..<4 { b[k] = b[k].replacingOccurrences(of: #""reasoning_content":"""#, with: #""reasoning_content":"Hmm""#) }
        b[2] = b[2].replacingOccurrences(of: #""content":"!""#, with: #""content":"Hello!""#)
        b[3] = b[3].replacingOccurrences(of: #""content":"","#, with: #""content":"Hello!","#)
        return b.joined()
    }

    /// A Responses API stream: created, in_progress, output_item.added, content_part.added, three text deltas
    /// (`Hi`, ` there`, `!`), the done events and `response.completed` with usage 37 in / 3 out. 10 blocks.
    static let responsesStream: String = {
        let id = "resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654"
        let msg = "msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654"
        let pending = #"{"id":"\#(id)","object":"response","created_at":1741290958,"status":"in_progress","error":null,"incomplete_details":null,"instructions":null,"max_output_tokens":64,"model":"gpt-4.1-2025-04-14","output":[],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":0.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":null,"user":null,"metadata":{}}"#
        let item = #"{"id":"\#(msg)","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi there!","annotations":[]}]}"#
        func delta(_ n: Int, _ text: String) -> String {
            "event: response.output_text.delta\ndata: " + #"{"type":"response.output_text.delta","sequence_number":\#(n),"item_id":"\#(msg)","output_index":0,"content_index":0,"delta":"\#(text)"}"# + "\n\n"
        }
        return "event: response.created\ndata: " + #"{"type":"response.created","sequence_number":0,"response":\#(pending)}"# + "\n\n"
            + "event: response.in_progress\ndata: " + #"{"type":"response.in_progress","sequence_number":1,"response":\#(pending)}"# + "\n\n"
            + "event: response.output_item.added\ndata: " + #"{"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"\#(msg)","type":"message","status":"in_progress","role":"assistant","content":[]}}"# + "\n\n"
            + "event: response.content_part.added\ndata: " + #"{"type":"response.content_part.added","sequence_number":3,"item_id":"\#(msg)","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}"# + "\n\n"
            + delta(4, "Hi") + delta(5, " there") + delta(6, "!")
            + "event: response.output_text.done\ndata: " + #"{"type":"response.output_text.done","sequence_number":7,"item_id":"\#(msg)","output_index":0,"content_index":0,"text":"Hi there!"}"# + "\n\n"
            + "event: response.output_item.done\ndata: " + #"{"type":"response.output_item.done","sequence_number":8,"output_index":0,"item":\#(item)}"# + "\n\n"
            + "event: response.completed\ndata: " + #"{"type":"response.completed","sequence_number":9,"response":{"id":"\#(id)","object":"response","created_at":1741290958,"status":"completed","error":null,"model":"gpt-4.1-2025-04-14","output":[\#(item)],"usage":{"input_tokens":37,"input_tokens_details":{"cached_tokens":0},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":40}}}"# + "\n\n"
    }()

    /// A Responses API stream that fails after one delta: created, `Hi`, then `response.failed` with
    /// `server_error`.
    static let responsesFailed = "event: response.created\ndata: "
        + #"{"type":"response.created","sequence_number":0,"response":{"id":"resp_f","object":"response","status":"in_progress","output":[],"usage":null}}"# + "\n\n"
        + "event: response.output_text.delta\ndata: "
        + #"{"type":"response.output_text.delta","sequence_number":1,"item_id":"msg_f","output_index":0,"content_index":0,"delta":"Hi"}"# + "\n\n"
        + "event: response.failed\ndata: "
        + #"{"type":"response.failed","sequence_number":2,"response":{"id":"resp_f","object":"response","status":"failed","error":{"code":"server_error","message":"The model failed to generate a response."},"output":[],"usage":null}}"# + "\n\n"

    /// A non-streamed Responses API body (status completed, 36 in / 87 out tokens, 0 reasoning).
    static let responsesBody = #"{"id":"resp_67ccd3a9da748190baa7f1570fe91ac604becb25c45c1d41","object":"response","created_at":1741476777,"status":"completed","error":null,"incomplete_details":null,"model":"gpt-4o-2024-08-06","output":[{"type":"message","id":"msg_67ccd3acc8d48190a77525dc6de64b4104becb25c45c1d41","status":"completed","role":"assistant","content":[{"type":"output_text","text":"The image depicts a scenic landscape.","annotations":[]}]}],"usage":{"input_tokens":328,"input_tokens_details":{"cached_tokens":0},"output_tokens":52,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":380}}"#

    /// OpenAI "Create embeddings" response for two inputs (usage 8 prompt tokens).
    static let embeddingsBody = #"{"object":"list","data":[{"object":"embedding","embedding":[0.0023064255,-0.009327292,-0.0028842222],"index":0},{"object":"embedding","embedding":[0.0013064255,0.019327292,-0.0018842222],"index":1}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}"#

    /// A vLLM/Jina-style rerank response (usage 26 total tokens; no `prompt_tokens`).
    static let rerankBody = #"{"id":"rerank-6b7a3a1d","model":"BAAI/bge-reranker-base","usage":{"total_tokens":26},"results":[{"index":1,"document":{"text":"The capital of France is Paris."},"relevance_score":0.99853515625},{"index":0,"document":{"text":"The capital of Brazil is Brasilia."},"relevance_score":0.0005860328674316406}]}"#

    /// Hugging Face TEI's `/rerank` answer: a bare array, no usage.
    static let teiRerankBody = #"[{"index":1,"score":0.9976404},{"index":0,"score":0.0012035}]"#

    /// An Anthropic "Messages" non-streamed body (input 2095, output 503 tokens).
    static let anthropicBody = #"{"id":"msg_013Zva2CMHLNnXjNJJKqJ2EF","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[{"type":"text","text":"Hi! My name is Claude."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":2095,"output_tokens":503}}"#

    /// A DashScope non-streamed body (`result_format: message`; 22 in / 9 out tokens).
    static let dashScopeBody = #"{"output":{"choices":[{"finish_reason":"stop","message":{"role":"assistant","content":"I am Qwen, a large language model."}}]},"usage":{"total_tokens":31,"output_tokens":9,"input_tokens":22},"request_id":"09dceb20-ae2e-999b-85f9-c5ab266198c0"}"#

    /// A DashScope error body (HTTP 400).
    static let dashScopeError = #"{"code":"InvalidParameter","message":"Range of input length should be [1, 30720]","request_id":"7a1e0f4c-2b45-9b0e-a0d1-8b9b6e8f3e0a"}"#
}
