internal import CSQLite3

/// A SQLite error with the library's message, e.g. "disk I/O error (code 10) in INSERT …".
struct SQLiteError: Error, CustomStringConvertible {
    let code: Int32
    let message: String
    var description: String { "SQLite error \(code): \(message)" }
}

/// A value bound to a statement parameter.
enum SQLValue {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    /// UTF-8 bytes stored as TEXT without a String round trip.
    case utf8([UInt8])
    /// `utf8`, of part of an array (a buffer the caller reuses).
    case utf8Slice(ArraySlice<UInt8>)
}

/// One SQLite connection, used by exactly one thread (opened with `SQLITE_OPEN_NOMUTEX`: the writer thread is
/// the only SQLite user, so SQLite's own mutexes would be pure cost). Not `Sendable`.
final class SQLiteDatabase {
    private var db: OpaquePointer?

    /// Opens (creating) the database file at `path`, or opens an existing one read-only when `readOnly`.
    /// Throws `SQLiteError` when it cannot be opened.
    init(path: String, readOnly: Bool = false) throws {
        let flags = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        if rc != SQLITE_OK {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            db = nil
            throw SQLiteError(code: rc, message: "\(message) (\(path))")
        }
    }

    deinit { close() }

    func close() {
        if let db { sqlite3_close_v2(db) }
        db = nil
    }

    /// The largest string, BLOB or row this connection takes, in bytes (`SQLITE_LIMIT_LENGTH`).
    var maxValueBytes: Int { Int(sqlite3_limit(db, SQLITE_LIMIT_LENGTH, -1)) }

    /// Runs one or more statements with no parameters. Throws `SQLiteError`.
    func execute(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let message = err.map { String(cString: $0) } ?? "error"
            sqlite3_free(err)
            throw SQLiteError(code: rc, message: "\(message) in \(sql.prefix(60))")
        }
    }

    /// Prepares `sql` for repeated use. Throws `SQLiteError`.
    func prepare(_ sql: String) throws -> SQLiteStatement {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nil)
        if rc != SQLITE_OK { throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(db))) }
        return SQLiteStatement(stmt: stmt!, db: db!)
    }

    /// Runs a query and returns every row as values converted to Swift (tests, `report`).
    func query(_ sql: String) throws -> [[SQLValue]] {
        var rows: [[SQLValue]] = []
        try forEachRow(sql) { rows.append($0) }
        return rows
    }

    /// Runs a query and hands each row to `body` as it is stepped (no whole result set in memory).
    func forEachRow(_ sql: String, _ body: ([SQLValue]) throws -> Void) throws {
        let stmt = try prepare(sql)
        while try stmt.stepRow() { try body(stmt.currentRow()) }
    }
}

/// A prepared statement, reused with `reset` after each step.
final class SQLiteStatement {
    private let stmt: OpaquePointer
    private let db: OpaquePointer

    fileprivate init(stmt: OpaquePointer, db: OpaquePointer) {
        self.stmt = stmt
        self.db = db
    }

    deinit { sqlite3_finalize(stmt) }

    /// Binds `values` to parameters 1…n, steps once (an INSERT) and resets. Throws `SQLiteError`.
    /// Text is bound in place (`SQLITE_STATIC`): each value's bytes stay borrowed until the step is done and the
    /// bindings are cleared, so SQLite copies them once, into the record, instead of first into its own buffer.
    func run(_ values: [SQLValue]) throws {
        do {
            try bind(values, from: 0)  // resets and clears the bindings after its step
        } catch {
            // A bind failed before the step: no borrowed bytes stay bound.
            sqlite3_reset(stmt)
            sqlite3_clear_bindings(stmt)
            throw error
        }
    }

    /// Binds `values[k...]` (each text inside the scope that keeps its bytes alive), then steps and clears the
    /// bindings before those scopes end.
    private func bind(_ values: [SQLValue], from k: Int) throws {
        guard k < values.count else {
            let rc = sqlite3_step(stmt)
            sqlite3_reset(stmt)
            sqlite3_clear_bindings(stmt)
            if rc != SQLITE_DONE && rc != SQLITE_ROW {
                throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(db)))
            }
            return
        }
        let index = Int32(k + 1)
        func check(_ rc: Int32) throws {
            if rc != SQLITE_OK { throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(db))) }
        }
        func bindText(_ bytes: UnsafeBufferPointer<UInt8>) throws {
            guard bytes.count <= Int(Int32.max) else {
                throw SQLiteError(code: SQLITE_TOOBIG, message: "value of \(bytes.count) bytes is too big to bind")
            }
            if let base = bytes.baseAddress, bytes.count > 0 {
                try check(base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    sqlite3_bind_text(stmt, index, $0, Int32(bytes.count), nil)  // nil: SQLITE_STATIC
                })
            } else {
                try check(sqlite3_bind_text(stmt, index, "", 0, csqlite3_transient()))
            }
            try bind(values, from: k + 1)
        }
        switch values[k] {
        case .null:
            try check(sqlite3_bind_null(stmt, index))
            try bind(values, from: k + 1)
        case .integer(let v):
            try check(sqlite3_bind_int64(stmt, index, v))
            try bind(values, from: k + 1)
        case .real(let v):
            try check(sqlite3_bind_double(stmt, index, v))
            try bind(values, from: k + 1)
        case .text(var s):
            try s.withUTF8 { try bindText($0) }
        case .utf8(let bytes):
            try bytes.withUnsafeBufferPointer { try bindText($0) }
        case .utf8Slice(let bytes):
            try bytes.withUnsafeBufferPointer { try bindText($0) }
        }
    }

    /// Steps a query; true while a row is available.
    fileprivate func stepRow() throws -> Bool {
        let rc = sqlite3_step(stmt)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(db)))
    }

    fileprivate func currentRow() -> [SQLValue] {
        (0..<sqlite3_column_count(stmt)).map { i in
            switch sqlite3_column_type(stmt, i) {
            case SQLITE_INTEGER: return .integer(sqlite3_column_int64(stmt, i))
            case SQLITE_FLOAT: return .real(sqlite3_column_double(stmt, i))
            case SQLITE_NULL: return .null
            default: return .text(sqlite3_column_text(stmt, i).map { String(cString: $0) } ?? "")
            }
        }
    }
}
