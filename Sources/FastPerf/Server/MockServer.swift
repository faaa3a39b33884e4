import Foundation
import Synchronization

/// Settings of the built-in OpenAI-compatible mock server (`fastperf serve`).
public struct MockServerConfiguration: Sendable {
    /// Listen address; port 0 picks a free port.
    public var host = "127.0.0.1"
    public var port = 8877
    /// Delay from the end of the request to the first token, in ms (`--ttft-ms`).
    public var ttftMillis: Double = 0
    /// Delay between tokens, in ms (`--itl-ms`).
    public var itlMillis: Double = 0
    /// Tokens per response; nil = the request's `max_tokens` (16 when absent) (`--output-tokens`).
    public var outputTokens: Int?
    /// Leave `usage` out of responses (`--no-usage`), as some servers do.
    public var noUsage = false
    /// Pause every response from `stallAtMillis` after the server started for `stallMillis` (`--stall-at-ms`,
    /// `--stall-ms`): anything due inside the pause is sent when it ends (a GC pause or a stuck scheduler).
    public var stallAtMillis: Double = 0
    /// HTTPS (`--tls-cert`, `--tls-key`): PEM certificate chain and private key; the server then speaks TLS
    /// only, with ALPN offering `h2` (with `--http2`) and `http/1.1`.
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// Speak TLS 1.2 at most (tests: a TLS 1.2 server's first HTTP/2 frames reach the client with the handshake's
    /// last record).
    var tlsMaxVersion12 = false
    public var stallMillis: Double = 0
    /// Count `usage.prompt_tokens` with this tokenizer (`--tokenizer-path`): the prompt, or the sum over
    /// the messages' contents, no chat template. Without one, prompt tokens are characters / 4. (This is
    /// the server side: a real server tokenizes too; the client never tokenizes on its loops.)
    public var tokenizer: Tokenizer?
    /// Accept HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3) next to HTTP/1.1 (`--http2`): a connection whose
    /// first bytes are the HTTP/2 preface is served as HTTP/2.
    public var http2 = false
    /// SETTINGS_MAX_CONCURRENT_STREAMS the server advertises on HTTP/2 connections.
    public var http2MaxStreams = 100_000

    public init() {}
}

/// The built-in mock server: OpenAI `/v1/chat/completions`, `/v1/completions` (streamed and not) and
/// `/v1/models`, plus every API the plugins speak (`MockAPI`: embeddings, rerank, Responses, DashScope native,
/// Anthropic Messages; formats in `MockAPIFormat`) over HTTP/1.1 keep-alive, on one libuv loop thread.
/// Streams are paced by one libuv timer per connection against absolute due times (no drift, no thread per
/// stream). A streamed response is the API's
/// opening events at once (OpenAI chat: a role chunk), then one event per token at TTFT + k × ITL, then its
/// closing events (OpenAI: a finish chunk, a usage chunk and `[DONE]`), sent with chunked transfer coding.
/// Embeddings and rerank answer one JSON body after TTFT.
public final class MockServer: Sendable {
    public let configuration: MockServerConfiguration
    /// How late the server's own timers sent what it promised, so a test can tell a client's measurement
    /// error from a server that was late on a loaded machine.
    public let lateness = MockServerLateness()
    private let state = Mutex<(thread: OSThread?, waker: LoopWaker?, port: Int)>((nil, nil, 0))

    public init(configuration: MockServerConfiguration) {
        self.configuration = configuration
    }

    /// The bound port once `start` returned.
    public var port: Int { state.withLock { $0.port } }

    /// Starts the server thread and returns once it listens. Throws `FastPerfError` when it cannot listen.
    @discardableResult
    public func start() throws -> Int {
        let ready = SharedMutex<Result<(Int, LoopWaker), FastPerfError>?>(nil)
        let config = configuration
        let lateness = self.lateness
        let thread = try OSThread(name: "fastperf-serve") {
            let loop: EventLoop
            do { loop = try EventLoop() } catch {
                ready.withLock { $0 = .failure(FastPerfError("\(error)")) }
                return
            }
            let server = MockServerLoop(loop: loop, configuration: config, lateness: lateness)
            do {
                let port = try server.listen()
                let waker = try LoopWaker(loop: loop) { server.shutdown() }
                server.waker = waker
                ready.withLock { $0 = .success((port, waker)) }
            } catch {
                ready.withLock { $0 = .failure(error as? FastPerfError ?? FastPerfError("\(error)")) }
                server.shutdown()
                loop.run()
                loop.close()
                return
            }
            loop.run()
            loop.close()
        }
        while true {
            if let r = ready.withLock({ $0 }) {
                switch r {
                case .success(let (port, waker)):
                    state.withLock { $0 = (thread, waker, port) }
                    return port
                case .failure(let e):
                    thread.join()
                    throw e
                }
            }
            usleep(1000)
        }
    }

    /// Closes every connection and the listener, and waits for the server thread to end.
    public func stop() {
        let (thread, waker) = state.withLock { s -> (OSThread?, LoopWaker?) in
            let r = (s.thread, s.waker)
            s.thread = nil
            s.waker = nil
            return r
        }
        waker?.wake()
        thread?.join()
    }

    /// Blocks until the server thread ends (it runs until `stop`).
    public func wait() {
        let thread = state.withLock { $0.thread }
        thread?.join()
    }
}

/// Sums, over finished streamed responses, of how late (ns, ≥ 0) the server wrote the first and the last
/// token against their due times (request + TTFT, request + TTFT + (n − 1) × ITL). Written by the server's
/// loop thread, read by anyone.
public final class MockServerLateness: Sendable {
    private let streams = Atomic<UInt64>(0)
    private let firstNanos = Atomic<UInt64>(0)
    private let lastNanos = Atomic<UInt64>(0)

    /// Streamed responses finished so far.
    public var count: Int { Int(streams.load(ordering: .acquiring)) }
    /// Mean lateness of the first token, in ms (0 before any stream finished).
    public var meanFirstTokenMillis: Double { mean(firstNanos) }
    /// Mean lateness of the last token, in ms (0 before any stream finished).
    public var meanLastTokenMillis: Double { mean(lastNanos) }

    func record(firstNanos first: UInt64, lastNanos last: UInt64) {
        firstNanos.add(first, ordering: .relaxed)
        lastNanos.add(last, ordering: .relaxed)
        streams.add(1, ordering: .releasing)
    }

    private func mean(_ sum: borrowing Atomic<UInt64>) -> Double {
        let n = streams.load(ordering: .acquiring)
        return n == 0 ? 0 : Double(sum.load(ordering: .relaxed)) / Double(n) / 1e6
    }
}

/// The mock server's state on its loop thread.
final class MockServerLoop {
    let loop: EventLoop
    let configuration: MockServerConfiguration
    let lateness: MockServerLateness
    var listener: TCPListener?
    var waker: LoopWaker?
    var exchanges: [ObjectIdentifier: MockExchange] = [:]
    /// `uv_hrtime` when the server started listening (the stall is timed from it).
    let startNanos = MonotonicClock.nowNanos()

    init(loop: EventLoop, configuration: MockServerConfiguration, lateness: MockServerLateness) {
        self.loop = loop
        self.configuration = configuration
        self.lateness = lateness
    }

    /// `due` moved to the end of the configured stall when it falls inside it, ns.
    func afterStall(_ due: UInt64) -> UInt64 {
        guard configuration.stallMillis > 0 else { return due }
        let from = startNanos + UInt64(configuration.stallAtMillis * 1e6)
        let to = from + UInt64(configuration.stallMillis * 1e6)
        return due >= from && due < to ? to : due
    }

    func listen() throws -> Int {
        var tls: TLSContext?
        if let cert = configuration.tlsCertificate, let key = configuration.tlsKey {
            tls = try TLSContext(serverCertificate: cert, key: key, alpn: configuration.http2 ? ["h2", "http/1.1"] : ["http/1.1"],
                                 maxTLS12: configuration.tlsMaxVersion12)
        }
        let listener = try TCPListener(loop: loop, host: configuration.host, port: configuration.port, tls: tls) { [unowned self] c in
            let exchange = MockExchange(server: self, connection: c)
            self.exchanges[ObjectIdentifier(exchange)] = exchange
            if self.configuration.http2 { c.makeHTTP2 = { [unowned self] c in self.makeHTTP2Session(c) } }
            return exchange
        }
        self.listener = listener
        return listener.port
    }

    /// Serves an HTTP/2 connection: each stream gets its own `MockExchange`.
    func makeHTTP2Session(_ connection: ServerConnection) -> HTTP2ServerSession {
        HTTP2ServerSession(connection: connection, maxConcurrentStreams: UInt32(configuration.http2MaxStreams)) { [unowned self] request, stream in
            let exchange = MockExchange(server: self, connection: stream)
            self.exchanges[ObjectIdentifier(exchange)] = exchange
            stream.onAbandon = { [unowned exchange] in exchange.detach() }
            exchange.receive(request)
        }
    }

    func shutdown() {
        listener?.close()
        listener = nil
        for e in exchanges.values { e.shutdown() }
        waker?.close()
        waker = nil
    }
}

/// Where a `MockExchange` writes its HTTP/1.1 response bytes: a TCP connection, or one HTTP/2 stream
/// (`HTTP2ResponseStream`, which turns them into frames).
protocol MockWire: AnyObject {
    var isClosing: Bool { get }
    /// Queues response bytes; closes afterwards when `closeAfter`.
    func write(_ bytes: [UInt8], closeAfter: Bool)
    func close()
}

extension MockWire {
    func write(_ bytes: [UInt8]) { write(bytes, closeAfter: false) }
}

extension ServerConnection: MockWire {}

/// Serves the requests of one connection (or one HTTP/2 stream), one at a time, in order.
final class MockExchange: ServerConnectionDelegate {
    private unowned let server: MockServerLoop
    /// Strong: an HTTP/2 stream is owned by its exchange; a TCP connection drops its delegate when it closes.
    private let connection: any MockWire
    private var queue: [HTTP1Request] = []
    private var busy = false
    private var timer: LoopTimer?
    // The response being streamed.
    private var stream: StreamPlan?

    struct StreamPlan {
        var id: String
        var api: MockAPI
        var tokens: Int
        var sent = 0
        var promptTokens: Int
        var startNanos: UInt64
        var keepAlive: Bool
        var model: String
        var streamed: Bool
        /// Embedding inputs or rerank documents.
        var items: [String] = []
        /// DashScope `incremental_output`: each event carries new text (else the whole text so far).
        var incremental = false
        /// How late the first token went out, in ns.
        var firstLateNanos: UInt64 = 0
    }

    init(server: MockServerLoop, connection: any MockWire) {
        self.server = server
        self.connection = connection
    }

    func connection(_ connection: ServerConnection, didReceive request: HTTP1Request) {
        receive(request)
    }

    /// Queues `request` and serves it when the previous ones are answered.
    func receive(_ request: HTTP1Request) {
        queue.append(request)
        if !busy { serveNext() }
    }

    func connection(_ connection: ServerConnection, didFailToParse error: HTTP1ParseError) {
        respond(status: 400, reason: "Bad Request", json: Self.errorJSON("bad request: \(error)", type: "invalid_request_error"),
                keepAlive: false)
    }

    func connectionDidClose(_ connection: ServerConnection) {
        detach()
    }

    /// The connection or stream is gone: stop the timer and forget this exchange.
    func detach() {
        timer?.close()
        timer = nil
        server.exchanges[ObjectIdentifier(self)] = nil
    }

    func shutdown() { connection.close() }

    private func serveNext() {
        guard !queue.isEmpty, !connection.isClosing else { return }
        let request = queue.removeFirst()
        busy = true
        let path = request.target.split(separator: "?").first.map(String.init) ?? request.target
        switch (request.method, path) {
        case ("GET", "/v1/models"):
            respond(status: 200, reason: "OK",
                    json: #"{"object":"list","data":[{"id":"mock-model","object":"model","owned_by":"fastperf"}]}"#,
                    keepAlive: request.keepAlive)
        case ("POST", _) where MockAPI.route(path: path) != nil:
            startCompletion(request, api: MockAPI.route(path: path)!)
        default:
            respond(status: 404, reason: "Not Found", json: Self.errorJSON("no route for \(request.method) \(path)", type: "not_found"),
                    keepAlive: request.keepAlive)
        }
    }

    private func respond(status: Int, json: String, keepAlive: Bool) {
        let reasons = [200: "OK", 400: "Bad Request", 404: "Not Found"]
        respond(status: status, reason: reasons[status] ?? "Error", json: json, keepAlive: keepAlive)
    }

    private func respond(status: Int, reason: String, json: String, keepAlive: Bool) {
        let body = Array(json.utf8)
        var head = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        if !keepAlive { head += "Connection: close\r\n" }
        head += "\r\n"
        connection.write(Array(head.utf8) + body, closeAfter: !keepAlive)
        busy = false
        if keepAlive { serveNext() }
    }

    static func errorJSON(_ message: String, type: String) -> String {
        #"{"error":{"message":"# + JSONText.quote(message) + #","type":""# + type + #"","code":null}}"#
    }

    private func startCompletion(_ request: HTTP1Request, api: MockAPI) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any] else {
            respond(status: 400, reason: "Bad Request", json: Self.errorJSON("request body is not a JSON object", type: "invalid_request_error"),
                    keepAlive: request.keepAlive)
            return
        }
        let shape = api.shape(of: object, request: request)
        if let rejection = shape.rejection {
            respond(status: rejection.status, json: rejection.json, keepAlive: request.keepAlive)
            return
        }
        let tokens = api.generates ? max(1, min(server.configuration.outputTokens ?? shape.maxTokens ?? 16, 1_000_000)) : 1
        // With --tokenizer-path the prompt is counted as a real server would; else characters / 4.
        let promptTokens = server.configuration.tokenizer.map { t in
            TokenCounter.promptTexts(ofRequestBody: object).reduce(0) { $0 + t.count($1) }
        } ?? max(1, shape.promptChars / 4)
        var plan = StreamPlan(id: "mock-\(UInt32.random(in: 0...UInt32.max))", api: api, tokens: tokens,
                              promptTokens: promptTokens, startNanos: MonotonicClock.nowNanos(),
                              keepAlive: request.keepAlive, model: (object["model"] as? String) ?? "mock-model",
                              streamed: shape.streamed)
        plan.items = shape.items
        plan.incremental = shape.incremental
        stream = plan
        if plan.streamed {
            var head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n"
            if !plan.keepAlive { head += "Connection: close\r\n" }
            head += "\r\n"
            var bytes = Array(head.utf8)
            for event in MockAPIFormat.preamble(plan) { Self.appendSSE(event, to: &bytes) }
            connection.write(bytes)
            scheduleNextToken()
        } else {
            // Embeddings and rerank answer after TTFT; generating APIs after the last token is due.
            let delay = server.configuration.ttftMillis + server.configuration.itlMillis * Double(tokens - 1)
            arm(atNanos: server.afterStall(plan.startNanos + UInt64(max(0, delay) * 1e6)))
        }
    }

    /// Arms the connection's one timer for `due` (ns). libuv timers have ms resolution and never fire early.
    private func arm(atNanos due: UInt64) {
        let now = MonotonicClock.nowNanos()
        let waitNanos = due > now ? due - now : 0
        timerDueNanos = due
        let ms = (waitNanos + 999_999) / 1_000_000
        server.loop.updateTime()  // so the ms timeout counts from now, not from the loop turn's cached time
        let t = timer ?? LoopTimer(loop: server.loop) { [unowned self] in self.timerFired() }
        timer = t
        t.start(timeoutMillis: ms)
    }

    /// When the armed timer is due, in ns.
    private var timerDueNanos: UInt64 = 0

    private func timerFired() {
        guard let plan = stream else { return }
        // libuv's loop clock is coarse (CLOCK_MONOTONIC_COARSE, a few ms), so a timer may fire early: re-arm.
        if MonotonicClock.nowNanos() + 200_000 < timerDueNanos {
            arm(atNanos: timerDueNanos)
            return
        }
        if plan.streamed { sendDueTokens() } else { finishNonStream() }
    }

    private func dueNanos(token k: Int, _ plan: StreamPlan) -> UInt64 {
        let ms = server.configuration.ttftMillis + server.configuration.itlMillis * Double(k)
        return server.afterStall(plan.startNanos + UInt64(max(0, ms) * 1e6))
    }

    private func scheduleNextToken() {
        guard let plan = stream else { return }
        arm(atNanos: dueNanos(token: plan.sent, plan))
    }

    private func sendDueTokens() {
        guard var plan = stream, !connection.isClosing else { return }
        let now = MonotonicClock.nowNanos()
        var bytes: [UInt8] = []
        while plan.sent < plan.tokens && dueNanos(token: plan.sent, plan) <= now + 500_000 {
            if plan.sent == 0 { plan.firstLateNanos = now &- min(now, dueNanos(token: 0, plan)) }
            if plan.sent == plan.tokens - 1 {
                let due = dueNanos(token: plan.sent, plan)
                server.lateness.record(firstNanos: plan.firstLateNanos, lastNanos: now &- min(now, due))
            }
            Self.appendSSE(MockAPIFormat.token(plan, plan.sent), to: &bytes)
            plan.sent += 1
        }
        stream = plan
        if plan.sent == plan.tokens {
            for event in MockAPIFormat.closing(plan, usage: !server.configuration.noUsage) { Self.appendSSE(event, to: &bytes) }
            bytes.append(contentsOf: Array("0\r\n\r\n".utf8))
            stream = nil
            connection.write(bytes, closeAfter: !plan.keepAlive)
            busy = false
            if plan.keepAlive { serveNext() }
        } else {
            if !bytes.isEmpty { connection.write(bytes) }
            scheduleNextToken()
        }
    }

    /// Appends one SSE event (its whole text, blank line included) as one HTTP chunk.
    static func appendSSE(_ payload: String, to bytes: inout [UInt8]) {
        let n = payload.utf8.count
        bytes.append(contentsOf: Array((String(n, radix: 16) + "\r\n").utf8))
        bytes.append(contentsOf: Array(payload.utf8))
        bytes.append(contentsOf: [13, 10])
    }

    private func finishNonStream() {
        guard let plan = stream, !connection.isClosing else { return }
        stream = nil
        respond(status: 200, reason: "OK", json: MockAPIFormat.body(plan, usage: !server.configuration.noUsage), keepAlive: plan.keepAlive)
    }
}
