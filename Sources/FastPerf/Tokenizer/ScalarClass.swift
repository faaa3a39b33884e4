/// Unicode general categories as bits, and the character classes pre-tokenizer patterns use (`\p{L}`,
/// `\s`, `[^\r\n\p{L}\p{N}]`, `[\u4e00-\u9fa5]`, …), tested on one Unicode scalar value at a time.
///
/// Categories come from the Swift standard library's Unicode tables (`Unicode.Scalar.Properties`), and
/// `\s` is the Unicode `White_Space` property, as in the Rust `regex` crate (tiktoken) and Oniguruma
/// (Hugging Face `tokenizers`).
enum ScalarCategory {
    /// Bit index of each general category in a category mask (`1 << index`).
    static func index(_ c: Unicode.GeneralCategory) -> Int {
        switch c {
        case .uppercaseLetter: 0
        case .lowercaseLetter: 1
        case .titlecaseLetter: 2
        case .modifierLetter: 3
        case .otherLetter: 4
        case .nonspacingMark: 5
        case .spacingMark: 6
        case .enclosingMark: 7
        case .decimalNumber: 8
        case .letterNumber: 9
        case .otherNumber: 10
        case .connectorPunctuation: 11
        case .dashPunctuation: 12
        case .openPunctuation: 13
        case .closePunctuation: 14
        case .initialPunctuation: 15
        case .finalPunctuation: 16
        case .otherPunctuation: 17
        case .mathSymbol: 18
        case .currencySymbol: 19
        case .modifierSymbol: 20
        case .otherSymbol: 21
        case .spaceSeparator: 22
        case .lineSeparator: 23
        case .paragraphSeparator: 24
        case .control: 25
        case .format: 26
        case .surrogate: 27
        case .privateUse: 28
        case .unassigned: 29
        @unknown default: 29
        }
    }

    /// Category masks for the names `\p{…}` accepts: one- and two-letter Unicode general category names.
    static let masksByName: [String: UInt32] = {
        let two: [(String, Int)] = [
            ("Lu", 0), ("Ll", 1), ("Lt", 2), ("Lm", 3), ("Lo", 4), ("Mn", 5), ("Mc", 6), ("Me", 7),
            ("Nd", 8), ("Nl", 9), ("No", 10), ("Pc", 11), ("Pd", 12), ("Ps", 13), ("Pe", 14), ("Pi", 15),
            ("Pf", 16), ("Po", 17), ("Sm", 18), ("Sc", 19), ("Sk", 20), ("So", 21), ("Zs", 22), ("Zl", 23),
            ("Zp", 24), ("Cc", 25), ("Cf", 26), ("Cs", 27), ("Co", 28), ("Cn", 29),
        ]
        var out: [String: UInt32] = [:]
        for (name, bit) in two {
            out[name] = 1 << UInt32(bit)
            out[String(name.prefix(1)), default: 0] |= 1 << UInt32(bit)
        }
        out["Lc"] = out["Lu"]! | out["Ll"]! | out["Lt"]!
        out["L&"] = out["Lc"]
        return out
    }()

    /// Per scalar below U+10000: bits 0–4 the category index, bit 7 `White_Space`. Built once (about 65k
    /// property look-ups) on first use; scalars above the BMP ask the standard library each time.
    static let bmpTable: [UInt8] = (0..<0x10000).map { (v: Int) -> UInt8 in
        guard let s = Unicode.Scalar(UInt32(v)) else { return UInt8(index(.surrogate)) }
        return UInt8(index(s.properties.generalCategory)) | (s.properties.isWhitespace ? 0x80 : 0)
    }

    /// The category bit (`1 << index`) and `White_Space` of scalar value `v`.
    @inline(__always)
    static func info(_ v: UInt32) -> (mask: UInt32, whitespace: Bool) {
        if v < 0x10000 {
            let b = bmpTable[Int(v)]
            return (1 << UInt32(b & 0x1F), b & 0x80 != 0)
        }
        guard let s = Unicode.Scalar(v) else { return (1 << 29, false) }
        return (1 << UInt32(index(s.properties.generalCategory)), s.properties.isWhitespace)
    }

    /// Masks of the categories Rust's `char::is_numeric` accepts (Nd, Nl, No), used by `Digits`.
    static let numberMask: UInt32 = masksByName["N"]!
}

/// One set of scalars in a pattern: a bracket class, an escape such as `\s` or `\p{L}`, a literal, or
/// `.`. Membership is decided by the items; `bmpBitmap()` precomputes it below U+10000.
struct ScalarClass: Sendable, Equatable {
    /// One member description of a class.
    enum Item: Sendable, Equatable {
        /// Scalar values `lower...upper`.
        case range(UInt32, UInt32)
        /// Any scalar whose general category bit is in the mask; `negated` inverts (`\P{…}`).
        case categories(UInt32, negated: Bool)
        /// `White_Space` (`\s`), or its complement (`\S`).
        case whitespace(negated: Bool)
        /// A nested class (`[…]` inside `[…]`, or a negated one).
        case nested([Item], negated: Bool)
    }

    private(set) var items: [Item]
    private(set) var negated: Bool

    init(items: [Item], negated: Bool) {
        self.items = items
        self.negated = negated
    }

    /// Membership of every scalar below U+10000 as 1,024 words of 64 bits (bit `v & 63` of word `v >> 6`),
    /// computed once so that matching BMP text never evaluates the items.
    func bmpBitmap() -> [UInt64] {
        var words = [UInt64](repeating: 0, count: 1024)
        for v in 0..<UInt32(0x10000) where Self.slowContains(items, negated, v) {
            words[Int(v >> 6)] |= 1 << UInt64(v & 63)
        }
        return words
    }

    /// Whether scalar value `v` is in the class (evaluates the items; `ScalarRegex` uses the BMP bitmap).
    func contains(_ v: UInt32) -> Bool {
        Self.slowContains(items, negated, v)
    }

    private static func slowContains(_ items: [Item], _ negated: Bool, _ v: UInt32) -> Bool {
        var hit = false
        var info: (mask: UInt32, whitespace: Bool)?
        for item in items {
            switch item {
            case .range(let lo, let hi):
                hit = v >= lo && v <= hi
            case .categories(let mask, let neg):
                if info == nil { info = ScalarCategory.info(v) }
                hit = (info!.mask & mask != 0) != neg
            case .whitespace(let neg):
                if info == nil { info = ScalarCategory.info(v) }
                hit = info!.whitespace != neg
            case .nested(let inner, let neg):
                hit = slowContains(inner, neg, v)
            }
            if hit { break }
        }
        return hit != negated
    }
}
