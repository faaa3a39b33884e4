import Testing

@testable import FastPerf

// MARK: - Helpers

/// Everything observable after feeding a response (and optionally closing the connection).
struct ResponseRun: Equatable, CustomStringConvertible {
    var heads: [HTTP1ResponseHead] = []
    var body: [UInt8] = []
    var ends = 0
    var error: HTTP1ParseError? = nil
    /// What `finish` returned, when it was called and did not throw.
    var finishResult: Bool? = nil
    /// Set when an event arrived out of order (body before head, anything after end).
    var outOfOrder = false
    /// The parser's `bytesAfterEnd` at the end.
    var afterEnd = 0

    var bodyString: String { String(decoding: body, as: UTF8.self) }
    var description: String {
        "heads: \(heads.map(\.status)), body: \(bodyString.debugDescription), ends: \(ends), error: \(String(describing: error)), finish: \(String(describing: finishResult))"
    }
}

/// Feeds `chunks` to a fresh parser; stops at the first error. With `close`, then calls `finish`.
func runResponse(_ chunks: [[UInt8]], close: Bool = false, maxHeadBytes: Int = 64 * 1024) -> ResponseRun {
    var parser = HTTP1ResponseParser(maxHeadBytes: maxHeadBytes)
    var run = ResponseRun()
    func record(_ event: HTTP1ResponseEvent) {
        switch event {
        case .head(let head):
            if !run.heads.isEmpty || run.ends > 0 { run.outOfOrder = true }
            run.heads.append(head)
        case .body(let slice):
            if run.heads.isEmpty || run.ends > 0 { run.outOfOrder = true }
            run.body.append(contentsOf: slice)
        case .end:
            if run.heads.isEmpty || run.ends > 0 { run.outOfOrder = true }
            run.ends += 1
        }
    }
    for chunk in chunks {
        do {
            try chunk.withUnsafeBytes { bytes in
                try parser.parse(bytes) { record($0) }
            }
        } catch let error as HTTP1ParseError {
            run.error = error
            return run
        } catch {
            Issue.record("unexpected error type: \(error)")
            return run
        }
    }
    if close {
        do {
            run.finishResult = try parser.finish { record($0) }
        } catch {
            run.error = error
        }
    }
    #expect(parser.isComplete == (run.ends == 1))
    run.afterEnd = parser.bytesAfterEnd
    return run
}

func runResponse(_ text: String, close: Bool = false, maxHeadBytes: Int = 64 * 1024) -> ResponseRun {
    runResponse([Array(text.utf8)], close: close, maxHeadBytes: maxHeadBytes)
}

/// Asserts that feeding `bytes` whole, byte by byte and split at every index into two feeds
/// all give `expected`.
func expectResponseSplitInvariance(
    _ bytes: [UInt8], _ expected: ResponseRun, close: Bool = false, maxHeadBytes: Int = 64 * 1024,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(expected.outOfOrder == false, sourceLocation: sourceLocation)
    #expect(runResponse([bytes], close: close, maxHeadBytes: maxHeadBytes) == expected, "whole",
        sourceLocation: sourceLocation)
    #expect(runResponse(bytes.map { [$0] }, close: close, maxHeadBytes: maxHeadBytes) == expected, "byte by byte",
        sourceLocation: sourceLocation)
    for index in 0...bytes.count {
        let result = runResponse(splitFeeds(bytes, at: [index]), close: close, maxHeadBytes: maxHeadBytes)
        if result != expected {
            Issue.record("split at \(index): \(result)", sourceLocation: sourceLocation)
            return
        }
    }
}

func crlfLines(_ lines: String...) -> String { crlfLines(lines) }
func crlfLines(_ lines: [String]) -> String { lines.joined(separator: "\r\n") }

func makeResponseHead(
    status: Int = 200, minor: Int = 1, keepAlive: Bool = true, contentLength: Int? = nil, isChunked: Bool = false,
    isEventStream: Bool = false, contentType: String = "", retryAfter: String? = nil
) -> HTTP1ResponseHead {
    HTTP1ResponseHead(
        status: status, versionMajor: 1, versionMinor: minor, keepAlive: keepAlive, contentLength: contentLength,
        isChunked: isChunked, isEventStream: isEventStream, contentType: contentType, retryAfter: retryAfter)
}

// MARK: - Framing

@Suite struct HTTP1ResponseParserFramingTests {
    @Test func contentLengthBody() {
        let text = crlfLines("HTTP/1.1 200 OK", "Content-Type: application/json", "Content-Length: 11", "", "hello world")
        let run = runResponse(text, close: true)
        #expect(run.heads == [makeResponseHead(contentLength: 11, contentType: "application/json")])
        #expect(run.bodyString == "hello world")
        #expect(run.ends == 1)
        #expect(run.finishResult == false)  // already complete: close adds nothing
        #expect(run.error == nil)
        expectResponseSplitInvariance(Array(text.utf8), run, close: true)
    }

    @Test func contentLengthZeroEndsAtHead() {
        let text = crlfLines("HTTP/1.1 200 OK", "Content-Length: 0", "", "")
        let run = runResponse(text)
        #expect(run.heads == [makeResponseHead(contentLength: 0)])
        #expect(run.body.isEmpty)
        #expect(run.ends == 1)
        expectResponseSplitInvariance(Array(text.utf8), run)
    }

    @Test func chunkedWithExtensionsTrailersAndUppercaseHex() {
        let text = crlfLines(
            "HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "Content-Type: Text/Event-Stream; charset=utf-8", "",
            "5;name=val", "hello", "A", "0123456789", "1a ; x=\"q\"", "abcdefghijklmnopqrstuvwxyz", "0;last",
            "X-Trailer: 1", "Y: 2", "", "")
        let run = runResponse(text, close: true)
        #expect(run.heads == [makeResponseHead(isChunked: true, isEventStream: true, contentType: "Text/Event-Stream; charset=utf-8")])
        #expect(run.bodyString == "hello0123456789abcdefghijklmnopqrstuvwxyz")
        #expect(run.ends == 1)
        #expect(run.finishResult == false)
        #expect(run.error == nil)
        expectResponseSplitInvariance(Array(text.utf8), run, close: true)
    }

    @Test func chunkedWithBareLFAndLowercaseHex() {
        let text = "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\nb\nhello world\nf\n0123456789abcde\n0\n\n"
        let run = runResponse(text)
        #expect(run.heads == [makeResponseHead(isChunked: true)])
        #expect(run.bodyString == "hello world0123456789abcde")
        #expect(run.ends == 1)
        expectResponseSplitInvariance(Array(text.utf8), run)
    }

    @Test func chunkedWithoutTrailersAndBigChunk() {
        let payload = String(repeating: "x", count: 5000)
        let text = crlfLines("HTTP/1.1 200 OK", "transfer-encoding: gzip, Chunked", "", "1388", payload, "0", "", "")
        let run = runResponse(text)
        #expect(run.heads.first?.isChunked == true)
        #expect(run.body.count == 5000)
        #expect(run.ends == 1)
    }

    @Test func closeDelimitedBodyEndsOnFinish() {
        let text = crlfLines("HTTP/1.1 200 OK", "Content-Type: text/event-stream", "", "data: x\n\ndata: y\n\n")
        let run = runResponse(text, close: true)
        #expect(run.heads == [makeResponseHead(keepAlive: false, isEventStream: true, contentType: "text/event-stream")])
        #expect(run.bodyString == "data: x\n\ndata: y\n\n")
        #expect(run.ends == 1)
        #expect(run.finishResult == true)
        expectResponseSplitInvariance(Array(text.utf8), run, close: true)
        // Without the close there is no end.
        let open = runResponse(text)
        #expect(open.ends == 0)
        #expect(open.bodyString == "data: x\n\ndata: y\n\n")
    }

    @Test func nonChunkedTransferEncodingIsCloseDelimited() {
        let text = crlfLines("HTTP/1.1 200 OK", "Transfer-Encoding: chunked, gzip", "", "raw")
        let run = runResponse(text, close: true)
        #expect(run.heads == [makeResponseHead(keepAlive: false)])
        #expect(run.bodyString == "raw")
        #expect(run.finishResult == true)
    }

    @Test func chunkedWinsOverContentLengthAndDisablesReuse() {
        let text = crlfLines("HTTP/1.1 200 OK", "Content-Length: 100", "Transfer-Encoding: chunked", "", "3", "abc", "0", "", "")
        let run = runResponse(text)
        #expect(run.heads == [makeResponseHead(keepAlive: false, contentLength: 100, isChunked: true)])
        #expect(run.bodyString == "abc")
        #expect(run.ends == 1)
        expectResponseSplitInvariance(Array(text.utf8), run)
    }

    @Test func interimResponsesAreSkipped() {
        let text = crlfLines(
            "HTTP/1.1 100 Continue", "", "HTTP/1.1 103 Early Hints", "Link: </style.css>; rel=preload", "",
            "HTTP/1.1 200 OK", "Content-Length: 2", "", "ok")
        let run = runResponse(text)
        #expect(run.heads == [makeResponseHead(contentLength: 2)])
        #expect(run.bodyString == "ok")
        #expect(run.ends == 1)
        expectResponseSplitInvariance(Array(text.utf8), run)
    }

    @Test func closeAfterInterimResponseIsTruncatedHead() {
        let run = runResponse(crlfLines("HTTP/1.1 100 Continue", "", ""), close: true)
        #expect(run.heads.isEmpty)
        #expect(run.error == HTTP1ParseError(.truncatedHead))
    }

    @Test func noContentAndNotModifiedHaveNoBody() {
        for status in [204, 304] {
            let text = crlfLines("HTTP/1.1 \(status) Whatever", "Content-Type: text/plain", "", "")
            let run = runResponse(text)
            #expect(run.heads == [makeResponseHead(status: status, contentType: "text/plain")])
            #expect(run.body.isEmpty)
            #expect(run.ends == 1)
            expectResponseSplitInvariance(Array(text.utf8), run)
            // A body after it is data after the end: discarded, the response stays complete.
            let after = runResponse(text + "x")
            #expect(after.error == nil && after.ends == 1 && after.body.isEmpty && after.afterEnd == 1)
        }
    }

    @Test func keepAliveRules() {
        let cases: [(String, String?, Bool)] = [
            ("HTTP/1.1", nil, true),
            ("HTTP/1.1", "close", false),
            ("HTTP/1.1", "Keep-Alive, CLOSE", false),
            ("HTTP/1.1", "keep-alive", true),
            ("HTTP/1.1", "Upgrade", true),
            ("HTTP/1.0", nil, false),
            ("HTTP/1.0", "keep-alive", true),
            ("HTTP/1.0", "Keep-Alive", true),
            ("HTTP/1.0", "keep-alive, close", false),
        ]
        for (version, connection, keepAlive) in cases {
            var lines = ["\(version) 200 OK", "Content-Length: 0"]
            if let connection { lines.append("Connection: \(connection)") }
            let text = lines.joined(separator: "\r\n") + "\r\n\r\n"
            let run = runResponse(text)
            #expect(run.heads.first?.keepAlive == keepAlive, "\(version) \(connection ?? "-")")
            #expect(run.heads.first?.versionMinor == (version == "HTTP/1.0" ? 0 : 1))
            #expect(run.ends == 1)
        }
        // A close-delimited body never allows reuse, whatever Connection says.
        #expect(runResponse(crlfLines("HTTP/1.1 200 OK", "Connection: keep-alive", "", "x")).heads.first?.keepAlive == false)
    }

    @Test func emptyReasonPhraseAndMissingSpace() {
        for line in ["HTTP/1.1 200 ", "HTTP/1.1 200", "HTTP/1.1 404 Not  Found here"] {
            let run = runResponse(crlfLines(line, "Content-Length: 0", "", ""))
            #expect(run.error == nil, "\(line)")
            #expect(run.heads.count == 1)
        }
    }

    @Test func obsFoldIsJoinedWithOneSpace() {
        let text = crlfLines("HTTP/1.1 200 OK", "Content-Type: text/event-stream;", " \t charset=utf-8", "Content-Length: 0", "", "")
        let run = runResponse(text)
        #expect(run.heads.first?.contentType == "text/event-stream; charset=utf-8")
        #expect(run.heads.first?.isEventStream == true)
        expectResponseSplitInvariance(Array(text.utf8), run)
    }

    @Test func headerValuesAreTrimmedAndNamesCaseInsensitive() {
        let text = crlfLines("HTTP/1.1 503 Busy", "CONTENT-type:\t text/event-stream  ", "Retry-After:  120 ", "content-LENGTH:3", "", "abc")
        let run = runResponse(text)
        #expect(run.heads == [
            makeResponseHead(status: 503, contentLength: 3, isEventStream: true, contentType: "text/event-stream", retryAfter: "120")
        ])
        #expect(run.bodyString == "abc")
    }

    @Test func eventStreamDetectionIgnoresParametersOnly() {
        let cases: [(String, Bool)] = [
            ("text/event-stream", true), ("TEXT/EVENT-STREAM;charset=UTF-8", true), ("text/event-stream ; x=y", true),
            ("text/event-streams", false), ("application/json", false), ("text/plain; a=text/event-stream", false),
        ]
        for (value, expected) in cases {
            let run = runResponse(crlfLines("HTTP/1.1 200 OK", "Content-Type: \(value)", "Content-Length: 0", "", ""))
            #expect(run.heads.first?.isEventStream == expected, "\(value)")
        }
        #expect(runResponse(crlfLines("HTTP/1.1 200 OK", "Content-Length: 0", "", "")).heads.first?.contentType == "")
    }

    @Test func identicalDuplicateContentLengthsAreAccepted() {
        let run = runResponse(crlfLines("HTTP/1.1 200 OK", "Content-Length: 3, 3", "Content-Length: 3", "", "abc"))
        #expect(run.error == nil)
        #expect(run.heads.first?.contentLength == 3)
        #expect(run.bodyString == "abc")
    }

    @Test func responsesInSequenceAfterReset() throws {
        var parser = HTTP1ResponseParser()
        #expect(parser.isIdle)
        var statuses: [Int] = []
        var bodies: [UInt8] = []
        var ends = 0
        for (status, body) in [(200, "first"), (201, "second!")] {
            let text = crlfLines("HTTP/1.1 \(status) OK", "Content-Length: \(body.utf8.count)", "", body)
            Array(text.utf8).withUnsafeBytes { bytes in
                #expect(throws: Never.self) {
                    try parser.parse(bytes) { event in
                        switch event {
                        case .head(let head): statuses.append(head.status)
                        case .body(let slice): bodies.append(contentsOf: slice)
                        case .end: ends += 1
                        }
                    }
                }
            }
            #expect(parser.isComplete)
            #expect(!parser.isIdle)
            parser.reset()
            #expect(parser.isIdle)
            #expect(!parser.isComplete)
        }
        #expect(statuses == [200, 201])
        #expect(String(decoding: bodies, as: UTF8.self) == "firstsecond!")
        #expect(ends == 2)
        // An idle connection closing is not an error and emits nothing.
        let finished = try parser.finish { _ in Issue.record("no event expected") }
        #expect(finished == false)
    }

    @Test func bodySlicesAreZeroCopyViewsOfTheInput() {
        for text in [
            crlfLines("HTTP/1.1 200 OK", "Content-Length: 5", "", "hello"),
            crlfLines("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "", "5", "hello", "0", "", ""),
            crlfLines("HTTP/1.1 200 OK", "", "hello"),
        ] {
            var parser = HTTP1ResponseParser()
            var inside = 0
            Array(text.utf8).withUnsafeBytes { input in
                #expect(throws: Never.self) {
                    try parser.parse(input) { event in
                        if case .body(let slice) = event, let base = slice.baseAddress {
                            if base >= input.baseAddress! && base + slice.count <= input.baseAddress! + input.count {
                                inside += 1
                            }
                        }
                    }
                }
            }
            #expect(inside == 1)
        }
    }
}

// MARK: - Errors

@Suite struct HTTP1ResponseParserErrorTests {
    @Test func badStatusLines() {
        for line in [
            "HTTP/1.1 20 OK", "HTTP/2 200 OK", "HTTP/2.0 200 OK", "HTTP/1.1 abc OK", "ICY 200 OK", "HTTP/1.1  200 OK",
            "HTTP/1.1 200OK", "http/1.1 200 OK", "HTTP/1.1 099 Low", "HTTP/1.1 101 Switching Protocols", "",
        ] {
            let text = crlfLines(line, "Content-Length: 0", "", "")
            let run = runResponse(text)
            #expect(run.error == HTTP1ParseError(.badStatusLine), "\(line.debugDescription)")
            #expect(run.heads.isEmpty)
            expectResponseSplitInvariance(Array(text.utf8), run)
        }
    }

    @Test func badHeaderLines() {
        for header in ["NoColon", "Space Before: x", "Name : x", ": empty-name", "Bad\u{1}Name: x", "A: b\rc"] {
            let text = crlfLines("HTTP/1.1 200 OK", header, "Content-Length: 0", "", "")
            let run = runResponse(text)
            #expect(run.error == HTTP1ParseError(.badHeader), "\(header.debugDescription)")
            #expect(run.heads.isEmpty)
        }
        // obs-fold before any field has nothing to continue.
        let text = crlfLines("HTTP/1.1 200 OK", " folded", "Content-Length: 0", "", "")
        let run = runResponse(text)
        #expect(run.error == HTTP1ParseError(.badHeader))
        expectResponseSplitInvariance(Array(text.utf8), run)
    }

    @Test func badChunkSizes() {
        for chunkLines in [["zz", "x"], ["", "x"], [" 5", "hello"], ["5x", "hello"], ["1234567890abcdef0", "x"], ["-1", "x"]] {
            let text = crlfLines(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked", ""] + chunkLines + ["0", "", ""])
            let run = runResponse(text)
            #expect(run.error == HTTP1ParseError(.badChunk), "\(chunkLines)")
            #expect(run.heads.count == 1)
            #expect(run.ends == 0)
            expectResponseSplitInvariance(Array(text.utf8), run)
        }
    }

    @Test func chunkDataNotFollowedByCRLF() {
        for tail in ["5\r\nhelloX\r\n0\r\n\r\n", "5\r\nhello\rX0\r\n\r\n", "5\rX\nhello\r\n0\r\n\r\n"] {
            let text = crlfLines("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "", "") + tail
            let run = runResponse(text)
            #expect(run.error == HTTP1ParseError(.badChunk), "\(tail.debugDescription)")
            expectResponseSplitInvariance(Array(text.utf8), run)
        }
    }

    @Test func conflictingContentLengths() {
        for fields in [
            ["Content-Length: 5", "Content-Length: 6"], ["Content-Length: 5, 6"], ["Content-Length: abc"],
            ["Content-Length: -1"], ["Content-Length: +5"], ["Content-Length:"], ["Content-Length: 99999999999999999999999"],
        ] {
            let text = crlfLines(["HTTP/1.1 200 OK"] + fields + ["", "hello"])
            let run = runResponse(text)
            #expect(run.error == HTTP1ParseError(.badContentLength), "\(fields)")
            #expect(run.heads.isEmpty)
            expectResponseSplitInvariance(Array(text.utf8), run)
        }
    }

    /// Bytes after a complete response (RFC 9112 §6.3) are discarded and counted, in the same read or later
    /// ones; the response stays complete. `reset()` forgets the count.
    @Test func dataAfterEndIsDiscarded() {
        let text = crlfLines("HTTP/1.1 200 OK", "Content-Length: 2", "", "okEXTRA")
        let run = runResponse(text)
        #expect(run.heads.count == 1)
        #expect(run.bodyString == "ok")
        #expect(run.ends == 1)
        #expect(run.error == nil)
        #expect(run.afterEnd == 5)
        expectResponseSplitInvariance(Array(text.utf8), run)
        var parser = HTTP1ResponseParser()
        Array(text.utf8).withUnsafeBytes { bytes in
            #expect(throws: Never.self) { try parser.parse(bytes) { _ in } }
            #expect(throws: Never.self) { try parser.parse(bytes) { _ in } }  // a whole second read: discarded too
        }
        #expect(parser.isComplete && parser.bytesAfterEnd == 5 + text.utf8.count)
        parser.reset()
        #expect(parser.bytesAfterEnd == 0)
    }

    /// Empty lines (CRLF or LF) before the status line are skipped: a server's stray line end after its previous
    /// response does not fail the next one.
    @Test func emptyLinesBeforeTheStatusLineAreSkipped() {
        let response = crlfLines("HTTP/1.1 200 OK", "Content-Length: 2", "", "ok")
        for lead in ["\r\n", "\n", "\r\n\r\n"] {
            let run = runResponse(lead + response)
            #expect(run.error == nil && run.heads.count == 1 && run.bodyString == "ok" && run.ends == 1, "\(lead.debugDescription)")
            expectResponseSplitInvariance(Array((lead + response).utf8), run)
        }
    }

    @Test func truncatedChunkedBodyAtClose() {
        let text = crlfLines("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "", "5", "hel")
        let run = runResponse(text, close: true)
        #expect(run.heads.count == 1)
        #expect(run.bodyString == "hel")
        #expect(run.ends == 0)
        #expect(run.error == HTTP1ParseError(.truncatedBody))
        expectResponseSplitInvariance(Array(text.utf8), run, close: true)
        // Missing only the terminating zero chunk (case-15 sent chunked) is truncation too.
        let noLast = runResponse(crlfLines("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "", "5", "hello", ""), close: true)
        #expect(noLast.bodyString == "hello")
        #expect(noLast.error == HTTP1ParseError(.truncatedBody))
        // And so is a close inside the trailer section.
        let inTrailers = runResponse(crlfLines("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "", "0", "X: y", ""), close: true)
        #expect(inTrailers.error == HTTP1ParseError(.truncatedBody))
    }

    @Test func truncatedContentLengthBodyAtClose() {
        let text = crlfLines("HTTP/1.1 200 OK", "Content-Length: 10", "", "12345")
        let run = runResponse(text, close: true)
        #expect(run.bodyString == "12345")
        #expect(run.error == HTTP1ParseError(.truncatedBody))
        expectResponseSplitInvariance(Array(text.utf8), run, close: true)
    }

    @Test func truncatedHeadAtClose() {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: text/event-str"
        let run = runResponse(text, close: true)
        #expect(run.heads.isEmpty)
        #expect(run.error == HTTP1ParseError(.truncatedHead))
        // Every prefix of a head, except the empty one, is a truncated head.
        let bytes = Array(text.utf8)
        for length in 1...bytes.count {
            #expect(runResponse([Array(bytes[..<length])], close: true).error == HTTP1ParseError(.truncatedHead))
        }
        #expect(runResponse([[]], close: true) == ResponseRun(finishResult: false))
    }

    @Test func headerOverLimit() {
        let head = crlfLines("HTTP/1.1 200 OK", "X-Big: " + String(repeating: "a", count: 100), "Content-Length: 0", "", "")
        let size = head.utf8.count
        // Exactly at the limit is fine; one byte less is too large.
        let atLimit = runResponse(head, maxHeadBytes: size)
        #expect(atLimit.error == nil)
        #expect(atLimit.ends == 1)
        let over = runResponse(head, maxHeadBytes: size - 1)
        #expect(over.error == HTTP1ParseError(.headerTooLarge))
        #expect(over.heads.isEmpty)
        expectResponseSplitInvariance(Array(head.utf8), over, maxHeadBytes: size - 1)
        expectResponseSplitInvariance(Array(head.utf8), atLimit, maxHeadBytes: size)
        // A head that never ends fails as soon as it passes the limit, not at close.
        let endless = runResponse([Array("HTTP/1.1 200 OK\r\n".utf8), [UInt8](repeating: 0x61, count: 200)], maxHeadBytes: 100)
        #expect(endless.error == HTTP1ParseError(.headerTooLarge))
    }

    @Test func trailerOverLimit() {
        let text = crlfLines("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "", "0", "X: " + String(repeating: "t", count: 200), "", "")
        let run = runResponse(text, maxHeadBytes: 100)
        #expect(run.error == HTTP1ParseError(.headerTooLarge))
        #expect(run.heads.count == 1)
    }

    @Test func errorDescriptionsAreOneLine() {
        let kinds: [HTTP1ParseError.Kind] = [
            .badStatusLine, .badRequestLine, .badHeader, .badContentLength, .badChunk, .headerTooLarge, .bodyTooLarge,
            .truncatedBody, .truncatedHead,
        ]
        let descriptions = kinds.map { HTTP1ParseError($0).description }
        #expect(Set(descriptions).count == kinds.count)
        #expect(descriptions.allSatisfy { !$0.isEmpty && !$0.contains("\n") })
        #expect(HTTP1ParseError(.badStatusLine).description == "malformed HTTP status line")
        #expect(HTTP1ParseError(.badChunk) != HTTP1ParseError(.badHeader))
    }
}

// MARK: - Real-world responses (../shared/cases)

@Suite struct HTTP1ResponseParserCaseTests {
    static let eventStreamCases = [
        "case-01", "case-02", "case-04", "case-05", "case-06", "case-08", "case-09", "case-10", "case-12", "case-13",
        "case-15", "case-19", "case-20", "case-21",
    ]

    @Test(arguments: eventStreamCases)
    func eventStreamCaseIsCloseDelimited(_ name: String) throws {
        let fixture = try CaseFixtures.load(name)
        let run = runResponse([fixture.whole], close: true)
        #expect(run.error == nil)
        #expect(run.heads.count == 1)
        let head = try #require(run.heads.first)
        #expect(head.status == 200)
        #expect(head.isEventStream)
        #expect(head.contentType.lowercased().hasPrefix("text/event-stream"))
        #expect(head.keepAlive == false)
        #expect(head.contentLength == nil)
        #expect(head.isChunked == false)
        #expect(run.body == fixture.body)
        #expect(run.ends == 1)
        #expect(run.finishResult == true)
    }

    @Test func case05SplitAtEveryIndex() throws {
        let fixture = try CaseFixtures.load("case-05")
        #expect(fixture.head.count == 86)
        let expected = runResponse([fixture.whole], close: true)
        #expect(expected.body.count == 1194)
        expectResponseSplitInvariance(fixture.whole, expected, close: true)
    }

    @Test func case16RateLimitWithContentLength() throws {
        let fixture = try CaseFixtures.load("case-16")
        let run = runResponse([fixture.whole])  // ends without a close: Content-Length frames it
        #expect(run.heads == [
            makeResponseHead(status: 429, keepAlive: false, contentLength: 126, contentType: "application/json", retryAfter: "2")
        ])
        #expect(run.body.count == 126)
        #expect(run.bodyString.hasPrefix(#"{"error":{"message":"Rate limit reached (test fixture)""#))
        #expect(run.ends == 1)
        #expect(run.error == nil)
        expectResponseSplitInvariance(fixture.whole, run)
    }
}
