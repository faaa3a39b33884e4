import Foundation

/// `workload_trace`: production traffic replayed at its recorded arrival times (evalscope's
/// `workload_trace`). JSON Lines, one request per line:
///
/// - `timestamp` (required): arrival offset from the trace's start, ms;
/// - the prompt, one of: `body` (a whole request body object, sent as is apart from flag values it lacks),
///   `messages` (an OpenAI messages array), `prompt` (text), or `input_length` (a number of tokens: a
///   random prompt of exactly that length is made with `--tokenizer-path`, as the `random` dataset does);
/// - `output_length` or `completion_tokens` (optional): the reply length, sent as `max_tokens`;
/// - `request_id` (optional): stored in the `request_id` column.
///
/// Lines are replayed in timestamp order; `--trace-speed F` divides every offset by F (2 = twice as fast);
/// `--number` truncates. The run is open loop: a request leaves at its time whatever came before.
public struct WorkloadTraceDataset: DatasetPlugin {
    /// The registered name, `workload_trace`.
    public static let name = "workload_trace"
    let file: DatasetFile

    /// One replayed request: its arrival offset (ms), id and item.
    struct Entry {
        var offsetMillis: Double
        var requestID: String?
        var item: DatasetItem
    }

    /// - Throws: `FastPerfError` without `--dataset-path` or with `--dataset-args` (it takes none).
    public init(arguments: RunArguments) throws {
        file = try DatasetFile(arguments, dataset: Self.name)
    }

    /// The items in arrival order (no length filter: a trace is replayed as recorded).
    public func buildMessages() throws -> [DatasetItem] { try entries().map(\.item) }

    /// Every line, sorted by timestamp.
    /// - Throws: `FastPerfError` naming the file and line for a missing or negative `timestamp`, no prompt,
    ///   a bad length, or `input_length` without `--tokenizer-path`.
    func entries() throws -> [Entry] {
        let text = try file.text()
        var random: (RandomDataset, [Int])?
        var entries: [Entry] = try file.jsonLines(text).map { number, value in
            let location = "\(file.location) line \(number)"
            guard let object = value as? [String: Any] else { throw FastPerfError("\(location): expected a JSON object") }
            guard let t = (object["timestamp"] as? NSNumber)?.doubleValue, t >= 0, t.isFinite else {
                throw FastPerfError("\(location): \"timestamp\" (ms from the start) must be a number ≥ 0")
            }
            var item: DatasetItem
            if let body = object["body"] {
                guard JSONSerialization.isValidJSONObject(body), body is [String: Any],
                      let data = try? JSONSerialization.data(withJSONObject: body) else {
                    throw FastPerfError("\(location): \"body\" must be a JSON object")
                }
                item = .body(String(decoding: data, as: UTF8.self))
            } else if let messages = object["messages"] as? [Any] {
                item = .messages(try LineByLineDataset.messages(messages, location: location))
            } else if let prompt = object["prompt"] as? String {
                item = .prompt(prompt)
            } else if let n = object["input_length"] as? Int, n > 0 {
                if random == nil {
                    var a = file.arguments
                    (a.minPromptLength, a.maxPromptLength, a.prefixLength) = (1, 1, 0)
                    let dataset = try RandomDataset(arguments: a)
                    random = (dataset, dataset.tokenizer.ordinaryTokenIDs)
                }
                let (dataset, pool) = random!
                var rng = SplitMix64(seed: UInt64(bitPattern: Int64(file.arguments.seed ?? 0)), stream: UInt64(number))
                let offset = rng.below(pool.count)
                let ids = (0..<n).map { pool[(offset + $0) % pool.count] }
                item = .prompt(try dataset.exactText(ids, target: n, prefix: "", random: &rng, item: number))
            } else {
                throw FastPerfError("\(location): needs \"body\", \"messages\", \"prompt\" or \"input_length\"")
            }
            if let out = object["output_length"] ?? object["completion_tokens"] {
                guard let n = out as? Int, n > 0 else { throw FastPerfError("\(location): output length must be a positive integer") }
                item = .withMaxTokens(item, n)
            }
            let id = object["request_id"].flatMap { $0 is NSNull ? nil : "\($0)" }
            return Entry(offsetMillis: t, requestID: id, item: item)
        }
        guard !entries.isEmpty else { throw FastPerfError("\(file.location): no requests in the trace") }
        // By time; equal times keep file order.
        entries = entries.enumerated().sorted { ($0.element.offsetMillis, $0.offset) < ($1.element.offsetMillis, $1.offset) }
            .map(\.element)
        return entries
    }

    /// The replay schedule and request ids of the first `count` requests, offsets divided by `speed`.
    static func schedule(_ arguments: RunArguments, count: Int) throws -> (ArrivalSchedule, [String?]) {
        let entries = try WorkloadTraceDataset(arguments: arguments).entries().prefix(count)
        let origin = entries.first?.offsetMillis ?? 0
        return (ArrivalSchedule(offsetsMillis: entries.map { $0.offsetMillis - origin }, speed: arguments.traceSpeed),
                entries.map(\.requestID))
    }
}
