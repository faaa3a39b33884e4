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
    /// Not a flag (not saved either): an SSE response with a body of more than this many bytes fails as a
    /// `protocol_error` (`ClientContext.maxStreamBodyBytes`, 1 GiB); tests lower it.
    var maxStreamBodyBytes: Int = 1 << 30
    /// `full` keeps request and response payloads in the DB; `metrics` keeps timings and counts only.
    public var dbStore: String = "full"
    /// Target request rates, req/s (`--rate`); empty = no pacing (closed loop). With `--open-loop` each rate is
    /// a sweep point paired with `--number`; without, the first rate paces a closed loop capped by `--parallel`.
    public var rate: [Double] = []
    /// Fire requests on the arrival schedule with no concurrency cap (`--open-loop`).
    public var openLoop = false
    /// Spacing of arrivals (`--arrival poisson|constant|gamma`).
    public var arrival: ArrivalProcess = .poisson
    /// Gamma shape for `--arrival gamma` (`--burstiness`): 1 = Poisson, < 1 burstier, > 1 smoother.
    public var burstiness: Double = 1
    /// Soft stop per point, s (`--duration`): no new request after it; requests in flight finish.
    public var duration: Double?
    /// Warm-up requests before each point (`--warmup-num`): ≥ 1 a count, in (0, 1) a fraction of
    /// `--number`; excluded from statistics and from the database.
    public var warmupNum: Double = 0
    /// `workload_trace`: divide the recorded arrival offsets by this (`--trace-speed`; 2 = twice as fast).
    public var traceSpeed: Double = 1
    /// Loop threads (`--threads`); 0 = one per core. Never more than the point's `--parallel`.
    public var threads: Int = 0
    /// Request body template (`--query-template`, JSON text or `@file`): `%m` → model, `%p` → prompt; its
    /// fields are kept over flag values (see `QueryTemplate`).
    public var queryTemplate: String?
    /// Start the dataset at this item, wrapping around (`--dataset-offset`, ≥ 0).
    public var datasetOffset: Int = 0
    /// Per-dataset options (`--dataset-args`), a JSON object as text; each dataset rejects keys it lacks.
    public var datasetArgs: String?
    /// How `request` and `response_messages` are stored (`--db-format`): `json` (the body as sent, a JSON
    /// array of event data strings) or `pickle` (base64 of Python pickles, as evalscope's analysis script reads).
    public var dbFormat: String = "json"
    /// Tokenizer (`--tokenizer-path`): a model directory with `tokenizer.json`, the file itself, or a
    /// `.tiktoken` rank file. Enables `random`, token-counting length filters and the token-count fallback.
    public var tokenizerPath: String?
    /// `huggingface` (default) or `tiktoken:cl100k_base` / `tiktoken:o200k_base` (`--tokenizer-kind`).
    public var tokenizerKind: String?
    /// `random` only: tokens of one shared random prefix put before every prompt (`--prefix-length`).
    public var prefixLength: Int = 0
    /// How progress is shown while a point runs (terminal line, log lines, or nothing for `--quiet`).
    /// Not saved with the arguments (absent from `CodingKeys`).
    public var progressDisplay: ProgressDisplayMode = .off
    /// `--http2`: HTTP/2 (RFC 9113) — h2c with prior knowledge on `http://`, ALPN `h2` required on `https://`.
    public var http2 = false
    /// `--http1`: HTTP/1.1 only (ALPN offers only `http/1.1` on `https://`).
    public var http1 = false
    /// `--max-streams`: concurrent streams per HTTP/2 connection (capped by the server's
    /// SETTINGS_MAX_CONCURRENT_STREAMS); connections per loop = ceil(parallel / streams).
    public var maxStreams: Int = 100
    /// `--insecure`: skip TLS certificate and host-name verification (a warning is printed in the report).
    public var insecure = false
    /// `--cacert FILE`: verify the server's certificate against this PEM bundle instead of the system CAs.
    public var cacert: String?

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
        case threads, rate, arrival, burstiness, duration
        case openLoop = "open_loop"
        case warmupNum = "warmup_num"
        case traceSpeed = "trace_speed"
        case queryTemplate = "query_template"
        case datasetOffset = "dataset_offset"
        case datasetArgs = "dataset_args"
        case dbFormat = "db_format"
        case tokenizerPath = "tokenizer_path"
        case tokenizerKind = "tokenizer_kind"
        case prefixLength = "prefix_length"
        case http2, http1, insecure, cacert
        case maxStreams = "max_streams"
    }

    /// A copy safe to write to disk or print: the API key, Authorization-like headers and any `user:password@`
    /// in the URL masked.
    public var masked: RunArguments {
        var copy = self
        if let u = url { copy.url = RunArguments.maskCredentials(u) }
        if let k = apiKey { copy.apiKey = RunArguments.mask(k) }
        for (k, v) in headers where RunArguments.isSecretHeader(k) { copy.headers[k] = RunArguments.mask(v) }
        return copy
    }

    static func isSecretHeader(_ name: String) -> Bool {
        let n = name.lowercased()
        return n.contains("authorization") || n.contains("api-key") || n.contains("token") || n.contains("secret")
    }

    /// `url` with any `user:password@` (RFC 3986 §3.2.1 userinfo) replaced by `***@`.
    public static func maskCredentials(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@"),
              !url[scheme.upperBound..<at].contains("/") else { return url }
        return String(url[..<scheme.upperBound]) + "***" + String(url[at...])
    }

    static func mask(_ s: String) -> String {
        s.count <= 8 ? "***" : String(s.prefix(3)) + "***" + String(s.suffix(2))
    }
}
