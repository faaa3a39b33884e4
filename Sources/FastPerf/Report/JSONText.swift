/// Hand-written JSON text for output files and DB columns whose key order or speed matters
/// (RFC 8259 §7 string escaping).
enum JSONText {
    /// `s` as a JSON string literal, quotes included.
    static func quote(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 2)
        appendQuoted(Array(s.utf8), to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the UTF-8 bytes `s` as a JSON string literal (quotes included) to `out`.
    /// Invalid UTF-8 is passed through unchanged; SQLite stores it as given. Runs of bytes that need no
    /// escaping are copied in one append.
    static func appendQuoted<C: Collection>(_ s: C, to out: inout [UInt8]) where C.Element == UInt8, C.Index == Int {
        out.append(UInt8(ascii: "\""))
        var runStart = s.startIndex
        var i = s.startIndex
        let end = s.endIndex
        while i < end {
            let b = s[i]
            if b >= 0x20 && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") {
                i += 1
                continue
            }
            if runStart < i { out.append(contentsOf: s[runStart..<i]) }
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(b)
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            default:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                        hex[Int(b >> 4)], hex[Int(b & 15)]])
            }
            i += 1
            runStart = i
        }
        if runStart < end { out.append(contentsOf: s[runStart..<end]) }
        out.append(UInt8(ascii: "\""))
    }

    /// `s` as a JSON string literal (alias of `quote`, RFC 8259 escaping, non-ASCII kept as UTF-8).
    static func string(_ s: String) -> String { quote(s) }

    /// `x` rounded half away from zero to `decimals` places, in Swift's shortest round-trip form
    /// (`2.0`, `0.27`, `12.3457`); non-finite values become `null`.
    static func number(_ x: Double, decimals: Int) -> String {
        guard x.isFinite else { return "null" }
        let rounded = Self.rounded(x, decimals: decimals)
        return rounded == 0 ? "0.0" : "\(rounded)"
    }

    /// `x` rounded to `decimals` places (exact values are kept elsewhere; round only when writing).
    static func rounded(_ x: Double, decimals: Int) -> Double {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        return (x * scale).rounded() / scale
    }

    /// An object from already-rendered values, one key per line, indented by `indent` levels of 2 spaces.
    static func object(_ fields: [(String, String)], indent: Int) -> String {
        guard !fields.isEmpty else { return "{}" }
        let pad = String(repeating: "  ", count: indent + 1)
        let close = String(repeating: "  ", count: indent)
        let body = fields.map { pad + quote($0.0) + ": " + $0.1 }.joined(separator: ",\n")
        return "{\n" + body + "\n" + close + "}"
    }
}
