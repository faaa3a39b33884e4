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
        // Up to 20 integer digits, a point and 9 decimals, and a comma per value.
        let bound = 31 * nanos.underestimatedCount + 2
        var out = [UInt8]()
        out.reserveCapacity(bound)
        out.append(UInt8(ascii: "["))
        var first = true
        for v in nanos {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            appendSeconds(v, to: &out)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// Appends `nanos` ns as decimal seconds (`1.5`, `0.000000001`, `2.0`).
    static func appendSeconds(_ nanos: UInt64, to out: inout [UInt8]) {
        let whole = nanos / 1_000_000_000
        var frac = nanos % 1_000_000_000
        appendDecimal(whole, to: &out)
        out.append(UInt8(ascii: "."))
        if frac == 0 { out.append(0x30); return }
        var digits = 9
        while frac % 10 == 0 { frac /= 10; digits -= 1 }
        // The `digits` decimals, most significant first (leading zeros included), written in place.
        let end = out.count + digits
        out.append(contentsOf: repeatElement(0x30, count: digits))
        out.withUnsafeMutableBufferPointer { buf in
            var k = end - 1
            while frac > 0 {
                buf[k] = UInt8(0x30 + frac % 10)
                frac /= 10
                k -= 1
            }
        }
    }

    private static func appendDecimal(_ v: UInt64, to out: inout [UInt8]) {
        if v < 10 { out.append(UInt8(0x30 + v)); return }
        appendDecimal(v / 10, to: &out)
        out.append(UInt8(0x30 + v % 10))
    }
}
