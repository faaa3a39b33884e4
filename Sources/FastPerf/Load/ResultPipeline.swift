import Foundation
import Synchronization

/// Everything the writer thread needs for one run point. Immutable and shared.
struct WriterPlan: Sendable {
    let rings: [SPSCRing<RequestRecord>]
    /// The distinct requests (body for the `request` column, stream flag): request `i` is `requests[i % count]`.
    let requests: [APIRequest]
    let plugin: any APIPlugin
    /// Records the loops will deliver (one per request sent).
    let expected: Int
    let loops: Int
    /// Trace replay: each request's `request_id` by arena index (nil entries and nil = NULL).
    var requestIDs: [String?]? = nil
    /// `benchmark_data.db` of the point; nil for a warm-up, whose records are dropped.
    let databasePath: String?
    let argumentsJSON: String
    let startedAt: String
    /// Unix-epoch seconds at `monotonicAnchorNanos`.
    let wallClockAnchor: Double
    let monotonicAnchorNanos: UInt64
    let commitInterval: Int
    /// Keep request and response payloads (`--db-store full`).
    let storePayloads: Bool
    let progress: RunProgress
    /// `--db-format pickle`: payload columns as base64 pickles (`PickledColumns`) instead of JSON text.
    var pickle = false
    /// Counts tokens of successes without usage (`--tokenizer-path`); nil leaves them NULL.
    var tokenCounter: TokenCounter? = nil
}

/// What the writer thread hands back after its last commit.
struct WriterOutcome: Sendable {
    var accumulator = MetricsAccumulator()
    var rows = 0
    /// A storage error that stopped the writer (the run is reported as failed: results would be lost).
    var error: String?
    /// CPU seconds the writer thread used.
    var cpuSeconds: Double = 0
}

/// The writer thread: pops every ring, lets the API plugin parse each response, computes the request's
/// metrics, feeds the accumulator and inserts the row in batched transactions. The only SQLite user.
enum ResultPipeline {
    static func run(_ plan: WriterPlan) -> WriterOutcome {
        var out = WriterOutcome()
        guard let databasePath = plan.databasePath else {
            drainWithoutStoring(plan)
            return out
        }
        let store: ResultStore
        do {
            store = try ResultStore(path: databasePath, argumentsJSON: plan.argumentsJSON,
                                    wallClockAnchor: plan.wallClockAnchor, version: FastPerfVersion.string,
                                    startedAt: plan.startedAt, commitInterval: plan.commitInterval)
        } catch {
            out.error = "\(error)"
            drainWithoutStoring(plan)
            return out
        }
        // One accumulator per loop (ITL histograms per loop, merged at the end).
        var perLoop = [MetricsAccumulator](repeating: MetricsAccumulator(), count: plan.rings.count)
        var idlePasses = 0
        let memo = ChunkMemo()  // chunk endings the OpenAI plugin read in full, kept from stream to stream
        let buffers = RowBuffers()
        // Idle polling backs off from 0.2 ms to 5 ms so an idle writer costs almost no CPU.
        var idleSleepMicros: UInt32 = 200
        while true {
            var got = 0
            for (k, ring) in plan.rings.enumerated() {
                // At most one ring's worth per ring and pass: a ring that refills as fast as it drains does not
                // keep the others (and the commit check below) waiting.
                var popped = 0
                while popped < ring.capacity, let record = ring.pop() {
                    popped += 1
                    got += 1
                    if out.error != nil { continue }
                    do {
                        try handle(record, plan: plan, store: store, into: &perLoop[k], memo: memo, buffers: buffers)
                    } catch {
                        out.error = "cannot write \(databasePath): \(error)"
                    }
                    plan.progress.stored.add(1, ordering: .relaxed)
                }
            }
            let now = MonotonicClock.nowNanos()
            if out.error == nil { do { try store.commitIfDue(nowNanos: now) } catch { out.error = "\(error)" } }
            let stored = plan.progress.stored.load(ordering: .relaxed)
            if stored >= plan.expected { break }
            if got == 0 {
                // All loops done and their rings empty twice in a row: nothing more can come.
                if plan.progress.loopsFinished.load(ordering: .acquiring) >= plan.loops {
                    idlePasses += 1
                    if idlePasses >= 2 { break }
                } else {
                    idlePasses = 0
                }
                usleep(idleSleepMicros)
                idleSleepMicros = min(idleSleepMicros * 2, 5000)
            } else {
                idleSleepMicros = 200
                // Keeping up (a pass found few records): let records gather for 1 ms, so that one wake-up stores a
                // batch. Waking for every few records cost ≈ 0.7 µs of kernel time per 64-token HTTPS request
                // (a wake-up per 8 records at 40k requests/s). The rings hold 512 records per loop, ample for
                // 1 ms; a writer that falls behind finds full passes and does not pause.
                if got < Self.batchRecords { usleep(1000) }
            }
        }
        for a in perLoop { out.accumulator.merge(a) }
        if out.error == nil {
            do { try store.finish() } catch { out.error = "\(error)" }
        } else {
            try? store.finish()  // keep what was stored, as one file, when the database still takes it
        }
        out.rows = store.rowCount
        out.cpuSeconds = ResourceUsage.threadCPUSeconds()
        return out
    }

    /// A pass over the rings that finds fewer records than this pauses 1 ms before the next.
    static let batchRecords = 32

    /// A warm-up, or storage failed to open: pop the loops' records (so they never wait) until they finish.
    private static func drainWithoutStoring(_ plan: WriterPlan) {
        func drain() {
            for ring in plan.rings { while ring.pop() != nil { plan.progress.stored.add(1, ordering: .relaxed) } }
        }
        while plan.progress.loopsFinished.load(ordering: .acquiring) < plan.loops {
            drain()
            usleep(1000)
        }
        drain()
    }

    /// Parses, judges and stores one record, with the writer's `ChunkMemo` and `RowBuffers`.
    static func handle(_ record: RequestRecord, plan: WriterPlan, store: ResultStore,
                       into accumulator: inout MetricsAccumulator, memo: ChunkMemo, buffers: RowBuffers) throws {
        let request = plan.requests[record.requestIndex % plan.requests.count]
        let parsed = PluginCall.parse(plan.plugin, record: record, request: request,
                                      needs: ResponseNeeds(eventShapes: plan.storePayloads && !plan.pickle,
                                                           streamText: plan.tokenCounter != nil), memo: memo)
        var result = RequestResult.make(record: record, parsed: parsed, isStreamRequest: request.isStream)
        if let counter = plan.tokenCounter, result.success, result.promptTokens == nil || result.completionTokens == nil {
            result.applyCountedTokens(prompt: counter.promptTokens(requestIndex: record.requestIndex),
                                      completion: counter.completionTokens(parsed.generatedText))
        }
        accumulator.add(result)
        plan.progress.count(result)
        try store.add(row(record: record, request: request, result: result, plan: plan, shapes: parsed.eventShapes,
                          buffers: buffers, maxValueBytes: store.maxValueBytes), nowNanos: MonotonicClock.nowNanos())
    }

    private static func epoch(_ nanos: UInt64, _ plan: WriterPlan) -> Double {
        plan.wallClockAnchor + Double(Int64(bitPattern: nanos &- plan.monotonicAnchorNanos)) / 1e9
    }

    /// `start_offset_ns`, `completed_offset_ns`, `intended_offset_ns`: ns since the point's monotonic anchor; NULL
    /// when it never happened.
    private static func offsetNanos(_ nanos: UInt64, _ plan: WriterPlan) -> SQLValue {
        nanos == 0 ? .null : .integer(Int64(bitPattern: nanos &- plan.monotonicAnchorNanos))
    }

    /// One `result` row in `ResultSchema.columns` order; `shapes` (the plugin's) speed up `response_messages`;
    /// the time arrays are written into `buffers` (the row borrows them until it is stored).
    /// `maxValueBytes`: the database's limit on a value (`ResultStore.maxValueBytes`); a `response_messages`
    /// over it is stored as NULL and the row's `error` says so (the row and its metrics are kept).
    static func row(record: RequestRecord, request: APIRequest, result: RequestResult, plan: WriterPlan,
                    shapes: EventShapes = EventShapes(), buffers: RowBuffers = RowBuffers(),
                    maxValueBytes: Int = ResultStore.defaultMaxValueBytes) -> [SQLValue] {
        func real(_ v: Double?) -> SQLValue { v.map { .real($0) } ?? .null }
        func int(_ v: Int?) -> SQLValue { v.map { .integer(Int64($0)) } ?? .null }
        var messages = SQLValue.null
        var error = result.error
        if plan.storePayloads {
            let bytes: Int
            if plan.pickle {
                let text = PickledColumns.responseMessages(record)
                bytes = text.utf8.count
                messages = .text(text)
            } else {
                let json = RowEncoding.responseMessages(record, shapes: shapes)
                bytes = json.count
                messages = .utf8(json)
            }
            // The whole row must fit SQLite's limit too; the other columns are small beside the request body.
            if bytes + request.body.count + (1 << 20) > maxValueBytes {
                messages = .null
                let note = "response_messages not stored: \(bytes) bytes, over the database's limit of \(maxValueBytes) bytes"
                error = error.map { $0 + "; " + note } ?? note
            }
        }
        let itl = SQLValue.utf8Slice(RowEncoding.secondsArray(result.itlNanos, reusing: &buffers.itl))
        let eventTimes = SQLValue.utf8Slice(RowEncoding.eventTimes(record, reusing: &buffers.eventTimes))
        return [
            !plan.storePayloads ? .null : plan.pickle ? .text(PickledColumns.request(request.body)) : .utf8(request.body),
            .real(epoch(record.startNanos, plan)),
            itl,
            .integer(result.success ? 1 : 0),
            messages,
            .real(epoch(record.endNanos, plan)),
            real(result.latencyNanos.map { Double($0) / 1e9 }),
            real(result.ttftNanos.map { Double($0) / 1e9 }),
            int(result.promptTokens),
            int(result.completionTokens),
            .null,
            real(result.tpotSeconds),
            plan.requestIDs.flatMap { $0[record.requestIndex] }.map { .text($0) } ?? .null,
            .integer(result.isStream ? 1 : 0),
            .real(epoch(record.intendedStartNanos, plan)),
            record.httpStatus > 0 ? .integer(Int64(record.httpStatus)) : .null,
            .text(result.outcome.rawValue),
            error.map { .text($0) } ?? .null,
            .text(record.protocolName.description),
            .integer(Int64(record.connectionID)),
            .integer(Int64(record.loopID)),
            eventTimes,
            .integer(result.tokensCounted ? 1 : 0),
            offsetNanos(record.startNanos, plan),
            offsetNanos(record.endNanos, plan),
            offsetNanos(record.intendedStartNanos, plan),
            record.tlsHandshakeNanos > 0 ? .real(Double(record.tlsHandshakeNanos) / 1e9) : .null,
        ]
    }
}

/// The writer's buffers for a row's `inter_token_latencies` and `event_times` text, reused from row to row (a
/// row's values borrow them until the row is stored). Writer thread only.
final class RowBuffers {
    var itl: [UInt8] = []
    var eventTimes: [UInt8] = []
}

/// FastPerf's version, stored in every database's `run` table.
public enum FastPerfVersion {
    public static let string = "0.1.0"
}
