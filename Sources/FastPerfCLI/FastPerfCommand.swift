import ArgumentParser
import FastPerf
import Foundation

/// `fastperf`: an LLM serving benchmark with evalscope perf's flags, built like wrk and h2load.
@main
struct FastPerfCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fastperf",
        abstract: "Benchmark LLM serving endpoints (evalscope perf's flags, h2load's engine).",
        version: FastPerfVersion.string,
        subcommands: [PerfCommand.self, ServeCommand.self, ReportCommand.self]
    )

    /// Parses and runs; a bad flag or a failed setup step prints one line and exits non-zero.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as FastPerfError {
            FileHandle.standardError.write(Data("fastperf: error: \(error.message)\n".utf8))
            Foundation.exit(1)
        } catch {
            if exitCode(for: error) == .success || error is CleanExit { exit(withError: error) }
            let line = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("fastperf: error: \(line) (see fastperf --help)\n".utf8))
            Foundation.exit(exitCode(for: error).rawValue == 0 ? 2 : exitCode(for: error).rawValue)
        }
    }
}

struct PerfCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perf",
        abstract: "Run a benchmark (against the embedded mock server when no --url is given)."
    )

    @Option(help: "Endpoint URL, e.g. http://127.0.0.1:8000/v1/chat/completions. Omit to benchmark the embedded mock server.")
    var url: String?
    @Option(help: "API plugin name.") var api: String = "openai"
    @Option(help: "Model name sent in the request body.") var model: String = "mock-model"
    @Option(name: .customLong("api-key"), help: "Sent as Authorization: Bearer KEY (masked in every saved file).")
    var apiKey: String?
    @Option(parsing: .upToNextOption, help: "Extra headers, k=v (split on the first =).") var headers: [String] = []
    @Option(parsing: .upToNextOption, help: "Closed-loop concurrency; several values make a sweep.") var parallel: [Int] = [1]
    @Option(name: [.customShort("n"), .long], parsing: .upToNextOption, help: "Requests per point; pairs with --parallel.")
    var number: [Int] = []
    @Option(name: .customLong("sleep-interval"), help: "Seconds to pause between sweep points.") var sleepInterval: Double = 5
    @Option(help: "Dataset plugin: openqa, longalpaca, line_by_line.") var dataset: String = "openqa"
    @Option(name: .customLong("dataset-path"), help: "Dataset file.") var datasetPath: String?
    @Option(help: "A fixed prompt for every request (@FILE reads a file); overrides --dataset.") var prompt: String?
    @Option(name: .customLong("min-prompt-length"), help: "Keep prompts at least this long (characters).") var minPromptLength: Int = 0
    @Option(name: .customLong("max-prompt-length"), help: "Keep prompts at most this long (characters).") var maxPromptLength: Int = 131_072
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
    @Option(help: "Loop threads (this build: 1).") var threads: Int = 1
    @Flag(name: [.customShort("q"), .long], help: "No progress display (on a terminal a live line per point, otherwise a log line every 5 s).")
    var quiet = false

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
        a.parallel = parallel
        // With no --url the embedded mock server answers; a short default run shows the report quickly.
        a.number = number.isEmpty ? Array(repeating: url == nil ? 200 : 1000, count: parallel.count) : number
        a.sleepInterval = sleepInterval
        a.dataset = dataset
        a.datasetPath = datasetPath
        a.prompt = prompt
        if url == nil && prompt == nil && datasetPath == nil {
            a.prompt = "Explain in one paragraph how a load generator measures time to first token."
        }
        a.minPromptLength = minPromptLength
        a.maxPromptLength = maxPromptLength
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
        a.threads = threads
        a.progressDisplay = quiet ? .off : isatty(STDERR_FILENO) != 0 ? .terminal : .log
        return a
    }

    func run() throws {
        let args = try arguments()
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
        abstract: "Run the built-in OpenAI-compatible mock server (chat/completions, completions, models)."
    )

    @Option(help: "Listen address.") var host: String = "127.0.0.1"
    @Option(help: "Listen port (0 = any free port).") var port: Int = 8877
    @Option(name: .customLong("ttft-ms"), help: "Delay to the first token, ms.") var ttftMs: Double = 0
    @Option(name: .customLong("itl-ms"), help: "Delay between tokens, ms.") var itlMs: Double = 0
    @Option(name: .customLong("output-tokens"), help: "Tokens per reply (default: the request's max_tokens).")
    var outputTokens: Int?
    @Flag(name: .customLong("no-usage"), help: "Send no usage object.") var noUsage = false

    func validate() throws {
        if ttftMs < 0 || itlMs < 0 { throw ValidationError("--ttft-ms and --itl-ms must not be negative") }
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
        _ = raiseOpenFilesLimit()
        let server = MockServer(configuration: config)
        let bound = try server.start()
        FileHandle.standardOutput.write(Data("fastperf serve: listening on http://\(host):\(bound) (TTFT \(ttftMs) ms, ITL \(itlMs) ms)\n".utf8))
        server.wait()
    }
}
