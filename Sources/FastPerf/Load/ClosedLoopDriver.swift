import Histogram

/// Closed-loop load on one loop thread: `parallel` keep-alive connections, each sending its next request as
/// soon as the previous response ends, until the point's requests are all claimed (loops claim them from one
/// shared atomic counter). A connection that closes
/// is replaced while requests remain. Finished records go to the writer through the loop's SPSC ring; when the
/// ring is full they wait on a local overflow list that is retried on every later completion and sweep tick,
/// so the loop never blocks and never drops a record.
final class ClosedLoopDriver: HTTP1ClientConnectionOwner {
    private let plan: LoopPlan
    private let context: ClientContext
    private var openConnections = 0
    /// No request is left to claim.
    private var exhausted = false
    private var overflow: [RequestRecord] = []
    private var overflowHead = 0
    private var sweep: LoopTimer?
    private var connections: [ObjectIdentifier: HTTP1ClientConnection] = [:]
    private var stopping = false
    /// Requests lost on a connection the server closed while idle, to send again first (arena indices).
    private var retries: [Int] = []

    init(plan: LoopPlan, loop: EventLoop) {
        self.plan = plan
        self.context = ClientContext(loop: loop, loopID: plan.loopID, address: plan.address, arena: plan.arena,
                                     connectTimeoutNanos: plan.connectTimeoutNanos,
                                     readTimeoutNanos: plan.readTimeoutNanos,
                                     totalTimeoutNanos: plan.totalTimeoutNanos)
    }

    /// Live libuv TCP handles; 0 once the driver has finished.
    var liveConnections: Int { context.liveConnections }

    /// How late the sweep timer fired (loop lag: time the loop spent on other work past a timer's due
    /// time), ns; one sample per tick.
    private(set) var loopLag = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000_000,
                                                 numberOfSignificantValueDigits: .three)
    /// The sweep timer's due time in libuv's clock (whole ms of `uv_hrtime`).
    private var sweepDueMillis: UInt64 = 0
    private var ticks = 0
    static let sweepMillis: UInt64 = 10

    /// Opens the connections and starts the sweep timer (overflow retries and loop lag every 10 ms, timeouts
    /// every 50 ms).
    func start() {
        let sweep = LoopTimer(loop: context.loop) { [unowned self] in self.tick() }
        self.sweep = sweep
        armSweep()
        for _ in 0..<plan.parallel { openConnection() }
        finishIfDone()
    }

    private func armSweep() {
        context.loop.updateTime()
        sweepDueMillis = context.loop.nowMillis + Self.sweepMillis
        sweep?.start(timeoutMillis: Self.sweepMillis)
    }

    /// The next request to send: one lost on an idle close first, else a fresh claim; nil when none is left.
    private func claim() -> Int? {
        if let i = retries.popLast() {
            plan.progress.requestStarted()
            return i
        }
        if stopping || exhausted { return nil }
        let i = plan.progress.nextRequest.add(1, ordering: .relaxed).oldValue
        if i >= plan.progress.totalRequests {
            exhausted = true
            return nil
        }
        plan.progress.requestStarted()
        return i
    }

    private func openConnection() {
        guard let index = claim() else { return }
        do {
            let c = try HTTP1ClientConnection(context: context, owner: self)
            connections[ObjectIdentifier(c)] = c
            openConnections += 1
            c.send(requestIndex: index)
        } catch {
            var record = RequestRecord(requestIndex: index, loopID: plan.loopID, connectionID: 0)
            let now = MonotonicClock.nowNanos()
            record.startNanos = now
            record.intendedStartNanos = now
            record.endNanos = now
            record.transport = .connectFailed
            record.error = "cannot open a TCP handle: \(error)"
            deliver(record)
        }
    }

    // MARK: HTTP1ClientConnectionOwner

    func connectionIsIdle(_ connection: HTTP1ClientConnection) {
        if let i = claim() { connection.send(requestIndex: i) } else { connection.close() }
    }

    func connection(_ connection: HTTP1ClientConnection, didFinish record: RequestRecord) {
        plan.progress.inFlight.subtract(1, ordering: .relaxed)
        deliver(record)
    }

    func connection(_ connection: HTTP1ClientConnection, didLoseRequest requestIndex: Int, intendedNanos: UInt64) {
        // claim() counts it in flight again when it is resent.
        plan.progress.inFlight.subtract(1, ordering: .relaxed)
        retries.append(requestIndex)
    }

    func connectionDidClose(_ connection: HTTP1ClientConnection) {
        connections[ObjectIdentifier(connection)] = nil
        openConnections -= 1
        openConnection()
        finishIfDone()
    }

    // MARK: records

    private func deliver(_ record: RequestRecord) {
        drainOverflow()
        if overflowHead < overflow.count || !plan.ring.push(record) {
            overflow.append(record)
            plan.progress.ringOverflows.add(1, ordering: .relaxed)
        } else {
            plan.progress.pushed.add(1, ordering: .relaxed)
        }
    }

    private func drainOverflow() {
        while overflowHead < overflow.count {
            guard plan.ring.push(overflow[overflowHead]) else { return }
            plan.progress.pushed.add(1, ordering: .relaxed)
            overflowHead += 1
        }
        if overflowHead > 0 {
            overflow.removeAll(keepingCapacity: true)
            overflowHead = 0
        }
    }

    private func tick() {
        let now = MonotonicClock.nowNanos()
        // libuv fires a timer once its ms clock (uv_hrtime truncated to ms) reaches the due time.
        let due = sweepDueMillis * 1_000_000
        _ = loopLag.record(now > due ? now - due : 0)
        if plan.progress.stopRequested.load(ordering: .relaxed) && !stopping {
            stopping = true
            retries.removeAll()
            for c in connections.values where c.state == .idle { c.close() }
        }
        if plan.progress.abortRequested.load(ordering: .relaxed) {
            for c in connections.values { c.close(reason: "aborted by a second stop signal") }
        }
        ticks += 1
        if ticks % 5 == 0 {
            for c in connections.values { c.checkTimeouts(now: now) }
        }
        drainOverflow()
        if !finishIfDone() { armSweep() }
    }

    /// Ends the driver once nothing is left to send, in flight or waiting for the ring. Returns true then.
    @discardableResult
    private func finishIfDone() -> Bool {
        guard openConnections == 0, exhausted || stopping, retries.isEmpty, overflowHead == overflow.count else { return false }
        guard sweep != nil else { return true }
        sweep?.close()
        sweep = nil
        plan.progress.loopsFinished.add(1, ordering: .releasing)
        return true
    }
}
