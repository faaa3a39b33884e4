import Foundation
import Synchronization
internal import CUV

/// One finished sweep point (`parallel_P_number_N/`).
public struct BenchmarkPoint: Sendable {
    /// Closed-loop concurrency and request count of the point.
    public let parallel: Int
    public let number: Int
    /// Target rate, req/s, of a rate-driven point.
    public let rate: Double?
    /// The point's folder.
    public let directory: String
    public let summary: RunSummary
    /// Rows written to `benchmark_data.db`.
    public let rows: Int
    /// What the client itself used and how close it came to limiting the run.
    public let client: ClientUsage
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
        /// `http` or `https`.
        var scheme: String = "http"
    }

    /// HTTPS settings shared by every loop: the client TLS context and the server name (SNI, certificate).
    struct ClientTLS: Sendable {
        let context: TLSContext
        let serverName: String
    }

    /// One sweep point: its load shape and folder name.
    struct PointSpec {
        /// Closed loop: connections; rate-paced: the connection cap; open loop: 0 (no cap).
        var parallel: Int
        var number: Int
        /// Target rate, req/s, for rate-driven points.
        var rate: Double?
        /// `parallel_P_number_N` or, for open loop, `rate_R_number_N` (R as Python prints a float).
        var folder: String
        /// Replays the `workload_trace` dataset's arrival times (open loop).
        var trace = false
        /// evalscope's `Concurrency` value: `parallel`, or −1 in open loop.
        var concurrencyLabel: Int { (rate != nil || trace) && parallel == 0 ? -1 : parallel }
    }

    /// The sweep points of a run, in order.
    static func points(_ a: RunArguments) -> [PointSpec] {
        if isTrace(a) {
            return [PointSpec(parallel: 0, number: a.number.first ?? 1000, rate: nil, folder: "trace_number_\(a.number.first ?? 1000)", trace: true)]
        }
        if a.openLoop {
            return zip(a.rate, a.number).map { r, n in
                PointSpec(parallel: 0, number: n, rate: r, folder: "rate_\(r)_number_\(n)")
            }
        }
        return zip(a.parallel, a.number).map { p, n in
            PointSpec(parallel: p, number: n, rate: a.rate.first, folder: "parallel_\(p)_number_\(n)")
        }
    }

    /// The run replays a `workload_trace` (its own arrival times; open loop, `--rate` not used).
    static func isTrace(_ a: RunArguments) -> Bool { a.prompt == nil && a.dataset == WorkloadTraceDataset.name }

    /// The longest timeout accepted, s (about 11.6 days); longer values are a way of saying "none" that
    /// would overflow the ns clock arithmetic.
    static let maxTimeoutSeconds = 1_000_000.0

    /// Checks what can be checked before anything starts. Throws `FastPerfError` with one line.
    public static func validate(_ a: RunArguments) throws {
        if !a.rate.isEmpty {
            if let r = a.rate.first(where: { !($0 > 0 && $0.isFinite) }) { throw FastPerfError("--rate must be a positive number of requests/s (got \(r))") }
            if !a.openLoop && a.rate.count > 1 {
                throw FastPerfError("several --rate values sweep an open loop: add --open-loop (a --parallel point is paced by one rate)")
            }
            if a.openLoop && a.rate.count != a.number.count {
                throw FastPerfError("--rate and --number need the same number of values with --open-loop (got \(a.rate.count) and \(a.number.count))")
            }
        } else if a.openLoop && !isTrace(a) {
            throw FastPerfError("--open-loop needs --rate R (requests/s)")
        }
        if !(a.traceSpeed > 0 && a.traceSpeed.isFinite) { throw FastPerfError("--trace-speed must be a positive number (got \(a.traceSpeed))") }
        if isTrace(a) && (a.number.count > 1 || !a.rate.isEmpty) {
            throw FastPerfError("workload_trace replays its own arrival times: give one --number (a limit) and no --rate")
        }
        if !(a.burstiness > 0 && a.burstiness.isFinite) { throw FastPerfError("--burstiness must be a positive number (got \(a.burstiness))") }
        if let d = a.duration, !(d > 0 && d <= maxTimeoutSeconds) { throw FastPerfError("--duration must be a positive number of seconds (got \(d))") }
        if !(a.warmupNum >= 0 && a.warmupNum.isFinite) { throw FastPerfError("--warmup-num must be a count or a fraction (got \(a.warmupNum))") }
        if a.parallel.count != a.number.count && !a.openLoop && !isTrace(a) {
            throw FastPerfError("--parallel and --number need the same number of values (got \(a.parallel.count) and \(a.number.count))")
        }
        if a.parallel.isEmpty { throw FastPerfError("--parallel needs at least one value") }
        if let p = a.parallel.first(where: { $0 < 1 }) { throw FastPerfError("--parallel must be at least 1 (got \(p))") }
        if let n = a.number.first(where: { $0 < 1 }) { throw FastPerfError("--number must be at least 1 (got \(n))") }
        if !["full", "metrics"].contains(a.dbStore) { throw FastPerfError("--db-store must be full or metrics (got \(a.dbStore))") }
        if a.dbCommitInterval < 1 { throw FastPerfError("--db-commit-interval must be at least 1") }
        for (name, v) in [("--connect-timeout", a.connectTimeout), ("--read-timeout", a.readTimeout), ("--total-timeout", a.totalTimeout)] {
            if let v, !(v > 0 && v <= maxTimeoutSeconds) {
                throw FastPerfError("\(name) must be a number of seconds in (0, \(Int(maxTimeoutSeconds))] (got \(v))")
            }
        }
        for (name, v) in [("--temperature", a.temperature), ("--top-p", a.topP)] {
            if let v, !v.isFinite { throw FastPerfError("\(name) must be a finite number (got \(v))") }
        }
        if let m = a.maxTokens, m < 1 { throw FastPerfError("--max-tokens must be at least 1 (got \(m))") }
        if let m = a.minTokens, m < 0 { throw FastPerfError("--min-tokens must not be negative (got \(m))") }
        if let key = a.apiKey, key.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
            throw FastPerfError("--api-key contains a line break or NUL")
        }
        if !(a.sleepInterval >= 0 && a.sleepInterval <= 86_400) { throw FastPerfError("--sleep-interval must be 0…86400 s (got \(a.sleepInterval))") }
        var names = Set<String>()
        for p in points(a) where !names.insert(p.folder).inserted {
            throw FastPerfError("the sweep has \(p.folder) twice; each point needs its own values")
        }
        if let extra = a.extraArgs {
            let parsed = try? JSONSerialization.jsonObject(with: Data(extra.utf8))
            if !(parsed is [String: Any]) { throw FastPerfError("--extra-args must be a JSON object, e.g. '{\"ignore_eos\": true}' (got \(extra))") }
        }
        for (k, v) in a.headers { try HTTP1RequestEncoder.validate(name: k, value: v) }
        if !["json", "pickle"].contains(a.dbFormat) { throw FastPerfError("--db-format must be json or pickle (got \(a.dbFormat))") }
        if a.datasetOffset < 0 { throw FastPerfError("--dataset-offset must not be negative (got \(a.datasetOffset))") }
        if a.threads < 0 { throw FastPerfError("--threads must be at least 1 (got \(a.threads))") }
        if a.prefixLength < 0 { throw FastPerfError("--prefix-length must not be negative (got \(a.prefixLength))") }
        if a.tokenizerKind != nil && a.tokenizerPath == nil { throw FastPerfError("--tokenizer-kind needs --tokenizer-path") }
        _ = try Tokenizer.forRun(a)  // a bad tokenizer is an error before anything runs
        if a.http2 && a.http1 { throw FastPerfError("--http2 and --http1 exclude each other") }
        if a.maxStreams < 1 || a.maxStreams > 1 << 20 { throw FastPerfError("--max-streams must be 1…1048576 (got \(a.maxStreams))") }
        if let f = a.cacert, !FileManager.default.isReadableFile(atPath: f) { throw FastPerfError("--cacert \(f): cannot read the file") }

    }

    static func parseURL(_ url: String, defaultPath: String, log: (String) -> Void) throws -> Target {
        guard let c = URLComponents(string: url), let scheme = c.scheme?.lowercased(), let host = c.host, !host.isEmpty else {
            throw FastPerfError("--url is not a valid URL: \(RunArguments.maskCredentials(url))")
        }
        guard scheme == "http" || scheme == "https" else { throw FastPerfError("--url \(RunArguments.maskCredentials(url)): only http:// and https:// URLs are supported") }
        let defaultPort = scheme == "https" ? 443 : 80
        let port = c.port ?? defaultPort
        guard (1...65535).contains(port) else { throw FastPerfError("--url \(RunArguments.maskCredentials(url)): port \(port) is out of range (1…65535)") }
        var path = c.percentEncodedPath
        let known = ["chat/completions", "completions", "responses", "embeddings", "reranks", "rerank"]
        if path.isEmpty || path == "/" {
            path = defaultPath
            log("--url has no path; using \(path)")
        } else if !known.contains(where: { path.hasSuffix($0) || path.hasSuffix($0 + "/") }) && !path.hasSuffix(defaultPath),
            defaultPath.hasPrefix("/v1/")
        {
            // A base URL such as `/v1` or `/openai/v1`: append the API's endpoint (`/chat/completions`, `/messages`, …).
            path = (path.hasSuffix("/") ? String(path.dropLast()) : path) + defaultPath.dropFirst(3)
            log("--url does not name an endpoint; using \(path)")
        }
        let target = path + (c.percentEncodedQuery.map { "?" + $0 } ?? "")
        let hostForHeader = host.contains(":") ? "[\(host)]" : host
        let authority = port == defaultPort ? hostForHeader : "\(hostForHeader):\(port)"
        return Target(host: host, port: port, target: target, authority: authority, url: "\(scheme)://\(authority)\(target)",
                      scheme: scheme)
    }

    /// Slots of each loop's ring to the writer. A full ring pauses a closed loop's sending (`ClosedLoopDriver`),
    /// so this bounds the finished records held in memory: 512 streamed 64-token responses (≈12 KiB each)
    /// are ≈6 MiB per loop, and at 30k requests/s still ≈35 ms of slack for a writer pausing on a checkpoint.
    public static let ringCapacity = 512

    /// Runs every sweep point. `log` receives progress and report lines (also written to `benchmark.log`).
    /// `ringCapacity` (a power of two) is for tests. Throws `FastPerfError` for bad arguments, unreadable
    /// datasets, an unreachable server or a storage failure.
    public static func run(_ arguments: RunArguments, ringCapacity: Int = ringCapacity,
                           log: @escaping @Sendable (String) -> Void) throws -> BenchmarkReport {
        var args = arguments
        try validate(args)
        keepFreedHeapMapped()
        let plugin = try PluginRegistry.api(named: args.api)
        let buildStart = Date()
        let items = try PluginCall.items(args)
        if isTrace(args) {
            // A trace is replayed once: --number can only shorten it.
            args.number = [min(args.number.first ?? items.count, items.count)]
        }
        if items.isEmpty { throw FastPerfError("the dataset yielded no prompts") }
        let buildSeconds = Date().timeIntervalSince(buildStart)
        let tokenizer = try Tokenizer.forRun(args)

        // The embedded mock server when no URL is given.
        var server: MockServer?
        defer { server?.stop() }
        if args.url == nil {
            var config = MockServerConfiguration()
            config.port = 0
            config.ttftMillis = 10
            config.itlMillis = 1
            config.outputTokens = min(args.maxTokens ?? 32, 32)
            config.tokenizer = tokenizer
            config.http2 = args.http2
            let s = MockServer(configuration: config)
            let port = try s.start()
            server = s
            args.url = "http://127.0.0.1:\(port)\(plugin.defaultPath)"
            log("No --url given: benchmarking the embedded mock server at \(args.url!) (TTFT 10 ms, ITL 1 ms, \(config.outputTokens!) tokens per reply)")
        }
        let speedBenchmark = args.prompt == nil && SpeedBenchmarkDataset.isSpeedBenchmark(args.dataset)
        if speedBenchmark { SpeedBenchmarkDataset.adjust(&args, itemCount: items.count, log: log) }
        let target = try parseURL(args.url!, defaultPath: plugin.defaultPath, log: log)
        // A database that exists refuses the run before the server sees a connection.
        let runDir = try chooseRunDirectory(args)
        let specs = points(args)
        let pointDirs = specs.map { runDir.appendingPathComponent($0.folder) }
        for dir in pointDirs where FileManager.default.fileExists(atPath: dir.appendingPathComponent("benchmark_data.db").path) {
            throw FastPerfError("\(dir.path)/benchmark_data.db already exists; choose another --name or --outputs-dir")
        }
        let address = try SocketAddress.resolve(host: target.host, port: target.port)
        try address.probeConnect(timeoutSeconds: min(args.connectTimeout ?? 10, 30))
        log(String(format: "Dataset %@: %d items built in %.2f s", args.prompt == nil ? args.dataset : "prompt", items.count,
                   buildSeconds))

        // Render every request once (the largest point's count; smaller points use a prefix).
        let maxNumber = args.number.max()!
        var common: [(String, String)] = [("Content-Type", "application/json"), ("User-Agent", "fastperf/\(FastPerfVersion.string)")]
        if let key = args.apiKey { common.append(contentsOf: plugin.authorizationHeaders(apiKey: key)) }
        for (k, v) in args.headers.sorted(by: { $0.key < $1.key }) { common.append((k, v)) }
        let encoder = HTTP1RequestEncoder(authority: target.authority, commonHeaders: common)
        // The dataset cycles when --number exceeds it: render each distinct item once and reuse it.
        let distinct = cycledItems(items, count: min(items.count, maxNumber))
        var distinctRequests: [APIRequest] = []
        var distinctRendered: [[UInt8]] = []
        for (index, item) in distinct.enumerated() {
            let r = try PluginCall.request(plugin, item: item, index: index, arguments: args, path: target.target)
            distinctRequests.append(r)
            distinctRendered.append(encoder.encode(target: target.target, extraHeaders: r.headers, body: r.body))
        }
        // Request i is distinct request i % distinct.count everywhere (arena, writer, token counter).
        let requests = distinctRequests
        // The token-count fallback needs each request's prompt (writer thread; only with --tokenizer-path).
        let tokenCounter = tokenizer.map { t in TokenCounter(tokenizer: t, items: distinct) }
        let arena = RequestArena(distinctRendered, count: maxNumber)
        distinctRendered = []
        // HTTPS: HTTP/1.1 over TLS (certificate and host name verified unless --insecure; SNI; ALPN http/1.1).
        var tls: ClientTLS?
        var tlsNotes: [String] = []  // said once the log file exists (below), so that it has them too
        if target.scheme == "https" {
            // --http2 insists on h2 by ALPN; otherwise HTTP/1.1 (--http1 or the default).
            let alpn = args.http2 ? ["h2"] : ["http/1.1"]
            tls = ClientTLS(context: try TLSContext(clientALPN: alpn, verify: !args.insecure, caFile: args.cacert),
                            serverName: target.host)
            if args.insecure { tlsNotes.append("Warning: --insecure: TLS certificates and host names are not verified") }
            if args.insecure, let ca = args.cacert { tlsNotes.append("Note: --cacert \(ca) is not used: --insecure verifies nothing") }
        } else if let ca = args.cacert {
            tlsNotes.append("Note: --cacert \(ca) is not used: \(target.scheme):// is not TLS")
        }
        let http2Arena = args.http2 ? HTTP2RequestArena(http1: arena, scheme: target.scheme) : nil

        // Output tree. Everything that can refuse the run is checked before the first file is written.
        let encoderJSON = JSONEncoder()
        encoderJSON.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let argsJSON = String(decoding: try encoderJSON.encode(args.masked), as: UTF8.self)
        encoderJSON.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let argsLine = String(decoding: try encoderJSON.encode(args.masked), as: UTF8.self)
        try makeDirectory(runDir)
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
        tee("fastperf \(FastPerfVersion.string) perf: \(target.url), \(specs.count) point(s), outputs in \(runDir.path)")
        tee("Arguments: \(argsLine)")
        for note in tlsNotes { tee(note) }
        let nofile = raiseOpenFilesLimit()
        if args.openLoop || isTrace(args) {
            // No cap: as many connections as requests in flight, which only the server's latency decides.
            if nofile > 0 { tee("Open files limit \(nofile): an open loop opens one connection per request in flight (HTTP/1.1); requests beyond it fail as connect_failed rows") }
        } else if let p = args.parallel.max(), nofile > 0, p + 64 > nofile {
            tee("Warning: --parallel \(p) needs about \(p + 64) open files but the limit is \(nofile); connections beyond it fail as connect_failed rows")
        }

        var points: [BenchmarkPoint] = []
        for (i, spec) in specs.enumerated() {
            let number = spec.number
            if StopSignal.received > 0 { break }
            if i > 0 && args.sleepInterval > 0 {
                tee("Sleeping \(args.sleepInterval) s before the next point")
                // In 20 ms steps, so a signal ends the sweep at once instead of after the pause.
                let wakeAt = Date().addingTimeInterval(args.sleepInterval)
                while Date() < wakeAt && StopSignal.received == 0 { usleep(20_000) }
                if StopSignal.received > 0 {
                    tee("Stopped by a signal between points; later points skipped")
                    break
                }
            }
            let dir = pointDirs[i]
            try makeDirectory(dir)
            try Data(argsJSON.utf8).write(to: dir.appendingPathComponent("benchmark_args.json"))
            tee("Point \(i + 1)/\(specs.count): \(spec.folder.replacingOccurrences(of: "_", with: " "))")
            let warmup = args.warmupNum >= 1 ? Int(args.warmupNum) : (args.warmupNum > 0 ? max(1, Int(args.warmupNum * Double(number))) : 0)
            if warmup > 0 {
                var w = spec
                w.number = min(warmup, maxNumber)
                tee("Warm-up: \(w.number) requests (not measured, not stored)")
                _ = try runPoint(spec: w, directory: nil, arguments: args, argsJSON: argsJSON, address: address,
                                 arena: arena, http2: http2Arena, tls: tls, requests: requests, plugin: plugin, tokenCounter: nil,
                                 ringCapacity: ringCapacity, log: tee)
                if StopSignal.received > 0 { break }
            }
            let point = try runPoint(spec: spec, directory: dir.path, arguments: args,
                                     argsJSON: argsJSON, address: address, arena: arena, http2: http2Arena, tls: tls, requests: requests,
                                     plugin: plugin, tokenCounter: tokenCounter,
                                     ringCapacity: ringCapacity, log: tee)
            points.append(point)
            do { try PointCounters(point, url: target.url).save(databasePath: dir.path + "/benchmark_data.db") } catch { tee("Warning: \(error)") }
            if StopSignal.received > 0 {
                tee("Stopped by a signal after \(point.rows) of \(number) requests; later points skipped")
            }
            let sm = point.summary
            tee(String(format: "Point %d done: %d/%d ok, %.2f req/s, %.1f output tok/s", i + 1, sm.successRequests,
                       sm.totalRequests, sm.requestThroughput, sm.outputThroughput))
            if speedBenchmark { tee(try SpeedBenchmarkDataset.writeReport(directory: dir.path)) }
        }
        let text = summaryText(points: points, url: target.url, insecure: args.insecure)
        try Data(text.utf8).write(to: runDir.appendingPathComponent("performance_summary.txt"))
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            logHandle?.write(Data((line + "\n").utf8))
        }
        do { _ = try RunReport.writeLive(runDirectory: runDir.path, points: points, url: target.url) } catch { tee("Warning: no \(RunReport.htmlFileName): \(error)") }
        return BenchmarkReport(runDirectory: runDir.path, url: target.url, points: points, summaryText: text)
    }

    /// `<outputs-dir>/<YYYYMMDD_HHMMSS>/<name>/`, or without the timestamp level under `--no-timestamp`. Two
    /// runs started in the same second get `_2`, `_3`… on the timestamp instead of sharing a folder.
    static func chooseRunDirectory(_ args: RunArguments) throws -> URL {
        let runName = sanitize(args.name ?? URL(fileURLWithPath: args.model).lastPathComponent)
        let base = URL(fileURLWithPath: args.outputsDir)
        if args.noTimestamp { return base.appendingPathComponent(runName) }
        let stamp = DateFormatter()
        stamp.dateFormat = "yyyyMMdd_HHmmss"
        stamp.locale = Locale(identifier: "en_US_POSIX")
        let time = stamp.string(from: Date())
        var candidate = base.appendingPathComponent(time).appendingPathComponent(runName)
        var k = 2
        while FileManager.default.fileExists(atPath: candidate.path) {
            candidate = base.appendingPathComponent("\(time)_\(k)").appendingPathComponent(runName)
            k += 1
        }
        return candidate
    }

    /// Creates `dir` and its parents; throws `FastPerfError` with the system's reason in one line.
    static func makeDirectory(_ dir: URL) throws {
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            // The POSIX reason when Foundation has one (its own wording dumps a whole NSError on Linux).
            let ns = error as NSError
            let underlying = (ns.userInfo[NSUnderlyingErrorKey] as? any Error).map { $0 as NSError }
            let reason: String
            if let u = underlying, u.domain == NSPOSIXErrorDomain {
                reason = String(cString: strerror(Int32(u.code)))
            } else {
                reason = ns.localizedDescription
            }
            throw FastPerfError("cannot create folder \(dir.path): \(reason)")
        }
    }

    /// A folder name from a model or run name: path separators, shell-unfriendly and control characters
    /// become `_`; `.` and `..` are not names.
    static func sanitize(_ name: String) -> String {
        let bad = Set("/\\:*?\"<>| ".unicodeScalars)
        var s = String(String.UnicodeScalarView(name.unicodeScalars.map {
            bad.contains($0) || $0.properties.generalCategory == .control ? "_" : $0
        }))
        if s.allSatisfy({ $0 == "." }) { s = "" }
        return s.isEmpty ? "run" : s
    }

    /// Tells glibc's malloc to keep freed memory at the top of each heap mapped instead of trimming it: every
    /// streamed response's buffers (≈12 KiB for 64 tokens) are allocated on a loop thread and freed on the writer
    /// thread, and with the default trim threshold (128 KiB) the loops' heaps shrank and grew again all the time,
    /// one page fault per new page (≈0.4 faults per request at 30k requests/s over TLS). Heap kept: at most
    /// 64 MiB per arena. (mallopt(3) M_TRIM_THRESHOLD and M_TOP_PAD.)
    static func keepFreedHeapMapped() {
        cuv_keep_freed_heap(64 << 20, 4 << 20)
    }

    /// Runs one point. With `directory` nil it is a warm-up: records are judged by nobody and stored nowhere.
    private static func runPoint(spec: PointSpec, directory: String?, arguments args: RunArguments,
                                 argsJSON: String, address: SocketAddress, arena: RequestArena, http2: HTTP2RequestArena?,
                                 tls: ClientTLS?, requests: [APIRequest], plugin: any APIPlugin, tokenCounter: TokenCounter?,
                                 ringCapacity: Int, log: @escaping @Sendable (String) -> Void) throws -> BenchmarkPoint {
        let number = spec.number
        let parallel = spec.parallel
        let progress = RunProgress(totalRequests: number)
        // One loop thread per core by default, never more loops than connections (or than requests).
        let cores = args.threads > 0 ? args.threads : ProcessInfo.processInfo.activeProcessorCount
        let loops = max(1, min(cores, parallel > 0 ? parallel : number))
        let rings = (0..<loops).map { _ in SPSCRing<RequestRecord>(capacity: ringCapacity) }
        let monoAnchor = MonotonicClock.nowNanos()
        let wallAnchor = Date().timeIntervalSince1970
        var writerPlan = WriterPlan(rings: rings, requests: requests, plugin: plugin, expected: number, loops: loops,
                                    databasePath: directory.map { $0 + "/benchmark_data.db" }, argumentsJSON: argsJSON,
                                    startedAt: ISO8601DateFormatter().string(from: Date()),
                                    wallClockAnchor: wallAnchor, monotonicAnchorNanos: monoAnchor,
                                    commitInterval: args.dbCommitInterval, storePayloads: args.dbStore == "full",
                                    progress: progress, pickle: args.dbFormat == "pickle")
        writerPlan.tokenCounter = tokenCounter
        if spec.trace { writerPlan.requestIDs = try WorkloadTraceDataset.schedule(args, count: number).1 }
        let plan = writerPlan
        let writerResult = SharedMutex<WriterOutcome?>(nil)
        // Points on a schedule (--rate, a trace): the writer runs at a lower priority than the loops (nice +10), so
        // on a machine short of cores the loops, which send on schedule and take the timestamps, win the CPU and
        // the writer catches up from its rings. A plain closed loop pauses sending while its ring is full, so there
        // the writer is on the critical path and runs at the loops' priority (nice +10 cost 9 % of h2c req/s on
        // 2 cores).
        let onSchedule = spec.rate != nil || spec.trace
        let writer = try OSThread(name: "fastperf-writer", nice: onSchedule ? 10 : 0) {
            let out = ResultPipeline.run(plan)
            writerResult.withLock { $0 = out }
        }
        func nanos(_ s: Double?) -> UInt64 { s.map { UInt64($0 * 1e9) } ?? 0 }
        let loopResults = SharedMutex<[LoopOutcome]>([])
        var threads: [OSThread] = []
        // The schedule's zero, a little ahead so every loop is running before the first arrival.
        let origin = MonotonicClock.nowNanos() + 20_000_000
        // Rate-driven points (open loop, or closed loop capped by --parallel) follow an arrival schedule.
        var schedule = spec.rate.map { rate in
            ArrivalSchedule(count: number, rate: rate, process: args.arrival, burstiness: args.burstiness,
                            seed: UInt64(truncatingIfNeeded: args.seed ?? 0))
        }
        if spec.trace { schedule = try WorkloadTraceDataset.schedule(args, count: number).0 }
        for id in 0..<loops {
            var plan = LoopPlan(loopID: id, address: address, arena: arena,
                                parallel: parallel / loops + (id < parallel % loops ? 1 : 0),
                                connectTimeoutNanos: nanos(args.connectTimeout),
                                readTimeoutNanos: nanos(args.readTimeout), totalTimeoutNanos: nanos(args.totalTimeout),
                                ring: rings[id], progress: progress)
            plan.arrivals = schedule?.share(loop: id, of: loops)
            plan.http2 = http2
            plan.maxStreams = args.maxStreams
            plan.maxStreamBodyBytes = args.maxStreamBodyBytes
            plan.tls = tls?.context
            plan.serverName = tls?.serverName
            plan.originNanos = origin
            if let d = args.duration { plan.deadlineNanos = (schedule == nil ? MonotonicClock.nowNanos() : origin) + nanos(d) }
            let loopPlan = plan
            threads.append(try OSThread(name: "fastperf-loop\(id)") {
                let out = LoopOutcome.run(loopPlan)
                loopResults.withLock { $0.append(out) }
            })
        }
        let label = directory == nil ? "warm-up" : spec.folder.components(separatedBy: "_number_")[0].replacingOccurrences(of: "_", with: " ")
        let display = ProgressDisplay(mode: args.progressDisplay, label: label, number: number, progress: progress, log: log)
        var signalsSeen = 0
        var abortAtNanos: UInt64 = 0  // after a SIGTERM: when the requests still in flight are closed
        func abort() {
            progress.abortRequested.store(true, ordering: .relaxed)
            log("Aborting the requests in flight; they are stored as reset rows")
        }
        while writerResult.withLock({ $0 == nil }) {
            usleep(20_000)
            let signals = StopSignal.received
            if signals > signalsSeen {
                signalsSeen = signals
                if signals == 1 {
                    progress.stopRequested.store(true, ordering: .relaxed)
                    let inFlight = progress.inFlight.load(ordering: .relaxed)
                    if StopSignal.terminated {
                        abortAtNanos = MonotonicClock.nowNanos() + UInt64(StopSignal.termGraceSeconds * 1e9)
                        log(String(format: "Stopping (SIGTERM): no new requests; the %d in flight get %.0f s to finish", inFlight,
                                   StopSignal.termGraceSeconds))
                    } else {
                        log("Stopping: no new requests; waiting for \(inFlight) in flight (signal again to abort them)")
                    }
                } else if !progress.abortRequested.load(ordering: .relaxed) {
                    abort()
                }
            }
            if abortAtNanos > 0 && MonotonicClock.nowNanos() >= abortAtNanos && !progress.abortRequested.load(ordering: .relaxed) {
                abort()
            }
            display.update()
        }
        display.finish()
        for t in threads { t.join() }
        writer.join()
        let wallSeconds = Double(MonotonicClock.nowNanos() - monoAnchor) / 1e9
        let out = writerResult.withLock { $0 } ?? WriterOutcome(error: "writer thread ended without a result")
        let loopOuts = loopResults.withLock { $0 }
        if let e = loopOuts.compactMap(\.error).first { throw FastPerfError("event loop failed: \(e)") }
        if let e = out.error { throw FastPerfError("results could not be stored: \(e)") }
        // A trace's rate is its own: requests over the span of its arrival times.
        let traceRate = schedule.map { s in
            Double(max(s.offsetsNanos.count - 1, 1)) / max(Double(s.offsetsNanos.last ?? 0) / 1e9, 1e-9)
        }
        let summary = out.accumulator.summary(parallel: spec.concurrencyLabel, number: number,
                                              rate: spec.trace ? traceRate : spec.rate)
        if let directory {
            try summary.summaryJSON().write(to: URL(fileURLWithPath: directory + "/benchmark_summary.json"))
            try summary.percentileJSON().write(to: URL(fileURLWithPath: directory + "/benchmark_percentile.json"))
        }
        if directory != nil && out.rows != number && StopSignal.received == 0 && args.duration == nil {
            log("Error: \(out.rows) rows stored for \(number) requests")
        }
        var lag = loopOuts[0].loopLag
        for o in loopOuts.dropFirst() { lag.add(o.loopLag) }
        let client = ClientUsage(
            loopThreads: loops, loopCPUSeconds: loopOuts.map(\.cpuSeconds).reduce(0, +),
            busiestLoopFraction: loopOuts.map { $0.cpuSeconds / max(wallSeconds, 1e-9) }.max() ?? 0,
            writerCPUSeconds: out.cpuSeconds, wallSeconds: wallSeconds,
            loopLagP99Millis: lag.totalCount > 0 ? Double(lag.valueAtPercentile(99)) / 1e6 : 0,
            loopLagMaxMillis: lag.totalCount > 0 ? Double(lag.max) / 1e6 : 0,
            loopLagSamples: Int(lag.totalCount),
            ringOverflows: progress.ringOverflows.load(ordering: .relaxed),
            peakOverflow: progress.peakOverflow.load(ordering: .relaxed),
            connectionsOverFDLimit: progress.connectionsOverFDLimit.load(ordering: .relaxed),
            peakInFlight: progress.peakInFlight.load(ordering: .relaxed),
            peakRSSBytes: ResourceUsage.peakRSSBytes(),
            sendLagP99Millis: summary.openLoop?.sendLagP99Millis,
            connectionCap: spec.rate != nil ? parallel : 0)
        return BenchmarkPoint(parallel: parallel, number: number, rate: spec.rate, directory: directory ?? "",
                              summary: summary, rows: out.rows,
                              client: client,
                              loopCloseStatus: loopOuts.map(\.closeStatus).first(where: { $0 != 0 }) ?? 0)
    }

    /// `performance_summary.txt`: the overview table, each point's per-request table, and the client line.
    static func summaryText(points: [BenchmarkPoint], url: String, insecure: Bool = false) -> String {
        var text = "FastPerf \(FastPerfVersion.string) — \(url)\n\n"
        if insecure { text += "Warning: --insecure: TLS certificates and host names were not verified.\n\n" }
        text += ReportText.overviewTable(points: points.map { (parallel: $0.summary.concurrency, number: $0.number, summary: $0.summary) })
        for p in points {
            if let rate = p.rate {
                let shape = p.parallel == 0 ? "open loop" : "at most \(p.parallel) in flight"
                text += "\nrate \(rate) req/s (\(shape)), number \(p.number)\n"
            } else {
                text += "\nparallel \(p.parallel), number \(p.number)\n"
            }
            text += ReportText.perRequestTable(summary: p.summary)
            if let o = p.summary.openLoop {
                func ms(_ c: PercentileColumn, _ permille: Int, _ decimals: Int) -> String {
                    c.value(permille: permille).map { String(format: "%.\(decimals)f", $0) } ?? "-"
                }
                text += String(format: (p.parallel == 0 ? "Open loop" : "Rate-paced") + ": achieved %.2f req/s of %.2f; send lag p50 %.3f ms, p99 %.3f ms, max %.3f ms; mean concurrency %.2f, peak %d\n",
                               o.achievedRate, o.targetRate, o.sendLagP50Millis, o.sendLagP99Millis, o.sendLagMaxMillis,
                               o.meanConcurrency, p.client.peakInFlight)
                text += "Corrected (from the intended send): TTFT p50 \(ms(o.correctedTTFT, 500, 2)) ms, p99 \(ms(o.correctedTTFT, 990, 2)) ms; "
                    + "latency p50 \(ms(o.correctedLatency, 500, 4)) s, p99 \(ms(o.correctedLatency, 990, 4)) s\n"
            }
            text += p.client.line(requests: p.rows) + String(format: "; rows stored %d/%d\n", p.rows, p.number)
            if let warning = p.client.warning { text += "Warning: \(warning)\n" }
            for note in p.client.notes { text += "Note: \(note)\n" }
        }
        return text
    }
}
