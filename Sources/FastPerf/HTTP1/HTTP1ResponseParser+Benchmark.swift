/// A reusable HTTP/1.1 response parsing workload for the micro benchmarks in `Benchmarks/`: `run()` parses
/// `response` (head and body, any framing) in reads of `readSize` bytes and returns the body bytes seen.
@_spi(Benchmarks)
public final class HTTP1ParsingWorkload {
    private var parser = HTTP1ResponseParser()
    private let response: [UInt8]
    private let readSize: Int
    /// Bytes per `run()`.
    public var byteCount: Int { response.count }

    public init(response: [UInt8], readSize: Int) {
        self.response = response
        self.readSize = max(1, readSize)
    }

    /// Parses the whole response once (a close-delimited body ends at the end of the bytes).
    /// Returns the body bytes delivered, or -1 when the bytes are not a valid response.
    public func run() -> Int {
        parser.reset()
        var bodyBytes = 0
        do {
            try response.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let end = min(offset + readSize, raw.count)
                    try parser.parse(UnsafeRawBufferPointer(rebasing: raw[offset..<end])) { event in
                        if case .body(let b) = event { bodyBytes += b.count }
                    }
                    offset = end
                }
            }
            if !parser.isComplete { _ = try parser.finish { _ in } }
        } catch {
            return -1
        }
        return bodyBytes
    }
}
