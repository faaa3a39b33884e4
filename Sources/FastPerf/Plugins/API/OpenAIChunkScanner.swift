#if canImport(Glibc)
import Glibc
#endif

/// Where the bytes of one string value of a chunk are: raw in the event's span (the value had no escapes), or
/// unescaped in `ChunkFacts.side`. Offsets are relative to the span the chunk was read from.
struct TextRef: Equatable {
    var start: Int
    var end: Int
    /// The bytes are in `ChunkFacts.side`, not in the event span.
    var inSide: Bool

    /// The value is the empty string (an escape always yields at least one byte, so this is exact).
    var isEmpty: Bool { start == end }
}

/// What `OpenAIPlugin` reads from one choice of a streamed chunk: the fields of `ChoiceJSON` it uses, with text
/// located instead of copied. A field is nil when the key is absent, `null` or of another type (as `try?` decoding
/// gives).
struct ChoiceFacts: Equatable {
    /// `index`, when it is an integer.
    var index: Int?
    /// `finish_reason` is a string.
    var finished = false
    /// `delta.content`.
    var content: TextRef?
    /// `delta.reasoning_content`.
    var reasoningContent: TextRef?
    /// `delta.reasoning`.
    var reasoning: TextRef?
    /// Entries in `delta.tool_calls` (0 when absent or not an array).
    var toolCallCount = 0
    /// `text` (completions API).
    var text: TextRef?
}

/// What `OpenAIPlugin.parseStream` needs from one chunk, read either by `OpenAIChunkScanner` (no allocation: the
/// buffers are reused from chunk to chunk) or converted from a `JSONDecoder`-decoded `ChunkJSON`.
struct ChunkFacts {
    /// `usage.prompt_tokens`.
    var promptTokens: Int?
    /// `usage.completion_tokens`.
    var completionTokens: Int?
    /// `choices`, in order (empty when absent or not an array of objects).
    var choices: [ChoiceFacts] = []
    /// Text bytes that are not raw in the event: unescaped strings, and every text of a decoded chunk.
    var side: [UInt8] = []

    /// Empties the facts, keeping the buffers' capacity.
    mutating func reset() {
        promptTokens = nil
        completionTokens = nil
        choices.removeAll(keepingCapacity: true)
        side.removeAll(keepingCapacity: true)
    }

    /// Replaces the facts with those of `chunk` (the `JSONDecoder` path); its texts go to `side`.
    mutating func load(_ chunk: ChunkJSON) {
        reset()
        promptTokens = chunk.usage?.promptTokens
        completionTokens = chunk.usage?.completionTokens
        func ref(_ s: String?) -> TextRef? {
            guard let s else { return nil }
            let start = side.count
            side.append(contentsOf: s.utf8)
            return TextRef(start: start, end: side.count, inSide: true)
        }
        for c in chunk.choices ?? [] {
            choices.append(ChoiceFacts(index: c.index, finished: c.finishReason != nil, content: ref(c.delta?.content),
                                       reasoningContent: ref(c.delta?.reasoningContent), reasoning: ref(c.delta?.reasoning),
                                       toolCallCount: c.delta?.toolCallCount ?? 0, text: ref(c.text)))
        }
    }

    /// Appends the bytes of `ref` (located in `span`, the event's bytes, or in `side`) to `out`.
    func append(_ ref: TextRef, from span: Span<UInt8>, to out: inout [UInt8]) {
        if ref.inSide {
            out.append(contentsOf: side[ref.start..<ref.end])
        } else {
            span.extracting(ref.start..<ref.end).withUnsafeBufferPointer { out.append(contentsOf: $0) }
        }
    }
}

/// A single-pass reader for the common shape of an OpenAI streaming chunk (RFC 8259 syntax), used by
/// `OpenAIPlugin` on the writer thread before falling back to `JSONDecoder`.
///
/// Why: `JSONDecoder` costs several µs per chunk here, which makes the writer thread the slowest part of a run
/// at tens of thousands of SSE events per second. This reader walks the bytes once on a `Span` (8 bytes at a
/// time inside strings), keeps only the facts the metrics need (`ChunkFacts`:
/// `choices[].index/finish_reason/text/delta.{content,reasoning_content,reasoning,tool_calls}` and
/// `usage.{prompt,completion}_tokens`, text located rather than copied) and skips everything else without
/// building values or allocating.
///
/// It gives the same facts as decoding `ChunkJSON` with `JSONDecoder` (`ChunkFacts.load`), or fails when it cannot
/// be sure: malformed JSON, a top-level `error` or `message` (error text is formatted by the decoder path),
/// numbers that are not plain integers where an integer is read, duplicate keys of interest, a member name or a
/// string it reads that is not valid UTF-8, or a string it reads that holds a lone surrogate escape.
struct OpenAIChunkScanner {
    private var i = 0
    /// The last top-level position, between members, reached before any member the facts use (0: none).
    private var checkpoint = 0
    private var memo: ChunkMemo?
    /// The facts came from `memo`.
    private var fromMemo = false

    /// What the scan of a stream carries from chunk to chunk (start with `Template()`).
    ///
    /// `range`/`checkpoint`: the previous chunk that scanned well, and its checkpoint: a stream's chunks begin
    /// alike (`{"id":…,"object":…,"created":…,"model":…,`), so a chunk whose bytes up to and including the
    /// checkpoint are the template's resumes there. The scan's state at a checkpoint is only the position (no fact
    /// read yet, no member of interest seen), and everything the scan decided before it depended on those bytes
    /// alone.
    ///
    /// `shape`: the last chunk read in full whose facts are one choice with one text, raw: token chunks of a
    /// stream differ only in that text, so a chunk equal to it before the text and after the text's closing quote
    /// has the same facts but the text's place (see `Shape`).
    struct Template {
        var range: Range<Int> = 0..<0
        var checkpoint = 0
        var shape: Shape?
    }

    /// Which text of a choice a `Shape` varies.
    enum TextField {
        case content, reasoningContent, reasoning, text
        /// The field's text is reasoning (`reasoning_content`, `reasoning`), not generated text.
        var isReasoning: Bool { self == .reasoningContent || self == .reasoning }
    }

    /// A whole chunk as a pattern: its bytes before its one text (`..<textStart`) and from the text's closing
    /// quote on (`textEnd...`), and its facts.
    ///
    /// Why a chunk that matches has the template's facts with only the text moved: the scan is deterministic on
    /// bytes, so equal bytes up to `textStart` leave it where the template's left it, just inside the text's
    /// string. Text bytes without `"`, `\` or control bytes end the string exactly where the pattern's tail
    /// begins (with the closing quote), and a string's value changes no state but its own fact; equal tail bytes
    /// then make every later decision the template's. The text is checked as UTF-8 as `readString` does, and it
    /// is raw (no escapes), so `JSONDecoder` reads the same bytes.
    struct Shape {
        var range: Range<Int>
        var textStart: Int
        var textEnd: Int
        var field: TextField
        var choice: ChoiceFacts
        var promptTokens: Int?
        var completionTokens: Int?
        /// What a chunk that matches adds to a response, in one small value (a reader that binds the whole
        /// `Shape` copies it per chunk).
        struct Facts {
            /// The shape chunk's data offset, bytes before its text, bytes from the text's closing quote on, and
            /// where those start in the payload.
            var start, prefix, tail, tailStart: Int
            var field: TextField
            /// The choice's `index` (0 when absent, as its position), `finish_reason` present, tool calls.
            var index: Int
            var finished: Bool
            var toolCallCount: Int
            var promptTokens, completionTokens: Int?
        }
        var facts: Facts { Facts(start: range.lowerBound, prefix: textStart, tail: range.count - textEnd,
                                 tailStart: range.lowerBound + textEnd, field: field,
                                 index: choice.index ?? 0, finished: choice.finished, toolCallCount: choice.toolCallCount,
                                 promptTokens: promptTokens, completionTokens: completionTokens) }

        /// The shape of a chunk read in full (`facts` of `payload[range]`), or nil when its facts are not one
        /// choice with exactly one text, raw.
        init?(_ facts: ChunkFacts, range: Range<Int>) {
            guard facts.choices.count == 1, facts.side.isEmpty else { return nil }
            let c = facts.choices[0]
            // Exactly one of the four texts, raw (no array: this runs for every chunk read in full).
            var found: (TextField, TextRef)?
            var present = 0
            func see(_ field: TextField, _ ref: TextRef?) {
                if let ref { present += 1; found = (field, ref) }
            }
            see(.content, c.content)
            see(.reasoningContent, c.reasoningContent)
            see(.reasoning, c.reasoning)
            see(.text, c.text)
            guard present == 1, let (field, ref) = found, !ref.inSide else { return nil }
            self.range = range
            textStart = ref.start
            textEnd = ref.end
            self.field = field
            choice = c
            promptTokens = facts.promptTokens
            completionTokens = facts.completionTokens
        }

        /// The range of the text in `payload` when `payload[range]` matches this pattern, else nil
        /// (`matchText`).
        @inline(__always)
        func text(_ payload: Span<UInt8>, _ range: Range<Int>) -> Range<Int>? {
            let (start, prefix, tailStart, tail) = (self.range.lowerBound, textStart, self.range.lowerBound + textEnd,
                                                    self.range.count - textEnd)
            return payload.withUnsafeBufferPointer {
                Self.matchText($0, range, start: start, prefix: prefix, tailStart: tailStart, tail: tail)
            }
        }

        /// The range of the text in `p` when the chunk `p[range]` matches a shape's pattern, else nil: the shape
        /// chunk's `prefix` bytes before its text at `p[start...]`, and its `tail` bytes from the text's closing
        /// quote on at `p[tailStart...]` (`Facts`). The common text (printable ASCII, no `"` or `\`) is checked in
        /// the same pass that finds it plain; any other byte falls back to `isPlainText` and `isValidUTF8`. Takes
        /// the numbers, not the `Shape`, so that a caller matching chunk after chunk copies nothing per chunk.
        @inline(__always)
        static func matchText(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, start: Int, prefix: Int,
                              tailStart: Int, tail: Int) -> Range<Int>? {
            let end = range.count - tail
            guard end >= prefix, range.upperBound <= p.count, start + prefix <= p.count, tailStart + tail <= p.count,
                  let b = p.baseAddress else { return nil }
            let textRange = range.lowerBound + prefix..<range.lowerBound + end
            guard memcmp(b + range.lowerBound, b + start, prefix) == 0,
                  memcmp(b + textRange.upperBound, b + tailStart, tail) == 0 else { return nil }
            // 8 bytes at a time; the last 1–7 as the top of the word that ends with the text, the bytes before the
            // text replaced by "A".
            let highBits: UInt64 = 0x8080_8080_8080_8080
            func word(_ at: Int) -> UInt64 {
                UInt64(littleEndian: UnsafeRawPointer(b + at).loadUnaligned(as: UInt64.self))
            }
            var k = textRange.lowerBound
            let textEnd = textRange.upperBound
            var flagged: UInt64 = 0
            while k + 8 <= textEnd {
                let w = word(k)
                flagged |= specialBytes(w) | w & highBits
                k += 8
            }
            if k < textEnd {
                if textEnd >= 8 {
                    let keep = ~UInt64(0) &<< UInt64(8 * (8 - (textEnd - k)))
                    let w = word(textEnd - 8) & keep | 0x4141_4141_4141_4141 & ~keep
                    flagged |= specialBytes(w) | w & highBits
                } else {
                    for j in k..<textEnd where b[j] < 0x20 || b[j] >= 0x80 || b[j] == UInt8(ascii: "\"") || b[j] == UInt8(ascii: "\\") {
                        flagged = 1
                    }
                }
            }
            if flagged == 0 { return textRange }
            let text = UnsafeBufferPointer(rebasing: p[textRange])
            return isPlainText(text.span) && isValidUTF8(text.span) ? textRange : nil
        }

        /// Reads `payload[range]` as this pattern into `facts` (reset); false when it does not match.
        @inline(__always)
        func read(_ payload: Span<UInt8>, _ range: Range<Int>, into facts: inout ChunkFacts) -> Bool {
            guard let text = text(payload, range) else { return false }
            let end = text.upperBound - range.lowerBound
            var c = choice
            let ref = TextRef(start: textStart, end: end, inSide: false)
            switch field {
            case .content: c.content = ref
            case .reasoningContent: c.reasoningContent = ref
            case .reasoning: c.reasoning = ref
            case .text: c.text = ref
            }
            facts.choices.append(c)
            facts.promptTokens = promptTokens
            facts.completionTokens = completionTokens
            return true
        }
    }

    /// Reads the chunk in `payload[range]` (one SSE event's data, trimmed) into `facts`; false to let `JSONDecoder`
    /// decide (`facts` is then meaningless). Text offsets are relative to `payload[range]`. `template` carries what
    /// the stream's earlier chunks share from one call to the next (start with `Template()`).
    /// `memo`: endings of chunks read in full in earlier streams (`ChunkMemo`), looked up and filled in.
    static func scan(_ payload: Span<UInt8>, _ range: Range<Int>, into facts: inout ChunkFacts,
                     template: inout Template, memo: ChunkMemo? = nil) -> Bool {
        facts.reset()
        if template.shape?.read(payload, range, into: &facts) == true { return true }
        facts.reset()
        let e = payload.extracting(range)
        var s = OpenAIChunkScanner()
        s.memo = memo
        let cp = template.checkpoint
        let resume = cp > 0 && e.count > cp && samePrefix(e, payload.extracting(template.range), cp + 1)
        if resume { s.i = cp }
        guard s.topLevel(e, &facts, resumed: resume) else { return false }
        s.skipWhitespace(e)
        guard s.i == e.count else { return false }
        if let memo, !s.fromMemo, s.checkpoint > 0 {
            memo.store(e.extracting(s.checkpoint..<e.count), at: s.checkpoint, facts)
        }
        if !resume && s.checkpoint > 0 {
            template.range = range
            template.checkpoint = s.checkpoint
        }
        if let shape = Shape(facts, range: range) { template.shape = shape }
        return true
    }

    /// Whether `s` holds no `"`, `\` or control byte (string text that needs no escape), 8 bytes at a time.
    static func isPlainText(_ s: Span<UInt8>) -> Bool {
        var k = 0
        while k + 8 <= s.count {
            if specialBytes(word8(s, k)) != 0 { return false }
            k += 8
        }
        while k < s.count {
            let b = s[k]
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 { return false }
            k += 1
        }
        return true
    }

    /// The high bit of each byte of `v` that is `"`, `\` or below 0x20 (the bytes a JSON string must escape).
    @inline(__always)
    static func specialBytes(_ v: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quote = v ^ (ones &* 0x22)
        let slash = v ^ (ones &* 0x5C)
        return ((quote &- ones) & ~quote | (slash &- ones) & ~slash | (v &- ones &* 0x20) & ~v) & 0x8080_8080_8080_8080
    }

    /// Whether the first `n` bytes of `a` and `b` (both at least that long) are equal (`memcmp`).
    private static func samePrefix(_ a: Span<UInt8>, _ b: Span<UInt8>, _ n: Int) -> Bool {
        precondition(n <= a.count && n <= b.count)
        if n == 0 { return true }
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in memcmp(pa.baseAddress!, pb.baseAddress!, n) == 0 }
        }
    }

    /// Reads the chunks's top-level object into `facts`, from its `{`, or (`resumed`) from a checkpoint at `i`.
    private mutating func topLevel(_ e: Span<UInt8>, _ f: inout ChunkFacts, resumed: Bool) -> Bool {
        var seen = KeySet()
        var first = false
        if !resumed {
            guard enterObject(e) else { return false }
            first = true
        }
        while true {
            if !first && seen.isEmpty { checkpoint = i }
            switch nextMember(e, &first) {
            case .end: return true
            case .failed: return false
            case .member(let key):
                // The first member the facts use: the chunk from the checkpoint on may be one read before.
                if key != .other && seen.isEmpty && checkpoint > 0, let memo,
                   memo.lookUp(e.extracting(checkpoint..<e.count), at: checkpoint, into: &f) {
                    fromMemo = true
                    i = e.count
                    return true
                }
                switch key {
                case .choices:
                    guard seen.insert(.choices) else { return false }
                    if peek(e) == UInt8(ascii: "[") {
                        guard choiceList(e, &f) else { return false }
                    } else {
                        guard skipValue(e) else { return false }
                    }
                case .usage:
                    guard seen.insert(.usage) else { return false }
                    if peek(e) == UInt8(ascii: "{") {
                        guard usage(e, &f) else { return false }
                    } else {
                        guard skipValue(e) else { return false }
                    }
                case .error, .message:
                    return false  // the decoder path formats error text
                default:
                    guard skipValue(e) else { return false }
                }
            }
        }
    }

    /// `choices`: an array of objects; any other element makes `JSONDecoder` drop the whole array (the scan gives
    /// up instead).
    private mutating func choiceList(_ e: Span<UInt8>, _ f: inout ChunkFacts) -> Bool {
        guard enterArray(e) else { return false }
        var first = true
        while true {
            switch nextElement(e, &first) {
            case .end: return true
            case .failed: return false
            case .element:
                guard peek(e) == UInt8(ascii: "{") else { return false }
                var c = ChoiceFacts()
                guard choice(e, &c, &f) else { return false }
                f.choices.append(c)
            }
        }
    }

    private mutating func choice(_ e: Span<UInt8>, _ c: inout ChoiceFacts, _ f: inout ChunkFacts) -> Bool {
        var seen = KeySet()
        guard enterObject(e) else { return false }
        var first = true
        while true {
            switch nextMember(e, &first) {
            case .end: return true
            case .failed: return false
            case .member(let key):
                guard key == .other || seen.insert(key) else { return false }
                let ok: Bool
                switch key {
                case .index: ok = readInt(e, into: &c.index)
                case .finishReason:
                    var reason: TextRef?
                    ok = readString(e, into: &reason, &f)
                    c.finished = reason != nil
                case .text: ok = readString(e, into: &c.text, &f)
                case .delta, .message:
                    // `message` is not used in a stream, but its syntax and duplicate keys are checked alike.
                    if peek(e) == UInt8(ascii: "{") {
                        var m = ChoiceFacts()
                        ok = messageObject(e, &m, &f)
                        if key == .delta {
                            c.content = m.content
                            c.reasoningContent = m.reasoningContent
                            c.reasoning = m.reasoning
                            c.toolCallCount = m.toolCallCount
                        }
                    } else {
                        ok = skipValue(e)
                    }
                default: ok = skipValue(e)
                }
                guard ok else { return false }
            }
        }
    }

    /// A `delta` or `message` object, into the message fields of `m`.
    private mutating func messageObject(_ e: Span<UInt8>, _ m: inout ChoiceFacts, _ f: inout ChunkFacts) -> Bool {
        var seen = KeySet()
        guard enterObject(e) else { return false }
        var first = true
        while true {
            switch nextMember(e, &first) {
            case .end: return true
            case .failed: return false
            case .member(let key):
                guard key == .other || seen.insert(key) else { return false }
                let ok: Bool
                switch key {
                case .content: ok = readString(e, into: &m.content, &f)
                case .reasoningContent: ok = readString(e, into: &m.reasoningContent, &f)
                case .reasoning: ok = readString(e, into: &m.reasoning, &f)
                case .toolCalls:
                    if peek(e) == UInt8(ascii: "[") {
                        guard let n = countElements(e) else { return false }
                        m.toolCallCount = n
                        ok = true
                    } else {
                        ok = skipValue(e)
                    }
                default: ok = skipValue(e)
                }
                guard ok else { return false }
            }
        }
    }

    private mutating func usage(_ e: Span<UInt8>, _ f: inout ChunkFacts) -> Bool {
        var seen = KeySet()
        guard enterObject(e) else { return false }
        var first = true
        while true {
            switch nextMember(e, &first) {
            case .end: return true
            case .failed: return false
            case .member(let key):
                guard key == .other || seen.insert(key) else { return false }
                let ok: Bool
                switch key {
                case .promptTokens: ok = readInt(e, into: &f.promptTokens)
                case .completionTokens: ok = readInt(e, into: &f.completionTokens)
                default: ok = skipValue(e)
                }
                guard ok else { return false }
            }
        }
    }

    /// Skips an array's elements and returns how many there were.
    private mutating func countElements(_ e: Span<UInt8>) -> Int? {
        guard enterArray(e) else { return nil }
        var n = 0
        var first = true
        while true {
            switch nextElement(e, &first) {
            case .end: return n
            case .failed: return nil
            case .element:
                guard skipValue(e) else { return nil }
                n += 1
            }
        }
    }

    // MARK: keys

    /// Keys already met in the current object (a bit per `Key`), to refuse duplicates without hashing.
    private struct KeySet {
        private var bits: UInt32 = 0
        var isEmpty: Bool { bits == 0 }
        mutating func insert(_ k: Key) -> Bool {
            let bit = UInt32(1) << UInt32(k.rawValue)
            defer { bits |= bit }
            return bits & bit == 0
        }
    }

    /// The member names this reader keeps; everything else is `.other`.
    enum Key: Int {
        case choices, usage, error, message, index, finishReason, text, delta, content, reasoningContent, reasoning
        case toolCalls, promptTokens, completionTokens, other
    }

    /// Up to 8 bytes of `e` from `start`, little-endian (byte `start` lowest).
    @inline(__always)
    static func word(_ e: Span<UInt8>, _ start: Int, _ n: Int) -> UInt64 {
        if n == 8 { return word8(e, start) }
        var v: UInt64 = 0
        var k = n - 1
        while k >= 0 {
            v = v << 8 | UInt64(e[start + k])
            k -= 1
        }
        return v
    }

    /// The 8 bytes of `e` from `start`, little-endian; the compiler merges them into one load.
    @inline(__always)
    static func word8(_ e: Span<UInt8>, _ start: Int) -> UInt64 {
        UInt64(e[start]) | UInt64(e[start + 1]) << 8 | UInt64(e[start + 2]) << 16 | UInt64(e[start + 3]) << 24
            | UInt64(e[start + 4]) << 32 | UInt64(e[start + 5]) << 40 | UInt64(e[start + 6]) << 48
            | UInt64(e[start + 7]) << 56
    }

    /// Which kept name `e[range]` is (no escapes), compared as little-endian words: names of up to 16 bytes are
    /// their first and last 8 bytes; the two 17-byte names add their middle byte.
    static func key(_ e: Span<UInt8>, _ range: Range<Int>) -> Key {
        let n = range.count
        let s = range.lowerBound
        switch n {
        case 4: return word(e, s, 4) == 0x7478_6574 ? .text : .other
        case 5:
            switch word(e, s, 5) {
            case 0x65_6761_7375: return .usage
            case 0x72_6f72_7265: return .error
            case 0x78_6564_6e69: return .index
            case 0x61_746c_6564: return .delta
            default: return .other
            }
        case 7:
            switch word(e, s, 7) {
            case 0x73_6563_696f_6863: return .choices
            case 0x65_6761_7373_656d: return .message
            case 0x74_6e65_746e_6f63: return .content
            default: return .other
            }
        case 9, 10, 13:
            let lo = word(e, s, 8)
            let hi = word(e, s + n - 8, 8)
            switch (lo, hi) {
            case (0x6e69_6e6f_7361_6572, 0x676e_696e_6f73_6165): return .reasoning
            case (0x6c61_635f_6c6f_6f74, 0x736c_6c61_635f_6c6f): return .toolCalls
            case (0x725f_6873_696e_6966, 0x6e6f_7361_6572_5f68): return .finishReason
            case (0x745f_7470_6d6f_7270, 0x736e_656b_6f74_5f74): return .promptTokens
            default: return .other
            }
        case 17:
            let lo = word(e, s, 8)
            let hi = word(e, s + 9, 8)
            let mid = e[s + 8]
            switch (lo, mid, hi) {
            case (0x6e69_6e6f_7361_6572, UInt8(ascii: "g"), 0x746e_6574_6e6f_635f): return .reasoningContent
            case (0x6974_656c_706d_6f63, UInt8(ascii: "o"), 0x736e_656b_6f74_5f6e): return .completionTokens
            default: return .other
            }
        default: return .other
        }
    }

    // MARK: traversal

    @inline(__always)
    private func peek(_ e: Span<UInt8>) -> UInt8? { i < e.count ? e[i] : nil }

    @inline(__always)
    private mutating func skipWhitespace(_ e: Span<UInt8>) {
        while i < e.count {
            let b = e[i]
            if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { i += 1 } else { return }
        }
    }

    @inline(__always)
    private mutating func expect(_ e: Span<UInt8>, _ c: UInt8) -> Bool {
        skipWhitespace(e)
        guard i < e.count, e[i] == c else { return false }
        i += 1
        return true
    }

    private enum MemberStep { case member(Key), end, failed }
    private enum ElementStep { case element, end, failed }

    /// Consumes `{`.
    private mutating func enterObject(_ e: Span<UInt8>) -> Bool { expect(e, UInt8(ascii: "{")) }
    /// Consumes `[`.
    private mutating func enterArray(_ e: Span<UInt8>) -> Bool { expect(e, UInt8(ascii: "[")) }

    /// Moves to the next member of the object being read: its key, positioned at the value (which the caller
    /// must consume), or the end (`}` consumed). A member name with escapes fails the scan (the decoder
    /// unescapes names; such chunks are rare).
    private mutating func nextMember(_ e: Span<UInt8>, _ first: inout Bool) -> MemberStep {
        skipWhitespace(e)
        guard let b = peek(e) else { return .failed }
        if first {
            first = false
            if b == UInt8(ascii: "}") { i += 1; return .end }
        } else {
            i += 1
            if b == UInt8(ascii: "}") { return .end }
            guard b == UInt8(ascii: ",") else { return .failed }
            skipWhitespace(e)
        }
        guard peek(e) == UInt8(ascii: "\"") else { return .failed }
        let start = i + 1
        guard let escaped = skipString(e), !escaped else { return .failed }
        let range = start..<(i - 1)
        guard expect(e, UInt8(ascii: ":")) else { return .failed }
        skipWhitespace(e)
        let key = Self.key(e, range)
        // The decoder refuses a member name that is not valid UTF-8 (the kept names are ASCII).
        if key == .other && !Self.isValidUTF8(e.extracting(range)) { return .failed }
        return .member(key)
    }

    /// Moves to the next element of the array being read (positioned at it), or the end (`]` consumed).
    private mutating func nextElement(_ e: Span<UInt8>, _ first: inout Bool) -> ElementStep {
        skipWhitespace(e)
        guard let b = peek(e) else { return .failed }
        if first {
            first = false
            if b == UInt8(ascii: "]") { i += 1; return .end }
        } else {
            i += 1
            if b == UInt8(ascii: "]") { return .end }
            guard b == UInt8(ascii: ",") else { return .failed }
            skipWhitespace(e)
        }
        return .element
    }

    /// At a `"`: moves past the closing quote, checking the escapes' syntax (`\" \\ \/ \b \f \n \r \t`, `\u` and 4
    /// hex digits) and refusing control characters; returns whether the string had escapes, nil when invalid.
    private mutating func skipString(_ e: Span<UInt8>) -> Bool? {
        i += 1
        var escaped = false
        let n = e.count
        while true {
            // Plain text, 8 bytes at a time: stop at the first `"`, `\` or control byte.
            while i + 8 <= n {
                let special = Self.specialBytes(Self.word8(e, i))
                if special != 0 {
                    i += special.trailingZeroBitCount >> 3
                    break
                }
                i += 8
            }
            guard i < n else { return nil }
            let b = e[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                return escaped
            }
            if b == UInt8(ascii: "\\") {
                escaped = true
                guard i + 1 < n else { return nil }
                switch e[i + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 2
                case UInt8(ascii: "u"):
                    guard i + 6 <= n, Self.hex4(e, i + 2) != nil else { return nil }
                    i += 6
                default:
                    return nil
                }
                continue
            }
            if b < 0x20 { return nil }
            i += 1
        }
    }

    /// Reads a string value into `out` (raw, or unescaped into `f.side`); nil for `null` or a value of another
    /// type (as `try?` decoding gives). Fails on invalid UTF-8 or a lone surrogate (the decoder's field would be
    /// nil; the scan leaves that to it).
    private mutating func readString(_ e: Span<UInt8>, into out: inout TextRef?, _ f: inout ChunkFacts) -> Bool {
        guard peek(e) == UInt8(ascii: "\"") else {
            out = nil
            return skipValue(e)
        }
        let start = i + 1
        guard let escaped = skipString(e) else { return false }
        let end = i - 1
        if escaped {
            let sideStart = f.side.count
            guard Self.unescape(e, start..<end, into: &f.side),
                  Self.isValidUTF8(f.side.span.extracting(sideStart..<f.side.count)) else { return false }
            out = TextRef(start: sideStart, end: f.side.count, inSide: true)
        } else {
            guard Self.isValidUTF8(e.extracting(start..<end)) else { return false }
            out = TextRef(start: start, end: end, inSide: false)
        }
        return true
    }

    /// Whether `bytes` is well-formed UTF-8 (ASCII checked 8 bytes at a time first).
    static func isValidUTF8(_ bytes: Span<UInt8>) -> Bool {
        var k = 0
        while k + 8 <= bytes.count, word8(bytes, k) & 0x8080_8080_8080_8080 == 0 { k += 8 }
        while k < bytes.count, bytes[k] < 0x80 { k += 1 }
        if k == bytes.count { return true }
        return (try? UTF8Span(validating: bytes)) != nil
    }

    /// Reads a plain integer (`-?[0-9]+`) into `out`; null or another type gives nil. A fraction or exponent
    /// makes the whole scan fail (the decoder's rules for those are left to the decoder).
    private mutating func readInt(_ e: Span<UInt8>, into out: inout Int?) -> Bool {
        guard let b = peek(e) else { return false }
        guard b == UInt8(ascii: "-") || (b >= 0x30 && b <= 0x39) else {
            out = nil
            return skipValue(e)
        }
        var negative = false
        if b == UInt8(ascii: "-") { negative = true; i += 1 }
        var value = 0
        let first = i
        while i < e.count, e[i] >= 0x30, e[i] <= 0x39 {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(e[i] - 0x30))
            if o1 || o2 { return false }
            value = a
            i += 1
        }
        let digits = i - first
        if digits == 0 { return false }
        // A leading zero ("07") is not a JSON integer; the decoder's handling of it is left to the decoder.
        if digits > 1 && e[first] == 0x30 { return false }
        if let n = peek(e), n == UInt8(ascii: ".") || n == UInt8(ascii: "e") || n == UInt8(ascii: "E") { return false }
        out = negative ? -value : value
        return true
    }

    /// Skips one JSON value of any type, checking its syntax.
    private mutating func skipValue(_ e: Span<UInt8>) -> Bool {
        skipWhitespace(e)
        guard let b = peek(e) else { return false }
        switch b {
        case UInt8(ascii: "\""):
            return skipString(e) != nil
        case UInt8(ascii: "{"):
            guard enterObject(e) else { return false }
            var first = true
            while true {
                switch nextMember(e, &first) {
                case .end: return true
                case .failed: return false
                case .member: guard skipValue(e) else { return false }
                }
            }
        case UInt8(ascii: "["):
            return countElements(e) != nil
        case UInt8(ascii: "t"): return literal(e, 0x6575_7274, 4)      // "true"
        case UInt8(ascii: "f"): return literal(e, 0x65_736c_6166, 5)   // "false"
        case UInt8(ascii: "n"): return literal(e, 0x6c6c_756e, 4)      // "null"
        default:
            return number(e)
        }
    }

    /// Consumes the `n`-byte literal whose little-endian bytes are `packed`.
    private mutating func literal(_ e: Span<UInt8>, _ packed: UInt64, _ n: Int) -> Bool {
        guard e.count - i >= n, Self.word(e, i, n) == packed else { return false }
        i += n
        return true
    }

    /// Skips a number: `-? int frac? exp?` (RFC 8259 §6).
    private mutating func number(_ e: Span<UInt8>) -> Bool {
        if peek(e) == UInt8(ascii: "-") { i += 1 }
        if digits(e) == 0 { return false }
        if peek(e) == UInt8(ascii: ".") {
            i += 1
            if digits(e) == 0 { return false }
        }
        if let x = peek(e), x == UInt8(ascii: "e") || x == UInt8(ascii: "E") {
            i += 1
            if let s = peek(e), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { i += 1 }
            if digits(e) == 0 { return false }
        }
        return true
    }

    private mutating func digits(_ e: Span<UInt8>) -> Int {
        let start = i
        while i < e.count, e[i] >= 0x30, e[i] <= 0x39 { i += 1 }
        return i - start
    }

    /// The value of the 4 hex digits at `e[at...]`, nil when they are not hex digits or run past the end.
    private static func hex4(_ e: Span<UInt8>, _ at: Int) -> UInt32? {
        guard at + 4 <= e.count else { return nil }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = e[at + k]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: return nil
            }
            v = v << 4 | d
        }
        return v
    }

    /// Appends the string body `e[range]` with its escapes decoded (RFC 8259 §7, surrogate pairs included) to
    /// `out`; false when an escape is invalid or a surrogate is unpaired.
    static func unescape(_ e: Span<UInt8>, _ range: Range<Int>, into out: inout [UInt8]) -> Bool {
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let b = e[i]
            guard b == UInt8(ascii: "\\") else { out.append(b); i += 1; continue }
            guard i + 1 < end else { return false }
            let x = e[i + 1]
            i += 2
            switch x {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(x)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard i + 4 <= end, var scalar = hex4(e, i) else { return false }
                i += 4
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard i + 6 <= end, e[i] == UInt8(ascii: "\\"), e[i + 1] == UInt8(ascii: "u"),
                          let low = hex4(e, i + 2), low >= 0xDC00 && low < 0xE000 else { return false }
                    i += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    return false
                }
                guard let u = Unicode.Scalar(scalar) else { return false }
                UTF8.encode(u) { out.append($0) }
            default:
                return false
            }
        }
        return true
    }
}

/// The facts of chunk endings read in full, kept from stream to stream by the one thread that reads them (the
/// writer): the bytes of a chunk from its checkpoint on (`OpenAIChunkScanner`: the top-level position before the
/// first member the facts use), and what they gave. The scan's state at a checkpoint is only the position, so
/// equal bytes from there give equal facts (text offsets moved with the checkpoint). A stream's chunks other than
/// its token chunks (the first with the role, the one with `finish_reason`, the usage chunk) mostly end alike in
/// every stream of a run; only their beginnings (`id`, `created`) differ, and those are read as usual.
///
/// Holds up to `capacity` endings of at most `maxBytes` each; a new one replaces the one least recently found or
/// stored, so the endings every stream repeats stay while endings seen once (a first token, usage counts that
/// vary) pass through. Not `Sendable`.
final class ChunkMemo {
    static let capacity = 8
    static let maxBytes = 1024

    private struct Entry {
        var bytes: [UInt8]
        /// Offsets of raw texts relative to the checkpoint.
        var facts: ChunkFacts
        /// `clock` when it was last found or stored.
        var used: Int
    }
    private var entries: [Entry] = []
    /// Counts look-ups that found an ending and stores.
    private var clock = 0
    /// Look-ups that found an ending (tests).
    private(set) var hits = 0

    init() {}

    /// Fills `facts` (empty) with those of the ending `tail`, found at offset `at` of its chunk, when it was stored.
    func lookUp(_ tail: Span<UInt8>, at offset: Int, into facts: inout ChunkFacts) -> Bool {
        guard tail.count <= Self.maxBytes else { return false }
        for k in entries.indices where entries[k].bytes.count == tail.count {
            let same = entries[k].bytes.withUnsafeBufferPointer { a in
                tail.withUnsafeBufferPointer { b in memcmp(a.baseAddress!, b.baseAddress!, tail.count) == 0 }
            }
            guard same else { continue }
            // Read in place (a copy of the entry would retain and release its arrays).
            facts.promptTokens = entries[k].facts.promptTokens
            facts.completionTokens = entries[k].facts.completionTokens
            if !entries[k].facts.side.isEmpty { facts.side.append(contentsOf: entries[k].facts.side) }
            for j in entries[k].facts.choices.indices { facts.choices.append(entries[k].facts.choices[j].moved(by: offset)) }
            hits += 1
            clock += 1
            entries[k].used = clock
            return true
        }
        return false
    }

    /// Keeps the ending `tail` (at offset `at` of its chunk) and the chunk's `facts`.
    func store(_ tail: Span<UInt8>, at offset: Int, _ facts: ChunkFacts) {
        guard tail.count > 0, tail.count <= Self.maxBytes else { return }
        var kept = facts
        kept.choices = facts.choices.map { $0.moved(by: -offset) }
        clock += 1
        let entry = Entry(bytes: tail.withUnsafeBufferPointer { Array($0) }, facts: kept, used: clock)
        if entries.count < Self.capacity {
            entries.append(entry)
        } else {
            var stale = 0
            for k in entries.indices where entries[k].used < entries[stale].used { stale = k }
            entries[stale] = entry
        }
    }
}

extension ChoiceFacts {
    /// The same facts with the raw texts' offsets (not those in `ChunkFacts.side`) moved by `delta`.
    func moved(by delta: Int) -> ChoiceFacts {
        func move(_ r: TextRef?) -> TextRef? {
            guard var r, !r.inSide else { return r }
            r.start += delta
            r.end += delta
            return r
        }
        var c = self
        c.content = move(content)
        c.reasoningContent = move(reasoningContent)
        c.reasoning = move(reasoning)
        c.text = move(text)
        return c
    }
}
