/// Every request of a run rendered to its exact HTTP/1.1 bytes before the first send, back to back in one
/// allocation (h2load's pre-rendered requests), so a loop thread only points libuv at a slice. A dataset shorter
/// than `--number` cycles, so only its distinct requests are stored: request `i` is distinct request
/// `i % distinctCount` (memory stays the dataset's size, not `--number`'s).
///
/// `@unchecked Sendable`: filled once on the main thread by `init`, then only read, by any thread, until `deinit`.
final class RequestArena: @unchecked Sendable {
    private let storage: UnsafeMutableRawBufferPointer
    private let offsets: [Int]
    /// Number of requests.
    let count: Int
    /// Number of distinct requests stored.
    var distinctCount: Int { offsets.count - 1 }
    /// Total bytes of all rendered requests.
    var byteCount: Int { storage.count }

    /// - Parameters:
    ///   - requests: the distinct rendered requests (request line, headers, blank line, body), in order; at
    ///     least one.
    ///   - count: the run's requests (default: one each).
    init(_ requests: [[UInt8]], count: Int? = nil) {
        precondition(!requests.isEmpty, "a request arena needs at least one request")
        self.count = count ?? requests.count
        var offsets = [0]
        offsets.reserveCapacity(requests.count + 1)
        for r in requests { offsets.append(offsets.last! + r.count) }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, offsets.last!), alignment: 16)
        for (i, r) in requests.enumerated() {
            r.withUnsafeBytes { src in
                UnsafeMutableRawBufferPointer(rebasing: storage[offsets[i]..<offsets[i + 1]]).copyMemory(from: src)
            }
        }
        self.storage = storage
        self.offsets = offsets
    }

    deinit { storage.deallocate() }

    /// The bytes of request `i` (any index below `count`); valid while the arena lives.
    func bytes(_ i: Int) -> UnsafeRawBufferPointer {
        let d = i % distinctCount
        return UnsafeRawBufferPointer(rebasing: storage[offsets[d]..<offsets[d + 1]])
    }
}
