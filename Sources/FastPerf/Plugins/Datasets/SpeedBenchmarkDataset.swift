import Foundation

/// `speed_benchmark` and `speed_benchmark_long` (evalscope `speed_benchmark.py`, after Qwen's speed
/// tables): the prompt "熵" repeated 1, 6,144, 14,336 and 30,720 times (`_long`: 63,488 and 129,024), two
/// requests each, sent as plain prompts to `/v1/completions` one at a time (`--parallel 1`, `--number` =
/// the item count). After the run, `speed_benchmark.json` in the point's folder holds evalscope's table:
/// per prompt-token count, the mean of completion_tokens / latency over successful requests.
public struct SpeedBenchmarkDataset: DatasetPlugin {
    /// The registered name of the standard lengths, `speed_benchmark`.
    public static let name = "speed_benchmark"
    /// The registered name of the long lengths, `speed_benchmark_long`.
    public static let longName = "speed_benchmark_long"
    /// The repeated character and the repetition counts (evalscope's `DUMMY_INPUT`, `INPUT_LENGTH`).
    static let character = "熵"
    static let lengths = [1, 6144, 14336, 30720]
    static let longLengths = [63488, 129_024]
    /// Requests per length (evalscope's `REPEAT`).
    static let repeats = 2

    let long: Bool

    /// Reads nothing; `--dataset speed_benchmark_long` picks the long lengths.
    public init(arguments: RunArguments) throws {
        long = arguments.dataset == Self.longName
    }

    /// Two `.prompt` items per length, in increasing length.
    public func buildMessages() throws -> [DatasetItem] {
        (long ? Self.longLengths : Self.lengths).flatMap { n in
            Array(repeating: DatasetItem.prompt(String(repeating: Self.character, count: n)), count: Self.repeats)
        }
    }

    /// Whether `dataset` is one of the speed benchmarks.
    public static func isSpeedBenchmark(_ dataset: String) -> Bool { dataset == name || dataset == longName }

    /// The run settings evalscope forces for the speed benchmarks: a `chat/completions` URL becomes
    /// `completions`, one point at `--parallel 1` with `--number` = `itemCount`.
    static func adjust(_ a: inout RunArguments, itemCount: Int, log: (String) -> Void) {
        if let url = a.url, url.hasSuffix("chat/completions") {
            a.url = String(url.dropLast("chat/completions".count)) + "completions"
            log("\(a.dataset): using \(a.url!) (the speed benchmark sends plain prompts to /v1/completions)")
        }
        if a.parallel != [1] || a.number != [itemCount] {
            log("\(a.dataset): one point at --parallel 1, --number \(itemCount)")
        }
        a.parallel = [1]
        a.number = [itemCount]
    }

    /// Writes `speed_benchmark.json` next to `benchmark_data.db` in `directory` (evalscope's
    /// `speed_benchmark_result`: `SELECT prompt_tokens, ROUND(AVG(completion_tokens / latency), 2),
    /// ROUND(AVG(max_gpu_memory_cost), 2) … WHERE success = 1 AND latency > 0 GROUP BY prompt_tokens`,
    /// keys `Prompt Tokens`, `Speed(tokens/s)`, `GPU Memory(GB)`; FastPerf stores no GPU memory, so that
    /// value is null) and returns the table as text.
    /// - Throws: a storage error when the database cannot be read or the file written.
    static func writeReport(directory: String) throws -> String {
        let db = try SQLiteDatabase(path: directory + "/benchmark_data.db")
        let rows = try db.query("""
            SELECT prompt_tokens, ROUND(AVG(CAST(completion_tokens AS REAL) / latency), 2), ROUND(AVG(max_gpu_memory_cost), 2)
            FROM result WHERE success = 1 AND latency > 0 GROUP BY prompt_tokens ORDER BY prompt_tokens
            """)
        func number(_ v: SQLValue) -> Any {
            switch v {
            case .integer(let i): return i
            case .real(let d): return d
            default: return NSNull()
            }
        }
        func text(_ v: SQLValue) -> String {
            switch v {
            case .integer(let i): return String(i)
            case .real(let d): return String(format: "%.2f", d)
            default: return "-"
            }
        }
        let objects = rows.map { ["Prompt Tokens": number($0[0]), "Speed(tokens/s)": number($0[1]), "GPU Memory(GB)": number($0[2])] }
        let json = try JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try json.write(to: URL(fileURLWithPath: directory + "/speed_benchmark.json"))
        let header = ["Prompt Tokens", "Speed(tokens/s)", "GPU Memory(GB)"]
        return "Speed Benchmark Results\n" + ReportText.table(header: header, rows: rows.map { $0.map(text) }, leftAligned: [])
    }
}
