/// Renders a request to its exact HTTP/1.1 bytes (RFC 9112 §3: request line, header fields, empty line, body)
/// once, before the run.
struct HTTP1RequestEncoder {
    /// `Host` value: host, plus `:port` when not the scheme default (RFC 9110 §7.2).
    let authority: String
    /// Headers sent with every request, in order (Content-Type, Authorization, `--headers` …).
    let commonHeaders: [(String, String)]

    /// - Returns: `POST target HTTP/1.1`, Host, the common and extra headers, Content-Length, the body.
    func encode(method: String = "POST", target: String, extraHeaders: [(String, String)], body: [UInt8]) -> [UInt8] {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(authority)\r\n"
        for (name, value) in commonHeaders { head += "\(name): \(value)\r\n" }
        for (name, value) in extraHeaders { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        var bytes = Array(head.utf8)
        bytes.reserveCapacity(bytes.count + body.count)
        bytes.append(contentsOf: body)
        return bytes
    }

    /// Rejects header names or values that would break the request framing (CR, LF, NUL; names need a token).
    /// Throws `FastPerfError` naming the header.
    /// Header fields FastPerf writes itself; a user value would break the framing or the target.
    static let reservedNames: Set<String> = ["host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer"]

    static func validate(name: String, value: String) throws {
        let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        if name.isEmpty || !name.utf8.allSatisfy({ tchar.contains($0) }) {
            throw FastPerfError("invalid header name \"\(name)\"")
        }
        if reservedNames.contains(name.lowercased()) {
            throw FastPerfError("header \(name) is set by FastPerf and cannot be given with --headers")
        }
        // Checked on bytes: Swift treats "\r\n" as one Character, which a Character test for "\n" misses.
        if value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
            throw FastPerfError("invalid value for header \(name): contains a line break or NUL")
        }
    }
}
