internal import CUV

/// A one-shot timer with nanosecond resolution on a libuv loop: a Linux timerfd on `CLOCK_MONOTONIC` (the
/// clock of `uv_hrtime`) watched by a `uv_poll_t`. libuv's own timers count whole milliseconds, which would
/// add up to 1 ms of send lag to every open-loop arrival; this one wakes the loop at the due time.
final class PreciseTimer {
    private let handle: UnsafeMutablePointer<uv_poll_t>
    private let fd: Int32
    private var callback: (() -> Void)?
    private var closing = false

    /// Throws `FastPerfError` when the timerfd or the poll handle cannot be made.
    init(loop: EventLoop, _ callback: @escaping () -> Void) throws {
        fd = cuv_timerfd_create()
        if fd < 0 { throw FastPerfError("cannot create a timerfd for the arrival schedule") }
        handle = .allocate(capacity: 1)
        let rc = uv_poll_init(loop.raw, handle, fd)
        if rc != 0 {
            cuv_close_fd(fd)
            handle.deallocate()
            throw FastPerfError("cannot watch the schedule timer: \(UVError(code: rc))")
        }
        self.callback = callback
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        uv_poll_start(handle, Int32(UV_READABLE.rawValue)) { h, status, _ in
            let me = Unmanaged<PreciseTimer>.fromOpaque(h!.pointee.data).takeUnretainedValue()
            cuv_timerfd_drain(me.fd)
            if status == 0 { me.callback?() }
        }
    }

    deinit { handle.deallocate() }

    /// Fires once at `uv_hrtime` time `nanos` (at once when that has passed).
    func arm(atNanos nanos: UInt64) {
        guard !closing else { return }
        _ = cuv_timerfd_arm(fd, nanos)
    }

    /// Stops watching and closes the timerfd once libuv is done with the handle.
    func close() {
        guard !closing else { return }
        closing = true
        callback = nil
        uv_close(cuv_poll_as_handle(handle)) { h in
            let me = Unmanaged<PreciseTimer>.fromOpaque(h!.pointee.data).takeRetainedValue()
            h!.pointee.data = nil
            cuv_close_fd(me.fd)
        }
    }
}
