import Foundation

// The pipeline stages of a Hugging Face `tokenizer.json` (names are the `type` values of the `tokenizers`
// library, `tokenizers/src/{normalizers,pre_tokenizers,decoders}`), and the added-token matcher.

/// A normalizer (`tokenizer.json` `"normalizer"`), applied to text between added tokens.
indirect enum TextNormalizer: Sendable {
    /// Unicode normalization forms `NFC`, `NFD`, `NFKC`, `NFKD`.
    case nfc, nfd, nfkc, nfkd
    /// `Lowercase`: full Unicode lowercasing.
    case lowercase
    /// `Replace`: every match of `pattern` (a `String` or a `Regex`) becomes `content`.
    case replace(ScalarRegex, String)
    /// `Prepend`: `prefix` before non-empty text.
    case prepend(String)
    /// `Sequence`: each in order.
    case sequence([TextNormalizer])

    func apply(_ text: String) -> String {
        switch self {
        case .nfc, .nfd, .nfkc, .nfkd:
            // ASCII is invariant under every normalization form; skip Foundation for it.
            if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
            switch self {
            case .nfc: return text.precomposedStringWithCanonicalMapping
            case .nfd: return text.decomposedStringWithCanonicalMapping
            case .nfkc: return text.precomposedStringWithCompatibilityMapping
            default: return text.decomposedStringWithCompatibilityMapping
            }
        case .lowercase:
            return text.lowercased()
        case .replace(let pattern, let content):
            let scalars = Array(text.unicodeScalars.map(\.value))
            var out = String.UnicodeScalarView()
            var last = 0
            for m in pattern.matches(in: scalars, range: 0..<scalars.count) where !m.isEmpty {
                out.append(contentsOf: scalars[last..<m.lowerBound].map { Unicode.Scalar($0)! })
                out.append(contentsOf: content.unicodeScalars)
                last = m.upperBound
            }
            out.append(contentsOf: scalars[last...].map { Unicode.Scalar($0)! })
            return String(out)
        case .prepend(let prefix):
            return text.isEmpty ? text : prefix + text
        case .sequence(let steps):
            return steps.reduce(text) { $1.apply($0) }
        }
    }
}

/// How a `Split` pre-tokenizer treats the matches (`SplitDelimiterBehavior` in `tokenizers`).
enum SplitBehavior: String, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    /// Applies the behaviour to `segments` (consecutive ranges covering a piece, each flagged as a match),
    /// as `NormalizedString::split` does; empty results are dropped.
    func apply(_ segments: [(range: Range<Int>, isMatch: Bool)]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        switch self {
        case .removed:
            out = segments.filter { !$0.isMatch }.map(\.range)
        case .isolated:
            out = segments.map(\.range)
        case .mergedWithPrevious:
            var previousMatch = false
            for (r, isMatch) in segments {
                if isMatch && !previousMatch, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<r.upperBound
                } else {
                    out.append(r)
                }
                previousMatch = isMatch
            }
        case .mergedWithNext:
            var previousMatch = false
            for (r, isMatch) in segments.reversed() {
                if isMatch && !previousMatch, let last = out.last {
                    out[out.count - 1] = r.lowerBound..<last.upperBound
                } else {
                    out.append(r)
                }
                previousMatch = isMatch
            }
            out.reverse()
        case .contiguous:
            var previousMatch = false
            for (r, isMatch) in segments {
                if isMatch == previousMatch, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<r.upperBound
                } else {
                    out.append(r)
                }
                previousMatch = isMatch
            }
        }
        return out.filter { !$0.isEmpty }
    }
}

/// One pre-tokenizer (`tokenizer.json` `"pre_tokenizer"`; a `Sequence` is flattened into a list).
enum PreTokenizerStep: Sendable {
    /// `Split`: matches of `pattern` (flipped when `invert`) handled by `behavior`.
    case split(ScalarRegex, SplitBehavior, invert: Bool)
    /// `Digits`: characters of category N (Rust `char::is_numeric`) isolated one by one
    /// (`individual_digits`) or as runs.
    case digits(individual: Bool)
    /// `ByteLevel`: a space before each piece that lacks one (`add_prefix_space`), then a split by GPT-2's
    /// pattern (`use_regex`); the byte-to-character mapping itself is done by the byte-level model.
    case byteLevel(addPrefixSpace: Bool, regex: ScalarRegex?)

    /// GPT-2's pattern, used by `ByteLevel` when `use_regex` is true (`tokenizers`
    /// `pre_tokenizers/byte_level.rs`).
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    /// Splits every piece of `pieces`.
    func apply(_ pieces: inout PieceList) {
        var next: [PieceList.Piece] = []
        next.reserveCapacity(pieces.list.count * 2)
        for piece in pieces.list {
            switch self {
            case .split(let regex, let behavior, let invert):
                let buffer = pieces.buffers[piece.buffer]
                let segments = Self.segments(regex.matches(in: buffer, range: piece.range), in: piece.range, invert: invert)
                for r in behavior.apply(segments) { next.append(.init(buffer: piece.buffer, range: r)) }
            case .digits(let individual):
                let buffer = pieces.buffers[piece.buffer]
                var matches: [Range<Int>] = []
                for k in piece.range where ScalarCategory.info(buffer[k]).mask & ScalarCategory.numberMask != 0 {
                    matches.append(k..<(k + 1))
                }
                let behavior: SplitBehavior = individual ? .isolated : .contiguous
                for r in behavior.apply(Self.segments(matches, in: piece.range, invert: false)) {
                    next.append(.init(buffer: piece.buffer, range: r))
                }
            case .byteLevel(let addPrefixSpace, let regex):
                var p = piece
                if addPrefixSpace && pieces.buffers[p.buffer][p.range.lowerBound] != 0x20 {
                    pieces.buffers.append([0x20] + pieces.buffers[p.buffer][p.range])
                    p = .init(buffer: pieces.buffers.count - 1, range: 0..<(p.range.count + 1))
                }
                guard let regex else {
                    next.append(p)
                    continue
                }
                let segments = Self.segments(regex.matches(in: pieces.buffers[p.buffer], range: p.range), in: p.range, invert: false)
                for r in SplitBehavior.isolated.apply(segments) { next.append(.init(buffer: p.buffer, range: r)) }
            }
        }
        pieces.list = next
    }

    /// Matches and the gaps between them, covering `range` (`Pattern::find_matches` in `tokenizers`).
    static func segments(_ matches: [Range<Int>], in range: Range<Int>, invert: Bool) -> [(range: Range<Int>, isMatch: Bool)] {
        var out: [(range: Range<Int>, isMatch: Bool)] = []
        var previous = range.lowerBound
        for m in matches {
            if previous != m.lowerBound { out.append((previous..<m.lowerBound, invert)) }
            out.append((m, !invert))
            previous = m.upperBound
        }
        if previous != range.upperBound { out.append((previous..<range.upperBound, invert)) }
        return out
    }
}

/// Pre-tokenized pieces: ranges of scalar values in one of `buffers` (the text, plus copies made when a
/// `ByteLevel` pre-tokenizer prepends a space).
struct PieceList {
    struct Piece {
        var buffer: Int
        var range: Range<Int>
    }
    var buffers: [[UInt32]]
    var list: [Piece]

    init(_ scalars: [UInt32]) {
        buffers = [scalars]
        list = scalars.isEmpty ? [] : [Piece(buffer: 0, range: 0..<scalars.count)]
    }
}

/// A decoder (`tokenizer.json` `"decoder"`; a `Sequence` is flattened), applied to token strings.
enum DecoderStep: Sendable {
    /// `ByteLevel`: the characters of all tokens mapped back to bytes, then UTF-8 (lossy). A token with a
    /// character outside the byte alphabet keeps its own UTF-8 bytes.
    case byteLevel
    /// `ByteFallback`: runs of `<0xHH>` tokens become the text of their bytes (U+FFFD per byte if invalid).
    case byteFallback
    /// `Fuse`: all tokens joined into one.
    case fuse
    /// `Replace`: `pattern` → `content` in each token.
    case replace(String, String)
    /// `Strip`: up to `start` leading and `stop` trailing `content` characters removed from each token.
    case strip(Character, start: Int, stop: Int)

    func apply(_ tokens: [String]) -> [String] {
        switch self {
        case .byteLevel:
            var bytes: [UInt8] = []
            for t in tokens { bytes += ByteLevelAlphabet.bytes(of: t) }
            return [String(decoding: bytes, as: UTF8.self)]
        case .byteFallback:
            var out: [String] = []
            var pending: [UInt8] = []
            func flush() {
                if pending.isEmpty { return }
                if let s = String(validating: pending, as: UTF8.self) {
                    out.append(s)
                } else {
                    out += Array(repeating: "\u{FFFD}", count: pending.count)
                }
                pending = []
            }
            for t in tokens {
                if let b = Self.fallbackByte(t) { pending.append(b) } else { flush(); out.append(t) }
            }
            flush()
            return out
        case .fuse:
            return [tokens.joined()]
        case .replace(let pattern, let content):
            return tokens.map { $0.replacingOccurrences(of: pattern, with: content) }
        case .strip(let c, let start, let stop):
            return tokens.map { t in
                var chars = Substring(t)
                var n = 0
                while n < start, chars.first == c { chars = chars.dropFirst(); n += 1 }
                n = 0
                while n < stop, chars.last == c { chars = chars.dropLast(); n += 1 }
                return String(chars)
            }
        }
    }

    /// The byte of a `<0xHH>` token, or nil.
    static func fallbackByte(_ token: String) -> UInt8? {
        let u = Array(token.utf8)
        guard u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E else { return nil }
        return UInt8(String(decoding: u[3...4], as: UTF8.self), radix: 16)
    }
}

/// GPT-2's byte ↔ character alphabet (`bytes_to_unicode` in GPT-2's `encoder.py`, `tokenizers`
/// `byte_level.rs`): printable Latin-1 bytes map to themselves, the other 68 to U+0100… in byte order.
enum ByteLevelAlphabet {
    /// The character of each byte.
    static let characters: [Unicode.Scalar] = {
        var printable = Set<UInt32>()
        for r in [0x21...0x7E, 0xA1...0xAC, 0xAE...0xFF] as [ClosedRange<UInt32>] { printable.formUnion(r) }
        var next: UInt32 = 0x100
        return (0..<UInt32(256)).map { b in
            if printable.contains(b) { return Unicode.Scalar(b)! }
            defer { next += 1 }
            return Unicode.Scalar(next)!
        }
    }()

    /// Character → byte.
    static let bytesByScalar: [UInt32: UInt8] = Dictionary(
        uniqueKeysWithValues: characters.enumerated().map { ($0.element.value, UInt8($0.offset)) })

    /// The bytes a byte-level token string stands for, or nil when a character is outside the alphabet.
    static func decode(_ token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for s in token.unicodeScalars {
            guard let b = bytesByScalar[s.value] else { return nil }
            out.append(b)
        }
        return out
    }

    /// `decode(token)`, or the token's own UTF-8 when it is not byte-level text (as `tokenizers` does).
    static func bytes(of token: String) -> [UInt8] {
        decode(token) ?? Array(token.utf8)
    }
}

/// Added tokens (`tokenizer.json` `"added_tokens"`, tiktoken's special tokens), matched before
/// pre-tokenization: leftmost, then longest (the `tokenizers` Aho-Corasick `LeftmostLongest` search).
struct AddedTokenMatcher: Sendable {
    /// One added token.
    struct Token: Sendable {
        var id: Int
        /// UTF-8 of the content as matched (normalized first when the token is `normalized`).
        var bytes: [UInt8]
        /// `single_word`: only when not inside a word; `lstrip`/`rstrip`: swallow whitespace on that side.
        var singleWord = false
        var lstrip = false
        var rstrip = false
    }

    private let tokens: [Token]
    /// Trie over bytes: children per node, and the token index ending at each node (−1 none).
    private let children: [[UInt8: Int32]]
    private let terminal: [Int32]
    /// Bytes that start some token (for skipping quickly).
    private let firstBytes: [Bool]

    var isEmpty: Bool { tokens.isEmpty }

    init(_ tokens: [Token]) {
        self.tokens = tokens
        var children: [[UInt8: Int32]] = [[:]]
        var terminal: [Int32] = [-1]
        var first = [Bool](repeating: false, count: 256)
        for (k, t) in tokens.enumerated() where !t.bytes.isEmpty {
            first[Int(t.bytes[0])] = true
            var node = 0
            for b in t.bytes {
                if let c = children[node][b] {
                    node = Int(c)
                } else {
                    children.append([:])
                    terminal.append(-1)
                    children[node][b] = Int32(children.count - 1)
                    node = children.count - 1
                }
            }
            if terminal[node] < 0 { terminal[node] = Int32(k) }
        }
        self.children = children
        self.terminal = terminal
        firstBytes = first
    }

    /// Splits `utf8` into text ranges and added-token ids, in order.
    func split(_ utf8: [UInt8]) -> [TextOrToken] {
        if tokens.isEmpty { return utf8.isEmpty ? [] : [.text(0..<utf8.count)] }
        var out: [TextOrToken] = []
        var textStart = 0
        var i = 0
        var matchFloor = 0  // an lstrip may not reach into an earlier match
        while i < utf8.count {
            guard firstBytes[Int(utf8[i])], let (k, end) = longestMatch(utf8, at: i) else {
                i += 1
                continue
            }
            let t = tokens[k]
            if t.singleWord && (Self.wordCharacterBefore(utf8, i) || Self.wordCharacterAfter(utf8, end)) {
                i = end
                continue
            }
            var start = i
            var stop = end
            if t.lstrip { while start > max(matchFloor, textStart), Self.isSpace(utf8[start - 1]) { start -= 1 } }
            if t.rstrip { while stop < utf8.count, Self.isSpace(utf8[stop]) { stop += 1 } }
            if start > textStart { out.append(.text(textStart..<start)) }
            out.append(.token(t.id))
            textStart = stop
            matchFloor = stop
            i = stop
        }
        if textStart < utf8.count { out.append(.text(textStart..<utf8.count)) }
        return out
    }

    /// The longest token starting at `i`: (token index, end).
    private func longestMatch(_ utf8: [UInt8], at i: Int) -> (Int, Int)? {
        var node = 0
        var best: (Int, Int)?
        var j = i
        while j < utf8.count, let c = children[node][utf8[j]] {
            node = Int(c)
            j += 1
            if terminal[node] >= 0 { best = (Int(terminal[node]), j) }
        }
        return best
    }

    /// ASCII whitespace (the strip options only matter next to spaces and newlines in practice).
    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }

    private static func wordCharacterBefore(_ u: [UInt8], _ i: Int) -> Bool {
        guard i > 0 else { return false }
        var k = i - 1
        while k > 0 && u[k] & 0xC0 == 0x80 { k -= 1 }
        return isWordCharacter(String(decoding: u[k..<i], as: UTF8.self))
    }

    private static func wordCharacterAfter(_ u: [UInt8], _ i: Int) -> Bool {
        guard i < u.count else { return false }
        var k = i + 1
        while k < u.count && u[k] & 0xC0 == 0x80 { k += 1 }
        return isWordCharacter(String(decoding: u[i..<k], as: UTF8.self))
    }

    private static func isWordCharacter(_ s: String) -> Bool {
        guard let c = s.unicodeScalars.first else { return false }
        let mask = ScalarCategory.info(c.value).mask
        return c == "_" || mask & (ScalarCategory.masksByName["L"]! | ScalarCategory.numberMask) != 0
    }
}

/// A piece of text between added tokens, or an added token's id.
enum TextOrToken: Equatable {
    case text(Range<Int>)
    case token(Int)
}

/// UTF-8 ↔ scalar values for valid UTF-8 (text that came from a Swift `String`).
enum UTF8Scalars {
    /// The scalar values of valid UTF-8 `bytes`.
    static func scalars(_ bytes: ArraySlice<UInt8>) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        let end = bytes.endIndex
        while i < end {
            let b0 = UInt32(bytes[i])
            if b0 < 0x80 {
                out.append(b0)
                i += 1
            } else if b0 < 0xE0 {
                out.append((b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F))
                i += 2
            } else if b0 < 0xF0 {
                out.append((b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F))
                i += 3
            } else {
                out.append((b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
                    | UInt32(bytes[i + 3] & 0x3F))
                i += 4
            }
        }
        return out
    }

    /// Appends the UTF-8 of scalar values `scalars` to `out`.
    static func append(_ scalars: ArraySlice<UInt32>, to out: inout [UInt8]) {
        for v in scalars {
            if v < 0x80 {
                out.append(UInt8(v))
            } else if v < 0x800 {
                out.append(UInt8(0xC0 | v >> 6))
                out.append(UInt8(0x80 | v & 0x3F))
            } else if v < 0x10000 {
                out.append(UInt8(0xE0 | v >> 12))
                out.append(UInt8(0x80 | v >> 6 & 0x3F))
                out.append(UInt8(0x80 | v & 0x3F))
            } else {
                out.append(UInt8(0xF0 | v >> 18))
                out.append(UInt8(0x80 | v >> 12 & 0x3F))
                out.append(UInt8(0x80 | v >> 6 & 0x3F))
                out.append(UInt8(0x80 | v & 0x3F))
            }
        }
    }
}
