import Synchronization

/// A bounded lock-free single-producer single-consumer ring (Lamport queue) of `capacity` slots, a power of two.
///
/// Thread contract (why it is `@unchecked Sendable`): `push` is called from exactly one producer thread (a loop
/// thread), `pop` from exactly one consumer thread (the writer). `tail` is written only by the producer and
/// `head` only by the consumer; a slot is written by the producer before the releasing store of `tail` and read
/// by the consumer after the acquiring load of it, so each element is owned by one thread at a time.
final class SPSCRing<Element>: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<Element?>
    private let mask: Int
    /// Next slot to pop; written by the consumer only.
    private let head = Atomic<Int>(0)
    /// Next slot to push; written by the producer only.
    private let tail = Atomic<Int>(0)

    /// - Parameter capacity: number of slots, a power of two greater than 0.
    init(capacity: Int) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0, "ring capacity must be a power of two")
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: nil, count: capacity)
        mask = capacity - 1
    }

    /// Number of slots.
    var capacity: Int { mask + 1 }

    deinit {
        slots.deinitialize(count: mask + 1)
        slots.deallocate()
    }

    /// Producer only. Returns false (and keeps nothing) when the ring is full; the caller keeps the element.
    func push(_ element: consuming Element) -> Bool {
        let t = tail.load(ordering: .relaxed)
        if t - head.load(ordering: .acquiring) > mask { return false }
        slots[t & mask] = element
        tail.store(t + 1, ordering: .releasing)
        return true
    }

    /// Consumer only. The oldest element, or nil when the ring is empty.
    func pop() -> Element? {
        let h = head.load(ordering: .relaxed)
        if h == tail.load(ordering: .acquiring) { return nil }
        let element = slots[h & mask].take()
        head.store(h + 1, ordering: .releasing)
        return element
    }
}
