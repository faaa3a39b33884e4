/// Where a client connection stands, as its load driver sees it.
enum ClientConnectionState {
    /// TCP (and TLS) connect in progress; requests given to `send` wait for it.
    case connecting
    /// Open with no request in flight.
    case idle
    /// Open with at least one request in flight.
    case awaitingResponse
    /// Closing or closed; takes no request.
    case closing
}

/// A client connection of either protocol as a load driver uses it: HTTP/1.1 carries one request at a time,
/// HTTP/2 up to `min(--max-streams, the server's SETTINGS_MAX_CONCURRENT_STREAMS)` streams (RFC 9113 §5.1.2).
/// Loop thread only.
protocol ClientConnection: AnyObject {
    /// Unique within the run (`ClientContext.makeConnectionID`).
    var id: Int { get }
    var state: ClientConnectionState { get }
    /// How many more requests `send` accepts now (0 when full or closing).
    var availableSlots: Int { get }
    /// Requests given to `send` that have not finished yet.
    var inFlight: Int { get }
    /// Sends request `requestIndex` of the arena, now or once connected. `intendedNanos`: when the schedule
    /// wanted it sent (0 = closed loop: the actual send time). Only when `availableSlots > 0`.
    func send(requestIndex: Int, intendedNanos: UInt64)
    /// Applies `--connect-timeout`, `--read-timeout` and `--total-timeout` at `now` (`uv_hrtime` ns).
    func checkTimeouts(now: UInt64)
    /// Closes the connection; every request still in flight ends as `reset` with `reason`.
    func close(reason: String)
}

/// What a client connection tells the load driver that owns it. All calls happen on the loop thread.
protocol ClientConnectionOwner: AnyObject {
    /// The connection is open and can take more requests (`availableSlots > 0`): give it some with `send`, or
    /// `close` it when it has none in flight.
    func connectionIsIdle(_ connection: any ClientConnection)
    /// A request ended (successfully or not); exactly one call per request given to `send`.
    func connection(_ connection: any ClientConnection, didFinish record: RequestRecord)
    /// A reused keep-alive connection was closed by the server before any byte of the response to request
    /// `requestIndex` arrived: the server closed an idle connection as the request went out, so the request
    /// was never processed. The owner sends it again on a new connection (as browsers and aiohttp do);
    /// no record is made for the lost attempt.
    func connection(_ connection: any ClientConnection, didLoseRequest requestIndex: Int, intendedNanos: UInt64)
    /// The handle is closed; the connection will make no further calls.
    func connectionDidClose(_ connection: any ClientConnection)
}
