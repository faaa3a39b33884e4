import Foundation
import Testing
@testable import FastPerf

/// The `fastperf` executable as a user runs it: bad input fails before the run with one line on stderr.
@Suite(.timeLimit(.minutes(2)))
struct CLITests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    typealias Result = Subprocess.Result

    /// Runs the debug build of `fastperf` (built by `swift build`, which scripts/test.sh runs first).
    static func fastperf(_ args: [String]) throws -> Result {
        let binary = repo.appendingPathComponent(".build/debug/fastperf")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw FastPerfTestError("\(binary.path) is missing: run `swift build` before `swift test`")
        }
        return try Subprocess.run(binary, args)
    }

    static func tempDir() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("fastperf-cli-\(UUID().uuidString)").path
    }

    /// What `signalled` saw: the exit status, stderr, and how many seconds after the signal the process ended.
    struct Signalled {
        var status: Int32
        var stderr: String
        var secondsAfterSignal: Double
    }

    /// Starts the debug `fastperf ARGS`, sends `signal` after `delay` s, and waits (at most 30 s) for it to end.
    static func signalled(_ args: [String], after delay: Double, signal: Int32) throws -> Signalled {
        let p = Process()
        p.executableURL = repo.appendingPathComponent(".build/debug/fastperf")
        p.arguments = args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        Thread.sleep(forTimeInterval: delay)
        let sent = Date()
        kill(p.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(30)
        while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let took = Date().timeIntervalSince(sent)
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        return Signalled(status: p.terminationStatus, stderr: String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                         secondsAfterSignal: took)
    }

    @Test(arguments: [
        (["perf", "--bogus-flag"], "bogus-flag"),
        (["perf", "--parallel", "x"], "parallel"),
        (["perf", "--url", "http://127.0.0.1:9/v1/chat/completions", "--prompt", "hi"], "cannot connect"),
        (["perf", "--url", "http://127.0.0.1:9", "--dataset", "line_by_line", "--dataset-path", "/nonexistent.txt"], "/nonexistent.txt"),
        (["perf", "--extra-args", "{oops"], "--extra-args"),
        (["perf", "--parallel", "1", "2", "--number", "5"], "same number of values"),
        (["perf", "--api", "nosuchapi"], "nosuchapi"),
        (["perf", "--headers", "novalue"], "k=v"),
        (["perf", "--headers", "X-A=b\r\nX-Evil: 1"], "line break"),
        (["perf", "--api-key", "k\r\nX-Evil2: 2"], "line break"),
        (["perf", "--headers", "Content-Length=5"], "set by FastPerf"),
        (["perf", "--connect-timeout", "3000000"], "--connect-timeout"),
        (["perf", "--read-timeout", "2e10"], "--read-timeout"),
        (["perf", "--total-timeout", "inf"], "--total-timeout"),
        (["perf", "--temperature", "nan"], "--temperature"),
        (["perf", "--max-tokens", "0"], "--max-tokens"),
        (["perf", "--url", "http://127.0.0.1:99999/v1/chat/completions", "--prompt", "hi"], "out of range"),
        (["perf", "--parallel", "2", "2", "--number", "4", "4"], "twice"),
        (["perf", "--rate", "100", "200", "--number", "10", "10"], "add --open-loop"),
        (["perf", "--open-loop", "--rate", "10", "--parallel", "3"], "give one of them"),
    ])
    func badInputFailsWithOneLine(_ args: [String], _ mention: String) throws {
        try Self.expectOneLineFailure(args, mentioning: mention)
    }

    /// Runs `fastperf ARGS --outputs-dir TMP` and checks it failed before the run: non-zero status, exactly one
    /// stderr line that mentions `mention`, and nothing written to the outputs folder.
    static func expectOneLineFailure(_ args: [String], mentioning mention: String,
                                     sourceLocation: SourceLocation = #_sourceLocation) throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try fastperf(args + ["--outputs-dir", dir])
        #expect(r.status != 0, sourceLocation: sourceLocation)
        #expect(r.stderr.split(separator: "\n").count == 1, "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(mention), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: dir), "nothing is written for a run that never started",
                sourceLocation: sourceLocation)
    }

    /// An open loop that needs more connections than `ulimit -n` allows: the requests without a connection are
    /// connect_failed rows, none is lost, and the client verdict names the open-files limit and the count.
    @Test func openFilesLimitIsNamedInTheVerdict() throws {
        let (server, port) = try BenchmarkHarness.mockServer(ttftMillis: 1500, itlMillis: 1)
        defer { server.stop() }
        let binary = Self.repo.appendingPathComponent(".build/debug/fastperf")
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 150 requests over 0.3 s, each held 1.5 s: 150 connections wanted, about 40 descriptors free.
        let command = "ulimit -n 64 && exec '\(binary.path)' perf --url http://127.0.0.1:\(port)/v1/chat/completions"
            + " --open-loop --rate 500 --number 150 --max-tokens 2 --prompt hi --threads 1 --outputs-dir '\(dir)'"
            + " --no-timestamp --name fd --db-store metrics"
        let r = try Subprocess.run(URL(fileURLWithPath: "/bin/sh"), ["-c", command])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let output = r.stdout + r.stderr
        #expect(output.contains("connections could not be opened: the open-files limit (ulimit -n) was reached"), "\(output)")
        let db = try SQLiteDatabase(path: dir + "/fd/rate_500.0_number_150/benchmark_data.db")
        let counts = try db.query("SELECT count(*), sum(outcome = 'connect_failed'), sum(success) FROM result")
        guard case .integer(let rows) = counts[0][0], case .integer(let refused) = counts[0][1],
              case .integer(let ok) = counts[0][2] else { Issue.record("\(counts)"); return }
        #expect(rows == 150)
        #expect(refused > 0 && ok > 0 && refused + ok == 150, "refused \(refused), ok \(ok)")
        // `fastperf report` rebuilds the same files from the folder, the verdict included.
        let run = dir + "/fd"
        var live: [String: Data] = [:]
        for f in ["performance_summary.txt", "perf_report.html"] {
            live[f] = try Data(contentsOf: URL(fileURLWithPath: run + "/" + f))
            try FileManager.default.removeItem(atPath: run + "/" + f)
        }
        let rebuilt = try Self.fastperf(["report", run])
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        for (f, data) in live { #expect(try Data(contentsOf: URL(fileURLWithPath: run + "/" + f)) == data, "\(f) differs") }
    }

    @Test func outputsDirThatIsAFileFailsWithOneLine() throws {
        let file = Self.tempDir()
        #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let r = try Self.fastperf(["perf", "--number", "2", "--outputs-dir", file + "/sub"])
        #expect(r.status != 0)
        #expect(r.stderr.split(separator: "\n").filter { $0.contains("error") }.count == 1)
        #expect(r.stderr.contains("Not a directory"), "stderr: \(r.stderr)")
        // A folder that cannot be made: the system's reason, not a Foundation error dump.
        let r2 = try Self.fastperf(["perf", "--number", "2", "--outputs-dir", "/proc/fastperf-cannot-be-made"])
        #expect(r2.status != 0)
        #expect(r2.stderr.contains("cannot create folder /proc/fastperf-cannot-be-made"), "stderr: \(r2.stderr)")
        #expect(r2.stderr.contains("No such file or directory") && !r2.stderr.contains("NSCocoaErrorDomain"), "stderr: \(r2.stderr)")
    }

    /// A negative number after an option is explained in one line, before any run (argument-parser alone said
    /// "Missing value"); written `--option=-N` it reaches the option's own check.
    @Test func negativeNumbersFailWithOneLine() throws {
        for (flag, value) in [("--parallel", "-3"), ("--rate", "-1"), ("--connect-timeout", "-0.5"), ("--prompt", "-1")] {
            let r = try Self.fastperf(["perf", flag, value])
            #expect(r.status != 0)
            #expect(r.stderr == "fastperf: error: \(flag) \(value): a value that starts with '-' is read as an option (write \(flag)=\(value) to pass it) (see fastperf --help)\n",
                    "stderr: \(r.stderr)")
        }
        // A repeated option, and a list option's second value.
        for args in [["--parallel", "1", "--parallel", "-3"], ["--parallel", "4", "-3"]] {
            let r = try Self.fastperf(["perf"] + args)
            #expect(r.stderr.contains("--parallel -3: a value that starts with '-' is read as an option"), "stderr: \(r.stderr)")
        }
        let r = try Self.fastperf(["perf", "--parallel=-3"])
        #expect(r.stderr == "fastperf: error: --parallel must be at least 1 (got -3)\n", "stderr: \(r.stderr)")
        let missing = try Self.fastperf(["perf", "--parallel"])
        #expect(missing.stderr.contains("Missing value for '--parallel"), "stderr: \(missing.stderr)")
    }

    /// `--cacert` where it cannot apply (an http:// URL) is said, not silently ignored.
    @Test func unusedCACertIsNoted() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Self.fastperf(["perf", "--number", "2", "--cacert", "/etc/hosts", "--sleep-interval", "0", "--outputs-dir", dir])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect((r.stdout + r.stderr).contains("Note: --cacert /etc/hosts is not used: http:// is not TLS"))
        // The run's log file has it too.
        let logs = FileManager.default.enumerator(atPath: dir)?.compactMap { $0 as? String }.filter { $0.hasSuffix("benchmark.log") } ?? []
        #expect(logs.count == 1)
        let log = logs.first.flatMap { try? String(contentsOfFile: dir + "/" + $0, encoding: .utf8) } ?? ""
        #expect(log.contains("Note: --cacert /etc/hosts is not used: http:// is not TLS"), "log: \(log)")
    }

    /// The first SIGINT stops sending, lets the requests in flight finish and still writes every file; every
    /// request sent is one row.
    @Test func interruptStopsCleanlyAndKeepsEveryRow() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Self.signalled(["perf", "--parallel", "4", "--number", "100000", "--outputs-dir", dir, "--no-timestamp",
                                    "--name", "int"], after: 2, signal: SIGINT)
        #expect(r.status == 0)
        let point = dir + "/int/parallel_4_number_100000"
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: point + "/benchmark_summary.json"))) as? [String: Any]
        let total = try #require(summary?["Total Requests"] as? Int)
        #expect(total > 0 && total < 100000)
        #expect(summary?["Success Requests"] as? Int == total, "requests in flight finished normally")
        #expect(FileManager.default.fileExists(atPath: dir + "/int/performance_summary.txt"))
        #expect(r.stderr.contains("Stopped by a signal after \(total) of 100000 requests"))
    }

    /// A SIGTERM (as `timeout` or `docker stop` send) against a server that never answers: sending stops, the
    /// requests in flight get the grace period, then are closed and stored as reset rows; the process writes its
    /// files and exits 0 well before any timeout.
    @Test func sigtermEndsHangingRequestsAfterTheGrace() throws {
        let (server, port) = try BenchmarkHarness.mockServer(ttftMillis: 600_000, itlMillis: 1)
        defer { server.stop() }
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Self.signalled(["perf", "--url", "http://127.0.0.1:\(port)/v1/chat/completions", "--parallel", "3", "--number", "10",
                                    "--prompt", "hi", "--outputs-dir", dir, "--no-timestamp", "--name", "term"], after: 1.5, signal: SIGTERM)
        #expect(r.status == 0)
        let took = r.secondsAfterSignal
        #expect(took >= StopSignal.termGraceSeconds - 0.5 && took < StopSignal.termGraceSeconds + 10, "exited \(took) s after SIGTERM")
        let db = try SQLiteDatabase(path: dir + "/term/parallel_3_number_10/benchmark_data.db")
        let rows = try db.query("SELECT outcome, error FROM result")
        #expect(rows.count == 3)
        #expect(rows.allSatisfy { if case .text("reset") = $0[0] { true } else { false } }, "\(rows)")
        // One signal: the error names the grace that ran out, not a second signal.
        #expect(rows.allSatisfy { if case .text("aborted: still in flight 5 s after SIGTERM") = $0[1] { true } else { false } },
                "\(rows)")
        #expect(r.stderr.contains("Stopping (SIGTERM)"), "\(r.stderr)")
    }

    /// A signal during `--sleep-interval` ends the sweep at once (not after the pause); the finished point keeps
    /// its files and the report is written.
    @Test func signalDuringTheSleepBetweenPointsStopsAtOnce() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // After 6 s the first point (3 requests) is done and the 120 s pause has begun.
        let r = try Self.signalled(["perf", "--parallel", "1", "2", "--number", "3", "3", "--sleep-interval", "120", "--outputs-dir", dir,
                                    "--no-timestamp", "--name", "nap"], after: 6, signal: SIGINT)
        #expect(r.secondsAfterSignal < 5)
        #expect(r.status == 0)
        #expect(FileManager.default.fileExists(atPath: dir + "/nap/parallel_1_number_3/benchmark_summary.json"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/nap/parallel_2_number_3/benchmark_summary.json"))
        #expect(FileManager.default.fileExists(atPath: dir + "/nap/performance_summary.txt"))
        #expect(r.stderr.contains("Stopped by a signal between points"), "\(r.stderr)")
    }

    /// The README's first command, small: no --url runs the embedded mock server and prints the report.
    @Test func embeddedServerRunPrintsTheReport() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Self.fastperf(["perf", "--parallel", "1", "4", "--number", "5", "20", "--sleep-interval", "0", "--outputs-dir", dir])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("Performance Overview"))
        #expect(r.stdout.contains("TTFT (ms)"))
        #expect(r.stderr.contains("embedded mock server"))
        let runs = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(runs.count == 1)
    }
}
