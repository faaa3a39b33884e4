import Histogram

/// What every load driver on a loop thread shares: the loop's client connections, delivery of finished
/// records to the writer through the loop's SPSC ring (with a local overflow list when the ring is full, so
/// the loop never blocks and never drops a record; a closed loop also stops starting requests until the
/// overflow is back in the ring, which bounds memory when the writer is the slower side), and a 10 ms sweep
/// timer that retries the overflow, applies timeouts (every 50 ms), measures loop lag and reacts to stop and
/// abort requests.
/// Subclasses decide what to send when (`ClosedLoopDriver`, `OpenLoopDriver`). Loop thread only.
class LoopDriver: ClientConnectionOwner {
    let plan: LoopPlan
    let context: ClientContext
    /// Open connections by identity.
    private(set) var connections: [ObjectIdentifier: any ClientConnection] = [:]
    /// Requests in flight on this loop (sent and not finished).
    private(set) var active = 0
    /// Set once a stop was requested: nothing new is sent.
    private(set) var stopping = false
    private var overflow: [RequestRecord] = []
    private var overflowHead = 0
    private var sweep: LoopTimer?
    private var finished = false

    /// How late the sweep timer fired (loop lag: time the loop spent on other work past a timer's due
    /// time), ns; one sample per tick.
    private(set) var loopLag = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000_000,
                                                 numberOfSignificantValueDigits: .three)
    /// The sweep timer's due time in libuv's clock (whole ms of `uv_hrtime`).
    private var sweepDueMillis: UInt64 = 0
    private var ticks = 0
    static let sweepMillis: UInt64 = 10

    init(plan: LoopPlan, loop: EventLoop) {
        self.plan = plan
        self.context = ClientContext(loop: loop, loopID: plan.loopID, address: plan.address, arena: plan.arena,
                                     connectTimeoutNanos: plan.connectTimeoutNanos,
                                     readTimeoutNanos: plan.readTimeoutNanos,
                                     totalTimeoutNanos: plan.totalTimeoutNanos,
                                     maxStreamBodyBytes: plan.maxStreamBodyBytes)
        context.tls = plan.tls
        context.serverName = plan.serverName
    }

    /// Live libuv TCP handles; 0 once the driver has finished.
    var liveConnections: Int { context.liveConnections }
    var openConnections: Int { connections.count }

    /// Starts the sweep timer, then the subclass's load (`begin`).
    func start() {
        let sweep = LoopTimer(loop: context.loop) { [unowned self] in self.tick() }
        self.sweep = sweep
        armSweep()
        begin()
        finishIfDone()
    }

    // MARK: for subclasses

    /// Starts sending. Called once from `start`.
    func begin() {}
    /// Called on every sweep tick (10 ms).
    func onTick(now: UInt64) {}
    /// Called once when a stop is requested, after `stopping` is set.
    func onStop() {}
    /// True when nothing is left to send or waiting to be sent (the driver ends once connections are closed).
    var workDone: Bool { true }
    /// Called when the driver ends (close subclass handles here).
    func onFinish() {}

    /// Opens a connection that sends `requestIndex` once connected; false (and a `connect_failed` record)
    /// when libuv refuses the handle.
    @discardableResult
    func openConnection(sending requestIndex: Int, intendedNanos: UInt64 = 0) -> Bool {
        openConnection(sending: [(requestIndex, intendedNanos)]) != nil
    }

    /// Requests one connection carries at once: 1 for HTTP/1.1, `--max-streams` for HTTP/2.
    var slotsPerConnection: Int { plan.http2 == nil ? 1 : max(1, plan.maxStreams) }

    /// Opens a connection (HTTP/1.1 or HTTP/2 as the plan says) that sends `requests` (arena index, intended ns)
    /// once connected; nil (and `connect_failed` records) when libuv refuses the handle.
    @discardableResult
    func openConnection(sending requests: [(Int, UInt64)]) -> (any ClientConnection)? {
        do throws(UVError) {
            let c: any ClientConnection
            if let arena = plan.http2 {
                c = try HTTP2ClientConnection(context: context, owner: self, arena: arena, maxStreams: plan.maxStreams)
            } else {
                c = try HTTP1ClientConnection(context: context, owner: self)
            }
            connections[ObjectIdentifier(c)] = c
            for (index, intended) in requests { send(index, on: c, intendedNanos: intended) }
            return c
        } catch {
            for (requestIndex, intendedNanos) in requests { refuse(requestIndex, intendedNanos: intendedNanos, error: error) }
            return nil
        }
    }

    private func refuse(_ requestIndex: Int, intendedNanos: UInt64, error: UVError) {
        var record = RequestRecord(requestIndex: requestIndex, loopID: plan.loopID, connectionID: 0)
        let now = MonotonicClock.nowNanos()
        record.startNanos = now
        record.intendedStartNanos = intendedNanos == 0 ? now : intendedNanos
        record.endNanos = now
        record.transport = .connectFailed
        record.error = "cannot open a TCP handle: \(error)"
        deliver(record)
    }

    /// Sends `requestIndex` on an idle connection.
    func send(_ requestIndex: Int, on connection: any ClientConnection, intendedNanos: UInt64 = 0) {
        plan.progress.requestStarted()
        active += 1
        connection.send(requestIndex: requestIndex, intendedNanos: intendedNanos)
    }

    // MARK: ClientConnectionOwner (subclasses override the first, second and fourth)

    func connectionIsIdle(_ connection: any ClientConnection) {
        if connection.inFlight == 0 { connection.close(reason: "idle") }
    }

    func connection(_ connection: any ClientConnection, didLoseRequest requestIndex: Int, intendedNanos: UInt64) {
        active -= 1
        plan.progress.inFlight.subtract(1, ordering: .relaxed)
    }

    func connection(_ connection: any ClientConnection, didFinish record: RequestRecord) {
        active -= 1
        plan.progress.inFlight.subtract(1, ordering: .relaxed)
        deliver(record)
    }

    func connectionDidClose(_ connection: any ClientConnection) {
        connections[ObjectIdentifier(connection)] = nil
        connectionClosed()
        finishIfDone()
    }

    /// A connection closed (it is already out of `connections`); subclasses may replace it.
    func connectionClosed() {}

    // MARK: records

    /// Finished records wait on the overflow list because the ring to the writer is full: the writer is behind.
    var waitingForWriter: Bool { overflowHead < overflow.count }

    private func deliver(_ record: RequestRecord) {
        drainOverflow()
        if overflowHead < overflow.count || !plan.ring.push(record) {
            overflow.append(record)
            plan.progress.ringOverflows.add(1, ordering: .relaxed)
            RunProgress.raise(plan.progress.peakOverflow, to: overflow.count - overflowHead)
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

    // MARK: sweep

    private func armSweep() {
        context.loop.updateTime()
        sweepDueMillis = context.loop.nowMillis + Self.sweepMillis
        sweep?.start(timeoutMillis: Self.sweepMillis)
    }

    private func tick() {
        let now = MonotonicClock.nowNanos()
        // libuv fires a timer once its ms clock (uv_hrtime truncated to ms) reaches the due time.
        let due = sweepDueMillis * 1_000_000
        _ = loopLag.record(now > due ? now - due : 0)
        if plan.progress.stopRequested.load(ordering: .relaxed) && !stopping {
            stopping = true
            onStop()
            for c in connections.values where c.state == .idle { c.close(reason: "stopping") }
        }
        if plan.progress.abortRequested.load(ordering: .relaxed) {
            let reason = StopSignal.abortReason
            for c in Array(connections.values) { c.close(reason: reason) }
        }
        ticks += 1
        if ticks % 5 == 0 {
            for c in connections.values { c.checkTimeouts(now: now) }
        }
        drainOverflow()
        onTick(now: now)
        if !finishIfDone() { armSweep() }
    }

    /// Ends the driver once nothing is left to send, in flight or waiting for the ring. Returns true then.
    @discardableResult
    func finishIfDone() -> Bool {
        if finished { return true }
        guard connections.isEmpty, workDone || stopping, overflowHead == overflow.count else { return false }
        finished = true
        sweep?.close()
        sweep = nil
        onFinish()
        plan.progress.connectionsOverFDLimit.add(context.connectionsOverFDLimit, ordering: .relaxed)
        plan.progress.loopsFinished.add(1, ordering: .releasing)
        return true
    }
}

/// Closed-loop load: `parallel` keep-alive connections, each sending its next request as soon as the previous
/// response ends, until the point's requests are all claimed (loops claim them from one shared atomic
/// counter, so a faster loop takes more). A connection that closes is replaced while requests remain.
final class ClosedLoopDriver: LoopDriver {
    /// No request is left to claim.
    private var exhausted = false
    /// Requests lost on a connection the server closed while idle, to send again first (arena indices).
    private var retries: [Int] = []
    /// Connections with free slots left idle while the writer catches up (`waitingForWriter`); resumed by the
    /// sweep once the overflow is back in the ring. Without this pause a writer slower than the loops would
    /// let finished records (a streamed response's bytes each) pile up without bound.
    private var paused: [ObjectIdentifier: any ClientConnection] = [:]

    override func begin() {
        openForFreeSlots()
    }

    /// Opens connections for the requests missing from `plan.parallel` in flight: one request each on
    /// HTTP/1.1, up to `--max-streams` each on HTTP/2 (so ceil(parallel / streams) connections at the start).
    private func openForFreeSlots() {
        if waitingForWriter && !stopping { return }  // the sweep opens them once the writer caught up
        var free = plan.parallel - active
        while free > 0 {
            var batch: [(Int, UInt64)] = []
            while batch.count < min(slotsPerConnection, free), let i = claim() { batch.append((i, 0)) }
            if batch.isEmpty { return }
            free -= batch.count
            openConnection(sending: batch)
        }
    }

    /// The next request to send: one lost on an idle close first, else a fresh claim; nil when none is left.
    private func claim() -> Int? {
        if let i = retries.popLast() { return i }
        if stopping || exhausted { return nil }
        if plan.deadlineNanos > 0 && MonotonicClock.nowNanos() >= plan.deadlineNanos {
            exhausted = true  // --duration: no new request after the deadline
            return nil
        }
        let i = plan.progress.nextRequest.add(1, ordering: .relaxed).oldValue
        if i >= plan.progress.totalRequests {
            exhausted = true
            return nil
        }
        return i
    }

    override var workDone: Bool { exhausted && retries.isEmpty }

    override func onStop() { retries.removeAll() }

    override func connectionIsIdle(_ connection: any ClientConnection) {
        if waitingForWriter && !stopping && !workDone {
            paused[ObjectIdentifier(connection)] = connection
            return
        }
        while connection.availableSlots > 0 && active < plan.parallel, let i = claim() { send(i, on: connection) }
        if connection.inFlight == 0 { connection.close(reason: "idle") }
    }

    override func connection(_ connection: any ClientConnection, didLoseRequest requestIndex: Int, intendedNanos: UInt64) {
        super.connection(connection, didLoseRequest: requestIndex, intendedNanos: intendedNanos)
        retries.append(requestIndex)
        // An HTTP/2 connection hands back what exceeds the server's stream limit and stays open.
        if connection.state != .closing { openForFreeSlots() }
    }

    override func connectionClosed() {
        openForFreeSlots()
    }

    override func onTick(now: UInt64) {
        guard !waitingForWriter || stopping, !paused.isEmpty || active < plan.parallel else { return }
        let resumed = paused.values
        paused = [:]
        for c in resumed where connections[ObjectIdentifier(c)] != nil && c.state != .closing { connectionIsIdle(c) }
        openForFreeSlots()
    }
}
