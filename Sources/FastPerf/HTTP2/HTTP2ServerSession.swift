/// The server side of one HTTP/2 connection of the mock server (h2c with prior knowledge, or h2 after ALPN):
/// an nghttp2 server session fed by the connection's reads, whose output goes out through the connection's
/// writes. Each stream's request becomes an `HTTP1Request` (pseudo-headers mapped to method and target) handed
/// to `onRequest` with an `HTTP2ResponseStream`, to which the mock server writes the same HTTP/1.1 response
/// bytes it writes on an HTTP/1.1 connection; the stream turns them into HEADERS and DATA frames
/// (RFC 9113 §8.1), so every API format and timing of the mock server works on both protocols. Loop thread only.
final class HTTP2ServerSession: NGHTTP2SessionDelegate {
    private final class Incoming {
        var method = ""
        var path = ""
        var headers: [(name: String, value: String)] = []
        var body: [UInt8] = []
    }

    private unowned let connection: ServerConnection
    private var session: NGHTTP2Session!
    private var incoming: [Int32: Incoming] = [:]
    private var responses: [Int32: HTTP2ResponseStream] = [:]
    private let onRequest: (HTTP1Request, HTTP2ResponseStream) -> Void
    private var receiving = false

    /// - Parameters:
    ///   - maxConcurrentStreams: SETTINGS_MAX_CONCURRENT_STREAMS advertised to the client (RFC 9113 §6.5.2).
    ///   - onRequest: called once per complete request (END_STREAM received).
    init(connection: ServerConnection, maxConcurrentStreams: UInt32,
         onRequest: @escaping (HTTP1Request, HTTP2ResponseStream) -> Void) {
        self.connection = connection
        self.onRequest = onRequest
        session = NGHTTP2Session(role: .server, delegate: self, maxConcurrentStreams: maxConcurrentStreams)
    }

    /// Feeds bytes read from the connection; a protocol error closes it.
    func receive(_ bytes: UnsafeRawBufferPointer) {
        receiving = true
        let error = session.receive(bytes)
        receiving = false
        if error != nil {
            flush()
            connection.close()
            return
        }
        flush()
    }

    /// Writes what nghttp2 has queued.
    func flush() {
        guard !receiving, !connection.isClosing else { return }
        var out: [UInt8] = []
        if session.drainOutput(into: &out, limit: Int.max) != nil {
            connection.close()
            return
        }
        if !out.isEmpty { connection.write(out) }
    }

    /// The TCP connection closed: every stream still answering is abandoned.
    func connectionDidClose() {
        let open = responses.values
        responses.removeAll()
        for r in open { r.abandon() }
    }

    fileprivate func submitResponse(_ stream: Int32, status: Int, contentType: String) {
        session.submitResponse(stream: stream, headers: [(":status", String(status)), ("content-type", contentType)])
    }

    fileprivate func appendBody(_ stream: Int32, _ bytes: [UInt8], end: Bool) {
        session.appendBody(stream: stream, bytes, end: end)
        flush()
    }

    fileprivate func reset(_ stream: Int32) {
        session.resetStream(stream, errorCode: 2)  // INTERNAL_ERROR
        flush()
    }

    // MARK: NGHTTP2SessionDelegate

    func http2(stream streamID: Int32, header name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        let request = incoming[streamID] ?? Incoming()
        incoming[streamID] = request
        let n = String(decoding: name, as: UTF8.self)
        let v = String(decoding: value, as: UTF8.self)
        switch n {
        case ":method": request.method = v
        case ":path": request.path = v
        case ":authority": request.headers.append(("host", v))
        default: if !n.hasPrefix(":") { request.headers.append((n, v)) }
        }
    }

    func http2(streamHeadersComplete streamID: Int32, endStream: Bool) {
        if endStream { complete(streamID) }
    }

    func http2(stream streamID: Int32, data: UnsafeRawBufferPointer) {
        incoming[streamID]?.body.append(contentsOf: data)
    }

    func http2(streamDataEnded streamID: Int32) { complete(streamID) }

    func http2(streamClosed streamID: Int32, errorCode: UInt32) {
        incoming[streamID] = nil
        responses.removeValue(forKey: streamID)?.abandon()
    }

    func http2(goAwayLastStream lastStreamID: Int32, errorCode: UInt32) {}

    private func complete(_ streamID: Int32) {
        guard let r = incoming.removeValue(forKey: streamID) else { return }
        let request = HTTP1Request(method: r.method, target: r.path, headers: r.headers, body: r.body, keepAlive: true,
                                   versionMajor: 2, versionMinor: 0)
        let stream = HTTP2ResponseStream(session: self, streamID: streamID)
        responses[streamID] = stream
        onRequest(request, stream)
    }
}

/// One HTTP/2 stream's response as the mock server writes it: HTTP/1.1 response bytes (status line, fields,
/// Content-Length or chunked body) are parsed back and sent as HEADERS (`:status`, `content-type`) and DATA,
/// END_STREAM at the end of the HTTP/1.1 body.
final class HTTP2ResponseStream: MockWire {
    private weak var session: HTTP2ServerSession?
    private let streamID: Int32
    private var parser = HTTP1ResponseParser()
    private(set) var isClosing = false
    /// Called once when the stream is gone (reset by the client, or the connection closed).
    var onAbandon: (() -> Void)?

    fileprivate init(session: HTTP2ServerSession, streamID: Int32) {
        self.session = session
        self.streamID = streamID
    }

    fileprivate func abandon() {
        guard !isClosing else { return }
        isClosing = true
        let f = onAbandon
        onAbandon = nil
        f?()
    }

    func write(_ bytes: [UInt8], closeAfter: Bool) {
        guard !isClosing, let session else { return }
        var failed = false
        bytes.withUnsafeBytes { raw in
            do {
                try parser.parse(raw) { event in
                    switch event {
                    case .head(let head):
                        session.submitResponse(streamID, status: head.status, contentType: head.contentType)
                    case .body(let chunk):
                        session.appendBody(streamID, Array(chunk), end: false)
                    case .end:
                        session.appendBody(streamID, [], end: true)
                        isClosing = true
                    }
                }
            } catch {
                failed = true
            }
        }
        if failed { close() }
    }

    func close() {
        guard !isClosing else { return }
        isClosing = true
        session?.reset(streamID)
    }
}
