import ArgumentParser
import FastPerf
import Foundation

/// The `fastperf` command line as a library, so that a package which registers its own plugins
/// (`PluginRegistry.register`) can run the same CLI: `FastPerfTool.main()` (see `Examples/CustomPlugin`).
public enum FastPerfTool {
    /// Parses `arguments` (nil: the process's own, without the program name), runs the command and exits:
    /// status 0 on success; on a bad flag or a failed setup step one line `fastperf: error: …` on stderr and
    /// a non-zero status.
    public static func main(_ arguments: [String]? = nil) -> Never {
        FastPerfCommand.main(arguments)
    }
}

/// `fastperf`: an LLM serving benchmark with evalscope perf's flags, built like wrk and h2load.
struct FastPerfCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fastperf",
        abstract: "Benchmark LLM serving endpoints (evalscope perf's flags, h2load's engine).",
        version: FastPerfVersion.string,
        subcommands: [PerfCommand.self, ServeCommand.self, TokenizeCommand.self, ReportCommand.self]
    )

    /// Parses and runs; a bad flag or a failed setup step prints one line and exits non-zero.
    static func main(_ arguments: [String]?) -> Never {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            Foundation.exit(0)
        } catch let error as FastPerfError {
            FileHandle.standardError.write(Data("fastperf: error: \(error.message)\n".utf8))
            Foundation.exit(1)
        } catch {
            if exitCode(for: error) == .success || error is CleanExit { exit(withError: error) }
            var line = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            if let negative = negativeValue(in: arguments ?? Array(CommandLine.arguments.dropFirst()), error: line) {
                line = negative
            }
            FileHandle.standardError.write(Data("fastperf: error: \(line) (see fastperf --help)\n".utf8))
            Foundation.exit(exitCode(for: error).rawValue == 0 ? 2 : exitCode(for: error).rawValue)
        }
    }
}

/// argument-parser reads `--parallel -3` (or `--prompt -1`) as a flag `-3` and says "Missing value for '--parallel
/// <parallel>'": when the word after the option is a negative number, the line says what happened and how to pass
/// it (`--parallel=-3`, which the option's own check then judges: a count must be at least 1, a text is kept).
private func negativeValue(in arguments: [String], error line: String) -> String? {
    func isNegativeNumber(_ word: String) -> Bool { word.hasPrefix("-") && Double(word) != nil }
    func explain(_ name: String, _ value: String) -> String {
        "\(name) \(value): a value that starts with '-' is read as an option (write \(name)=\(value) to pass it)"
    }
    if line.hasPrefix("Missing value for '"), let option = line.dropFirst(19).split(separator: " ").first {
        let name = option.hasSuffix("'") ? String(option.dropLast()) : String(option)
        // The option may be given more than once: the occurrence followed by a negative number.
        for k in arguments.indices where arguments[k] == name && k + 1 < arguments.count && isNegativeNumber(arguments[k + 1]) {
            return explain(name, arguments[k + 1])
        }
        return nil
    }
    // `--parallel 4 -3`: the second value of a list option, read as an unknown option.
    if line.hasPrefix("Unknown option '"), let word = line.dropFirst(16).split(separator: "'").first.map(String.init),
       isNegativeNumber(word), let k = arguments.firstIndex(of: word),
       let name = arguments[..<k].last(where: { $0.hasPrefix("-") && !isNegativeNumber($0) }) {
        return explain(name, word)
    }
    return nil
}

struct PerfCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perf",
        abstract: "Run a benchmark (against the embedded mock server when no --url is given)."
    )

    @Option(help: "Endpoint URL, e.g. http://127.0.0.1:8000/v1/chat/completions. Omit to benchmark the embedded mock server.")
    var url: String?
    @Option(help: "API plugin: openai, openai_embedding, openai_rerank, openai_responses, dashscope, anthropic, custom (and aliases embedding, rerank, responses).")
    var api: String = "openai"
    @Option(help: "Model name sent in the request body.") var model: String = "mock-model"
    @Option(name: .customLong("api-key"), help: "Sent as Authorization: Bearer KEY (masked in every saved file).")
    var apiKey: String?
    @Option(parsing: .upToNextOption, help: "Extra headers, k=v (split on the first =).") var headers: [String] = []
    @Option(parsing: .upToNextOption, help: "Closed-loop concurrency (default 1); several values make a sweep; with --rate, the cap on requests in flight.")
    var parallel: [Int] = []
    @Option(name: [.customShort("n"), .long], parsing: .upToNextOption, help: "Requests per point; pairs with --parallel (default 1000, or 200 against the embedded server).")
    var number: [Int] = []
    @Option(name: .customLong("sleep-interval"), help: "Seconds to pause between sweep points.") var sleepInterval: Double = 5
    @Option(help: "Dataset plugin: openqa, longalpaca, line_by_line, sharegpt, custom, random, speed_benchmark, speed_benchmark_long.")
    var dataset: String = "openqa"
    @Option(name: .customLong("dataset-path"), help: "Dataset file.") var datasetPath: String?
    @Option(help: "A fixed prompt for every request (@FILE reads a file); overrides --dataset.") var prompt: String?
    @Option(name: .customLong("min-prompt-length"), help: "Keep prompts at least this long (tokens with --tokenizer-path, else characters); random: shortest prompt.")
    var minPromptLength: Int = 0
    @Option(name: .customLong("max-prompt-length"), help: "Keep prompts at most this long (tokens with --tokenizer-path, else characters); random: longest prompt.")
    var maxPromptLength: Int = 131_072
    @Option(name: .customLong("prefix-length"), help: "random: tokens of a shared random prefix added to every prompt.")
    var prefixLength: Int = 0
    @Option(name: .customLong("tokenizer-path"), help: "Tokenizer: a model directory with tokenizer.json, the file itself, or a .tiktoken rank file.")
    var tokenizerPath: String?
    @Option(name: .customLong("tokenizer-kind"), help: "huggingface (default), tiktoken:cl100k_base or tiktoken:o200k_base.")
    var tokenizerKind: String?
    @Option(name: .customLong("max-tokens"), help: "max_tokens sent in the body.") var maxTokens: Int = 2048
    @Option(name: .customLong("min-tokens"), help: "min_tokens sent in the body.") var minTokens: Int?
    @Option(help: "temperature sent in the body.") var temperature: Double = 0.0
    @Option(name: .customLong("top-p"), help: "top_p sent in the body.") var topP: Double?
    @Option(name: .customLong("top-k"), help: "top_k sent in the body.") var topK: Int?
    @Option(parsing: .upToNextOption, help: "Stop strings.") var stop: [String] = []
    @Option(help: "seed sent in the body.") var seed: Int?
    @Flag(inversion: .prefixedNo, help: "Ask for a streamed (SSE) response.") var stream: Bool = true
    @Option(name: .customLong("extra-args"), help: "JSON object merged into every request body.") var extraArgs: String?
    @Option(name: .customLong("outputs-dir"), help: "Root of the output tree.") var outputsDir: String = "outputs"
    @Option(help: "Run folder name (default: the model's base name).") var name: String?
    @Flag(name: .customLong("no-timestamp"), help: "Omit the YYYYMMDD_HHMMSS folder level.") var noTimestamp = false
    @Option(name: .customLong("connect-timeout"), help: "Connect timeout, s.") var connectTimeout: Double?
    @Option(name: .customLong("read-timeout"), help: "Longest gap between reads, s.") var readTimeout: Double?
    @Option(name: .customLong("total-timeout"), help: "Per-request timeout, s.") var totalTimeout: Double = 21_600
    @Option(name: .customLong("db-commit-interval"), help: "Rows per SQLite transaction.") var dbCommitInterval: Int = 1000
    @Option(name: .customLong("db-store"), help: "full (request and response payloads) or metrics (timings and counts only).")
    var dbStore: String = "full"
    @Option(help: "Loop threads (default: one per core).") var threads: Int?
    @Option(parsing: .upToNextOption, help: "Target request rate, req/s; with --open-loop several values make a sweep paired with --number; without it, one rate paces a closed loop capped by --parallel.")
    var rate: [Double] = []
    @Flag(name: .customLong("open-loop"), help: "Send on the arrival schedule with no concurrency cap (needs --rate).")
    var openLoop = false
    @Option(help: "Arrival process: poisson, constant or gamma.") var arrival: String = "poisson"
    @Option(help: "Gamma shape for --arrival gamma: 1 = Poisson, < 1 burstier, > 1 smoother.") var burstiness: Double = 1
    @Option(help: "Soft stop per point, s: no new requests after it; those in flight finish.") var duration: Double?
    @Option(name: .customLong("trace-speed"), help: "workload_trace: divide the recorded arrival times by this (2 = twice as fast).")
    var traceSpeed: Double = 1
    @Option(name: .customLong("warmup-num"), help: "Warm-up requests before each point (a count, or a fraction of --number); not measured, not stored.")
    var warmupNum: Double = 0
    @Option(name: .customLong("query-template"), help: "Request body template, JSON or @FILE: %m = model, %p = prompt; its fields win over flag values.")
    var queryTemplate: String?
    @Option(name: .customLong("dataset-offset"), help: "Start at this dataset item (wrapping around).") var datasetOffset: Int = 0
    @Option(name: .customLong("dataset-args"), help: "Dataset options as a JSON object (e.g. sharegpt: '{\"output_from_reply\": true}').")
    var datasetArgs: String?
    @Option(name: .customLong("db-format"), help: "json, or pickle (request and response_messages as base64 pickles, for evalscope's analysis script).")
    var dbFormat: String = "json"
    @Flag(name: [.customShort("q"), .long], help: "No progress display (on a terminal a live line per point, otherwise a log line every 5 s).")
    var quiet = false
    @Flag(name: .customLong("http2"), help: "HTTP/2: h2c with prior knowledge on http://, ALPN h2 required on https://.")
    var http2 = false
    @Flag(name: .customLong("http1"), help: "HTTP/1.1 only (never h2, even when the server offers it).") var http1 = false
    @Option(name: .customLong("max-streams"), help: "Concurrent streams per HTTP/2 connection (capped by the server's SETTINGS).")
    var maxStreams: Int = 100
    @Flag(name: .customLong("insecure"), help: "Skip TLS certificate and host-name verification.") var insecure = false
    @Option(name: .customLong("cacert"), help: "Verify the server's TLS certificate against this PEM file instead of the system CAs.")
    var cacert: String?

    func arguments() throws -> RunArguments {
        var a = RunArguments()
        a.url = url
        a.api = api
        a.model = model
        a.apiKey = apiKey
        for h in headers {
            guard let eq = h.firstIndex(of: "="), eq != h.startIndex else {
                throw FastPerfError("--headers expects k=v (got \"\(h)\")")
            }
            a.headers[String(h[..<eq])] = String(h[h.index(after: eq)...])
        }
        if openLoop && !parallel.isEmpty {
            throw FastPerfError("--open-loop sends with no cap on requests in flight and --parallel caps a rate-paced loop: give one of them")
        }
        a.parallel = parallel.isEmpty ? [1] : parallel
        // With no --url the embedded mock server answers; a short default run shows the report quickly.
        a.number = number.isEmpty
            ? Array(repeating: url == nil ? 200 : 1000, count: openLoop ? max(rate.count, 1) : a.parallel.count) : number
        a.sleepInterval = sleepInterval
        a.dataset = dataset
        a.datasetPath = datasetPath
        a.prompt = prompt
        if url == nil && prompt == nil && datasetPath == nil && dataset == "openqa" {
            a.prompt = "Explain in one paragraph how a load generator measures time to first token."
        }
        a.minPromptLength = minPromptLength
        a.maxPromptLength = maxPromptLength
        a.prefixLength = prefixLength
        a.tokenizerPath = tokenizerPath
        a.tokenizerKind = tokenizerKind
        a.maxTokens = maxTokens
        a.minTokens = minTokens
        a.temperature = temperature
        a.topP = topP
        a.topK = topK
        a.stop = stop.isEmpty ? nil : stop
        a.seed = seed
        a.stream = stream
        a.extraArgs = extraArgs
        a.outputsDir = outputsDir
        a.name = name
        a.noTimestamp = noTimestamp
        a.connectTimeout = connectTimeout
        a.readTimeout = readTimeout
        a.totalTimeout = totalTimeout
        a.dbCommitInterval = dbCommitInterval
        a.dbStore = dbStore
        a.threads = threads ?? 0
        a.rate = rate
        a.openLoop = openLoop
        guard let process = ArrivalProcess(rawValue: arrival) else {
            throw FastPerfError("--arrival must be poisson, constant or gamma (got \(arrival))")
        }
        a.arrival = process
        a.burstiness = burstiness
        a.duration = duration
        a.warmupNum = warmupNum
        a.traceSpeed = traceSpeed
        if let t = threads, t < 1 { throw FastPerfError("--threads must be at least 1 (got \(t))") }
        a.queryTemplate = queryTemplate
        a.datasetOffset = datasetOffset
        a.datasetArgs = datasetArgs
        a.dbFormat = dbFormat
        a.progressDisplay = quiet ? .off : isatty(STDERR_FILENO) != 0 ? .terminal : .log
        a.http2 = http2
        a.http1 = http1
        a.maxStreams = maxStreams
        a.insecure = insecure
        a.cacert = cacert
        return a
    }

    func run() throws {
        let args = try arguments()
        StopSignal.install()
        let report = try Benchmark.run(args) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        print(report.summaryText)
        print("Results: \(report.runDirectory)")
        print("Report: \(report.runDirectory)/\(RunReport.htmlFileName)")
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Rebuild a run folder's summaries, performance_summary.txt and perf_report.html from its databases.",
        discussion: "With several run folders each is rebuilt and one comparison report is written (see --output)."
    )

    @Argument(help: "Run folders (<outputs-dir>/<timestamp>/<name>/), each holding parallel_P_number_N/benchmark_data.db.")
    var runDirectories: [String]
    @Option(name: [.customShort("o"), .long], help: "Comparison report written when several run folders are given.")
    var output: String = "perf_report_compare.html"

    func run() throws {
        for path in try RunReport.rebuild(runDirectories: runDirectories, comparisonPath: output) { print(path) }
    }
}

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the built-in mock server: OpenAI chat/completions, completions, models, embeddings, rerank, responses; DashScope; Anthropic messages."
    )

    @Option(help: "Listen address.") var host: String = "127.0.0.1"
    @Option(help: "Listen port (0 = any free port).") var port: Int = 8877
    @Option(name: .customLong("ttft-ms"), help: "Delay to the first token, ms.") var ttftMs: Double = 0
    @Option(name: .customLong("itl-ms"), help: "Delay between tokens, ms.") var itlMs: Double = 0
    @Option(name: .customLong("output-tokens"), help: "Tokens per reply (default: the request's max_tokens).")
    var outputTokens: Int?
    @Flag(name: .customLong("no-usage"), help: "Send no usage object.") var noUsage = false
    @Option(name: .customLong("stall-at-ms"), help: "Pause every response this long after start, ms (with --stall-ms).")
    var stallAtMs: Double = 0
    @Option(name: .customLong("stall-ms"), help: "Length of the pause, ms.") var stallMs: Double = 0
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain: serve HTTPS (HTTP/1.1 over TLS) with --tls-key.")
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key for --tls-cert.") var tlsKey: String?
    @Option(name: .customLong("tokenizer-path"), help: "Count prompt tokens with this tokenizer (default: characters / 4).")
    var tokenizerPath: String?
    @Option(name: .customLong("tokenizer-kind"), help: "huggingface (default), tiktoken:cl100k_base or tiktoken:o200k_base.")
    var tokenizerKind: String?
    @Flag(name: .customLong("http2"), help: "Also accept HTTP/2 with prior knowledge (h2c) on the same port.") var http2 = false
    @Option(name: .customLong("max-streams"), help: "SETTINGS_MAX_CONCURRENT_STREAMS on HTTP/2 connections.") var maxStreams: Int = 100_000

    func validate() throws {
        if maxStreams < 1 { throw ValidationError("--max-streams must be at least 1") }
        for (name, v) in [("--ttft-ms", ttftMs), ("--itl-ms", itlMs), ("--stall-at-ms", stallAtMs), ("--stall-ms", stallMs)] {
            if !(v >= 0 && v < 1e9) { throw ValidationError("\(name) must be 0 or more ms (got \(v))") }
        }
        if let n = outputTokens, n < 1 { throw ValidationError("--output-tokens must be at least 1") }
        if port < 0 || port > 65535 { throw ValidationError("--port must be 0…65535") }
    }

    func run() throws {
        var config = MockServerConfiguration()
        config.host = host
        config.port = port
        config.ttftMillis = ttftMs
        config.itlMillis = itlMs
        config.outputTokens = outputTokens
        config.noUsage = noUsage
        config.stallAtMillis = stallAtMs
        config.stallMillis = stallMs
        if (tlsCert == nil) != (tlsKey == nil) { throw FastPerfError("--tls-cert and --tls-key go together") }
        config.tlsCertificate = tlsCert
        config.tlsKey = tlsKey
        config.http2 = http2
        config.http2MaxStreams = maxStreams
        if let tokenizerPath { config.tokenizer = try Tokenizer.load(path: tokenizerPath, kind: tokenizerKind) }
        _ = raiseOpenFilesLimit()
        let server = MockServer(configuration: config)
        let bound = try server.start()
        FileHandle.standardOutput.write(Data("fastperf serve: listening on \(tlsCert == nil ? "http" : "https")://\(host):\(bound)\(http2 ? (tlsCert == nil ? " (HTTP/1.1 and h2c)" : " (HTTP/1.1 and h2 by ALPN)") : "") (TTFT \(ttftMs) ms, ITL \(itlMs) ms)\n".utf8))
        server.wait()
    }
}
