import Foundation

/// A sweep point's load shape: `--parallel` (0 = open loop or trace), `--number`, target `--rate` (req/s; nil =
/// none), evalscope's `Concurrency` of its summary (`parallel`, or −1 in open loop) and the rate its open-loop
/// figures were computed for (a trace's own rate; nil = none).
struct PointShape: Sendable, Equatable {
    var parallel: Int
    var number: Int
    var rate: Double?
    var concurrency: Int
    var summaryRate: Double?

    /// The shape told by a folder named `parallel_P_number_N` (closed loop) or `rate_R_number_N` (open loop);
    /// nil for any other name. (A closed loop paced by `--rate` looks unpaced here: only the point table knows.)
    init?(folder name: String) {
        let parts = name.split(separator: "_")
        guard parts.count == 4, parts[2] == "number", let n = Int(parts[3]) else { return nil }
        if parts[0] == "parallel", let p = Int(parts[1]) {
            self.init(parallel: p, number: n, rate: nil, concurrency: p, summaryRate: nil)
        } else if parts[0] == "rate", let r = Double(parts[1]) {
            self.init(parallel: 0, number: n, rate: r, concurrency: -1, summaryRate: r)
        } else {
            return nil
        }
    }

    init(parallel: Int, number: Int, rate: Double?, concurrency: Int, summaryRate: Double?) {
        self.parallel = parallel
        self.number = number
        self.rate = rate
        self.concurrency = concurrency
        self.summaryRate = summaryRate
    }
}

/// What only the running process knows about a sweep point, kept in the `point` table of its
/// `benchmark_data.db` so that `fastperf report` can rebuild `performance_summary.txt` and the client verdict
/// from the database alone: the point's load shape, the URL benchmarked and the client's own figures.
struct PointCounters: Sendable {
    var shape: PointShape
    /// The URL benchmarked, with the endpoint path the run used.
    var url: String
    /// Rows the writer stored.
    var rows: Int
    /// `uv_loop_close` status after the point (0 = every handle was closed).
    var loopCloseStatus: Int
    /// The client's own cost and saturation signals (the client line).
    var client: ClientUsage

    /// The counters of a finished point.
    init(_ point: BenchmarkPoint, url: String) {
        self.init(shape: PointShape(parallel: point.parallel, number: point.number, rate: point.rate,
                                    concurrency: point.summary.concurrency, summaryRate: point.summary.openLoop?.targetRate),
                  url: url, rows: point.rows, loopCloseStatus: Int(point.loopCloseStatus), client: point.client)
    }

    init(shape: PointShape, url: String, rows: Int, loopCloseStatus: Int, client: ClientUsage) {
        self.shape = shape
        self.url = url
        self.rows = rows
        self.loopCloseStatus = loopCloseStatus
        self.client = client
    }

    /// The `point` table's columns, in order.
    static let columns: [(name: String, type: String)] = [
        ("parallel", "INTEGER"), ("number", "INTEGER"), ("rate", "REAL"), ("concurrency", "INTEGER"),
        ("summary_rate", "REAL"), ("url", "TEXT"), ("rows", "INTEGER"), ("loop_close_status", "INTEGER"),
        ("loop_threads", "INTEGER"), ("loop_cpu_seconds", "REAL"), ("busiest_loop_fraction", "REAL"),
        ("writer_cpu_seconds", "REAL"), ("wall_seconds", "REAL"), ("loop_lag_p99_ms", "REAL"),
        ("loop_lag_max_ms", "REAL"), ("loop_lag_samples", "INTEGER"), ("ring_overflows", "INTEGER"),
        ("peak_in_flight", "INTEGER"), ("peak_rss_bytes", "INTEGER"), ("send_lag_p99_ms", "REAL"),
        ("peak_overflow", "INTEGER"), ("connections_over_fd_limit", "INTEGER"),
    ]

    /// The values in `columns` order.
    var values: [SQLValue] {
        func int(_ v: Int) -> SQLValue { .integer(Int64(v)) }
        func real(_ v: Double?) -> SQLValue { v.map { .real($0) } ?? .null }
        let c = client, p = shape
        return [int(p.parallel), int(p.number), real(p.rate), int(p.concurrency), real(p.summaryRate), .text(url), int(rows),
                int(loopCloseStatus), int(c.loopThreads), real(c.loopCPUSeconds), real(c.busiestLoopFraction),
                real(c.writerCPUSeconds), real(c.wallSeconds), real(c.loopLagP99Millis), real(c.loopLagMaxMillis),
                int(c.loopLagSamples), int(c.ringOverflows), int(c.peakInFlight), int(c.peakRSSBytes),
                real(c.sendLagP99Millis), int(c.peakOverflow), int(c.connectionsOverFDLimit)]
    }

    /// Reads a row of `columns` back.
    init(row r: [SQLValue]) {
        var client = ClientUsage(loopThreads: r[8].int ?? 1, loopCPUSeconds: r[9].double ?? 0,
                                 busiestLoopFraction: r[10].double ?? 0, writerCPUSeconds: r[11].double ?? 0,
                                 wallSeconds: r[12].double ?? 0, loopLagP99Millis: r[13].double ?? 0,
                                 loopLagMaxMillis: r[14].double ?? 0, loopLagSamples: r[15].int ?? 0,
                                 ringOverflows: r[16].int ?? 0, peakInFlight: r[17].int ?? 0,
                                 peakRSSBytes: r[18].int ?? 0, sendLagP99Millis: r[19].double)
        client.peakOverflow = r[20].int ?? 0
        client.connectionCap = r[2].double != nil ? (r[0].int ?? 0) : 0
        client.connectionsOverFDLimit = r[21].int ?? 0
        self.init(shape: PointShape(parallel: r[0].int ?? 0, number: r[1].int ?? 0, rate: r[2].double,
                                    concurrency: r[3].int ?? 0, summaryRate: r[4].double),
                  url: r[5].string ?? "", rows: r[6].int ?? 0, loopCloseStatus: r[7].int ?? 0, client: client)
    }

    /// Writes the counters into the finished point's database (main thread, after the writer closed it).
    /// Throws `FastPerfError`.
    func save(databasePath path: String) throws {
        let names = Self.columns.map(\.name).joined(separator: ", ")
        do {
            let db = try SQLiteDatabase(path: path)
            defer { db.close() }
            let create = "CREATE TABLE IF NOT EXISTS point (" + Self.columns.map { "\($0.name) \($0.type)" }.joined(separator: ", ") + ");"
            try db.execute(create + " DELETE FROM point;")
            let marks = Array(repeating: "?", count: Self.columns.count).joined(separator: ", ")
            try db.prepare("INSERT INTO point (\(names)) VALUES (\(marks));").run(values)
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
        // A database from an earlier version lacks the newer columns: they read as NULL (0).
        let present = Set(try read("PRAGMA table_info(point)").compactMap { $0.count > 1 ? $0[1].string : nil })
        let names = PointCounters.columns.map { present.contains($0.name) ? $0.name : "NULL" }.joined(separator: ", ")
        guard let r = try read("SELECT \(names) FROM point LIMIT 1").first, r.count == PointCounters.columns.count
        else { return nil }
        return PointCounters(row: r)
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

    /// Hands every `result` row to `body` as a `RequestResult`, in insertion order (per loop, the order the
    /// writer fed that loop's `MetricsAccumulator`, so sums come out bit for bit the same). Durations are exact:
    /// each stored seconds value is `ns / 1e9` and reads back to the same ns (below 11 days). Instants come from
    /// `start_offset_ns`, `completed_offset_ns`, `intended_offset_ns` (exact) or, in a database without them,
    /// from the epoch columns (± 0.25 µs). `generatedText` and `reasoningText` are not
    /// read back (empty); with `interTokenLatencies: false` neither is `itlNanos`, which saves parsing when only
    /// timings are wanted.
    func forEachResult(interTokenLatencies: Bool = true, _ body: (RequestResult) throws -> Void) throws {
        let anchor = try runRow().wallClockAnchor
        func column(_ name: String) -> String { resultColumns.contains(name) ? name : "NULL" }
        let names = ["success", "outcome", "http_status", "error", "latency", "first_chunk_latency",
                     "time_per_output_token", "prompt_tokens", "completion_tokens", "is_stream", "connection_id",
                     "loop_id", "start_time", "completed_time", "intended_start_time", column("start_offset_ns"),
                     column("completed_offset_ns"), column("intended_offset_ns"),
                     interTokenLatencies ? "inter_token_latencies" : "NULL", column("tokens_counted")]
        let exact = [15: resultColumns.contains("start_offset_ns"), 16: resultColumns.contains("completed_offset_ns"),
                     17: resultColumns.contains("intended_offset_ns")]
        var index = 0
        try db.forEachRow("SELECT \(names.joined(separator: ", ")) FROM result ORDER BY rowid") { r in
            /// The instant in column `offset` (exact ns) or, without that column, in the epoch column `epoch`.
            func instant(_ offset: Int, _ epoch: Int) -> UInt64 {
                if exact[offset] == true {
                    guard let ns = r[offset].int else { return 0 }
                    return UInt64(Int64(Self.instantBase) + Int64(ns))
                }
                guard let s = r[epoch].double, s > 0 else { return 0 }
                return UInt64(Int64(Self.instantBase) + Int64(((s - anchor) * 1e9).rounded()))
            }
            let success = r[0].int == 1
            var result = RequestResult(
                requestIndex: index, loopID: r[11].int ?? 0, connectionID: r[10].int ?? 0,
                intendedStartNanos: instant(17, 14), startNanos: instant(15, 12), completedNanos: instant(16, 13),
                success: success,
                outcome: RequestResult.Outcome(rawValue: r[1].string ?? "") ?? (success ? .ok : .protocolError),
                httpStatus: r[2].int, error: r[3].string,
                ttftNanos: r[5].double.map(Self.nanos), latencyNanos: r[4].double.map(Self.nanos),
                itlNanos: (r[18].string).map { Self.numberArray($0).map(Self.nanos) } ?? [],
                tpotSeconds: r[6].double, promptTokens: r[7].int, completionTokens: r[8].int,
                isStream: r[9].int == 1, generatedText: "", reasoningText: "")
            result.tokensCounted = r[19].int == 1
            index += 1
            try body(result)
        }
    }

    /// `s` seconds as whole ns (exact for a value written as `Double(ns) / 1e9` with ns < 10^15, 11 days); negative → 0.
    static func nanos(_ s: Double) -> UInt64 {
        s > 0 ? UInt64((s * 1e9).rounded()) : 0
    }

    /// The numbers of a JSON number array such as `[0.01,0.0105]` (the `inter_token_latencies` column),
    /// parsed with `Double(_:)` (correctly rounded, so `RowEncoding.secondsArray` output reads back exactly).
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
