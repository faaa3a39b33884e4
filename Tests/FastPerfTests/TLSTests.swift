import Foundation
import Testing
@_spi(Benchmarks) @testable import FastPerf

/// HTTPS (HTTP/1.1 over TLS on OpenSSL, driven through BIOs) against the mock server with certificates made by the
/// `openssl` CLI at test time: verification on by default, `--cacert`, `--insecure`, host-name checks.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct TLSTests {
    /// A self-signed certificate and key in a temporary folder, for the given subjectAltName.
    static func certificate(san: String) throws -> (cert: String, key: String, dir: URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fastperf-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                       "-addext", "subjectAltName=\(san)",
                       "-keyout", dir.appendingPathComponent("key.pem").path, "-out", dir.appendingPathComponent("cert.pem").path]
        p.standardOutput = Pipe()
        p.standardError = Pipe()
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw FastPerfTestError("openssl req failed") }
        return (dir.appendingPathComponent("cert.pem").path, dir.appendingPathComponent("key.pem").path, dir)
    }

    static func run(host: String, san: String, serverHTTP2: Bool = false, serverTLS12: Bool = false,
                    configure: (inout RunArguments, String) -> Void) throws -> BenchmarkHarness.Outcome {
        let c = try certificate(san: san)
        defer { try? FileManager.default.removeItem(at: c.dir) }
        let (server, port) = try BenchmarkHarness.mockServer(ttftMillis: 5, itlMillis: 1) {
            $0.tlsCertificate = c.cert
            $0.tlsKey = c.key
            $0.http2 = serverHTTP2
            $0.tlsMaxVersion12 = serverTLS12
        }
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "https://\(host):\(port)/v1/chat/completions", parallel: 2, number: 8)
        args.maxTokens = 5
        configure(&args, c.cert)
        return try BenchmarkHarness.run(args)
    }

    @Test func httpsWithTheServersCertificateAsCA() throws {
        let out = try Self.run(host: "localhost", san: "DNS:localhost") { a, cert in a.cacert = cert }
        BenchmarkHarness.expectAllSucceeded(out, rows: 8, protocolName: "http/1.1")
        #expect(out.rows.allSatisfy { $0.int("completion_tokens") == 5 })
        #expect(Set(out.rows.compactMap { $0.int("connection_id") }).count == 2, "keep-alive over TLS")
        // Each connection's first request carries its handshake time; the others NULL.
        let handshakes = out.rows.compactMap { $0.double("tls_handshake_time") }
        #expect(handshakes.count == 2)
        #expect(handshakes.allSatisfy { $0 > 0 && $0 < 1 })
    }

    @Test func untrustedCertificateFailsClearlyUnlessInsecure() throws {
        let out = try Self.run(host: "localhost", san: "DNS:localhost") { _, _ in }
        #expect(out.rows.count == 8)
        #expect(out.rows.allSatisfy { $0.outcome == "connect_failed" })
        #expect(out.rows.first?.text("error")?.contains("certificate verification failed") == true)
        let insecure = try Self.run(host: "localhost", san: "DNS:localhost") { a, _ in a.insecure = true }
        #expect(insecure.rows.filter { !$0.success }.isEmpty)
        #expect(insecure.report.summaryText.contains("Warning: --insecure"))
    }

    @Test func wrongHostNameFailsClearlyUnlessInsecure() throws {
        // The certificate names only "localhost"; the URL says 127.0.0.1.
        let out = try Self.run(host: "127.0.0.1", san: "DNS:localhost") { a, cert in a.cacert = cert }
        #expect(out.rows.allSatisfy { $0.outcome == "connect_failed" })
        let error = out.rows.first?.text("error") ?? ""
        #expect(error.contains("mismatch") || error.contains("verification failed"), "\(error)")
        let insecure = try Self.run(host: "127.0.0.1", san: "DNS:localhost") { a, _ in a.insecure = true }
        #expect(insecure.rows.filter { !$0.success }.isEmpty)
    }

    /// h2 by ALPN: `--http2` on an https:// URL; 8 streams share one connection per loop.
    @Test func http2OverTLSByALPN() throws {
        let out = try Self.run(host: "localhost", san: "DNS:localhost", serverHTTP2: true) { a, cert in
            a.cacert = cert
            a.http2 = true
            a.threads = 1
            a.parallel = [8]
        }
        BenchmarkHarness.expectAllSucceeded(out, rows: 8, protocolName: "h2")
        #expect(Set(out.rows.compactMap { $0.int("connection_id") }).count == 1)
        #expect(out.rows.compactMap { $0.double("tls_handshake_time") }.count == 1)
    }

    /// h2 over TLS 1.2: the server's SETTINGS come in the same read as its Finished, before the client has left
    /// its connecting state; they must reach nghttp2 (they were dropped, and the session died as "not an HTTP/2
    /// server"). Several connections, so that most handshakes end that way.
    @Test func http2OverTLS12KeepsTheFramesThatEndTheHandshake() throws {
        let out = try Self.run(host: "localhost", san: "DNS:localhost", serverHTTP2: true, serverTLS12: true) { a, cert in
            a.cacert = cert
            a.http2 = true
            a.threads = 2
            a.maxStreams = 1
            a.parallel = [8]
            a.number = [32]
        }
        BenchmarkHarness.expectAllSucceeded(out, rows: 32, protocolName: "h2")
    }

    /// An https URL for a plain-HTTP server: the server refuses the ClientHello at its first byte (400 in clear
    /// text), so every request fails at once as a connect_failed row naming the TLS error, instead of hanging.
    @Test func httpsToAPlainServerFailsAtOnce() throws {
        let (server, port) = try BenchmarkHarness.mockServer(ttftMillis: 1, itlMillis: 1)
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "https://127.0.0.1:\(port)/v1/chat/completions", parallel: 2, number: 4)
        args.insecure = true
        let started = Date()
        let out = try BenchmarkHarness.run(args)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(out.rows.count == 4)
        #expect(out.rows.allSatisfy { $0.outcome == "connect_failed" }, "\(out.rows.map(\.outcome))")
        #expect(out.rows.first?.text("error")?.contains("TLS") == true, "\(out.rows.first?.text("error") ?? "")")
    }

    /// A server that closes the connection in the middle of the TLS handshake: every request is a connect_failed
    /// row that says so, with its own start time (it was a `reset` row "closed by the client" with no start).
    @Test(arguments: [false, true]) func serverClosingInTheHandshakeFailsTheConnect(http2: Bool) throws {
        let server = try ReplayServer(steps: [])
        server.closeAfterFirstRead = true
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "https://127.0.0.1:\(server.port)/v1/chat/completions", parallel: 2, number: 4)
        args.insecure = true
        args.http2 = http2
        let out = try BenchmarkHarness.run(args)
        #expect(out.rows.count == 4)
        #expect(out.rows.allSatisfy { $0.outcome == "connect_failed" }, "\(out.rows.map(\.outcome))")
        let error = out.rows.first?.text("error") ?? ""
        #expect(error.contains("closed the connection during the TLS handshake"), "\(error)")
        #expect(out.rows.allSatisfy { $0.int("start_offset_ns") != nil }, "every row has its start")
    }

    /// A server that accepts the connection but never answers the ClientHello (it waits for an HTTP request that
    /// never comes): `--connect-timeout` covers the handshake, and the row says it was the handshake.
    @Test(arguments: [false, true]) func silentTLSServerTimesOutInTheHandshake(http2: Bool) throws {
        let server = try ReplayServer(steps: [])
        defer { server.stop() }
        var args = BenchmarkHarness.arguments(url: "https://127.0.0.1:\(server.port)/v1/chat/completions", parallel: 2, number: 2)
        args.insecure = true
        args.connectTimeout = 1
        args.http2 = http2
        let out = try BenchmarkHarness.run(args)
        #expect(out.rows.count == 2)
        for r in out.rows {
            #expect(r.outcome == "timeout_connect")
            #expect(r.text("error")?.contains("TLS handshake with 127.0.0.1") == true, "\(r.text("error") ?? "")")
        }
    }

    /// `--http2` insists on h2: a server whose ALPN offers only http/1.1 gives clear failed rows.
    @Test func http2InsistsOnALPN() throws {
        let out = try Self.run(host: "localhost", san: "DNS:localhost", serverHTTP2: false) { a, cert in
            a.cacert = cert
            a.http2 = true
        }
        #expect(out.rows.allSatisfy { $0.outcome == "connect_failed" })
        #expect(out.rows.first?.text("error")?.contains("did not agree to h2") == true, "\(out.rows.first?.text("error") ?? "")")
    }


    /// An independent peer: Debian's `nghttpd` serving a canned SSE file over h2 with a self-signed certificate.
    /// nghttpd sends no Content-Type for it, so the rows are `protocol_error` ("looks like SSE without a
    /// text/event-stream content type") with status 200 and the whole stream received over h2 + TLS.
    @Test func http2OverTLSAgainstNghttpd() throws {
        let nghttpd = "/usr/sbin/nghttpd"
        guard FileManager.default.isExecutableFile(atPath: nghttpd) else {
            throw FastPerfTestError("nghttpd is missing: scripts/setup.sh installs nghttp2-server")
        }
        let c = try Self.certificate(san: "DNS:localhost")
        defer { try? FileManager.default.removeItem(at: c.dir) }
        let docroot = c.dir.appendingPathComponent("www/v1/chat")
        try FileManager.default.createDirectory(at: docroot, withIntermediateDirectories: true)
        try Data(benchmarkChatStream(tokens: 8)).write(to: docroot.appendingPathComponent("completions"))
        let port = 20000 + Int.random(in: 0..<20000)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: nghttpd)
        p.arguments = [String(port), c.key, c.cert, "-d", c.dir.appendingPathComponent("www").path]
        p.standardOutput = Pipe()
        p.standardError = Pipe()
        try p.run()
        defer { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        // Until nghttpd listens (a loaded machine may take a while to start it).
        let address = try SocketAddress.resolve(host: "127.0.0.1", port: port)
        let deadline = Date().addingTimeInterval(20)
        while (try? address.probeConnect(timeoutSeconds: 1)) == nil && Date() < deadline && p.isRunning {
            Thread.sleep(forTimeInterval: 0.05)
        }
        var args = BenchmarkHarness.arguments(url: "https://localhost:\(port)/v1/chat/completions", parallel: 2, number: 4)
        args.http2 = true
        args.cacert = c.cert
        let out = try BenchmarkHarness.run(args)
        #expect(out.rows.count == 4)
        for r in out.rows {
            #expect(r.text("protocol") == "h2")
            #expect(r.int("http_status") == 200)
            #expect(r.outcome == "protocol_error")
            #expect(r.text("error")?.contains("text/event-stream") == true)
            #expect(r.responseMessages.first?.contains("chatcmpl-bench") == true)
        }
    }

    /// A client and a server session pumped into each other in memory (no socket), the ciphertext cut into pieces
    /// of 1 byte, of random sizes and into whole flights: the handshake completes, ALPN agrees, and 64 KB of
    /// plaintext each way arrive intact and in order, whatever the cuts (the input BIO reads only the bytes lent
    /// to each `receive`).
    @Test func sessionsPumpedInMemoryAtAnyCut() throws {
        let c = try Self.certificate(san: "DNS:localhost")
        defer { try? FileManager.default.removeItem(at: c.dir) }
        let serverContext = try TLSContext(serverCertificate: c.cert, key: c.key, alpn: ["h2", "http/1.1"])
        let clientContext = try TLSContext(clientALPN: ["http/1.1"], verify: true, caFile: c.cert)
        var rng = SystemRandomNumberGenerator()
        let request = (0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let response = (0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 17 &+ 3) }
        for cut in [1, 0, 1 << 20] {  // 0: random piece sizes
            let client = try TLSSession(context: clientContext, host: "localhost")
            let server = try TLSSession(context: serverContext, host: nil)
            // Ciphertext in flight each way and how much of it was delivered; plaintext received each side.
            var wire: [[UInt8]] = [[], []], delivered = [0, 0], received: [[UInt8]] = [[], []]
            var sent = false, failure: String?
            #expect(client.handshake() == .handshaking)
            pumping: for _ in 0..<1_000_000 {
                client.takeOutput(into: &wire[0])
                server.takeOutput(into: &wire[1])
                if sent && delivered[0] == wire[0].count && delivered[1] == wire[1].count { break }
                for (side, session) in [(0, server), (1, client)] where delivered[side] < wire[side].count {
                    let left = wire[side].count - delivered[side]
                    let k = cut == 0 ? Int.random(in: 1...min(left, 3000), using: &rng) : min(left, cut)
                    let status = wire[side][delivered[side]..<delivered[side] + k].withUnsafeBytes { raw in
                        session.receive(raw) { received[side].append(contentsOf: $0) }
                    }
                    delivered[side] += k
                    if case .failed(let why) = status { failure = why; break pumping }
                }
                if !sent && client.handshakeComplete && server.handshakeComplete {
                    #expect(client.negotiatedProtocol == "http/1.1" && server.negotiatedProtocol == "http/1.1")
                    _ = request.withUnsafeBytes { client.send($0) }
                    _ = response.withUnsafeBytes { server.send($0) }
                    sent = true
                }
            }
            #expect(failure == nil, "cut \(cut): \(failure ?? "")")
            #expect(sent, "cut \(cut): the handshake did not finish")
            let (atServer, atClient) = (received[0] == request, received[1] == response)
            #expect(atServer && atClient, "cut \(cut): \(received[0].count) and \(received[1].count) of 65536 bytes")
        }
    }
}
