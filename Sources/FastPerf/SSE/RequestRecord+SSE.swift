extension RequestRecord {
    /// Moves this record out, leaving an empty one (no buffers) in its place: the caller appends events to the
    /// moved record (uniquely referenced, so no copy) and swaps it back.
    mutating func takeForAppending() -> RequestRecord {
        var taken = RequestRecord(requestIndex: requestIndex, loopID: loopID, connectionID: connectionID)
        swap(&self, &taken)
        return taken
    }

    /// Where the body bytes of one SSE parser feed were stored in `payload` (`appendFeed`): events whose data
    /// the parser hands out in place, inside the feed, are located there instead of being copied again.
    struct FeedPlace {
        /// Offset in `payload` of the feed's first byte.
        let offset: Int
        /// The feed's bytes, as lent to the parser; valid only while it parses them.
        let bytes: UnsafeRawBufferPointer

        /// The offset in `payload` of `part` when it lies inside the feed's bytes; nil otherwise.
        @inline(__always)
        func offset(of part: UnsafeRawBufferPointer) -> Int? {
            guard let start = bytes.baseAddress, let p = part.baseAddress, p >= start,
                  p + part.count <= start + bytes.count else { return nil }
            return offset + (p - start)
        }
    }

    /// Stores `bytes`, the next body bytes of an SSE response, at the end of `payload` before the SSE parser
    /// reads them: one copy per read, not one per event. Returns where they went, for `append(_:at:feed:)`.
    @inline(__always)
    mutating func appendFeed(_ bytes: UnsafeRawBufferPointer) -> FeedPlace {
        let place = FeedPlace(offset: payload.count, bytes: bytes)
        payload.append(contentsOf: bytes)
        return place
    }

    /// Stores one dispatched SSE event: a mark with its data's place in `payload` and `now`, the `uv_hrtime` of
    /// the read that completed it. Data the parser hands out inside the current feed (`feed`, already in
    /// `payload`) is located there; data it assembled (several `data` lines, or lines over several reads) and
    /// the event type are copied to the end of `payload`. Both protocols' connections call this from the
    /// parser's callback, on the loop thread; the arrays grow by amortized doubling from a capacity sized by the
    /// connection's previous request.
    @inline(__always)
    mutating func append(_ event: SSEEvent, at now: UInt64, feed: FeedPlace) {
        let dataOffset: Int
        if let inFeed = feed.offset(of: event.data) {
            dataOffset = inFeed
        } else {
            dataOffset = payload.count
            payload.append(contentsOf: event.data)
        }
        var nameOffset = 0
        if event.type.count > 0 {
            nameOffset = payload.count
            payload.append(contentsOf: event.type)
        }
        events.append(SSEEventMark(dataOffset: UInt32(truncatingIfNeeded: dataOffset),
                                   dataLength: UInt32(truncatingIfNeeded: event.data.count),
                                   nameOffset: UInt32(truncatingIfNeeded: nameOffset),
                                   nameLength: UInt32(truncatingIfNeeded: event.type.count),
                                   timestampNanos: now))
    }
}
