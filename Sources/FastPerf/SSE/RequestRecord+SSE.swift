extension RequestRecord {
    /// Moves this record out, leaving an empty one (no buffers) in its place: the caller appends events to the
    /// moved record (uniquely referenced, so no copy) and swaps it back.
    mutating func takeForAppending() -> RequestRecord {
        var taken = RequestRecord(requestIndex: requestIndex, loopID: loopID, connectionID: connectionID)
        swap(&self, &taken)
        return taken
    }

    /// Stores one dispatched SSE event: its data (and its type, when it has one) copied to the end of
    /// `payload`, and a mark with their offsets and `now`, the `uv_hrtime` of the read that completed it.
    /// Both protocols' connections call this from the parser's callback, on the loop thread; the arrays grow
    /// by amortized doubling from a capacity sized by the connection's previous request.
    @inline(__always)
    mutating func append(_ event: SSEEvent, at now: UInt64) {
        let dataOffset = payload.count
        payload.append(contentsOf: event.data)
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
