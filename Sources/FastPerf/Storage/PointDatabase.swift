import Foundation

/// What only the running process knows about a sweep point, kept in the `point` table of its
/// `benchmark_data.db` so that `fastperf report` can rebuild `performance_summary.txt` and the client verdict
/// from the database alone: the point's settings, the URL benchmarked and the client's own counters.
struct PointCounters: Sendable, Equatable {
    /// Configured `--parallel` and `--number` of the point.
    var parallel: Int
    var number: Int
    /// The URL benchmarked, with the endpoint path the run used.
    var url: String
    /// Loop threads that sent the point's requests.
    var loops: Int
    /// Rows the writer stored.
    var rows: Int
    /// Records that waited on a loop's overflow list because its ring was full.
    var ringOverflows: Int
    /// Most requests in flight at once.
    var peakInFlight: Int
    /// CPU seconds of the loop thread(s) (summed) and of the writer thread, s.
    var loopCPUSeconds: Double
    var writerCPUSeconds: Double
    /// `uv_loop_close` status after the point (0 = every handle was closed).
    var loopCloseStatus: Int

    /// The counters of a finished point.
    init(_ point: BenchmarkPoint, url: String, loops: Int) {
        self.init(parallel: point.parallel, number: point.number, url: url, loops: loops, rows: point.rows,
                  ringOverflows: point.ringOverflows, peakInFlight: point.peakInFlight,
                  loopCPUSeconds: point.loopCPUSeconds, writerCPUSeconds: point.writerCPUSeconds,
                  loopCloseStatus: Int(point.loopCloseStatus))
    }

    init(parallel: Int, number: Int, url: String, loops: Int, rows: Int, ringOverflows: Int, peakInFlight: Int,
         loopCPUSeconds: Double, writerCPUSeconds: Double, loopCloseStatus: Int) {
        self.parallel = parallel
        self.number = number
        self.url = url
        self.loops = loops
        self.rows = rows
        self.ringOverflows = ringOverflows
        self.peakInFlight = peakInFlight
        self.loopCPUSeconds = loopCPUSeconds
        self.writerCPUSeconds = writerCPUSeconds
        self.loopCloseStatus = loopCloseStatus
    }

    static let createTable = """
        CREATE TABLE IF NOT EXISTS point (parallel INTEGER, number INTEGER, url TEXT, loops INTEGER, rows INTEGER, \
        ring_overflows INTEGER, peak_in_flight INTEGER, loop_cpu_seconds REAL, writer_cpu_seconds REAL, \
        loop_close_status INTEGER);
        """
    static let columns = "parallel, number, url, loops, rows, ring_overflows, peak_in_flight, loop_cpu_seconds, "
        + "writer_cpu_seconds, loop_close_status"

    /// Writes the counters into the finished point's database (main thread, after the writer closed it).
    /// Throws `FastPerfError`.
    func save(databasePath path: String) throws {
        do {
            let db = try SQLiteDatabase(path: path)
            defer { db.close() }
            try db.execute(Self.createTable + " DELETE FROM point;")
            try db.prepare("INSERT INTO point (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?);").run([
                .integer(Int64(parallel)), .integer(Int64(number)), .text(url), .integer(Int64(loops)),
                .integer(Int64(rows)), .integer(Int64(ringOverflows)), .integer(Int64(peakInFlight)),
                .real(loopCPUSeconds), .real(writerCPUSeconds), .integer(Int64(loopCloseStatus)),
            ])
            try db.execute("PRAGMA wal_checkpoint(TRUNCATE);")
        } catch {
            throw FastPerfError("cannot write the point table of \(path): \(error)")
        }
    }
}

/// A sweep point's `benchmark_data.db` opened read-only: its `run` and `point` tables and its `result` rows
/// read back as `RequestResult`s (for `fastperf report` and the HTML report).
final class PointDatabase {
    /// The database file.
    let path: String
    private let db: SQLiteDatabase
    private let resultColumns: Set<String>

    /// The `run` table: masked arguments (JSON text), wall-clock anchor (Unix s), version, start time (ISO 8601).
    struct RunRow {
        var argumentsJSON: String
        var wallClockAnchor: Double
        var version: String
        var startedAt: String
    }

    /// One group of failed rows: outcome, HTTP status (nil if none), error text and how many rows share them.
    struct FailureGroup: Sendable, Equatable {
        var outcome: String
        var httpStatus: Int?
        var error: String
        var count: Int
    }

    /// Opens `path` read-only. Throws `FastPerfError` (one line) when it is missing or is not a FastPerf database.
    init(path: String) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { throw FastPerfError("\(path) does not exist") }
        do {
            db = try SQLiteDatabase(path: path, readOnly: true)
            resultColumns = Set(try db.query("PRAGMA table_info(result)").compactMap { $0.count > 1 ? $0[1].string : nil })
        } catch {
            throw FastPerfError("cannot read \(path): \(error)")
        }
        if resultColumns.isEmpty { throw FastPerfError("\(path) has no result table") }
        if !resultColumns.contains("outcome") { throw FastPerfError("\(path) is not a FastPerf database (no outcome column)") }
    }

    /// The `run` table's row. Throws `FastPerfError` when it is missing.
    func runRow() throws -> RunRow {
        let rows = try read("SELECT arguments, wall_clock_anchor, version, started_at FROM run LIMIT 1")
        guard let r = rows.first, r.count == 4 else { throw FastPerfError("\(path) has no run row") }
        return RunRow(argumentsJSON: r[0].string ?? "{}", wallClockAnchor: r[1].double ?? 0,
                      version: r[2].string ?? "?", startedAt: r[3].string ?? "")
    }

    /// The `point` table's row; nil for a database written before the table existed (or by a run that crashed).
    func counters() throws -> PointCounters? {
        let tables = try read("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'point'")
        guard !tables.isEmpty else { return nil }
        guard let r = try read("SELECT \(PointCounters.columns) FROM point LIMIT 1").first, r.count == 10 else { return nil }
        return PointCounters(parallel: r[0].int ?? 0, number: r[1].int ?? 0, url: r[2].string ?? "", loops: r[3].int ?? 1,
                             rows: r[4].int ?? 0, ringOverflows: r[5].int ?? 0, peakInFlight: r[6].int ?? 0,
                             loopCPUSeconds: r[7].double ?? 0, writerCPUSeconds: r[8].double ?? 0,
                             loopCloseStatus: r[9].int ?? 0)
    }

    /// Failed rows grouped by outcome, status and error text, most frequent first.
    func failureGroups() throws -> [FailureGroup] {
        try read("""
            SELECT outcome, http_status, COALESCE(error, ''), COUNT(*) AS n FROM result WHERE success = 0 \
            GROUP BY outcome, http_status, error ORDER BY n DESC, outcome, error
            """).map { r in
            FailureGroup(outcome: r[0].string ?? "?", httpStatus: r[1].int, error: r[2].string ?? "", count: r[3].int ?? 0)
        }
    }

    /// Offset added to every instant read back, so that `RequestResult`'s unsigned instants stay positive; only
    /// differences between instants mean anything.
    static let instantBase: UInt64 = 1 << 62

    /// Hands every `result` row to `body` as a `RequestResult`, in insertion order (the order the writer fed its
    /// `MetricsAccumulator`, so sums come out bit for bit the same). Durations are exact: each stored seconds
    /// value is `ns / 1e9` and reads back to the same ns (below 11 days). Instants come from `start_offset_ns` /
    /// `completed_offset_ns` (exact) or, in a database without them, from the epoch columns (± 0.25 µs).
    /// `generatedText`, `reasoningText` and `eventOffsetsSeconds` are not read back (empty); with
    /// `interTokenLatencies: false` neither is `itlNanos`, which saves parsing when only timings are wanted.
    func forEachResult(interTokenLatencies: Bool = true, _ body: (RequestResult) throws -> Void) throws {
        let exactInstants = resultColumns.contains("start_offset_ns") && resultColumns.contains("completed_offset_ns")
        let anchor = try runRow().wallClockAnchor
        let names = ["success", "outcome", "http_status", "error", "latency", "first_chunk_latency",
                     "time_per_output_token", "prompt_tokens", "completion_tokens", "is_stream", "connection_id",
                     "loop_id", "start_time", "completed_time", "intended_start_time",
                     exactInstants ? "start_offset_ns" : "NULL", exactInstants ? "completed_offset_ns" : "NULL",
                     interTokenLatencies ? "inter_token_latencies" : "NULL"]
        var index = 0
        try db.forEachRow("SELECT \(names.joined(separator: ", ")) FROM result ORDER BY rowid") { r in
            func instant(offset: SQLValue, epoch: SQLValue) -> UInt64 {
                if exactInstants {
                    guard let ns = offset.int else { return 0 }
                    return UInt64(Int64(Self.instantBase) + Int64(ns))
                }
                guard let s = epoch.double, s > 0 else { return 0 }
                return UInt64(Int64(Self.instantBase) + Int64(((s - anchor) * 1e9).rounded()))
            }
            let start = instant(offset: r[15], epoch: r[12])
            let completed = instant(offset: r[16], epoch: r[13])
            let intendedDelta = (r[14].double ?? 0) - (r[12].double ?? 0)
            let success = r[0].int == 1
            let result = RequestResult(
                requestIndex: index, loopID: r[11].int ?? 0, connectionID: r[10].int ?? 0,
                intendedStartNanos: start == 0 ? 0 : UInt64(Int64(start) + Int64((intendedDelta * 1e9).rounded())),
                startNanos: start, completedNanos: completed, success: success,
                outcome: RequestResult.Outcome(rawValue: r[1].string ?? "") ?? (success ? .ok : .protocolError),
                httpStatus: r[2].int, error: r[3].string,
                ttftNanos: r[5].double.map(Self.nanos), latencyNanos: r[4].double.map(Self.nanos),
                itlNanos: (r[17].string).map { Self.numberArray($0).map(Self.nanos) } ?? [],
                tpotSeconds: r[6].double, promptTokens: r[7].int, completionTokens: r[8].int,
                isStream: r[9].int == 1, eventOffsetsSeconds: [], generatedText: "", reasoningText: "")
            index += 1
            try body(result)
        }
    }

    /// `s` seconds as whole ns (exact for a value written as `Double(ns) / 1e9` with ns < 10^15, 11 days); negative → 0.
    static func nanos(_ s: Double) -> UInt64 {
        s > 0 ? UInt64((s * 1e9).rounded()) : 0
    }

    /// The numbers of a JSON number array such as `[0.01,0.0105]` (the `inter_token_latencies` column),
    /// parsed with `Double(_:)` (correctly rounded, so `JSONText.number` output reads back exactly).
    static func numberArray(_ text: String) -> [Double] {
        text.utf8.split(whereSeparator: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "]") || $0 == UInt8(ascii: " ") })
            .compactMap { Double(String(decoding: $0, as: UTF8.self)) }
    }

    private func read(_ sql: String) throws -> [[SQLValue]] {
        do { return try db.query(sql) } catch { throw FastPerfError("cannot read \(path): \(error)") }
    }
}

extension SQLValue {
    /// The value as text (TEXT only).
    var string: String? { if case .text(let s) = self { return s } else { return nil } }
    /// The value as an integer (INTEGER, or a REAL with no fraction).
    var int: Int? {
        switch self {
        case .integer(let v): return Int(v)
        case .real(let v) where v.rounded() == v && abs(v) < 9e15: return Int(v)
        default: return nil
        }
    }
    /// The value as a double (REAL or INTEGER).
    var double: Double? {
        switch self {
        case .real(let v): return v
        case .integer(let v): return Double(v)
        default: return nil
        }
    }
}
