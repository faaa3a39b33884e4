import Foundation
import Testing
@testable import FastPerf

/// Plugins that throw: before the run a one-line `FastPerfError` that stops it (nothing is sent), on the
/// writer thread a failed row with the message while the run goes on; and the new flags' bad values, through
/// the `fastperf` executable, fail before the run with one line.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct PluginFailureTests {
    struct Boom: Error, CustomStringConvertible {
        var description: String { "boom\nsecond line" }
    }

    /// Builds like `openai` but throws for the third request.
    struct ThrowingBuild: APIPlugin {
        var defaultPath: String { "/v1/chat/completions" }
        func buildRequest(_ item: DatasetItem, arguments: RunArguments, path: String) throws -> APIRequest {
            if case .prompt("c") = item { throw Boom() }
            return try OpenAIPlugin().buildRequest(item, arguments: arguments, path: path)
        }
        func parseResponses(_ record: RequestRecord, request: APIRequest) -> ParsedResponse { ParsedResponse() }
    }

    /// Builds like `openai`; reading throws for every response whose request asked for 3 tokens.
    struct ThrowingParse: APIPlugin {
        var defaultPath: String { "/v1/chat/completions" }
        func buildRequest(_ item: DatasetItem, arguments: RunArguments, path: String) throws -> APIRequest {
            try OpenAIPlugin().buildRequest(item, arguments: arguments, path: path)
        }
        func parseResponses(_ record: RequestRecord, request: APIRequest) throws -> ParsedResponse {
            if String(decoding: request.body, as: UTF8.self).contains(#""max_tokens":3"#) { throw Boom() }
            return OpenAIPlugin().parseResponses(record, request: request)
        }
    }

    struct ThrowingDataset: DatasetPlugin {
        init(arguments: RunArguments) throws {}
        func buildMessages() throws -> [DatasetItem] { throw Boom() }
    }

    @Test func buildRequestThrowingStopsTheRunWithOneLine() throws {
        PluginRegistry.register(api: "test-throwing-build", ThrowingBuild())
        PluginRegistry.register(dataset: "test-abc") { _ in
            struct ABC: DatasetPlugin {
                init(arguments: RunArguments) throws {}
                func buildMessages() throws -> [DatasetItem] { [.prompt("a"), .prompt("b"), .prompt("c")] }
            }
            return try ABC(arguments: RunArguments())
        }
        try BenchmarkHarness.withMockServer { port in
            var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(port)/v1/chat/completions", number: 3)
            args.api = "test-throwing-build"
            args.prompt = nil
            args.dataset = "test-abc"
            let error = #expect(throws: FastPerfError.self) { try Benchmark.run(args) { _ in } }
            #expect(error?.message == "--api test-throwing-build: cannot build request 3: boom second line")
            #expect(!FileManager.default.fileExists(atPath: args.outputsDir))
        }
    }

    @Test func datasetThrowingStopsTheRunWithOneLine() throws {
        PluginRegistry.register(dataset: "test-throwing") { try ThrowingDataset(arguments: $0) }
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:9/v1/chat/completions")
        args.prompt = nil
        args.dataset = "test-throwing"
        let error = #expect(throws: FastPerfError.self) { try Benchmark.run(args) { _ in } }
        #expect(error?.message == "dataset 'test-throwing': boom second line")
    }

    @Test func parseThrowingGivesFailedRowsAndTheRunGoesOn() throws {
        PluginRegistry.register(api: "test-throwing-parse", ThrowingParse())
        try BenchmarkHarness.withMockServer { port in
            var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(port)/v1/chat/completions", parallel: 2, number: 4)
            args.api = "test-throwing-parse"
            args.maxTokens = 3
            let out = try BenchmarkHarness.run(args)
            #expect(out.rows.count == 4)
            for r in out.rows {
                #expect(r.outcome == "protocol_error")
                #expect(r.int("http_status") == 200)
                #expect(r.text("error") == "API plugin ThrowingParse could not read the response: boom second line")
            }
        }
    }

    @Test(arguments: [
        (["perf", "--db-format", "sqlite"], "--db-format must be json or pickle (got sqlite)"),
        (["perf", "--dataset-offset=-1"], "--dataset-offset must not be negative"),
        (["perf", "--query-template", "{oops", "--url", "http://127.0.0.1:9", "--prompt", "hi"], "--query-template is not valid JSON"),
        (["perf", "--url", "http://127.0.0.1:9", "--dataset", "sharegpt", "--dataset-path", "/nonexistent.json"], "/nonexistent.json"),
        (["perf", "--url", "http://127.0.0.1:9", "--dataset", "custom", "--dataset-path", "/x.jsonl", "--dataset-args", "{\"k\": 1}"],
         "dataset 'custom' has no option 'k'"),
        (["perf", "--api", "anthropic", "--url", "http://127.0.0.1:9/v1/messages", "--prompt", "hi"], "cannot connect"),
    ])
    func badPluginFlagsFailWithOneLine(_ args: [String], _ mention: String) throws {
        try CLITests.expectOneLineFailure(args, mentioning: mention)
    }
}
