/// The `result` table (DESIGN.md §4): evalscope's 14 columns in evalscope's order, then FastPerf's own.
/// All times are seconds; `start_time`, `intended_start_time` and `completed_time` are Unix-epoch seconds.
enum ResultSchema {
    static let columns: [(name: String, type: String)] = [
        ("request", "TEXT"),
        ("start_time", "REAL"),
        ("inter_token_latencies", "TEXT"),
        ("success", "INTEGER"),
        ("response_messages", "TEXT"),
        ("completed_time", "REAL"),
        ("latency", "REAL"),
        ("first_chunk_latency", "REAL"),
        ("prompt_tokens", "INTEGER"),
        ("completion_tokens", "INTEGER"),
        ("max_gpu_memory_cost", "REAL"),
        ("time_per_output_token", "REAL"),
        ("request_id", "TEXT"),
        ("is_stream", "INTEGER"),
        ("intended_start_time", "REAL"),
        ("http_status", "INTEGER"),
        ("outcome", "TEXT"),
        ("error", "TEXT"),
        ("protocol", "TEXT"),
        ("connection_id", "INTEGER"),
        ("loop_id", "INTEGER"),
        ("event_times", "TEXT"),
        ("tokens_counted", "INTEGER"),
        // Exact monotonic instants, ns since the point's clock anchor (`start_time` is the anchor's wall-clock
        // time plus this / 1e9, rounded to a double): `fastperf report` rebuilds durations from these.
        ("start_offset_ns", "INTEGER"),
        ("completed_offset_ns", "INTEGER"),
        ("intended_offset_ns", "INTEGER"),
        // HTTPS: the TLS handshake of the request's connection, s; on the first request of each connection
        // only (NULL on the others and on plain TCP).
        ("tls_handshake_time", "REAL"),
    ]

    static var createTable: String {
        "CREATE TABLE result (" + columns.map { "\($0.name) \($0.type)" }.joined(separator: ", ") + ");"
    }

    static var insert: String {
        "INSERT INTO result (" + columns.map(\.name).joined(separator: ", ") + ") VALUES ("
            + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ");"
    }

    /// The `run` table: one row with the masked arguments (JSON), the wall-clock anchor (Unix s) and the version.
    static let createRunTable = "CREATE TABLE run (arguments TEXT, wall_clock_anchor REAL, version TEXT, started_at TEXT);"
    static let insertRun = "INSERT INTO run (arguments, wall_clock_anchor, version, started_at) VALUES (?, ?, ?, ?);"
}
