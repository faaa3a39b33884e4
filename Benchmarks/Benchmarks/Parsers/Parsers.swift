// SSE and HTTP/1.1 response parsing: throughput and allocations per event / per response.
import Benchmark
@_spi(Benchmarks) import FastPerf

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
    let body = benchmarkChatStream(tokens: 64)  // 68 events
    let events = 68
    let config = Benchmark.Configuration(metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
                                         scalingFactor: .one, maxDuration: .seconds(3))

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
