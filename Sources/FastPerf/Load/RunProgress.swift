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
    /// Most records one loop held on its overflow list at once.
    let peakOverflow = Atomic<Int>(0)
    /// Connections the loops could not open because the open-files limit was reached (added as loops finish).
    let connectionsOverFDLimit = Atomic<Int>(0)
    /// Loop threads that have finished (all their records pushed).
    let loopsFinished = Atomic<Int>(0)
    /// Requests in flight right now, and the most seen at once.
    let inFlight = Atomic<Int>(0)
    let peakInFlight = Atomic<Int>(0)
    /// Set by the main thread to make loops stop sending (soft stop: in-flight requests finish).
    let stopRequested = Atomic<Bool>(false)
    /// Set by the main thread to make loops close every connection now (in-flight requests end as `reset`).
    let abortRequested = Atomic<Bool>(false)
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
        Self.raise(peakInFlight, to: inFlight.add(1, ordering: .relaxed).newValue)
    }

    /// Raises `peak` to `n` when `n` is larger (lock-free).
    static func raise(_ peak: borrowing Atomic<Int>, to n: Int) {
        var seen = peak.load(ordering: .relaxed)
        while n > seen {
            let (exchanged, original) = peak.compareExchange(expected: seen, desired: n, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
    }

    /// Stored records that failed (any outcome but `ok`); written by the writer thread.
    let failed = Atomic<Int>(0)
    /// Completion tokens of the stored successes, tokens; written by the writer thread.
    let outputTokens = Atomic<Int>(0)

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
    /// Closed loop: connections (= requests in flight) this loop keeps open. Open loop: the most connections
    /// this loop may open (0 = no cap).
    let parallel: Int
    /// Open loop: this loop's share of the arrival schedule, (arena index, intended send time ns from
    /// `originNanos`); nil for closed loop.
    var arrivals: [(index: Int, offsetNanos: UInt64)]? = nil
    /// `uv_hrtime` of the point's start, shared by every loop (the schedule's zero).
    var originNanos: UInt64 = 0
    /// `--duration`: no new request after this `uv_hrtime` time (0 = none).
    var deadlineNanos: UInt64 = 0
    let connectTimeoutNanos: UInt64
    let readTimeoutNanos: UInt64
    let totalTimeoutNanos: UInt64
    let ring: SPSCRing<RequestRecord>
    let progress: RunProgress
    /// HTTP/2 (`--http2`, or ALPN h2): the requests as header fields; nil = HTTP/1.1.
    var http2: HTTP2RequestArena? = nil
    /// `--max-streams`: concurrent streams per HTTP/2 connection (capped by the server's SETTINGS).
    var maxStreams: Int = 100
    /// HTTPS (HTTP/1.1 over TLS): the client context and the server name (SNI, certificate check).
    var tls: TLSContext? = nil
    var serverName: String? = nil
    /// `ClientContext.maxStreamBodyBytes`.
    var maxStreamBodyBytes = 1 << 30
}

#if canImport(Glibc)
import Glibc
#endif

/// SIGINT / SIGTERM handling for `fastperf perf`: the first signal stops sending (requests in flight finish
/// and are stored, the report covers what was done), the second closes the connections in flight (they are
/// stored as `reset` rows), the third ends the process. After a SIGTERM (what `timeout`, `docker stop` and
/// service managers send, expecting an exit soon) the requests in flight get `termGraceSeconds`, then are
/// closed as after a second signal.
public enum StopSignal {
    /// Signals received since `install`. A lock-free atomic: the only thing the handler touches.
    static let count = Atomic<Int>(0)
    /// SIGTERMs among them.
    static let terms = Atomic<Int>(0)
    /// How long requests in flight may still finish after a SIGTERM, s.
    public static let termGraceSeconds = 5.0

    /// Installs the handlers. Call once, from the main thread, before the run.
    public static func install() {
        _ = count.load(ordering: .relaxed)  // initialise the global before a handler can run
        let handler: @convention(c) (Int32) -> Void = { sig in
            if sig == SIGTERM { StopSignal.terms.add(1, ordering: .relaxed) }
            if StopSignal.count.add(1, ordering: .relaxed).newValue >= 2 {
                signal(sig, SIG_DFL)  // a third signal ends the process
            }
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        // A parent may have started us with these signals blocked; threads made later inherit this mask.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Signals received so far.
    public static var received: Int { count.load(ordering: .relaxed) }
    /// Whether a SIGTERM was among them.
    public static var terminated: Bool { terms.load(ordering: .relaxed) > 0 }

    /// The error text of a request closed because of the stop signals: a second signal, or one SIGTERM whose
    /// grace (`termGraceSeconds`) ran out while the request was still in flight.
    static var abortReason: String {
        received >= 2
            ? "aborted by a second stop signal"
            : String(format: "aborted: still in flight %.0f s after SIGTERM", termGraceSeconds)
    }
}
