/// A single-pass reader for the common shape of an OpenAI streaming chunk (RFC 8259 syntax), used by
/// `OpenAIPlugin` on the writer thread before falling back to `JSONDecoder`.
///
/// Why: `JSONDecoder` costs several µs per chunk here, which makes the writer thread the slowest part of a run
/// at tens of thousands of SSE events per second. This reader walks the bytes once, keeps only the fields the
/// metrics need (`choices[].index/finish_reason/text/delta.{content,reasoning_content,reasoning,tool_calls}`
/// and `usage.{prompt,completion}_tokens`) and skips everything else without building values.
///
/// It gives the same result as decoding `ChunkJSON` with `JSONDecoder`, or `nil` when it cannot be sure:
/// malformed JSON, a top-level `error` or `message` (error text is formatted by the decoder path), numbers
/// that are not plain integers where an integer is read, or duplicate keys of interest.
struct OpenAIChunkScanner {
    private let bytes: ArraySlice<UInt8>
    private var i: Int

    private init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.i = bytes.startIndex
    }

    /// The chunk in `bytes` (one SSE event's data, trimmed), or nil to let `JSONDecoder` decide.
    static func scan(_ bytes: ArraySlice<UInt8>) -> ChunkJSON? {
        var s = OpenAIChunkScanner(bytes)
        guard let chunk = s.topLevel() else { return nil }
        s.skipWhitespace()
        return s.i == s.bytes.endIndex ? chunk : nil
    }

    // MARK: structure

    private mutating func topLevel() -> ChunkJSON? {
        var chunk = ChunkJSON()
        var seen = KeySet()
        guard enterObject() else { return nil }
        var first = true
        while true {
            switch nextMember(&first) {
            case .end: return chunk
            case .failed: return nil
            case .member(let key):
                switch key {
                case .choices:
                    guard seen.insert(.choices) else { return nil }
                    if peek() == UInt8(ascii: "[") {
                        guard let list = choiceList() else { return nil }
                        chunk.choices = list
                    } else {
                        guard skipValue() else { return nil }
                    }
                case .usage:
                    guard seen.insert(.usage) else { return nil }
                    if peek() == UInt8(ascii: "{") {
                        guard let u = usage() else { return nil }
                        chunk.usage = u
                    } else {
                        guard skipValue() else { return nil }
                    }
                case .error, .message:
                    return nil  // the decoder path formats error text
                default:
                    guard skipValue() else { return nil }
                }
            }
        }
    }

    /// `choices`: an array of objects; any other element makes `JSONDecoder` drop the whole array (nil here
    /// too would need care, so the scan gives up instead).
    private mutating func choiceList() -> [ChoiceJSON]? {
        guard enterArray() else { return nil }
        var list: [ChoiceJSON] = []
        var first = true
        while true {
            switch nextElement(&first) {
            case .end: return list
            case .failed: return nil
            case .element:
                guard peek() == UInt8(ascii: "{"), let c = choice() else { return nil }
                list.append(c)
            }
        }
    }

    private mutating func choice() -> ChoiceJSON? {
        var c = ChoiceJSON()
        var seen = KeySet()
        guard enterObject() else { return nil }
        var first = true
        while true {
            switch nextMember(&first) {
            case .end: return c
            case .failed: return nil
            case .member(let key):
                guard key == .other || seen.insert(key) else { return nil }
                let ok: Bool
                switch key {
                case .index: ok = readInt(into: &c.index)
                case .finishReason: ok = readString(into: &c.finishReason)
                case .text: ok = readString(into: &c.text)
                case .delta, .message:
                    if peek() == UInt8(ascii: "{") {
                        guard let m = messageObject() else { return nil }
                        if key == .delta { c.delta = m } else { c.message = m }
                        ok = true
                    } else {
                        ok = skipValue()
                    }
                default: ok = skipValue()
                }
                guard ok else { return nil }
            }
        }
    }

    private mutating func messageObject() -> MessageJSON? {
        var m = MessageJSON()
        var seen = KeySet()
        guard enterObject() else { return nil }
        var first = true
        while true {
            switch nextMember(&first) {
            case .end: return m
            case .failed: return nil
            case .member(let key):
                guard key == .other || seen.insert(key) else { return nil }
                let ok: Bool
                switch key {
                case .content: ok = readString(into: &m.content)
                case .reasoningContent: ok = readString(into: &m.reasoningContent)
                case .reasoning: ok = readString(into: &m.reasoning)
                case .toolCalls:
                    if peek() == UInt8(ascii: "[") {
                        guard let n = countElements() else { return nil }
                        m.toolCallCount = n
                        ok = true
                    } else {
                        ok = skipValue()
                    }
                default: ok = skipValue()
                }
                guard ok else { return nil }
            }
        }
    }

    private mutating func usage() -> UsageJSON? {
        var u = UsageJSON()
        var seen = KeySet()
        guard enterObject() else { return nil }
        var first = true
        while true {
            switch nextMember(&first) {
            case .end: return u
            case .failed: return nil
            case .member(let key):
                guard key == .other || seen.insert(key) else { return nil }
                let ok: Bool
                switch key {
                case .promptTokens: ok = readInt(into: &u.promptTokens)
                case .completionTokens: ok = readInt(into: &u.completionTokens)
                default: ok = skipValue()
                }
                guard ok else { return nil }
            }
        }
    }

    /// Skips an array's elements and returns how many there were.
    private mutating func countElements() -> Int? {
        guard enterArray() else { return nil }
        var n = 0
        var first = true
        while true {
            switch nextElement(&first) {
            case .end: return n
            case .failed: return nil
            case .element:
                guard skipValue() else { return nil }
                n += 1
            }
        }
    }

    // MARK: keys

    /// Keys already met in the current object (a bit per `Key`), to refuse duplicates without hashing.
    private struct KeySet {
        private var bits: UInt32 = 0
        mutating func insert(_ k: Key) -> Bool {
            let bit = UInt32(1) << UInt32(k.rawValue)
            defer { bits |= bit }
            return bits & bit == 0
        }
    }

    /// The member names this reader keeps; everything else is `.other`.
    private enum Key: Int {
        case choices, usage, error, message, index, finishReason, text, delta, content, reasoningContent, reasoning
        case toolCalls, promptTokens, completionTokens, other
    }

    /// The spelling of each kept name, indexed by `Key.rawValue`.
    private static let names: [[UInt8]] = [
        "choices", "usage", "error", "message", "index", "finish_reason", "text", "delta", "content",
        "reasoning_content", "reasoning", "tool_calls", "prompt_tokens", "completion_tokens", "",
    ].map { Array($0.utf8) }

    /// Which kept name `bytes[range]` is; candidates are picked by length and first byte, then compared.
    private func key(_ range: Range<Int>) -> Key {
        let n = range.count
        guard n >= 4, n <= 17 else { return .other }
        let c = bytes[range.lowerBound]
        let candidate: Key
        switch (n, c) {
        case (7, UInt8(ascii: "c")): candidate = bytes[range.lowerBound + 2] == UInt8(ascii: "o") ? .choices : .content
        case (5, UInt8(ascii: "u")): candidate = .usage
        case (5, UInt8(ascii: "e")): candidate = .error
        case (5, UInt8(ascii: "i")): candidate = .index
        case (5, UInt8(ascii: "d")): candidate = .delta
        case (7, UInt8(ascii: "m")): candidate = .message
        case (13, UInt8(ascii: "f")): candidate = .finishReason
        case (4, UInt8(ascii: "t")): candidate = .text
        case (17, UInt8(ascii: "r")): candidate = .reasoningContent
        case (9, UInt8(ascii: "r")): candidate = .reasoning
        case (10, UInt8(ascii: "t")): candidate = .toolCalls
        case (13, UInt8(ascii: "p")): candidate = .promptTokens
        case (17, UInt8(ascii: "c")): candidate = .completionTokens
        default: return .other
        }
        let name = Self.names[candidate.rawValue]
        var k = 0
        while k < n {
            if bytes[range.lowerBound + k] != name[k] { return .other }
            k += 1
        }
        return candidate
    }

    // MARK: traversal

    private func peek() -> UInt8? { i < bytes.endIndex ? bytes[i] : nil }

    private mutating func skipWhitespace() {
        while i < bytes.endIndex {
            let b = bytes[i]
            if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { i += 1 } else { return }
        }
    }

    private mutating func expect(_ c: UInt8) -> Bool {
        skipWhitespace()
        guard i < bytes.endIndex, bytes[i] == c else { return false }
        i += 1
        return true
    }

    private enum MemberStep { case member(Key), end, failed }
    private enum ElementStep { case element, end, failed }

    /// Consumes `{`.
    private mutating func enterObject() -> Bool { expect(UInt8(ascii: "{")) }
    /// Consumes `[`.
    private mutating func enterArray() -> Bool { expect(UInt8(ascii: "[")) }

    /// Moves to the next member of the object being read: its key, positioned at the value (which the caller
    /// must consume), or the end (`}` consumed). A member name with escapes fails the scan (the decoder
    /// unescapes names; such chunks are rare).
    private mutating func nextMember(_ first: inout Bool) -> MemberStep {
        skipWhitespace()
        guard let b = peek() else { return .failed }
        if first {
            first = false
            if b == UInt8(ascii: "}") { i += 1; return .end }
        } else {
            i += 1
            if b == UInt8(ascii: "}") { return .end }
            guard b == UInt8(ascii: ",") else { return .failed }
            skipWhitespace()
        }
        guard let (range, escaped) = stringRange(), !escaped else { return .failed }
        guard expect(UInt8(ascii: ":")) else { return .failed }
        skipWhitespace()
        return .member(key(range))
    }

    /// Moves to the next element of the array being read (positioned at it), or the end (`]` consumed).
    private mutating func nextElement(_ first: inout Bool) -> ElementStep {
        skipWhitespace()
        guard let b = peek() else { return .failed }
        if first {
            first = false
            if b == UInt8(ascii: "]") { i += 1; return .end }
        } else {
            i += 1
            if b == UInt8(ascii: "]") { return .end }
            guard b == UInt8(ascii: ",") else { return .failed }
            skipWhitespace()
        }
        return .element
    }

    /// At a `"`: the range of the string's raw bytes (quotes excluded) and whether it has escapes.
    private mutating func stringRange() -> (Range<Int>, Bool)? {
        guard peek() == UInt8(ascii: "\"") else { return nil }
        i += 1
        let start = i
        var escaped = false
        let end = bytes.endIndex
        // Most bytes are plain text: skip them on a Span (bounds-checked, no per-access slice overhead).
        let local = bytes
        let base = local.startIndex
        var j = i - base
        do {
            let span = local.span
            while j < span.count {
                let c = span[j]
                if c < 0x20 || c == 0x22 || c == 0x5C { break }
                j += 1
            }
        }
        i = base + j
        while i < end {
            let b = bytes[i]
            if b >= 0x20 && b != 0x22 && b != 0x5C {
                i += 1
                continue
            }
            if b == UInt8(ascii: "\"") {
                let r = start..<i
                i += 1
                return (r, escaped)
            }
            if b == UInt8(ascii: "\\") {
                // Validate the escape as the decoder does: \" \\ \/ \b \f \n \r \t or \u and 4 hex digits.
                escaped = true
                guard i + 1 < bytes.endIndex else { return nil }
                switch bytes[i + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 2
                case UInt8(ascii: "u"):
                    guard i + 6 <= bytes.endIndex else { return nil }
                    for k in 2..<6 {
                        let h = bytes[i + k]
                        guard (h >= 0x30 && h <= 0x39) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66) else { return nil }
                    }
                    i += 6
                default:
                    return nil
                }
                continue
            }
            if b < 0x20 { return nil }
            i += 1
        }
        return nil
    }

    /// Reads a string value into `out`, or nil for `null` or a value of another type (as `try?` decoding does).
    private mutating func readString(into out: inout String?) -> Bool {
        if peek() == UInt8(ascii: "\"") {
            guard let (range, escaped) = stringRange() else { return false }
            if escaped {
                guard let s = Self.unescape(bytes[range]) else { return false }
                out = s
            } else {
                out = String(decoding: bytes[range], as: UTF8.self)
            }
            return true
        }
        out = nil
        return skipValue()
    }

    /// Reads a plain integer (`-?[0-9]+`) into `out`; null or another type gives nil. A fraction or exponent
    /// makes the whole scan fail (the decoder's rules for those are left to the decoder).
    private mutating func readInt(into out: inout Int?) -> Bool {
        guard let b = peek() else { return false }
        guard b == UInt8(ascii: "-") || (b >= 0x30 && b <= 0x39) else {
            out = nil
            return skipValue()
        }
        var negative = false
        if b == UInt8(ascii: "-") { negative = true; i += 1 }
        var value = 0
        var digits = 0
        while i < bytes.endIndex, bytes[i] >= 0x30, bytes[i] <= 0x39 {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(bytes[i] - 0x30))
            if o1 || o2 { return false }
            value = a
            digits += 1
            i += 1
        }
        if digits == 0 { return false }
        // A leading zero ("07") is not a JSON integer; the decoder's handling of it is left to the decoder.
        if digits > 1 && bytes[i - digits] == 0x30 { return false }
        if let n = peek(), n == UInt8(ascii: ".") || n == UInt8(ascii: "e") || n == UInt8(ascii: "E") { return false }
        out = negative ? -value : value
        return true
    }

    /// Skips one JSON value of any type, checking its syntax.
    private mutating func skipValue() -> Bool {
        skipWhitespace()
        guard let b = peek() else { return false }
        switch b {
        case UInt8(ascii: "\""):
            return stringRange() != nil
        case UInt8(ascii: "{"):
            guard enterObject() else { return false }
            var first = true
            while true {
                switch nextMember(&first) {
                case .end: return true
                case .failed: return false
                case .member: guard skipValue() else { return false }
                }
            }
        case UInt8(ascii: "["):
            return countElements() != nil
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default:
            return number()
        }
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard bytes.endIndex - i >= n else { return false }
        var p = word.utf8Start
        for k in 0..<n {
            if bytes[i + k] != p.pointee { return false }
            p += 1
        }
        i += n
        return true
    }

    /// Skips a number: `-? int frac? exp?` (RFC 8259 §6).
    private mutating func number() -> Bool {
        let start = i
        if peek() == UInt8(ascii: "-") { i += 1 }
        func digits(_ s: inout OpenAIChunkScanner) -> Int {
            var n = 0
            while s.i < s.bytes.endIndex, s.bytes[s.i] >= 0x30, s.bytes[s.i] <= 0x39 { s.i += 1; n += 1 }
            return n
        }
        if digits(&self) == 0 { return false }
        if peek() == UInt8(ascii: ".") {
            i += 1
            if digits(&self) == 0 { return false }
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            i += 1
            if let s = peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { i += 1 }
            if digits(&self) == 0 { return false }
        }
        return i > start
    }

    /// Decodes a string body with escapes (RFC 8259 §7), surrogate pairs included; nil when invalid.
    static func unescape(_ raw: ArraySlice<UInt8>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = raw.startIndex
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= raw.endIndex else { return nil }
            var v: UInt32 = 0
            for k in 0..<4 {
                let c = raw[at + k]
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
        while i < raw.endIndex {
            let b = raw[i]
            guard b == UInt8(ascii: "\\") else { out.append(b); i += 1; continue }
            guard i + 1 < raw.endIndex else { return nil }
            let e = raw[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex4(i) else { return nil }
                i += 4
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard i + 6 <= raw.endIndex, raw[i] == UInt8(ascii: "\\"), raw[i + 1] == UInt8(ascii: "u"),
                          let low = hex4(i + 2), low >= 0xDC00 && low < 0xE000 else { return nil }
                    i += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    return nil
                }
                guard let u = Unicode.Scalar(scalar) else { return nil }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                return nil
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
