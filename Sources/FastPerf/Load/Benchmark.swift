import Foundation
import Synchronization

/// One finished sweep point (`parallel_P_number_N/`).
public struct BenchmarkPoint: Sendable {
    /// Closed-loop concurrency and request count of the point.
    public let parallel: Int
    public let number: Int
    /// The point's folder.
    public let directory: String
    public let summary: RunSummary
    /// Rows written to `benchmark_data.db`.
    public let rows: Int
    /// Records that waited on a loop's overflow list because its ring was full.
    public let ringOverflows: Int
    /// Most requests in flight at once.
    public let peakInFlight: Int
    /// CPU seconds used by the loop thread(s) and by the writer thread.
    public let loopCPUSeconds: Double
    public let writerCPUSeconds: Double
    /// `uv_loop_close` status after the point (0 = every handle was closed).
    public let loopCloseStatus: Int32
}

/// A whole `fastperf perf` invocation.
public struct BenchmarkReport: Sendable {
    /// `<outputs-dir>/<timestamp>/<name>/`.
    public let runDirectory: String
    /// The endpoint benchmarked.
    public let url: String
    public let points: [BenchmarkPoint]
    /// The text written to `performance_summary.txt` (and printed).
    public let summaryText: String
}

/// Runs `fastperf perf`: validates the arguments, renders every request, then for each sweep point runs one
/// loop thread and the writer thread, and writes the point's files (DESIGN.md §1, §5).
public enum Benchmark {
    /// The target of a run, parsed from `--url`.
    struct Target {
        var host: String
        var port: Int
        /// Path and query sent in the request line.
        var target: String
        var authority: String
        var url: String
    }

    /// Checks what can be checked before anything starts. Throws `FastPerfError` with one line.
    public static func validate(_ a: RunArguments) throws {
        if a.parallel.count != a.number.count {
            throw FastPerfError("--parallel and --number need the same number of values (got \(a.parallel.count) and \(a.number.count))")
        }
        if a.parallel.isEmpty { throw FastPerfError("--parallel needs at least one value") }
        if let p = a.parallel.first(where: { $0 < 1 }) { throw FastPerfError("--parallel must be at least 1 (got \(p))") }
        if let n = a.number.first(where: { $0 < 1 }) { throw FastPerfError("--number must be at least 1 (got \(n))") }
        if !["full", "metrics"].contains(a.dbStore) { throw FastPerfError("--db-store must be full or metrics (got \(a.dbStore))") }
        if a.dbCommitInterval < 1 { throw FastPerfError("--db-commit-interval must be at least 1") }
        for (name, v) in [("--connect-timeout", a.connectTimeout), ("--read-timeout", a.readTimeout), ("--total-timeout", a.totalTimeout)] {
            if let v, !(v > 0) { throw FastPerfError("\(name) must be a positive number of seconds (got \(v))") }
        }
        if a.sleepInterval < 0 { throw FastPerfError("--sleep-interval must not be negative") }
        if let extra = a.extraArgs {
            let parsed = try? JSONSerialization.jsonObject(with: Data(extra.utf8))
            if !(parsed is [String: Any]) { throw FastPerfError("--extra-args must be a JSON object, e.g. '{\"ignore_eos\": true}' (got \(extra))") }
        }
        for (k, v) in a.headers { try HTTP1RequestEncoder.validate(name: k, value: v) }
        if a.threads != 1 { throw FastPerfError("--threads: this build runs one loop thread (got \(a.threads))") }
    }

    static func parseURL(_ url: String, defaultPath: String, log: (String) -> Void) throws -> Target {
        guard let c = URLComponents(string: url), let scheme = c.scheme?.lowercased(), let host = c.host, !host.isEmpty else {
            throw FastPerfError("--url is not a valid URL: \(url)")
        }
        if scheme == "https" { throw FastPerfError("--url \(url): HTTPS is not supported by this build yet; use an http:// URL") }
        guard scheme == "http" else { throw FastPerfError("--url \(url): only http:// URLs are supported") }
        let port = c.port ?? 80
        var path = c.percentEncodedPath
        let known = ["chat/completions", "completions", "responses", "embeddings", "reranks", "rerank"]
        if path.isEmpty || path == "/" {
            path = defaultPath
            log("--url has no path; using \(path)")
        } else if !known.contains(where: { path.hasSuffix($0) || path.hasSuffix($0 + "/") }) {
            path = (path.hasSuffix("/") ? String(path.dropLast()) : path) + "/chat/completions"
            log("--url does not name an endpoint; using \(path)")
        }
        let target = path + (c.percentEncodedQuery.map { "?" + $0 } ?? "")
        let hostForHeader = host.contains(":") ? "[\(host)]" : host
        let authority = port == 80 ? hostForHeader : "\(hostForHeader):\(port)"
        return Target(host: host, port: port, target: target, authority: authority, url: "http://\(authority)\(target)")
    }

    /// Runs every sweep point. `log` receives progress and report lines (also written to `benchmark.log`).
    /// Throws `FastPerfError` for bad arguments, unreadable datasets, an unreachable server or a storage failure.
    public static func run(_ arguments: RunArguments, log: @escaping @Sendable (String) -> Void) throws -> BenchmarkReport {
        var args = arguments
        try validate(args)
        let plugin = try PluginRegistry.api(named: args.api)
        let dataset = try PluginRegistry.dataset(named: args.dataset, arguments: args)
        let items = try dataset.buildMessages()
        if items.isEmpty { throw FastPerfError("the dataset yielded no prompts") }

        // The embedded mock server when no URL is given.
        var server: MockServer?
        defer { server?.stop() }
        if args.url == nil {
            var config = MockServerConfiguration()
            config.port = 0
            config.ttftMillis = 10
            config.itlMillis = 1
            config.outputTokens = min(args.maxTokens ?? 32, 32)
            let s = MockServer(configuration: config)
            let port = try s.start()
            server = s
            args.url = "http://127.0.0.1:\(port)/v1/chat/completions"
            log("No --url given: benchmarking the embedded mock server at \(args.url!) (TTFT 10 ms, ITL 1 ms, \(config.outputTokens!) tokens per reply)")
        }
        let target = try parseURL(args.url!, defaultPath: plugin.defaultPath, log: log)
        let address = try SocketAddress.resolve(host: target.host, port: target.port)
        try address.probeConnect(timeoutSeconds: args.connectTimeout ?? 10)

        // Render every request once (the largest point's count; smaller points use a prefix).
        let maxNumber = args.number.max()!
        let cycled = cycledItems(items, count: maxNumber)
        var common: [(String, String)] = [("Content-Type", "application/json"), ("User-Agent", "fastperf/\(FastPerfVersion.string)")]
        if let key = args.apiKey { common.append(("Authorization", "Bearer \(key)")) }
        for (k, v) in args.headers.sorted(by: { $0.key < $1.key }) { common.append((k, v)) }
        let encoder = HTTP1RequestEncoder(authority: target.authority, commonHeaders: common)
        var requests: [APIRequest] = []
        var rendered: [[UInt8]] = []
        requests.reserveCapacity(maxNumber)
        rendered.reserveCapacity(maxNumber)
        for item in cycled {
            let r = try plugin.buildRequest(item, arguments: args, path: target.target)
            requests.append(r)
            rendered.append(encoder.encode(target: target.target, extraHeaders: r.headers, body: r.body))
        }
        let arena = RequestArena(rendered)
        rendered = []

        // Output tree.
        let now = Date()
        let stamp = DateFormatter()
        stamp.dateFormat = "yyyyMMdd_HHmmss"
        stamp.locale = Locale(identifier: "en_US_POSIX")
        let runName = sanitize(args.name ?? URL(fileURLWithPath: args.model).lastPathComponent)
        var runDir = URL(fileURLWithPath: args.outputsDir)
        if !args.noTimestamp { runDir.appendPathComponent(stamp.string(from: now)) }
        runDir.appendPathComponent(runName)
        try FileManager.default.createDirectory(at: runDir, withIntermediateDirectories: true)
        let logFile = runDir.appendingPathComponent("benchmark.log").path
        guard FileManager.default.createFile(atPath: logFile, contents: nil) else {
            throw FastPerfError("cannot create \(logFile)")
        }
        let logHandle = FileHandle(forWritingAtPath: logFile)
        defer { try? logHandle?.close() }
        let tee: @Sendable (String) -> Void = { line in
            log(line)
            let stampFormatter = ISO8601DateFormatter()
            logHandle?.write(Data((stampFormatter.string(from: Date()) + " " + line + "\n").utf8))
        }
        let encoderJSON = JSONEncoder()
        encoderJSON.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let argsJSON = String(decoding: try encoderJSON.encode(args.masked), as: UTF8.self)
        tee("fastperf \(FastPerfVersion.string) perf: \(target.url), \(args.parallel.count) point(s), outputs in \(runDir.path)")
        tee("Arguments: \(argsJSON.replacingOccurrences(of: "\n", with: " "))")
        let nofile = raiseOpenFilesLimit()
        if let p = args.parallel.max(), nofile > 0, p + 64 > nofile {
            tee("Warning: --parallel \(p) needs about \(p + 64) open files but the limit is \(nofile); connections beyond it fail as connect_failed rows")
        }

        var points: [BenchmarkPoint] = []
        for (i, (parallel, number)) in zip(args.parallel, args.number).enumerated() {
            if i > 0 && args.sleepInterval > 0 {
                tee("Sleeping \(args.sleepInterval) s before the next point")
                Thread.sleep(forTimeInterval: args.sleepInterval)
            }
            let dir = runDir.appendingPathComponent("parallel_\(parallel)_number_\(number)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try Data(argsJSON.utf8).write(to: dir.appendingPathComponent("benchmark_args.json"))
            tee("Point \(i + 1)/\(args.parallel.count): parallel \(parallel), number \(number)")
            let point = try runPoint(parallel: parallel, number: number, directory: dir.path, arguments: args,
                                     argsJSON: argsJSON, address: address, arena: arena, requests: requests,
                                     plugin: plugin, log: tee)
            points.append(point)
            do { try PointCounters(point, url: target.url, loops: args.threads).save(databasePath: dir.path + "/benchmark_data.db") } catch { tee("Warning: \(error)") }
            tee(ReportText.perRequestTable(summary: point.summary))
        }
        let text = summaryText(points: points, url: target.url)
        try Data(text.utf8).write(to: runDir.appendingPathComponent("performance_summary.txt"))
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            logHandle?.write(Data((line + "\n").utf8))
        }
        do { _ = try RunReport.writeLive(runDirectory: runDir.path, points: points, url: target.url, loops: args.threads) } catch { tee("Warning: no \(RunReport.htmlFileName): \(error)") }
        return BenchmarkReport(runDirectory: runDir.path, url: target.url, points: points, summaryText: text)
    }

    static func sanitize(_ name: String) -> String {
        let bad = Set("/\\:*?\"<>| ")
        let s = String(name.map { bad.contains($0) ? "_" : $0 })
        return s.isEmpty ? "run" : s
    }

    private static func runPoint(parallel: Int, number: Int, directory: String, arguments args: RunArguments,
                                 argsJSON: String, address: SocketAddress, arena: RequestArena,
                                 requests: [APIRequest], plugin: any APIPlugin,
                                 log: @escaping @Sendable (String) -> Void) throws -> BenchmarkPoint {
        let progress = RunProgress()
        let ring = SPSCRing<RequestRecord>(capacity: 16384)
        let monoAnchor = MonotonicClock.nowNanos()
        let wallAnchor = Date().timeIntervalSince1970
        let writerPlan = WriterPlan(rings: [ring], requests: requests, plugin: plugin, expected: number, loops: 1,
                                    databasePath: directory + "/benchmark_data.db", argumentsJSON: argsJSON,
                                    startedAt: ISO8601DateFormatter().string(from: Date()),
                                    wallClockAnchor: wallAnchor, monotonicAnchorNanos: monoAnchor,
                                    commitInterval: args.dbCommitInterval, storePayloads: args.dbStore == "full",
                                    progress: progress)
        let writerResult = Mutex<WriterOutcome?>(nil)
        let writer = try OSThread(name: "fastperf-writer") {
            let out = ResultPipeline.run(writerPlan)
            writerResult.withLock { $0 = out }
        }
        func nanos(_ s: Double?) -> UInt64 { s.map { UInt64($0 * 1e9) } ?? 0 }
        let loopPlan = LoopPlan(loopID: 0, address: address, arena: arena, requestIndices: 0..<number,
                                parallel: parallel, connectTimeoutNanos: nanos(args.connectTimeout),
                                readTimeoutNanos: nanos(args.readTimeout), totalTimeoutNanos: nanos(args.totalTimeout),
                                ring: ring, progress: progress)
        let loopResult = Mutex<(cpu: Double, closeStatus: Int32, error: String?)>((0, 0, nil))
        let loopThread = try OSThread(name: "fastperf-loop0") {
            do {
                let loop = try EventLoop()
                let driver = ClosedLoopDriver(plan: loopPlan, loop: loop)
                driver.start()
                loop.run()
                let rc = loop.close()
                loopResult.withLock { $0 = (ResourceUsage.threadCPUSeconds(), rc, nil) }
            } catch {
                loopResult.withLock { $0.error = "\(error)" }
                progress.loopsFinished.add(1, ordering: .releasing)
            }
        }
        let display = ProgressDisplay(mode: args.progressDisplay, parallel: parallel, number: number, progress: progress, log: log)
        while writerResult.withLock({ $0 == nil }) {
            usleep(20_000)
            display.update()
        }
        display.finish()
        loopThread.join()
        writer.join()
        let out = writerResult.withLock { $0 } ?? WriterOutcome(error: "writer thread ended without a result")
        let loopOut = loopResult.withLock { $0 }
        if let e = loopOut.error { throw FastPerfError("event loop failed: \(e)") }
        if let e = out.error { throw FastPerfError("results could not be stored: \(e)") }
        let summary = out.accumulator.summary(parallel: parallel, number: number)
        try summary.summaryJSON().write(to: URL(fileURLWithPath: directory + "/benchmark_summary.json"))
        try summary.percentileJSON().write(to: URL(fileURLWithPath: directory + "/benchmark_percentile.json"))
        if out.rows != number {
            log("Error: \(out.rows) rows stored for \(number) requests")
        }
        return BenchmarkPoint(parallel: parallel, number: number, directory: directory, summary: summary, rows: out.rows,
                              ringOverflows: progress.ringOverflows.load(ordering: .relaxed),
                              peakInFlight: progress.peakInFlight.load(ordering: .relaxed),
                              loopCPUSeconds: loopOut.cpu, writerCPUSeconds: out.cpuSeconds,
                              loopCloseStatus: loopOut.closeStatus)
    }

    /// `performance_summary.txt`: the overview table, each point's per-request table, and the client line.
    static func summaryText(points: [BenchmarkPoint], url: String) -> String {
        var text = "FastPerf \(FastPerfVersion.string) — \(url)\n\n"
        text += ReportText.overviewTable(points: points.map { (parallel: $0.parallel, number: $0.number, summary: $0.summary) })
        for p in points {
            text += "\nparallel \(p.parallel), number \(p.number)\n"
            text += ReportText.perRequestTable(summary: p.summary)
            let cpu = p.loopCPUSeconds + p.writerCPUSeconds
            let perRequest = cpu / Double(max(1, p.rows)) * 1e6
            text += String(format: "Client: CPU %.3f s (loop %.3f s, writer %.3f s), %.1f µs per request; peak in flight %d; ring overflows %d; rows stored %d/%d\n",
                           cpu, p.loopCPUSeconds, p.writerCPUSeconds, perRequest, p.peakInFlight, p.ringOverflows, p.rows, p.number)
        }
        return text
    }
}
