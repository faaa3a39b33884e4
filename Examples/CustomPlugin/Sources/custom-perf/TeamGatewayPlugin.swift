import FastPerf
import Foundation

/// An API plugin for a (made-up) team gateway in front of an OpenAI-compatible server: every request gets the
/// team's system prompt and an `X-Team` header, and a reply that starts with `REFUSED:` counts as a failure.
///
/// `buildRequest` runs before the benchmark starts (once per request); `parseResponses` runs on FastPerf's
/// writer thread for every finished response. The response side reuses FastPerf's OpenAI reader and only
/// adds the gateway's rule.
struct TeamGatewayPlugin: APIPlugin {
    /// The gateway's chat-completions body (OpenAI's shape, keys as the API names them).
    struct Body: Encodable {
        var model: String
        var messages: [Message]
        var max_tokens: Int
        var stream: Bool
        var stream_options: [String: Bool]?
    }

    /// The system prompt the gateway expects first in every conversation.
    let systemPrompt = "You are the team's benchmark assistant. Answer briefly."

    /// Used when `--url` has no path.
    var defaultPath: String { "/v1/chat/completions" }

    func buildRequest(_ item: DatasetItem, arguments: RunArguments, path: String) throws -> APIRequest {
        guard let conversation = item.messages else {
            throw FastPerfError("team gateway: whole request bodies are not supported; use a prompt or messages dataset")
        }
        let body = Body(
            model: arguments.model,
            messages: [Message(role: "system", content: systemPrompt)] + conversation,
            max_tokens: item.maxTokens ?? arguments.maxTokens ?? 256,
            stream: arguments.stream,
            stream_options: arguments.stream ? ["include_usage": true] : nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return APIRequest(headers: [("X-Team", "perf-example")], body: [UInt8](try encoder.encode(body)), isStream: arguments.stream)
    }

    func parseResponses(_ record: RequestRecord, request: APIRequest) throws -> ParsedResponse {
        var parsed = OpenAIPlugin().parseResponses(record, request: request)
        if parsed.errorMessage == nil && parsed.generatedText.hasPrefix("REFUSED:") {
            parsed.errorMessage = "gateway refused: " + parsed.generatedText.dropFirst(8)
        }
        return parsed
    }
}
