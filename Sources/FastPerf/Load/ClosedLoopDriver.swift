/// Closed-loop load on one loop thread: `parallel` keep-alive connections, each sending its next request as
/// soon as the previous response ends, until the loop's share of requests is done. A connection that closes
/// is replaced while requests remain. Finished records go to the writer through the loop's SPSC ring; when the
/// ring is full they wait on a local overflow list that is retried on every later completion and sweep tick,
/// so the loop never blocks and never drops a record.
final class ClosedLoopDriver: HTTP1ClientConnectionOwner {
    private let plan: LoopPlan
    private let context: ClientContext
    private var next: Int
    private var openConnections = 0
    private var overflow: [RequestRecord] = []
    private var overflowHead = 0
    private var sweep: LoopTimer?
    private var connections: [ObjectIdentifier: HTTP1ClientConnection] = [:]
    private var stopping = false
    /// Requests lost on a connection the server closed while idle, to send again first (arena indices).
    private var retries: [Int] = []

    init(plan: LoopPlan, loop: EventLoop) {
        self.plan = plan
        self.next = plan.requestIndices.lowerBound
        self.context = ClientContext(loop: loop, loopID: plan.loopID, address: plan.address, arena: plan.arena,
                                     connectTimeoutNanos: plan.connectTimeoutNanos,
                                     readTimeoutNanos: plan.readTimeoutNanos,
                                     totalTimeoutNanos: plan.totalTimeoutNanos)
    }

    /// Live libuv TCP handles; 0 once the driver has finished.
    var liveConnections: Int { context.liveConnections }

    /// Opens the connections and starts the sweep timer (timeouts every 10 ms, overflow retries).
    func start() {
        let sweep = LoopTimer(loop: context.loop) { [unowned self] in self.tick() }
        self.sweep = sweep
        sweep.start(timeoutMillis: 10, repeatMillis: 10)
        let n = min(plan.parallel, plan.requestIndices.count)
        for _ in 0..<n { openConnection() }
        finishIfDone()
    }

    private var hasMoreRequests: Bool { !retries.isEmpty || (next < plan.requestIndices.upperBound && !stopping) }

    private func takeNext() -> Int {
        if let i = retries.popLast() { return i }
        let i = next
        next += 1
        let n = plan.progress.inFlight.add(1, ordering: .relaxed).newValue
        if n > plan.progress.peakInFlight.load(ordering: .relaxed) { plan.progress.peakInFlight.store(n, ordering: .relaxed) }
        return i
    }

    private func openConnection() {
        guard hasMoreRequests else { return }
        let index = takeNext()
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
        if hasMoreRequests { connection.send(requestIndex: takeNext()) } else { connection.close() }
    }

    func connection(_ connection: HTTP1ClientConnection, didFinish record: RequestRecord) {
        plan.progress.inFlight.subtract(1, ordering: .relaxed)
        deliver(record)
    }

    func connection(_ connection: HTTP1ClientConnection, didLoseRequest requestIndex: Int, intendedNanos: UInt64) {
        // Still in flight: takeNext will count it again.
        plan.progress.inFlight.subtract(1, ordering: .relaxed)
        retries.append(requestIndex)
    }

    func connectionDidClose(_ connection: HTTP1ClientConnection) {
        connections[ObjectIdentifier(connection)] = nil
        openConnections -= 1
        if hasMoreRequests { openConnection() }
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
        if plan.progress.stopRequested.load(ordering: .relaxed) && !stopping {
            stopping = true
            for c in connections.values where c.state == .idle { c.close() }
        }
        let now = MonotonicClock.nowNanos()
        for c in connections.values { c.checkTimeouts(now: now) }
        drainOverflow()
        finishIfDone()
    }

    private func finishIfDone() {
        guard openConnections == 0, !hasMoreRequests || stopping, overflowHead == overflow.count else { return }
        sweep?.close()
        sweep = nil
        plan.progress.loopsFinished.add(1, ordering: .releasing)
    }
}
