// The SPSC ring between a loop thread and the writer: records per second across two threads.
import Benchmark
@_spi(Benchmarks) import FastPerf

let benchmarks: @Sendable () -> Void = {
    var record = RequestRecord(requestIndex: 0, loopID: 0, connectionID: 1)
    record.payload = Array(repeating: 0x61, count: 12_000)
    let config = Benchmark.Configuration(metrics: [.wallClock, .throughput, .mallocCountTotal],
                                         scalingFactor: .one, maxDuration: .seconds(3))
    // One iteration = 100,000 records moved from a producer thread to this thread.
    Benchmark("SPSCRing 100k records across threads", configuration: config) { b in
        for _ in b.scaledIterations { blackHole(RingWorkload.transfer(record, count: 100_000)) }
    }
}
