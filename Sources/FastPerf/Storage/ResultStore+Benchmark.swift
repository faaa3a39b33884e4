import Foundation

/// The writer thread's per-record work for the micro benchmarks in `Benchmarks/`: the API plugin's parse,
/// the metrics, the row encoding and the batched INSERT into a real database file.
@_spi(Benchmarks)
public final class WriterWorkload {
    private let store: ResultStore
    private let plan: WriterPlan
    private var accumulator = MetricsAccumulator()
    private let memo = ChunkMemo()
    private let buffers = RowBuffers()
    private let directory: String

    /// Creates a fresh `benchmark_data.db` in a temporary folder. `storePayloads` is `--db-store full`.
    public init(request: APIRequest, storePayloads: Bool, commitInterval: Int = 1000) throws {
        directory = NSTemporaryDirectory() + "fastperf-writer-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        plan = WriterPlan(rings: [], requests: [request], plugin: OpenAIPlugin(), expected: 0, loops: 0,
                          databasePath: directory + "/benchmark_data.db", argumentsJSON: "{}", startedAt: "",
                          wallClockAnchor: 0, monotonicAnchorNanos: 0, commitInterval: commitInterval,
                          storePayloads: storePayloads, progress: RunProgress(totalRequests: 0))
        store = try ResultStore(path: directory + "/benchmark_data.db", argumentsJSON: "{}", wallClockAnchor: 0, version: "bench",
                                startedAt: "", commitInterval: commitInterval)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// Handles one finished record as the writer thread does (its `requestIndex` must be 0).
    public func write(_ record: RequestRecord) throws {
        try ResultPipeline.handle(record, plan: plan, store: store, into: &accumulator, memo: memo, buffers: buffers)
    }

    /// Commits the open batch and removes the temporary folder (also done on deinit, which a benchmark process
    /// may exit before).
    public func finish() throws {
        try store.commit()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Rows written so far.
    public var rows: Int { store.rowCount }
}

/// Builds the record a loop thread makes for a streamed response read in one piece: `body` in `payload`, its SSE
/// events located in it, one timestamp per event 1 ms apart.
@_spi(Benchmarks)
public func makeStreamRecord(sseBody body: [UInt8]) -> RequestRecord {
    var record = RequestRecord(requestIndex: 0, loopID: 0, connectionID: 1)
    record.httpStatus = 200
    record.isEventStream = true
    record.startNanos = 1_000_000_000
    record.intendedStartNanos = record.startNanos
    var parser = SSEParser()
    var t = record.startNanos
    body.withUnsafeBytes { raw in
        let feed = record.appendFeed(raw)
        parser.feed(raw) { event in
            t += 1_000_000
            record.append(event, at: t, feed: feed)
        }
    }
    record.endNanos = t
    record.bodyBytes = body.count
    return record
}
