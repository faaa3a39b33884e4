/// One chat message, OpenAI style.
public struct Message: Sendable, Codable, Equatable {
    public var role: String
    public var content: String
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// One item a dataset plugin yields (evalscope's `build_messages` items).
public enum DatasetItem: Sendable, Equatable {
    /// A conversation, sent as `messages`.
    case messages([Message])
    /// A plain prompt: a user message for chat endpoints, `prompt` for `/v1/completions`.
    case prompt(String)
    /// A whole request body (a JSON object, as text); flag values only fill keys it lacks.
    case body(String)
    /// An item whose reply length the dataset fixes (e.g. `sharegpt` with `output_from_reply`): the API's
    /// `max_tokens` (or its equivalent) is this value, in tokens, overriding `--max-tokens`.
    indirect case withMaxTokens(DatasetItem, Int)
}

/// A request rendered before the run: the loop only sends these bytes.
public struct APIRequest: Sendable {
    /// Extra headers this request needs beyond the run's (name, value).
    public var headers: [(String, String)]
    /// The JSON body as sent, UTF-8.
    public var body: [UInt8]
    /// The body asks for a streamed response.
    public var isStream: Bool

    public init(headers: [(String, String)] = [], body: [UInt8], isStream: Bool) {
        self.headers = headers
        self.body = body
        self.isStream = isStream
    }
}

/// What an API plugin read from one response, on the writer thread.
public struct ParsedResponse: Sendable, Equatable {
    /// Indices into `RequestRecord.events` of output-bearing events (DESIGN.md §3), in order.
    /// Empty for a non-streamed response.
    public var outputEventIndices: [Int] = []
    /// `usage.prompt_tokens` of the last usage object; nil when the server sent none.
    public var promptTokens: Int?
    /// `usage.completion_tokens` of the last usage object; nil when the server sent none.
    public var completionTokens: Int?
    /// A terminal marker was seen: `[DONE]`, a `finish_reason` on every choice, or a complete non-stream body.
    public var sawTerminalMarker: Bool = false
    /// Error text of an in-band error object/event in a 2xx response, or the error body of a non-2xx one.
    public var errorMessage: String?
    /// The response is not what the endpoint should send (e.g. a 200 that is neither SSE nor JSON).
    public var malformed: String?
    /// Generated text (`content`/`text` deltas joined).
    public var generatedText: String = ""
    /// Reasoning text (`reasoning_content`/`reasoning` deltas joined).
    public var reasoningText: String = ""
    /// Number of SSE events whose data was not valid JSON (excluding `[DONE]`).
    public var undecodableEvents: Int = 0
    /// Number of `tool_calls` entries seen (stream deltas or non-stream messages); a tool call is output
    /// (DESIGN.md §3 "output-bearing event"), so a non-stream reply with only tool calls is not `no_output`.
    public var toolCallCount: Int = 0
    /// Reasoning tokens the server reported (`output_tokens_details.reasoning_tokens` and the like), part of
    /// `completionTokens`; nil when not reported.
    public var reasoningTokens: Int?
    /// Whether success needs an output token. False for APIs that generate none (embeddings, rerank): there a
    /// complete 2xx body is a success and `completionTokens` is 0.
    public var expectsOutput: Bool = true
    /// Token chunks the OpenAI plugin read as their stream's shape (the writer escapes such events'
    /// `response_messages` text from the shape's escaped bytes); empty for other plugins.
    var eventShapes = EventShapes()

    public init() {}
}

/// Which SSE events are token chunks that share all their bytes but one raw text with an earlier chunk of the same
/// stream, its "shape" (`OpenAIChunkScanner.Shape`), so that an encoder can reuse the work it did on the shared
/// bytes. Offsets are into `RequestRecord.payload`, lengths in bytes.
struct EventShapes: Sendable, Equatable {
    /// A shape: where its chunk's data starts, how many bytes come before its text and how many from the text's
    /// closing quote on.
    struct Shape: Sendable, Equatable {
        var start: Int
        var prefix: Int
        var tail: Int
    }
    var shapes: [Shape] = []
    /// Per event: the index in `shapes` of the shape its whole data matched (bytes before and after the text equal
    /// the shape chunk's), or -1. Empty when no event matched.
    var ofEvent: [Int32] = []

    /// Notes that event `event` (of `count` events) matched `shape` with its whole data.
    mutating func note(event: Int, of count: Int, shape: Shape) {
        if ofEvent.isEmpty { ofEvent = [Int32](repeating: -1, count: count) }
        if shapes.last != shape { shapes.append(shape) }
        ofEvent[event] = Int32(shapes.count - 1)
    }
}

/// An API plugin: renders request bodies before the run and reads responses on the writer thread
/// (evalscope's `build_request` / `parse_responses`). Never called on a loop thread. Registered by name in
/// `PluginRegistry` (DESIGN §6). A plugin that throws from `buildRequest` stops the run before it starts
/// with a one-line error; one that throws from `parseResponses` turns that request into a failed row
/// (`protocol_error`) carrying the error text.
public protocol APIPlugin: Sendable {
    /// The URL path suffix this API expects when `--url` names only a host (e.g. `/v1/chat/completions`).
    var defaultPath: String { get }
    /// Renders one dataset item into a request body. Throws `FastPerfError` for an item it cannot send.
    func buildRequest(_ item: DatasetItem, arguments: RunArguments, path: String) throws -> APIRequest
    /// Reads one finished response: output-bearing events, usage, terminal marker, errors.
    func parseResponses(_ record: RequestRecord, request: APIRequest) throws -> ParsedResponse
    /// The headers that carry `--api-key` (default: `Authorization: Bearer KEY`, as OpenAI and DashScope
    /// expect; Anthropic uses `x-api-key`).
    func authorizationHeaders(apiKey: String) -> [(String, String)]
}

extension APIPlugin {
    /// `Authorization: Bearer KEY` (OpenAI API reference, "Authentication").
    public func authorizationHeaders(apiKey: String) -> [(String, String)] {
        [("Authorization", "Bearer \(apiKey)")]
    }
}
