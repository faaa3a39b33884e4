internal import CUV
#if canImport(Glibc)
import Glibc
#endif

/// One libuv loop, owned by the thread that runs it. Not `Sendable`: create, run and close it on one thread.
final class EventLoop {
    /// The libuv loop; its memory is owned here and freed in `deinit`.
    let raw: UnsafeMutablePointer<uv_loop_t>
    private var closed = false

    init() throws {
        raw = .allocate(capacity: 1)
        let rc = uv_loop_init(raw)
        if rc != 0 {
            raw.deallocate()
            throw FastPerfError("cannot create event loop: \(UVError(code: rc))")
        }
    }

    deinit {
        if !closed { _ = close() }
        raw.deallocate()
    }

    /// Runs until no active handles remain or `stop` is called.
    func run() { uv_run(raw, UV_RUN_DEFAULT) }

    /// Asks a running loop to return from `run` after this turn. Loop thread only.
    func stop() { uv_stop(raw) }

    /// Refreshes the loop's cached time (timers started next count from the real now).
    func updateTime() { uv_update_time(raw) }

    /// The loop's cached time in ms (libuv timers use it).
    var nowMillis: UInt64 { uv_now(raw) }

    /// Closes the loop. Returns libuv's status: 0 when every handle was closed first, `UV_EBUSY` otherwise.
    /// Runs the loop once with `UV_RUN_NOWAIT` first so that pending close callbacks finish.
    @discardableResult
    func close() -> Int32 {
        guard !closed else { return 0 }
        uv_run(raw, UV_RUN_NOWAIT)
        let rc = uv_loop_close(raw)
        if rc == 0 { closed = true }
        return rc
    }
}

/// A libuv timer whose callback is a Swift closure, run on the loop's thread.
/// The handle keeps the timer alive until its close callback (STYLE.md §D.2).
final class LoopTimer {
    private let handle: UnsafeMutablePointer<uv_timer_t>
    private var callback: (() -> Void)?
    private var closing = false

    init(loop: EventLoop, _ callback: @escaping () -> Void) {
        handle = .allocate(capacity: 1)
        uv_timer_init(loop.raw, handle)  // cannot fail for a valid loop
        self.callback = callback
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    deinit { handle.deallocate() }

    /// Fires after `timeoutMillis`, then every `repeatMillis` (0 = once).
    func start(timeoutMillis: UInt64, repeatMillis: UInt64 = 0) {
        guard !closing else { return }
        uv_timer_start(handle, { h in
            let me = Unmanaged<LoopTimer>.fromOpaque(h!.pointee.data).takeUnretainedValue()
            me.callback?()
        }, timeoutMillis, repeatMillis)
    }

    func stop() { uv_timer_stop(handle) }

    /// Stops the timer and releases it once libuv is done with the handle.
    func close() {
        guard !closing else { return }
        closing = true
        callback = nil
        uv_close(cuv_timer_as_handle(handle)) { h in
            let me = Unmanaged<LoopTimer>.fromOpaque(h!.pointee.data).takeRetainedValue()
            h!.pointee.data = nil
            _ = me
        }
    }
}

/// Wakes a loop from another thread (`uv_async_send` is the one libuv call documented as thread-safe).
/// `@unchecked Sendable`: only `wake` may be called off the loop thread; `close` runs on the loop thread.
final class LoopWaker: @unchecked Sendable {
    private let handle: UnsafeMutablePointer<uv_async_t>
    private var callback: (() -> Void)?

    init(loop: EventLoop, _ callback: @escaping () -> Void) throws {
        handle = .allocate(capacity: 1)
        let rc = uv_async_init(loop.raw, handle) { h in
            let me = Unmanaged<LoopWaker>.fromOpaque(h!.pointee.data).takeUnretainedValue()
            me.callback?()
        }
        if rc != 0 {
            handle.deallocate()
            throw FastPerfError("cannot create loop waker: \(UVError(code: rc))")
        }
        self.callback = callback
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    deinit { handle.deallocate() }

    /// Any thread. Coalesces: several wakes may run the callback once.
    func wake() { uv_async_send(handle) }

    /// Loop thread only.
    func close() {
        callback = nil
        uv_close(cuv_async_as_handle(handle)) { h in
            let me = Unmanaged<LoopWaker>.fromOpaque(h!.pointee.data).takeRetainedValue()
            h!.pointee.data = nil
            _ = me
        }
    }
}
