import Foundation

/// The run point's `benchmark_data.db`: WAL, `synchronous=NORMAL`, one prepared INSERT, rows committed in
/// batches of `commitInterval` rows or every 100 ms, whichever comes first (DESIGN.md §1). Writer thread only.
final class ResultStore {
    private let db: SQLiteDatabase
    private let insert: SQLiteStatement
    private let commitInterval: Int
    private var rowsInTransaction = 0
    private var transactionStartNanos: UInt64 = 0
    /// Rows written so far.
    private(set) var rowCount = 0
    /// The largest string, BLOB or row the database takes, in bytes (`SQLITE_LIMIT_LENGTH`).
    let maxValueBytes: Int
    /// SQLite's default `SQLITE_LIMIT_LENGTH`, bytes.
    static let defaultMaxValueBytes = 1_000_000_000

    /// Creates the database file at `path`; fails if it exists (as evalscope does, so no run is overwritten).
    /// Throws `FastPerfError` or `SQLiteError`.
    init(path: String, argumentsJSON: String, wallClockAnchor: Double, version: String, startedAt: String,
         commitInterval: Int) throws {
        if FileManager.default.fileExists(atPath: path) { throw FastPerfError("database \(path) already exists; choose another --outputs-dir or --name") }
        db = try SQLiteDatabase(path: path)
        // 64 KiB pages (SQLite's largest) keep a streamed response's row (≈16 KiB for 64 tokens with
        // `--db-store full`, response_messages escaped) in one page instead of an overflow chain, and write the WAL
        // and checkpoints in a quarter of the pwrite/pread calls of 16 KiB pages (writer ≈25% faster in `full`);
        // a 64 MiB mmap lets checkpoints read without pread calls.
        // The WAL is checkpointed into the main file every 1 GiB (16,384 pages; SQLite's default is 1,000), and
        // at `finish()`: a committed row is as safe in the WAL as in the main file (it survives the process), so
        // checkpoints during the run only copy bytes, and read them back, and fdatasync. With the default, that
        // was ≈ 1 µs of the writer's ≈ 10 µs per 64-token HTTPS request, and its fdatasync stalled the writer while
        // the loops waited on full rings. The WAL costs at most 1 GiB of extra disk while a point runs.
        try db.execute("PRAGMA page_size=65536; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA mmap_size=67108864;")
        try db.execute("PRAGMA wal_autocheckpoint=16384;")
        try db.execute(ResultSchema.createTable)
        try db.execute(ResultSchema.createRunTable)
        try db.prepare(ResultSchema.insertRun).run([.text(argumentsJSON), .real(wallClockAnchor), .text(version), .text(startedAt)])
        insert = try db.prepare(ResultSchema.insert)
        maxValueBytes = db.maxValueBytes
        self.commitInterval = max(1, commitInterval)
    }

    /// Adds one row (values in `ResultSchema.columns` order); commits when the batch is full or 100 ms old (a
    /// writer that never finds its rings empty still commits, and so checkpoints, on time).
    func add(_ row: [SQLValue], nowNanos: UInt64) throws {
        if rowsInTransaction == 0 {
            try db.execute("BEGIN")
            transactionStartNanos = nowNanos
        }
        try insert.run(row)
        rowsInTransaction += 1
        rowCount += 1
        if rowsInTransaction >= commitInterval { try commit() } else { try commitIfDue(nowNanos: nowNanos) }
    }

    /// Commits the open batch when it is older than 100 ms.
    func commitIfDue(nowNanos: UInt64) throws {
        if rowsInTransaction > 0 && nowNanos &- transactionStartNanos >= 100_000_000 { try commit() }
    }

    func commit() throws {
        guard rowsInTransaction > 0 else { return }
        try db.execute("COMMIT")
        rowsInTransaction = 0
    }

    /// Commits, checkpoints the WAL into the main file, leaves WAL mode (so the finished file stands alone: a
    /// read-only reader needs no `-wal`/`-shm` beside it and none are left behind) and closes.
    func finish() throws {
        try commit()
        try db.execute("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;")
        db.close()
    }
}
