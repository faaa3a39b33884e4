import Foundation
import Testing
@testable import FastPerf

/// An nghttp2 client session and server session pumped into each other in memory (STYLE.md §I.3): no socket.
@Suite(.timeLimit(.minutes(1)))
struct HTTP2InMemoryTests {
    /// Records what one side of the pair saw.
    final class Peer: NGHTTP2SessionDelegate {
        var session: NGHTTP2Session!
        var headers: [Int32: [(String, String)]] = [:]
        var data: [Int32: [UInt8]] = [:]
        var closed: [Int32: UInt32] = [:]
        var completedRequests: [Int32] = []
        var goAway: (Int32, UInt32)?
        /// Server: what to do with a complete request.
        var onRequest: ((Int32) -> Void)?

        func http2(stream streamID: Int32, header name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
            headers[streamID, default: []].append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        func http2(streamHeadersComplete streamID: Int32, endStream: Bool) {
            if endStream { completedRequests.append(streamID); onRequest?(streamID) }
        }
        func http2(stream streamID: Int32, data bytes: UnsafeRawBufferPointer) { data[streamID, default: []].append(contentsOf: bytes) }
        func http2(streamDataEnded streamID: Int32) { completedRequests.append(streamID); onRequest?(streamID) }
        func http2(streamClosed streamID: Int32, errorCode: UInt32) { closed[streamID] = errorCode }
        func http2(goAwayLastStream lastStreamID: Int32, errorCode: UInt32) { goAway = (lastStreamID, errorCode) }
    }

    /// Moves bytes both ways until both sessions are quiet; returns the number of rounds.
    @discardableResult
    static func pump(_ a: Peer, _ b: Peer) -> Int {
        var rounds = 0
        while rounds < 1000 {
            var ab: [UInt8] = []
            var ba: [UInt8] = []
            #expect(a.session.drainOutput(into: &ab) == nil)
            #expect(b.session.drainOutput(into: &ba) == nil)
            if ab.isEmpty && ba.isEmpty { break }
            ab.withUnsafeBytes { #expect(b.session.receive($0) == nil) }
            ba.withUnsafeBytes { #expect(a.session.receive($0) == nil) }
            rounds += 1
        }
        return rounds
    }

    static func pair() -> (client: Peer, server: Peer) {
        let client = Peer()
        client.session = NGHTTP2Session(role: .client, delegate: client, maxConcurrentStreams: 100)
        let server = Peer()
        server.session = NGHTTP2Session(role: .server, delegate: server, maxConcurrentStreams: 8)
        return (client, server)
    }

    static let sse = Array("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: [DONE]\n\n".utf8)

    /// A POST to /v1/chat/completions comes back as a 200 with an SSE body; the request's pseudo-headers and
    /// body arrive intact, both streams close with NO_ERROR, and the server's SETTINGS cap the client.
    @Test func postGetsAnSSEResponse() throws {
        let (client, server) = Self.pair()
        server.onRequest = { id in
            server.session.submitResponse(stream: id, headers: [(":status", "200"), ("content-type", "text/event-stream")])
            server.session.appendBody(stream: id, Self.sse, end: true)
        }
        let body = Array(#"{"model":"m","stream":true}"#.utf8)
        let headerText = [(":method", "POST"), (":scheme", "http"), (":authority", "h"), (":path", "/v1/chat/completions"),
                          ("content-type", "application/json")].map { (Array($0.0.utf8), Array($0.1.utf8)) }
        body.withUnsafeBytes { bodyBytes in
            let id = headerText.withPointers { client.session.submitRequest(headers: $0, body: bodyBytes) }
            #expect(id == 1)
            Self.pump(client, server)
        }
        let got = Dictionary(server.headers[1] ?? [], uniquingKeysWith: { a, _ in a })
        #expect(got[":method"] == "POST")
        #expect(got[":path"] == "/v1/chat/completions")
        #expect(server.data[1] == body)
        #expect(client.headers[1]?.first?.0 == ":status")
        #expect(client.headers[1]?.first?.1 == "200")
        #expect(client.data[1] == Self.sse)
        #expect(client.closed[1] == 0)
        #expect(client.session.remoteMaxConcurrentStreams == 8)
    }

    /// A response body appended over time (the server's data provider defers while empty) arrives in order.
    @Test func deferredBodyResumes() throws {
        let (client, server) = Self.pair()
        server.onRequest = { id in
            server.session.submitResponse(stream: id, headers: [(":status", "200"), ("content-type", "text/event-stream")])
        }
        let headerText = [(":method", "GET"), (":scheme", "http"), (":authority", "h"), (":path", "/")].map { (Array($0.0.utf8), Array($0.1.utf8)) }
        let id = headerText.withPointers { client.session.submitRequest(headers: $0, body: UnsafeRawBufferPointer(start: nil, count: 0)) }
        Self.pump(client, server)
        #expect(client.closed[id] == nil)
        for k in 0..<5 {
            server.session.appendBody(stream: id, Array("data: \(k)\n\n".utf8), end: k == 4)
            Self.pump(client, server)
        }
        #expect(String(decoding: client.data[id] ?? [], as: UTF8.self) == (0..<5).map { "data: \($0)\n\n" }.joined())
        #expect(client.closed[id] == 0)
    }

    /// RST_STREAM REFUSED_STREAM and GOAWAY reach the client with their codes (RFC 9113 §6.4, §6.8).
    @Test func resetAndGoAwayCarryTheirCodes() throws {
        let (client, server) = Self.pair()
        server.onRequest = { id in server.session.resetStream(id, errorCode: 7) }
        let headerText = [(":method", "GET"), (":scheme", "http"), (":authority", "h"), (":path", "/")].map { (Array($0.0.utf8), Array($0.1.utf8)) }
        let id = headerText.withPointers { client.session.submitRequest(headers: $0, body: UnsafeRawBufferPointer(start: nil, count: 0)) }
        Self.pump(client, server)
        #expect(client.closed[id] == 7)
        #expect(NGHTTP2Session.errorName(7) == "REFUSED_STREAM")
        server.session.goAway(errorCode: 0)
        Self.pump(client, server)
        #expect(client.goAway?.1 == 0)
        #expect(client.goAway?.0 == id)
    }
}

extension Array where Element == ([UInt8], [UInt8]) {
    /// Calls `body` with the name/value pairs as raw buffers that stay valid for the whole test process.
    func withPointers<R>(_ body: ([(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)]) -> R) -> R {
        let flat = self.map { (Data($0.0), Data($0.1)) }
        var pairs: [(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)] = []
        for (n, v) in flat {
            let pn = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(1, n.count), alignment: 1)
            let pv = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(1, v.count), alignment: 1)
            pn.copyBytes(from: n)
            pv.copyBytes(from: v)
            // Never freed: nghttp2 sends borrowed header bytes later, so they must outlive the test's streams.
            pairs.append((UnsafeRawBufferPointer(rebasing: pn[0..<n.count]), UnsafeRawBufferPointer(rebasing: pv[0..<v.count])))
        }
        return body(pairs)
    }
}

/// Whole h2c runs over loopback: `fastperf serve --http2` (in process) and nginx's h2c port.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct HTTP2LoopbackTests {
    static func h2Server(ttft: Double, itl: Double, maxStreams: Int = 100_000) throws -> MockServer {
        try BenchmarkHarness.mockServer(ttftMillis: ttft, itlMillis: itl) {
            $0.http2 = true
            $0.http2MaxStreams = maxStreams
        }.0
    }

    /// DESIGN §3 over h2c: TTFT 50 ms, ITL 10 ms, 20 tokens; 40 streams on ceil(40 / 10) = 4 connections of
    /// one loop; every row says `h2`.
    @Test func h2cTimingsAreMeasured() throws {
        let server = try Self.h2Server(ttft: 50, itl: 10)
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(server.port)/v1/chat/completions", parallel: 40, number: 120)
        args.http2 = true
        args.maxStreams = 10
        args.threads = 1
        let out = try BenchmarkHarness.run(args)
        BenchmarkHarness.expectAllSucceeded(out, rows: 120, protocolName: "h2")
        #expect(Set(out.rows.compactMap { $0.int("connection_id") }).count == 4)
        try BenchmarkHarness.expectTimeline(out, server, ttft: 50, itl: 10, tokens: 20, tolerance: 4)  // 40 streams, one server loop
        #expect(out.report.points[0].client.peakInFlight == 40)
        #expect(out.report.points[0].loopCloseStatus == 0)
    }

    /// A stream whose SSE body passes the cap fails as `protocol_error` with the cap in its error, its
    /// stream reset (CANCEL); the other streams of the connection go on. Under the cap every row succeeds.
    @Test func streamOverThePayloadCapFails() throws {
        let server = try Self.h2Server(ttft: 1, itl: 1)
        defer { server.stop() }
        for (cap, fails) in [(2_000, true), (1 << 20, false)] {
            var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(server.port)/v1/chat/completions", parallel: 4, number: 8)
            args.http2 = true
            args.maxTokens = 40  // about 40 chunks of about 150 bytes each
            args.maxStreamBodyBytes = cap
            args.threads = 1  // one connection carries the 4 streams
            let out = try BenchmarkHarness.run(args)
            if fails {
                BenchmarkHarness.expectAllOverThePayloadCap(out, rows: 8, cap: cap)
                #expect(Set(out.rows.compactMap { $0.int("connection_id") }).count == 1)  // streams reset, connection kept
            } else {
                BenchmarkHarness.expectAllSucceeded(out, rows: 8, protocolName: "h2")
            }
        }
    }

    /// The server's SETTINGS_MAX_CONCURRENT_STREAMS (5) caps `--max-streams 50`: 20 in flight still all finish.
    @Test func serverSettingsCapTheStreams() throws {
        let server = try Self.h2Server(ttft: 5, itl: 1, maxStreams: 5)
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(server.port)/v1/chat/completions", parallel: 20, number: 60)
        args.http2 = true
        args.maxStreams = 50
        args.threads = 1
        args.maxTokens = 4
        let out = try BenchmarkHarness.run(args)
        BenchmarkHarness.expectAllSucceeded(out, rows: 60)
        #expect(out.report.points[0].loopCloseStatus == 0)
    }

    /// Open loop over h2c: requests leave on the schedule and share the pooled connections' free streams.
    @Test func openLoopOverH2c() throws {
        let server = try Self.h2Server(ttft: 5, itl: 1)
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(server.port)/v1/chat/completions", number: 100)
        args.openLoop = true
        args.rate = [500]
        args.http2 = true
        args.maxStreams = 16
        args.maxTokens = 4
        let out = try BenchmarkHarness.run(args)
        BenchmarkHarness.expectAllSucceeded(out, rows: 100, protocolName: "h2")
        #expect(out.report.points[0].loopCloseStatus == 0)
    }

    /// A server that does not speak HTTP/2 (HTTP/1.1 only): every request fails as a row, never a crash.
    @Test func h2cAgainstAnHTTP1ServerFailsAsRows() throws {
        var config = MockServerConfiguration()
        config.port = 0
        let server = MockServer(configuration: config)
        let port = try server.start()
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(port)/v1/chat/completions", parallel: 2, number: 4)
        args.http2 = true
        let out = try BenchmarkHarness.run(args)
        #expect(out.rows.count == 4)
        #expect(out.rows.allSatisfy { !$0.success && $0.text("error") != nil })
        #expect(out.report.points[0].loopCloseStatus == 0)
    }

    /// `--http2` with `--http1`, or `--max-streams 0`, is a one-line error before the run.
    @Test func badFlagsAreErrors() throws {
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:1/v1/chat/completions")
        args.http2 = true
        args.http1 = true
        #expect(throws: FastPerfError.self) { try Benchmark.run(args) { _ in } }
        args.http1 = false
        args.maxStreams = 0
        #expect(throws: FastPerfError.self) { try Benchmark.run(args) { _ in } }
    }

    /// An independent peer: nginx's h2c port (`../shared/bench/nginx_sse.sh`, 16 tokens per response).
    /// Opt-in (`FASTPERF_PEER_TESTS=1`): starting the nginx daemon from the test process can block.
    @Test(.enabled(if: PeerTools.has("nginx") && ProcessInfo.processInfo.environment["FASTPERF_PEER_TESTS"] == "1"))
    func againstNginxH2c() throws {
        let nginx = try PeerTools.startNginx(tokens: 16)
        defer { nginx.stop() }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(nginx.h2Port)/v1/chat/completions", parallel: 30, number: 300)
        args.http2 = true
        args.maxStreams = 10
        let out = try BenchmarkHarness.run(args)
        BenchmarkHarness.expectAllSucceeded(out, rows: 300, protocolName: "h2")
        #expect(out.rows.allSatisfy { $0.int("completion_tokens") == 16 })
        #expect(out.report.points[0].loopCloseStatus == 0)
    }
}

/// External peers for the HTTP/2 and TLS tests (installed by scripts/setup.sh).
enum PeerTools {
    static func has(_ tool: String) -> Bool {
        ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
    }

    static func path(_ tool: String) -> URL {
        let dir = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].first { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") } ?? "/usr/bin"
        return URL(fileURLWithPath: "\(dir)/\(tool)")
    }

    /// A random port below Linux's ephemeral range (32768–60999), so outgoing connections never hold it.
    static func freePort() -> Int {
        Int.random(in: 20_000...32_000)
    }

    struct Nginx {
        var h1Port: Int
        var h2Port: Int
        var dir: String
        func stop() {
            if let pid = try? String(contentsOfFile: dir + "/nginx.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
               let p = Int32(pid) {
                kill(p, SIGTERM)
            }
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    /// Starts `../shared/bench/nginx_sse.sh` on two random loopback ports.
    static func startNginx(tokens: Int) throws -> Nginx {
        var lastError: Error?
        for _ in 0..<3 {
            do { return try startNginxOnce(tokens: tokens) } catch { lastError = error }
        }
        throw lastError!
    }

    private static func startNginxOnce(tokens: Int) throws -> Nginx {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/bench/nginx_sse.sh").standardized
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fastperf-nginx-\(UUID().uuidString)").path
        let h1 = freePort()
        let h2 = h1 + 1
        // nginx's daemon keeps the inherited stdout open: send the script's output to a file, not a pipe.
        let r = try Subprocess.run(URL(fileURLWithPath: "/bin/sh"),
                                   ["-c", "sh \"$0\" \"$1\" \"$2\" \"$3\" \"$4\" > \"$4.log\" 2>&1", script.path,
                                    String(h1), String(h2), String(tokens), dir])
        guard r.status == 0 else {
            throw FastPerfError("nginx_sse.sh failed: \((try? String(contentsOfFile: dir + ".log", encoding: .utf8)) ?? "")")
        }
        return Nginx(h1Port: h1, h2Port: h2, dir: dir)
    }
}

/// Response header values read from bytes.
@Suite struct HTTP2HeaderValueTests {
    func bytes(_ s: String, _ body: (UnsafeRawBufferPointer) -> Void) { Array(s.utf8).withUnsafeBytes(body) }

    @Test func statusIsThreeDigits() {
        for (text, status) in [("200", 200), ("404", 404), ("103", 103), ("20", 0), ("2000", 0), ("2x0", 0), ("", 0), (" 200", 0)] {
            bytes(text) { #expect(HTTP2Headers.status($0) == status, "\(text)") }
        }
    }

    /// HTTP/2's `content-type` goes through HTTP/1's media-type rule (RFC 9110 §8.3.1): the type before any `;`,
    /// OWS trimmed, in any letter case. (A copy of it for HTTP/2 had taken any value that only began with the
    /// type, `text/event-streams` included, and refused a value with leading OWS.)
    @Test func eventStreamInAnyLetterCaseWithParameters() {
        for (text, yes) in [("text/event-stream", true), ("Text/Event-Stream; charset=utf-8", true), ("TEXT/EVENT-STREAM", true),
                            ("text/event-streams", false), ("text/event-strea", false), ("application/json", false),
                            ("text/plain", false), ("", false), (" text/event-stream", true)] {
            bytes(text) { #expect(HTTP1ResponseParser.isEventStreamMediaType($0) == yes, "\(text)") }
        }
    }
}
