import Foundation
import Testing
@testable @_spi(Benchmarks) import FastPerf

/// The writer's row encodings and SQLite binding store exactly the expected text.
struct WriterRowTests {
    /// A new empty directory for one test's database (the caller removes it).
    static func scratchDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fastperf-row-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func secondsArrayIsExactDecimalSeconds() {
        let text = String(decoding: RowEncoding.secondsArray([0, 1, 10_000_000, 30_500_000, 2_000_000_000, 1_234_567_891_010]),
                          as: UTF8.self)
        #expect(text == "[0.0,0.000000001,0.01,0.0305,2.0,1234.56789101]")
        #expect(RowEncoding.secondsArray([UInt64]()) == Array("[]".utf8))
        // The widest values: 11 integer digits and 9 decimals.
        #expect(String(decoding: RowEncoding.secondsArray([.max, .max - 1, 9_999_999_999_000_000_000]), as: UTF8.self)
                == "[18446744073.709551615,18446744073.709551614,9999999999.0]")
        // Against Foundation's rendering with 9 decimals, trailing zeros dropped.
        var rng = SystemRandomNumberGenerator()
        // Values of every width, and with 0 to 9 trailing zeros in their decimals.
        let values = (0..<4000).map { k -> UInt64 in
            let v = UInt64.random(in: 0...(k % 2 == 0 ? 10_000_000_000 : .max), using: &rng)
            var scale: UInt64 = 1
            for _ in 0..<(k % 10) { scale *= 10 }
            return v / scale * scale
        }
        let expected = values.map { v -> String in
            var f = String(v % 1_000_000_000)
            f = String(repeating: "0", count: 9 - f.count) + f
            while f.count > 1 && f.hasSuffix("0") { f.removeLast() }
            return "\(v / 1_000_000_000).\(f)"
        }
        #expect(String(decoding: RowEncoding.secondsArray(values), as: UTF8.self) == "[" + expected.joined(separator: ",") + "]")
    }

    /// A value equal to the one before it (events of one read share a timestamp) is written by copying that one's
    /// text: runs of every width (1 to 21 bytes), at the start, in the middle and at the end of the array.
    @Test func repeatedValuesAreWrittenLikeAnyOther() {
        let widths: [UInt64] = [0, 1, 10_000_000, 123_456_789, 1_000_000_000, 12_345_678_901, 987_654_321_012_345,
                                .max, .max - 1, 9_999_999_999_000_000_000]
        func expected(_ v: UInt64) -> String {
            var f = String(v % 1_000_000_000)
            f = String(repeating: "0", count: 9 - f.count) + f
            while f.count > 1 && f.hasSuffix("0") { f.removeLast() }
            return "\(v / 1_000_000_000).\(f)"
        }
        for (k, v) in widths.enumerated() {
            for run in 1...3 {
                // The run alone, then between other values, then last after a shorter and a longer value.
                let arrays: [[UInt64]] = [
                    Array(repeating: v, count: run),
                    [widths[(k + 1) % widths.count]] + Array(repeating: v, count: run) + [widths[(k + 3) % widths.count]],
                    [0, .max] + Array(repeating: v, count: run),
                ]
                var buffer: [UInt8] = []
                for values in arrays {
                    let want = "[" + values.map(expected).joined(separator: ",") + "]"
                    #expect(String(decoding: RowEncoding.secondsArray(values), as: UTF8.self) == want)
                    #expect(String(decoding: RowEncoding.secondsArray(values, reusing: &buffer), as: UTF8.self) == want)
                }
            }
        }
        // An event-times array whose events share timestamps.
        var record = makeStreamRecord(sseBody: Array("data: a\n\ndata: b\n\ndata: c\n\n".utf8))
        record.events[1].timestampNanos = record.events[0].timestampNanos
        record.events[2].timestampNanos = record.events[0].timestampNanos
        #expect(String(decoding: RowEncoding.eventTimes(record), as: UTF8.self) == "[0.001,0.001,0.001]")
    }

    /// The writer reuses one buffer per time column from row to row: longer, shorter and empty arrays written
    /// into it read back exactly as when written into a new array each.
    @Test func secondsArrayReusingABufferWritesOnlyThisRow() {
        var buffer: [UInt8] = []
        for values: [UInt64] in [[1, 2_500_000_000, 30_500_000, 7], [9], [], (0..<200).map { UInt64($0) * 1_000_003 }, [4]] {
            #expect(Array(RowEncoding.secondsArray(values, reusing: &buffer)) == RowEncoding.secondsArray(values))
        }
        var record = makeStreamRecord(sseBody: Array("data: a\n\ndata: b\n\n".utf8))
        #expect(String(decoding: RowEncoding.eventTimes(record, reusing: &buffer), as: UTF8.self) == "[0.001,0.002]")
        record.events.removeLast()
        #expect(String(decoding: RowEncoding.eventTimes(record, reusing: &buffer), as: UTF8.self) == "[0.001]")
    }

    /// A `response_messages` the database would refuse (over SQLite's length limit for a value or row) is left
    /// out of a row that is otherwise stored as it is, and the row's `error` says why: one huge stream neither
    /// stops the run nor loses its metrics. Both encodings (JSON and pickle).
    @Test func responseMessagesOverTheDatabaseLimitAreLeftOutAndSaidSo() {
        let request = APIRequest(body: Array("{\"stream\":true}".utf8), isStream: true)
        let record = makeStreamRecord(sseBody: Array(("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},"
            + "\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n").utf8))
        let parsed = OpenAIPlugin().parseResponses(record, request: request)
        let result = RequestResult.make(record: record, parsed: parsed, isStreamRequest: true)
        func text(_ v: SQLValue) -> String {
            switch v {
            case .null: return "NULL"
            case .integer(let i): return "\(i)"
            case .real(let d): return "\(d)"
            case .text(let t): return t
            case .utf8(let b): return String(decoding: b, as: UTF8.self)
            case .utf8Slice(let b): return String(decoding: b, as: UTF8.self)
            }
        }
        let messagesColumn = ResultSchema.columns.firstIndex { $0.name == "response_messages" }!
        let errorColumn = ResultSchema.columns.firstIndex { $0.name == "error" }!
        for pickle in [false, true] {
            var plan = WriterPlan(rings: [], requests: [request], plugin: OpenAIPlugin(), expected: 0, loops: 0,
                                  databasePath: nil, argumentsJSON: "{}", startedAt: "", wallClockAnchor: 0,
                                  monotonicAnchorNanos: 0, commitInterval: 1, storePayloads: true,
                                  progress: RunProgress(totalRequests: 0))
            plan.pickle = pickle
            let kept = ResultPipeline.row(record: record, request: request, result: result, plan: plan).map(text)
            let size = kept[messagesColumn].utf8.count
            let limit = size + request.body.count + (1 << 20)  // the row just fits
            #expect(ResultPipeline.row(record: record, request: request, result: result, plan: plan,
                                       maxValueBytes: limit).map(text) == kept)
            let cut = ResultPipeline.row(record: record, request: request, result: result, plan: plan,
                                         maxValueBytes: limit - 1).map(text)
            #expect(cut[messagesColumn] == "NULL")
            #expect(cut[errorColumn] == "response_messages not stored: \(size) bytes, over the database's limit of \(limit - 1) bytes")
            for k in kept.indices where k != messagesColumn && k != errorColumn { #expect(cut[k] == kept[k], "column \(k)") }
            #expect(kept[errorColumn] == "NULL" && result.success)
        }
    }

    /// A batch is committed when it is 100 ms old even while rows keep coming (a writer that never finds its
    /// rings empty once grew one transaction, and the WAL, without bound): another connection sees the rows then.
    @Test func aBatchIsCommittedWhenItIs100msOld() throws {
        let dir = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/benchmark_data.db"
        let store = try ResultStore(path: path, argumentsJSON: "{}", wallClockAnchor: 0, version: "test", startedAt: "",
                                    commitInterval: 1000)
        let row = [SQLValue](repeating: .null, count: ResultSchema.columns.count)
        func visible() throws -> Int? { try SQLiteDatabase(path: path, readOnly: true).query("SELECT count(*) FROM result").first?.first.flatMap { if case .integer(let n) = $0 { Int(n) } else { nil } } }
        try store.add(row, nowNanos: 1_000_000_000)
        try store.add(row, nowNanos: 1_099_000_000)
        #expect(try visible() == 0)
        try store.add(row, nowNanos: 1_100_000_000)
        #expect(try visible() == 3)
        try store.add(row, nowNanos: 1_150_000_000)
        #expect(try visible() == 3)
        try store.finish()
        #expect(try visible() == 4)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    /// `eightDigits` against Swift's own decimal rendering, zero-padded: every value below 10^5, then every
    /// 997th below 10^8, and the edges of each digit place.
    @Test func eightDigitsAreTheDecimalDigitsInOrder() {
        var values = Array(UInt32(0)..<100_000) + Array(stride(from: UInt32(100_000), to: 100_000_000, by: 997))
        var p: UInt32 = 1
        for _ in 0..<8 { values += [p - 1, p, p + 1, 99_999_999 / p * p]; p *= 10 }
        for v in values {
            let word = RowEncoding.eightDigits(v).littleEndian
            let digits = withUnsafeBytes(of: word) { String(decoding: $0, as: UTF8.self) }
            let expected = String(v)
            #expect(digits == String(repeating: "0", count: 8 - expected.count) + expected, "\(v)")
        }
    }

    @Test func responseMessagesEscapesEveryEvent() {
        let body = Array("data: {\"a\":\"x\\ny\"}\n\ndata: tab\there \u{1}é\n\ndata: [DONE]\n\n".utf8)
        let record = makeStreamRecord(sseBody: body)
        let json = String(decoding: RowEncoding.responseMessages(record), as: UTF8.self)
        #expect(json == #"["{\"a\":\"x\\ny\"}","tab\there \u0001é","[DONE]"]"#)
        let decoded = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String]
        #expect(decoded == ["{\"a\":\"x\\ny\"}", "tab\there \u{1}é", "[DONE]"])
    }

    /// Each event's data as a JSON string, byte by byte, after Swift's own UTF-8 repair (each maximal ill-formed
    /// subpart becomes U+FFFD: JSON text is UTF-8).
    static func reference(_ events: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (k, e) in events.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            for b in Array(String(decoding: e, as: UTF8.self).utf8) {
                switch b {
                case 0x22: out += Array(#"\""#.utf8)
                case 0x5C: out += Array(#"\\"#.utf8)
                case 0x0A: out += Array(#"\n"#.utf8)
                case 0x0D: out += Array(#"\r"#.utf8)
                case 0x09: out += Array(#"\t"#.utf8)
                case 0..<0x20: out += Array(String(format: "\\u%04x", b).utf8)
                default: out.append(b)
                }
            }
            out.append(UInt8(ascii: "\""))
        }
        return out + [UInt8(ascii: "]")]
    }
    // The payload holds the events' data back to back; marks locate them (as the SSE parser leaves them).
    static func record(_ events: [[UInt8]]) -> RequestRecord {
        var r = RequestRecord(requestIndex: 0, loopID: 0, connectionID: 0)
        r.isEventStream = true
        for e in events {
            r.events.append(SSEEventMark(dataOffset: UInt32(r.payload.count), dataLength: UInt32(e.count),
                                         nameOffset: 0, nameLength: 0, timestampNanos: 0))
            r.payload += e
        }
        return r
    }

    /// Streams whose events repeat the previous one's beginning (as chunks do), with quotes, backslashes, control
    /// bytes and UTF-8 throughout, and a real 64-token stream: escaped exactly as byte by byte.
    @Test func responseMessagesOfStreamLikeEvents() {
        var rng = SplitMix64(seed: 0xE5C)
        let alphabet = Array(#"ab{}:,"\ é"#.utf8) + [0x0A, 0x0D, 0x09, 0x01, 0x1F, 0x7F, 0xC3, 0xA9]
        func randomBytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] } }
        for _ in 0..<500 {
            var events: [[UInt8]] = []
            var base = randomBytes(Int.random(in: 0...200, using: &rng))
            for _ in 0..<Int.random(in: 1...12, using: &rng) {
                let keep = Int.random(in: 0...base.count, using: &rng)
                base = Array(base[..<keep]) + randomBytes(Int.random(in: 0...60, using: &rng))
                events.append(base)
            }
            #expect(RowEncoding.responseMessages(Self.record(events)) == Self.reference(events), "\(events)")
        }
        // A real stream: 64 chunks sharing 150 bytes.
        let stream = makeStreamRecord(sseBody: benchmarkChatStream(tokens: 64))
        let texts = stream.events.indices.map { Array(stream.eventData($0)) }
        #expect(RowEncoding.responseMessages(stream) == Self.reference(texts))
    }

    /// Every byte value at every place relative to the 8-byte copies (and events of every length to 40) is
    /// escaped exactly as a byte-at-a-time RFC 8259 §7 escaper does it.
    @Test func responseMessagesEscapesEveryByteAtEveryPlace() {
        for b in 0...255 {
            for place in 0..<17 {
                var event = [UInt8](repeating: UInt8(ascii: "a"), count: 24)
                event[place] = UInt8(b)
                event[place + 7] = UInt8(b)
                let events = [event, Array(event[place...]), [UInt8(b)]]
                #expect(RowEncoding.responseMessages(Self.record(events)) == Self.reference(events), "byte \(b) at \(place)")
            }
        }
        let lengths = (0...40).map { n in (0..<n).map { UInt8(truncatingIfNeeded: 0x1F + $0 * 13) } }
        #expect(RowEncoding.responseMessages(Self.record(lengths)) == Self.reference(lengths))
    }

    /// A bind that fails before the step (here a value past the statement's parameters) throws, stores nothing
    /// and leaves no binding behind: the next run stores exactly its own values, and a run with fewer values binds
    /// NULL for the others, not the failed run's text.
    @Test func aFailedBindLeavesTheStatementClean() throws {
        let dir = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try SQLiteDatabase(path: dir + "/t.db")
        try db.execute("CREATE TABLE t (a TEXT, b TEXT);")
        let insert = try db.prepare("INSERT INTO t VALUES (?, ?);")
        func text(_ rows: [[SQLValue]]) -> [[String]] {
            rows.map { $0.map { v in
                switch v {
                case .null: return "NULL"
                case .integer(let i): return "\(i)"
                case .text(let t): return t
                default: return "?"
                }
            } }
        }
        #expect(throws: SQLiteError.self) { try insert.run([.text("first"), .utf8(Array("second".utf8)), .integer(3)]) }
        #expect(text(try db.query("SELECT count(*) FROM t;")) == [["0"]])
        try insert.run([.text("x")])
        try insert.run([.text("y"), .text("z")])
        #expect(text(try db.query("SELECT a, b FROM t ORDER BY rowid;")) == [["x", "NULL"], ["y", "z"]])
    }

    /// Text bound in place (SQLITE_STATIC) reads back byte for byte, the empty text included, row after row.
    @Test func boundTextReadsBackExactly() throws {
        let dir = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try SQLiteDatabase(path: dir + "/t.db")
        try db.execute("CREATE TABLE t (a TEXT, b TEXT, c INTEGER, d REAL, e TEXT, f TEXT);")
        let insert = try db.prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?);")
        for k in 0..<3 {
            var big = [UInt8](repeating: UInt8(ascii: "x"), count: 20_000)
            big[k] = UInt8(ascii: "y")
            try insert.run([.utf8(big), .text("é\(k)"), .integer(Int64(k)), .real(0.5), .utf8([]), .null])
        }
        let rows = try db.query("SELECT length(a), substr(a, 1, 3), b, c, d, e, typeof(e), typeof(f) FROM t ORDER BY c;")
        #expect(rows.count == 3)
        for (k, row) in rows.enumerated() {
            guard case .integer(let length) = row[0], case .text(let head) = row[1], case .text(let b) = row[2],
                  case .integer(let c) = row[3], case .real(let d) = row[4], case .text(let e) = row[5],
                  case .text(let eType) = row[6], case .text(let fType) = row[7] else {
                Issue.record("unexpected row \(row)")
                continue
            }
            #expect(length == 20_000)
            #expect(head == String(repeating: "x", count: k) + "y" + String(repeating: "x", count: 2 - k))
            #expect(b == "é\(k)" && c == Int64(k) && d == 0.5)
            #expect(e == "" && eType == "text" && fType == "null")
        }
    }

    /// Streams parsed by the OpenAI plugin, whose token chunks it reads as their stream's shape: `response_messages`
    /// written from the shapes' escaped bytes equals the byte-by-byte reference. Token texts and the shared bytes
    /// hold quotes, backslash escapes and UTF-8; the shape changes mid-stream; some events carry whitespace the
    /// parse trims (those are escaped whole).
    @Test func responseMessagesFromShapesAreExact() {
        var rng = SplitMix64(seed: 0x5A9E)
        let plugin = OpenAIPlugin()
        let request = APIRequest(body: [], isStream: true)
        let heads = [#"{"id":"c","object":"chat.completion.chunk","model":"m\"x","choices":[{"index":0,"delta":{"content":""#,
                     #"{"id":"d\\e","choices":[{"index":0,"delta":{"reasoning_content":""#]
        let tails = [#""},"finish_reason":null}]}"#, #""},"logprobs":{"x":"\u00e9"}}]}"#]
        let texts = ["tok", "", "é ü", #"a\"b"#, #"\\n"#, "longer text past eight bytes"]
        var shaped = 0
        for _ in 0..<200 {
            var events: [String] = []
            var head = heads[Int.random(in: 0..<heads.count, using: &rng)]
            var tail = tails[Int.random(in: 0..<tails.count, using: &rng)]
            for _ in 0..<Int.random(in: 1...20, using: &rng) {
                if Int.random(in: 0..<8, using: &rng) == 0 {  // a new shape from here on
                    head = heads[Int.random(in: 0..<heads.count, using: &rng)]
                    tail = tails[Int.random(in: 0..<tails.count, using: &rng)]
                }
                let pad = Int.random(in: 0..<10, using: &rng) == 0 ? " " : ""
                events.append(pad + head + texts[Int.random(in: 0..<texts.count, using: &rng)] + tail)
            }
            let body = Array(events.map { "data: \($0)\n\n" }.joined().utf8)
            let record = makeStreamRecord(sseBody: body)
            let parsed = plugin.parseResponses(record, request: request)
            if parsed.eventShapes.ofEvent.contains(where: { $0 >= 0 }) { shaped += 1 }
            let data = record.events.indices.map { Array(record.eventData($0)) }
            #expect(RowEncoding.responseMessages(record, shapes: parsed.eventShapes) == Self.reference(data), "\(events)")
        }
        #expect(shaped > 100)  // most streams went through the shapes
    }

    /// Ill-formed UTF-8 (overlong forms, surrogates, above U+10FFFF, truncated and stray bytes, at the end of an
    /// event too) becomes U+FFFD as Swift's own repair does it, well-formed sequences of every length are kept,
    /// and the column reads back as JSON strings.
    @Test func responseMessagesRepairIllFormedUTF8() throws {
        let sequences: [[UInt8]] = [
            [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],
            [0xF0, 0x80, 0x80, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80], [0xFF], [0x80], [0xBF, 0xBF],
            [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xF0, 0x9F], [0xC3],
            [0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80], [0xF0, 0x9F, 0x98, 0x8A],
            [0xF4, 0x8F, 0xBF, 0xBF],
        ]
        var events: [[UInt8]] = []
        for a in sequences {
            events.append(a)
            events.append(Array(#"x\""#.utf8) + a + Array("yz".utf8))
            for b in sequences.prefix(8) { events.append(a + b + Array("0123456789".utf8) + b) }
        }
        let encoded = RowEncoding.responseMessages(Self.record(events))
        #expect(encoded == Self.reference(events))
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(encoded)) as? [String])
        #expect(decoded == events.map { String(decoding: $0, as: UTF8.self) })
    }
}
