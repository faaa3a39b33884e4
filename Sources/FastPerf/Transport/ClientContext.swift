internal import CUV

/// Per-loop state shared by that loop's client connections: the read buffer every `read_cb` fills (the bytes
/// are parsed before the callback returns, so one buffer serves every connection of the loop), the request
/// arena, the server address and the timeouts. Loop thread only.
final class ClientContext {
    /// The libuv loop the connections live on.
    let loop: EventLoop
    /// Which loop thread this is (0-based), stored with every record.
    let loopID: Int
    let address: SocketAddress
    let arena: RequestArena
    /// Timeouts in ns; 0 = none (`--connect-timeout`, `--read-timeout`, `--total-timeout`).
    let connectTimeoutNanos: UInt64
    let readTimeoutNanos: UInt64
    let totalTimeoutNanos: UInt64
    /// Keep response payloads in `RequestRecord.payload` (non-SSE bodies are capped at `maxBodyBytes`).
    let maxBodyBytes: Int
    /// An SSE response whose body (`RequestRecord.bodyBytes`, after de-chunking) grows past this many bytes fails
    /// as a `protocol_error` and its connection (HTTP/1.1) or stream (HTTP/2) is closed: one endless stream cannot
    /// take all memory (its `payload` holds at most twice this: the body, and the event data the SSE parser
    /// assembled from several lines or reads), and event offsets (`UInt32`) stay exact. 1 GiB: about 5 million
    /// tokens of OpenAI chunks.
    let maxStreamBodyBytes: Int
    /// Read buffer for every `alloc_cb` of this loop, in bytes.
    let readBuffer: UnsafeMutableRawBufferPointer
    /// Next connection id handed out on this loop; ids are `loopID << 32 | n`, unique within a run.
    private var nextConnection = 0
    /// Connections currently open (live handles), for leak checks in tests.
    var liveConnections = 0
    /// Connections that could not be opened because no file descriptor was left (open-files limit).
    var connectionsOverFDLimit = 0

    /// HTTPS: the client TLS context and the name sent as SNI and checked against the certificate.
    var tls: TLSContext?
    var serverName: String?

    init(loop: EventLoop, loopID: Int, address: SocketAddress, arena: RequestArena,
         connectTimeoutNanos: UInt64, readTimeoutNanos: UInt64, totalTimeoutNanos: UInt64,
         maxBodyBytes: Int = 16 << 20, maxStreamBodyBytes: Int = 1 << 30, readBufferBytes: Int = 256 << 10) {
        self.loop = loop
        self.loopID = loopID
        self.address = address
        self.arena = arena
        self.connectTimeoutNanos = connectTimeoutNanos
        self.readTimeoutNanos = readTimeoutNanos
        self.totalTimeoutNanos = totalTimeoutNanos
        self.maxBodyBytes = maxBodyBytes
        self.maxStreamBodyBytes = maxStreamBodyBytes
        self.readBuffer = .allocate(byteCount: readBufferBytes, alignment: 64)
    }

    deinit { readBuffer.deallocate() }

    /// The error text of an SSE response over `maxStreamBodyBytes`.
    var streamTooLargeError: String {
        "streamed response too large: over \(maxStreamBodyBytes) bytes of SSE body (closed)"
    }

    func makeConnectionID() -> Int {
        nextConnection += 1
        return loopID << 32 | nextConnection
    }
}
