import Foundation
import Testing
@testable import FastPerf

/// The report as a user gets it: `fastperf serve` in one process, a three-point `fastperf perf` sweep in
/// another, `perf_report.html` opened in headless Chromium, and `fastperf report` on a copied run folder.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ReportEndToEndTests {
    /// `fastperf serve --port 0` in its own process; `port` is read from its first line.
    final class ServeProcess {
        let process = Process()
        let port: Int

        init(_ extra: [String]) throws {
            process.executableURL = CLITests.repo.appendingPathComponent(".build/debug/fastperf")
            process.arguments = ["serve", "--port", "0"] + extra
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            var text = ""
            while !text.contains("\n") {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            // "fastperf serve: listening on http://127.0.0.1:PORT (TTFT …)"
            guard let r = text.range(of: "127.0.0.1:"), let port = Int(text[r.upperBound...].prefix { $0.isNumber }) else {
                kill(process.processIdentifier, SIGKILL)
                throw FastPerfTestError("fastperf serve printed no port: \(text)")
            }
            self.port = port
        }

        /// SIGKILL: a child of the test runner inherits its blocked-signal mask, so SIGTERM may never arrive.
        func stop() {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    /// Runs a three-point sweep (concurrency 1, 4, 8) against `fastperf serve` (TTFT 20 ms, ITL 2 ms, 16 tokens)
    /// with the CLI and returns the run folder `<root>/<stamp>/sweep`.
    static func sweep(into root: String, extra: [String] = []) throws -> (runDirectory: String, stderr: String) {
        let server = try ServeProcess(["--ttft-ms", "20", "--itl-ms", "2"])
        defer { server.stop() }
        let r = try CLITests.fastperf([
            "perf", "--url", "http://127.0.0.1:\(server.port)/v1/chat/completions", "--model", "mock <model> & \"co\"",
            "--name", "sweep", "--prompt", "hello", "--max-tokens", "16", "--parallel", "1", "4", "8",
            "--number", "12", "40", "80", "--sleep-interval", "0", "--outputs-dir", root,
        ] + extra)
        guard r.status == 0 else { throw FastPerfTestError("fastperf perf failed: \(r.stderr)") }
        let stamps = try FileManager.default.contentsOfDirectory(atPath: root)
        guard stamps.count == 1 else { throw FastPerfTestError("expected one timestamp folder, got \(stamps)") }
        return (root + "/" + stamps[0] + "/sweep", r.stderr)
    }

    /// Must show: the report of a real sweep opens in headless Chromium, renders non-empty SVG charts, logs no
    /// console error and makes no request but its own file; the screenshot is kept in .build/test-artifacts/.
    @Test func sweepReportRendersInHeadlessChromium() throws {
        let root = CLITests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (run, _) = try Self.sweep(into: root)
        let htmlPath = run + "/perf_report.html"
        let html = try String(contentsOfFile: htmlPath, encoding: .utf8)
        #expect(!html.contains("<script"), "the report needs no script")
        #expect(!html.contains("http://") || !html.contains("src=\"http"), "no external resource")
        #expect(html.contains("mock &lt;model&gt; &amp; &quot;co&quot;"), "the model name is escaped")
        #expect(!html.contains("mock <model>"))

        let browser = try HeadlessChromium(timeout: 60)
        defer { browser.close() }
        let check = """
            JSON.stringify({
              charts: [...document.querySelectorAll('svg.chart')].map(s => {
                const r = s.getBoundingClientRect();
                const drawn = [...s.querySelectorAll('polyline, rect.bar, circle')].filter(e => {
                  const b = e.getBBox(); return b.width > 0 || b.height > 0; }).length;
                return {title: s.getAttribute('aria-label'), w: r.width, h: r.height, drawn: drawn,
                        nodata: s.querySelectorAll('.nodata').length};
              }),
              sections: [...document.querySelectorAll('h2')].map(h => h.textContent),
              overviewRows: document.querySelectorAll('#overview tr').length,
              best: document.querySelectorAll('#overview tr.best').length,
              scripts: document.scripts.length
            })
            """
        let page = try browser.open(URL(fileURLWithPath: htmlPath), width: 1280, check: check)
        #expect(page.consoleErrors.isEmpty, "\(page.consoleErrors)")
        #expect(page.requests == [URL(fileURLWithPath: htmlPath).absoluteString], "requests: \(page.requests)")

        let charts = page.check["charts"] as? [[String: Any]] ?? []
        // 5 sweep charts + 2 CDFs + 3 over-time charts (one per point).
        #expect(charts.count == 10, "\(charts.map { $0["title"] ?? "" })")
        for chart in charts {
            let title = chart["title"] as? String ?? "?"
            #expect(((chart["w"] as? NSNumber)?.doubleValue ?? 0) > 400, "\(title) width")
            #expect(((chart["h"] as? NSNumber)?.doubleValue ?? 0) > 200, "\(title) height")
            #expect(((chart["drawn"] as? NSNumber)?.intValue ?? 0) >= 2, "\(title) draws no series")
            #expect(((chart["nodata"] as? NSNumber)?.intValue ?? 1) == 0, "\(title) has no data")
        }
        let sections = page.check["sections"] as? [String] ?? []
        #expect(sections == ["Findings", "Run settings", "Sweep overview", "Throughput and latency against concurrency",
                             "Latency distribution", "Over time", "Failures by kind", "Client saturation", "Percentiles per point"])
        #expect((page.check["overviewRows"] as? NSNumber)?.intValue == 5)  // two header rows + three points
        #expect((page.check["best"] as? NSNumber)?.intValue == 1)
        #expect((page.check["scripts"] as? NSNumber)?.intValue == 0)

        let size = try #require(pngSize(page.screenshot))
        #expect(size.width == 1280 && size.height == page.height && page.height > 2000, "\(size), page \(page.height)")
        #expect(page.screenshot.count > 100_000, "a page of charts and tables is not a blank PNG (\(page.screenshot.count) bytes)")
        let artifacts = CLITests.repo.appendingPathComponent(".build/test-artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        try page.screenshot.write(to: artifacts.appendingPathComponent("perf_report.png"))
        try html.write(to: artifacts.appendingPathComponent("perf_report.html"), atomically: true, encoding: .utf8)
    }

    /// Must show: `fastperf report` on a copy of the run folder, with every derived file deleted, writes the
    /// same bytes as the live run: summaries, percentiles, performance_summary.txt and perf_report.html.
    /// Two copies make a comparison report naming both.
    @Test func reportOnACopiedRunFolderReproducesTheLiveFiles() throws {
        let root = CLITests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (run, _) = try Self.sweep(into: root + "/live")
        let stamp = URL(fileURLWithPath: run).deletingLastPathComponent().lastPathComponent
        let copy = root + "/copy/\(stamp)/sweep"
        try FileManager.default.createDirectory(atPath: root + "/copy/\(stamp)", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: run, toPath: copy)
        let points = RunReport.pointFolders(in: run)
        #expect(points == ["parallel_1_number_12", "parallel_4_number_40", "parallel_8_number_80"])
        var derived = ["performance_summary.txt", "perf_report.html"]
        for p in points { derived += ["\(p)/benchmark_summary.json", "\(p)/benchmark_percentile.json"] }
        for f in derived { try FileManager.default.removeItem(atPath: copy + "/" + f) }

        let r = try CLITests.fastperf(["report", copy])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.split(separator: "\n").count == derived.count)
        for f in derived {
            let live = try Data(contentsOf: URL(fileURLWithPath: run + "/" + f))
            let rebuilt = try Data(contentsOf: URL(fileURLWithPath: copy + "/" + f))
            #expect(live == rebuilt, "\(f) differs")
        }
        // Real values: the summary has every request of the point and the right concurrency.
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: copy + "/parallel_8_number_80/benchmark_summary.json"))) as? [String: Any]
        #expect(summary?["Total Requests"] as? Int == 80)
        #expect(summary?["Concurrency"] as? Int == 8)
        #expect(((summary?["Avg TTFT (ms)"] as? NSNumber)?.doubleValue ?? 0) >= 20)

        // Two run folders: each rebuilt, plus one comparison report.
        let other = root + "/copy/\(stamp)/sweep-b"
        try FileManager.default.copyItem(atPath: copy, toPath: other)
        let comparison = root + "/compare.html"
        let c = try CLITests.fastperf(["report", copy, other, "--output", comparison])
        #expect(c.status == 0, "\(c.stderr)")
        let html = try String(contentsOfFile: comparison, encoding: .utf8)
        #expect(html.contains("FastPerf comparison: \(stamp)/sweep vs \(stamp)/sweep-b"))
        #expect(html.contains("Latency CDF at concurrency 8"))
    }

    /// Failures show in the report: the kind counted for the point, the error text escaped, no best point.
    @Test func failuresAppearInTheReport() throws {
        let body = Array(#"{"error":{"message":"model <crashed>","type":"server_error"}}"#.utf8)
        let head = "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: \(body.count)\r\n\r\n"
        let server = try ReplayServer(steps: [.init(atMillis: 0, bytes: Array(head.utf8) + body)])
        defer { server.stop() }
        let args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(server.port)/v1/chat/completions", number: 3)
        defer { try? FileManager.default.removeItem(atPath: args.outputsDir) }
        let report = try Benchmark.run(args) { _ in }
        let html = try String(contentsOfFile: report.runDirectory + "/" + RunReport.htmlFileName, encoding: .utf8)
        #expect(html.contains("<tr><th class=\"l\">http_status</th><td class=\"bad\">3</td></tr>"))
        #expect(html.contains("<td class=\"l\">http_status</td><td>500</td><td>3</td><td class=\"l wrap\">server_error: model &lt;crashed&gt;</td>"))
        #expect(html.contains("3 of 3 requests failed"))
        #expect(html.contains("No request succeeded: there is no best point."))
        #expect(!html.contains("<crashed>"))
    }

    /// A database from before the `point` table and the exact-instant columns still rebuilds: the same counts and
    /// percentiles, the duration within a microsecond (from epoch seconds), the client verdict "unknown".
    @Test func olderDatabaseWithoutPointTableOrOffsetsStillRebuilds() throws {
        let server = try ServeProcess(["--ttft-ms", "5"])
        defer { server.stop() }
        let args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(server.port)/v1/chat/completions", parallel: 2, number: 20)
        defer { try? FileManager.default.removeItem(atPath: args.outputsDir) }
        let report = try Benchmark.run(args) { _ in }
        let live = report.points[0]
        let db = try SQLiteDatabase(path: live.directory + "/benchmark_data.db")
        try db.execute("DROP TABLE point; ALTER TABLE result DROP COLUMN start_offset_ns; ALTER TABLE result DROP COLUMN completed_offset_ns;")
        db.close()

        let run = try RunReport.load(runDirectory: report.runDirectory, livePoints: nil)
        let p = try #require(run.points.first)
        #expect(p.counters == nil)
        #expect(p.summary.totalRequests == 20 && p.summary.concurrency == 2 && p.summary.number == 20)
        #expect(abs(p.summary.testDurationSeconds - live.summary.testDurationSeconds) < 1e-6)
        #expect(p.summary.column("Latency (s)")?.sortedValues == live.summary.column("Latency (s)")?.sortedValues)
        #expect(p.summary.avgTTFTMillis == live.summary.avgTTFTMillis)
        #expect(p.timeline.peakInFlight == 2)
        let written = try RunReport.rebuild(runDirectories: [report.runDirectory], comparisonPath: "unused.html")
        #expect(written.count == 4)
        let html = try String(contentsOfFile: report.runDirectory + "/" + RunReport.htmlFileName, encoding: .utf8)
        #expect(html.contains("<b class=\"unknown\">unknown</b> <span class=\"note\">the database holds no client figures (point table)</span>"))
    }

    /// Bad input: a folder that does not exist, or one without point databases, is a one-line error.
    @Test(arguments: ["missing", "empty"])
    func reportOnABadFolderFailsWithOneLine(_ kind: String) throws {
        let root = CLITests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: root) }
        if kind == "empty" { try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true) }
        let r = try CLITests.fastperf(["report", root])
        #expect(r.status == 1)
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.contains(root))
        #expect(r.stderr.contains(kind == "missing" ? "does not exist" : "holds no point folder"), "\(r.stderr)")
    }

    /// On a terminal (a pty from `script`) each point gets one live line rewritten in place with done/total,
    /// req/s, tok/s, in flight, errors, elapsed and ETA, ending at 100 %; `--quiet` silences it.
    @Test func progressLineOnATerminalAndQuiet() throws {
        let root = CLITests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let binary = CLITests.repo.appendingPathComponent(".build/debug/fastperf").path
        func underPTY(_ extra: String) throws -> String {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
            p.arguments = ["-qec", "\(binary) perf --parallel 2 --number 100 --sleep-interval 0 --outputs-dir \(root) \(extra) >/dev/null", "/dev/null"]
            let out = Pipe()
            p.standardOutput = out
            p.standardInput = FileHandle.nullDevice
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
            return String(decoding: data, as: UTF8.self)
        }
        let shown = try underPTY("")
        let lines = shown.components(separatedBy: "\r").filter { $0.hasPrefix("parallel 2: ") }
        #expect(lines.count >= 2, "\(shown.debugDescription)")
        let last = try #require(lines.last)
        #expect(last.hasPrefix("parallel 2: 100/100 (100%) | "), "\(last.debugDescription)")
        #expect(last.contains(" req/s | ") && last.contains(" tok/s | ") && last.contains(" in flight | 0 errors | "))
        #expect(last.contains(" elapsed | ETA 0:00"))
        let quiet = try underPTY("--quiet")
        #expect(!quiet.contains("parallel 2: "), "\(quiet.debugDescription)")
    }
}
