/// The SPSC ring for the micro benchmarks in `Benchmarks/`: moves `count` records from a producer thread to
/// the calling thread, as a loop thread hands finished records to the writer.
@_spi(Benchmarks)
public enum RingWorkload {
    /// Pushes `count` copies of `record` from a new thread through a ring of `capacity` slots and pops them
    /// here. Returns the number popped (always `count`).
    public static func transfer(_ record: RequestRecord, count: Int, capacity: Int = 8192) -> Int {
        let ring = SPSCRing<RequestRecord>(capacity: capacity)
        let producer = try! OSThread(name: "ring-producer") {
            var sent = 0
            while sent < count {
                if ring.push(record) { sent += 1 }
            }
        }
        var received = 0
        while received < count {
            if ring.pop() != nil { received += 1 }
        }
        producer.join()
        return received
    }
}
