import Foundation
import Testing
@testable import FastPerf

/// The cases of `../shared/cases/` replayed by a loopback server through the whole client (libuv loop, HTTP/1
/// parser, SSE parser, ring, writer, plugin, SQLite), checked against the values each case lists.
/// Timings use generous tolerances: the replay server sleeps on a shared 2-core machine.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct CaseReplayTests {
    /// Absolute tolerance for timeline checks, in ms.
    let tol = 25.0

    @Test func case01RoleAndEmptyChunksBeforeFirstToken() throws {
        let steps = try BenchmarkHarness.caseSteps("case-01", times: [5, 150, 180, 210, 240, 270, 275, 276, 277])
        let out = try BenchmarkHarness.replay(steps)
        let r = try #require(out.rows.first)
        #expect(out.rows.count == 1)
        #expect(r.success && r.outcome == "ok")
        #expect(abs(r.ttftMillis! - 210) < tol, "TTFT \(r.ttftMillis!)")
        #expect(abs(r.latencyMillis! - 270) < tol, "E2E \(r.latencyMillis!)")
        #expect(r.itlMillis.count == 2)
        for gap in r.itlMillis { #expect(abs(gap - 30) < tol) }
        #expect(abs(r.tpotMillis! - 30) < tol)
        #expect(r.int("prompt_tokens") == 12 && r.int("completion_tokens") == 3)
        #expect(r.responseMessages.count == 9)
        let completed = try #require(r.double("completed_time"))
        let start = try #require(r.double("start_time"))
        #expect((completed - start) * 1000 > 270)
    }

    @Test func case02UsageInTrailingChunkWithEmptyChoices() throws {
        let out = try BenchmarkHarness.replay(try BenchmarkHarness.caseSteps("case-02"))
        let r = try #require(out.rows.first)
        #expect(r.success)
        #expect(r.int("prompt_tokens") == 26 && r.int("completion_tokens") == 2)
        #expect(r.itlMillis.count == 1)
    }

    @Test func case04DataWithoutSpace() throws {
        let out = try BenchmarkHarness.replay(try BenchmarkHarness.caseSteps("case-04"))
        let r = try #require(out.rows.first)
        #expect(r.success)
        #expect(r.int("prompt_tokens") == 8 && r.int("completion_tokens") == 2)
        #expect(r.responseMessages.last == "[DONE]")
    }

    /// Case 05: the body in three runs with one split each (S1 215, S2 553, S3 701), then one byte per write.
    @Test(arguments: ["S1", "S2", "S3", "bytes"])
    func case05EventSplitAcrossReads(_ run: String) throws {
        let c = try CaseFixtures.load("case-05")
        var steps = [ReplayServer.Step(atMillis: 0, bytes: c.head)]
        switch run {
        case "bytes":
            for (i, b) in c.body.enumerated() { steps.append(.init(atMillis: Double(i) * 0.02, bytes: [b])) }
        default:
            let at = ["S1": 215, "S2": 553, "S3": 701][run]!
            steps.append(.init(atMillis: 0, bytes: Array(c.body[..<at])))
            steps.append(.init(atMillis: 20, bytes: Array(c.body[at...])))
        }
        let out = try BenchmarkHarness.replay(steps)
        let r = try #require(out.rows.first)
        #expect(r.success, "\(run): \(r.outcome) \(r.text("error") ?? "")")
        #expect(r.responseMessages.count == 7)
        #expect(r.int("prompt_tokens") == 5 && r.int("completion_tokens") == 3)
        let text = r.responseMessages.compactMap { Self.content(of: $0) }.joined()
        #expect(text == "Hello world again")
    }

    @Test func case06CommentsAreNotTokens() throws {
        let steps = try BenchmarkHarness.caseSteps("case-06", times: [500, 1000, 1500, 1900, 2000, 2100, 2200, 2210, 2211])
        let out = try BenchmarkHarness.replay(steps)
        let r = try #require(out.rows.first)
        #expect(r.success)
        #expect(abs(r.ttftMillis! - 2000) < tol, "TTFT \(r.ttftMillis!)")
        #expect(abs(r.latencyMillis! - 2200) < tol)
        #expect(r.itlMillis.count == 1)
        #expect(abs(r.itlMillis[0] - 200) < tol)
        #expect(r.int("completion_tokens") == nil)  // no usage and no tokenizer: NULL, never a guess
        #expect(out.summaryJSON["Requests without token counts"] as? Int == 1)
    }

    @Test func case08CRLFLineEndings() throws {
        let out = try BenchmarkHarness.replay(try BenchmarkHarness.caseSteps("case-08"))
        let r = try #require(out.rows.first)
        #expect(r.success)
        let text = r.responseMessages.compactMap { Self.content(of: $0) }.joined()
        #expect(text == "Paris is the capital")
        #expect(r.itlMillis.count == 3)  // 4 output-bearing chunks
    }

    @Test func case08BareCRLineEndings() throws {
        let c = try CaseFixtures.load("case-08")
        var body: [UInt8] = []
        var i = 0
        while i < c.body.count {
            if c.body[i] == 13 && i + 1 < c.body.count && c.body[i + 1] == 10 { body.append(13); i += 2 } else { body.append(c.body[i]); i += 1 }
        }
        let out = try BenchmarkHarness.replay([.init(atMillis: 0, bytes: c.head + body)])
        let r = try #require(out.rows.first)
        #expect(r.success)
        #expect(r.responseMessages.compactMap { Self.content(of: $0) }.joined() == "Paris is the capital")
    }

    @Test func case09MultiLineData() throws {
        let out = try BenchmarkHarness.replay(try BenchmarkHarness.caseSteps("case-09"))
        let r = try #require(out.rows.first)
        #expect(r.success)
        #expect(r.responseMessages.count == 5)
        #expect(r.responseMessages.compactMap { Self.content(of: $0) }.joined() == "Hi there")
    }

    @Test(arguments: ["A", "B", "bytes"])
    func case10UTF8SplitAcrossReads(_ run: String) throws {
        let c = try CaseFixtures.load("case-10")
        var steps = [ReplayServer.Step(atMillis: 0, bytes: c.head)]
        if run == "bytes" {
            for (i, b) in c.body.enumerated() { steps.append(.init(atMillis: Double(i) * 0.02, bytes: [b])) }
        } else {
            let at = run == "A" ? 361 : 756
            steps.append(.init(atMillis: 0, bytes: Array(c.body[..<at])))
            steps.append(.init(atMillis: 20, bytes: Array(c.body[at...])))
        }
        let out = try BenchmarkHarness.replay(steps)
        let r = try #require(out.rows.first)
        #expect(r.success)
        let text = r.responseMessages.compactMap { Self.content(of: $0) }.joined()
        #expect(text == "你好，世界😊")
        #expect(!text.contains("\u{FFFD}"))
        #expect(r.int("prompt_tokens") == 9 && r.int("completion_tokens") == 4)
    }

    @Test func case15ClosedMidStreamIsTruncated() throws {
        let out = try BenchmarkHarness.replay(try BenchmarkHarness.caseSteps("case-15"))
        let r = try #require(out.rows.first)
        #expect(!r.success)
        #expect(r.outcome == "truncated")
        #expect(r.latencyMillis == nil && r.ttftMillis == nil)
        #expect(out.summaryJSON["Failed Requests"] as? Int == 1)
        #expect(out.summaryJSON["Output Throughput (tok/s)"] as? Double == 0)
    }

    @Test func case21NoOutputToken() throws {
        let out = try BenchmarkHarness.replay(try BenchmarkHarness.caseSteps("case-21"))
        let r = try #require(out.rows.first)
        #expect(!r.success)
        #expect(r.outcome == "no_output")
        #expect(r.ttftMillis == nil)
        #expect(out.summaryJSON["Avg TTFT (ms)"] as? Double == -1)
    }

    /// `content` (or `text`) of the first choice's delta in an OpenAI chunk, nil for other events.
    static func content(of event: String) -> String? {
        guard let o = try? JSONSerialization.jsonObject(with: Data(event.utf8)) as? [String: Any],
              let choices = o["choices"] as? [[String: Any]], let c = choices.first else { return nil }
        if let d = c["delta"] as? [String: Any] { return d["content"] as? String }
        return c["text"] as? String
    }
}
