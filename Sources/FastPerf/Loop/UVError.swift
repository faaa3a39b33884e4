internal import CUV

/// A libuv error code (negative errno-style value) with libuv's name and message.
struct UVError: Error, CustomStringConvertible, Sendable {
    /// The libuv status code, e.g. `UV_ECONNREFUSED`.
    let code: Int32
    var name: String { String(cString: uv_err_name(code)) }
    var description: String { "\(String(cString: uv_strerror(code))) (\(name))" }
    /// Throws when `rc` is not 0.
    static func check(_ rc: Int32) throws(UVError) { if rc != 0 { throw UVError(code: rc) } }
    static var eof: Int32 { Int32(UV_EOF.rawValue) }
    static var timedOut: Int32 { Int32(UV_ETIMEDOUT.rawValue) }
    static var connectionReset: Int32 { Int32(UV_ECONNRESET.rawValue) }
    static var brokenPipe: Int32 { Int32(UV_EPIPE.rawValue) }
    /// The process (`EMFILE`) or the system (`ENFILE`) has no file descriptor left.
    static func isOutOfFileDescriptors(_ code: Int32) -> Bool {
        code == Int32(UV_EMFILE.rawValue) || code == Int32(UV_ENFILE.rawValue)
    }
}

/// The monotonic clock every measurement uses: libuv's `uv_hrtime`, in nanoseconds from an arbitrary origin.
public enum MonotonicClock {
    /// Now, in nanoseconds (`uv_hrtime`).
    @inline(__always) public static func nowNanos() -> UInt64 { uv_hrtime() }
}

/// Raises the soft open-files limit to the hard limit and returns the soft limit now in force (-1 if unknown).
public func raiseOpenFilesLimit() -> Int { Int(cuv_raise_nofile_limit()) }

/// CPU time and memory of the client, from `getrusage`.
public enum ResourceUsage {
    /// CPU seconds (user + system) used by the calling thread.
    public static func threadCPUSeconds() -> Double { cuv_thread_cpu_seconds() }
    /// CPU seconds (user + system) used by the whole process.
    public static func processCPUSeconds() -> Double { cuv_process_cpu_seconds() }
    /// Peak resident set size of the process, in bytes.
    public static func peakRSSBytes() -> Int { Int(cuv_peak_rss_bytes()) }
}
