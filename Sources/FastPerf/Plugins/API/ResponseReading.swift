import Foundation

/// Response-side steps every built-in API plugin shares (writer thread; Foundation `JSONDecoder`):
/// walking the SSE events of a record as decoded JSON, and reading a whole (non-SSE) JSON body.
enum ResponseReading {
    private static let doneMarker: [UInt8] = Array("[DONE]".utf8)
    private static let errorEventName: [UInt8] = Array("error".utf8)

    /// Decodes `bytes` as JSON `T`. Bytes that are not well-formed UTF-8 are decoded after Swift's repair (each
    /// ill-formed part U+FFFD, as `response_messages` stores them): `JSONDecoder` refuses them, and the lenient
    /// shapes then quietly drop the field that held them (a server's stray byte in a text lost that text, and a
    /// body with it its output: `no_output`).
    /// - Throws: the decoder's error for bytes that are not the JSON `T`.
    static func decodeJSON<T: Decodable>(_ type: T.Type, from bytes: ArraySlice<UInt8>, decoder: JSONDecoder) throws -> T {
        if OpenAIChunkScanner.isValidUTF8(bytes.span) { return try decoder.decode(T.self, from: Data(bytes)) }
        return try decoder.decode(T.self, from: Data(String(decoding: bytes, as: UTF8.self).utf8))
    }

    /// Decodes every SSE event's data as `T` and hands it to `visit(index, value, isErrorEvent, &parsed)` in order.
    /// Empty data and `[DONE]` are skipped (no API below sends `[DONE]`; a proxy may add it). Data that is not
    /// valid JSON is counted in `parsed.undecodableEvents`; when it came in an `event: error` event its first
    /// 200 bytes become `parsed.errorMessage` (the first error wins).
    static func forEachEvent<T: Decodable>(_ type: T.Type, in record: RequestRecord, parsed: inout ParsedResponse,
                                           _ visit: (Int, T, Bool, inout ParsedResponse) -> Void) {
        let decoder = Self.decoder()
        for i in record.events.indices {
            let data = OpenAIPlugin.trimmed(record.eventData(i))
            if data.isEmpty || data.elementsEqual(doneMarker) { continue }
            let isError = record.eventName(i).elementsEqual(errorEventName)
            guard let value = try? decodeJSON(T.self, from: data, decoder: decoder) else {
                parsed.undecodableEvents += 1
                if isError, parsed.errorMessage == nil {
                    parsed.errorMessage = "error event: " + OpenAIPlugin.textPrefix(data, limit: 200)
                }
                continue
            }
            visit(i, value, isError, &parsed)
        }
    }

    /// Decodes a whole non-SSE body as `T` (with `decoder`, by default `decoder()`). When it is not JSON: a
    /// 2xx sets `parsed.malformed` (the endpoint sent neither SSE nor JSON), a non-2xx sets
    /// `parsed.errorMessage` to the body's first 200 bytes; either way nil is returned. A 2xx event stream
    /// where a JSON body was expected is malformed too.
    static func decodeBody<T: Decodable>(_ type: T.Type, in record: RequestRecord, parsed: inout ParsedResponse,
                                         decoder: JSONDecoder = decoder()) -> T? {
        let body = OpenAIPlugin.trimmed(record.payload[...])
        let is2xx = isSuccess(record)
        if record.isEventStream {
            if is2xx { parsed.malformed = "expected a JSON body, got an event stream" }
            return nil
        }
        if let value = try? decodeJSON(T.self, from: body, decoder: decoder) { return value }
        if is2xx {
            let hint = body.starts(with: Array("data:".utf8)) ? " (looks like SSE without a text/event-stream content type)" : ""
            parsed.malformed = body.isEmpty
                ? "empty response body (not SSE and not JSON)"
                : "response is not SSE and not a JSON object\(hint): " + OpenAIPlugin.textPrefix(body, limit: 80)
        } else if !body.isEmpty {
            parsed.errorMessage = OpenAIPlugin.textPrefix(body, limit: 200)
        }
        return nil
    }

    /// A `JSONDecoder` that maps snake_case keys to the camelCase properties of the `Lenient` JSON shapes.
    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    /// The status is 2xx.
    static func isSuccess(_ record: RequestRecord) -> Bool { (200..<300).contains(record.httpStatus) }

    /// The error text of a non-2xx JSON body that had no recognised error object: its first 200 bytes.
    static func bodyText(_ record: RequestRecord) -> String {
        OpenAIPlugin.textPrefix(OpenAIPlugin.trimmed(record.payload[...]), limit: 200)
    }
}

/// A JSON string, or an array of content parts whose `text` fields are joined (multimodal replies:
/// DashScope's `content: [{"text": …}]`, OpenAI-style `[{"type": "text", "text": …}]`).
struct TextOrPartsJSON: Decodable {
    var text: String

    private struct Part: Decodable {
        var text: String?
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            text = s
        } else {
            text = try c.decode([Part].self).compactMap(\.text).joined()
        }
    }
}

extension TextOrPartsJSON {
    /// A plain text.
    init(text: String) { self.text = text }
}

/// A `usage` object named with input/output tokens: the Responses API (`input_tokens`, `output_tokens`,
/// `output_tokens_details.reasoning_tokens`), DashScope (the same keys) and Anthropic (`input_tokens`,
/// `output_tokens`, `cache_creation_input_tokens`, `cache_read_input_tokens`). Every field lenient.
struct InputOutputUsageJSON: Decodable {
    @Lenient var inputTokens: Int?
    @Lenient var outputTokens: Int?
    @Lenient var outputTokensDetails: Details?
    /// Anthropic prompt caching: tokens written to / read from the cache, not included in `input_tokens`.
    @Lenient var cacheCreationInputTokens: Int?
    @Lenient var cacheReadInputTokens: Int?

    struct Details: Decodable {
        @Lenient var reasoningTokens: Int?
    }

    /// Prompt tokens: `input_tokens` plus the cache creation and cache read tokens (Anthropic counts those
    /// apart; the prompt the model read is their sum); nil when `input_tokens` is absent.
    var promptTokens: Int? {
        inputTokens.map { $0 + (cacheCreationInputTokens ?? 0) + (cacheReadInputTokens ?? 0) }
    }

    /// Overwrites `parsed`'s counts with those present here (usage objects are running totals: the last wins).
    func apply(to parsed: inout ParsedResponse) {
        parsed.promptTokens = promptTokens ?? parsed.promptTokens
        parsed.completionTokens = outputTokens ?? parsed.completionTokens
        parsed.reasoningTokens = outputTokensDetails?.reasoningTokens ?? parsed.reasoningTokens
    }
}

/// A field decoded leniently, so that `Decodable` synthesis reads real servers' JSON: a missing key, `null` or
/// a value of an unexpected type (a number where a string belongs) gives nil instead of failing the whole
/// object. Used with a decoder whose keys are converted from snake_case (`ResponseReading.decoder`).
@propertyWrapper
struct Lenient<Value: Decodable>: Decodable {
    var wrappedValue: Value?

    init(wrappedValue: Value? = nil) { self.wrappedValue = wrappedValue }

    init(from decoder: any Decoder) throws { wrappedValue = try? Value(from: decoder) }
}

extension KeyedDecodingContainer {
    /// A `Lenient` field whose key is missing decodes as nil (synthesis would otherwise throw `keyNotFound`).
    func decode<Value>(_ type: Lenient<Value>.Type, forKey key: Key) throws -> Lenient<Value> {
        (try? decodeIfPresent(type, forKey: key)) ?? Lenient()
    }
}
