import Foundation

/// Every request of a run as HTTP/2 header fields plus body (RFC 9113 §8.3.1), derived once on the main thread
/// from the pre-rendered HTTP/1.1 bytes of a `RequestArena` so both protocols send exactly the same request:
/// `:method`, `:scheme`, `:authority` (the `Host` value), `:path` (the request target), then the other fields
/// with lowercase names, minus the connection-specific ones HTTP/2 forbids (RFC 9113 §8.2.2). The body is the
/// HTTP/1 arena's own bytes (no copy). A loop thread only points nghttp2 at these bytes.
///
/// `@unchecked Sendable`: filled once by `init`, then only read, by any thread, until `deinit`.
final class HTTP2RequestArena: @unchecked Sendable {
    private struct Field { var name: Range<Int>; var value: Range<Int> }
    private let source: RequestArena
    private let storage: UnsafeMutableRawBufferPointer
    private let fields: [[Field]]
    private let bodies: [Range<Int>]

    /// Number of requests (same indices as the HTTP/1 arena; its distinct requests are derived once each).
    var count: Int { source.count }

    private static let dropped: Set<String> = ["host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"]

    /// - Parameters:
    ///   - http1: the run's HTTP/1.1 requests (request line, fields, blank line, body).
    ///   - scheme: `http` (h2c) or `https` (h2), sent as `:scheme`.
    init(http1: RequestArena, scheme: String) {
        source = http1
        var bytes: [UInt8] = []
        var fields: [[Field]] = []
        var bodies: [Range<Int>] = []
        func add(_ text: some Sequence<UInt8>) -> Range<Int> {
            let start = bytes.count
            bytes.append(contentsOf: text)
            return start..<bytes.count
        }
        for i in 0..<http1.distinctCount {
            let raw = http1.bytes(i)
            let all = Array(raw)
            var headEnd = all.count
            for j in 0..<max(0, all.count - 3) where all[j] == 13 && all[j + 1] == 10 && all[j + 2] == 13 && all[j + 3] == 10 {
                headEnd = j
                break
            }
            let lines = String(decoding: all[0..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
            let requestLine = lines.first?.split(separator: " ") ?? []
            var list: [Field] = []
            var authority = ""
            var rest: [(String, String)] = []
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let name = line[..<colon].lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                if name == "host" { authority = value }
                if !Self.dropped.contains(name) { rest.append((name, value)) }
            }
            let method = requestLine.count > 0 ? String(requestLine[0]) : "POST"
            let path = requestLine.count > 1 ? String(requestLine[1]) : "/"
            for (n, v) in [(":method", method), (":scheme", scheme), (":authority", authority), (":path", path)] + rest {
                list.append(Field(name: add(n.utf8), value: add(v.utf8)))
            }
            fields.append(list)
            bodies.append(min(all.count, headEnd + 4)..<all.count)
        }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, bytes.count), alignment: 16)
        bytes.withUnsafeBytes { storage.copyMemory(from: $0) }
        self.storage = storage
        self.fields = fields
        self.bodies = bodies
    }

    deinit { storage.deallocate() }

    /// The header fields of request `i`, pseudo-headers first; valid while the arena lives.
    func headers(_ i: Int) -> [(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)] {
        fields[i % fields.count].map { f in
            (UnsafeRawBufferPointer(rebasing: storage[f.name]), UnsafeRawBufferPointer(rebasing: storage[f.value]))
        }
    }

    /// The body of request `i` (empty when none); valid while the arena lives.
    func body(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: source.bytes(i)[bodies[i % bodies.count]])
    }
}
