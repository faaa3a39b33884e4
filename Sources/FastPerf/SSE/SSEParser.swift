// Server-sent events (text/event-stream) parser.
//
// Spec: WHATWG HTML Living Standard, §9.2.6 "Interpreting an event stream"
// (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).

#if canImport(Glibc)
import Glibc
#endif

/// A borrowed view of one dispatched event.
///
/// Every pointer is valid only during the `onEvent` callback of ``SSEParser/feed(_:_:)``;
/// copy out what must outlive it. All three are UTF-8 bytes exactly as received (no decoding).
struct SSEEvent {
    /// The event's data buffer: the values of its `data` lines joined with LF (0x0A), the single
    /// trailing LF removed. May be empty (an event made of one `data` line with an empty value).
    var data: UnsafeRawBufferPointer
    /// The value of the event's last `event` field; empty (count 0) when the event had none.
    /// (A browser would report the type `message` then; this parser leaves that to the caller.)
    var type: UnsafeRawBufferPointer
    /// The last event ID buffer at dispatch time (the most recent valid `id` field seen in the
    /// stream, which persists across events); empty when none was given or it was reset by `id:`.
    var id: UnsafeRawBufferPointer
}

/// An incremental parser for one `text/event-stream` body, fed the de-chunked body bytes of
/// a response as they arrive.
///
/// It follows WHATWG HTML §9.2.6: one leading UTF-8 BOM is stripped; lines end with CRLF, LF
/// or a lone CR (a CR at the end of one feed and an LF at the start of the next are one line
/// end); a blank line dispatches the pending event; `:` starts a comment; `data`, `event`,
/// `id` and `retry` are the known fields. Feeds may be split anywhere, down to one byte.
///
/// Buffers (all reused; `removeAll(keepingCapacity:)` between events, so the steady state
/// does not allocate):
///
/// ```
/// lineBuffer   [ bytes of a line that started in an earlier feed and has no line end yet ]
/// dataBuffer   [ data line 1 ][LF][ data line 2 ][LF] ...   (the event being assembled)
/// eventType    [ value of the last `event` field of the event being assembled ]
/// lastEventID  [ value of the last valid `id` field of the stream ]
/// ```
///
/// Complete lines that lie inside one feed are interpreted straight from the input and never
/// copied into `lineBuffer`; only `data`/`event`/`id` values are copied, and not even the `data` value of
/// the common event of one `data` line followed by a blank line in the same feed (handed out in place).
struct SSEParser {
    private static let lf: UInt8 = 0x0A
    private static let cr: UInt8 = 0x0D
    private static let colon: UInt8 = 0x3A
    private static let space: UInt8 = 0x20

    /// Number of comment lines (lines starting with `:`) seen since init or `reset()`.
    private(set) var commentCount: Int = 0
    /// The last valid `retry` field value (reconnection time), in milliseconds; nil if none.
    private(set) var retryMillis: Int? = nil
    /// Number of field lines whose field name is not `data`, `event`, `id` or `retry`
    /// (ignored, as the spec requires), plus `retry` lines whose value is not all digits.
    private(set) var discardedFieldLines: Int = 0

    /// Bytes of a line not yet ended by CR/LF, carried over from earlier feeds.
    private var lineBuffer: [UInt8]
    /// Data of the event being assembled: each `data` value followed by LF.
    private var dataBuffer: [UInt8]
    /// `event` field value of the event being assembled (empty when none).
    private var eventType: [UInt8]
    /// The last event ID buffer (persists across dispatches).
    private var lastEventID: [UInt8]
    /// How many BOM bytes have been matched at the very start of the stream (0...3).
    private var bomMatched: Int = 0
    /// True once the stream start has been decided (BOM stripped, or the first byte was not one).
    private var bomResolved: Bool = false
    /// True when the previous feed ended with CR, so an LF opening the next feed is skipped.
    private var lastFeedEndedWithCR: Bool = false

    /// Creates a parser whose line and data buffers start with `initialCapacity` bytes
    /// reserved. Lines and events longer than that are fine: the buffers grow (and keep the
    /// larger capacity afterwards).
    init(initialCapacity: Int = 4096) {
        let capacity = max(initialCapacity, 1)
        lineBuffer = []
        lineBuffer.reserveCapacity(capacity)
        dataBuffer = []
        dataBuffer.reserveCapacity(capacity)
        eventType = []
        eventType.reserveCapacity(min(capacity, 64))
        lastEventID = []
        lastEventID.reserveCapacity(min(capacity, 64))
    }

    /// True when bytes of an undispatched event or of an unfinished line are buffered (or the
    /// stream so far is a partial BOM). At end of stream this means the last event was cut off:
    /// per the spec it is not dispatched, and the caller reports truncation.
    var hasPendingData: Bool {
        !lineBuffer.isEmpty || !dataBuffer.isEmpty || !eventType.isEmpty || (!bomResolved && bomMatched > 0)
    }

    /// Forgets all state, including the last event ID, the counters and `retryMillis`, keeping
    /// buffer capacity. Call it before the body of a new response.
    mutating func reset() {
        lineBuffer.removeAll(keepingCapacity: true)
        dataBuffer.removeAll(keepingCapacity: true)
        eventType.removeAll(keepingCapacity: true)
        lastEventID.removeAll(keepingCapacity: true)
        bomMatched = 0
        bomResolved = false
        lastFeedEndedWithCR = false
        commentCount = 0
        retryMillis = nil
        discardedFieldLines = 0
    }

    /// Parses `bytes` (the next piece of the body) and calls `onEvent` for every event
    /// dispatched by a blank line inside them, in order. `bytes` is only read during the call.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, _ onEvent: (SSEEvent) -> Void) {
        let count = bytes.count
        if count == 0 { return }
        var index = 0

        // The BOM may itself arrive split over several feeds.
        if !bomResolved {
            while index < count && bomMatched < 3 {
                if bytes[index] == Self.bomByte(bomMatched) {
                    bomMatched += 1
                    index += 1
                } else {
                    // Not a BOM after all: the bytes matched so far are ordinary line content.
                    for position in 0..<bomMatched { lineBuffer.append(Self.bomByte(position)) }
                    bomResolved = true
                    break
                }
            }
            if bomMatched == 3 { bomResolved = true }
            if !bomResolved { return }  // every byte so far is a BOM prefix
        }

        if lastFeedEndedWithCR {
            lastFeedEndedWithCR = false
            if index < count && bytes[index] == Self.lf { index += 1 }
        }

        let base = bytes.baseAddress!
        // The next CR at or after `index` (count: none left in this feed), found again only once passed: most
        // streams have none, so each line costs one memchr, for its LF.
        var nextCR = -1
        while index < count {
            // The line ends at the first LF or CR: memchr (vectorised in libc) finds each in one pass, which
            // matters because every byte of every response crosses this loop on a loop thread.
            var end = count
            if let lf = memchr(base + index, Int32(Self.lf), count - index) { end = base.distance(to: lf) }
            if nextCR < index {
                nextCR = memchr(base + index, Int32(Self.cr), count - index).map { base.distance(to: $0) } ?? count
            }
            if nextCR < end { end = nextCR }
            if end == count {
                // No line end in this feed: keep the partial line for the next one.
                lineBuffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<count]))
                return
            }
            if lineBuffer.isEmpty {
                // The common event, one `data` line then a blank line, both in this feed: handed out straight
                // from the input (no copy into `dataBuffer`).
                if dataBuffer.isEmpty, let next = singleDataLineEvent(bytes, from: index, lineEnd: end, onEvent) {
                    index = next
                    continue
                }
                processLine(UnsafeRawBufferPointer(rebasing: bytes[index..<end]), onEvent)
            } else {
                // Move the buffer out so that processLine may mutate self while reading it.
                var line: [UInt8] = []
                swap(&line, &lineBuffer)
                line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<end]))
                line.withUnsafeBytes { processLine($0, onEvent) }
                line.removeAll(keepingCapacity: true)
                swap(&line, &lineBuffer)
            }
            if bytes[end] == Self.cr {
                if end + 1 < count {
                    if bytes[end + 1] == Self.lf { end += 1 }
                } else {
                    lastFeedEndedWithCR = true
                }
            }
            index = end + 1
        }
    }

    /// When `bytes[from..<lineEnd]` is a `data` line and the next line in this feed is blank, dispatches the
    /// event with the line's value as its data (what `processLine` then `dispatch` would hand out, as no data
    /// is pending) and returns the index after the blank line's end; nil (nothing done) otherwise, or when a CR
    /// that ends the data line is the feed's last byte (the next feed decides whether an LF belongs to it).
    @inline(__always)
    private mutating func singleDataLineEvent(_ bytes: UnsafeRawBufferPointer, from: Int, lineEnd end: Int,
                                              _ onEvent: (SSEEvent) -> Void) -> Int? {
        let count = bytes.count
        guard end - from >= 5, bytes[from] == 0x64, bytes[from + 1] == 0x61, bytes[from + 2] == 0x74,
              bytes[from + 3] == 0x61, bytes[from + 4] == Self.colon else { return nil }  // "data:"
        // After the data line's end (LF, CR or CRLF).
        var p = end + 1
        if bytes[end] == Self.cr {
            guard p < count else { return nil }
            if bytes[p] == Self.lf { p += 1 }
        }
        guard p < count else { return nil }
        // The blank line: its end is all it has.
        var next = p + 1
        if bytes[p] == Self.cr {
            if next < count {
                if bytes[next] == Self.lf { next += 1 }
            } else {
                lastFeedEndedWithCR = true
            }
        } else if bytes[p] != Self.lf {
            return nil
        }
        var valueStart = from + 5
        if valueStart < end && bytes[valueStart] == Self.space { valueStart += 1 }
        let data = UnsafeRawBufferPointer(rebasing: bytes[valueStart..<end])
        eventType.withUnsafeBytes { type in
            lastEventID.withUnsafeBytes { id in
                onEvent(SSEEvent(data: data, type: type, id: id))
            }
        }
        if !eventType.isEmpty { eventType.removeAll(keepingCapacity: true) }
        return next
    }

    /// Interprets one complete line (without its line end), WHATWG §9.2.6 steps.
    private mutating func processLine(_ line: UnsafeRawBufferPointer, _ onEvent: (SSEEvent) -> Void) {
        let count = line.count
        if count == 0 {
            dispatch(onEvent)
            return
        }
        if line[0] == Self.colon {
            commentCount += 1
            return
        }
        var colonIndex = 0
        while colonIndex < count && line[colonIndex] != Self.colon { colonIndex += 1 }
        let field = UnsafeRawBufferPointer(rebasing: line[0..<colonIndex])
        var valueStart = colonIndex + 1
        if valueStart < count && line[valueStart] == Self.space { valueStart += 1 }
        let value =
            valueStart < count
            ? UnsafeRawBufferPointer(rebasing: line[valueStart..<count])
            : UnsafeRawBufferPointer(start: nil, count: 0)

        switch field.count {
        case 4 where Self.matches(field, 0x64, 0x61, 0x74, 0x61):  // "data"
            dataBuffer.append(contentsOf: value)
            dataBuffer.append(Self.lf)
        case 5 where Self.matches(field, 0x65, 0x76, 0x65, 0x6E, 0x74):  // "event"
            eventType.removeAll(keepingCapacity: true)
            eventType.append(contentsOf: value)
        case 2 where Self.matches(field, 0x69, 0x64):  // "id"
            if !value.contains(0) {
                lastEventID.removeAll(keepingCapacity: true)
                lastEventID.append(contentsOf: value)
            }
        case 5 where Self.matches(field, 0x72, 0x65, 0x74, 0x72, 0x79):  // "retry"
            if let millis = Self.parseDigits(value) {
                retryMillis = millis
            } else {
                discardedFieldLines += 1
            }
        default:
            discardedFieldLines += 1
        }
    }

    /// Dispatches the pending event (blank line), then resets the data and type buffers.
    private mutating func dispatch(_ onEvent: (SSEEvent) -> Void) {
        if dataBuffer.isEmpty {
            eventType.removeAll(keepingCapacity: true)
            return
        }
        dataBuffer.removeLast()  // the single trailing LF
        dataBuffer.withUnsafeBytes { data in
            eventType.withUnsafeBytes { type in
                lastEventID.withUnsafeBytes { id in
                    onEvent(SSEEvent(data: data, type: type, id: id))
                }
            }
        }
        dataBuffer.removeAll(keepingCapacity: true)
        if !eventType.isEmpty { eventType.removeAll(keepingCapacity: true) }
    }

    /// Byte `position` (0...2) of the UTF-8 byte order mark EF BB BF.
    @inline(__always)
    private static func bomByte(_ position: Int) -> UInt8 {
        switch position {
        case 0: return 0xEF
        case 1: return 0xBB
        default: return 0xBF
        }
    }

    /// True when `field` is exactly the given ASCII bytes (the caller has checked the count).
    @inline(__always)
    private static func matches(_ field: UnsafeRawBufferPointer, _ a: UInt8, _ b: UInt8) -> Bool {
        field[0] == a && field[1] == b
    }

    @inline(__always)
    private static func matches(
        _ field: UnsafeRawBufferPointer, _ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8
    ) -> Bool {
        field[0] == a && field[1] == b && field[2] == c && field[3] == d
    }

    @inline(__always)
    private static func matches(
        _ field: UnsafeRawBufferPointer, _ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, _ e: UInt8
    ) -> Bool {
        field[0] == a && field[1] == b && field[2] == c && field[3] == d && field[4] == e
    }

    /// The value as a base-ten integer when it is one or more ASCII digits and fits in `Int`;
    /// nil otherwise (the spec ignores a `retry` field that is not all digits).
    private static func parseDigits(_ value: UnsafeRawBufferPointer) -> Int? {
        if value.isEmpty { return nil }
        var result = 0
        for byte in value {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            let (times10, overflow1) = result.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - 0x30))
            if overflow1 || overflow2 { return nil }
            result = sum
        }
        return result
    }
}
