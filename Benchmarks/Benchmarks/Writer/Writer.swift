// The writer thread's work per finished request: parse the response (OpenAI plugin), compute the metrics,
// encode the row and INSERT it in batched transactions, for --db-store full and metrics.
import Benchmark
@_spi(Benchmarks) import FastPerf

func sseBody(tokens: Int) -> [UInt8] {
    let base = #""id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-model""#
    var s = "data: {\(base),\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n"
    for i in 0..<tokens {
        s += "data: {\(base),\"choices\":[{\"index\":0,\"delta\":{\"content\":\" tok\(i)\"},\"finish_reason\":null}]}\n\n"
    }
    s += "data: {\(base),\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}\n\n"
    s += "data: {\(base),\"choices\":[],\"usage\":{\"prompt_tokens\":32,\"completion_tokens\":\(tokens),\"total_tokens\":\(32 + tokens)}}\n\n"
    s += "data: [DONE]\n\n"
    return Array(s.utf8)
}

let benchmarks: @Sendable () -> Void = {
    let record = makeStreamRecord(sseBody: sseBody(tokens: 64))
    let request = APIRequest(body: Array(#"{"model":"bench-model","messages":[{"role":"user","content":"hi"}],"stream":true}"#.utf8),
                             isStream: true)
    let config = Benchmark.Configuration(metrics: [.wallClock, .throughput, .mallocCountTotal],
                                         scalingFactor: .kilo, maxDuration: .seconds(3))
    // One iteration = one 64-token streamed response written as one row: throughput = rows/s.
    for store in ["full", "metrics"] {
        Benchmark("Writer row, 64-token stream, --db-store \(store)", configuration: config) { b in
            let w = try! WriterWorkload(request: request, storePayloads: store == "full")
            for _ in b.scaledIterations { try! w.write(record) }
            try! w.finish()
        }
    }
}
