internal import CUV

/// What a server connection reports to the code that serves it. Loop thread only.
protocol ServerConnectionDelegate: AnyObject {
    /// A complete request arrived (several in order when pipelined).
    func connection(_ connection: ServerConnection, didReceive request: HTTP1Request)
    /// The request bytes could not be parsed; the connection should answer 400 and close.
    func connection(_ connection: ServerConnection, didFailToParse error: HTTP1ParseError)
    /// The handle is closed; no further calls.
    func connectionDidClose(_ connection: ServerConnection)
}

/// A listening TCP socket on a loop; each accepted connection becomes a `ServerConnection` whose delegate
/// `makeDelegate` returns.
final class TCPListener {
    private let handle: UnsafeMutablePointer<uv_tcp_t>
    private let loop: EventLoop
    private let makeDelegate: (ServerConnection) -> ServerConnectionDelegate
    private var closing = false
    /// The bound port (useful when 0 was asked for).
    var port: Int { boundPort }
    private var boundPort = 0

    /// Binds `host:port` (port 0 = any free port) and listens. Throws `FastPerfError` with the reason.
    /// HTTPS: accepted connections speak TLS with this server context (nil: plain TCP).
    private let tls: TLSContext?

    init(loop: EventLoop, host: String, port: Int, backlog: Int32 = 4096, tls: TLSContext? = nil,
         makeDelegate: @escaping (ServerConnection) -> ServerConnectionDelegate) throws {
        self.loop = loop
        self.tls = tls
        self.makeDelegate = makeDelegate
        handle = .allocate(capacity: 1)
        uv_tcp_init(loop.raw, handle)
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        let address: SocketAddress
        do { address = try SocketAddress.resolve(host: host, port: port) } catch {
            close()
            throw error
        }
        var rc = address.withSockAddr { uv_tcp_bind(handle, $0, 0) }
        if rc == 0 {
            rc = uv_listen(cuv_tcp_as_stream(handle), backlog) { server, status in
                guard status == 0 else { return }
                let me = Unmanaged<TCPListener>.fromOpaque(server!.pointee.data).takeUnretainedValue()
                me.accept()
            }
        }
        if rc != 0 {
            close()
            throw FastPerfError("cannot listen on \(address): \(UVError(code: rc))")
        }
        var storage = sockaddr_storage()
        var len = Int32(MemoryLayout<sockaddr_storage>.size)
        // sin_port and sin6_port sit at the same offset, so the IPv4 view reads either family's port.
        boundPort = withUnsafeMutablePointer(to: &storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = uv_tcp_getsockname(handle, $0, &len) }
            return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
    }

    deinit { handle.deallocate() }

    private func accept() {
        do {
            let connection = try ServerConnection(loop: loop)
            if let tls { connection.tls = try TLSSession(context: tls, host: nil) }
            if uv_accept(cuv_tcp_as_stream(handle), connection.stream) != 0 {
                connection.close()
                return
            }
            connection.delegate = makeDelegate(connection)
            connection.startReading()
        } catch {
            return
        }
    }

    func close() {
        guard !closing else { return }
        closing = true
        uv_close(cuv_tcp_as_handle(handle)) { h in
            let me = Unmanaged<TCPListener>.fromOpaque(h!.pointee.data).takeRetainedValue()
            h!.pointee.data = nil
            _ = me
        }
    }
}

/// One accepted HTTP/1.1 connection of the mock server: parses requests, writes responses.
final class ServerConnection {
    private let handle: UnsafeMutablePointer<uv_tcp_t>
    private var parser = HTTP1RequestParser()
    weak var delegate: ServerConnectionDelegate?
    /// Strong reference to the delegate until close (the connection owns the code serving it).
    private var retainedDelegate: ServerConnectionDelegate?
    private(set) var isClosing = false
    private var readBuffer: UnsafeMutableRawBufferPointer
    /// Set when the server accepts h2c: makes the HTTP/2 session for a connection that starts with the
    /// HTTP/2 connection preface (RFC 9113 §3.4).
    var makeHTTP2: ((ServerConnection) -> HTTP2ServerSession)?
    /// The HTTP/2 session once the connection speaks HTTP/2 (h2c preface, or ALPN h2).
    var http2: HTTP2ServerSession?
    private var sawBytes = false
    private static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    fileprivate var stream: UnsafeMutablePointer<uv_stream_t> { cuv_tcp_as_stream(handle) }

    fileprivate init(loop: EventLoop) throws {
        handle = .allocate(capacity: 1)
        readBuffer = .allocate(byteCount: 64 << 10, alignment: 16)
        let rc = uv_tcp_init(loop.raw, handle)
        if rc != 0 {
            handle.deallocate()
            readBuffer.deallocate()
            throw UVError(code: rc)
        }
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        uv_tcp_nodelay(handle, 1)
    }

    deinit {
        handle.deallocate()
        readBuffer.deallocate()
    }

    fileprivate func startReading() {
        retainedDelegate = delegate
        uv_read_start(stream, { h, _, buf in
            let me = Unmanaged<ServerConnection>.fromOpaque(h!.pointee.data).takeUnretainedValue()
            buf!.pointee = uv_buf_init(me.readBuffer.baseAddress!.assumingMemoryBound(to: CChar.self),
                                       UInt32(me.readBuffer.count))
        }, { s, nread, buf in
            let me = Unmanaged<ServerConnection>.fromOpaque(s!.pointee.data).takeUnretainedValue()
            if nread > 0 {
                me.didRead(UnsafeRawBufferPointer(start: buf!.pointee.base, count: nread))
            } else if nread < 0 {
                me.close()
            }
        })
    }

    /// HTTPS: the connection's TLS session; reads are decrypted before parsing, writes encrypted.
    fileprivate var tls: TLSSession?

    private func didRead(_ bytes: UnsafeRawBufferPointer) {
        guard let tls else { return didReadPlain(bytes) }
        let status = tls.receive(bytes) { plain in didReadPlain(plain) }
        if status == .handshakeDone, !sawBytes, let make = makeHTTP2, tls.negotiatedProtocol == "h2" {
            // h2 by ALPN: the server's connection preface (its SETTINGS, RFC 9113 §3.4) leaves now, in the same
            // write as the handshake's last records, as nginx sends it, not after the client's preface.
            sawBytes = true
            http2 = make(self)
            http2?.flush()
        }
        flushTLS(closeAfter: false)
        switch status {
        case .failed, .closed: close()
        case .handshaking, .handshakeDone, .open: break
        }
    }

    /// Writes the ciphertext the TLS session has produced (handshake records, encrypted responses).
    private func flushTLS(closeAfter: Bool) {
        var out: [UInt8] = []
        tls?.takeOutput(into: &out)
        if !out.isEmpty || closeAfter { writeRaw(out, closeAfter: closeAfter) }
    }

    private func didReadPlain(_ bytes: UnsafeRawBufferPointer) {
        if !sawBytes {
            sawBytes = true
            if let make = makeHTTP2, bytes.starts(with: Self.preface.prefix(min(bytes.count, Self.preface.count))) {
                http2 = make(self)
            }
        }
        if let http2 {
            http2.receive(bytes)
            return
        }
        let requests: [HTTP1Request]
        do { requests = try parser.parse(bytes) } catch {
            delegate?.connection(self, didFailToParse: error)
            return
        }
        for r in requests where !isClosing { delegate?.connection(self, didReceive: r) }
    }

    /// A write request that owns its bytes until libuv's callback.
    private final class PendingWrite {
        let bytes: [UInt8]
        let request = UnsafeMutablePointer<uv_write_t>.allocate(capacity: 1)
        let closeAfter: Bool
        init(_ bytes: [UInt8], closeAfter: Bool) {
            self.bytes = bytes
            self.closeAfter = closeAfter
        }
        deinit { request.deallocate() }
    }

    /// Queues `bytes` for sending (encrypted first on a TLS connection); closes afterwards when `closeAfter`.
    func write(_ bytes: [UInt8], closeAfter: Bool = false) {
        guard !isClosing else { return }
        guard let tls else { return writeRaw(bytes, closeAfter: closeAfter) }
        let status = bytes.withUnsafeBytes { tls.send($0) }
        if case .failed = status { return close() }
        flushTLS(closeAfter: closeAfter)
    }

    /// Queues bytes as they are (tries a direct write first); closes afterwards when `closeAfter`.
    private func writeRaw(_ bytes: [UInt8], closeAfter: Bool) {
        guard !isClosing else { return }
        var sent = 0
        if !hasPendingWrites {
            sent = bytes.withUnsafeBytes { raw -> Int in
                var buf = uv_buf_t(base: UnsafeMutablePointer(mutating: raw.baseAddress!.assumingMemoryBound(to: CChar.self)),
                                   len: raw.count)
                let n = uv_try_write(stream, &buf, 1)
                return n > 0 ? Int(n) : 0
            }
        }
        if sent == bytes.count {
            if closeAfter { close() }
            return
        }
        let pending = PendingWrite(Array(bytes[sent...]), closeAfter: closeAfter)
        pendingWrites += 1
        pending.request.pointee.data = Unmanaged.passRetained(pending).toOpaque()
        let rc = pending.bytes.withUnsafeBytes { raw -> Int32 in
            // The array's storage is kept alive by `pending` until the callback; its address is stable.
            var buf = uv_buf_t(base: UnsafeMutablePointer(mutating: raw.baseAddress!.assumingMemoryBound(to: CChar.self)),
                               len: raw.count)
            return uv_write(pending.request, stream, &buf, 1) { req, status in
                let pending = Unmanaged<PendingWrite>.fromOpaque(req!.pointee.data).takeRetainedValue()
                let conn = Unmanaged<ServerConnection>.fromOpaque(req!.pointee.handle.pointee.data).takeUnretainedValue()
                conn.pendingWrites -= 1
                if status < 0 || pending.closeAfter { conn.close() }
            }
        }
        if rc != 0 {
            Unmanaged<PendingWrite>.fromOpaque(pending.request.pointee.data).release()
            pendingWrites -= 1
            close()
        }
    }

    private var pendingWrites = 0
    private var hasPendingWrites: Bool { pendingWrites > 0 }

    func close() {
        guard !isClosing else { return }
        isClosing = true
        uv_close(cuv_tcp_as_handle(handle)) { h in
            let me = Unmanaged<ServerConnection>.fromOpaque(h!.pointee.data).takeRetainedValue()
            h!.pointee.data = nil
            me.http2?.connectionDidClose()
            me.http2 = nil
            me.makeHTTP2 = nil
            me.delegate?.connectionDidClose(me)
            me.retainedDelegate = nil
        }
    }
}
