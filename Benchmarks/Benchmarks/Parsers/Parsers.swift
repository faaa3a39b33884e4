// SSE and HTTP/1.1 response parsing: throughput and allocations per event / per response.
import Benchmark
@_spi(Benchmarks) import FastPerf

/// A chat-completions stream like the nginx peer's (../shared/bench/make_sse.py): a role chunk, `tokens`
/// one-token content chunks, a finish chunk, a usage chunk and [DONE].
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

func chunked(_ body: [UInt8], chunkSize: Int) -> [UInt8] {
    var out = Array("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
    var i = 0
    while i < body.count {
        let n = min(chunkSize, body.count - i)
        out += Array((String(n, radix: 16) + "\r\n").utf8) + body[i..<i + n] + [13, 10]
        i += n
    }
    return out + Array("0\r\n\r\n".utf8)
}

let benchmarks: @Sendable () -> Void = {
    let body = sseBody(tokens: 64)  // 67 events
    let events = 67
    let config = Benchmark.Configuration(metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
                                         scalingFactor: .kilo, maxDuration: .seconds(3))

    // One iteration = one 64-token response; throughput ×67 = events/s, ×bytes = bytes/s.
    Benchmark("SSEParser 64-token stream, 16 KiB reads (\(body.count) B, \(events) events)", configuration: config) { b in
        let w = SSEParsingWorkload(body: body, readSize: 16384)
        for _ in b.scaledIterations { blackHole(w.run()) }
    }
    Benchmark("SSEParser 64-token stream, 64 B reads", configuration: config) { b in
        let w = SSEParsingWorkload(body: body, readSize: 64)
        for _ in b.scaledIterations { blackHole(w.run()) }
    }

    let contentLength = Array("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
    Benchmark("HTTP1ResponseParser Content-Length response, 16 KiB reads", configuration: config) { b in
        let w = HTTP1ParsingWorkload(response: contentLength, readSize: 16384)
        for _ in b.scaledIterations { blackHole(w.run()) }
    }
    let chunkedResponse = chunked(body, chunkSize: 180)
    Benchmark("HTTP1ResponseParser chunked response (one chunk per event), 16 KiB reads", configuration: config) { b in
        let w = HTTP1ParsingWorkload(response: chunkedResponse, readSize: 16384)
        for _ in b.scaledIterations { blackHole(w.run()) }
    }
}
