// HTTP/1.1 response parser (client side).
//
// Spec: RFC 9112 "HTTP/1.1": §2.2 message parsing, §4 status line, §5 field syntax (§5.2 obs-fold),
// §6.3 message body length, §7.1 chunked transfer coding, §9.3 persistence; RFC 9110 §8.6
// Content-Length, §15.2 informational (1xx) responses.

#if canImport(Glibc)
import Glibc
#endif

/// The parsed head of a final (non-1xx) response. Built once per response.
struct HTTP1ResponseHead: Equatable, Sendable {
    /// Status code, 100...999 (three digits, RFC 9112 §4).
    var status: Int
    /// HTTP version major digit (always 1 here).
    var versionMajor: Int
    /// HTTP version minor digit (0 or 1 in practice).
    var versionMinor: Int
    /// True when the connection may carry another request after this response (RFC 9112 §9.3):
    /// HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`;
    /// never for a close-delimited body or a message framed by both Transfer-Encoding and
    /// Content-Length.
    var keepAlive: Bool
    /// The Content-Length value in bytes, when present and valid (also when chunked overrides it).
    var contentLength: Int?
    /// True when the body uses the chunked transfer coding (it is then de-chunked by the parser).
    var isChunked: Bool
    /// True when the media type of Content-Type is `text/event-stream` (case-insensitive,
    /// parameters such as `charset` ignored).
    var isEventStream: Bool
    /// The raw Content-Type value with surrounding whitespace trimmed; "" when absent.
    var contentType: String
    /// The raw Retry-After value (seconds or an HTTP-date, RFC 9110 §10.2.3), nil when absent.
    var retryAfter: String?
}

/// What ``HTTP1ResponseParser`` reports, in order: `.head` once, `.body` zero or more times, `.end` once.
enum HTTP1ResponseEvent {
    /// The final response head (1xx interim responses are skipped and never reported).
    case head(HTTP1ResponseHead)
    /// A piece of the de-chunked body: a slice of the caller's input, valid only during the callback.
    case body(UnsafeRawBufferPointer)
    /// The body is complete (the response is done).
    case end
}

/// A malformed or cut-off HTTP/1 message. One line of text; equal when the kinds are equal.
struct HTTP1ParseError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong.
    enum Kind: Equatable, Sendable {
        /// The status line is not `HTTP/1.x SSS [reason]` (or a 101 that no request asked for).
        case badStatusLine
        /// The request line is not `METHOD SP target SP HTTP/1.x` (request parser only).
        case badRequestLine
        /// A header line is malformed (no colon, bad name, stray CR) or Transfer-Encoding is unusable.
        case badHeader
        /// Content-Length is not a non-negative decimal, or duplicates disagree.
        case badContentLength
        /// A chunk-size line or a chunk's closing CRLF is malformed.
        case badChunk
        /// The head (or the chunked trailer section) exceeds the configured limit.
        case headerTooLarge
        /// A request body exceeds the configured limit (request parser only).
        case bodyTooLarge
        /// The connection closed inside a Content-Length or chunked body.
        case truncatedBody
        /// The connection closed inside a response head.
        case truncatedHead
    }

    /// What went wrong.
    let kind: Kind

    init(_ kind: Kind) { self.kind = kind }

    /// One-line human text, e.g. "malformed HTTP status line".
    var description: String {
        switch kind {
        case .badStatusLine: return "malformed HTTP status line"
        case .badRequestLine: return "malformed HTTP request line"
        case .badHeader: return "malformed HTTP header field"
        case .badContentLength: return "invalid or conflicting Content-Length"
        case .badChunk: return "malformed chunked transfer coding"
        case .headerTooLarge: return "HTTP header section too large"
        case .bodyTooLarge: return "HTTP body too large"
        case .truncatedBody: return "connection closed before the end of the HTTP body"
        case .truncatedHead: return "connection closed before the end of the HTTP header section"
        }
    }
}

/// An incremental parser for the responses on one HTTP/1.1 client connection, one at a time
/// (RFC 9112). Feed it the bytes read from the socket; call ``reset()`` after `.end` before
/// the next response on the same connection.
///
/// The head is copied into a reused buffer (bounded by `maxHeadBytes`) and converted to
/// ``HTTP1ResponseHead`` once. Body bytes are never copied: `.body` events are slices of the
/// input, de-chunked. Head, chunk-size lines, chunk CRLFs and trailers may be split anywhere.
///
/// Responses to HEAD requests are not supported (the client never sends HEAD).
struct HTTP1ResponseParser {
    private enum State {
        /// Accumulating a head (possibly after skipped 1xx heads).
        case head
        /// Inside a Content-Length body; payload is the number of bytes still expected.
        case fixed(remaining: Int)
        /// Inside a chunked body (see `chunked`).
        case chunked
        /// Inside a body delimited by connection close.
        case closeDelimited
        /// `.end` has been emitted.
        case complete
        /// A parse error was thrown; it is thrown again on every later call until `reset()`.
        case failed(HTTP1ParseError)
    }

    private var state: State = .head
    private var head: HTTP1HeadAccumulator
    private var chunked: HTTP1ChunkedDecoder
    /// True once any byte of the current response (including a skipped 1xx) was received.
    private var receivedAny = false
    /// Bytes that arrived after the current response was complete, discarded (see `parse`).
    private(set) var bytesAfterEnd = 0

    /// Creates a parser that rejects a head (status line, fields and the blank line) longer
    /// than `maxHeadBytes` bytes; the same limit bounds a chunked trailer section.
    init(maxHeadBytes: Int = 64 * 1024) {
        // Empty lines before a status line are skipped, as a server skips them before a request line (RFC 9112
        // §2.2): a stray CRLF a server sent after its previous response does not fail the next one.
        head = HTTP1HeadAccumulator(maxBytes: maxHeadBytes, skipsLeadingEmptyLines: true)
        chunked = HTTP1ChunkedDecoder(maxTrailerBytes: maxHeadBytes)
    }

    /// True once `.end` has been emitted for the current response.
    var isComplete: Bool {
        if case .complete = state { return true }
        return false
    }

    /// True when nothing of a response has been received since init or `reset()`.
    var isIdle: Bool { !receivedAny }

    /// Gets ready for the next response on the same connection (keeps buffer capacity).
    mutating func reset() {
        state = .head
        head.reset()
        chunked.reset()
        receivedAny = false
        bytesAfterEnd = 0
    }

    /// Parses as much of `bytes` as possible. Emits `.head` once, `.body` slices (borrowed from
    /// `bytes`, no copy, de-chunked) and `.end` once. Bytes after `.end` are discarded and counted in
    /// `bytesAfterEnd` (the client does not pipeline): the response stays complete, and the caller should not
    /// reuse the connection (RFC 9112 §6.3: a client MAY discard data after a complete response and MUST NOT read
    /// it as another response). After a throw the parser stays failed until `reset()`.
    mutating func parse(
        _ bytes: UnsafeRawBufferPointer, _ handler: (HTTP1ResponseEvent) -> Void
    ) throws(HTTP1ParseError) {
        if case .failed(let error) = state { throw error }
        let count = bytes.count
        var index = 0
        do throws(HTTP1ParseError) {
            while index < count {
                switch state {
                case .head:
                    receivedAny = true
                    guard let after = try head.consume(bytes, from: index) else {
                        index = count
                        continue
                    }
                    index = after
                    let (parsed, framing) = try head.withBytes { buffer throws(HTTP1ParseError) in
                        try HTTP1ResponseParser.parseHead(buffer)
                    }
                    head.reset()
                    if parsed.status < 200 { continue }  // 1xx interim response: skip it
                    handler(.head(parsed))
                    switch framing {
                    case .none, .fixed(0):
                        state = .complete
                        handler(.end)
                    case .fixed(let length):
                        state = .fixed(remaining: length)
                    case .chunked:
                        chunked.reset()
                        state = .chunked
                    case .closeDelimited:
                        state = .closeDelimited
                    }
                case .fixed(let remaining):
                    let take = min(remaining, count - index)
                    handler(.body(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)])))
                    index += take
                    if take == remaining {
                        state = .complete
                        handler(.end)
                    } else {
                        state = .fixed(remaining: remaining - take)
                    }
                case .chunked:
                    index = try chunked.decode(bytes, from: index) { handler(.body($0)) }
                    if chunked.isDone {
                        state = .complete
                        handler(.end)
                    }
                case .closeDelimited:
                    handler(.body(UnsafeRawBufferPointer(rebasing: bytes[index..<count])))
                    index = count
                case .complete:
                    bytesAfterEnd += count - index
                    index = count
                case .failed(let error):
                    throw error
                }
            }
        } catch {
            state = .failed(error)
            throw error
        }
    }

    /// The peer closed the connection. For a close-delimited body, emits `.end` and returns
    /// true. Returns false when no `.end` was due: nothing of a response had arrived (an idle
    /// connection closed), or the response was already complete. Throws `.truncatedHead` when
    /// the close cut a head short (also after a skipped 1xx) and `.truncatedBody` when it cut
    /// a Content-Length or chunked body short.
    mutating func finish(_ handler: (HTTP1ResponseEvent) -> Void) throws(HTTP1ParseError) -> Bool {
        switch state {
        case .head:
            if !receivedAny { return false }
            state = .failed(HTTP1ParseError(.truncatedHead))
            throw HTTP1ParseError(.truncatedHead)
        case .fixed, .chunked:
            state = .failed(HTTP1ParseError(.truncatedBody))
            throw HTTP1ParseError(.truncatedBody)
        case .closeDelimited:
            state = .complete
            handler(.end)
            return true
        case .complete:
            return false
        case .failed(let error):
            throw error
        }
    }

    /// How the body of a response is delimited (RFC 9112 §6.3).
    enum Framing: Equatable {
        /// No body (1xx, 204, 304).
        case none
        /// Exactly this many bytes (Content-Length).
        case fixed(Int)
        /// Chunked transfer coding.
        case chunked
        /// Until the server closes the connection.
        case closeDelimited
    }

    /// Parses a complete head (status line, fields, blank line; CRLF or bare LF line ends) and
    /// decides the body framing, RFC 9112 §4, §5, §6.3.
    static func parseHead(_ buffer: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> (HTTP1ResponseHead, Framing) {
        var lines = HTTP1LineIterator(buffer)
        guard let statusLine = try lines.next(error: .badStatusLine) else {
            throw HTTP1ParseError(.badStatusLine)
        }
        let (major, minor, status) = try parseStatusLine(statusLine)
        if status == 101 {
            // FastPerf never asks for an upgrade; what follows would not be HTTP/1.
            throw HTTP1ParseError(.badStatusLine)
        }

        var fields = HTTP1FieldSummary()
        var contentType: String? = nil
        var isEventStream = false
        var retryAfter: String? = nil
        try HTTP1FieldSyntax.forEachField(&lines) { name, value throws(HTTP1ParseError) in
            try fields.note(name: name, value: value)
            if contentType == nil && HTTP1FieldSyntax.equalsIgnoringCase(name, "content-type") {
                contentType = String(decoding: value, as: UTF8.self)
                isEventStream = isEventStreamMediaType(value)
            } else if retryAfter == nil && HTTP1FieldSyntax.equalsIgnoringCase(name, "retry-after") {
                retryAfter = String(decoding: value, as: UTF8.self)
            }
        }

        var keepAlive = minor >= 1 ? !fields.connectionClose : (fields.connectionKeepAlive && !fields.connectionClose)
        let framing: Framing
        if status < 200 || status == 204 || status == 304 {
            framing = .none
        } else if fields.hasTransferEncoding {
            // §6.3 item 3: chunked last → chunked; any other coding → read until close. A message
            // with both Transfer-Encoding and Content-Length "ought to be handled as an error",
            // and HTTP/1.0 with Transfer-Encoding has faulty framing: do not reuse the connection.
            framing = fields.chunkedIsFinal ? .chunked : .closeDelimited
            if fields.contentLength != nil || minor == 0 { keepAlive = false }
        } else if let length = fields.contentLength {
            framing = .fixed(length)
        } else {
            framing = .closeDelimited
        }
        if framing == .closeDelimited { keepAlive = false }

        let head = HTTP1ResponseHead(
            status: status,
            versionMajor: major,
            versionMinor: minor,
            keepAlive: keepAlive,
            contentLength: fields.contentLength,
            isChunked: framing == .chunked,
            isEventStream: isEventStream,
            contentType: contentType ?? "",
            retryAfter: retryAfter
        )
        return (head, framing)
    }

    /// `HTTP/1.x SP 3DIGIT [SP reason]` → (major, minor, status). The reason phrase may be
    /// empty, and a missing SP after the code is tolerated.
    private static func parseStatusLine(_ line: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> (Int, Int, Int) {
        guard let (major, minor) = HTTP1FieldSyntax.parseVersion(line, at: 0), major == 1,
            line.count >= 12, line[8] == 0x20
        else { throw HTTP1ParseError(.badStatusLine) }
        var status = 0
        for position in 9..<12 {
            let byte = line[position]
            guard byte >= 0x30 && byte <= 0x39 else { throw HTTP1ParseError(.badStatusLine) }
            status = status * 10 + Int(byte - 0x30)
        }
        guard status >= 100 else { throw HTTP1ParseError(.badStatusLine) }
        if line.count > 12 && line[12] != 0x20 { throw HTTP1ParseError(.badStatusLine) }
        return (major, minor, status)
    }

    /// True when the media type of a Content-Type value (the part before any `;`, OWS
    /// trimmed) is `text/event-stream`, ignoring ASCII case (RFC 9110 §8.3.1).
    static func isEventStreamMediaType(_ value: UnsafeRawBufferPointer) -> Bool {
        var end = 0
        while end < value.count && value[end] != 0x3B { end += 1 }
        let mediaType = HTTP1FieldSyntax.trimmed(UnsafeRawBufferPointer(rebasing: value[0..<end]))
        return HTTP1FieldSyntax.equalsIgnoringCase(mediaType, "text/event-stream")
    }
}

// MARK: - Shared HTTP/1 building blocks (also used by HTTP1RequestParser)

/// Accumulates one message head (start line, fields, blank line) into a reused byte buffer and
/// finds its end, across any number of feeds. RFC 9112 §2.2: lines end with CRLF or a bare LF.
struct HTTP1HeadAccumulator {
    /// Head limit in bytes, including line ends and the final blank line.
    let maxBytes: Int
    /// When true, empty lines before the start line are dropped (RFC 9112 §2.2, requests).
    let skipsLeadingEmptyLines: Bool
    /// The head bytes received so far (cleared, capacity kept, by `reset()`).
    private var buffer: [UInt8] = []
    /// The current line has a byte other than CR (false at the start of a line).
    private var lineHasContent = false
    /// True once a non-empty line has been seen (the start line).
    private var sawStartLine = false

    init(maxBytes: Int, skipsLeadingEmptyLines: Bool) {
        self.maxBytes = maxBytes
        self.skipsLeadingEmptyLines = skipsLeadingEmptyLines
        buffer.reserveCapacity(min(maxBytes, 1024))  // typical response heads; grows when needed
    }

    /// True when no byte of a head is buffered (skipped leading empty lines do not count).
    var isEmpty: Bool { buffer.isEmpty }

    /// Forgets the buffered head, keeping capacity.
    mutating func reset() {
        buffer.removeAll(keepingCapacity: true)
        lineHasContent = false
        sawStartLine = false
    }

    /// Appends head bytes from `bytes[start...]`. Returns the index just past the blank line
    /// that ends the head, or nil when the head is still incomplete (all bytes consumed).
    /// Throws `.headerTooLarge` as soon as the head exceeds `maxBytes`.
    mutating func consume(_ bytes: UnsafeRawBufferPointer, from start: Int) throws(HTTP1ParseError) -> Int? {
        var index = start
        var chunkStart = start
        let count = bytes.count
        guard start < count, let base = bytes.baseAddress else { return nil }
        // Line by line: memchr (vectorised) finds each LF; a line counts as empty when it holds only CRs.
        while index < count {
            guard let lfPointer = memchr(base + index, 0x0A, count - index) else {
                // No LF left in this feed: the rest belongs to the current line.
                if !lineHasContent { lineHasContent = Self.hasNonCR(bytes, index, count) }
                index = count
                break
            }
            let lf = base.distance(to: lfPointer)
            if !lineHasContent { lineHasContent = Self.hasNonCR(bytes, index, lf) }
            index = lf + 1
            if lineHasContent {
                sawStartLine = true
                lineHasContent = false
            } else if !sawStartLine && skipsLeadingEmptyLines {
                // An empty line before the start line: drop it and anything CR before it.
                buffer.removeAll(keepingCapacity: true)
                chunkStart = index
            } else {
                try append(bytes, chunkStart, index)
                return index
            }
            if buffer.count + (index - chunkStart) > maxBytes { throw HTTP1ParseError(.headerTooLarge) }
        }
        try append(bytes, chunkStart, count)
        return nil
    }

    /// Whether `bytes[from..<to]` holds a byte other than CR (a line only needs to be told from an empty one).
    private static func hasNonCR(_ bytes: UnsafeRawBufferPointer, _ from: Int, _ to: Int) -> Bool {
        for k in from..<to where bytes[k] != 0x0D { return true }
        return false
    }

    private mutating func append(_ bytes: UnsafeRawBufferPointer, _ from: Int, _ to: Int) throws(HTTP1ParseError) {
        if buffer.count + (to - from) > maxBytes { throw HTTP1ParseError(.headerTooLarge) }
        buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[from..<to]))
    }

    /// Calls `body` with the buffered head bytes.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(HTTP1ParseError) -> R) throws(HTTP1ParseError) -> R {
        let result: Result<R, HTTP1ParseError> = buffer.withUnsafeBytes { bytes in
            Result { () throws(HTTP1ParseError) -> R in try body(bytes) }
        }
        return try result.get()
    }
}

/// Iterates the lines of a complete head buffer: each line without its CRLF/LF; stops at the
/// blank line. A CR anywhere but before the LF is an error (RFC 9112 §2.2 allows rejecting it).
struct HTTP1LineIterator {
    private let buffer: UnsafeRawBufferPointer
    private var position = 0

    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    /// The first byte of the next line, if there is a non-blank one (used to detect obs-fold).
    var peekFirstByte: UInt8? {
        guard position < buffer.count else { return nil }
        let byte = buffer[position]
        return byte == 0x0A || byte == 0x0D ? nil : byte
    }

    /// The next non-blank line, or nil at the blank line that ends the head (or at the end).
    mutating func next(error: HTTP1ParseError.Kind) throws(HTTP1ParseError) -> UnsafeRawBufferPointer? {
        let count = buffer.count
        let start = position
        guard start < count, let base = buffer.baseAddress else { return nil }
        var end = count
        if let lf = memchr(base + start, 0x0A, count - start) { end = base.distance(to: lf) }
        position = min(end + 1, count)
        var lineEnd = end
        if lineEnd > start && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
        if lineEnd > start && memchr(base + start, 0x0D, lineEnd - start) != nil { throw HTTP1ParseError(error) }
        if lineEnd == start { return nil }
        return UnsafeRawBufferPointer(rebasing: buffer[start..<lineEnd])
    }
}

/// Field-line syntax shared by the response and request parsers (RFC 9112 §5, RFC 9110 §5.6).
enum HTTP1FieldSyntax {
    /// ASCII lowercase of `byte` (other bytes unchanged).
    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    /// True when `bytes` equals the lowercase ASCII `literal`, ignoring ASCII case.
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        literal.withUTF8Buffer { target in
            guard target.count == bytes.count else { return false }
            for index in 0..<target.count where lowercased(bytes[index]) != target[index] { return false }
            return true
        }
    }

    /// True for RFC 9110 `tchar` (token characters).
    static func isTokenChar(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: return true
        default: return false
        }
    }

    /// `bytes` without leading and trailing SP/HTAB (OWS).
    static func trimmed(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0
        var end = bytes.count
        while start < end && (bytes[start] == 0x20 || bytes[start] == 0x09) { start += 1 }
        while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09) { end -= 1 }
        if start == end { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    /// Parses `HTTP/d.d` at `offset` → (major, minor), or nil.
    static func parseVersion(_ line: UnsafeRawBufferPointer, at offset: Int) -> (Int, Int)? {
        guard line.count >= offset + 8,
            line[offset] == 0x48, line[offset + 1] == 0x54, line[offset + 2] == 0x54, line[offset + 3] == 0x50,
            line[offset + 4] == 0x2F, line[offset + 6] == 0x2E
        else { return nil }
        let major = line[offset + 5]
        let minor = line[offset + 7]
        guard major >= 0x30 && major <= 0x39 && minor >= 0x30 && minor <= 0x39 else { return nil }
        return (Int(major - 0x30), Int(minor - 0x30))
    }

    /// Calls `body(name, value)` for each field line after the start line, value trimmed of OWS.
    /// An obs-fold (a line starting with SP/HTAB) is replaced by one SP and joined to the
    /// previous field's value, as RFC 9112 §5.2 tells a user agent to do; it is an error before
    /// the first field. A field name must be a non-empty token directly followed by `:`
    /// (whitespace before the colon is rejected, RFC 9112 §5.1).
    static func forEachField(
        _ lines: inout HTTP1LineIterator,
        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(HTTP1ParseError) -> Void
    ) throws(HTTP1ParseError) {
        if let first = lines.peekFirstByte, first == 0x20 || first == 0x09 {
            throw HTTP1ParseError(.badHeader)
        }
        while let line = try lines.next(error: .badHeader) {
            var colon = 0
            while colon < line.count && line[colon] != 0x3A {
                guard isTokenChar(line[colon]) else { throw HTTP1ParseError(.badHeader) }
                colon += 1
            }
            guard colon > 0 && colon < line.count else { throw HTTP1ParseError(.badHeader) }
            let name = UnsafeRawBufferPointer(rebasing: line[0..<colon])
            let value = trimmed(UnsafeRawBufferPointer(rebasing: line[(colon + 1)...]))
            if let next = lines.peekFirstByte, next == 0x20 || next == 0x09 {
                // Rare: build the unfolded value in a temporary buffer.
                var unfolded = Array(value)
                while let next = lines.peekFirstByte, next == 0x20 || next == 0x09 {
                    guard let continuation = try lines.next(error: .badHeader) else { break }
                    let piece = trimmed(continuation)
                    if !piece.isEmpty {
                        if !unfolded.isEmpty { unfolded.append(0x20) }
                        unfolded.append(contentsOf: piece)
                    }
                }
                let result: Result<Void, HTTP1ParseError> = unfolded.withUnsafeBytes { folded in
                    Result { () throws(HTTP1ParseError) in try body(name, folded) }
                }
                try result.get()
            } else {
                try body(name, value)
            }
        }
    }

    /// Calls `body` with each non-empty comma-separated element of a list value, trimmed of OWS.
    static func forEachListElement(_ value: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var start = 0
        let count = value.count
        while start <= count {
            var end = start
            while end < count && value[end] != 0x2C { end += 1 }
            let element = trimmed(UnsafeRawBufferPointer(rebasing: value[start..<end]))
            if !element.isEmpty { body(element) }
            start = end + 1
        }
    }
}

/// The framing-relevant fields of one head, collected field by field (RFC 9112 §6, §9.3).
struct HTTP1FieldSummary {
    /// Content-Length in bytes, once a valid one was seen.
    var contentLength: Int? = nil
    /// True when any Transfer-Encoding field was present.
    var hasTransferEncoding = false
    /// True when the last transfer coding seen so far is `chunked`.
    var chunkedIsFinal = false
    /// A `close` connection option was seen.
    var connectionClose = false
    /// A `keep-alive` connection option was seen.
    var connectionKeepAlive = false

    /// Records one field. Throws `.badContentLength` for a value that is not 1*DIGIT (a list
    /// of identical values is accepted, RFC 9110 §8.6) or that differs from an earlier one.
    mutating func note(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws(HTTP1ParseError) {
        switch name.count {
        case 14 where HTTP1FieldSyntax.equalsIgnoringCase(name, "content-length"):
            var sawElement = false
            var bad = false
            var seen = contentLength
            HTTP1FieldSyntax.forEachListElement(value) { element in
                sawElement = true
                guard let length = Self.parseDecimal(element), seen == nil || seen == length else {
                    bad = true
                    return
                }
                seen = length
            }
            if bad || !sawElement { throw HTTP1ParseError(.badContentLength) }
            contentLength = seen
        case 17 where HTTP1FieldSyntax.equalsIgnoringCase(name, "transfer-encoding"):
            hasTransferEncoding = true
            var sawElement = false
            var lastIsChunked = chunkedIsFinal
            HTTP1FieldSyntax.forEachListElement(value) { element in
                sawElement = true
                var end = 0
                while end < element.count && element[end] != 0x3B { end += 1 }  // drop ";params"
                let coding = HTTP1FieldSyntax.trimmed(UnsafeRawBufferPointer(rebasing: element[0..<end]))
                lastIsChunked = HTTP1FieldSyntax.equalsIgnoringCase(coding, "chunked")
            }
            if sawElement { chunkedIsFinal = lastIsChunked }
        case 10 where HTTP1FieldSyntax.equalsIgnoringCase(name, "connection"):
            HTTP1FieldSyntax.forEachListElement(value) { element in
                if HTTP1FieldSyntax.equalsIgnoringCase(element, "close") {
                    connectionClose = true
                } else if HTTP1FieldSyntax.equalsIgnoringCase(element, "keep-alive") {
                    connectionKeepAlive = true
                }
            }
        default:
            break
        }
    }

    /// 1*DIGIT as a non-negative `Int`, nil when empty, not digits, or too large.
    static func parseDecimal(_ bytes: UnsafeRawBufferPointer) -> Int? {
        if bytes.isEmpty { return nil }
        var result = 0
        for byte in bytes {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            let (times10, overflow1) = result.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - 0x30))
            if overflow1 || overflow2 { return nil }
            result = sum
        }
        return result
    }
}

/// Decodes the chunked transfer coding (RFC 9112 §7.1) incrementally, handing out chunk data
/// as slices of the input. Chunk extensions are ignored; CRLF or a bare LF ends each line;
/// the trailer section is skipped up to its blank line.
struct HTTP1ChunkedDecoder {
    private enum State {
        /// Reading hex digits of a chunk size.
        case size
        /// After the size digits: skipping whitespace and chunk extensions up to the line end.
        case extensions
        /// Saw CR at the end of the size line; LF must follow.
        case sizeLF
        /// Inside chunk data.
        case data
        /// After chunk data: CR (or a bare LF) must follow.
        case dataCR
        /// After chunk data and CR: LF must follow.
        case dataLF
        /// Inside the trailer section (after the last chunk).
        case trailers
        /// The final blank line has been read.
        case done
    }

    /// Limit on the trailer section in bytes (excluding line ends).
    let maxTrailerBytes: Int
    private var state: State = .size
    /// The size being read (digits so far), or the size of the current chunk.
    private var size = 0
    /// Hex digits read for the current size.
    private var digits = 0
    /// Bytes of the current chunk's data still to come.
    private var remaining = 0
    /// Non-CR bytes in the current trailer line so far.
    private var trailerLineLength = 0
    /// Trailer bytes seen so far.
    private var trailerBytes = 0

    init(maxTrailerBytes: Int) { self.maxTrailerBytes = maxTrailerBytes }

    /// True once the last chunk and the trailer section have been read.
    var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// Ready for a new chunked body.
    mutating func reset() {
        state = .size
        size = 0
        digits = 0
        remaining = 0
        trailerLineLength = 0
        trailerBytes = 0
    }

    /// Decodes from `bytes[start...]`, calling `onData` with each piece of chunk data. Returns
    /// the index just past the last byte it consumed: the end of the input, or the byte after
    /// the body's final blank line.
    mutating func decode(
        _ bytes: UnsafeRawBufferPointer, from start: Int, _ onData: (UnsafeRawBufferPointer) -> Void
    ) throws(HTTP1ParseError) -> Int {
        let count = bytes.count
        var index = start
        while index < count {
            switch state {
            case .data:
                let take = min(remaining, count - index)
                onData(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)]))
                index += take
                remaining -= take
                if remaining == 0 { state = .dataCR }
                continue
            case .done:
                return index
            default:
                break
            }
            let byte = bytes[index]
            index += 1
            switch state {
            case .size:
                if let value = Self.hexValue(byte) {
                    guard digits < 15 else { throw HTTP1ParseError(.badChunk) }
                    size = size << 4 | value
                    digits += 1
                    continue
                }
                guard digits > 0 else { throw HTTP1ParseError(.badChunk) }
                switch byte {
                case 0x3B, 0x20, 0x09: state = .extensions
                case 0x0D: state = .sizeLF
                case 0x0A: endSizeLine()
                default: throw HTTP1ParseError(.badChunk)
                }
            case .extensions:
                if byte == 0x0D {
                    state = .sizeLF
                } else if byte == 0x0A {
                    endSizeLine()
                }
            case .sizeLF:
                guard byte == 0x0A else { throw HTTP1ParseError(.badChunk) }
                endSizeLine()
            case .dataCR:
                if byte == 0x0D {
                    state = .dataLF
                } else if byte == 0x0A {
                    startSize()
                } else {
                    throw HTTP1ParseError(.badChunk)
                }
            case .dataLF:
                guard byte == 0x0A else { throw HTTP1ParseError(.badChunk) }
                startSize()
            case .trailers:
                if byte == 0x0A {
                    if trailerLineLength == 0 {
                        state = .done
                        return index
                    }
                    trailerLineLength = 0
                } else if byte != 0x0D {
                    trailerLineLength += 1
                    trailerBytes += 1
                    if trailerBytes > maxTrailerBytes { throw HTTP1ParseError(.headerTooLarge) }
                }
            case .data, .done:
                break  // handled above
            }
        }
        return index
    }

    private mutating func startSize() {
        state = .size
        size = 0
        digits = 0
    }

    private mutating func endSizeLine() {
        if size == 0 {
            state = .trailers
            trailerLineLength = 0
        } else {
            remaining = size
            state = .data
        }
    }

    @inline(__always)
    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: return Int(byte - 0x30)
        case 0x41...0x46: return Int(byte - 0x41 + 10)
        case 0x61...0x66: return Int(byte - 0x61 + 10)
        default: return nil
        }
    }
}
