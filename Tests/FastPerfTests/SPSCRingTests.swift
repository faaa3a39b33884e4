import Testing
@testable import FastPerf

/// The ring between a loop thread and the writer: FIFO, bounded, and safe across two threads (this suite also
/// runs under `swift test --sanitize=thread`).
struct SPSCRingTests {
    @Test func fifoAndFullAndEmpty() {
        let ring = SPSCRing<Int>(capacity: 4)
        #expect(ring.pop() == nil)
        for i in 0..<4 { #expect(ring.push(i)) }
        #expect(!ring.push(99), "a full ring refuses and keeps nothing")
        #expect(ring.pop() == 0)
        #expect(ring.push(4))
        #expect((0..<4).map { _ in ring.pop() } == [1, 2, 3, 4])
        #expect(ring.pop() == nil)
    }

    /// One million records from a producer thread arrive once each, in order; the consumer sees every value.
    @Test(.timeLimit(.minutes(1))) func millionItemsAcrossThreads() throws {
        let ring = SPSCRing<RequestRecord>(capacity: 1024)
        let n = 1_000_000
        let producer = try OSThread(name: "ring-test") {
            var i = 0
            while i < n {
                var r = RequestRecord(requestIndex: i, loopID: 0, connectionID: 0)
                r.bodyBytes = i &* 7
                if ring.push(r) { i += 1 }
            }
        }
        var expected = 0
        var spins = 0
        while expected < n {
            if let r = ring.pop() {
                if r.requestIndex != expected || r.bodyBytes != expected &* 7 { break }
                expected += 1
            } else {
                spins += 1
            }
        }
        producer.join()
        #expect(expected == n)
        #expect(ring.pop() == nil)
    }
}
