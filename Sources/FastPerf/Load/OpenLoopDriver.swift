/// Open-loop load on one loop thread: requests leave at their intended times from the arrival schedule,
/// whether or not earlier ones have finished (no coordinated omission). A nanosecond timer (`PreciseTimer`)
/// wakes the loop at the next due time and every request that is due is sent then, never one timer per
/// request. A request goes out on an idle keep-alive connection, or a new connection when none is idle; with a
/// connection cap (`--parallel` with `--rate`) it waits in a FIFO queue for one, and that wait is send lag,
/// which the corrected latencies (measured from the intended time) include.
final class OpenLoopDriver: LoopDriver {
    private let arrivals: [(index: Int, offsetNanos: UInt64)]
    private var next = 0
    private var idle: [HTTP1ClientConnection] = []
    /// Due requests waiting for a connection: (arena index, intended `uv_hrtime` ns).
    private var queue: [(index: Int, intended: UInt64)] = []
    private var queueHead = 0
    private var timer: PreciseTimer?
    /// The schedule is over (all sent or past `--duration`).
    private var scheduleDone = false

    override init(plan: LoopPlan, loop: EventLoop) {
        arrivals = plan.arrivals ?? []
        super.init(plan: plan, loop: loop)
    }

    private var cap: Int { plan.parallel }

    override func begin() {
        do {
            timer = try PreciseTimer(loop: context.loop) { [unowned self] in self.sendDue() }
        } catch {
            // Without the precise timer the sweep tick (10 ms) still sends what is due.
            timer = nil
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
        if queueHead < queue.count {
            queue.append((index, intended))  // keep arrival order behind those already waiting
        } else if let c = popIdle() {
            send(index, on: c, intendedNanos: intended)
        } else if cap == 0 || openConnections < cap {
            openConnection(sending: index, intendedNanos: intended)
        } else {
            queue.append((index, intended))
        }
    }

    /// The most recently idle connection that is still open and idle. Connections that closed while idle
    /// stay in the stack until they come up here (no scan of the stack on every close).
    private func popIdle() -> HTTP1ClientConnection? {
        while let c = idle.popLast() {
            if c.state == .idle && connections[ObjectIdentifier(c)] != nil { return c }
        }
        return nil
    }

    /// Closes every idle connection (the schedule is over).
    private func closeIdle() {
        let toClose = idle
        idle.removeAll()
        for c in toClose where c.state == .idle { c.close() }
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
        closeIdle()
    }

    override var workDone: Bool { (scheduleDone || next >= arrivals.count) && queueHead == queue.count }

    /// A loop turn that reads many sockets can run past the next due time before the timerfd's own event is
    /// handled: each connection that comes free also sends whatever has come due (one clock read).
    private func sendDueIfLate() {
        if next < arrivals.count && !stopping && plan.originNanos + arrivals[next].offsetNanos <= MonotonicClock.nowNanos() {
            sendDue()
        }
    }

    override func connectionIsIdle(_ connection: HTTP1ClientConnection) {
        if let (index, intended) = popQueued() {
            send(index, on: connection, intendedNanos: intended)
        } else if workDone {
            connection.close()
        } else {
            idle.append(connection)
            sendDueIfLate()
        }
    }

    override func connection(_ connection: HTTP1ClientConnection, didLoseRequest requestIndex: Int, intendedNanos: UInt64) {
        super.connection(connection, didLoseRequest: requestIndex, intendedNanos: intendedNanos)
        // Resent first, still measured from its intended time.
        queue.insert((requestIndex, intendedNanos), at: queueHead)
    }

    override func connectionClosed() {
        if let (index, intended) = popQueued() {
            openConnection(sending: index, intendedNanos: intended)
        }
        if workDone { closeIdle() }
    }

    override func onFinish() {
        timer?.close()
        timer = nil
    }

    override func finishIfDone() -> Bool {
        if workDone && !idle.isEmpty { closeIdle() }
        return super.finishIfDone()
    }
}
