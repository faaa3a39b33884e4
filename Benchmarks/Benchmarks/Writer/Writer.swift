// The writer thread's work per finished request: parse the response (OpenAI plugin), compute the metrics,
// encode the row and INSERT it in batched transactions, for --db-store full and metrics.
import Benchmark
@_spi(Benchmarks) import FastPerf

let benchmarks: @Sendable () -> Void = {
    let record = makeStreamRecord(sseBody: benchmarkChatStream(tokens: 64))
    let request = APIRequest(body: Array(#"{"model":"bench-model","messages":[{"role":"user","content":"hi"}],"stream":true}"#.utf8),
                             isStream: true)
    let config = Benchmark.Configuration(metrics: [.wallClock, .throughput, .mallocCountTotal],
                                         scalingFactor: .kilo, maxDuration: .seconds(3))
    // One scaled iteration = one 64-token streamed response written as one row (1,000 per sample, into one new
    // database, so creating it is spread over them): throughput (K) = thousands of rows/s, time and mallocs per
    // row.
    for store in ["full", "metrics"] {
        Benchmark("Writer row, 64-token stream, --db-store \(store)", configuration: config) { b in
            let w = try! WriterWorkload(request: request, storePayloads: store == "full")
            for _ in b.scaledIterations { try! w.write(record) }
            try! w.finish()
        }
    }
}
