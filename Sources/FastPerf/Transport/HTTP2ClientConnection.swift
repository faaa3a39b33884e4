internal import CUV

/// One HTTP/2 connection (h2c with prior knowledge, RFC 9113 §3.3) carrying up to `availableSlots` concurrent
/// streams, each one request. nghttp2 does no I/O (STYLE.md §D.11): each read goes straight into
/// `nghttp2_session_mem_recv`, and what `mem_send` produces is written with one `uv_write` at a time (frames
/// queued while a write is in flight go out together in the next one).
///
/// Measurement: every read callback takes one `uv_hrtime` before any parsing; a stream's DATA goes through the
/// same `SSEParser` and `RequestRecord` event marks as HTTP/1.1, stamped with that read's time. A stream ends
/// when it closes: NO_ERROR after the server's END_STREAM is a completed response; RST_STREAM, REFUSED_STREAM
/// or GOAWAY make a `reset` record whose error names the RFC 9113 §7 code. Ownership: the libuv handle holds
/// a +1 on this object from `init` until the close callback (STYLE.md §D.2).
final class HTTP2ClientConnection: TCPClientTransport, ClientConnection, NGHTTP2SessionDelegate {
    /// One request on one stream. Reused from stream to stream (`spare`), so a request costs no new parser
    /// buffers.
    private final class Stream {
        var record: RequestRecord
        var sse = SSEParser(initialCapacity: 512)
        var remoteEnded = false
        var lastActivityNanos: UInt64 = 0
        /// Its body went over `maxStreamBodyBytes`: reset by us, the record keeps that error.
        var tooLarge = false
        init(record: RequestRecord) { self.record = record }

        /// Starts `record` on this stream object (parser state forgotten, buffers kept).
        func reuse(for record: RequestRecord) {
            self.record = record
            sse.reset()
            remoteEnded = false
            lastActivityNanos = 0
            tooLarge = false
        }
    }
    /// Stream objects of closed streams, for the next requests.
    private var spare: [Stream] = []
    /// The largest response payload and SSE event count seen on this connection: the next record reserves
    /// that much, so a stream's bytes are not regrown from empty each time.
    private var payloadHint = 0
    private var eventsHint = 0

    private unowned let owner: any ClientConnectionOwner
    private let arena: HTTP2RequestArena
    private let maxStreams: Int
    private var session: NGHTTP2Session!
    private var streams: [Int32: Stream] = [:] {
        didSet {  // any change: the cache below may be stale (and must not keep a closed stream alive)
            cachedStreamID = 0
            cachedStream = nil
        }
    }
    /// The stream of the last delegate call (0: none): nghttp2 calls back for one stream several times in a row
    /// (each header, the end of the headers, its DATA, its close), and this spares the dictionary lookup.
    private var cachedStreamID: Int32 = 0
    private var cachedStream: Stream?
    /// Requests given to `send` before the connection was up: (index, intended ns).
    private var waiting: [(Int, UInt64)] = []
    /// Time of the read being parsed (stamped on its SSE events).
    private var readNanos: UInt64 = 0
    /// Frames (ciphertext on TLS) to write next; `writeBuffered` sends them one write at a time.
    private var outgoing: [UInt8] = []
    /// h2 over TLS: the session (ALPN `h2` required) and nghttp2's plaintext output before encryption.
    private var tls: TLSSession?
    private var plainOut: [UInt8] = []
    private var handshakeReported = false
    /// GOAWAY received: no new streams; the connection closes when its streams are done.
    private var goingAway = false
    /// Records finished inside nghttp2 callbacks, delivered after `mem_recv` returns (no re-entrancy).
    private var finished: [RequestRecord] = []
    private var dispatching = false
    /// The server's SETTINGS arrived: its stream limit is known and requests may be submitted.
    private var settingsReceived = false
    /// Requests that did not fit under the server's stream limit, handed back to the owner after `mem_recv`.
    private var handedBack: [(Int, UInt64)] = []

    /// Opens a TCP connection to `context.address` for h2c. Throws `UVError` when libuv refuses to start the
    /// connect. `maxStreams`: `--max-streams`, further capped by the server's SETTINGS_MAX_CONCURRENT_STREAMS.
    init(context: ClientContext, owner: any ClientConnectionOwner, arena: HTTP2RequestArena, maxStreams: Int) throws(UVError) {
        self.owner = owner
        self.arena = arena
        self.maxStreams = max(1, maxStreams)
        try super.init(context: context, id: context.makeConnectionID())
        // Before any libuv callback can run (they come on later loop turns).
        session = NGHTTP2Session(role: .client, delegate: self, maxConcurrentStreams: UInt32(self.maxStreams))
    }

    @inline(__always) private static func connection(_ p: UnsafeMutableRawPointer?) -> HTTP2ClientConnection {
        unsafeDowncast(TCPClientTransport.transport(p), to: HTTP2ClientConnection.self)
    }

    // MARK: ClientConnection

    var inFlight: Int { streams.count + waiting.count }

    var availableSlots: Int {
        guard state != .closing, !goingAway else { return 0 }
        return max(0, min(maxStreams, session.remoteMaxConcurrentStreams) - inFlight)
    }

    func send(requestIndex: Int, intendedNanos: UInt64) {
        if let error = connectError {
            var record = RequestRecord(requestIndex: requestIndex, loopID: context.loopID, connectionID: id)
            record.protocolName = "h2"
            let now = uv_hrtime()
            record.startNanos = now
            record.intendedStartNanos = intendedNanos == 0 ? now : intendedNanos
            record.endNanos = now
            record.transport = .connectFailed
            record.error = error
            owner.connection(self, didFinish: record)
            return
        }
        if state == .connecting || !settingsReceived {
            waiting.append((requestIndex, intendedNanos))
            return
        }
        submit(requestIndex, intendedNanos: intendedNanos)
        if !dispatching { flush() }
    }

    private func submit(_ index: Int, intendedNanos: UInt64) {
        var record = RequestRecord(requestIndex: index, loopID: context.loopID, connectionID: id)
        record.protocolName = "h2"
        let now = uv_hrtime()
        record.startNanos = now
        record.intendedStartNanos = intendedNanos == 0 ? now : intendedNanos
        let streamID = session.submitRequest(headers: arena.headers(index), body: arena.body(index))
        if streamID <= 0 {
            record.endNanos = now
            record.transport = .protocolError
            record.error = "cannot open an HTTP/2 stream (nghttp2 error \(streamID))"
            finished.append(record)
            if !dispatching { deliverFinished() }
            return
        }
        if let tls, !handshakeReported, tls.handshakeEndNanos > tls.handshakeStartNanos {
            handshakeReported = true  // the connection's first stream carries its handshake time
            record.tlsHandshakeNanos = tls.handshakeEndNanos - tls.handshakeStartNanos
        }
        record.payload.reserveCapacity(payloadHint)
        record.events.reserveCapacity(eventsHint)
        let stream: Stream
        if let s = spare.popLast() {
            s.reuse(for: record)
            stream = s
        } else {
            stream = Stream(record: record)
        }
        stream.lastActivityNanos = now
        streams[streamID] = stream
        if state == .idle { state = .awaitingResponse }
    }

    // MARK: libuv events

    override func transportDidConnect(status: Int32) {
        guard state == .connecting else { return }
        if status < 0 {
            failAll(.connectFailed, "connect to \(context.address) failed: \(UVError(code: status))")
            close(reason: "connect failed")
            return
        }
        let rc = startReading()
        if rc != 0 {
            failAll(.connectFailed, "cannot read from \(context.address): \(UVError(code: rc))")
            close(reason: "read failed")
            return
        }
        do {
            tls = try makeTLSSession()
        } catch {
            failAll(.connectFailed, "\(context.address): \(error)")
            close(reason: "TLS failed")
            return
        }
        if let session = tls {
            // Stay `.connecting` (under the connect timeout) until the handshake agrees on h2.
            if case .failed(let why) = session.handshake() {
                failAll(.connectFailed, "\(context.address): \(why)")
                close(reason: "TLS handshake failed")
                return
            }
            flush()
            return
        }
        // Requests wait for the server's SETTINGS (its stream limit); the preface goes out now.
        state = .idle
        flush()
    }

    /// Ciphertext in: handshake progress (ALPN must be h2), or decrypted frames for nghttp2.
    /// Returns the nghttp2 error, if any, after handling TLS failures itself (then `state` is `.closing`).
    private func receiveTLS(_ bytes: UnsafeRawBufferPointer, session tlsSession: TLSSession, at now: UInt64) -> String? {
        var frameError: String?
        // Plaintext that came in the read that ended the handshake, before this connection left `.connecting`:
        // over TLS 1.2 the server's first frames (its SETTINGS) arrive with its Finished.
        var early: [UInt8] = []
        let status = tlsSession.receive(bytes) { plain in
            guard frameError == nil else { return }
            if state == .connecting {
                early.append(contentsOf: plain)
                return
            }
            dispatching = true
            frameError = session.receive(plain)
            dispatching = false
        }
        switch status {
        case .failed(let why):
            failAll(state == .connecting ? .connectFailed : .protocolError, "\(context.address): \(why)", at: now)
            close(reason: why)
        case .handshakeDone:
            tlsSession.handshakeEndNanos = now
            guard tlsSession.negotiatedProtocol == "h2" else {
                let got = tlsSession.negotiatedProtocol ?? "none"
                failAll(.connectFailed, "\(context.address): the server did not agree to h2 by ALPN (got \(got)); drop --http2", at: now)
                close(reason: "no h2 by ALPN")
                return nil
            }
            state = .idle
            if !early.isEmpty {
                dispatching = true
                frameError = early.withUnsafeBytes { session.receive($0) }
                dispatching = false
            }
        case .closed:
            transportDidReadError(UVError.eof, at: now)
        case .handshaking, .open:
            break
        }
        return frameError
    }

    func http2SettingsReceived() {
        guard !settingsReceived else { return }
        settingsReceived = true
        let pending = waiting
        waiting = []
        let room = min(maxStreams, session.remoteMaxConcurrentStreams) - streams.count
        for (k, (index, intended)) in pending.enumerated() {
            if k < room { submit(index, intendedNanos: intended) } else { handedBack.append((index, intended)) }
        }
    }

    override func transportDidRead(_ bytes: UnsafeRawBufferPointer, at now: UInt64) {
        guard state != .closing else { return }
        readNanos = now
        let error: String?
        if let tls {
            error = receiveTLS(bytes, session: tls, at: now)
            if state == .closing { return }
        } else {
            dispatching = true
            error = session.receive(bytes)
            dispatching = false
        }
        if let error {
            failAll(.protocolError, error)
            close(reason: error)
            return
        }
        flush()
        if !session.isAlive {
            failAll(.protocolError, "HTTP/2 session ended: the server broke the protocol or is not an HTTP/2 server")
            close(reason: "HTTP/2 session ended")
            return
        }
        deliverFinished()
    }

    override func transportDidReadError(_ code: Int32, at now: UInt64) {
        if state == .connecting, tls != nil {  // reads before h2 is up: the TLS handshake
            let text = handshakeReadError(code)
            failAll(.connectFailed, "\(context.address): \(text)", at: now)
            close(reason: text)
            return
        }
        let text = code == UVError.eof ? "connection closed by the server" : "read failed: \(UVError(code: code))"
        failAll(.reset, text, at: now)
        close(reason: text)
    }

    // MARK: writing

    /// Writes what nghttp2 has queued: one `uv_write` at a time; frames queued meanwhile go in the next one.
    private func flush() {
        guard state != .closing else { return }
        if let tls {
            // Frames only after the handshake; handshake records any time.
            if state != .connecting {
                if let error = session.drainOutput(into: &plainOut) {
                    failAll(.protocolError, error)
                    close(reason: error)
                    return
                }
                if !plainOut.isEmpty {
                    let status = plainOut.withUnsafeBytes { tls.send($0) }
                    plainOut.removeAll(keepingCapacity: true)
                    if case .failed(let why) = status {
                        failAll(.protocolError, why)
                        close(reason: why)
                        return
                    }
                }
            }
            tls.takeOutput(into: &outgoing)
        } else {
            guard state != .connecting else { return }
            if let error = session.drainOutput(into: &outgoing) {
                failAll(.protocolError, error)
                close(reason: error)
                return
            }
        }
        let rc = writeBuffered(&outgoing)
        if rc != 0 {
            failAll(.reset, "write failed: \(UVError(code: rc))")
            close(reason: "write failed")
        }
    }

    override func transportDidWrite(status: Int32) {
        guard state != .closing else { return }
        if status < 0 {
            failAll(.reset, "write failed: \(UVError(code: status))")
            close(reason: "write failed")
            return
        }
        flush()
    }

    // MARK: NGHTTP2SessionDelegate (inside mem_recv)

    /// `streams[streamID]`, through the one-entry cache.
    @inline(__always)
    private func stream(_ streamID: Int32) -> Stream? {
        if streamID == cachedStreamID, streamID != 0 { return cachedStream }
        let s = streams[streamID]
        cachedStreamID = streamID
        cachedStream = s
        return s
    }

    func http2(stream streamID: Int32, header name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        guard let s = stream(streamID) else { return }
        // Read from the bytes with HTTP/1's helpers (same media-type rule), no String per header.
        if HTTP1FieldSyntax.equalsIgnoringCase(name, ":status") {
            s.record.httpStatus = HTTP2Headers.status(value)
        } else if HTTP1FieldSyntax.equalsIgnoringCase(name, "content-type") {
            s.record.isEventStream = HTTP1ResponseParser.isEventStreamMediaType(value)
        }
    }

    func http2(streamHeadersComplete streamID: Int32, endStream: Bool) {
        guard let s = stream(streamID) else { return }
        if s.record.headNanos == 0 && s.record.httpStatus >= 200 { s.record.headNanos = readNanos }
        if endStream { s.remoteEnded = true }
        s.lastActivityNanos = readNanos
    }

    func http2(stream streamID: Int32, data: UnsafeRawBufferPointer) {
        guard let s = stream(streamID), !s.tooLarge else { return }
        s.lastActivityNanos = readNanos
        s.record.bodyBytes += data.count
        if s.record.isEventStream {
            let now = readNanos
            // Moved out for the feed: per-event appends touch a local, not the stream object's property.
            var record = s.record.takeForAppending()
            let feed = record.appendFeed(data)
            s.sse.feed(data) { event in record.append(event, at: now, feed: feed) }
            swap(&s.record, &record)
            if s.record.bodyBytes > context.maxStreamBodyBytes {
                s.tooLarge = true
                session.resetStream(streamID, errorCode: 8)  // CANCEL; streamClosed finishes the record
            }
        } else if s.record.payload.count < context.maxBodyBytes {
            s.record.payload.append(contentsOf: data.prefix(context.maxBodyBytes - s.record.payload.count))
        }
    }

    func http2(streamDataEnded streamID: Int32) {
        stream(streamID)?.remoteEnded = true
    }

    func http2(streamClosed streamID: Int32, errorCode: UInt32) {
        guard let s = streams.removeValue(forKey: streamID) else { return }
        let now = readNanos == 0 ? uv_hrtime() : readNanos
        s.record.endNanos = now
        if s.tooLarge {
            s.record.transport = .protocolError
            s.record.error = context.streamTooLargeError
        } else if errorCode == 0 && s.remoteEnded {
            s.record.transport = .completed
            if s.record.isEventStream && s.sse.hasPendingData && s.record.error == nil {
                s.record.error = "stream ended inside an SSE event"
            }
        } else {
            s.record.transport = .reset
            s.record.error = errorCode == 0
                ? "HTTP/2 stream closed before its END_STREAM"
                : "HTTP/2 stream reset: \(NGHTTP2Session.errorName(errorCode)) (error code \(errorCode))"
        }
        payloadHint = max(payloadHint, s.record.payload.count)
        eventsHint = max(eventsHint, s.record.events.count)
        finished.append(s.record)
        s.record = RequestRecord(requestIndex: -1, loopID: context.loopID, connectionID: id)  // no shared buffers
        spare.append(s)
        if streams.isEmpty && state == .awaitingResponse { state = .idle }
    }

    func http2(goAwayLastStream lastStreamID: Int32, errorCode: UInt32) {
        goingAway = true
        // Streams above lastStreamID were never processed: nghttp2 closes them with REFUSED_STREAM.
        for (sid, s) in streams where sid > lastStreamID || errorCode != 0 {
            s.record.error = "HTTP/2 GOAWAY \(NGHTTP2Session.errorName(errorCode)) (error code \(errorCode)), last stream \(lastStreamID)"
        }
    }

    // MARK: endings

    /// Hands finished records to the owner, then offers the free slots (or closes after GOAWAY).
    private func deliverFinished() {
        let back = handedBack
        handedBack = []
        for (index, intended) in back { owner.connection(self, didLoseRequest: index, intendedNanos: intended) }
        guard !finished.isEmpty || goingAway else { return }
        let done = finished
        finished = []
        for r in done { owner.connection(self, didFinish: r) }
        if state == .closing { return }
        if goingAway {
            if streams.isEmpty { close(reason: "GOAWAY") }
        } else if !done.isEmpty && availableSlots > 0 {
            owner.connectionIsIdle(self)
        }
    }

    /// Ends every request in flight or waiting with `outcome` (records are delivered at once).
    private func failAll(_ outcome: TransportOutcome, _ error: String, at now: UInt64 = uv_hrtime()) {
        var records = finished
        finished = []
        for s in streams.values {
            s.record.endNanos = now
            s.record.transport = outcome
            if s.record.error == nil || outcome != .reset { s.record.error = error }
            records.append(s.record)
        }
        streams.removeAll()
        for (index, intended) in waiting {
            var record = RequestRecord(requestIndex: index, loopID: context.loopID, connectionID: id)
            record.protocolName = "h2"
            record.startNanos = now
            record.intendedStartNanos = intended == 0 ? now : intended
            record.endNanos = now
            record.transport = outcome
            record.error = error
            records.append(record)
        }
        waiting.removeAll()
        for r in records { owner.connection(self, didFinish: r) }
    }

    func checkTimeouts(now: UInt64) {
        switch state {
        case .connecting:
            if context.connectTimeoutNanos > 0 && now &- connectStartNanos > context.connectTimeoutNanos {
                failAll(.timeoutConnect, connectTimeoutError(handshaking: tls != nil), at: now)
                close(reason: "connect timeout")
            }
        case .awaitingResponse:
            var expired: [Int32] = []
            for (sid, s) in streams {
                if context.totalTimeoutNanos > 0 && now &- s.record.startNanos > context.totalTimeoutNanos {
                    s.record.transport = .timeoutTotal
                    s.record.error = "total timeout: no complete response after \(Double(context.totalTimeoutNanos) / 1e9) s"
                    expired.append(sid)
                } else if context.readTimeoutNanos > 0 && now &- s.lastActivityNanos > context.readTimeoutNanos {
                    s.record.transport = .timeoutIdle
                    s.record.error = "read timeout: no data for \(Double(context.readTimeoutNanos) / 1e9) s"
                    expired.append(sid)
                }
            }
            guard !expired.isEmpty else { return }
            for sid in expired {
                guard let s = streams.removeValue(forKey: sid) else { continue }
                s.record.endNanos = now
                finished.append(s.record)
                session.resetStream(sid, errorCode: 8)  // CANCEL
            }
            if streams.isEmpty { state = .idle }
            flush()
            deliverFinished()
        case .idle, .closing:
            break
        }
    }

    func close(reason: String) {
        guard state != .closing else { return }
        failAll(.reset, reason)
        closeHandle()
    }

    override func transportDidClose() {
        owner.connectionDidClose(self)
    }
}

/// The `:status` pseudo-header read from its bytes (`Int(String(...))` allocated per response).
enum HTTP2Headers {
    /// The `:status` value: three ASCII digits (RFC 9113 §8.3.2); 0 when it is not.
    static func status(_ value: UnsafeRawBufferPointer) -> Int {
        guard value.count == 3 else { return 0 }
        var n = 0
        for b in value {
            guard b >= 0x30 && b <= 0x39 else { return 0 }
            n = n * 10 + Int(b - 0x30)
        }
        return n
    }
}
