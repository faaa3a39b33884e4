import Synchronization

/// Counters shared by the loop threads, the writer thread and the main thread of one run point.
/// Written with atomics only (no locks on a loop thread).
final class RunProgress: Sendable {
    /// Records the writer has stored.
    let stored = Atomic<Int>(0)
    /// Records pushed by loops into their rings.
    let pushed = Atomic<Int>(0)
    /// Times a loop found its ring full and kept the record on its overflow list.
    let ringOverflows = Atomic<Int>(0)
    /// Loop threads that have finished (all their records pushed).
    let loopsFinished = Atomic<Int>(0)
    /// Requests in flight right now, and the most seen at once.
    let inFlight = Atomic<Int>(0)
    let peakInFlight = Atomic<Int>(0)
    /// Set by the main thread to make loops stop sending (soft stop: in-flight requests finish).
    let stopRequested = Atomic<Bool>(false)
    /// Stored records that failed (any outcome but `ok`); written by the writer thread.
    let failed = Atomic<Int>(0)
    /// Completion tokens of the stored successes, tokens; written by the writer thread.
    let outputTokens = Atomic<Int>(0)

    init() {}

    /// Counts one judged request for the progress display (writer thread only).
    func count(_ result: RequestResult) {
        if result.success {
            outputTokens.add(result.completionTokens ?? 0, ordering: .relaxed)
        } else {
            failed.add(1, ordering: .relaxed)
        }
    }
}

/// What one loop thread sends: its share of the run's requests, where to send them and its ring.
struct LoopPlan: Sendable {
    let loopID: Int
    let address: SocketAddress
    let arena: RequestArena
    /// Arena indices this loop sends, in order.
    let requestIndices: Range<Int>
    /// Connections (= requests in flight) this loop keeps open.
    let parallel: Int
    let connectTimeoutNanos: UInt64
    let readTimeoutNanos: UInt64
    let totalTimeoutNanos: UInt64
    let ring: SPSCRing<RequestRecord>
    let progress: RunProgress
}
