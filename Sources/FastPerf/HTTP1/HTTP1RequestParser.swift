// HTTP/1.1 request parser (server side), used by the built-in mock server.
//
// Spec: RFC 9112 "HTTP/1.1": §2.2 message parsing, §3 request line, §5 field syntax,
// §6.3 message body length, §7.1 chunked transfer coding, §9.3 persistence.
// Allocation per request is acceptable here; this is not on the load generator's hot path.

/// One complete request as received.
struct HTTP1Request: Sendable {
    /// The method token, case preserved (e.g. "POST").
    var method: String
    /// The request target exactly as sent (e.g. "/v1/chat/completions?x=1").
    var target: String
    /// Field lines in order, names case preserved, values trimmed of OWS (obs-fold joined by SP).
    var headers: [(name: String, value: String)]
    /// The body bytes (de-chunked); empty when the request had none.
    var body: [UInt8]
    /// True when the connection stays open after the response (RFC 9112 §9.3): HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`; false after a request
    /// framed by both Transfer-Encoding and Content-Length.
    var keepAlive: Bool
    /// HTTP version major digit (1).
    var versionMajor: Int
    /// HTTP version minor digit (0 or 1).
    var versionMinor: Int

    /// The value of the first field named `name`, compared ignoring ASCII case; nil when absent.
    func header(_ name: String) -> String? {
        let wanted = Self.asciiLowercased(name)
        return headers.first { Self.asciiLowercased($0.name) == wanted }?.value
    }

    private static func asciiLowercased(_ text: String) -> [UInt8] {
        text.utf8.map { HTTP1FieldSyntax.lowercased($0) }
    }
}

/// An incremental parser for the requests on one server connection (RFC 9112), pipelining
/// included: every call returns the requests its bytes completed, in order.
///
/// Bodies are framed by Content-Length or chunked transfer coding; a request with neither has
/// no body. Empty lines before a request line are ignored (RFC 9112 §2.2). After a throw the
/// parser stays failed (the server answers 400 and closes).
struct HTTP1RequestParser {
    private enum State {
        /// Accumulating a head.
        case head
        /// Reading a Content-Length body; the payload is the number of bytes still expected.
        case fixed(remaining: Int)
        /// Reading a chunked body.
        case chunked
        /// A parse error was thrown.
        case failed(HTTP1ParseError)
    }

    private let maxBodyBytes: Int
    private var state: State = .head
    private var head: HTTP1HeadAccumulator
    private var chunked: HTTP1ChunkedDecoder
    /// The request whose body is being read.
    private var pending: HTTP1Request? = nil

    /// Creates a parser that rejects heads over `maxHeadBytes` bytes (`.headerTooLarge`) and
    /// bodies over `maxBodyBytes` bytes (`.bodyTooLarge`).
    init(maxHeadBytes: Int = 64 * 1024, maxBodyBytes: Int = 64 * 1024 * 1024) {
        self.maxBodyBytes = maxBodyBytes
        head = HTTP1HeadAccumulator(maxBytes: maxHeadBytes, skipsLeadingEmptyLines: true)
        chunked = HTTP1ChunkedDecoder(maxTrailerBytes: maxHeadBytes)
    }

    /// True when no part of a request is buffered (a close now loses nothing).
    var isIdle: Bool {
        if case .head = state { return head.isEmpty }
        return false
    }

    /// Appends `bytes` and returns every request completed by them (several when pipelined),
    /// in order. `bytes` is only read during the call.
    mutating func parse(_ bytes: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> [HTTP1Request] {
        if case .failed(let error) = state { throw error }
        var completed: [HTTP1Request] = []
        let count = bytes.count
        var index = 0
        do throws(HTTP1ParseError) {
            while index < count {
                switch state {
                case .head:
                    // A request starts with its method, a token: anything else (a TLS ClientHello sent to this
                    // plain-HTTP port, binary garbage) is refused at its first byte instead of waiting for a
                    // line end that may never come.
                    if head.isEmpty {
                        var k = index
                        while k < count && (bytes[k] == 0x0D || bytes[k] == 0x0A) { k += 1 }
                        if k < count && !HTTP1FieldSyntax.isTokenChar(bytes[k]) { throw HTTP1ParseError(.badRequestLine) }
                    }
                    guard let after = try head.consume(bytes, from: index) else {
                        index = count
                        continue
                    }
                    index = after
                    let (request, framing) = try head.withBytes { buffer throws(HTTP1ParseError) in
                        try HTTP1RequestParser.parseHead(buffer)
                    }
                    head.reset()
                    switch framing {
                    case .none, .fixed(0):
                        completed.append(request)
                    case .fixed(let length):
                        guard length <= maxBodyBytes else { throw HTTP1ParseError(.bodyTooLarge) }
                        var request = request
                        request.body.reserveCapacity(length)
                        pending = request
                        state = .fixed(remaining: length)
                    case .chunked:
                        pending = request
                        chunked.reset()
                        state = .chunked
                    case .closeDelimited:
                        preconditionFailure("a request body is never close-delimited")
                    }
                case .fixed(let remaining):
                    let take = min(remaining, count - index)
                    pending!.body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)]))
                    index += take
                    if take == remaining {
                        completed.append(pending.take()!)
                        state = .head
                    } else {
                        state = .fixed(remaining: remaining - take)
                    }
                case .chunked:
                    var body = pending!.body
                    pending!.body = []
                    var tooLarge = false
                    let limit = maxBodyBytes
                    index = try chunked.decode(bytes, from: index) { piece in
                        if body.count + piece.count > limit {
                            tooLarge = true
                        } else {
                            body.append(contentsOf: piece)
                        }
                    }
                    if tooLarge { throw HTTP1ParseError(.bodyTooLarge) }
                    pending!.body = body
                    if chunked.isDone {
                        completed.append(pending.take()!)
                        state = .head
                    }
                case .failed(let error):
                    throw error
                }
            }
        } catch {
            state = .failed(error)
            pending = nil
            throw error
        }
        return completed
    }

    /// Parses a complete request head and decides its body framing (RFC 9112 §3, §6.3).
    static func parseHead(
        _ buffer: UnsafeRawBufferPointer
    ) throws(HTTP1ParseError) -> (HTTP1Request, HTTP1ResponseParser.Framing) {
        var lines = HTTP1LineIterator(buffer)
        guard let requestLine = try lines.next(error: .badRequestLine) else {
            throw HTTP1ParseError(.badRequestLine)
        }
        // method SP request-target SP HTTP-version
        var methodEnd = 0
        while methodEnd < requestLine.count && requestLine[methodEnd] != 0x20 {
            guard HTTP1FieldSyntax.isTokenChar(requestLine[methodEnd]) else { throw HTTP1ParseError(.badRequestLine) }
            methodEnd += 1
        }
        var targetEnd = methodEnd + 1
        while targetEnd < requestLine.count && requestLine[targetEnd] != 0x20 {
            let byte = requestLine[targetEnd]
            guard byte > 0x20 && byte != 0x7F else { throw HTTP1ParseError(.badRequestLine) }
            targetEnd += 1
        }
        guard methodEnd > 0, targetEnd > methodEnd + 1, targetEnd + 9 == requestLine.count,
            let (major, minor) = HTTP1FieldSyntax.parseVersion(requestLine, at: targetEnd + 1), major == 1
        else { throw HTTP1ParseError(.badRequestLine) }

        var fields = HTTP1FieldSummary()
        var headers: [(name: String, value: String)] = []
        try HTTP1FieldSyntax.forEachField(&lines) { name, value throws(HTTP1ParseError) in
            try fields.note(name: name, value: value)
            headers.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }

        var keepAlive = minor >= 1 ? !fields.connectionClose : (fields.connectionKeepAlive && !fields.connectionClose)
        let framing: HTTP1ResponseParser.Framing
        if fields.hasTransferEncoding {
            // RFC 9112 §6.3 item 4: a request whose final coding is not chunked cannot be framed (400).
            guard fields.chunkedIsFinal else { throw HTTP1ParseError(.badHeader) }
            framing = .chunked
            // Item 3: with Content-Length as well, the server MUST close after responding.
            if fields.contentLength != nil || minor == 0 { keepAlive = false }
        } else if let length = fields.contentLength {
            framing = .fixed(length)
        } else {
            framing = .none
        }

        let request = HTTP1Request(
            method: String(decoding: UnsafeRawBufferPointer(rebasing: requestLine[0..<methodEnd]), as: UTF8.self),
            target: String(
                decoding: UnsafeRawBufferPointer(rebasing: requestLine[(methodEnd + 1)..<targetEnd]), as: UTF8.self),
            headers: headers,
            body: [],
            keepAlive: keepAlive,
            versionMajor: major,
            versionMinor: minor
        )
        return (request, framing)
    }
}
