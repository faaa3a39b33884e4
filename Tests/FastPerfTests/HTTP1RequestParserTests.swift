import Testing

@testable import FastPerf

// MARK: - Helpers

/// An Equatable summary of one parsed request.
struct ParsedRequest: Equatable, CustomStringConvertible {
    var method: String
    var target: String
    var headers: [String]  // "name: value"
    var body: String
    var keepAlive: Bool

    init(method: String, target: String, headers: [String], body: String = "", keepAlive: Bool = true) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.keepAlive = keepAlive
    }

    init(_ request: HTTP1Request) {
        method = request.method
        target = request.target
        headers = request.headers.map { "\($0.name): \($0.value)" }
        body = String(decoding: request.body, as: UTF8.self)
        keepAlive = request.keepAlive
    }

    var description: String { "\(method) \(target) \(headers) body=\(body.debugDescription) keepAlive=\(keepAlive)" }
}

struct RequestRun: Equatable {
    var requests: [ParsedRequest] = []
    var error: HTTP1ParseError? = nil
}

func runRequests(_ chunks: [[UInt8]], maxHeadBytes: Int = 64 * 1024, maxBodyBytes: Int = 1 << 20) -> RequestRun {
    var parser = HTTP1RequestParser(maxHeadBytes: maxHeadBytes, maxBodyBytes: maxBodyBytes)
    var run = RequestRun()
    for chunk in chunks {
        do {
            let completed = try chunk.withUnsafeBytes { bytes in try parser.parse(bytes) }
            run.requests += completed.map(ParsedRequest.init)
        } catch let error as HTTP1ParseError {
            run.error = error
            return run
        } catch {
            Issue.record("unexpected error type: \(error)")
            return run
        }
    }
    return run
}

func runRequests(_ text: String, maxHeadBytes: Int = 64 * 1024, maxBodyBytes: Int = 1 << 20) -> RequestRun {
    runRequests([Array(text.utf8)], maxHeadBytes: maxHeadBytes, maxBodyBytes: maxBodyBytes)
}

func expectRequestSplitInvariance(
    _ text: String, _ expected: RequestRun, sourceLocation: SourceLocation = #_sourceLocation
) {
    let bytes = Array(text.utf8)
    #expect(runRequests([bytes]) == expected, "whole", sourceLocation: sourceLocation)
    #expect(runRequests(bytes.map { [$0] }) == expected, "byte by byte", sourceLocation: sourceLocation)
    for index in 0...bytes.count {
        let result = runRequests(splitFeeds(bytes, at: [index]))
        if result != expected {
            Issue.record("split at \(index): \(result)", sourceLocation: sourceLocation)
            return
        }
    }
}

// MARK: - Tests

@Suite struct HTTP1RequestParserTests {
    static let post = crlfLines(
        "POST /v1/chat/completions HTTP/1.1", "Host: 127.0.0.1:8000", "Content-Type: application/json",
        "Content-Length: 15", "", #"{"a":"hello"}"# + "\r\n")

    @Test func postWithContentLength() throws {
        let run = runRequests(Self.post)
        #expect(run.error == nil)
        #expect(run.requests == [
            ParsedRequest(
                method: "POST", target: "/v1/chat/completions",
                headers: ["Host: 127.0.0.1:8000", "Content-Type: application/json", "Content-Length: 15"],
                body: #"{"a":"hello"}"# + "\r\n")
        ])
        expectRequestSplitInvariance(Self.post, run)

        var parser = HTTP1RequestParser()
        let requests = try Array(Self.post.utf8).withUnsafeBytes { bytes in try parser.parse(bytes) }
        let request = try #require(requests.first)
        #expect(request.header("content-type") == "application/json")
        #expect(request.header("CONTENT-LENGTH") == "15")
        #expect(request.header("Authorization") == nil)
        #expect(request.versionMinor == 1)
        #expect(parser.isIdle)
    }

    /// Bytes that cannot start a request line (a TLS ClientHello, binary) are refused at the first byte, even
    /// without a line end; leading empty lines are still skipped.
    @Test func nonTokenFirstByteIsRefusedAtOnce() {
        let clientHello: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]
        for bytes in [clientHello, [0x0D, 0x0A, 0x16], [0x00], Array(" GET".utf8)] {
            var parser = HTTP1RequestParser()
            #expect(throws: HTTP1ParseError.self, "\(bytes)") { try bytes.withUnsafeBytes { _ = try parser.parse($0) } }
        }
        var parser = HTTP1RequestParser()
        let ok = try? Array("\r\nGE".utf8).withUnsafeBytes { try parser.parse($0) }
        #expect(ok?.isEmpty == true)
    }

    @Test func chunkedBody() {
        let text = crlfLines(
            "POST /upload HTTP/1.1", "Transfer-Encoding: chunked", "", "4;ext=1", "Wiki", "5", "pedia", "E",
            " in\r\n\r\nchunks.", "0", "Trailer-Field: v", "", "")
        let run = runRequests(text)
        #expect(run.error == nil)
        #expect(run.requests == [
            ParsedRequest(
                method: "POST", target: "/upload", headers: ["Transfer-Encoding: chunked"],
                body: "Wikipedia in\r\n\r\nchunks.")
        ])
        expectRequestSplitInvariance(text, run)
    }

    @Test func pipelinedRequestsInOneFeed() throws {
        let get = crlfLines("GET /v1/models HTTP/1.1", "Host: x", "", "")
        let text = get + Self.post + "\r\n" + crlfLines("DELETE /x?y=1 HTTP/1.1", "Connection: close", "", "")
        var parser = HTTP1RequestParser()
        let requests = try Array(text.utf8).withUnsafeBytes { bytes in try parser.parse(bytes) }
        #expect(requests.map(\.method) == ["GET", "POST", "DELETE"])
        #expect(requests.map(\.target) == ["/v1/models", "/v1/chat/completions", "/x?y=1"])
        #expect(requests.map(\.keepAlive) == [true, true, false])
        #expect(requests[0].body.isEmpty)
        #expect(requests[1].body.count == 15)
        let run = runRequests(text)
        #expect(run.requests.count == 3)
        expectRequestSplitInvariance(text, run)
    }

    @Test func requestsCompleteAsTheirLastByteArrives() throws {
        var parser = HTTP1RequestParser()
        let bytes = Array(Self.post.utf8)
        var completedAt: [Int] = []
        for (index, byte) in bytes.enumerated() {
            let requests = try [byte].withUnsafeBytes { raw in try parser.parse(raw) }
            if !requests.isEmpty { completedAt.append(index) }
            #expect(parser.isIdle == (index == bytes.count - 1))
        }
        #expect(completedAt == [bytes.count - 1])
    }

    @Test func keepAliveRules() {
        let cases: [(String, [String], Bool)] = [
            ("HTTP/1.1", [], true),
            ("HTTP/1.1", ["Connection: close"], false),
            ("HTTP/1.1", ["Connection: keep-alive, Close"], false),
            ("HTTP/1.0", [], false),
            ("HTTP/1.0", ["Connection: Keep-Alive"], true),
            ("HTTP/1.1", ["Content-Length: 3", "Transfer-Encoding: chunked"], false),
        ]
        for (version, fields, keepAlive) in cases {
            let lines = ["POST / \(version)"] + fields + ["", ""]
            var text = lines.joined(separator: "\r\n")
            if fields.contains("Transfer-Encoding: chunked") { text += "3\r\nabc\r\n0\r\n\r\n" }
            let run = runRequests(text)
            #expect(run.error == nil)
            #expect(run.requests.map(\.keepAlive) == [keepAlive], "\(version) \(fields)")
        }
        // Chunked wins over Content-Length.
        let both = runRequests(crlfLines("POST / HTTP/1.1", "Content-Length: 3", "Transfer-Encoding: chunked", "", "5", "hello", "0", "", ""))
        #expect(both.requests.map(\.body) == ["hello"])
    }

    @Test func badRequestLines() {
        for line in [
            "GET /", "GET  / HTTP/1.1", "GET / HTTP/2.0", "G@T / HTTP/1.1", "GET / HTTP/1.1 extra", " GET / HTTP/1.1",
            "GET /a b HTTP/1.1", "GET / http/1.1", "GET / HTTP/1.1x", "GET\t/ HTTP/1.1",
        ] {
            let text = crlfLines(line, "Host: x", "", "")
            let run = runRequests(text)
            #expect(run.error == HTTP1ParseError(.badRequestLine), "\(line.debugDescription)")
            #expect(run.requests.isEmpty)
            expectRequestSplitInvariance(text, run)
        }
    }

    @Test func leadingEmptyLinesAreIgnored() {
        let run = runRequests("\r\n\n\r\n" + crlfLines("GET / HTTP/1.1", "", ""))
        #expect(run.error == nil)
        #expect(run.requests == [ParsedRequest(method: "GET", target: "/", headers: [])])
    }

    @Test func headerErrors() {
        #expect(runRequests(crlfLines("GET / HTTP/1.1", "NoColon", "", "")).error == HTTP1ParseError(.badHeader))
        #expect(runRequests(crlfLines("POST / HTTP/1.1", "Content-Length: 1", "Content-Length: 2", "", "ab")).error
            == HTTP1ParseError(.badContentLength))
        #expect(runRequests(crlfLines("POST / HTTP/1.1", "Transfer-Encoding: gzip", "", "ab")).error == HTTP1ParseError(.badHeader))
        let big = crlfLines("GET / HTTP/1.1", "X: " + String(repeating: "a", count: 300), "", "")
        #expect(runRequests(big, maxHeadBytes: 256).error == HTTP1ParseError(.headerTooLarge))
        #expect(runRequests(big, maxHeadBytes: big.utf8.count).error == nil)
    }

    @Test func bodyLimits() {
        let fixed = crlfLines("POST / HTTP/1.1", "Content-Length: 11", "", "hello world")
        #expect(runRequests(fixed, maxBodyBytes: 10).error == HTTP1ParseError(.bodyTooLarge))
        #expect(runRequests(fixed, maxBodyBytes: 11).requests.map(\.body) == ["hello world"])
        let chunked = crlfLines("POST / HTTP/1.1", "Transfer-Encoding: chunked", "", "6", "hello ", "5", "world", "0", "", "")
        #expect(runRequests(chunked, maxBodyBytes: 10).error == HTTP1ParseError(.bodyTooLarge))
        #expect(runRequests(chunked, maxBodyBytes: 11).requests.map(\.body) == ["hello world"])
    }

    @Test func failedParserStaysFailed() throws {
        var parser = HTTP1RequestParser()
        let bad = Array(crlfLines("BAD", "", "").utf8)
        let good = Array(crlfLines("GET / HTTP/1.1", "", "").utf8)
        bad.withUnsafeBytes { bytes in
            _ = #expect(throws: HTTP1ParseError(.badRequestLine)) { _ = try parser.parse(bytes) }
        }
        good.withUnsafeBytes { bytes in
            _ = #expect(throws: HTTP1ParseError(.badRequestLine)) { _ = try parser.parse(bytes) }
        }
        #expect(!parser.isIdle)
    }
}
