internal import CUV
#if canImport(Glibc)
import Glibc
#endif

/// A resolved IPv4 or IPv6 socket address, copied by value across threads.
/// `@unchecked Sendable`: a plain C struct with no pointers, never mutated after resolution.
struct SocketAddress: @unchecked Sendable, CustomStringConvertible {
    var storage = sockaddr_storage()
    /// Host as given and port, for messages.
    let host: String
    let port: Int

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Resolves `host:port` with the system resolver (blocking; before the run only).
    /// Throws `FastPerfError` ("cannot resolve host …") when the name does not resolve.
    static func resolve(host: String, port: Int) throws -> SocketAddress {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let rc = getaddrinfo(bare, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            throw FastPerfError("cannot resolve host \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(result) }
        var address = SocketAddress(host: bare, port: port)
        withUnsafeMutableBytes(of: &address.storage) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
        }
        return address
    }

    private init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Runs `body` with the address as a `sockaddr` pointer.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>) -> R) -> R {
        withUnsafePointer(to: storage) { p in body(cuv_sockaddr_storage_as_sockaddr(p)) }
    }

    /// Opens and closes a TCP connection with a blocking socket, waiting at most `timeoutSeconds`.
    /// Used once before a run so an unreachable URL fails with one clear line instead of N failed rows.
    /// Throws `FastPerfError` naming the address and the system's reason.
    func probeConnect(timeoutSeconds: Double) throws {
        let family = Int32(storage.ss_family)
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        if fd < 0 { throw FastPerfError("cannot create socket: \(String(cString: strerror(errno)))") }
        defer { Glibc.close(fd) }
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        let len = socklen_t(family == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        let rc = withSockAddr { Glibc.connect(fd, $0, len) }
        if rc == 0 { return }
        if errno != EINPROGRESS {
            throw FastPerfError("cannot connect to \(self): \(String(cString: strerror(errno)))")
        }
        var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let ready = poll(&pfd, 1, Int32(max(1, timeoutSeconds * 1000)))
        if ready == 0 { throw FastPerfError("cannot connect to \(self): timed out after \(timeoutSeconds) s") }
        var soError: Int32 = 0
        var soLen = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &soLen)
        if soError != 0 { throw FastPerfError("cannot connect to \(self): \(String(cString: strerror(soError)))") }
    }
}
