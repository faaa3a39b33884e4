import Foundation

/// One sweep point as the reports see it: its summary, the client's counters, its timeline and its failures.
struct ReportPoint {
    /// The point's folder name, e.g. `parallel_8_number_400`.
    var folder: String
    var shape: PointShape
    var summary: RunSummary
    /// The `point` table; nil for a database without one (client counters unknown).
    var counters: PointCounters?
    var timeline: Timeline
    var failures: [PointDatabase.FailureGroup]
    /// `--parallel` (0 = open loop or trace), `--number` and target `--rate` (req/s, nil = none).
    var parallel: Int { shape.parallel }
    var number: Int { shape.number }
    var rate: Double? { shape.rate }

    /// The point's place on the sweep axis: the target rate of an open-loop point, else `--parallel`.
    var load: Double { parallel == 0 ? rate ?? 0 : Double(parallel) }
    /// The load as a phrase: `concurrency 8`, `rate 2.5 req/s`, or `trace`.
    var loadName: String { parallel > 0 ? "concurrency \(parallel)" : rate == nil ? "trace" : "rate " + loadLabel }
    /// The load as a label: `8`, `2.5 req/s`, or `trace`.
    var loadLabel: String {
        if parallel > 0 { return String(parallel) }
        guard let rate else { return "trace" }
        return SVGChart.format(rate, step: rate == rate.rounded() ? 1 : 0.01) + " req/s"
    }
}

/// One run folder as the reports see it.
struct ReportRun {
    /// A short name: the run folder's name, after its timestamp folder when it has one (`20250101_120000/qwen`).
    var label: String
    /// The URL benchmarked.
    var url: String
    /// The masked arguments (`run` table), JSON text.
    var argumentsJSON: String
    var version: String
    var startedAt: String
    /// Points in run order.
    var points: [ReportPoint]

    /// The run used `--insecure`: TLS certificates and host names were not verified.
    var insecure: Bool {
        (try? JSONSerialization.jsonObject(with: Data(argumentsJSON.utf8)) as? [String: Any])?["insecure"] as? Bool ?? false
    }

    /// Points in increasing load order (the x axis of the sweep charts).
    var pointsByLoad: [ReportPoint] { points.sorted { ($0.load, $0.number) < ($1.load, $1.number) } }
}

/// Builds the report files of a run folder: `perf_report.html` at the end of a live run, and everything
/// (`benchmark_summary.json`, `benchmark_percentile.json`, `performance_summary.txt`, `perf_report.html`) from
/// the databases alone for `fastperf report`, plus one comparison report for several run folders.
public enum RunReport {
    /// The report's file name inside a run folder.
    public static let htmlFileName = "perf_report.html"

    /// Rebuilds every file of each run folder in `runDirectories` from its points' `benchmark_data.db`, and
    /// with two or more folders writes one comparison report to `comparisonPath`.
    /// - Returns: the paths written, in order.
    /// - Throws: `FastPerfError` (one line) for a folder that does not exist, holds no point database, or
    ///   cannot be read or written.
    public static func rebuild(runDirectories: [String], comparisonPath: String) throws -> [String] {
        if runDirectories.isEmpty { throw FastPerfError("give at least one run folder") }
        var written: [String] = []
        var runs: [ReportRun] = []
        for dir in runDirectories {
            let run = try load(runDirectory: dir, livePoints: nil)
            let points = run.points.map { p in
                let c = p.counters
                let unknown = ClientUsage(loopThreads: 0, loopCPUSeconds: 0, busiestLoopFraction: 0, writerCPUSeconds: 0,
                                          wallSeconds: 0, loopLagP99Millis: 0, loopLagMaxMillis: 0, ringOverflows: 0,
                                          peakInFlight: p.timeline.peakInFlight, peakRSSBytes: 0)
                return BenchmarkPoint(parallel: p.parallel, number: p.number, rate: p.rate, directory: dir + "/" + p.folder,
                                      summary: p.summary, rows: c?.rows ?? p.summary.totalRequests,
                                      client: c?.client ?? unknown, loopCloseStatus: Int32(c?.loopCloseStatus ?? 0))
            }
            for p in points {
                written.append(try write(p.summary.summaryJSON(), to: p.directory + "/benchmark_summary.json"))
                written.append(try write(p.summary.percentileJSON(), to: p.directory + "/benchmark_percentile.json"))
            }
            let text = Benchmark.summaryText(points: points, url: run.url, insecure: run.insecure)
            written.append(try write(Data(text.utf8), to: dir + "/performance_summary.txt"))
            written.append(try write(Data(HTMLReport.render(runs: [run]).utf8), to: dir + "/" + htmlFileName))
            runs.append(run)
        }
        if runs.count > 1 {
            var labels = Set<String>()
            for i in runs.indices {
                var label = runs[i].label
                var n = 2
                while labels.contains(label) { label = "\(runs[i].label) (\(n))"; n += 1 }
                labels.insert(label)
                runs[i].label = label
            }
            written.append(try write(Data(HTMLReport.render(runs: runs).utf8), to: comparisonPath))
        }
        return written
    }

    /// Writes `perf_report.html` of a live run: summaries and counters from memory, timelines and failure
    /// groups from the databases. Returns the path. Throws `FastPerfError`.
    static func writeLive(runDirectory: String, points: [BenchmarkPoint], url: String) throws -> String {
        let live = points.map { (point: $0, counters: PointCounters($0, url: url)) }
        let run = try load(runDirectory: runDirectory, livePoints: live)
        return try write(Data(HTMLReport.render(runs: [run]).utf8), to: runDirectory + "/" + htmlFileName)
    }

    /// Reads a run folder. With `livePoints` their summaries and counters are used and only timelines and
    /// failures are read; without, every point folder holding a `benchmark_data.db` is read in full.
    static func load(runDirectory dir: String, livePoints: [(point: BenchmarkPoint, counters: PointCounters)]?) throws -> ReportRun {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) else {
            throw FastPerfError("\(dir) does not exist")
        }
        guard isDir.boolValue else { throw FastPerfError("\(dir) is not a folder") }
        let folders = livePoints?.map { URL(fileURLWithPath: $0.point.directory).lastPathComponent } ?? pointFolders(in: dir)
        if folders.isEmpty {
            let nested = pointRunsBelow(dir)
            let hint = nested.isEmpty ? "" : "; did you mean \(nested.prefix(3).joined(separator: ", "))?"
            throw FastPerfError("\(dir) holds no point folder with a benchmark_data.db (is it a fastperf run folder?)\(hint)")
        }
        var points: [ReportPoint] = []
        var runRows: [PointDatabase.RunRow] = []
        for (i, folder) in folders.enumerated() {
            let db = try PointDatabase(path: dir + "/" + folder + "/benchmark_data.db")
            runRows.append(try db.runRow())
            // One accumulator per loop, merged in loop order, as the writer does (so sums match bit for bit).
            var perLoop: [Int: MetricsAccumulator] = [:]
            var samples: [Timeline.Sample] = []
            let rebuild = livePoints == nil
            try db.forEachResult(interTokenLatencies: rebuild) { r in
                if rebuild { perLoop[r.loopID, default: MetricsAccumulator()].add(r) }
                guard r.startNanos != 0 || r.completedNanos != 0 else { return }
                samples.append(Timeline.Sample(start: r.startNanos == 0 ? nil : seconds(r.startNanos),
                                               end: seconds(r.completedNanos == 0 ? r.startNanos : r.completedNanos),
                                               success: r.success))
            }
            let counters = try livePoints.map { $0[i].counters } ?? db.counters()
            guard let shape = counters?.shape ?? PointShape(folder: folder) else {
                throw FastPerfError("\(dir)/\(folder): cannot tell the point's load (no point table, and the folder is not named parallel_P_number_N or rate_R_number_N)")
            }
            let summary: RunSummary
            if let live = livePoints {
                summary = live[i].point.summary
            } else {
                var accumulator = MetricsAccumulator()
                for loop in perLoop.keys.sorted() { accumulator.merge(perLoop[loop]!) }
                summary = accumulator.summary(parallel: shape.concurrency, number: shape.number, rate: shape.summaryRate)
            }
            points.append(ReportPoint(folder: folder, shape: shape, summary: summary, counters: counters,
                                      timeline: Timeline(samples: samples), failures: try db.failureGroups()))
        }
        // The run's start: its earliest point's.
        let row = runRows.min { $0.startedAt < $1.startedAt }!
        let arguments = (try? JSONSerialization.jsonObject(with: Data(row.argumentsJSON.utf8))) as? [String: Any] ?? [:]
        if livePoints == nil { points = inRunOrder(points, arguments: arguments) }
        let url = points.lazy.compactMap { $0.counters?.url }.first { !$0.isEmpty } ?? (arguments["url"] as? String) ?? "?"
        return ReportRun(label: label(of: dir), url: url, argumentsJSON: row.argumentsJSON, version: row.version,
                         startedAt: row.startedAt, points: points)
    }

    /// Seconds of a read-back instant (see `PointDatabase.instantBase`).
    private static func seconds(_ instant: UInt64) -> Double {
        Double(Int64(bitPattern: instant &- PointDatabase.instantBase)) / 1e9
    }

    /// Sub-folders of `dir` holding a `benchmark_data.db`, sorted by name.
    static func pointFolders(in dir: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: dir + "/" + $0 + "/benchmark_data.db") }.sorted()
    }

    /// Run folders one level below `dir` (for the hint when `dir` is a timestamp or outputs folder).
    private static func pointRunsBelow(_ dir: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.sorted().map { dir + "/" + $0 }.filter { !pointFolders(in: $0).isEmpty }
    }

    /// `points` in the order of the run's `--parallel`/`--number` lists; others after, by load.
    private static func inRunOrder(_ points: [ReportPoint], arguments: [String: Any]) -> [ReportPoint] {
        let parallel = arguments["parallel"] as? [Int] ?? []
        let number = arguments["number"] as? [Int] ?? []
        let order = Array(zip(parallel, number))
        let rates = arguments["rate"] as? [Double] ?? []
        let openOrder = Array(zip(rates, number))
        func rank(_ p: ReportPoint) -> (Int, Double, Int) {
            let i = p.parallel > 0 ? order.firstIndex { $0 == (p.parallel, p.number) }
                                   : openOrder.firstIndex { $0 == (p.rate ?? -1, p.number) }
            return (i ?? max(order.count, openOrder.count), p.load, p.number)
        }
        return points.sorted { rank($0) < rank($1) }
    }

    /// `name`, or `timestamp/name` when the parent folder is a `YYYYMMDD_HHMMSS` timestamp.
    static func label(of dir: String) -> String {
        let url = URL(fileURLWithPath: dir).standardizedFileURL
        let name = url.lastPathComponent
        let parent = url.deletingLastPathComponent().lastPathComponent
        let isStamp = parent.count == 15 && parent.enumerated().allSatisfy { i, c in i == 8 ? c == "_" : c.isASCII && c.isNumber }
        return isStamp ? parent + "/" + name : name
    }

    private static func write(_ data: Data, to path: String) throws -> String {
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw FastPerfError("cannot write \(path): \(error.localizedDescription)")
        }
        return path
    }
}
