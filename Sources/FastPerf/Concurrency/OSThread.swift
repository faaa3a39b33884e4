#if canImport(Glibc)
import Glibc
#endif
internal import CUV

/// A joinable POSIX thread running one closure. Loops and the writer run on these, never on Swift
/// concurrency tasks, because libuv objects must stay on the thread that created them.
final class OSThread: @unchecked Sendable {
    // Invariant: `thread` is written once in `init` on the creating thread and read by `join` on the same thread.
    private var thread = pthread_t()
    private var joined = false

    private final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Starts `body` on a new thread named `name` (truncated to 15 bytes), with nice value `nice` when it is not
    /// 0 (higher is a lower priority). Throws when the thread cannot be made.
    init(name: String, nice: Int32 = 0, _ body: @escaping @Sendable () -> Void) throws {
        let named: @Sendable () -> Void = {
            String(decoding: name.utf8.prefix(15), as: UTF8.self).withCString { cuv_set_thread_name($0) }
            if nice != 0 { _ = cuv_set_thread_nice(nice) }
            body()
        }
        let box = Unmanaged.passRetained(Box(named)).toOpaque()
        let rc = pthread_create(&thread, nil, { arg in
            let box = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        if rc != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            throw FastPerfError("cannot start thread \(name): error \(rc)")
        }
    }

    /// Waits for the thread to finish. Call once, from the thread that made it.
    func join() {
        guard !joined else { return }
        joined = true
        pthread_join(thread, nil)
    }
}
