/// Open-loop load on one loop thread: requests leave at their intended times from the arrival schedule,
/// whether or not earlier ones have finished (no coordinated omission). A nanosecond timer (`PreciseTimer`)
/// wakes the loop at the next due time and every request that is due is sent then, never one timer per
/// request. A request goes out on an idle keep-alive connection; when none is idle it waits in a FIFO queue, and
/// new connections are opened for what is still queued only after the loop has handled the rest of this turn's
/// socket events (a 0 ms timer): after a stall, responses already in the socket buffers free their connections
/// first, so a burst of due requests reuses them instead of opening a connection each (which would cost more
/// CPU, make the next stall longer and grow the pool without end). With a connection cap (`--parallel` with
/// `--rate`) no more than that many are opened. The wait in the queue is send lag, which the corrected
/// latencies (measured from the intended time) include.
final class OpenLoopDriver: LoopDriver {
    private let arrivals: [(index: Int, offsetNanos: UInt64)]
    private var next = 0
    /// Open connections that can take more requests (HTTP/1.1: idle; HTTP/2: free streams).
    private var pooled = Set<ObjectIdentifier>()
    private var idle: [any ClientConnection] = []
    /// Due requests waiting for a connection: (arena index, intended `uv_hrtime` ns).
    private var queue: [(index: Int, intended: UInt64)] = []
    private var queueHead = 0
    private var timer: PreciseTimer?
    /// Opens connections for the queue once the current loop turn's socket events are handled.
    private var opener: LoopTimer?
    private var openerArmed = false
    /// The schedule is over (all sent or past `--duration`).
    private var scheduleDone = false

    override init(plan: LoopPlan, loop: EventLoop) {
        arrivals = plan.arrivals ?? []
        super.init(plan: plan, loop: loop)
    }

    /// Most connections this loop opens: `--parallel` requests, `--max-streams` per HTTP/2 connection (0 = no cap).
    private var cap: Int { (plan.parallel + slotsPerConnection - 1) / slotsPerConnection }

    override func begin() {
        do {
            timer = try PreciseTimer(loop: context.loop) { [unowned self] in self.sendDue() }
        } catch {
            // Without the precise timer the sweep tick (10 ms) still sends what is due.
            timer = nil
        }
        opener = LoopTimer(loop: context.loop) { [unowned self] in
            self.openerArmed = false
            self.openForQueue()
        }
        armNext()
    }

    private func armNext() {
        guard !scheduleDone else { return }
        if next >= arrivals.count {
            scheduleDone = true
            return
        }
        timer?.arm(atNanos: plan.originNanos + arrivals[next].offsetNanos)
    }

    /// Sends every request whose intended time has come.
    private func sendDue() {
        let now = MonotonicClock.nowNanos()
        while next < arrivals.count && !stopping {
            let intended = plan.originNanos + arrivals[next].offsetNanos
            if intended > now { break }
            if plan.deadlineNanos > 0 && intended >= plan.deadlineNanos {
                next = arrivals.count  // --duration: the rest of the schedule is not sent
                break
            }
            dispatch(arrivals[next].index, intended: intended)
            next += 1
        }
        armNext()
        finishIfDone()
    }

    private func dispatch(_ index: Int, intended: UInt64) {
        if queueHead == queue.count, let c = connectionWithSlot() {
            send(index, on: c, intendedNanos: intended)
            if c.availableSlots == 0 { unpoolLast() }
            return
        }
        queue.append((index, intended))  // behind those already waiting, in arrival order
        if !openerArmed, let opener {
            openerArmed = true
            opener.start(timeoutMillis: 0)
        }
    }

    /// Opens connections (up to the cap) for the requests still queued, `--max-streams` per HTTP/2 connection:
    /// after a loop turn that left requests without a connection, for requests handed back, and to replace a
    /// closed connection.
    private func openForQueue() {
        while queueHead < queue.count && (cap == 0 || openConnections < cap) {
            var batch: [(Int, UInt64)] = []
            while batch.count < slotsPerConnection, let item = popQueued() { batch.append((item.index, item.intended)) }
            guard let c = openConnection(sending: batch) else { continue }
            if c.availableSlots > 0 { pool(c) }
        }
        finishIfDone()
    }

    /// The last pooled connection with a free slot. Pooled ones that filled up or closed are dropped when
    /// they come up here, so nothing scans the pool on every completion or close (thousands of connections).
    private func connectionWithSlot() -> (any ClientConnection)? {
        while let c = idle.last {
            if c.availableSlots > 0 && c.state != .closing && connections[ObjectIdentifier(c)] != nil { return c }
            unpoolLast()
        }
        return nil
    }

    /// Adds `c` to the pool unless it is there already (a set, not a scan). The pool's strong reference keeps
    /// a closed connection's identity from being reused while it is listed.
    private func pool(_ c: any ClientConnection) {
        if pooled.insert(ObjectIdentifier(c)).inserted { idle.append(c) }
    }

    private func unpoolLast() {
        if let c = idle.popLast() { pooled.remove(ObjectIdentifier(c)) }
    }

    private func closeUnused() {
        let unused = idle.filter { $0.inFlight == 0 }
        idle.removeAll { $0.inFlight == 0 }
        pooled = Set(idle.map { ObjectIdentifier($0) })
        for c in unused where c.state != .closing { c.close(reason: "idle") }
    }

    /// A loop turn that reads many sockets can run past the next due time before the timerfd's own event is
    /// handled: each connection that comes free also sends whatever has come due (one clock read).
    private func sendDueIfLate() {
        if next < arrivals.count && !stopping && plan.originNanos + arrivals[next].offsetNanos <= MonotonicClock.nowNanos() {
            sendDue()
        }
    }

    private func popQueued() -> (index: Int, intended: UInt64)? {
        guard queueHead < queue.count else { return nil }
        let item = queue[queueHead]
        queueHead += 1
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        }
        return item
    }

    override func onTick(now: UInt64) {
        if timer == nil { sendDue() }
    }

    override func onStop() {
        scheduleDone = true
        next = arrivals.count
        queue.removeAll()
        queueHead = 0
        closeUnused()
    }

    override var workDone: Bool { (scheduleDone || next >= arrivals.count) && queueHead == queue.count }

    override func connectionIsIdle(_ connection: any ClientConnection) {
        while connection.availableSlots > 0, let (index, intended) = popQueued() {
            send(index, on: connection, intendedNanos: intended)
        }
        if connection.availableSlots == 0 { return }
        if workDone && connection.inFlight == 0 {
            connection.close(reason: "idle")  // a pool entry for it is dropped when it comes up
        } else {
            pool(connection)
            sendDueIfLate()
        }
    }

    override func connection(_ connection: any ClientConnection, didLoseRequest requestIndex: Int, intendedNanos: UInt64) {
        super.connection(connection, didLoseRequest: requestIndex, intendedNanos: intendedNanos)
        // Resent first, still measured from its intended time.
        queue.insert((requestIndex, intendedNanos), at: queueHead)
        // An HTTP/2 connection hands back what exceeds the server's stream limit and stays open; a closing one
        // is replaced once closed (`connectionClosed`).
        if connection.state != .closing { openForQueue() }
    }

    override func connectionClosed() {
        openForQueue()
        if workDone { closeUnused() }
    }

    override func onFinish() {
        timer?.close()
        timer = nil
        opener?.close()
        opener = nil
    }

    @discardableResult
    override func finishIfDone() -> Bool {
        if workDone && !idle.isEmpty && idle.contains(where: { $0.inFlight == 0 }) { closeUnused() }
        return super.finishIfDone()
    }
}
