internal import CUV

/// What every client connection shares below its protocol: the libuv TCP handle and its connect and write
/// requests, the connect itself, the read callbacks (one `uv_hrtime` per read, taken before any parsing),
/// the TLS session set-up for HTTPS and the close. `HTTP1ClientConnection` and `HTTP2ClientConnection`
/// subclass it and override the `transport…` hooks. Loop thread only.
///
/// Ownership (STYLE.md §D.2): the handle holds a +1 on the object from `init` until the close callback; the
/// connect and write requests borrow it.
class TCPClientTransport {
    /// Unique within the run (`ClientContext.makeConnectionID`).
    let id: Int
    let context: ClientContext
    let handle: UnsafeMutablePointer<uv_tcp_t>
    let connectRequest: UnsafeMutablePointer<uv_connect_t>
    /// The one write request a subclass may have in flight at a time.
    let writeRequest: UnsafeMutablePointer<uv_write_t>
    var state: ClientConnectionState = .connecting
    /// `uv_hrtime` of the connect call (the connect timeout covers the TLS handshake too), ns.
    let connectStartNanos: UInt64
    /// Set when libuv refused to start the connect: the handle is already closing and the connect callback
    /// will not run; requests given to the connection fail with this text.
    private(set) var connectError: String?

    /// Opens a TCP connection to `context.address`. Throws `UVError` when libuv cannot make the handle
    /// (nothing is left open then).
    init(context: ClientContext, id: Int) throws(UVError) {
        self.context = context
        self.id = id
        handle = .allocate(capacity: 1)
        connectRequest = .allocate(capacity: 1)
        writeRequest = .allocate(capacity: 1)
        connectStartNanos = uv_hrtime()
        let rc = uv_tcp_init(context.loop.raw, handle)
        if rc != 0 {
            handle.deallocate(); connectRequest.deallocate(); writeRequest.deallocate()
            throw UVError(code: rc)
        }
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        context.liveConnections += 1
        uv_tcp_nodelay(handle, 1)
        connectRequest.pointee.data = handle.pointee.data
        writeRequest.pointee.data = handle.pointee.data
        let crc = context.address.withSockAddr { addr in
            uv_tcp_connect(connectRequest, handle, addr) { req, status in
                TCPClientTransport.transport(req!.pointee.data).transportDidConnect(status: status)
            }
        }
        if crc != 0 {
            if UVError.isOutOfFileDescriptors(crc) { context.connectionsOverFDLimit += 1 }
            connectError = "connect to \(context.address) failed: \(UVError(code: crc))"
            state = .closing
            uv_close(cuv_tcp_as_handle(handle), TCPClientTransport.closeCallback)
        }
    }

    deinit {
        handle.deallocate()
        connectRequest.deallocate()
        writeRequest.deallocate()
    }

    @inline(__always) static func transport(_ p: UnsafeMutableRawPointer?) -> TCPClientTransport {
        Unmanaged<TCPClientTransport>.fromOpaque(p!).takeUnretainedValue()
    }

    private static let closeCallback: uv_close_cb = { h in
        let me = Unmanaged<TCPClientTransport>.fromOpaque(h!.pointee.data).takeRetainedValue()
        h!.pointee.data = nil
        me.context.liveConnections -= 1
        me.transportDidClose()
    }

    var stream: UnsafeMutablePointer<uv_stream_t> { cuv_tcp_as_stream(handle) }

    /// Starts reading into the loop's shared buffer; returns libuv's status.
    func startReading() -> Int32 {
        uv_read_start(stream, { h, _, buf in
            let me = TCPClientTransport.transport(h!.pointee.data)
            buf!.pointee = uv_buf_init(me.context.readBuffer.baseAddress!.assumingMemoryBound(to: CChar.self),
                                       UInt32(me.context.readBuffer.count))
        }, { s, nread, buf in
            let now = uv_hrtime()  // once per read, before any parsing
            let me = TCPClientTransport.transport(s!.pointee.data)
            if nread > 0 {
                me.transportDidRead(UnsafeRawBufferPointer(start: buf!.pointee.base, count: nread), at: now)
            } else if nread < 0 {
                me.transportDidReadError(Int32(nread), at: now)
            }
        })
    }

    /// The error of a `--connect-timeout` expiry: TCP never connected, or (`handshaking`: a TLS session exists,
    /// so TCP did connect) the server never finished the TLS handshake.
    func connectTimeoutError(handshaking: Bool) -> String {
        handshaking ? "TLS handshake with \(context.address) timed out (connected; no answer to the ClientHello)"
                    : "connect to \(context.address) timed out"
    }

    /// The error of a read that failed (`code`, EOF included) while the TLS handshake was going on.
    func handshakeReadError(_ code: Int32) -> String {
        code == UVError.eof || code == UVError.connectionReset
            ? "the server closed the connection during the TLS handshake (\(UVError(code: code)))"
            : "the TLS handshake failed: read failed: \(UVError(code: code))"
    }

    /// HTTPS: a TLS session for this connection (SNI and certificate name `context.serverName`), its
    /// handshake started; nil on plain TCP. Throws `FastPerfError` when OpenSSL cannot make the session.
    func makeTLSSession() throws -> TLSSession? {
        guard let tlsContext = context.tls else { return nil }
        let session = try TLSSession(context: tlsContext, host: context.serverName)
        session.handshakeStartNanos = uv_hrtime()
        return session
    }

    /// Owned bytes for `writeBuffered`: those handed to libuv (untouched until the callback) and those waiting.
    private var writing: [UInt8] = []
    private var waiting: [UInt8] = []
    /// A `writeBuffered` write is in flight on `writeRequest`.
    private(set) var bufferedWriteInFlight = false

    /// Writes `bytes` (moved out, left empty with its capacity) through the connection's write request: at once
    /// when no buffered write is in flight, else with whatever else queues up before its callback, which
    /// then calls `transportDidWrite`. Returns libuv's status when it refused the write (0 otherwise).
    ///
    /// When nothing is in flight or waiting, the bytes first go out with `uv_try_write`, and a write that takes them
    /// all is done without a callback: a `uv_write` that completes at once still costs an `epoll_ctl` per write (libuv
    /// drops POLLOUT from the watcher afterwards), one per request on HTTPS.
    @discardableResult
    func writeBuffered(_ bytes: inout [UInt8]) -> Int32 {
        if !bufferedWriteInFlight, waiting.isEmpty, !bytes.isEmpty, state != .closing {
            let written = bytes.withUnsafeBytes { raw -> Int32 in
                var buf = uv_buf_t(base: UnsafeMutablePointer(mutating: raw.baseAddress!.assumingMemoryBound(to: CChar.self)),
                                   len: raw.count)
                return uv_try_write(stream, &buf, 1)
            }
            if written == Int32(bytes.count) {
                bytes.removeAll(keepingCapacity: true)
                return 0
            }
            if written > 0 {
                bytes.removeFirst(Int(written))
            } else if written != Int32(UV_EAGAIN.rawValue) {
                return written
            }
        }
        if !bytes.isEmpty {
            if waiting.isEmpty { swap(&waiting, &bytes) } else { waiting.append(contentsOf: bytes) }
            bytes.removeAll(keepingCapacity: true)
        }
        guard !bufferedWriteInFlight, !waiting.isEmpty, state != .closing else { return 0 }
        swap(&writing, &waiting)
        waiting.removeAll(keepingCapacity: true)
        bufferedWriteInFlight = true
        // `writing` is not touched again until the callback, so its storage stays where libuv points.
        let rc = writing.withUnsafeBytes { raw -> Int32 in
            var buf = uv_buf_t(base: UnsafeMutablePointer(mutating: raw.baseAddress!.assumingMemoryBound(to: CChar.self)),
                               len: raw.count)
            return uv_write(writeRequest, stream, &buf, 1) { req, status in
                let me = TCPClientTransport.transport(req!.pointee.data)
                me.bufferedWriteInFlight = false
                me.transportDidWrite(status: status)
            }
        }
        if rc != 0 { bufferedWriteInFlight = false }
        return rc
    }

    /// Closes the handle (idempotent); `transportDidClose` runs in the close callback.
    func closeHandle() {
        guard state != .closing else { return }
        state = .closing
        uv_close(cuv_tcp_as_handle(handle), TCPClientTransport.closeCallback)
    }

    // MARK: hooks for the protocol subclasses

    /// The connect finished (`status` < 0: it failed).
    func transportDidConnect(status: Int32) {}
    /// Bytes read, stamped `now`; valid only during the call.
    func transportDidRead(_ bytes: UnsafeRawBufferPointer, at now: UInt64) {}
    /// A read error or EOF (`UVError.eof`).
    func transportDidReadError(_ code: Int32, at now: UInt64) {}
    /// A `writeBuffered` write finished (`status` < 0: it failed, `UV_ECANCELED` when the handle closed).
    func transportDidWrite(status: Int32) {}
    /// The handle is closed; no more callbacks.
    func transportDidClose() {}
}
