/// The judged result of one request (writer thread): its outcome and its per-request metrics, as defined
/// in DESIGN.md §3. One `RequestResult` becomes one row of the `result` table and one `add` to the
/// `MetricsAccumulator`. All instants are `uv_hrtime` nanoseconds; durations are nanoseconds unless the
/// name says seconds.
public struct RequestResult: Sendable {
    /// The outcome kind of DESIGN.md §3 (`outcome` DB column); raw values are the stored strings.
    public enum Outcome: String, Sendable, CaseIterable {
        /// Success: 2xx, no in-band error, a terminal marker and at least one output token.
        case ok
        /// The server answered with a non-2xx status (`httpStatus` holds it).
        case httpStatus = "http_status"
        /// The TCP connect failed.
        case connectFailed = "connect_failed"
        /// The connection was lost before the response ended.
        case reset
        /// `--connect-timeout` passed.
        case timeoutConnect = "timeout_connect"
        /// `--read-timeout` passed with no byte received.
        case timeoutIdle = "timeout_idle"
        /// `--total-timeout` passed.
        case timeoutTotal = "timeout_total"
        /// Bad HTTP or SSE framing, or a 2xx body that is neither SSE nor JSON.
        case protocolError = "protocol_error"
        /// An error object or event inside a 2xx response; its message is kept in `error`.
        case inBandError = "in_band_error"
        /// The response ended without a terminal marker (`[DONE]` or `finish_reason` on every choice).
        case truncated
        /// A terminal marker but no output token.
        case noOutput = "no_output"
    }

    /// Index of the request in the run's prepared requests.
    public var requestIndex: Int
    /// Loop thread that carried it.
    public var loopID: Int
    /// Connection (unique within the run) that carried it.
    public var connectionID: Int
    /// When the schedule wanted it sent, ns (= `startNanos` in closed loop).
    public var intendedStartNanos: UInt64
    /// When its first byte was handed to the socket, ns (DESIGN §3 "start"); 0 if never sent.
    public var startNanos: UInt64
    /// When the response ended or failed (the stream's end: last byte, `[DONE]` or close), ns
    /// (`completed_time`); = `RequestRecord.endNanos`.
    public var completedNanos: UInt64
    /// `success` column: `outcome == .ok`.
    public var success: Bool
    /// The outcome kind (DESIGN §3).
    public var outcome: Outcome
    /// HTTP status; nil when no response head was received.
    public var httpStatus: Int?
    /// Error text for a failure (transport error, error body, in-band message, reason); nil on success.
    public var error: String?
    /// TTFT, ns (`first_chunk_latency`): first output-bearing event − start; non-stream: = latency.
    /// nil for failures.
    public var ttftNanos: UInt64?
    /// Latency, ns (`latency`): last output-bearing event − start; non-stream: body complete − start.
    /// nil for failures.
    public var latencyNanos: UInt64?
    /// Gaps between consecutive output-bearing events, ns (`inter_token_latencies`); empty for failures
    /// and non-stream responses.
    public var itlNanos: [UInt64]
    /// TPOT, s (`time_per_output_token`): (last − first output-bearing event) / (completion_tokens − 1),
    /// only when completion_tokens > 1 on a successful stream; nil otherwise (never 0).
    public var tpotSeconds: Double?
    /// `usage.prompt_tokens` (tokens); nil for failures or when the server sent none.
    public var promptTokens: Int?
    /// `usage.completion_tokens` (tokens); nil for failures or when the server sent none.
    public var completionTokens: Int?
    /// `is_stream`: a successful request is a stream when its response was an event stream; a failed one
    /// when it asked for a stream or got one (evalscope: "response content type, or request body on failure").
    public var isStream: Bool
    /// Generated text (`content`/`text`), kept for failures too (partial text may be logged).
    public var generatedText: String
    /// Reasoning text (`reasoning_content`/`reasoning`).
    public var reasoningText: String
    /// `tokens_counted`: the token counts come from the tokenizer fallback, not from `usage`.
    public var tokensCounted = false

    /// Judges one finished request (DESIGN §3). Outcome order: transport failure → non-2xx status →
    /// malformed response → in-band error → no terminal marker → no output token → ok.
    /// Metrics are computed for successes only; failures get nil TTFT/latency/TPOT/tokens and no ITL.
    /// - Parameters:
    ///   - record: what the loop recorded.
    ///   - parsed: what the API plugin read from it.
    ///   - isStreamRequest: the request body asked for a stream (`APIRequest.isStream`).
    public static func make(record: RequestRecord, parsed: ParsedResponse, isStreamRequest: Bool) -> RequestResult {
        let start = record.startNanos
        var result = RequestResult(
            requestIndex: record.requestIndex, loopID: record.loopID, connectionID: record.connectionID,
            intendedStartNanos: record.intendedStartNanos, startNanos: start, completedNanos: record.endNanos,
            success: false, outcome: .ok, httpStatus: record.httpStatus == 0 ? nil : record.httpStatus,
            error: nil, ttftNanos: nil, latencyNanos: nil, itlNanos: [], tpotSeconds: nil,
            promptTokens: nil, completionTokens: nil, isStream: record.isEventStream || isStreamRequest,
            generatedText: parsed.generatedText, reasoningText: parsed.reasoningText)

        let streamed = record.isEventStream
        let (outcome, error) = judge(record: record, parsed: parsed, streamed: streamed)
        result.outcome = outcome
        result.error = error
        guard outcome == .ok else { return result }

        result.success = true
        result.isStream = streamed
        result.promptTokens = parsed.promptTokens
        result.completionTokens = parsed.completionTokens
        if streamed {
            // judge() guarantees at least one output-bearing event for a successful stream.
            let output = parsed.outputEventIndices
            let first = record.events[output[0]].timestampNanos
            let last = record.events[output[output.count - 1]].timestampNanos
            result.ttftNanos = elapsed(first, from: start)
            result.latencyNanos = elapsed(last, from: start)
            var itl: [UInt64] = []
            itl.reserveCapacity(output.count - 1)
            var previous = first
            for k in output.dropFirst() {
                let t = record.events[k].timestampNanos
                itl.append(elapsed(t, from: previous))
                previous = t
            }
            result.itlNanos = itl
            result.tpotSeconds = tpot(firstToLastNanos: elapsed(last, from: first), completionTokens: parsed.completionTokens)
        } else {
            let latency = elapsed(record.endNanos, from: start)
            result.ttftNanos = latency
            result.latencyNanos = latency
        }
        return result
    }

    /// TPOT in s: (last − first output-bearing event) / (completion_tokens − 1), nil unless tokens > 1.
    static func tpot(firstToLastNanos: UInt64, completionTokens: Int?) -> Double? {
        guard let tokens = completionTokens, tokens > 1 else { return nil }
        return Double(firstToLastNanos) / 1e9 / Double(tokens - 1)
    }

    /// Fills missing token counts of a success from the tokenizer fallback (`TokenCounter`), marks the
    /// result as counted and recomputes TPOT for a stream. Counts the server reported are kept.
    mutating func applyCountedTokens(prompt: Int, completion: Int) {
        guard success, promptTokens == nil || completionTokens == nil else { return }
        if promptTokens == nil { promptTokens = prompt }
        if completionTokens == nil { completionTokens = completion }
        tokensCounted = true
        if isStream, let ttft = ttftNanos, let latency = latencyNanos {
            tpotSeconds = Self.tpot(firstToLastNanos: Self.elapsed(latency, from: ttft), completionTokens: completionTokens)
        }
    }

    /// The outcome and error text of a record (see `make`).
    static func judge(record: RequestRecord, parsed: ParsedResponse, streamed: Bool) -> (Outcome, String?) {
        switch record.transport {
        case .completed: break
        case .connectFailed: return (.connectFailed, record.error ?? "connect failed")
        case .reset: return (.reset, record.error ?? "connection lost before the response ended")
        case .timeoutConnect: return (.timeoutConnect, record.error ?? "connect timeout")
        case .timeoutIdle: return (.timeoutIdle, record.error ?? "read timeout (no byte received)")
        case .timeoutTotal: return (.timeoutTotal, record.error ?? "total timeout")
        case .protocolError: return (.protocolError, record.error ?? "HTTP protocol error")
        }
        guard (200..<300).contains(record.httpStatus) else {
            return (.httpStatus, parsed.errorMessage ?? "HTTP \(record.httpStatus)")
        }
        if let malformed = parsed.malformed { return (.protocolError, malformed) }
        if let message = parsed.errorMessage { return (.inBandError, message) }
        guard parsed.sawTerminalMarker else {
            return (.truncated, "stream ended without a terminal marker")
        }
        // Embeddings and rerank generate nothing: a complete 2xx body is their success.
        if !parsed.expectsOutput && !streamed { return (.ok, nil) }
        let hasOutput = streamed
            ? !parsed.outputEventIndices.isEmpty
            : !(parsed.generatedText.isEmpty && parsed.reasoningText.isEmpty && parsed.toolCallCount == 0)
        if !hasOutput || parsed.completionTokens == 0 {
            return (.noOutput, "no output token")
        }
        return (.ok, nil)
    }

    /// `t − origin` in ns, 0 when `t` is earlier (clocks are monotonic; this only guards bad input).
    static func elapsed(_ t: UInt64, from origin: UInt64) -> UInt64 {
        t >= origin ? t - origin : 0
    }
}
