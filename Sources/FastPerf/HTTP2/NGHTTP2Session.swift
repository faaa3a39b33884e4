internal import CNGHTTP2

/// What an `NGHTTP2Session` reports while it parses bytes given to `receive`. Calls happen inside
/// `nghttp2_session_mem_recv`, on the owner's thread; they must not throw and must not call `receive` again.
/// Pointers passed in are valid only during the call (STYLE.md §D.8).
protocol NGHTTP2SessionDelegate: AnyObject {
    /// A header field of stream `streamID` (RFC 9113 §8.3: pseudo-headers such as `:status` or `:path` first).
    /// Names arrive lowercase.
    func http2(stream streamID: Int32, header name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)
    /// The header block of stream `streamID` is complete (response head on a client, request head on a server).
    /// `endStream`: the block also ended the peer's side of the stream (no body follows).
    func http2(streamHeadersComplete streamID: Int32, endStream: Bool)
    /// A piece of the DATA of stream `streamID` (RFC 9113 §6.1), already unpadded.
    func http2(stream streamID: Int32, data: UnsafeRawBufferPointer)
    /// The peer ended its side of stream `streamID` with END_STREAM on a DATA frame.
    func http2(streamDataEnded streamID: Int32)
    /// Stream `streamID` is closed; `errorCode` is the RFC 9113 §7 error code (0 = NO_ERROR, 7 = REFUSED_STREAM …).
    func http2(streamClosed streamID: Int32, errorCode: UInt32)
    /// The peer sent GOAWAY (RFC 9113 §6.8): streams above `lastStreamID` were not processed.
    func http2(goAwayLastStream lastStreamID: Int32, errorCode: UInt32)
    /// The peer's SETTINGS arrived (RFC 9113 §6.5); `remoteMaxConcurrentStreams` now holds its limit.
    func http2SettingsReceived()
}

extension NGHTTP2SessionDelegate {
    func http2SettingsReceived() {}
}

/// Outgoing DATA of one stream: a borrowed arena slice (client request bodies, valid for the whole run) or
/// bytes appended over time (server responses). The data provider reads from here; `NGHTTP2_ERR_DEFERRED`
/// while empty and not ended.
private final class OutgoingBody {
    /// A request body in the run's arena (lives longer than any session).
    var borrowed: UnsafeRawBufferPointer?
    var bytes: [UInt8] = []
    var offset = 0
    var ended = false
    var deferred = false
    init(borrowed: UnsafeRawBufferPointer?, ended: Bool) {
        self.borrowed = borrowed
        self.ended = ended
    }
}

/// One nghttp2 session (client or server role) that does no I/O of its own (STYLE.md §D.11): bytes read from
/// the socket go in through `receive` (`nghttp2_session_mem_recv`), bytes to send come out of `drainOutput`
/// (`nghttp2_session_mem_send`), which the owner writes with one `uv_write` per turn. nghttp2 1.52 API only
/// (`ssize_t` variants). The session borrows its delegate (STYLE.md §D.5) and is deleted in `deinit`.
final class NGHTTP2Session {
    enum Role { case client, server }

    /// Stream and connection flow-control windows FastPerf advertises, in bytes (RFC 9113 §6.9): large enough
    /// that SSE streams are never throttled by WINDOW_UPDATE round trips.
    static let streamWindow: UInt32 = 1 << 30
    static let connectionWindow: Int32 = 1 << 30

    private var session: OpaquePointer?
    private unowned let delegate: any NGHTTP2SessionDelegate
    private var bodies: [Int32: OutgoingBody] = [:]
    /// Set inside a callback that failed (never thrown across the C frame, STYLE.md §D.6).
    private var pendingError: String?

    /// Creates the session and queues the connection preface SETTINGS (RFC 9113 §3.4):
    /// ENABLE_PUSH 0, INITIAL_WINDOW_SIZE `streamWindow`, MAX_CONCURRENT_STREAMS `maxConcurrentStreams`
    /// (server), and a connection WINDOW_UPDATE to `connectionWindow`.
    init(role: Role, delegate: any NGHTTP2SessionDelegate, maxConcurrentStreams: UInt32 = 100) {
        self.delegate = delegate
        var callbacks: OpaquePointer?
        nghttp2_session_callbacks_new(&callbacks)
        defer { nghttp2_session_callbacks_del(callbacks) }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, namelen, value, valuelen, _, user in
            let me = NGHTTP2Session.from(user)
            me.delegate.http2(stream: frame!.pointee.hd.stream_id, header: UnsafeRawBufferPointer(start: name, count: namelen),
                              value: UnsafeRawBufferPointer(start: value, count: valuelen))
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, user in
            NGHTTP2Session.from(user).didReceiveFrame(frame!.pointee.hd, goAway: frame!.pointee.goaway)
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, stream, data, len, user in
            NGHTTP2Session.from(user).delegate.http2(stream: stream, data: UnsafeRawBufferPointer(start: data, count: len))
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, stream, code, user in
            let me = NGHTTP2Session.from(user)
            me.bodies[stream] = nil
            me.delegate.http2(streamClosed: stream, errorCode: code)
            return 0
        }
        var option: OpaquePointer?
        nghttp2_option_new(&option)
        defer { nghttp2_option_del(option) }
        // Until the peer's SETTINGS arrive, assume as many concurrent streams as we would use.
        nghttp2_option_set_peer_max_concurrent_streams(option, maxConcurrentStreams)
        let user = Unmanaged.passUnretained(self).toOpaque()
        switch role {
        case .client: nghttp2_session_client_new2(&session, callbacks, user, option)
        case .server: nghttp2_session_server_new2(&session, callbacks, user, option)
        }
        var settings = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: Self.streamWindow),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue), value: maxConcurrentStreams),
        ]
        if role == .client { settings.removeLast() }
        nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, settings.count)
        nghttp2_session_set_local_window_size(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, Self.connectionWindow)
    }

    deinit { nghttp2_session_del(session) }

    @inline(__always) private static func from(_ p: UnsafeMutableRawPointer?) -> NGHTTP2Session {
        Unmanaged<NGHTTP2Session>.fromOpaque(p!).takeUnretainedValue()
    }

    private func didReceiveFrame(_ hd: nghttp2_frame_hd, goAway: nghttp2_goaway) {
        let endStream = hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        switch UInt32(hd.type) {
        case NGHTTP2_HEADERS.rawValue:
            delegate.http2(streamHeadersComplete: hd.stream_id, endStream: endStream)
        case NGHTTP2_DATA.rawValue where endStream:
            delegate.http2(streamDataEnded: hd.stream_id)
        case NGHTTP2_GOAWAY.rawValue:
            delegate.http2(goAwayLastStream: goAway.last_stream_id, errorCode: goAway.error_code)
        case NGHTTP2_SETTINGS.rawValue where hd.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) == 0:
            delegate.http2SettingsReceived()
        default:
            break
        }
    }

    /// Feeds bytes read from the socket. Returns nil, or the error text when the peer broke the protocol
    /// (the session is then unusable: fail its streams and close the connection).
    func receive(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard bytes.count > 0 else { return nil }
        let rc = nghttp2_session_mem_recv(session, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.count)
        if let e = pendingError { return e }
        if rc < 0 { return "HTTP/2 error: \(String(cString: nghttp2_strerror(Int32(rc))))" }
        return nil
    }

    /// Appends everything nghttp2 wants to send to `out` (`nghttp2_session_mem_send` until it returns 0 or
    /// `out` passes `limit` bytes). Returns nil, or the error text.
    func drainOutput(into out: inout [UInt8], limit: Int = 1 << 20) -> String? {
        while out.count < limit {
            var data: UnsafePointer<UInt8>?
            let n = nghttp2_session_mem_send(session, &data)
            if n < 0 { return "HTTP/2 error: \(String(cString: nghttp2_strerror(Int32(n))))" }
            if n == 0 { break }
            out.append(contentsOf: UnsafeBufferPointer(start: data, count: n))
        }
        return pendingError
    }

    /// True while nghttp2 has frames to send or wants more input (`want_read || want_write`).
    var isAlive: Bool { nghttp2_session_want_read(session) != 0 || nghttp2_session_want_write(session) != 0 }
    /// True when frames are queued for `drainOutput`.
    var wantsWrite: Bool { nghttp2_session_want_write(session) != 0 }

    /// The peer's SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §6.5.2); before its SETTINGS arrive, the value
    /// passed to `init`.
    var remoteMaxConcurrentStreams: Int {
        Int(nghttp2_session_get_remote_settings(session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS))
    }

    /// Client: opens a stream for a request with `headers` (pseudo-headers first, names lowercase, RFC 9113
    /// §8.3.1) and `body` (borrowed: must outlive the stream; empty = END_STREAM on HEADERS).
    /// Returns the stream id (> 0), or a negative nghttp2 error code.
    func submitRequest(headers: [(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)], body: UnsafeRawBufferPointer) -> Int32 {
        let nva = headers.map { h in
            nghttp2_nv(name: UnsafeMutablePointer(mutating: h.name.baseAddress!.assumingMemoryBound(to: UInt8.self)),
                       value: UnsafeMutablePointer(mutating: h.value.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? h.name.baseAddress!.assumingMemoryBound(to: UInt8.self)),
                       namelen: h.name.count, valuelen: h.value.count,
                       flags: UInt8(NGHTTP2_NV_FLAG_NO_COPY_NAME.rawValue | NGHTTP2_NV_FLAG_NO_COPY_VALUE.rawValue))
        }
        if body.isEmpty {
            return nghttp2_submit_request(session, nil, nva, nva.count, nil, nil)
        }
        var provider = Self.provider
        let id = nghttp2_submit_request(session, nil, nva, nva.count, &provider, nil)
        if id > 0 { bodies[id] = OutgoingBody(borrowed: body, ended: true) }
        return id
    }

    /// Server: starts the response of `streamID` with `headers` (`:status` first); its body follows through
    /// `appendBody` and ends with `endBody`. Returns 0 or a negative nghttp2 error code.
    @discardableResult
    func submitResponse(stream streamID: Int32, headers: [(String, String)]) -> Int32 {
        let body = OutgoingBody(borrowed: nil, ended: false)
        bodies[streamID] = body
        var provider = Self.provider
        var storage: [[UInt8]] = []
        for (n, v) in headers { storage.append(Array(n.utf8)); storage.append(Array(v.utf8)) }
        return withNV(storage) { nva in nghttp2_submit_response(session, streamID, nva.baseAddress, nva.count, &provider) }
    }

    private func withNV<R>(_ storage: [[UInt8]], _ body: (UnsafeBufferPointer<nghttp2_nv>) -> R) -> R {
        var nva: [nghttp2_nv] = []
        var keep: [UnsafeMutablePointer<UInt8>] = []
        defer { for p in keep { p.deallocate() } }
        for i in stride(from: 0, to: storage.count, by: 2) {
            let n = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, storage[i].count))
            let v = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, storage[i + 1].count))
            n.initialize(from: storage[i], count: storage[i].count)
            v.initialize(from: storage[i + 1], count: storage[i + 1].count)
            keep.append(n); keep.append(v)
            nva.append(nghttp2_nv(name: n, value: v, namelen: storage[i].count, valuelen: storage[i + 1].count,
                                  flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)))
        }
        return nva.withUnsafeBufferPointer(body)
    }

    /// Server: queues `bytes` as DATA of `streamID`'s response; `end` sends END_STREAM after them.
    func appendBody(stream streamID: Int32, _ bytes: [UInt8], end: Bool) {
        guard let body = bodies[streamID] else { return }
        if body.offset > 0 && body.offset == body.bytes.count {
            body.bytes.removeAll(keepingCapacity: true)
            body.offset = 0
        }
        body.bytes.append(contentsOf: bytes)
        if end { body.ended = true }
        if body.deferred {
            body.deferred = false
            nghttp2_session_resume_data(session, streamID)
        }
    }

    /// Resets stream `streamID` with RST_STREAM `errorCode` (RFC 9113 §6.4).
    func resetStream(_ streamID: Int32, errorCode: UInt32) {
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, errorCode)
    }

    /// Queues GOAWAY with `errorCode` and the last stream the peer opened (RFC 9113 §6.8).
    func goAway(errorCode: UInt32 = 0) {
        nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue),
                              nghttp2_session_get_last_proc_stream_id(session), errorCode, nil, 0)
    }

    /// The RFC 9113 §7 name of an error code, e.g. "REFUSED_STREAM".
    static func errorName(_ code: UInt32) -> String { String(cString: nghttp2_http2_strerror(code)) }

    private static let provider = nghttp2_data_provider(
        source: nghttp2_data_source(ptr: nil),
        read_callback: { _, stream, buf, length, flags, _, user in
            NGHTTP2Session.from(user).readBody(stream: stream, into: buf!, length: length, flags: flags!)
        })

    private func readBody(stream: Int32, into buf: UnsafeMutablePointer<UInt8>, length: Int,
                          flags: UnsafeMutablePointer<UInt32>) -> Int {
        guard let body = bodies[stream] else {
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            return 0
        }
        var n = 0
        if let src = body.borrowed {
            n = min(length, src.count - body.offset)
            if n > 0 { UnsafeMutableRawPointer(buf).copyMemory(from: src.baseAddress! + body.offset, byteCount: n) }
            body.offset += n
            if body.offset == src.count { flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue }
            return n
        }
        n = min(length, body.bytes.count - body.offset)
        if n > 0 {
            body.bytes.withUnsafeBytes { src in
                UnsafeMutableRawPointer(buf).copyMemory(from: src.baseAddress! + body.offset, byteCount: n)
            }
            body.offset += n
        }
        if body.offset == body.bytes.count {
            if body.ended {
                flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            } else if n == 0 {
                body.deferred = true
                return Int(NGHTTP2_ERR_DEFERRED.rawValue)
            }
        }
        return n
    }
}
