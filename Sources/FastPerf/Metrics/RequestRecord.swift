/// One SSE event as the loop thread saw it: where its bytes sit in `RequestRecord.payload` and when the
/// socket read that completed it happened. Offsets and lengths are in bytes; the timestamp is `uv_hrtime` ns.
public struct SSEEventMark: Sendable, Equatable {
    /// Offset of the event's data (the `data:` lines joined with LF, no trailing LF) in `payload`.
    public var dataOffset: UInt32
    /// Length in bytes of the event's data.
    public var dataLength: UInt32
    /// Offset of the event type (the `event:` field) in `payload`; meaningful only when `nameLength > 0`.
    public var nameOffset: UInt32
    /// Length in bytes of the event type; 0 when the event had no `event:` field ("message").
    public var nameLength: UInt32
    /// `uv_hrtime` nanoseconds of the read callback that delivered the event's final byte.
    public var timestampNanos: UInt64

    public init(dataOffset: UInt32, dataLength: UInt32, nameOffset: UInt32 = 0, nameLength: UInt32 = 0,
                timestampNanos: UInt64) {
        self.dataOffset = dataOffset
        self.dataLength = dataLength
        self.nameOffset = nameOffset
        self.nameLength = nameLength
        self.timestampNanos = timestampNanos
    }
}

/// How the transport (connection, HTTP framing, timers) ended a request, before any payload is judged.
/// The API plugin turns a `.completed` record into `ok`, `http_status`, `in_band_error`, `truncated` or
/// `no_output` (DESIGN.md §3 "outcome").
public enum TransportOutcome: UInt8, Sendable {
    /// The HTTP response ended by its framing (Content-Length, last chunk, or close of a close-delimited body).
    case completed
    /// The TCP connect failed (refused, unreachable, DNS).
    case connectFailed
    /// The connection was lost (reset, EOF) before the response ended.
    case reset
    /// `--connect-timeout` passed before the connection was established.
    case timeoutConnect
    /// `--read-timeout` passed with no byte received.
    case timeoutIdle
    /// `--total-timeout` passed since the request was sent.
    case timeoutTotal
    /// The response violated HTTP/1.1 framing (bad status line, bad chunk size, data after the end).
    case protocolError
}

/// Everything the loop thread learned about one request, handed to the writer thread through an SPSC ring.
/// All times are `uv_hrtime` nanoseconds (monotonic); 0 means "did not happen".
/// Built on the loop with no JSON work: an SSE response's body bytes are copied into `payload` as they are read,
/// and `events` locates each event's data and type there.
public struct RequestRecord: Sendable {
    /// Index of the request in the run's `PreparedRequests` (its body and headers).
    public var requestIndex: Int
    /// Which loop thread carried the request.
    public var loopID: Int
    /// Which connection (unique within the run) carried the request.
    public var connectionID: Int
    /// When the schedule wanted the request sent; equal to `startNanos` in closed loop.
    public var intendedStartNanos: UInt64 = 0
    /// When the request's first byte was handed to the socket.
    public var startNanos: UInt64 = 0
    /// When the read that completed the response head happened.
    public var headNanos: UInt64 = 0
    /// When the response ended (framing complete, close of a close-delimited body) or failed.
    public var endNanos: UInt64 = 0
    /// HTTP status code; 0 when no response head was received.
    public var httpStatus: Int = 0
    /// The response's `Content-Type` was `text/event-stream` (its body went through the SSE parser).
    public var isEventStream: Bool = false
    /// How the transport ended the request.
    public var transport: TransportOutcome = .completed
    /// Transport or framing error text (nil when `transport == .completed`).
    public var error: String?
    /// SSE responses: the body bytes in the order read, each read's followed by the data of events that the
    /// SSE parser assembled (several `data` lines, or lines over several reads) and the events' types; `events`
    /// locates every event's data and type. Other responses: the body bytes (capped).
    public var payload: [UInt8] = []
    /// SSE events in arrival order; empty for non-SSE responses.
    public var events: [SSEEventMark] = []
    /// Body bytes received (after de-chunking), in bytes.
    public var bodyBytes: Int = 0
    /// HTTPS: the TLS handshake of this request's connection, ns (ClientHello to Finished), set on the first
    /// request a connection carries; 0 otherwise.
    public var tlsHandshakeNanos: UInt64 = 0
    /// The protocol that carried the request, as stored in the `protocol` column: `http/1.1` or `h2`.
    public var protocolName: StaticString = "http/1.1"

    public init(requestIndex: Int, loopID: Int, connectionID: Int) {
        self.requestIndex = requestIndex
        self.loopID = loopID
        self.connectionID = connectionID
    }

    /// The data of event `i`, as UTF-8 bytes.
    public func eventData(_ i: Int) -> ArraySlice<UInt8> {
        let m = events[i]
        return payload[Int(m.dataOffset)..<Int(m.dataOffset) + Int(m.dataLength)]
    }

    /// The type (`event:` field) of event `i`; empty when the event had none.
    public func eventName(_ i: Int) -> ArraySlice<UInt8> {
        let m = events[i]
        return payload[Int(m.nameOffset)..<Int(m.nameOffset) + Int(m.nameLength)]
    }
}
