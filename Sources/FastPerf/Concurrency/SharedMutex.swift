import Synchronization

/// A `Mutex` that threads share by reference: the results the loop and writer threads hand back to the thread that
/// runs a point. A `Mutex` captured directly by several `OSThread` closures is one boxed variable, and
/// ThreadSanitizer's exclusivity checks reported two loops' `withLock` on it as a race (each call begins a
/// modifying access of the box before the lock is held); through a class's `let`, no such access is made.
final class SharedMutex<Value: Sendable>: Sendable {
    let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    /// `Mutex.withLock`.
    func withLock<Result>(_ body: (inout sending Value) throws -> sending Result) rethrows -> sending Result {
        try mutex.withLock(body)
    }
}
