/// A value the pickle writer can write: the JSON data model, as Python sees it after `json.loads`
/// (`None`, `bool`, `int`, `float`, `str`, `list`, `dict` with string keys). Decodable from JSON text with
/// Foundation's `JSONDecoder` (a number is an `int` when it decodes as `Int`, else a `float`; object keys
/// are sorted, since the decoder does not keep their order).
enum PickleValue: Equatable, Decodable {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case list([PickleValue])
    /// Entries in the order they are written (Python dicts keep insertion order).
    case dict([(String, PickleValue)])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .none
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .float(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([PickleValue].self) {
            self = .list(a)
        } else {
            let object = try c.decode([String: PickleValue].self)
            self = .dict(object.keys.sorted().map { ($0, object[$0]!) })
        }
    }

    static func == (a: PickleValue, b: PickleValue) -> Bool {
        switch (a, b) {
        case (.none, .none): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.float(let x), .float(let y)): return x.bitPattern == y.bitPattern
        case (.string(let x), .string(let y)): return x == y
        case (.list(let x), .list(let y)): return x == y
        case (.dict(let x), .dict(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}

/// Writes Python pickles, protocol 2 (PEP 307; opcodes as in CPython's `Lib/pickle.py` and `pickletools`),
/// for `--db-format pickle`: evalscope's database stores `response_messages` as base64 of a pickle, and its
/// documented analysis script unpickles `request` and `response_messages` (EVALSCOPE-PERF §5.1).
///
/// The opcodes used are those `pickle.dumps(obj, protocol=2)` emits for these types, without the memo
/// (`BINPUT`), which only serves shared references: `PROTO 2`; `NONE`; `NEWTRUE`/`NEWFALSE`;
/// `BININT1` (0…255), `BININT2` (256…65535), `BININT` (other 32-bit signed), `LONG1` (little-endian two's
/// complement, minimal length) for the rest; `BINFLOAT` (IEEE 754 double, big-endian); `BINUNICODE`
/// (32-bit little-endian length, UTF-8); `EMPTY_LIST` + `APPEND`/`MARK … APPENDS`; `EMPTY_DICT` +
/// `SETITEM`/`MARK … SETITEMS` (batches of 1000, as CPython's `_BATCHSIZE`); `STOP`.
struct PickleWriter {
    /// The pickle so far (starts with `PROTO 2`).
    private(set) var bytes: [UInt8] = [0x80, 0x02]

    private enum Op {
        static let stop = UInt8(ascii: "."), none = UInt8(ascii: "N"), newTrue: UInt8 = 0x88, newFalse: UInt8 = 0x89
        static let binInt = UInt8(ascii: "J"), binInt1 = UInt8(ascii: "K"), binInt2 = UInt8(ascii: "M"), long1: UInt8 = 0x8A
        static let binFloat = UInt8(ascii: "G"), binUnicode = UInt8(ascii: "X"), mark = UInt8(ascii: "(")
        static let emptyList = UInt8(ascii: "]"), append = UInt8(ascii: "a"), appends = UInt8(ascii: "e")
        static let emptyDict = UInt8(ascii: "}"), setItem = UInt8(ascii: "s"), setItems = UInt8(ascii: "u")
    }

    /// CPython's `_BATCHSIZE`: items per `APPENDS`/`SETITEMS`.
    private static let batchSize = 1000

    /// The whole pickle of `value` (ending with `STOP`).
    static func pickle(_ value: PickleValue) -> [UInt8] {
        var writer = PickleWriter()
        writer.write(value)
        return writer.finish()
    }

    /// Appends `STOP` and returns the pickle.
    mutating func finish() -> [UInt8] {
        bytes.append(Op.stop)
        return bytes
    }

    /// Appends one value.
    mutating func write(_ value: PickleValue) {
        switch value {
        case .none: bytes.append(Op.none)
        case .bool(let b): bytes.append(b ? Op.newTrue : Op.newFalse)
        case .int(let n): writeInt(n)
        case .float(let d):
            bytes.append(Op.binFloat)
            let bits = d.bitPattern
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        case .string(let s): writeString(s.utf8)
        case .list(let items):
            bytes.append(Op.emptyList)
            Self.writeBatched(&self, items.count, single: Op.append, batch: Op.appends) { $0.write(items[$1]) }
        case .dict(let entries):
            bytes.append(Op.emptyDict)
            Self.writeBatched(&self, entries.count, single: Op.setItem, batch: Op.setItems) { writer, i in
                writer.writeString(entries[i].0.utf8)
                writer.write(entries[i].1)
            }
        }
    }

    /// Appends a `str` from its UTF-8 bytes (`BINUNICODE`). The bytes must be valid UTF-8 (Python's
    /// unpickler rejects anything else).
    mutating func writeString<C: Collection>(_ utf8: C) where C.Element == UInt8 {
        bytes.append(Op.binUnicode)
        appendLittleEndian(UInt64(utf8.count), count: 4)
        bytes.append(contentsOf: utf8)
    }

    /// Appends a list of `str` (each given as UTF-8 bytes), without building `PickleValue`s.
    mutating func writeStringList(_ strings: [[UInt8]]) {
        bytes.append(Op.emptyList)
        Self.writeBatched(&self, strings.count, single: Op.append, batch: Op.appends) { $0.writeString(strings[$1]) }
    }

    /// Items `0..<count` written by `item`: one with `single`, more in `MARK … batch` groups of 1000.
    private static func writeBatched(_ writer: inout PickleWriter, _ count: Int, single: UInt8, batch: UInt8,
                                     _ item: (inout PickleWriter, Int) -> Void) {
        var start = 0
        while start < count {
            let end = min(count, start + batchSize)
            if end - start == 1 {
                item(&writer, start)
                writer.bytes.append(single)
            } else {
                writer.bytes.append(Op.mark)
                for i in start..<end { item(&writer, i) }
                writer.bytes.append(batch)
            }
            start = end
        }
    }

    /// Appends the low `count` bytes of `value`, least significant first.
    private mutating func appendLittleEndian(_ value: UInt64, count: Int) {
        for i in 0..<count { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(8 * i))) }
    }

    private mutating func writeInt(_ n: Int) {
        if n >= 0 && n <= 0xFF {
            bytes += [Op.binInt1, UInt8(n)]
        } else if n >= 0 && n <= 0xFFFF {
            bytes += [Op.binInt2, UInt8(n & 0xFF), UInt8(n >> 8)]
        } else if n >= Int(Int32.min) && n <= Int(Int32.max) {
            bytes.append(Op.binInt)
            appendLittleEndian(UInt64(bitPattern: Int64(n)), count: 4)
        } else {
            // LONG1: little-endian two's complement, trailing bytes dropped while the sign survives.
            let bits = UInt64(bitPattern: Int64(n))
            var le = (0..<8).map { UInt8(truncatingIfNeeded: bits >> UInt64(8 * $0)) }
            while le.count > 1 {
                let last = le[le.count - 1], signOfNext = le[le.count - 2] & 0x80
                if (last == 0x00 && signOfNext == 0) || (last == 0xFF && signOfNext != 0) { le.removeLast() } else { break }
            }
            bytes += [Op.long1, UInt8(le.count)] + le
        }
    }
}
