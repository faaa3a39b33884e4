/// Fast text encodings for the `result` row's JSON columns, written per request on the writer thread.
/// They work on raw buffers because they touch every response byte (RFC 8259 §7 string escaping).
enum RowEncoding {
    /// `response_messages`: a JSON array holding each SSE event's data as a JSON string, in order; for a
    /// non-SSE response, one string with the body (empty array when there is none).
    ///
    /// `shapes` (from the API plugin): events that are their stream's shape with another text. Such an event is
    /// written as the shape chunk's escaped bytes before the text, its own text escaped, and the shape's escaped
    /// bytes from the closing quote on: escaping is byte by byte, so the result is the same, and the shared bytes
    /// (the quote-dense `{"id":…,"choices":[{"index":0,"delta":{"content":"` part) are escaped once per stream.
    static func responseMessages(_ record: RequestRecord, shapes: EventShapes = EventShapes()) -> [UInt8] {
        let n = record.isEventStream ? record.events.count : (record.payload.isEmpty ? 0 : 1)
        // Worst case: every byte becomes \u00XX (6 bytes), plus quotes and commas, plus 8 bytes that an
        // 8-byte store may write past the last byte.
        let bound = record.payload.count * 6 + n * 3 + 2 + 8
        let useShapes = record.isEventStream && shapes.ofEvent.count == record.events.count
        // Per shape, once built: where its escaped bytes before the text and from the closing quote on sit in
        // `escaped` (offset, prefix length, tail length; -1: not built). Room for every shape's bytes escaped.
        var built = [Int](repeating: -1, count: useShapes ? 3 * shapes.shapes.count : 0)
        let room = useShapes ? shapes.shapes.reduce(0) { $0 + 6 * ($1.prefix + $1.tail) + 16 } : 0
        let escaped = room > 0 ? UnsafeMutableBufferPointer<UInt8>.allocate(capacity: room)
                               : UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)
        defer { escaped.deallocate() }
        var escapedEnd = 0
        return record.payload.withUnsafeBufferPointer { src in
            [UInt8](unsafeUninitializedCapacity: bound) { out, count in
                var o = 0
                out[o] = UInt8(ascii: "["); o += 1
                if record.isEventStream {
                    for (k, m) in record.events.enumerated() {
                        if k > 0 { out[o] = UInt8(ascii: ","); o += 1 }
                        let start = Int(m.dataOffset), length = Int(m.dataLength)
                        guard useShapes, case let s = Int(shapes.ofEvent[k]), s >= 0 else {
                            o = appendQuoted(src, from: start, count: length, to: out, at: o)
                            continue
                        }
                        let shape = shapes.shapes[s]
                        if built[3 * s] < 0 {  // every event of the shape has these bytes: take this one's
                            let at = escapedEnd
                            let prefixEnd = appendEscaped(src, from: start, count: shape.prefix, to: escaped, at: at)
                            escapedEnd = appendEscaped(src, from: start + length - shape.tail, count: shape.tail,
                                                       to: escaped, at: prefixEnd)
                            built[3 * s] = at
                            built[3 * s + 1] = prefixEnd - at
                            built[3 * s + 2] = escapedEnd - prefixEnd
                        }
                        let at = built[3 * s], prefixLength = built[3 * s + 1], tailLength = built[3 * s + 2]
                        let d = out.baseAddress!
                        d[o] = UInt8(ascii: "\""); o += 1
                        (d + o).update(from: escaped.baseAddress! + at, count: prefixLength)
                        o += prefixLength
                        o = appendEscaped(src, from: start + shape.prefix, count: length - shape.prefix - shape.tail,
                                          to: out, at: o)
                        (d + o).update(from: escaped.baseAddress! + at + prefixLength, count: tailLength)
                        o += tailLength
                        d[o] = UInt8(ascii: "\""); o += 1
                    }
                } else if !record.payload.isEmpty {
                    o = appendQuoted(src, from: 0, count: src.count, to: out, at: o)
                }
                out[o] = UInt8(ascii: "]"); o += 1
                count = o
            }
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Writes `src[from..<from+count]` as a JSON string literal at `out[at...]`; returns the new end.
    @inline(__always)
    private static func appendQuoted(_ src: UnsafeBufferPointer<UInt8>, from: Int, count: Int,
                                     to out: UnsafeMutableBufferPointer<UInt8>, at: Int) -> Int {
        out[at] = UInt8(ascii: "\"")
        let o = appendEscaped(src, from: from, count: count, to: out, at: at + 1)
        out[o] = UInt8(ascii: "\"")
        return o + 1
    }

    /// Writes `src[from..<from+count]` escaped as the inside of a JSON string (RFC 8259 §7) at `out[at...]`
    /// (room for 6 bytes per byte, plus 8); returns the new end. Plain ASCII runs (no `"`, `\\` or control byte)
    /// are copied 8 bytes at a time; the bytes that need it are escaped one by one. Well-formed UTF-8 sequences are
    /// copied as they are; a byte that does not start one becomes U+FFFD (JSON text is UTF-8, RFC 8259 §8.1, and a
    /// column holding invalid UTF-8 cannot be read as text, by Python's sqlite3 for one).
    @inline(__always)
    private static func appendEscaped(_ src: UnsafeBufferPointer<UInt8>, from: Int, count: Int,
                                      to out: UnsafeMutableBufferPointer<UInt8>, at: Int) -> Int {
        guard let s = src.baseAddress, let d = out.baseAddress else { return at }
        var o = at
        var i = from
        let end = from + count
        while i < end {
            while i + 8 <= end {
                let v = UnsafeRawPointer(s + i).loadUnaligned(as: UInt64.self)
                let special = OpenAIChunkScanner.specialBytes(v) | v & 0x8080_8080_8080_8080
                if special != 0 {
                    // Little-endian: the lowest flagged byte is the first that needs an escape or a UTF-8 check.
                    let plain = special.trailingZeroBitCount >> 3
                    UnsafeMutableRawPointer(d + o).storeBytes(of: v, as: UInt64.self)  // the plain bytes, and more
                    i += plain
                    o += plain
                    break
                }
                UnsafeMutableRawPointer(d + o).storeBytes(of: v, as: UInt64.self)
                i += 8
                o += 8
            }
            guard i < end else { break }
            let b = s[i]
            i += 1
            if b >= 0x80 {
                let (n, valid) = utf8Sequence(s + i - 1, available: end - i + 1)
                if valid {
                    (d + o).update(from: s + i - 1, count: n)
                    o += n
                } else {
                    d[o] = 0xEF; d[o + 1] = 0xBF; d[o + 2] = 0xBD  // U+FFFD REPLACEMENT CHARACTER
                    o += 3
                }
                i += n - 1
                continue
            }
            if b >= 0x20 && b != 0x22 && b != 0x5C {
                d[o] = b; o += 1
                continue
            }
            d[o] = 0x5C; o += 1
            switch b {
            case 0x22, 0x5C: d[o] = b; o += 1
            case 0x0A: d[o] = UInt8(ascii: "n"); o += 1
            case 0x0D: d[o] = UInt8(ascii: "r"); o += 1
            case 0x09: d[o] = UInt8(ascii: "t"); o += 1
            default:
                d[o] = UInt8(ascii: "u"); d[o + 1] = 0x30; d[o + 2] = 0x30
                d[o + 3] = hex[Int(b >> 4)]; d[o + 4] = hex[Int(b & 15)]
                o += 5
            }
        }
        return o
    }

    /// The UTF-8 sequence at `p` (lead byte ≥ 0x80) within `available` bytes: its length when well-formed (2 to 4
    /// bytes, RFC 3629 §4: no overlong form, no surrogate, nothing above U+10FFFF), else the length of its maximal
    /// subpart (the lead byte and the continuation bytes that could still have followed it), which one U+FFFD
    /// replaces, as Unicode §3.9 recommends and Swift's `String(decoding:)` does.
    private static func utf8Sequence(_ p: UnsafePointer<UInt8>, available: Int) -> (length: Int, valid: Bool) {
        let b0 = p[0]
        let need: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF  // the second byte's range
        switch b0 {
        case 0xC2...0xDF: need = 2
        case 0xE0: need = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: need = 3
        case 0xED: need = 3; high = 0x9F
        case 0xF0: need = 4; low = 0x90
        case 0xF1...0xF3: need = 4
        case 0xF4: need = 4; high = 0x8F
        default: return (1, false)
        }
        var k = 1
        while k < need {
            guard k < available else { return (k, false) }
            let b = p[k]
            let ok = k == 1 ? b >= low && b <= high : b >= 0x80 && b <= 0xBF
            guard ok else { return (k, false) }
            k += 1
        }
        return (need, true)
    }

    /// `event_times`: the arrival of every SSE event, s after the request's start, in order (UTF-8 JSON array).
    static func eventTimes(_ record: RequestRecord) -> [UInt8] {
        var buffer: [UInt8] = []
        return Array(eventTimes(record, reusing: &buffer))
    }

    /// `eventTimes`, written into `buffer` (reused, grown when too small) rather than a new array: the bytes
    /// written, a slice of `buffer`.
    static func eventTimes(_ record: RequestRecord, reusing buffer: inout [UInt8]) -> ArraySlice<UInt8> {
        let start = record.startNanos
        return record.events.withUnsafeBufferPointer { events in
            secondsArray(count: events.count, reusing: &buffer) {
                events[$0].timestampNanos >= start ? events[$0].timestampNanos - start : 0
            }
        }
    }

    /// A JSON array of durations given in ns, written as seconds with 9 decimals and no trailing zeros
    /// (`[0.01,0.0305]`), without going through `Double` (exact, and far cheaper than float printing); UTF-8.
    static func secondsArray(_ nanos: [UInt64]) -> [UInt8] {
        var buffer: [UInt8] = []
        return Array(secondsArray(nanos, reusing: &buffer))
    }

    /// `secondsArray`, written into `buffer` (reused, grown when too small) rather than a new array: the bytes
    /// written, a slice of `buffer`. The writer keeps one buffer per column, so a row writes into memory the last
    /// row warmed instead of two new allocations.
    static func secondsArray(_ nanos: [UInt64], reusing buffer: inout [UInt8]) -> ArraySlice<UInt8> {
        nanos.withUnsafeBufferPointer { values in secondsArray(count: values.count, reusing: &buffer) { values[$0] } }
    }

    /// `secondsArray` of `count` values, value `k` given by `nanos(k)`, into `buffer`.
    @inline(__always)
    private static func secondsArray(count: Int, reusing buffer: inout [UInt8], _ nanos: (Int) -> UInt64)
        -> ArraySlice<UInt8> {
        // Up to 11 integer digits (UInt64 ns are < 2^64 / 1e9 ≈ 1.8e10 s), a point, 9 decimals and a comma
        // per value; 8 bytes of slack for the last value's copy in 3 words.
        let room = 22 * count + 10
        if buffer.count < room { buffer = [UInt8](repeating: 0, count: max(room, 2 * buffer.count)) }
        let written = buffer.withUnsafeMutableBufferPointer { out in
            let d = out.baseAddress!
            var o = 0
            d[o] = UInt8(ascii: "["); o += 1
            // The last value written and where its text is: events that came in one read share a timestamp, and
            // their gaps are 0, so a value is often the one before it and its text is copied (3 words, ≤ 21 bytes).
            var last: UInt64 = 0
            var lastStart = 0
            var lastLength = 0
            for k in 0..<count {
                if k > 0 { d[o] = UInt8(ascii: ","); o += 1 }
                let v = nanos(k)
                if k > 0 && v == last {
                    let from = UnsafeRawPointer(d + lastStart)
                    let to = UnsafeMutableRawPointer(d + o)
                    to.storeBytes(of: from.loadUnaligned(as: UInt64.self), as: UInt64.self)
                    (to + 8).storeBytes(of: (from + 8).loadUnaligned(as: UInt64.self), as: UInt64.self)
                    (to + 16).storeBytes(of: (from + 16).loadUnaligned(as: UInt64.self), as: UInt64.self)
                    o += lastLength
                } else {
                    let end = writeSeconds(v, to: d, at: o)
                    last = v
                    lastStart = o
                    lastLength = end - o
                    o = end
                }
            }
            d[o] = UInt8(ascii: "]"); o += 1
            return o
        }
        return buffer[0..<written]
    }

    /// `n` (below 10^8) as 8 ASCII digits, leading zeros included, in one word whose lowest byte is the most
    /// significant digit (stored little-endian, the digits in reading order). SWAR: the two 4-digit halves in
    /// 32-bit lanes, then each split into 2-digit pairs in 16-bit lanes, then into digits in bytes; the divisions
    /// by 100 and 10 are multiplications by 10486 / 2^20 and 103 / 2^10, exact for values below 10^4 and 10^2.
    @inline(__always)
    static func eightDigits(_ n: UInt32) -> UInt64 {
        var x = UInt64(n / 10_000) | UInt64(n % 10_000) << 32
        var y = (x &* 10486) >> 20 & 0x0000_007F_0000_007F  // each lane / 100
        x = (x &- y &* 100) << 16 | y                         // lanes of [first pair, second pair]
        y = (x &* 103) >> 10 & 0x000F_000F_000F_000F         // each pair / 10
        x = (x &- y &* 10) << 8 | y                           // bytes of [tens, ones]
        return x | 0x3030_3030_3030_3030
    }

    /// Writes `nanos` ns as decimal seconds (`1.5`, `0.000000001`, `2.0`) at `d[at...]` (room for 21 bytes);
    /// returns the new end. The nine decimals are written as one digit and a word of eight (`eightDigits`), then
    /// trailing zeros dropped.
    @inline(__always)
    private static func writeSeconds(_ nanos: UInt64, to d: UnsafeMutablePointer<UInt8>, at: Int) -> Int {
        var o = at
        let whole = nanos / 1_000_000_000
        let frac = UInt32(truncatingIfNeeded: nanos % 1_000_000_000)
        if whole < 10 {
            d[o] = UInt8(truncatingIfNeeded: 0x30 + whole); o += 1
        } else {
            // The integer part, most significant digit first.
            var rest = whole
            var digits = 1
            var scale: UInt64 = 1
            while rest / scale >= 10 { scale *= 10; digits += 1 }
            while digits > 0 {
                d[o] = UInt8(truncatingIfNeeded: 0x30 + rest / scale)
                rest %= scale
                scale /= 10
                digits -= 1
                o += 1
            }
        }
        d[o] = UInt8(ascii: "."); o += 1
        if frac == 0 {
            d[o] = 0x30
            return o + 1
        }
        d[o] = UInt8(truncatingIfNeeded: 0x30 + frac / 100_000_000)
        // The other eight decimals; with their '0' bytes XORed to 0, the trailing zeros are the word's leading zero
        // bytes (all eight when only the first decimal is not 0; frac > 0, so that one is not), dropped.
        let last8 = eightDigits(frac % 100_000_000)
        UnsafeMutableRawPointer(d + o + 1).storeBytes(of: last8.littleEndian, as: UInt64.self)
        let zeros = (last8 ^ 0x3030_3030_3030_3030).leadingZeroBitCount >> 3
        return o + 9 - zeros
    }
}
