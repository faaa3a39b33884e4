/// Fast text encodings for the `result` row's JSON columns, written per request on the writer thread.
/// They work on raw buffers because they touch every response byte (RFC 8259 §7 string escaping).
enum RowEncoding {
    /// `response_messages`: a JSON array holding each SSE event's data as a JSON string, in order; for a
    /// non-SSE response, one string with the body (empty array when there is none).
    static func responseMessages(_ record: RequestRecord) -> [UInt8] {
        let n = record.isEventStream ? record.events.count : (record.payload.isEmpty ? 0 : 1)
        // Worst case: every byte becomes \u00XX (6 bytes), plus quotes and commas, plus 8 bytes that an
        // 8-byte store may write past the last byte.
        let bound = record.payload.count * 6 + n * 3 + 2 + 8
        return record.payload.withUnsafeBufferPointer { src in
            [UInt8](unsafeUninitializedCapacity: bound) { out, count in
                var o = 0
                out[o] = UInt8(ascii: "["); o += 1
                if record.isEventStream {
                    for (k, m) in record.events.enumerated() {
                        if k > 0 { out[o] = UInt8(ascii: ","); o += 1 }
                        o = appendQuoted(src, from: Int(m.dataOffset), count: Int(m.dataLength), to: out, at: o)
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

    /// Writes `src[from..<from+count]` as a JSON string literal at `out[at...]`; returns the new end. Plain
    /// runs (no `"`, `\\` or control byte) are copied 8 bytes at a time; the bytes that need it are escaped
    /// one by one. Other bytes, UTF-8 included, are copied as they are.
    @inline(__always)
    private static func appendQuoted(_ src: UnsafeBufferPointer<UInt8>, from: Int, count: Int,
                                     to out: UnsafeMutableBufferPointer<UInt8>, at: Int) -> Int {
        guard let s = src.baseAddress, let d = out.baseAddress else { return at }
        var o = at
        d[o] = UInt8(ascii: "\""); o += 1
        var i = from
        let end = from + count
        while i < end {
            while i + 8 <= end {
                let v = UnsafeRawPointer(s + i).loadUnaligned(as: UInt64.self)
                let special = OpenAIChunkScanner.specialBytes(v)
                if special != 0 {
                    // Little-endian: the lowest flagged byte is the first that needs an escape.
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
        d[o] = UInt8(ascii: "\""); o += 1
        return o
    }

    /// `event_times`: the arrival of every SSE event, s after the request's start, in order (UTF-8 JSON array).
    static func eventTimes(_ record: RequestRecord) -> [UInt8] {
        let start = record.startNanos
        return secondsArray(record.events.lazy.map { $0.timestampNanos >= start ? $0.timestampNanos - start : 0 })
    }

    /// A JSON array of durations given in ns, written as seconds with 9 decimals and no trailing zeros
    /// (`[0.01,0.0305]`), without going through `Double` (exact, and far cheaper than float printing); UTF-8.
    static func secondsArray<S: Sequence>(_ nanos: S) -> [UInt8] where S.Element == UInt64 {
        // Up to 11 integer digits (UInt64 ns are < 2^64 / 1e9 ≈ 1.8e10 s), a point, 9 decimals and a comma
        // per value; written in one pass into the array's storage.
        let values = Array(nanos)
        return [UInt8](unsafeUninitializedCapacity: 22 * values.count + 2) { out, count in
            let d = out.baseAddress!
            var o = 0
            d[o] = UInt8(ascii: "["); o += 1
            for (k, v) in values.enumerated() {
                if k > 0 { d[o] = UInt8(ascii: ","); o += 1 }
                o = writeSeconds(v, to: d, at: o)
            }
            d[o] = UInt8(ascii: "]"); o += 1
            count = o
        }
    }

    /// Writes `nanos` ns as decimal seconds (`1.5`, `0.000000001`, `2.0`) at `d[at...]` (room for 21 bytes);
    /// returns the new end.
    @inline(__always)
    private static func writeSeconds(_ nanos: UInt64, to d: UnsafeMutablePointer<UInt8>, at: Int) -> Int {
        var o = at
        var whole = nanos / 1_000_000_000
        var frac = nanos % 1_000_000_000
        // The integer part, most significant digit first.
        var digits = 1
        var scale: UInt64 = 1
        while whole / scale >= 10 { scale *= 10; digits += 1 }
        while digits > 0 {
            d[o] = UInt8(0x30 + whole / scale)
            whole %= scale
            scale /= 10
            digits -= 1
            o += 1
        }
        d[o] = UInt8(ascii: "."); o += 1
        if frac == 0 {
            d[o] = 0x30
            return o + 1
        }
        var places = 9
        while frac % 10 == 0 { frac /= 10; places -= 1 }
        // The `places` decimals, leading zeros included, written from the last.
        var k = o + places - 1
        while k >= o {
            d[k] = UInt8(0x30 + frac % 10)
            frac /= 10
            k -= 1
        }
        return o + places
    }
}
