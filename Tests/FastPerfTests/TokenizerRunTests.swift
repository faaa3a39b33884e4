import Foundation
import Testing
@testable import FastPerf

/// The tokenizer in a run: `random` prompts of exact token lengths, the speed benchmark, the writer's
/// token-count fallback, token-counting length filters, and one-line errors for bad tokenizer input.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct TokenizerRunTests {
    static func randomArguments(min: Int, max: Int, number: Int, prefix: Int = 0, seed: Int? = 3,
                                tokenizer: String = TokenizerFixtures.deepSeekPath, kind: String? = nil) -> RunArguments {
        var a = BenchmarkHarness.arguments(url: nil, number: number)
        a.prompt = nil
        a.dataset = RandomDataset.name
        a.tokenizerPath = tokenizer
        a.tokenizerKind = kind
        a.minPromptLength = min
        a.maxPromptLength = max
        a.prefixLength = prefix
        a.seed = seed
        return a
    }

    static func texts(_ items: [DatasetItem]) -> [String] {
        items.map { if case .prompt(let s) = $0 { s } else { "" } }
    }

    // MARK: random

    @Test(arguments: [(TokenizerFixtures.deepSeekPath, nil as String?), (TokenizerFixtures.cl100kPath, "tiktoken:cl100k_base")])
    func randomPromptsHaveExactlyTheRequestedLength(_ path: String, _ kind: String?) throws {
        let tok = try Tokenizer.shared(path: path, kind: kind)
        let items = try RandomDataset(arguments: Self.randomArguments(min: 1024, max: 1024, number: 40, tokenizer: path, kind: kind))
            .buildMessages()
        #expect(items.count == 40)
        for text in Self.texts(items) { #expect(tok.count(text) == 1024) }
    }

    @Test func randomLengthsSpreadOverTheRangeAndPrefixIsShared() throws {
        let tok = try TokenizerFixtures.deepSeek()
        let dataset = try RandomDataset(arguments: Self.randomArguments(min: 1, max: 300, number: 200, prefix: 32))
        let prefix = try dataset.sharedPrefix().text
        #expect(tok.count(prefix) == 32)
        let lengths = Self.texts(try dataset.buildMessages()).map { text -> Int in
            #expect(text.hasPrefix(prefix))
            return tok.count(text) - 32
        }
        #expect(lengths.allSatisfy { (1...300).contains($0) }, "\(lengths)")
        #expect(Set(lengths).count > 100)
        #expect(lengths.min()! < 30 && lengths.max()! > 270)
    }

    @Test func randomIsReproducibleBySeed() throws {
        let a = try RandomDataset(arguments: Self.randomArguments(min: 5, max: 50, number: 30, seed: 11)).buildMessages()
        let b = try RandomDataset(arguments: Self.randomArguments(min: 5, max: 50, number: 30, seed: 11)).buildMessages()
        let c = try RandomDataset(arguments: Self.randomArguments(min: 5, max: 50, number: 30, seed: 12)).buildMessages()
        #expect(a == b)
        #expect(a != c)
    }

    @Test func randomNeedsATokenizerAndSaneBounds() throws {
        var a = Self.randomArguments(min: 1, max: 10, number: 1)
        a.tokenizerPath = nil
        #expect(throws: FastPerfError.self) { try RandomDataset(arguments: a) }
        #expect(throws: FastPerfError.self) { try RandomDataset(arguments: Self.randomArguments(min: 10, max: 5, number: 1)) }
        #expect(throws: FastPerfError.self) { try RandomDataset(arguments: Self.randomArguments(min: 0, max: 5, number: 1)) }
    }

    /// Must-show: a `random` run against the mock server with the same tokenizer: the server's reported
    /// prompt tokens are exactly the requested lengths.
    @Test func randomRunAgainstMockReportsTheRequestedPromptTokens() throws {
        let args = Self.randomArguments(min: 50, max: 400, number: 24, prefix: 8)
        let tok = try TokenizerFixtures.deepSeek()
        let (server, port) = try BenchmarkHarness.mockServer { $0.tokenizer = tok }
        defer { server.stop() }
        var run = args
        run.url = "http://127.0.0.1:\(port)/v1/completions"
        run.parallel = [4]
        let out = try BenchmarkHarness.run(run)
        let requested = Self.texts(try RandomDataset(arguments: args).buildMessages()).map { tok.count($0) }
        #expect(out.rows.count == 24)
        #expect(out.rows.allSatisfy { $0.success && $0.int("tokens_counted") == 0 })
        #expect(out.rows.compactMap { $0.int("prompt_tokens") }.sorted() == requested.sorted())
        #expect(requested.allSatisfy { (58...408).contains($0) })
    }

    // MARK: speed_benchmark

    @Test func speedBenchmarkUsesCompletionsAndWritesTheSpeedTable() throws {
        var a = BenchmarkHarness.arguments(url: nil, number: 3)
        a.prompt = nil
        a.dataset = SpeedBenchmarkDataset.name
        a.tokenizerPath = TokenizerFixtures.deepSeekPath
        a.maxTokens = 16
        a.parallel = [5]
        defer { try? FileManager.default.removeItem(atPath: a.outputsDir) }
        let report = try Benchmark.run(a) { _ in }
        #expect(report.url.hasSuffix("/v1/completions"))
        let point = try #require(report.points.first)
        #expect(report.points.count == 1 && point.parallel == 1 && point.number == 8 && point.rows == 8)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: point.directory + "/speed_benchmark.json")))
        let rows = try #require(json as? [[String: Any]])
        #expect(rows.compactMap { $0["Prompt Tokens"] as? Int } == [1, 6144, 14336, 30720])
        #expect(rows.allSatisfy { ($0["Speed(tokens/s)"] as? Double ?? 0) > 0 })
        #expect(rows.allSatisfy { $0["GPU Memory(GB)"] is NSNull })
    }

    @Test func speedBenchmarkDatasetsAreEvalscopes() throws {
        var a = RunArguments()
        a.dataset = SpeedBenchmarkDataset.longName
        let long = Self.texts(try SpeedBenchmarkDataset(arguments: a).buildMessages()).map(\.count)
        a.dataset = SpeedBenchmarkDataset.name
        let short = Self.texts(try SpeedBenchmarkDataset(arguments: a).buildMessages())
        #expect(short.map(\.count) == [1, 1, 6144, 6144, 14336, 14336, 30720, 30720])
        #expect(short.allSatisfy { $0.allSatisfy { $0 == "熵" } })
        #expect(long == [63488, 63488, 129_024, 129_024])
    }

    // MARK: token-count fallback (writer thread)

    /// Case 06 has no usage: with a tokenizer the writer counts "hello" (1 token) and "Hi there" (2 tokens,
    /// reference ids [23166, 1031] from `tokenizers`), marks the row, and TPOT uses the count.
    @Test func case06CountsTokensWithTheTokenizer() throws {
        let steps = try BenchmarkHarness.caseSteps("case-06", times: [500, 1000, 1500, 1900, 2000, 2100, 2200, 2210, 2211])
        let out = try BenchmarkHarness.replay(steps) { $0.tokenizerPath = TokenizerFixtures.deepSeekPath }
        let r = try #require(out.rows.first)
        #expect(r.success)
        #expect(r.int("prompt_tokens") == 1 && r.int("completion_tokens") == 2)
        #expect(r.int("tokens_counted") == 1)
        #expect(abs(r.tpotMillis! - 200) < 25, "TPOT \(r.tpotMillis!)")
        #expect(out.summaryJSON["Requests without token counts"] as? Int == 0)
    }

    /// Case 08 (CRLF, no usage): "Paris is the capital" is 4 tokens ([51119, 344, 270, 6102]).
    @Test func case08CountsTokensWithTheTokenizer() throws {
        let out = try BenchmarkHarness.replay(try BenchmarkHarness.caseSteps("case-08")) {
            $0.tokenizerPath = TokenizerFixtures.deepSeekPath
        }
        let r = try #require(out.rows.first)
        #expect(r.success)
        #expect(r.int("prompt_tokens") == 1 && r.int("completion_tokens") == 4)
        #expect(r.int("tokens_counted") == 1)
    }

    /// Usage from the server always wins: nothing is counted.
    @Test func usageIsNeverReplacedByACount() throws {
        let out = try BenchmarkHarness.replay(try BenchmarkHarness.caseSteps("case-02")) {
            $0.tokenizerPath = TokenizerFixtures.deepSeekPath
        }
        let r = try #require(out.rows.first)
        #expect(r.int("prompt_tokens") == 26 && r.int("completion_tokens") == 2)
        #expect(r.int("tokens_counted") == 0)
    }

    // MARK: length filter

    @Test func lengthFilterCountsTokensWithATokenizer() throws {
        let items: [DatasetItem] = [.prompt("熵熵熵熵熵熵"), .prompt("hello world"), .messages([Message(role: "user", content: "hi there friend")])]
        var a = RunArguments()
        a.minPromptLength = 3
        a.maxPromptLength = 6
        // Characters: 6, 11, 15 → only the first passes.
        #expect(try DatasetFiles.filtered(items, a, dataset: "t", path: "p") == [items[0]])
        // DeepSeek tokens: 6, 2, 3 → the first and the conversation pass.
        a.tokenizerPath = TokenizerFixtures.deepSeekPath
        #expect(try DatasetFiles.filtered(items, a, dataset: "t", path: "p") == [items[0], items[2]])
    }

    // MARK: errors

    @Test(arguments: [
        (["perf", "--tokenizer-path", "/nonexistent/tokenizer.json"], "/nonexistent/tokenizer.json"),
        (["perf", "--dataset", "random"], "--tokenizer-path"),
        (["perf", "--tokenizer-path", TokenizerFixtures.cl100kPath, "--tokenizer-kind", "tiktoken:p50k_base"], "--tokenizer-kind"),
        (["perf", "--dataset", "random", "--tokenizer-path", TokenizerFixtures.deepSeekPath, "--min-prompt-length", "9", "--max-prompt-length", "3"], "--min-prompt-length"),
    ])
    func badTokenizerInputFailsWithOneLine(_ args: [String], _ mention: String) throws {
        try CLITests.expectOneLineFailure(args, mentioning: mention)
    }

    @Test func tokenizeCommandCountsTokens() throws {
        let r = try CLITests.fastperf(["tokenize", "--tokenizer-path", TokenizerFixtures.cl100kPath, "--text", "hello world", "--ids"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("2 tokens"))
        #expect(r.stdout.contains("15339 1917"))
    }
}
