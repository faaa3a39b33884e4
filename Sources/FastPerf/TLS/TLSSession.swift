internal import COpenSSL

/// TLS settings shared by every connection of a run or of the mock server: one OpenSSL `SSL_CTX` (TLS 1.2+,
/// RFC 8446 / RFC 5246), created on the main thread and only read afterwards.
///
/// `@unchecked Sendable`: the context is configured in `init` and never changed after; OpenSSL allows
/// `SSL_new` from several threads on one configured `SSL_CTX`.
final class TLSContext: @unchecked Sendable {
    fileprivate let ctx: OpaquePointer
    /// ALPN protocols offered (client) or accepted in preference order (server), RFC 7301 §3.1.
    let alpn: [String]
    fileprivate let isServer: Bool
    /// The server's ALPN preference list in wire format with a leading length byte (the C callback's `arg`).
    private let alpnWire: UnsafeMutablePointer<UInt8>
    /// The BIO method of the sessions' ciphertext input (`copenssl_input`: read straight from libuv's buffer).
    fileprivate let inputMethod: OpaquePointer

    /// The part both roles share: TLS 1.2 or later, AEAD suites with AES-128-GCM first (`copenssl_ctx_set_ciphers`),
    /// the ALPN list kept for OpenSSL.
    private init(server: Bool, alpn: [String]) throws {
        guard let ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()) else {
            throw FastPerfError("cannot create a TLS context")
        }
        guard let method = copenssl_input_method_new() else {
            SSL_CTX_free(ctx)
            throw FastPerfError("cannot create a TLS input BIO method")
        }
        self.ctx = ctx
        inputMethod = method
        self.alpn = alpn
        isServer = server
        alpnWire = Self.wire(alpn)
        _ = copenssl_ctx_set_min_tls12(ctx)
        _ = copenssl_ctx_set_ciphers(ctx)
        _ = copenssl_ctx_release_buffers(ctx)
    }

    /// A client context. `verify`: check the certificate chain and the host name (off with `--insecure`);
    /// `caFile`: a PEM bundle to trust instead of the system CAs (`--cacert`). Throws `FastPerfError`.
    convenience init(clientALPN alpn: [String], verify: Bool, caFile: String?) throws {
        try self.init(server: false, alpn: alpn)
        if verify {
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
            let ok = caFile.map { SSL_CTX_load_verify_locations(ctx, $0, nil) } ?? SSL_CTX_set_default_verify_paths(ctx)
            if ok != 1 { throw FastPerfError("cannot load CA certificates\(caFile.map { " from \($0)" } ?? ""): \(TLSSession.lastError())") }
        } else {
            SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
        }
        if !alpn.isEmpty { SSL_CTX_set_alpn_protos(ctx, alpnWire + 1, UInt32(alpnWire[0])) }
    }

    /// A server context with a PEM certificate chain and key; ALPN selects from `alpn` in order, the cipher suite
    /// by the server's order. `maxTLS12`: speak TLS 1.2 at most (tests: there the server's first bytes after the
    /// handshake arrive with its Finished, in the client's last handshake read).
    convenience init(serverCertificate cert: String, key: String, alpn: [String], maxTLS12: Bool = false) throws {
        try self.init(server: true, alpn: alpn)
        copenssl_ctx_prefer_server_ciphers(ctx)
        if maxTLS12 { _ = copenssl_ctx_set_max_tls12(ctx) }
        if SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 {
            throw FastPerfError("--tls-cert \(cert): \(TLSSession.lastError())")
        }
        if SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1 {
            throw FastPerfError("--tls-key \(key): \(TLSSession.lastError())")
        }
        copenssl_ctx_set_alpn_select(ctx, alpnWire)
    }

    deinit {
        SSL_CTX_free(ctx)
        BIO_meth_free(inputMethod)  // every session (each holds the context) and its BIO is gone by now
        alpnWire.deallocate()
    }

    /// `[len][wire list]` where the wire list is each name prefixed by its length (RFC 7301 §3.1).
    private static func wire(_ names: [String]) -> UnsafeMutablePointer<UInt8> {
        var bytes: [UInt8] = []
        for n in names { bytes.append(UInt8(n.utf8.count)); bytes.append(contentsOf: n.utf8) }
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes.count + 1)
        p[0] = UInt8(bytes.count)
        for (i, b) in bytes.enumerated() { p[i + 1] = b }
        return p
    }
}

/// One TLS connection driven through BIOs: ciphertext read by libuv goes in with `receive` (OpenSSL reads it
/// straight from libuv's buffer through a lent-input BIO, with no copy into a buffer BIO), plaintext comes out to
/// a closure; plaintext to send goes in with `send` and the ciphertext to write comes out of `takeOutput` (a
/// memory BIO). OpenSSL never touches the socket. Loop thread only.
final class TLSSession {
    enum Status: Equatable {
        /// Still handshaking (write `takeOutput`, wait for more input).
        case handshaking
        /// The handshake finished during this call.
        case handshakeDone
        /// Application data flows.
        case open
        /// The peer closed the TLS session (close_notify).
        case closed
        /// Handshake or record failure; the text says why (certificate, host name, alert).
        case failed(String)
    }

    private let context: TLSContext
    private let ssl: OpaquePointer
    private let readBIO: OpaquePointer
    private let writeBIO: OpaquePointer
    private(set) var handshakeComplete = false
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 << 10, alignment: 16)
    /// When the handshake started and finished, `uv_hrtime`-style ns supplied by the caller.
    var handshakeStartNanos: UInt64 = 0
    var handshakeEndNanos: UInt64 = 0

    /// A client session for `host` (SNI, RFC 6066 §3, unless `host` is an IP literal; host-name check when the
    /// context verifies), or a server session.
    init(context: TLSContext, host: String?) throws {
        self.context = context
        guard let ssl = SSL_new(context.ctx) else { throw FastPerfError("cannot create a TLS session: \(TLSSession.lastError())") }
        self.ssl = ssl
        guard let input = BIO_new(context.inputMethod), let output = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw FastPerfError("cannot create TLS BIOs: \(TLSSession.lastError())")
        }
        readBIO = input
        writeBIO = output
        SSL_set_bio(ssl, readBIO, writeBIO)  // the SSL owns both BIOs now
        if context.isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let host {
                let isIP = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
                if !isIP { _ = copenssl_set_tlsext_host_name(ssl, host) }
                if isIP { _ = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) }
                else { _ = SSL_set1_host(ssl, host) }
            }
        }
    }

    deinit {
        SSL_free(ssl)
        scratch.deallocate()
    }

    static func lastError() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        copenssl_error_string(&buf, buf.count)
        copenssl_clear_errors()
        let s = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return s.isEmpty ? "unknown TLS error" : s
    }

    /// The ALPN protocol the peers agreed on (`h2`, `http/1.1`), nil when none (RFC 7301 §3.2).
    var negotiatedProtocol: String? {
        var p: UnsafePointer<UInt8>?
        var n: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &p, &n)
        guard let p, n > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: p, count: Int(n)), as: UTF8.self)
    }

    /// Starts (client) or continues the handshake.
    func handshake() -> Status {
        if handshakeComplete { return .open }
        copenssl_clear_errors()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 {
            handshakeComplete = true
            return .handshakeDone
        }
        let e = SSL_get_error(ssl, rc)
        if e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE { return .handshaking }
        let verify = SSL_get_verify_result(ssl)
        if verify != X509_V_OK {
            return .failed("TLS certificate verification failed: \(String(cString: X509_verify_cert_error_string(verify))) (use --cacert FILE, or --insecure to skip verification)")
        }
        return .failed("TLS handshake failed: \(Self.lastError())")
    }

    /// Feeds ciphertext (lent to the input BIO for the call); decrypted application data goes to `plaintext`
    /// (valid during the call). OpenSSL reads until the BIO asks it to retry, so every byte is used unless the
    /// session failed or was closed (then the rest does not matter); a byte left otherwise is an error, not a loss.
    func receive(_ cipher: UnsafeRawBufferPointer, plaintext: (UnsafeRawBufferPointer) -> Void) -> Status {
        copenssl_input_lend(readBIO, cipher.baseAddress, cipher.count)
        let status = receiveLent(plaintext)
        let left = copenssl_input_left(readBIO)
        copenssl_input_lend(readBIO, nil, 0)
        switch status {
        case .failed, .closed: return status
        case .handshaking, .handshakeDone, .open:
            return left == 0 ? status : .failed("TLS: OpenSSL left \(left) bytes of input unread")
        }
    }

    /// `receive` with the ciphertext lent to the input BIO.
    private func receiveLent(_ plaintext: (UnsafeRawBufferPointer) -> Void) -> Status {
        var status: Status = .open
        if !handshakeComplete {
            status = handshake()
            if case .failed = status { return status }
            if status == .handshaking { return status }
        }
        while true {
            copenssl_clear_errors()
            let n = SSL_read(ssl, scratch.baseAddress, Int32(scratch.count))
            if n > 0 {
                plaintext(UnsafeRawBufferPointer(start: scratch.baseAddress, count: Int(n)))
                continue
            }
            let e = SSL_get_error(ssl, n)
            if e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE { return status }
            if e == SSL_ERROR_ZERO_RETURN { return .closed }
            return .failed("TLS record error: \(Self.lastError())")
        }
    }

    /// Encrypts `plain` (after the handshake); the ciphertext waits in `takeOutput`.
    func send(_ plain: UnsafeRawBufferPointer) -> Status {
        var offset = 0
        while offset < plain.count {
            copenssl_clear_errors()
            let n = SSL_write(ssl, plain.baseAddress! + offset, Int32(min(plain.count - offset, 1 << 20)))
            if n <= 0 { return .failed("TLS write failed: \(Self.lastError())") }
            offset += Int(n)
        }
        return .open
    }

    /// Appends the ciphertext waiting to be written (handshake records, encrypted data) to `out`.
    func takeOutput(into out: inout [UInt8]) {
        while BIO_ctrl_pending(writeBIO) > 0 {
            let n = BIO_read(writeBIO, scratch.baseAddress, Int32(scratch.count))
            if n <= 0 { break }
            out.append(contentsOf: UnsafeRawBufferPointer(start: scratch.baseAddress, count: Int(n)))
        }
    }
}
