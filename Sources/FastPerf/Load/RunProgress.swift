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
    /// Next arena index to send in closed loop: loops claim requests with one atomic add each, so a faster
    /// loop takes more of them.
    let nextRequest = Atomic<Int>(0)
    /// Requests this point sends in all (its `--number`).
    let totalRequests: Int

    init(totalRequests: Int) {
        self.totalRequests = totalRequests
    }

    /// Counts one more request in flight and keeps the peak (lock-free; any loop thread).
    func requestStarted() {
        let n = inFlight.add(1, ordering: .relaxed).newValue
        var peak = peakInFlight.load(ordering: .relaxed)
        while n > peak {
            let (exchanged, original) = peakInFlight.compareExchange(expected: peak, desired: n, ordering: .relaxed)
            if exchanged { break }
            peak = original
        }
    }
}

/// What one loop thread sends: its share of the run's requests, where to send them and its ring.
struct LoopPlan: Sendable {
    let loopID: Int
    let address: SocketAddress
    let arena: RequestArena
    /// Connections (= requests in flight) this loop keeps open.
    let parallel: Int
    let connectTimeoutNanos: UInt64
    let readTimeoutNanos: UInt64
    let totalTimeoutNanos: UInt64
    let ring: SPSCRing<RequestRecord>
    let progress: RunProgress
}
