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
