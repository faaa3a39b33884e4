/// Every request of a run rendered to its exact HTTP/1.1 bytes before the first send, back to back in one
/// allocation (h2load's pre-rendered requests), so a loop thread only points libuv at a slice.
///
/// `@unchecked Sendable`: filled once on the main thread by `init`, then only read, by any thread, until `deinit`.
final class RequestArena: @unchecked Sendable {
    private let storage: UnsafeMutableRawBufferPointer
    private let offsets: [Int]
    /// Number of requests.
    var count: Int { offsets.count - 1 }
    /// Total bytes of all rendered requests.
    var byteCount: Int { storage.count }

    /// - Parameter requests: rendered requests (request line, headers, blank line, body), in order.
    init(_ requests: [[UInt8]]) {
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

    /// The bytes of request `i`; valid while the arena lives.
    func bytes(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: storage[offsets[i]..<offsets[i + 1]])
    }
}
