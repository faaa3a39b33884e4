import Foundation
import Synchronization

/// Everything the writer thread needs for one run point. Immutable and shared.
struct WriterPlan: Sendable {
    let rings: [SPSCRing<RequestRecord>]
    /// Rendered requests by arena index (body for the `request` column, stream flag).
    let requests: [APIRequest]
    let plugin: any APIPlugin
    /// Records the loops will deliver (one per request sent).
    let expected: Int
    let loops: Int
    let databasePath: String
    let argumentsJSON: String
    let startedAt: String
    /// Unix-epoch seconds at `monotonicAnchorNanos`.
    let wallClockAnchor: Double
    let monotonicAnchorNanos: UInt64
    let commitInterval: Int
    /// Keep request and response payloads (`--db-store full`).
    let storePayloads: Bool
    let progress: RunProgress
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
        let store: ResultStore
        do {
            store = try ResultStore(path: plan.databasePath, argumentsJSON: plan.argumentsJSON,
                                    wallClockAnchor: plan.wallClockAnchor, version: FastPerfVersion.string,
                                    startedAt: plan.startedAt, commitInterval: plan.commitInterval)
        } catch {
            out.error = "\(error)"
            drainWithoutStoring(plan)
            return out
        }
        var idlePasses = 0
        while true {
            var got = 0
            for ring in plan.rings {
                while let record = ring.pop() {
                    got += 1
                    if out.error != nil { continue }
                    do {
                        try handle(record, plan: plan, store: store, into: &out)
                    } catch {
                        out.error = "cannot write \(plan.databasePath): \(error)"
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
                usleep(500)
            }
        }
        if out.error == nil { do { try store.finish() } catch { out.error = "\(error)" } }
        out.rows = store.rowCount
        out.cpuSeconds = ResourceUsage.threadCPUSeconds()
        return out
    }

    /// Storage failed to open: keep the loops unblocked by popping their records until they finish.
    private static func drainWithoutStoring(_ plan: WriterPlan) {
        while plan.progress.loopsFinished.load(ordering: .acquiring) < plan.loops {
            for ring in plan.rings { while ring.pop() != nil {} }
            usleep(1000)
        }
        for ring in plan.rings { while ring.pop() != nil {} }
    }

    private static func handle(_ record: RequestRecord, plan: WriterPlan, store: ResultStore,
                               into out: inout WriterOutcome) throws {
        let request = plan.requests[record.requestIndex]
        let parsed = plan.plugin.parseResponses(record, request: request)
        let result = RequestResult.make(record: record, parsed: parsed, isStreamRequest: request.isStream)
        out.accumulator.add(result)
        plan.progress.count(result)
        try store.add(row(record: record, request: request, result: result, plan: plan), nowNanos: MonotonicClock.nowNanos())
    }

    private static func epoch(_ nanos: UInt64, _ plan: WriterPlan) -> Double {
        plan.wallClockAnchor + Double(Int64(bitPattern: nanos &- plan.monotonicAnchorNanos)) / 1e9
    }

    /// `start_offset_ns` / `completed_offset_ns`: ns since the point's monotonic anchor; NULL when it never happened.
    private static func offsetNanos(_ nanos: UInt64, _ plan: WriterPlan) -> SQLValue {
        nanos == 0 ? .null : .integer(Int64(bitPattern: nanos &- plan.monotonicAnchorNanos))
    }

    /// One `result` row in `ResultSchema.columns` order.
    static func row(record: RequestRecord, request: APIRequest, result: RequestResult, plan: WriterPlan) -> [SQLValue] {
        func real(_ v: Double?) -> SQLValue { v.map { .real($0) } ?? .null }
        func int(_ v: Int?) -> SQLValue { v.map { .integer(Int64($0)) } ?? .null }
        let itl = result.itlNanos.map { Double($0) / 1e9 }
        var messages: SQLValue = .null
        if plan.storePayloads {
            var json: [UInt8] = [UInt8(ascii: "[")]
            json.reserveCapacity(record.payload.count + record.events.count * 8 + 2)
            if record.isEventStream {
                for i in record.events.indices {
                    if i > 0 { json.append(UInt8(ascii: ",")) }
                    JSONText.appendQuoted(record.eventData(i), to: &json)
                }
            } else if !record.payload.isEmpty {
                JSONText.appendQuoted(record.payload, to: &json)
            }
            json.append(UInt8(ascii: "]"))
            messages = .utf8(json)
        }
        return [
            plan.storePayloads ? .utf8(request.body) : .null,
            .real(epoch(record.startNanos, plan)),
            .text(JSONText.numberArray(itl, decimals: 9)),
            .integer(result.success ? 1 : 0),
            messages,
            .real(epoch(record.endNanos, plan)),
            real(result.latencyNanos.map { Double($0) / 1e9 }),
            real(result.ttftNanos.map { Double($0) / 1e9 }),
            int(result.promptTokens),
            int(result.completionTokens),
            .null,
            real(result.tpotSeconds),
            .null,
            .integer(result.isStream ? 1 : 0),
            .real(epoch(record.intendedStartNanos, plan)),
            record.httpStatus > 0 ? .integer(Int64(record.httpStatus)) : .null,
            .text(result.outcome.rawValue),
            result.error.map { .text($0) } ?? .null,
            .text("http/1.1"),
            .integer(Int64(record.connectionID)),
            .integer(Int64(record.loopID)),
            .text(JSONText.numberArray(result.eventOffsetsSeconds, decimals: 9)),
            .integer(0),
            offsetNanos(record.startNanos, plan),
            offsetNanos(record.endNanos, plan),
        ]
    }
}

/// FastPerf's version, stored in every database's `run` table.
public enum FastPerfVersion {
    public static let string = "0.1.0"
}
