#if canImport(Glibc)
import Glibc
#endif

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

    /// Starts `body` on a new thread named `name` (truncated to 15 bytes). Throws when the thread cannot be made.
    init(name: String, _ body: @escaping @Sendable () -> Void) throws {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let rc = pthread_create(&thread, nil, { arg in
            let box = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        if rc != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            throw FastPerfError("cannot start thread \(name): error \(rc)")
        }
        _ = name  // thread names need pthread_setname_np, which Glibc does not export to Swift
    }

    /// Waits for the thread to finish. Call once, from the thread that made it.
    func join() {
        guard !joined else { return }
        joined = true
        pthread_join(thread, nil)
    }
}
