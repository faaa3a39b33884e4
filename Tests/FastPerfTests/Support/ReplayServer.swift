import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A loopback test server on its own thread that answers each connection's first request with a scripted
/// sequence of writes (bytes after a delay measured from when the request was fully read), then closes.
/// It is deliberately not FastPerf code: plain blocking POSIX sockets, one thread per connection.
final class ReplayServer: @unchecked Sendable {
    /// One write: `delayMillis` after the request was read (absolute from that moment), send `bytes`.
    struct Step {
        var atMillis: Double
        var bytes: [UInt8]
    }

    let port: Int
    private let listenFD: Int32
    private let script: @Sendable (Int) -> [Step]
    private let lock = NSLock()
    private var stopped = false
    private var connections = 0
    private var acceptThread: Thread?
    /// Close each connection with a TCP reset (SO_LINGER 0) instead of a FIN.
    var resetOnClose = false
    /// Close each connection (FIN) after its first read, whatever it was (e.g. in the middle of a TLS handshake).
    var closeAfterFirstRead = false
    /// Request heads received, in order (for assertions on what the client sent).
    private(set) var requests: [String] = []

    /// - Parameter script: the steps for the n-th connection (0-based).
    init(script: @escaping @Sendable (Int) -> [Step]) throws {
        self.script = script
        let listenFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listenFD = listenFD
        var one: Int32 = 1
        setsockopt(listenFD, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listenFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0, listen(listenFD, 128) == 0 else { throw FastPerfTestError("bind/listen failed") }
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listenFD, $0, &len) }
        }
        port = Int(UInt16(bigEndian: bound.sin_port))
        let thread = Thread { [self] in self.acceptLoop() }
        acceptThread = thread
        thread.start()
    }

    /// A server that replays one whole HTTP response split into the given writes.
    convenience init(steps: [Step]) throws {
        try self.init(script: { _ in steps })
    }

    /// Stops listening once `n` connections have been accepted (later connects are refused).
    func stopAfter(connections n: Int) {
        lock.lock()
        stopAfterCount = n
        lock.unlock()
    }

    private var stopAfterCount = Int.max
    private var closedListener = false

    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        if !closedListener {
            closedListener = true
            shutdown(listenFD, Int32(SHUT_RDWR))
            Glibc.close(listenFD)
        }
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 { return }
            lock.lock()
            let n = connections
            connections += 1
            let isStopped = stopped
            lock.unlock()
            if isStopped { Glibc.close(fd); return }
            let steps = script(n)
            Thread { [self] in serve(fd: fd, steps: steps) }.start()
            lock.lock()
            let limit = stopAfterCount
            lock.unlock()
            if n + 1 >= limit {
                lock.lock()
                closedListener = true
                lock.unlock()
                Glibc.close(listenFD)
                return
            }
        }
    }

    private func serve(fd: Int32, steps: [Step]) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        // Read one request: head, then Content-Length bytes.
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        if closeAfterFirstRead {
            _ = read(fd, &chunk, 10)
            Glibc.close(fd)
            return
        }
        var headEnd: Int?
        var needed = Int.max
        while buffer.count < needed {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { Glibc.close(fd); return }
            buffer.append(contentsOf: chunk[0..<n])
            if headEnd == nil, let r = Self.find([13, 10, 13, 10], in: buffer) {
                headEnd = r + 4
                let head = String(decoding: buffer[0..<r], as: UTF8.self)
                lock.lock(); requests.append(head); lock.unlock()
                var length = 0
                for line in head.split(separator: "\r\n") {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    if parts.count == 2, parts[0].lowercased() == "content-length" {
                        length = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
                    }
                }
                needed = r + 4 + length
            }
        }
        let t0 = Date()
        for step in steps {
            let wait = step.atMillis / 1000 - Date().timeIntervalSince(t0)
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            var sent = 0
            while sent < step.bytes.count {
                let n = step.bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if n <= 0 { Glibc.close(fd); return }
                sent += n
            }
        }
        // Let the client read everything before the FIN.
        Thread.sleep(forTimeInterval: 0.005)
        if resetOnClose {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
        Glibc.close(fd)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<i + needle.count]) == needle { return i }
        }
        return nil
    }
}

struct FastPerfTestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
