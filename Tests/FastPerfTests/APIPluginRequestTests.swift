import Foundation
import Testing
@testable import FastPerf

/// The request side of every API plugin (bodies and headers as each API documents them), `--query-template`
/// and the URL defaults, with exact expected bodies.
@Suite struct APIPluginRequestTests {
    static func arguments(_ configure: (inout RunArguments) -> Void = { _ in }) -> RunArguments {
        var a = RunArguments()
        a.model = "m1"
        configure(&a)
        return a
    }

    /// The request body as a JSON object.
    static func object(_ request: APIRequest) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
    }

    /// The request body as text (keys sorted, compact).
    static func text(_ request: APIRequest) -> String { String(decoding: request.body, as: UTF8.self) }

    static let conversation: DatasetItem = .messages([
        Message(role: "system", content: "Be brief."), Message(role: "user", content: "Hi"),
        Message(role: "assistant", content: "Hello"), Message(role: "user", content: "Name a fox"),
    ])

    // MARK: - per API

    @Test func anthropicBodyAndHeaders() throws {
        let plugin = AnthropicPlugin()
        let r = try plugin.buildRequest(Self.conversation, arguments: Self.arguments { $0.stop = ["\n\n"]; $0.topK = 5 }, path: "/v1/messages")
        #expect(Self.text(r) == #"{"max_tokens":2048,"messages":[{"content":"Hi","role":"user"},{"content":"Hello","role":"assistant"},{"content":"Name a fox","role":"user"}],"model":"m1","stop_sequences":["\n\n"],"stream":true,"system":"Be brief.","temperature":0,"top_k":5}"#)
        #expect(r.isStream)
        #expect(r.headers.map { "\($0.0): \($0.1)" } == ["anthropic-version: 2023-06-01"])
        #expect(plugin.authorizationHeaders(apiKey: "k").map { "\($0.0): \($0.1)" } == ["x-api-key: k"])
        // A version given with --headers is not sent twice.
        let own = try plugin.buildRequest(.prompt("x"), arguments: Self.arguments { $0.headers = ["Anthropic-Version": "2024-01-01"] }, path: "/v1/messages")
        #expect(own.headers.isEmpty)
    }

    @Test func dashScopeNativeBody() throws {
        let plugin = DashScopePlugin()
        let r = try plugin.buildRequest(.prompt("你好"), arguments: Self.arguments { $0.seed = 7; $0.extraArgs = #"{"enable_thinking":false}"# }, path: plugin.defaultPath)
        #expect(Self.text(r) == #"{"input":{"messages":[{"content":"你好","role":"user"}]},"model":"m1","parameters":{"enable_thinking":false,"incremental_output":true,"max_tokens":2048,"result_format":"message","seed":7,"temperature":0}}"#)
        #expect(r.headers.map { "\($0.0): \($0.1)" } == ["X-DashScope-SSE: enable"])
        #expect(r.isStream && DashScopePlugin.isIncremental(r))
        let plain = try plugin.buildRequest(.prompt("x"), arguments: Self.arguments { $0.stream = false }, path: plugin.defaultPath)
        #expect(plain.headers.isEmpty && !plain.isStream)
        #expect(try Self.object(plain)["parameters"].flatMap { ($0 as? [String: Any])?["incremental_output"] } == nil)
        #expect(plugin.authorizationHeaders(apiKey: "k").map { "\($0.0): \($0.1)" } == ["Authorization: Bearer k"])
    }

    @Test func responsesBody() throws {
        let plugin = OpenAIResponsesPlugin()
        let a = Self.arguments { $0.topK = 3; $0.seed = 1; $0.stop = ["x"]; $0.topP = 0.5 }
        let p = try plugin.buildRequest(.prompt("Hi"), arguments: a, path: "/v1/responses")
        #expect(Self.text(p) == #"{"input":"Hi","max_output_tokens":2048,"model":"m1","stream":true,"temperature":0,"top_p":0.5}"#)
        let m = try plugin.buildRequest(.messages([Message(role: "user", content: "Hi")]), arguments: a, path: "/v1/responses")
        #expect(Self.text(m) == #"{"input":[{"content":"Hi","role":"user"}],"max_output_tokens":2048,"model":"m1","stream":true,"temperature":0,"top_p":0.5}"#)
    }

    @Test func embeddingAndRerankBodies() throws {
        let a = Self.arguments { $0.extraArgs = #"{"dimensions":256}"# }
        let e = try OpenAIEmbeddingPlugin().buildRequest(.prompt("a cat"), arguments: a, path: "/v1/embeddings")
        #expect(Self.text(e) == #"{"dimensions":256,"input":"a cat","model":"m1"}"#)
        #expect(!e.isStream)
        let batch = try OpenAIEmbeddingPlugin().buildRequest(.messages([Message(role: "user", content: "a"), Message(role: "user", content: "b")]),
                                                             arguments: Self.arguments(), path: "/v1/embeddings")
        #expect(Self.text(batch) == #"{"input":["a","b"],"model":"m1"}"#)

        let rerank = OpenAIRerankPlugin()
        let q = try rerank.buildRequest(.messages([Message(role: "user", content: "capital of France?"), Message(role: "user", content: "Paris"),
                                                   Message(role: "user", content: "Brasilia")]), arguments: Self.arguments(), path: "/v1/rerank")
        #expect(Self.text(q) == #"{"documents":["Paris","Brasilia"],"model":"m1","query":"capital of France?"}"#)
        let single = try rerank.buildRequest(.prompt("hello"), arguments: Self.arguments(), path: "/v1/rerank")
        #expect(Self.text(single) == #"{"documents":["hello"],"model":"m1","query":"hello"}"#)
        let body = try rerank.buildRequest(.body(#"{"query":"q","documents":["d1","d2"],"top_n":1}"#), arguments: Self.arguments(), path: "/v1/rerank")
        #expect(Self.text(body) == #"{"documents":["d1","d2"],"model":"m1","query":"q","top_n":1}"#)
    }

    @Test func datasetFixedOutputLengthWinsEverywhere() throws {
        let item = DatasetItem.withMaxTokens(.prompt("x"), 77)
        let a = Self.arguments { $0.maxTokens = 10 }
        #expect(try Self.object(OpenAIPlugin().buildRequest(item, arguments: a, path: "/v1/chat/completions"))["max_tokens"] as? Int == 77)
        #expect(try Self.object(OpenAIResponsesPlugin().buildRequest(item, arguments: a, path: ""))["max_output_tokens"] as? Int == 77)
        #expect(try Self.object(AnthropicPlugin().buildRequest(item, arguments: a, path: ""))["max_tokens"] as? Int == 77)
        let ds = try Self.object(DashScopePlugin().buildRequest(item, arguments: a, path: ""))
        #expect((ds["parameters"] as? [String: Any])?["max_tokens"] as? Int == 77)
        #expect(try Self.object(CustomAPIPlugin().buildRequest(item, arguments: a, path: ""))["max_tokens"] as? Int == 77)
        // Over a whole body's own max_tokens too.
        let body = DatasetItem.withMaxTokens(.body(#"{"messages":[],"max_tokens":5}"#), 77)
        #expect(try Self.object(OpenAIPlugin().buildRequest(body, arguments: a, path: "/v1/chat/completions"))["max_tokens"] as? Int == 77)
    }

    @Test func registryNamesEveryAPI() throws {
        let expected: [(String, String)] = [
            ("openai", "OpenAIPlugin"), ("openai_embedding", "OpenAIEmbeddingPlugin"), ("embedding", "OpenAIEmbeddingPlugin"),
            ("openai_rerank", "OpenAIRerankPlugin"), ("rerank", "OpenAIRerankPlugin"), ("openai_responses", "OpenAIResponsesPlugin"),
            ("openai_response", "OpenAIResponsesPlugin"), ("responses", "OpenAIResponsesPlugin"), ("dashscope", "DashScopePlugin"),
            ("anthropic", "AnthropicPlugin"), ("custom", "CustomAPIPlugin"),
        ]
        for (name, type) in expected {
            #expect("\(Swift.type(of: try PluginRegistry.api(named: name)))" == type, "\(name)")
        }
    }

    // MARK: - --query-template

    static let template = #"{"model": "%m", "messages": [{"role": "user", "content": "%p"}], "stream": false, "temperature": 0.7, "max_tokens": 1024, "skip_special_tokens": false, "stop": ["<|im_end|>"]}"#

    @Test func queryTemplateFieldsWinOverFlagDefaults() throws {
        let a = Self.arguments { $0.queryTemplate = Self.template; $0.topK = 20; $0.prompt = "What is TTFT?" }
        let items = try PluginCall.items(a)
        let r = try OpenAIPlugin().buildRequest(items[0], arguments: a, path: "/v1/chat/completions")
        #expect(Self.text(r) == #"{"max_tokens":1024,"messages":[{"content":"What is TTFT?","role":"user"}],"model":"m1","skip_special_tokens":false,"stop":["<|im_end|>"],"stream":false,"temperature":0.7,"top_k":20}"#)
        #expect(!r.isStream)
        // --extra-args is still merged last.
        let b = Self.arguments { $0.queryTemplate = Self.template; $0.prompt = "p"; $0.extraArgs = #"{"temperature":0.1}"# }
        #expect(try Self.object(OpenAIPlugin().buildRequest(try PluginCall.items(b)[0], arguments: b, path: "/v1/chat/completions"))["temperature"] as? Double == 0.1)
    }

    @Test func queryTemplateSubstitution() throws {
        let t = try #require(try QueryTemplate(arguments: Self.arguments { $0.queryTemplate = #"{"model":"%m","prompt":"Q: %p\nA:","meta":{"tags":["%m"]}}"# }))
        let item = try t.apply(.prompt("2+2?"), model: "qwen")
        #expect(item == .body(#"{"meta":{"tags":["qwen"]},"model":"qwen","prompt":"Q: 2+2?\nA:"}"#))
        // A conversation replaces a `messages` array that holds %p; elsewhere %p is the joined text.
        let chat = try #require(try QueryTemplate(arguments: Self.arguments { $0.queryTemplate = Self.template }))
        let conv = try chat.apply(.messages([Message(role: "user", content: "a"), Message(role: "assistant", content: "b"), Message(role: "user", content: "c")]), model: "m")
        guard case .body(let json) = conv else { Issue.record("not a body"); return }
        #expect(json.contains(#""messages":[{"content":"a","role":"user"},{"content":"b","role":"assistant"},{"content":"c","role":"user"}]"#))
        // DashScope's nested input.messages, and a dataset-fixed length kept.
        let ds = try #require(try QueryTemplate(arguments: Self.arguments {
            $0.queryTemplate = #"{"model":"%m","input":{"messages":[{"role":"user","content":"%p"}]},"parameters":{"temperature":0.9}}"#
        }))
        let rendered = try ds.apply(.withMaxTokens(.prompt("hi"), 12), model: "qwen-plus")
        #expect(rendered.maxTokens == 12)
        let r = try DashScopePlugin().buildRequest(rendered, arguments: Self.arguments(), path: "")
        #expect(Self.text(r) == #"{"input":{"messages":[{"content":"hi","role":"user"}]},"model":"qwen-plus","parameters":{"incremental_output":true,"max_tokens":12,"result_format":"message","temperature":0.9}}"#)
    }

    @Test func queryTemplateFromFileAndBadTemplates() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("qt-\(UUID().uuidString).json").path
        try Data(#"{"model":"%m","input":"%p"}"#.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let t = try #require(try QueryTemplate(arguments: Self.arguments { $0.queryTemplate = "@" + path }))
        #expect(try t.apply(.prompt("x"), model: "m") == .body(#"{"input":"x","model":"m"}"#))
        #expect(try QueryTemplate(arguments: Self.arguments()) == nil)

        let bad = #expect(throws: FastPerfError.self) { try QueryTemplate(arguments: Self.arguments { $0.queryTemplate = "{oops" }) }
        #expect(bad?.message == "--query-template is not valid JSON: {oops")
        let list = #expect(throws: FastPerfError.self) { try QueryTemplate(arguments: Self.arguments { $0.queryTemplate = "[1]" }) }
        #expect(list?.message == "--query-template must be a JSON object, got: [1]")
        let missing = #expect(throws: FastPerfError.self) { try QueryTemplate(arguments: Self.arguments { $0.queryTemplate = "@/nonexistent/t.json" }) }
        #expect(missing?.message == "--query-template: dataset file not found: /nonexistent/t.json")
    }

    // MARK: - URL defaults

    @Test(arguments: [
        ("anthropic", "http://h:1/v1", "/v1/messages"),
        ("anthropic", "http://h:1", "/v1/messages"),
        ("dashscope", "http://h:1", "/api/v1/services/aigc/text-generation/generation"),
        ("dashscope", "http://h:1/compatible/api", "/compatible/api"),
        ("openai_embedding", "http://h:1/v1/", "/v1/embeddings"),
        ("rerank", "http://h:1/v1/rerank", "/v1/rerank"),
        ("responses", "http://h:1/openai/v1", "/openai/v1/responses"),
        ("openai", "http://h:1/v1", "/v1/chat/completions"),
        ("openai", "http://h:1/v1/completions", "/v1/completions"),
    ])
    func urlDefaultsFollowTheAPI(_ api: String, _ url: String, _ path: String) throws {
        let plugin = try PluginRegistry.api(named: api)
        #expect(try Benchmark.parseURL(url, defaultPath: plugin.defaultPath, log: { _ in }).target == path)
    }
}
