/// A reusable SSE parsing workload for the micro benchmarks in `Benchmarks/` (not used by FastPerf itself).
/// `run()` feeds `body` in reads of `readSize` bytes to one parser, reset first, and returns the events seen;
/// everything it needs is allocated in `init`, so the allocations a benchmark counts in `run()` are the
/// parser's own.
@_spi(Benchmarks)
public final class SSEParsingWorkload {
    private var parser = SSEParser()
    private let body: [UInt8]
    private let readSize: Int
    /// Data bytes of the events seen by the last `run()`.
    public private(set) var lastDataBytes = 0
    /// Bytes of SSE body per `run()`.
    public var byteCount: Int { body.count }

    public init(body: [UInt8], readSize: Int) {
        self.body = body
        self.readSize = max(1, readSize)
    }

    /// Parses the whole body once; returns the number of events dispatched.
    public func run() -> Int {
        parser.reset()
        var events = 0
        var dataBytes = 0
        body.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let end = min(offset + readSize, raw.count)
                parser.feed(UnsafeRawBufferPointer(rebasing: raw[offset..<end])) { event in
                    events += 1
                    dataBytes &+= event.data.count
                }
                offset = end
            }
        }
        lastDataBytes = dataBytes
        return events
    }
}

/// A chat-completions stream like the nginx benchmark peer's (`../shared/bench/make_sse.py`): a role chunk,
/// `tokens` one-token content chunks, a finish chunk, a usage chunk and `[DONE]` (`tokens` + 4 events).
@_spi(Benchmarks)
public func benchmarkChatStream(tokens: Int) -> [UInt8] {
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
