/// Every setting of a `fastperf perf` run, named as evalscope's `Arguments` (JSON keys are evalscope's,
/// so `benchmark_args.json` reads like evalscope's). Built by the CLI, validated before the run, then
/// immutable and shared by every thread.
public struct RunArguments: Sendable, Codable, Equatable {
    /// Endpoint URL (`--url`); nil starts the embedded mock server and benchmarks it.
    public var url: String?
    /// API plugin name (`--api`), e.g. `openai`.
    public var api: String = "openai"
    /// Model name sent in the body (`--model`).
    public var model: String = "mock-model"
    /// Bearer token (`--api-key`); masked in every saved file.
    public var apiKey: String?
    /// Extra request headers (`--headers k=v`), in order.
    public var headers: [String: String] = [:]
    /// Closed-loop concurrency per sweep point (`--parallel`).
    public var parallel: [Int] = [1]
    /// Requests per sweep point (`--number`).
    public var number: [Int] = [1000]
    /// Pause between sweep points, in s (`--sleep-interval`).
    public var sleepInterval: Double = 5
    /// Dataset plugin name (`--dataset`).
    public var dataset: String = "openqa"
    /// Dataset file (`--dataset-path`).
    public var datasetPath: String?
    /// Fixed prompt for every request (`--prompt`; `@file` reads a file). Overrides `--dataset`.
    public var prompt: String?
    /// Prompt length filter bounds, in characters until a tokenizer is given (`--min/--max-prompt-length`).
    public var minPromptLength: Int = 0
    public var maxPromptLength: Int = 131_072
    /// `max_tokens` sent in the body (`--max-tokens`).
    public var maxTokens: Int? = 2048
    /// `min_tokens` sent in the body (`--min-tokens`).
    public var minTokens: Int?
    /// Sampling parameters sent in the body.
    public var temperature: Double? = 0.0
    public var topP: Double?
    public var topK: Int?
    /// Stop strings (`--stop`).
    public var stop: [String]?
    /// `seed` sent in the body (`--seed`).
    public var seed: Int?
    /// Request a streamed (SSE) response (`--stream/--no-stream`).
    public var stream: Bool = true
    /// JSON object merged into every request body last (`--extra-args`), as compact JSON text.
    public var extraArgs: String?
    /// Root of the output tree (`--outputs-dir`).
    public var outputsDir: String = "outputs"
    /// Run folder name (`--name`); defaults to the model's base name.
    public var name: String?
    /// Omit the `YYYYMMDD_HHMMSS` level of the output tree (`--no-timestamp`).
    public var noTimestamp: Bool = false
    /// Timeouts in s; nil = none (`--connect-timeout`, `--read-timeout` idle gap, `--total-timeout` per request).
    public var connectTimeout: Double?
    public var readTimeout: Double?
    public var totalTimeout: Double? = 21_600
    /// Rows per SQLite transaction (`--db-commit-interval`).
    public var dbCommitInterval: Int = 1000
    /// `full` keeps request and response payloads in the DB; `metrics` keeps timings and counts only.
    public var dbStore: String = "full"
    /// Loop threads (`--threads`); this build runs one loop.
    public var threads: Int = 1
    /// How progress is shown while a point runs (terminal line, log lines, or nothing for `--quiet`).
    /// Not saved with the arguments (absent from `CodingKeys`).
    public var progressDisplay: ProgressDisplayMode = .off

    public init() {}

    enum CodingKeys: String, CodingKey {
        case url, api, model, headers, parallel, number, dataset, prompt, temperature, stop, seed, stream, name
        case apiKey = "api_key"
        case sleepInterval = "sleep_interval"
        case datasetPath = "dataset_path"
        case minPromptLength = "min_prompt_length"
        case maxPromptLength = "max_prompt_length"
        case maxTokens = "max_tokens"
        case minTokens = "min_tokens"
        case topP = "top_p"
        case topK = "top_k"
        case extraArgs = "extra_args"
        case outputsDir = "outputs_dir"
        case noTimestamp = "no_timestamp"
        case connectTimeout = "connect_timeout"
        case readTimeout = "read_timeout"
        case totalTimeout = "total_timeout"
        case dbCommitInterval = "db_commit_interval"
        case dbStore = "db_store"
        case threads
    }

    /// A copy safe to write to disk or print: the API key and Authorization-like headers masked.
    public var masked: RunArguments {
        var copy = self
        if let k = apiKey { copy.apiKey = RunArguments.mask(k) }
        for (k, v) in headers where RunArguments.isSecretHeader(k) { copy.headers[k] = RunArguments.mask(v) }
        return copy
    }

    static func isSecretHeader(_ name: String) -> Bool {
        let n = name.lowercased()
        return n.contains("authorization") || n.contains("api-key") || n.contains("token") || n.contains("secret")
    }

    static func mask(_ s: String) -> String {
        s.count <= 8 ? "***" : String(s.prefix(3)) + "***" + String(s.suffix(2))
    }
}
