import Foundation
import Testing
@testable import FastPerf

/// `OpenAIPlugin.buildRequest`: body shapes for chat and completions, flags, extra args, body items.
@Suite struct OpenAIPluginRequestTests {
    let plugin = OpenAIPlugin()

    func arguments(_ configure: (inout RunArguments) -> Void = { _ in }) -> RunArguments {
        var a = RunArguments()
        a.model = "qwen"
        configure(&a)
        return a
    }

    func object(_ request: APIRequest) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
    }

    @Test func defaultPath() {
        #expect(plugin.defaultPath == "/v1/chat/completions")
        #expect(OpenAIPlugin.isCompletionsPath("/v1/completions"))
        #expect(OpenAIPlugin.isCompletionsPath("/v1/completions?x=1"))
        #expect(!OpenAIPlugin.isCompletionsPath("/v1/chat/completions"))
        #expect(!OpenAIPlugin.isCompletionsPath("/v1/embeddings"))
    }

    @Test func chatPromptStreaming() throws {
        let request = try plugin.buildRequest(.prompt("你好/hi"), arguments: arguments(), path: "/v1/chat/completions")
        #expect(request.isStream)
        let text = String(decoding: request.body, as: UTF8.self)
        #expect(text.contains("你好/hi"))  // neither non-ASCII nor "/" escaped
        #expect(!text.contains(" "))  // compact
        #expect(text == #"{"max_tokens":2048,"messages":[{"content":"你好/hi","role":"user"}],"model":"qwen","stream":true,"stream_options":{"include_usage":true},"temperature":0}"#)
    }

    @Test func noStreamHasNoStreamOptionsAndOptionalFlags() throws {
        let a = arguments {
            $0.stream = false
            $0.maxTokens = nil
            $0.temperature = nil
            $0.minTokens = 5
            $0.topP = 0.9
            $0.topK = 20
            $0.seed = 7
            $0.stop = ["</s>"]
        }
        let request = try plugin.buildRequest(.prompt("x"), arguments: a, path: "/v1/chat/completions")
        #expect(!request.isStream)
        let o = try object(request)
        #expect(o["stream_options"] == nil)
        #expect(o["stream"] as? Bool == false)
        #expect(o["max_tokens"] == nil)
        #expect(o["temperature"] == nil)
        #expect(o["min_tokens"] as? Int == 5)
        #expect(o["top_p"] as? Double == 0.9)
        #expect(o["top_k"] as? Int == 20)
        #expect(o["seed"] as? Int == 7)
        #expect(o["stop"] as? [String] == ["</s>"])
    }

    @Test func completionsPathUsesPrompt() throws {
        let messages = [Message(role: "system", content: "be brief"), Message(role: "user", content: "hi")]
        let o = try object(try plugin.buildRequest(.messages(messages), arguments: arguments(), path: "/v1/completions"))
        #expect(o["prompt"] as? String == "be brief\nhi")
        #expect(o["messages"] == nil)
        let p = try object(try plugin.buildRequest(.prompt("once"), arguments: arguments(), path: "/v1/completions"))
        #expect(p["prompt"] as? String == "once")
    }

    @Test func chatMessagesKeptInOrder() throws {
        let messages = [Message(role: "system", content: "s"), Message(role: "user", content: "u")]
        let o = try object(try plugin.buildRequest(.messages(messages), arguments: arguments(), path: "/v1/chat/completions"))
        let sent = try #require(o["messages"] as? [[String: String]])
        #expect(sent == [["role": "system", "content": "s"], ["role": "user", "content": "u"]])
    }

    @Test func extraArgsOverrideLast() throws {
        let a = arguments { $0.extraArgs = #"{"ignore_eos": true, "max_tokens": 10, "stream": false}"# }
        let request = try plugin.buildRequest(.prompt("x"), arguments: a, path: "/v1/chat/completions")
        let o = try object(request)
        #expect(o["ignore_eos"] as? Bool == true)
        #expect(o["max_tokens"] as? Int == 10)
        #expect(!request.isStream)
        #expect(o["stream_options"] == nil)
    }

    @Test func bodyItemKeepsItsOwnKeys() throws {
        let body = #"{"messages":[{"role":"user","content":"b"}],"max_tokens":7,"temperature":0.5,"stream":false,"custom":[1,2]}"#
        let a = arguments { $0.topK = 3 }
        let request = try plugin.buildRequest(.body(body), arguments: a, path: "/v1/chat/completions")
        let o = try object(request)
        #expect(o["max_tokens"] as? Int == 7)
        #expect(o["temperature"] as? Double == 0.5)
        #expect(o["stream"] as? Bool == false)
        #expect(!request.isStream)
        #expect(o["stream_options"] == nil)
        #expect(o["model"] as? String == "qwen")  // filled: the body lacks it
        #expect(o["top_k"] as? Int == 3)
        #expect(o["custom"] as? [Int] == [1, 2])
        // On a completions path a body is still sent as is.
        let c = try object(try plugin.buildRequest(.body(body), arguments: a, path: "/v1/completions"))
        #expect(c["prompt"] == nil)
        #expect(c["messages"] != nil)
    }

    @Test func badExtraArgsAndBodiesThrow() {
        #expect(throws: FastPerfError.self) {
            try plugin.buildRequest(.prompt("x"), arguments: arguments { $0.extraArgs = "{ignore_eos: true" }, path: "/v1/chat/completions")
        }
        #expect(throws: FastPerfError.self) {
            try plugin.buildRequest(.prompt("x"), arguments: arguments { $0.extraArgs = "[1,2]" }, path: "/v1/chat/completions")
        }
        #expect(throws: FastPerfError.self) {
            try plugin.buildRequest(.body("{broken"), arguments: arguments(), path: "/v1/chat/completions")
        }
        do {
            _ = try plugin.buildRequest(.prompt("x"), arguments: arguments { $0.extraArgs = "{oops\n" }, path: "/v1/chat/completions")
            Issue.record("expected a throw")
        } catch let error as FastPerfError {
            #expect(error.message.hasPrefix("--extra-args is not valid JSON"))
            #expect(!error.message.contains("\n"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func registryKnowsOpenAI() throws {
        #expect(try PluginRegistry.api(named: "openai") is OpenAIPlugin)
        do {
            _ = try PluginRegistry.api(named: "nope")
            Issue.record("expected a throw")
        } catch let error as FastPerfError {
            #expect(error.message.contains("nope"))
            #expect(error.message.contains("openai"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
