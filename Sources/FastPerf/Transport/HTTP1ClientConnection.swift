internal import CUV

/// One HTTP/1.1 keep-alive connection: the libuv TCP handle, the response parser, the SSE parser and the
/// record of the request in flight. At most one request is in flight (no pipelining).
///
/// Measurement: every read callback takes one `uv_hrtime` timestamp before any parsing, and every SSE event
/// completed by that read carries it. Ownership: the libuv handle holds a +1 on this object from `init` until
/// the close callback (STYLE.md §D.2).
final class HTTP1ClientConnection: TCPClientTransport, ClientConnection {
    typealias State = ClientConnectionState

    /// Unique within the run (`ClientContext.makeConnectionID`).
    private unowned let owner: any ClientConnectionOwner

    private var parser = HTTP1ResponseParser()
    /// Small initial buffers: with tens of thousands of connections open, per-connection memory is what
    /// counts; the buffers grow to the longest line or event seen and keep that capacity.
    private var sse = SSEParser(initialCapacity: 512)
    /// The request in flight (valid when `hasRecord`).
    private var record: RequestRecord
    private var hasRecord = false
    /// `uv_hrtime` of the connect call, of the last byte read or sent (idle timeout), in ns.
    private var lastActivityNanos: UInt64 = 0
    private var responseKeepAlive = true
    /// HTTPS: the TLS session (nil for plain TCP) and the ciphertext it produced, to be written.
    private var tls: TLSSession?
    private var tlsOut: [UInt8] = []
    /// Responses completed on this connection (a reused connection may be closed by the server when idle).
    private var completedResponses = 0
    /// Capacity hints so a request's arrays are sized like the previous one's (one allocation each).
    private var payloadHint = 1024
    private var eventsHint = 16

    /// Opens a TCP connection to `context.address`. Throws `UVError` when libuv refuses to start the connect
    /// (no handle is left open then).
    init(context: ClientContext, owner: any ClientConnectionOwner) throws(UVError) {
        self.owner = owner
        let id = context.makeConnectionID()
        self.record = RequestRecord(requestIndex: -1, loopID: context.loopID, connectionID: id)
        try super.init(context: context, id: id)
    }

    @inline(__always) private static func connection(_ p: UnsafeMutableRawPointer?) -> HTTP1ClientConnection {
        unsafeDowncast(TCPClientTransport.transport(p), to: HTTP1ClientConnection.self)
    }

    // MARK: sending

    /// 1 when open or connecting with no request, else 0 (no pipelining).
    var availableSlots: Int { !hasRecord && state != .closing ? 1 : 0 }
    /// 1 while a request is in flight.
    var inFlight: Int { hasRecord ? 1 : 0 }

    /// Sends request `index` of the arena, now or as soon as the connection is established.
    /// `intendedNanos`: when the schedule wanted it sent (0 = closed loop: the actual send time).
    func send(requestIndex: Int, intendedNanos: UInt64 = 0) {
        precondition(!hasRecord, "one request at a time on an HTTP/1.1 connection")
        record = RequestRecord(requestIndex: requestIndex, loopID: context.loopID, connectionID: id)
        record.payload.reserveCapacity(payloadHint)
        record.events.reserveCapacity(eventsHint)
        record.intendedStartNanos = intendedNanos
        hasRecord = true
        if let error = connectError {
            // Connect failed synchronously; the handle is already closing.
            let now = uv_hrtime()
            record.startNanos = now
            if record.intendedStartNanos == 0 { record.intendedStartNanos = now }
            finish(.connectFailed, error: error, at: now)
            return
        }
        if state == .idle { writeRequest(index: requestIndex) }
        // .connecting: didConnect writes it.
    }

    private func writeRequest(index: Int) {
        state = .awaitingResponse
        parser.reset()
        let bytes = context.arena.bytes(index)
        let now = uv_hrtime()
        record.startNanos = now
        if record.intendedStartNanos == 0 { record.intendedStartNanos = now }
        lastActivityNanos = now
        if let tls {
            if completedResponses == 0 && tls.handshakeEndNanos > tls.handshakeStartNanos {
                record.tlsHandshakeNanos = tls.handshakeEndNanos - tls.handshakeStartNanos
            }
            if case .failed(let why) = tls.send(bytes) {
                fail(.protocolError, error: why, at: now)
                return
            }
            flushTLS()
            return
        }
        var buf = uv_buf_t(base: UnsafeMutablePointer(mutating: bytes.baseAddress!.assumingMemoryBound(to: CChar.self)),
                           len: bytes.count)
        let stream = cuv_tcp_as_stream(handle)
        let written = uv_try_write(stream, &buf, 1)
        if written == Int32(bytes.count) { return }
        let sent = written > 0 ? Int(written) : 0
        if written < 0 && written != Int32(UV_EAGAIN.rawValue) {
            writeFailed(written)
            return
        }
        buf = uv_buf_t(base: buf.base + sent, len: bytes.count - sent)
        let rc = uv_write(writeRequest, stream, &buf, 1) { req, status in
            if status < 0 {
                let me = HTTP1ClientConnection.connection(req!.pointee.data)
                if status != Int32(UV_ECANCELED.rawValue) && me.hasRecord { me.writeFailed(status) }
            }
        }
        if rc != 0 { writeFailed(rc) }
    }

    // MARK: libuv events

    override func transportDidConnect(status: Int32) {
        guard state == .connecting else { return }  // timed out and closing already
        if status < 0 {
            let now = uv_hrtime()
            if hasRecord {
                record.startNanos = now
                if record.intendedStartNanos == 0 { record.intendedStartNanos = now }
            }
            fail(.connectFailed, error: "connect to \(context.address) failed: \(UVError(code: status))")
            return
        }
        let rc = startReading()
        if rc != 0 {
            fail(.connectFailed, error: "cannot read from \(context.address): \(UVError(code: rc))")
            return
        }
        do {
            tls = try makeTLSSession()
        } catch {
            failConnect("\(error)")
            return
        }
        if let session = tls {
            // Stay `.connecting` (the connect timeout covers the handshake) until the server's Finished.
            if case .failed(let why) = session.handshake() {
                failConnect(why)
                return
            }
            flushTLS()
            return
        }
        connectionReady()
    }

    /// The connection (and its TLS handshake) is up: send the waiting request, or report idle.
    private func connectionReady() {
        state = .idle
        if hasRecord { writeRequest(index: record.requestIndex) } else { owner.connectionIsIdle(self) }
    }

    private func failConnect(_ why: String) {
        let now = uv_hrtime()
        if hasRecord {
            record.startNanos = now
            if record.intendedStartNanos == 0 { record.intendedStartNanos = now }
        }
        fail(.connectFailed, error: "\(context.address): \(why)", at: now)
    }

    /// Ciphertext in from the socket: handshake progress, or decrypted response bytes to `didReadPlain`.
    private func didReadTLS(_ bytes: UnsafeRawBufferPointer, session: TLSSession, at now: UInt64) {
        let status = session.receive(bytes) { plain in
            didReadPlain(plain, at: now)
        }
        flushTLS()
        switch status {
        case .failed(let why):
            if state == .connecting { failConnect(why) } else { fail(.protocolError, error: why, at: now) }
        case .handshakeDone:
            session.handshakeEndNanos = now
            if state == .connecting { connectionReady() }
        case .closed:
            transportDidReadError(UVError.eof, at: now)
        case .handshaking, .open:
            break
        }
    }

    /// Writes whatever ciphertext the TLS session produced (one write in flight; more waits for its callback).
    private func flushTLS() {
        guard let tls, state != .closing else { return }
        tls.takeOutput(into: &tlsOut)
        let rc = writeBuffered(&tlsOut)
        if rc != 0 { writeFailed(rc) }
    }

    override func transportDidWrite(status: Int32) {
        if status < 0 {
            if status != Int32(UV_ECANCELED.rawValue) && hasRecord { writeFailed(status) }
        } else {
            flushTLS()
        }
    }

    override func transportDidRead(_ bytes: UnsafeRawBufferPointer, at now: UInt64) {
        if let tls {
            didReadTLS(bytes, session: tls, at: now)
        } else {
            didReadPlain(bytes, at: now)
        }
    }

    /// Response bytes (plain TCP, or decrypted): the HTTP/1.1 parser, then the SSE parser.
    private func didReadPlain(_ bytes: UnsafeRawBufferPointer, at now: UInt64) {
        guard state == .awaitingResponse else {
            if state == .idle {
                // A server must not send on an idle HTTP/1.1 connection; drop the connection.
                close()
            }
            return
        }
        lastActivityNanos = now
        var ended = false
        var tooLarge = false
        do {
            try parser.parse(bytes) { event in
                switch event {
                case .head(let head):
                    record.headNanos = now
                    record.httpStatus = head.status
                    record.isEventStream = head.isEventStream
                    responseKeepAlive = head.keepAlive
                    if head.isEventStream { sse.reset() }
                case .body(let chunk):
                    record.bodyBytes += chunk.count
                    if record.isEventStream {
                        // The record is moved out for the feed: the per-event appends then touch a local, not
                        // this object's stored property (no exclusivity check and no retain per event).
                        var events = record.takeForAppending()
                        let feed = events.appendFeed(chunk)
                        sse.feed(chunk) { event in events.append(event, at: now, feed: feed) }
                        swap(&record, &events)
                        if record.bodyBytes > context.maxStreamBodyBytes { tooLarge = true }
                    } else if record.payload.count < context.maxBodyBytes {
                        record.payload.append(contentsOf: chunk.prefix(context.maxBodyBytes - record.payload.count))
                    }
                case .end:
                    ended = true
                }
            }
        } catch {
            fail(.protocolError, error: error.description, at: now)
            return
        }
        if tooLarge {
            fail(.protocolError, error: context.streamTooLargeError, at: now)
            return
        }
        if ended {
            // Bytes after the end of the response: it counts as complete, but the connection is not reused.
            if parser.bytesAfterEnd > 0 { responseKeepAlive = false }
            responseDidEnd(at: now)
        }
    }

    override func transportDidReadError(_ code: Int32, at now: UInt64) {
        if state == .connecting, tls != nil, hasRecord {  // reads before the request: the TLS handshake
            failConnect(handshakeReadError(code))
            return
        }
        guard state == .awaitingResponse, hasRecord else {
            close()
            return
        }
        if parser.isIdle && completedResponses > 0 && (code == UVError.eof || code == UVError.connectionReset) {
            requestLost()
            return
        }
        if code == UVError.eof {
            var ended = false
            do {
                ended = try parser.finish { event in
                    if case .end = event { ended = true }
                }
            } catch {
                fail(.reset, error: "connection closed by the server: \(error.description)", at: now)
                return
            }
            if ended {
                responseKeepAlive = false
                responseDidEnd(at: now)
            } else {
                fail(.reset, error: "connection closed by the server before a response", at: now)
            }
        } else {
            fail(.reset, error: "read failed: \(UVError(code: code))", at: now)
        }
    }

    private func responseDidEnd(at now: UInt64) {
        let keep = responseKeepAlive
        completedResponses += 1
        if record.isEventStream && sse.hasPendingData && record.error == nil {
            record.error = "stream ended inside an SSE event"
        }
        if keep {
            state = .idle
            finishRecord(.completed, error: nil, at: now)
            if state == .idle && !hasRecord { owner.connectionIsIdle(self) }
        } else {
            finishRecord(.completed, error: nil, at: now)
            close()
        }
    }

    // MARK: endings

    /// The server closed this reused connection before any byte of the response: the request never reached
    /// it (an idle keep-alive connection closed as the request went out). Hand it back to be sent again on a
    /// new connection; no row is made for the lost attempt.
    private func requestLost() {
        let index = record.requestIndex
        let intended = record.intendedStartNanos
        let wasClosedLoop = intended == record.startNanos
        hasRecord = false
        record = RequestRecord(requestIndex: -1, loopID: context.loopID, connectionID: id)
        close()
        owner.connection(self, didLoseRequest: index, intendedNanos: wasClosedLoop ? 0 : intended)
    }

    /// A write error on a reused connection before any response byte means the same as an early close.
    private func writeFailed(_ code: Int32) {
        if completedResponses > 0 && parser.isIdle && (code == UVError.connectionReset || code == UVError.brokenPipe) {
            requestLost()
        } else {
            fail(.reset, error: "write failed: \(UVError(code: code))")
        }
    }

    /// Ends the request in flight with a transport failure and closes the connection.
    private func fail(_ outcome: TransportOutcome, error: String, at now: UInt64 = uv_hrtime()) {
        finish(outcome, error: error, at: now)
        close()
    }

    private func finish(_ outcome: TransportOutcome, error: String?, at now: UInt64) {
        guard hasRecord else { return }
        finishRecord(outcome, error: error, at: now)
    }

    private func finishRecord(_ outcome: TransportOutcome, error: String?, at now: UInt64) {
        record.endNanos = now
        record.transport = outcome
        if let error { record.error = error }
        payloadHint = max(payloadHint, record.payload.count)
        eventsHint = max(eventsHint, record.events.count)
        let done = record
        record = RequestRecord(requestIndex: -1, loopID: context.loopID, connectionID: id)
        hasRecord = false
        owner.connection(self, didFinish: done)
    }

    /// Applies `--connect-timeout`, `--read-timeout` and `--total-timeout`; called by the owner's sweep timer.
    func checkTimeouts(now: UInt64) {
        switch state {
        case .connecting:
            if context.connectTimeoutNanos > 0 && now &- connectStartNanos > context.connectTimeoutNanos {
                if hasRecord {
                    record.startNanos = now
                    if record.intendedStartNanos == 0 { record.intendedStartNanos = now }
                }
                fail(.timeoutConnect, error: connectTimeoutError(handshaking: tls != nil), at: now)
            }
        case .awaitingResponse:
            if context.totalTimeoutNanos > 0 && now &- record.startNanos > context.totalTimeoutNanos {
                fail(.timeoutTotal, error: "total timeout: no complete response after \(Double(context.totalTimeoutNanos) / 1e9) s", at: now)
            } else if context.readTimeoutNanos > 0 && now &- lastActivityNanos > context.readTimeoutNanos {
                fail(.timeoutIdle, error: "read timeout: no data for \(Double(context.readTimeoutNanos) / 1e9) s", at: now)
            }
        case .idle, .closing:
            break
        }
    }

    /// Closes the connection. A request still in flight ends as `reset` with `reason`.
    func close(reason: String = "aborted: connection closed by the client") {
        guard state != .closing else { return }
        if hasRecord { finish(.reset, error: reason, at: uv_hrtime()) }
        closeHandle()
    }

    override func transportDidClose() {
        if hasRecord, let error = connectError {
            let now = uv_hrtime()
            record.startNanos = now
            if record.intendedStartNanos == 0 { record.intendedStartNanos = now }
            finishRecord(.connectFailed, error: error, at: now)
        }
        owner.connectionDidClose(self)
    }
}
