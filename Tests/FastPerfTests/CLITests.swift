import Foundation
import Testing

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

    @Test(arguments: [
        (["perf", "--bogus-flag"], "bogus-flag"),
        (["perf", "--parallel", "x"], "parallel"),
        (["perf", "--url", "http://127.0.0.1:9/v1/chat/completions", "--prompt", "hi"], "cannot connect"),
        (["perf", "--url", "http://127.0.0.1:9", "--dataset", "line_by_line", "--dataset-path", "/nonexistent.txt"], "/nonexistent.txt"),
        (["perf", "--extra-args", "{oops"], "--extra-args"),
        (["perf", "--parallel", "1", "2", "--number", "5"], "same number of values"),
        (["perf", "--api", "nosuchapi"], "nosuchapi"),
        (["perf", "--headers", "novalue"], "k=v"),
    ])
    func badInputFailsWithOneLine(_ args: [String], _ mention: String) throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Self.fastperf(args + ["--outputs-dir", dir])
        #expect(r.status != 0)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.contains(mention), "stderr: \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir), "nothing is written for a run that never started")
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
