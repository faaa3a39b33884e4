/// A backtracking regular expression over Unicode scalar values, for the patterns tokenizers split text
/// with: tiktoken's published patterns (cl100k_base, o200k_base), GPT-2's ByteLevel pattern and the `Split`
/// patterns of Hugging Face `tokenizer.json` files (e.g. DeepSeek-V3's).
///
/// Semantics follow the Perl-style engines those tokenizers use (`fancy-regex` for tiktoken, Oniguruma for
/// `tokenizers`): leftmost match, alternatives tried in order, greedy quantifiers by default.
/// Supported syntax: literals and escapes (`\n \r \t \f \v \0 \xHH \x{H…} \uHHHH`, escaped punctuation),
/// `.`, classes `[…]` / `[^…]` with ranges and nested classes, `\s \S \d \D \w \W`, `\p{X}` / `\P{X}` for
/// one- or two-letter general categories (`L`, `N`, `Lu`, …), groups `(…)`, `(?:…)`, `(?i:…)`, `(?i)`,
/// atomic `(?>…)`, lookahead `(?=…)` / `(?!…)`, quantifiers `? * + {n} {n,} {n,m}` each greedy, lazy (`?`)
/// or possessive (`+`), anchors `^`/`\A` (start of the subject) and `$`/`\z` (end of the subject, as in
/// Rust without multi-line mode). Anything else (lookbehind, backreferences, `\b`, scripts such as
/// `\p{Han}`, POSIX classes) is a `FastPerfError` naming the pattern. Case-insensitive matching folds
/// single-scalar simple case mappings and ASCII ranges.
///
/// Why not `NSRegularExpression` or Swift `Regex`: both work with these patterns, but measured here on
/// cl100k's pattern (English, code, CJK and emoji mix) NSRegularExpression split 5.4 MB/s and Swift Regex
/// 1.9 MB/s; this engine, which runs a single-class repetition (`\p{L}+`, `\s+`) as one step with one
/// backtrack entry and tests scalars below U+10000 against precomputed bitmaps, is several times faster:
/// whole-pipeline encode speed, measured with `fastperf tokenize --repeat`, is in the README.
struct ScalarRegex: Sendable {
    /// The pattern text, for error messages.
    let pattern: String
    private let program: [Instruction]
    private let classes: [ScalarClass]
    /// The BMP bitmaps of all classes, 1,024 words each (class k at word `k << 10`).
    private let bitmaps: [UInt64]

    /// Compiles `pattern`.
    /// - Throws: `FastPerfError` naming the pattern and the unsupported construct.
    init(_ pattern: String) throws {
        self.pattern = pattern
        var parser = Parser(Array(pattern.unicodeScalars.map(\.value)), pattern: pattern)
        let node = try parser.parseWhole()
        var compiler = Compiler()
        try compiler.emit(node, pattern: pattern)
        compiler.code.append(.succeed)
        program = compiler.code
        classes = compiler.classes
        bitmaps = classes.flatMap { $0.bmpBitmap() }
    }

    /// A pattern matching `literal` exactly (a `Split` pattern given as `{"String": …}`).
    init(literal: String) {
        pattern = literal
        var compiler = Compiler()
        for v in literal.unicodeScalars {
            compiler.code.append(.set(compiler.classIndex(ScalarClass(items: [.range(v.value, v.value)], negated: false))))
        }
        compiler.code.append(.succeed)
        program = compiler.code
        classes = compiler.classes
        bitmaps = classes.flatMap { $0.bmpBitmap() }
    }

    /// Every non-overlapping match in `subject[range]`, left to right, as ranges of scalar indices. The
    /// subject is `range` alone: anchors and lookaheads do not see past it. After an empty match the
    /// search resumes one scalar further (as `find_iter` in Rust and Oniguruma).
    func matches(in subject: [UInt32], range: Range<Int>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var runner = Runner(program: program, classes: classes, bitmaps: bitmaps, subject: subject,
                            lower: range.lowerBound, upper: range.upperBound)
        var start = range.lowerBound
        while start <= range.upperBound {
            var found = false
            var s = start
            while s <= range.upperBound {
                if let end = runner.run(from: 0, at: s) {
                    out.append(s..<end)
                    start = end > s ? end : s + 1
                    found = true
                    break
                }
                s += 1
            }
            if !found { break }
        }
        return out
    }

    // MARK: - Program

    enum Mode: Sendable { case greedy, lazy, possessive }

    enum Instruction: Sendable {
        /// Consume one scalar of class `index`.
        case set(Int)
        /// Try `first`; on failure, `second`.
        case split(Int, Int)
        case jump(Int)
        /// `min…max` scalars of class `index` as one step (greedy or possessive).
        case repeatSet(Int, min: Int, max: Int, possessive: Bool)
        /// Run the sub-program at `start` (ends at `.succeed`) without backtracking into it; go on at `next`.
        case atomic(start: Int, next: Int)
        /// Lookahead: the sub-program at `start` must (or, `negative`, must not) match here; go on at `next`.
        case look(start: Int, next: Int, negative: Bool)
        case assertStart
        case assertEnd
        case succeed
    }

    indirect enum Node {
        case empty
        case set(ScalarClass)
        case sequence([Node])
        case alternation([Node])
        case repetition(Node, min: Int, max: Int?, mode: Mode)
        case atomic(Node)
        case look(Node, negative: Bool)
        case start
        case end

        var canBeEmpty: Bool {
            switch self {
            case .empty, .start, .end, .look: true
            case .set: false
            case .sequence(let ns): ns.allSatisfy(\.canBeEmpty)
            case .alternation(let ns): ns.contains(where: \.canBeEmpty)
            case .repetition(let n, let min, _, _): min == 0 || n.canBeEmpty
            case .atomic(let n): n.canBeEmpty
            }
        }
    }

    // MARK: - Parser

    struct Parser {
        let s: [UInt32]
        let pattern: String
        var i = 0

        init(_ s: [UInt32], pattern: String) {
            self.s = s
            self.pattern = pattern
        }

        func error(_ what: String) -> FastPerfError {
            FastPerfError("tokenizer regex \(pattern.debugDescription): \(what) (at offset \(i))")
        }

        var atEnd: Bool { i >= s.count }
        func peek(_ k: Int = 0) -> UInt32? { i + k < s.count ? s[i + k] : nil }
        func isChar(_ c: Character, _ k: Int = 0) -> Bool { peek(k) == c.unicodeScalars.first!.value }

        mutating func parseWhole() throws -> Node {
            var caseless = false
            let node = try parseAlternation(caseless: &caseless)
            if !atEnd { throw error("unbalanced ')'") }
            return node
        }

        mutating func parseAlternation(caseless: inout Bool) throws -> Node {
            var branches = [try parseSequence(caseless: &caseless)]
            while isChar("|") {
                i += 1
                branches.append(try parseSequence(caseless: &caseless))
            }
            return branches.count == 1 ? branches[0] : .alternation(branches)
        }

        mutating func parseSequence(caseless: inout Bool) throws -> Node {
            var items: [Node] = []
            while let c = peek(), c != 0x7C /* | */, c != 0x29 /* ) */ {
                guard let atom = try parseAtom(caseless: &caseless) else { continue }
                items.append(try parseQuantifier(atom))
            }
            return items.count == 1 ? items[0] : .sequence(items)
        }

        mutating func parseQuantifier(_ atom: Node) throws -> Node {
            var node = atom
            while let c = peek() {
                var lo = 0
                var hi: Int?
                switch c {
                case 0x2A: i += 1; lo = 0; hi = nil  // *
                case 0x2B: i += 1; lo = 1; hi = nil  // +
                case 0x3F: i += 1; lo = 0; hi = 1  // ?
                case 0x7B:  // {
                    guard let (a, b, length) = braceQuantifier() else { return node }
                    i += length
                    lo = a
                    hi = b
                default: return node
                }
                var mode = Mode.greedy
                if isChar("?") { mode = .lazy; i += 1 } else if isChar("+") { mode = .possessive; i += 1 }
                if let hi, hi < lo { throw error("quantifier {\(lo),\(hi)} has max < min") }
                if hi == nil && node.canBeEmpty { throw error("unbounded repetition of something that can match empty") }
                node = .repetition(node, min: lo, max: hi, mode: mode)
            }
            return node
        }

        /// `{n}`, `{n,}` or `{n,m}` at `i`: (min, max, length), or nil when it is a literal `{`.
        func braceQuantifier() -> (Int, Int?, Int)? {
            var k = i + 1
            func number() -> Int? {
                var v = 0
                var digits = 0
                while k < s.count, s[k] >= 0x30, s[k] <= 0x39 {
                    v = v * 10 + Int(s[k] - 0x30)
                    k += 1
                    digits += 1
                    if v > 100_000 { return nil }
                }
                return digits > 0 ? v : nil
            }
            guard let lo = number() else { return nil }
            var hi: Int? = lo
            if k < s.count, s[k] == 0x2C {  // ,
                k += 1
                hi = number()
            }
            guard k < s.count, s[k] == 0x7D else { return nil }
            return (lo, hi, k + 1 - i)
        }

        /// One atom, or nil for an inline flag group `(?i)` (which only changes `caseless`).
        mutating func parseAtom(caseless: inout Bool) throws -> Node? {
            let c = s[i]
            switch c {
            case 0x28:  // (
                i += 1
                var inner = caseless
                if isChar("?") {
                    i += 1
                    guard let k = peek() else { throw error("unterminated group") }
                    switch k {
                    case 0x3A:  // (?:
                        i += 1
                    case 0x3D, 0x21:  // (?= (?!
                        i += 1
                        let body = try parseAlternation(caseless: &inner)
                        try close()
                        return .look(body, negative: k == 0x21)
                    case 0x3E:  // (?>
                        i += 1
                        let body = try parseAlternation(caseless: &inner)
                        try close()
                        return .atomic(body)
                    case 0x69, 0x2D:  // (?i: (?i) (?-i: (?-i)
                        let on = k == 0x69
                        i += on ? 1 : 2
                        if !on && !isChar("i", -1) { throw error("unsupported inline flag") }
                        if isChar(")") {
                            i += 1
                            caseless = on
                            return nil
                        }
                        guard isChar(":") else { throw error("unsupported inline flag") }
                        i += 1
                        inner = on
                    case 0x3C:  // (?< lookbehind or named group
                        throw error("lookbehind and named groups are not supported")
                    default:
                        throw error("unsupported group syntax")
                    }
                }
                let body = try parseAlternation(caseless: &inner)
                try close()
                return body
            case 0x5B:  // [
                i += 1
                let cls = try parseClassBody(caseless: caseless)
                return .set(cls)
            case 0x5C:  // backslash
                i += 1
                guard let e = peek() else { throw error("trailing backslash") }
                switch e {
                case 0x41: i += 1; return .start  // \A
                case 0x7A: i += 1; return .end  // \z
                case 0x62, 0x42, 0x5A, 0x47: throw error("\\\(Character(Unicode.Scalar(e)!)) is not supported")
                default:
                    let item = try parseEscape()
                    return .set(classOf(item, caseless: caseless))
                }
            case 0x2E:  // .
                i += 1
                return .set(ScalarClass(items: [.range(0x0A, 0x0A)], negated: true))
            case 0x5E: i += 1; return .start  // ^
            case 0x24: i += 1; return .end  // $
            case 0x2A, 0x2B, 0x3F: throw error("quantifier without anything to repeat")
            default:
                i += 1
                return .set(classOf(.range(c, c), caseless: caseless))
            }
        }

        mutating func close() throws {
            guard isChar(")") else { throw error("missing ')'") }
            i += 1
        }

        /// An escape after `\` (at `i`), as a class item.
        mutating func parseEscape() throws -> ScalarClass.Item {
            let e = s[i]
            i += 1
            switch e {
            case 0x6E: return .range(0x0A, 0x0A)  // n
            case 0x72: return .range(0x0D, 0x0D)  // r
            case 0x74: return .range(0x09, 0x09)  // t
            case 0x66: return .range(0x0C, 0x0C)  // f
            case 0x76: return .range(0x0B, 0x0B)  // v
            case 0x30: return .range(0, 0)  // 0
            case 0x73: return .whitespace(negated: false)  // s
            case 0x53: return .whitespace(negated: true)  // S
            case 0x64: return .categories(ScalarCategory.masksByName["Nd"]!, negated: false)  // d
            case 0x44: return .categories(ScalarCategory.masksByName["Nd"]!, negated: true)  // D
            case 0x77, 0x57:  // w W: letters, marks, decimal digits, connector punctuation
                let m = ScalarCategory.masksByName
                return .categories(m["L"]! | m["M"]! | m["Nd"]! | m["Pc"]!, negated: e == 0x57)
            case 0x70, 0x50:  // p P
                var name = ""
                if isChar("{") {
                    i += 1
                    while let c = peek(), c != 0x7D { name.unicodeScalars.append(Unicode.Scalar(c)!); i += 1 }
                    guard isChar("}") else { throw error("unterminated \\p{") }
                    i += 1
                } else if let c = peek() {
                    name = String(Unicode.Scalar(c)!)
                    i += 1
                }
                var negated = e == 0x50
                if name.hasPrefix("^") { negated.toggle(); name.removeFirst() }
                guard let mask = ScalarCategory.masksByName[name] else {
                    throw error("unsupported property \\p{\(name)} (general categories only)")
                }
                return .categories(mask, negated: negated)
            case 0x78:  // x
                if isChar("{") {
                    i += 1
                    let v = try hex(maxDigits: 6, until: 0x7D)
                    i += 1
                    return .range(v, v)
                }
                let v = try hex(maxDigits: 2, until: nil)
                return .range(v, v)
            case 0x75:  // u
                let v = try hex(maxDigits: 4, until: nil)
                return .range(v, v)
            default:
                if (0x41...0x5A).contains(e) || (0x61...0x7A).contains(e) || (0x31...0x39).contains(e) {
                    throw error("unsupported escape \\\(Character(Unicode.Scalar(e)!))")
                }
                return .range(e, e)
            }
        }

        mutating func hex(maxDigits: Int, until terminator: UInt32?) throws -> UInt32 {
            var v: UInt32 = 0
            var n = 0
            while n < maxDigits, let c = peek(), let d = Character(Unicode.Scalar(c)!).hexDigitValue {
                v = v * 16 + UInt32(d)
                i += 1
                n += 1
            }
            if n == 0 || (terminator == nil && n != maxDigits) || (terminator != nil && peek() != terminator) {
                throw error("bad hex escape")
            }
            return v
        }

        /// A class body after `[` up to and including `]`.
        mutating func parseClassBody(caseless: Bool) throws -> ScalarClass {
            var negated = false
            if isChar("^") { negated = true; i += 1 }
            var items: [ScalarClass.Item] = []
            var first = true
            while true {
                guard let c = peek() else { throw error("unterminated character class") }
                if c == 0x5D && !first { i += 1; break }  // ]
                first = false
                var item: ScalarClass.Item
                if c == 0x5B {  // nested [
                    if isChar(":", 1) { throw error("POSIX classes are not supported") }
                    i += 1
                    let inner = try parseClassBody(caseless: caseless)
                    items.append(.nested(inner.items, negated: inner.negated))
                    continue
                } else if c == 0x5C {
                    i += 1
                    guard !atEnd else { throw error("trailing backslash") }
                    item = try parseEscape()
                } else {
                    i += 1
                    item = .range(c, c)
                }
                // A range `a-b` (a `-` before `]` is literal).
                if case .range(let lo, let loEnd) = item, lo == loEnd, isChar("-"), let next = peek(1), next != 0x5D {
                    i += 1
                    var hiItem: ScalarClass.Item
                    if next == 0x5C {
                        i += 1
                        hiItem = try parseEscape()
                    } else {
                        i += 1
                        hiItem = .range(next, next)
                    }
                    guard case .range(let hi, let hiEnd) = hiItem, hi == hiEnd, hi >= lo else { throw error("bad class range") }
                    item = .range(lo, hi)
                }
                items.append(item)
            }
            if caseless { items += items.flatMap(Self.caseVariants) }
            return ScalarClass(items: items, negated: negated)
        }

        func classOf(_ item: ScalarClass.Item, caseless: Bool) -> ScalarClass {
            ScalarClass(items: [item] + (caseless ? Self.caseVariants(item) : []), negated: false)
        }

        /// Other-case counterparts of a range item: ASCII letter ranges shifted by 32, and the simple
        /// single-scalar upper/lower mappings of a single scalar.
        static func caseVariants(_ item: ScalarClass.Item) -> [ScalarClass.Item] {
            guard case .range(let lo, let hi) = item else { return [] }
            var out: [ScalarClass.Item] = []
            let upper = (max(lo, 0x41), min(hi, 0x5A))
            if upper.0 <= upper.1 { out.append(.range(upper.0 + 32, upper.1 + 32)) }
            let lower = (max(lo, 0x61), min(hi, 0x7A))
            if lower.0 <= lower.1 { out.append(.range(lower.0 - 32, lower.1 - 32)) }
            if lo == hi, lo >= 0x80, let scalar = Unicode.Scalar(lo) {
                for mapped in [scalar.properties.lowercaseMapping, scalar.properties.uppercaseMapping] {
                    let scalars = Array(mapped.unicodeScalars)
                    if scalars.count == 1, scalars[0].value != lo { out.append(.range(scalars[0].value, scalars[0].value)) }
                }
            }
            return out
        }
    }

    // MARK: - Compiler

    struct Compiler {
        var code: [Instruction] = []
        var classes: [ScalarClass] = []

        mutating func classIndex(_ c: ScalarClass) -> Int {
            if let k = classes.firstIndex(of: c) { return k }
            classes.append(c)
            return classes.count - 1
        }

        mutating func emit(_ node: Node, pattern: String) throws {
            switch node {
            case .empty: break
            case .set(let c): code.append(.set(classIndex(c)))
            case .sequence(let ns): for n in ns { try emit(n, pattern: pattern) }
            case .start: code.append(.assertStart)
            case .end: code.append(.assertEnd)
            case .alternation(let ns):
                var jumps: [Int] = []
                for (k, n) in ns.enumerated() {
                    if k < ns.count - 1 {
                        let split = code.count
                        code.append(.split(0, 0))
                        try emit(n, pattern: pattern)
                        jumps.append(code.count)
                        code.append(.jump(0))
                        code[split] = .split(split + 1, code.count)
                    } else {
                        try emit(n, pattern: pattern)
                    }
                }
                for j in jumps { code[j] = .jump(code.count) }
            case .atomic(let n):
                try emitSub(n, pattern: pattern) { .atomic(start: $0, next: $1) }
            case .look(let n, let negative):
                try emitSub(n, pattern: pattern) { .look(start: $0, next: $1, negative: negative) }
            case .repetition(let n, let lo, let hi, let mode):
                if case .set(let c) = n, mode != .lazy {
                    code.append(.repeatSet(classIndex(c), min: lo, max: hi ?? Int.max, possessive: mode == .possessive))
                    return
                }
                if mode == .possessive {
                    try emit(.atomic(.repetition(n, min: lo, max: hi, mode: .greedy)), pattern: pattern)
                    return
                }
                for _ in 0..<lo { try emit(n, pattern: pattern) }
                let lazy = mode == .lazy
                if let hi {
                    var exits: [Int] = []
                    for _ in lo..<hi {
                        exits.append(code.count)
                        code.append(.split(0, 0))
                        try emit(n, pattern: pattern)
                    }
                    for e in exits { code[e] = lazy ? .split(code.count, e + 1) : .split(e + 1, code.count) }
                } else {
                    let loop = code.count
                    code.append(.split(0, 0))
                    try emit(n, pattern: pattern)
                    code.append(.jump(loop))
                    code[loop] = lazy ? .split(code.count, loop + 1) : .split(loop + 1, code.count)
                }
            }
        }

        /// Emits `make(subStart, next)`, then the sub-program for `n` ending in `.succeed`.
        mutating func emitSub(_ n: Node, pattern: String, _ make: (Int, Int) -> Instruction) throws {
            let at = code.count
            code.append(.succeed)  // placeholder
            try emit(n, pattern: pattern)
            code.append(.succeed)
            code[at] = make(at + 1, code.count)
        }
    }

    // MARK: - Matcher

    /// Runs the program with an explicit backtrack stack of (pc, position, lowest position) triples; a
    /// lowest position ≥ 0 marks a greedy single-class repetition that gives back one scalar per retry.
    struct Runner {
        let program: [Instruction]
        let classes: [ScalarClass]
        let bitmaps: [UInt64]
        let subject: [UInt32]
        let lower: Int
        let upper: Int
        var stack: [Int] = []

        init(program: [Instruction], classes: [ScalarClass], bitmaps: [UInt64], subject: [UInt32], lower: Int, upper: Int) {
            self.program = program
            self.classes = classes
            self.bitmaps = bitmaps
            self.subject = subject
            self.lower = lower
            self.upper = upper
            stack.reserveCapacity(64)
        }

        /// Whether scalar value `v` is in class `k`.
        @inline(__always)
        func contains(_ k: Int, _ v: UInt32) -> Bool {
            if v < 0x10000 { return bitmaps[k << 10 | Int(v >> 6)] & (1 << UInt64(v & 63)) != 0 }
            return classes[k].contains(v)
        }

        /// The end of the match of the (sub-)program at `startPC` from position `startPos`, or nil.
        mutating func run(from startPC: Int, at startPos: Int) -> Int? {
            let base = stack.count
            var pc = startPC
            var pos = startPos
            while true {
                var ok = true
                switch program[pc] {
                case .set(let k):
                    if pos < upper && contains(k, subject[pos]) {
                        pos += 1
                        pc += 1
                    } else {
                        ok = false
                    }
                case .split(let a, let b):
                    stack.append(b)
                    stack.append(pos)
                    stack.append(-1)
                    pc = a
                case .jump(let a):
                    pc = a
                case .repeatSet(let k, let lo, let hi, let possessive):
                    var n = 0
                    while n < hi && pos + n < upper && contains(k, subject[pos + n]) { n += 1 }
                    if n < lo {
                        ok = false
                    } else {
                        if !possessive && n > lo {
                            stack.append(pc + 1)
                            stack.append(pos + n - 1)
                            stack.append(pos + lo)
                        }
                        pos += n
                        pc += 1
                    }
                case .atomic(let start, let next):
                    if let end = run(from: start, at: pos) {
                        pos = end
                        pc = next
                    } else {
                        ok = false
                    }
                case .look(let start, let next, let negative):
                    if (run(from: start, at: pos) != nil) != negative { pc = next } else { ok = false }
                case .assertStart:
                    if pos == lower { pc += 1 } else { ok = false }
                case .assertEnd:
                    if pos == upper { pc += 1 } else { ok = false }
                case .succeed:
                    stack.removeSubrange(base...)
                    return pos
                }
                if ok { continue }
                // Backtrack.
                if stack.count == base { return nil }
                let low = stack.removeLast()
                pos = stack.removeLast()
                pc = stack.removeLast()
                if low >= 0 && pos > low {
                    stack.append(pc)
                    stack.append(pos - 1)
                    stack.append(low)
                }
            }
        }
    }
}
