import Foundation

/// The `openai` API plugin: OpenAI-compatible `/v1/chat/completions` and `/v1/completions`
/// (vLLM, SGLang, TGI, llama.cpp, OpenRouter, …), evalscope's `OpenaiPlugin`.
///
/// Request side (EVALSCOPE-PERF §2.4): renders one JSON body per dataset item before the run.
/// Response side (DESIGN §3, EVALSCOPE-PERF §2.5): finds output-bearing SSE events, the last
/// `usage` object, the terminal marker and in-band errors, on the writer thread.
public struct OpenAIPlugin: APIPlugin {
    /// Creates the plugin; it has no state.
    public init() {}

    /// `/v1/chat/completions`: the path used when `--url` names only a host.
    public var defaultPath: String { "/v1/chat/completions" }

    // MARK: - Requests

    /// Whether `path` selects the legacy completions API (`prompt` instead of `messages`): it ends with
    /// `/completions` but not `chat/completions` (a query string is ignored).
    public static func isCompletionsPath(_ path: String) -> Bool {
        let bare = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? path
        return bare.hasSuffix("/completions") && !bare.hasSuffix("chat/completions")
    }

    /// Renders `item` into a compact UTF-8 JSON body (non-ASCII and `/` not escaped, keys sorted).
    ///
    /// - `.messages` → `messages` (chat) or `prompt` = the contents joined with `"\n"` (completions path).
    /// - `.prompt(s)` → `messages: [{"role":"user","content":s}]` (chat) or `prompt: s` (completions).
    /// - `.body(json)` → that object is the body; flag values below only fill keys it lacks.
    /// - `.withMaxTokens(item, n)` → `item`, with `max_tokens` = n whatever the flags say.
    ///
    /// Then the flags: `model`, `max_tokens`, `min_tokens`, `temperature`, `top_p`, `top_k`, `seed`, `stop`
    /// (each only when set), `stream` (always), then `--extra-args` merged last (overriding), and finally
    /// `stream_options: {"include_usage": true}` when the final body streams and has no `stream_options`.
    /// `isStream` is the final body's `stream`.
    /// - Throws: `FastPerfError` when `--extra-args` or a body item is not a JSON object.
    public func buildRequest(_ item: DatasetItem, arguments: RunArguments, path: String) throws -> APIRequest {
        let completions = Self.isCompletionsPath(path)
        var body = try RequestBody(item: item) { base in
            if completions { return ["prompt": base.promptText ?? ""] }
            return ["messages": RequestBody.messagesJSON(base.messages ?? [])]
        }
        body.set([.model, .maxTokens("max_tokens"), .minTokens, .temperature, .topP, .topK, .seed, .stop("stop"), .stream],
                 from: arguments)
        try body.mergeExtraArgs(arguments)

        let isStream = body.streams
        if isStream && body.object["stream_options"] == nil {
            body.object["stream_options"] = ["include_usage": true]
        }
        return APIRequest(headers: [], body: try body.encoded(), isStream: isStream)
    }

    // MARK: - Responses

    /// Reads one finished response (writer thread). Streamed when `record.isEventStream`.
    ///
    /// Stream: per SSE event, `[DONE]` is the terminal marker; other data is decoded as JSON (failures
    /// counted in `undecodableEvents`); a top-level `error` (or an `event: error`) sets `errorMessage`
    /// (the first one wins); an event is output-bearing when any choice's `delta` has non-empty `content`,
    /// `reasoning_content`/`reasoning`, a non-empty `tool_calls`, or a non-empty `text` (completions);
    /// `usage` fields are taken from the last usage object (never summed); every choice index seen having
    /// a `finish_reason` is also a terminal marker.
    /// Non-stream: `payload` is the JSON body (`choices[].message` or `choices[].text`, `usage`, `error`);
    /// a 2xx body with choices is the terminal marker; a 2xx body that is not JSON sets `malformed`;
    /// a non-2xx body sets `errorMessage` (its `error` object, or its first 200 bytes of text).
    public func parseResponses(_ record: RequestRecord, request: APIRequest) -> ParsedResponse {
        parseResponses(record, needs: .all)
    }

    /// `parseResponses(_:request:)`, leaving out of a stream's reading what the run does not use (`needs`): its
    /// `eventShapes`, and its texts (their bytes are not copied; the events that carry text are found all the same).
    /// `memo`: chunk endings read in earlier streams by the same thread (`ChunkMemo`), used and filled.
    func parseResponses(_ record: RequestRecord, needs: ResponseNeeds, memo: ChunkMemo? = nil) -> ParsedResponse {
        if record.isEventStream {
            return parseStream(record, needs: needs, memo: memo)
        }
        return parseBody(record)
    }

    private func parseStream(_ record: RequestRecord, needs: ResponseNeeds, memo: ChunkMemo?) -> ParsedResponse {
        var parsed = ParsedResponse()
        var decoder: JSONDecoder?
        var sawDone = false
        // Choice index → whether that choice has carried a non-null finish_reason.
        var finished = ChoiceFlags()
        // One chunk's facts, reused (no allocation per event); text is gathered as bytes, made a String once.
        var facts = ChunkFacts()
        var template = OpenAIChunkScanner.Template()
        var text = StreamText()
        let payload = record.payload.span
        // The token chunks of a stream mostly match its shape with their whole data, one after another: such a run
        // is matched in one pass (`matchRun`), the shape's facts read once per shape (`shapeFacts`) and noted once
        // per run where they are the same for each chunk.
        var shapeFacts = template.shape?.facts
        var next = 0  // the first event not read yet
        for (i, mark) in record.events.enumerated() where i >= next {
            if mark.nameLength == 0, let f = shapeFacts {
                // One access to each captured variable per run, not per chunk (the run's loop is not a closure).
                next = record.payload.withUnsafeBufferPointer { p in
                    record.events.withUnsafeBufferPointer { events in
                        Self.matchRun(p, events, from: i, f, needs: needs, parsed: &parsed, text: &text)
                    }
                }
                if next > i { continue }
            }
            text.join(payload)  // text this reading adds goes after the pieces noted so far
            let shapeRange = template.shape?.range
            defer {
                // A chunk read in full may have become the stream's new shape.
                if template.shape?.range != shapeRange { shapeFacts = template.shape?.facts }
            }
            var lo = Int(mark.dataOffset)
            var hi = lo + Int(mark.dataLength)
            while lo < hi, Self.isSpace(payload[lo]) { lo += 1 }
            while hi > lo, Self.isSpace(payload[hi - 1]) { hi -= 1 }
            if lo == hi { continue }
            if hi - lo == 6, OpenAIChunkScanner.word(payload, lo, 6) == Self.doneMarkerWord {
                sawDone = true
                continue
            }
            let isErrorEvent = mark.nameLength == 5
                && OpenAIChunkScanner.word(payload, Int(mark.nameOffset), 5) == Self.errorEventNameWord
            // A token chunk like the stream's shape read another way (named, or with spaces around its data).
            if !isErrorEvent, let f = shapeFacts,
               let chunkText = template.shape.unsafelyUnwrapped.text(payload, lo..<hi) {
                Self.noteShapeChunk(i, chunkText, f, whole: lo == Int(mark.dataOffset) && hi == lo + Int(mark.dataLength),
                                    needs: needs, payload: payload, eventCount: record.events.count, parsed: &parsed,
                                    text: &text)
                Self.noteShapeFacts(f, chunks: 1, into: &parsed)
                continue
            }
            let event = payload.extracting(lo..<hi)
            if OpenAIChunkScanner.scan(payload, lo..<hi, into: &facts, template: &template, memo: memo) {
                // The scan refuses chunks with a top-level `error` or `message`.
                noteError(nil, message: nil, isErrorEvent: isErrorEvent, record.payload[lo..<hi], into: &parsed)
            } else {
                let chunk: ChunkJSON
                do {
                    if decoder == nil { decoder = JSONDecoder() }
                    chunk = try ResponseReading.decodeJSON(ChunkJSON.self, from: record.payload[lo..<hi], decoder: decoder!)
                } catch {
                    parsed.undecodableEvents += 1
                    if isErrorEvent, parsed.errorMessage == nil {
                        parsed.errorMessage = "error event: " + Self.textPrefix(record.payload[lo..<hi], limit: 200)
                    }
                    continue
                }
                noteError(chunk.error, message: chunk.message, isErrorEvent: isErrorEvent, record.payload[lo..<hi],
                          into: &parsed)
                facts.load(chunk)
            }
            Self.noteUsage(facts.promptTokens, facts.completionTokens, into: &parsed)
            var outputBearing = false
            for (position, choice) in facts.choices.enumerated() {
                finished.see(choice.index ?? position, finished: choice.finished)
                if let c = choice.content, !c.isEmpty {
                    if needs.streamText { facts.append(c, from: event, to: &text.generated) }
                    outputBearing = true
                }
                if let r = choice.reasoningContent ?? choice.reasoning, !r.isEmpty {
                    if needs.streamText { facts.append(r, from: event, to: &text.reasoning) }
                    outputBearing = true
                }
                if choice.toolCallCount > 0 {
                    parsed.toolCallCount += choice.toolCallCount
                    outputBearing = true
                }
                if let t = choice.text, !t.isEmpty {
                    if needs.streamText { facts.append(t, from: event, to: &text.generated) }
                    outputBearing = true
                }
            }
            if outputBearing { Self.noteOutput(i, eventCount: record.events.count, into: &parsed) }
        }
        // Every piece is valid UTF-8 (the scan checks it; the decoder gives Strings), so one String of all the
        // bytes equals the pieces' Strings joined.
        if needs.streamText { (parsed.generatedText, parsed.reasoningText) = text.strings(payload) }
        parsed.sawTerminalMarker = sawDone || finished.allFinished
        return parsed
    }

    /// Reads the run of token chunks from `events[first]` on that match their stream's shape (`f`) with their whole
    /// data (`OpenAIChunkScanner.Shape.matchText`) into `parsed` and `text`; returns the index after the run
    /// (`first` when `events[first]` does not match). Usage and tool calls are noted once for the run: every chunk
    /// of it has the shape's.
    private static func matchRun(_ p: UnsafeBufferPointer<UInt8>, _ events: UnsafeBufferPointer<SSEEventMark>,
                                 from first: Int, _ f: OpenAIChunkScanner.Shape.Facts, needs: ResponseNeeds,
                                 parsed: inout ParsedResponse, text: inout StreamText) -> Int {
        var k = first
        while k < events.count {
            let mark = events[k]
            guard mark.nameLength == 0, let chunkText = OpenAIChunkScanner.Shape.matchText(
                p, Int(mark.dataOffset)..<Int(mark.dataOffset) + Int(mark.dataLength), start: f.start,
                prefix: f.prefix, tailStart: f.tailStart, tail: f.tail) else { break }
            noteShapeChunk(k, chunkText, f, whole: true, needs: needs, payload: p.span, eventCount: events.count,
                           parsed: &parsed, text: &text)
            k += 1
        }
        noteShapeFacts(f, chunks: k - first, into: &parsed)
        return k
    }

    /// Notes token chunk `k` of `eventCount` events, read as its stream's shape `f` with its own text at
    /// `chunkText` of `payload` (`whole`: its data untrimmed): its event shape, its text and whether it carries
    /// output. The shape chunk's choice has already been seen for `finish_reason`; usage and tool calls go by
    /// `noteShapeFacts`.
    @inline(__always)
    private static func noteShapeChunk(_ k: Int, _ chunkText: Range<Int>, _ f: OpenAIChunkScanner.Shape.Facts,
                                       whole: Bool, needs: ResponseNeeds, payload: Span<UInt8>, eventCount: Int,
                                       parsed: inout ParsedResponse, text: inout StreamText) {
        if needs.eventShapes && whole {
            parsed.eventShapes.note(event: k, of: eventCount, shape: .init(start: f.start, prefix: f.prefix, tail: f.tail))
        }
        if !chunkText.isEmpty && needs.streamText {
            text.note(chunkText, reasoning: f.field.isReasoning, of: payload, events: eventCount - k)
        }
        if !chunkText.isEmpty || f.toolCallCount > 0 { noteOutput(k, eventCount: eventCount, into: &parsed) }
    }

    /// The usage and tool calls of `chunks` token chunks read as shape `f` (each has the shape's).
    @inline(__always)
    private static func noteShapeFacts(_ f: OpenAIChunkScanner.Shape.Facts, chunks: Int, into parsed: inout ParsedResponse) {
        guard chunks > 0 else { return }
        noteUsage(f.promptTokens, f.completionTokens, into: &parsed)
        parsed.toolCallCount += f.toolCallCount * chunks
    }

    /// A chunk's usage: the last one a stream sends wins (never summed).
    @inline(__always)
    private static func noteUsage(_ prompt: Int?, _ completion: Int?, into parsed: inout ParsedResponse) {
        if let prompt { parsed.promptTokens = prompt }
        if let completion { parsed.completionTokens = completion }
    }

    /// Event `k` of `eventCount` carries output (DESIGN.md §3).
    @inline(__always)
    private static func noteOutput(_ k: Int, eventCount: Int, into parsed: inout ParsedResponse) {
        if parsed.outputEventIndices.isEmpty { parsed.outputEventIndices.reserveCapacity(eventCount - k) }
        parsed.outputEventIndices.append(k)
    }

    /// The first in-band error of a stream wins: a chunk's `error` object, else, for an `event: error`, its
    /// `message` or its first 200 bytes.
    private func noteError(_ error: ErrorJSON?, message: String?, isErrorEvent: Bool, _ data: ArraySlice<UInt8>,
                           into parsed: inout ParsedResponse) {
        guard parsed.errorMessage == nil else { return }
        if let error {
            parsed.errorMessage = error.summary
        } else if isErrorEvent {
            parsed.errorMessage = message ?? ("error event: " + Self.textPrefix(data, limit: 200))
        }
    }

    private func parseBody(_ record: RequestRecord) -> ParsedResponse {
        var parsed = ParsedResponse()
        let is2xx = (200..<300).contains(record.httpStatus)
        let body = Self.trimmed(record.payload[...])
        guard let chunk = ResponseReading.decodeBody(ChunkJSON.self, in: record, parsed: &parsed, decoder: JSONDecoder()) else {
            return parsed
        }
        if let error = chunk.error {
            parsed.errorMessage = error.summary
        } else if !is2xx {
            parsed.errorMessage = chunk.message ?? Self.textPrefix(body, limit: 200)
        }
        if let usage = chunk.usage {
            parsed.promptTokens = usage.promptTokens
            parsed.completionTokens = usage.completionTokens
        }
        if let choices = chunk.choices {
            for choice in choices {
                if let message = choice.message {
                    if let c = message.content { parsed.generatedText += c }
                    if let r = message.reasoningContent ?? message.reasoning { parsed.reasoningText += r }
                    parsed.toolCallCount += message.toolCallCount
                }
                if let t = choice.text { parsed.generatedText += t }
            }
            parsed.sawTerminalMarker = true
        } else if is2xx && chunk.error == nil {
            parsed.malformed = "JSON response has no choices: " + Self.textPrefix(body, limit: 80)
        }
        return parsed
    }

    // MARK: - Byte helpers

    /// `[DONE]` and `error` as little-endian words (`OpenAIChunkScanner.word`).
    private static let doneMarkerWord: UInt64 = 0x5D45_4E4F_445B
    private static let errorEventNameWord: UInt64 = 0x72_6f72_7265

    @inline(__always)
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    /// `bytes` without leading and trailing ASCII whitespace.
    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var lo = bytes.startIndex
        var hi = bytes.endIndex
        while lo < hi, isSpace(bytes[lo]) { lo += 1 }
        while hi > lo, isSpace(bytes[hi - 1]) { hi -= 1 }
        return bytes[lo..<hi]
    }

    /// The first `limit` bytes of `bytes` as one line of text (invalid UTF-8 repaired, newlines → spaces).
    static func textPrefix(_ bytes: ArraySlice<UInt8>, limit: Int) -> String {
        oneLine(String(decoding: bytes.prefix(limit), as: UTF8.self), limit: limit)
    }

    /// `text` with line breaks replaced by spaces, cut to `limit` characters (with `…` when cut).
    static func oneLine(_ text: String, limit: Int) -> String {
        let flat = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        return flat.count > limit ? String(flat.prefix(limit)) + "…" : flat
    }
}

/// A stream's generated and reasoning text (UTF-8 bytes) as `OpenAIPlugin` reads it: token chunks' raw texts are
/// noted as ranges of the payload and copied in one pass when another reading of a chunk adds text, the field
/// changes or the stream ends, because appending each chunk's few bytes to an array cost more than matching the
/// chunk.
private struct StreamText {
    var generated: [UInt8] = []
    var reasoning: [UInt8] = []
    /// Ranges of the payload not yet copied, in order, all for `reasoning` (`piecesAreReasoning`) or `generated`.
    private var pieces: [Range<Int>] = []
    private var piecesAreReasoning = false

    /// Notes the raw text `range` of `payload` for `reasoning` or `generated`; `events` (the events left to read)
    /// sizes the list the first time.
    mutating func note(_ range: Range<Int>, reasoning: Bool, of payload: Span<UInt8>, events: Int) {
        if !pieces.isEmpty && piecesAreReasoning != reasoning { join(payload) }
        if pieces.isEmpty {
            if pieces.capacity == 0 { pieces.reserveCapacity(events) }
            piecesAreReasoning = reasoning
        }
        pieces.append(range)
    }

    /// Both texts as Strings, the pieces of `payload` joined first (straight into the String when its text has no
    /// other bytes).
    mutating func strings(_ payload: Span<UInt8>) -> (generated: String, reasoning: String) {
        var direct: String?
        if !pieces.isEmpty && (piecesAreReasoning ? reasoning : generated).isEmpty {
            direct = payload.withUnsafeBufferPointer { p in
                String(unsafeUninitializedCapacity: piecesByteCount) { out in copyPieces(of: p, to: out.baseAddress!) }
            }
            pieces.removeAll(keepingCapacity: true)
        }
        join(payload)
        func string(_ bytes: [UInt8]) -> String { bytes.isEmpty ? "" : String(decoding: bytes, as: UTF8.self) }
        if let direct {
            return piecesAreReasoning ? (string(generated), direct) : (direct, string(reasoning))
        }
        return (string(generated), string(reasoning))
    }

    /// Copies the noted pieces of `payload` to the end of their text, in one allocation.
    mutating func join(_ payload: Span<UInt8>) {
        guard !pieces.isEmpty else { return }
        let old = piecesAreReasoning ? reasoning : generated
        let joined = payload.withUnsafeBufferPointer { p in
            [UInt8](unsafeUninitializedCapacity: old.count + piecesByteCount) { out, n in
                n = old.withUnsafeBufferPointer { o in
                    guard let base = o.baseAddress, o.count > 0 else { return 0 }
                    out.baseAddress!.update(from: base, count: o.count)
                    return o.count
                }
                n += copyPieces(of: p, to: out.baseAddress! + n)
            }
        }
        if piecesAreReasoning { reasoning = joined } else { generated = joined }
        pieces.removeAll(keepingCapacity: true)
    }

    /// Bytes in the noted pieces.
    private var piecesByteCount: Int {
        var n = 0
        for r in pieces { n += r.count }
        return n
    }

    /// Copies the noted pieces of the payload `p` to `out`, in order; returns the bytes written.
    private func copyPieces(of p: UnsafeBufferPointer<UInt8>, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var n = 0
        for r in pieces {
            (out + n).update(from: p.baseAddress! + r.lowerBound, count: r.count)
            n += r.count
        }
        return n
    }
}

/// Which choice indices a stream has shown and whether each has carried a `finish_reason` (indices 0..<64 as
/// bits; a dictionary only for unusual indices).
struct ChoiceFlags {
    private var seen: UInt64 = 0
    private var done: UInt64 = 0
    private var other: [Int: Bool] = [:]

    mutating func see(_ index: Int, finished: Bool) {
        if index >= 0 && index < 64 {
            let bit = UInt64(1) << UInt64(index)
            seen |= bit
            if finished { done |= bit }
        } else {
            if other[index] == nil { other[index] = false }
            if finished { other[index] = true }
        }
    }

    /// At least one choice was seen and every seen choice has finished.
    var allFinished: Bool {
        guard seen != 0 || !other.isEmpty else { return false }
        return seen & ~done == 0 && !other.values.contains(false)
    }
}

// MARK: - Response JSON shapes (every field optional, tolerant of null and of unexpected types)

/// One SSE chunk or a whole non-stream body of the OpenAI API.
struct ChunkJSON: Decodable {
    var choices: [ChoiceJSON]?
    var usage: UsageJSON?
    var error: ErrorJSON?
    /// A top-level `message` (some servers' error bodies: `{"message": "...", "object": "error"}`).
    var message: String?

    enum CodingKeys: String, CodingKey { case choices, usage, error, message }

    init() {}

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        choices = try? c.decodeIfPresent([ChoiceJSON].self, forKey: .choices)
        usage = try? c.decodeIfPresent(UsageJSON.self, forKey: .usage)
        error = try? c.decodeIfPresent(ErrorJSON.self, forKey: .error)
        message = try? c.decodeIfPresent(String.self, forKey: .message)
    }
}

/// One entry of `choices`.
struct ChoiceJSON: Decodable {
    var index: Int?
    var delta: MessageJSON?
    var message: MessageJSON?
    var text: String?
    var finishReason: String?

    enum CodingKeys: String, CodingKey {
        case index, delta, message, text
        case finishReason = "finish_reason"
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        index = try? c.decodeIfPresent(Int.self, forKey: .index)
        delta = try? c.decodeIfPresent(MessageJSON.self, forKey: .delta)
        message = try? c.decodeIfPresent(MessageJSON.self, forKey: .message)
        text = try? c.decodeIfPresent(String.self, forKey: .text)
        finishReason = try? c.decodeIfPresent(String.self, forKey: .finishReason)
    }
}

/// A `delta` (stream) or `message` (non-stream) object.
struct MessageJSON: Decodable {
    var content: String?
    var reasoningContent: String?
    var reasoning: String?
    /// Number of entries in `tool_calls` (0 when absent or null).
    var toolCallCount: Int = 0

    init() {}

    enum CodingKeys: String, CodingKey {
        case content, reasoning
        case reasoningContent = "reasoning_content"
        case toolCalls = "tool_calls"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        content = try? c.decodeIfPresent(String.self, forKey: .content)
        reasoningContent = try? c.decodeIfPresent(String.self, forKey: .reasoningContent)
        reasoning = try? c.decodeIfPresent(String.self, forKey: .reasoning)
        toolCallCount = (try? c.decodeIfPresent([AnyJSON].self, forKey: .toolCalls))??.count ?? 0
    }
}

/// A `usage` object; counts in tokens.
struct UsageJSON: Decodable {
    var promptTokens: Int?
    var completionTokens: Int?

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        promptTokens = try? c.decodeIfPresent(Int.self, forKey: .promptTokens)
        completionTokens = try? c.decodeIfPresent(Int.self, forKey: .completionTokens)
    }
}

/// A top-level `error`: an object with `message`/`type`/`code`, or a bare string.
struct ErrorJSON: Decodable {
    var message: String?
    var type: String?
    /// `code`, as text (servers send numbers or strings).
    var code: String?

    enum CodingKeys: String, CodingKey { case message, type, code }

    init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer(), let text = try? single.decode(String.self) {
            message = text
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        message = try? c.decodeIfPresent(String.self, forKey: .message)
        type = try? c.decodeIfPresent(String.self, forKey: .type)
        if let n = try? c.decodeIfPresent(Int.self, forKey: .code) {
            code = String(n)
        } else {
            code = try? c.decodeIfPresent(String.self, forKey: .code)
        }
    }

    /// `"type: message (code N)"`, leaving out the parts the server did not send.
    var summary: String {
        var text = ""
        if let type, !type.isEmpty { text = type }
        let msg = message ?? ""
        if !msg.isEmpty { text = text.isEmpty ? msg : "\(text): \(msg)" }
        if let code, !code.isEmpty { text = text.isEmpty ? "code \(code)" : "\(text) (code \(code))" }
        return text.isEmpty ? "error object without message" : OpenAIPlugin.oneLine(text, limit: 500)
    }
}

/// Any JSON value, skipped: used to count array entries without decoding them.
struct AnyJSON: Decodable {
    init(from decoder: any Decoder) throws {}
}
