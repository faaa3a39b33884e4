import Foundation
import Testing
@testable import FastPerf

/// The `sharegpt` and `custom` datasets, `--dataset-args` and `--dataset-offset`, on temporary files.
@Suite struct ShareGPTCustomDatasetTests {
    /// Writes `text` to a fresh temporary file and returns its path.
    func temp(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fastperf-ds-\(UUID().uuidString).json")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func items(_ dataset: String, _ text: String, _ configure: (inout RunArguments) -> Void = { _ in }) throws -> [DatasetItem] {
        var a = RunArguments()
        a.dataset = dataset
        a.datasetPath = try temp(text)
        configure(&a)
        defer { try? FileManager.default.removeItem(atPath: a.datasetPath!) }
        return try PluginRegistry.dataset(named: dataset, arguments: a).buildMessages()
    }

    /// The message of the `FastPerfError` `body` throws (an issue is recorded when it throws none).
    func message(_ body: () throws -> Void) -> String? {
        (#expect(throws: FastPerfError.self, performing: body))?.message
    }

    /// Four ShareGPT conversations: a normal one (system turn first), one without a human turn, one whose
    /// human turn has no reply, and one in `role`/`content` form. Replies: 13 and 7 characters.
    static let shareGPT = """
        [
          {"id": "a", "conversations": [{"from": "system", "value": "You are kind."}, {"from": "human", "value": "Tell me a joke"},
                                        {"from": "gpt", "value": "Why? Because."}, {"from": "human", "value": "Another"}]},
          {"id": "b", "conversations": [{"from": "gpt", "value": "unprompted"}]},
          {"id": "c", "conversations": [{"from": "human", "value": "No reply here"}]},
          {"id": "d", "conversations": [{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello!!"}]}
        ]
        """

    @Test func shareGPTFirstHumanTurn() throws {
        #expect(try items("sharegpt", Self.shareGPT) == [.prompt("Tell me a joke"), .prompt("No reply here"), .prompt("Hi there")])
    }

    @Test func shareGPTOutputLengthFromReply() throws {
        // "Why? Because." is 13 characters: 13 / 3 = 4.33 → 4; "Hello!!" 7 / 3 = 2.33 → 2. "c" has no reply: skipped.
        #expect(try items("sharegpt", Self.shareGPT) { $0.datasetArgs = #"{"output_from_reply": true}"# }
            == [.withMaxTokens(.prompt("Tell me a joke"), 4), .withMaxTokens(.prompt("Hi there"), 2)])
        // chars_per_token 2: 13 / 2 = 6.5 → 7 (rounded half away from zero), 7 / 2 = 3.5 → 4.
        #expect(try items("sharegpt", Self.shareGPT) { $0.datasetArgs = #"{"output_from_reply": true, "chars_per_token": 2}"# }
            == [.withMaxTokens(.prompt("Tell me a joke"), 7), .withMaxTokens(.prompt("Hi there"), 4)])
    }

    @Test func shareGPTJSONLinesFilterAndOffset() throws {
        let jsonl = """
            {"conversations": [{"from": "human", "value": "one"}]}
            {"conversations": [{"from": "human", "value": "three"}]}

            {"conversations": [{"from": "human", "value": "fiftyfive"}]}
            """
        #expect(try items("sharegpt", jsonl) { $0.maxPromptLength = 5 } == [.prompt("one"), .prompt("three")])
        #expect(try items("sharegpt", jsonl) { $0.datasetOffset = 1 } == [.prompt("three"), .prompt("fiftyfive"), .prompt("one")])
        #expect(try items("sharegpt", jsonl) { $0.datasetOffset = 4 } == [.prompt("three"), .prompt("fiftyfive"), .prompt("one")])
    }

    @Test func shareGPTBadInput() throws {
        #expect(message { _ = try items("sharegpt", #"[{"id": 1}]"#) }?.hasSuffix(#" item 1: not an object with a "conversations" list"#) == true)
        #expect(message { _ = try items("sharegpt", "{\"conversations\": []}\nnot json") }?.hasSuffix(" line 2: not valid JSON") == true)
        #expect(message { _ = try items("sharegpt", Self.shareGPT) { $0.datasetArgs = #"{"output_len": 5}"# } }
            == "--dataset-args: dataset 'sharegpt' has no option 'output_len' (known: chars_per_token, output_from_reply)")
        #expect(message { _ = try items("sharegpt", Self.shareGPT) { $0.datasetArgs = #"{"chars_per_token": 0}"# } }
            == "--dataset-args: chars_per_token must be a number greater than 0")
        #expect(message { _ = try items("sharegpt", Self.shareGPT) { $0.datasetArgs = "[]" } } == "--dataset-args must be a JSON object, got: []")
        #expect(message { _ = try items("sharegpt", #"[{"conversations": [{"from": "gpt", "value": "x"}]}]"#) }?.contains("no items in dataset file") == true)
    }

    @Test func customJSONLMessages() throws {
        let text = """
            {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hello"}]}
            [{"role": "user", "content": "bare array"}]
            {"messages": [{"role": "user", "content": "short"}], "max_tokens": 16}
            """
        #expect(try items("custom", text) == [
            .messages([Message(role: "system", content: "s"), Message(role: "user", content: "hello")]),
            .messages([Message(role: "user", content: "bare array")]),
            .withMaxTokens(.messages([Message(role: "user", content: "short")]), 16),
        ])
        // Length filter on the contents' characters: 6, 10, 5.
        #expect(try items("custom", text) { $0.minPromptLength = 6; $0.maxPromptLength = 6 }
            == [.messages([Message(role: "system", content: "s"), Message(role: "user", content: "hello")])])
    }

    @Test func customBadInput() throws {
        #expect(message { _ = try items("custom", #"{"prompt": "x"}"#) }?.hasSuffix(#"line 1: expected {"messages": [...]} or a messages array"#) == true)
        #expect(message { _ = try items("custom", #"{"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}"#) }?
            .hasSuffix("line 1: max_tokens must be a positive integer") == true)
        #expect(message { _ = try items("custom", #"{"messages": [{"role": "user"}]}"#) }?.contains("message 1 needs string \"role\" and \"content\"") == true)
        #expect(message { _ = try items("custom", #"[{"role": "user", "content": "x"}]"#) { $0.datasetArgs = #"{"a": 1}"# } }
            == "--dataset-args: dataset 'custom' has no option 'a' (it takes none)")
        #expect(message { _ = try items("openqa", #"{"question": "q"}"#) { $0.datasetArgs = #"{"a": 1}"# } }
            == "--dataset-args: dataset 'openqa' has no option 'a' (it takes none)")
    }

    @Test func datasetOffsetRotates() {
        let items: [DatasetItem] = [.prompt("a"), .prompt("b"), .prompt("c")]
        #expect(DatasetFiles.rotated(items, by: 0) == items)
        #expect(DatasetFiles.rotated(items, by: 2) == [.prompt("c"), .prompt("a"), .prompt("b")])
        #expect(DatasetFiles.rotated(items, by: 3) == items)
        #expect(DatasetFiles.rotated([], by: 2).isEmpty)
    }

    @Test func datasetItemViews() {
        let m = DatasetItem.withMaxTokens(.messages([Message(role: "user", content: "a"), Message(role: "user", content: "b")]), 9)
        #expect(m.maxTokens == 9)
        #expect(m.promptText == "a\nb")
        #expect(m.base == .messages([Message(role: "user", content: "a"), Message(role: "user", content: "b")]))
        #expect(DatasetItem.prompt("p").messages == [Message(role: "user", content: "p")])
        #expect(DatasetItem.body("{}").messages == nil && DatasetItem.body("{}").maxTokens == nil)
        #expect(DatasetFiles.promptLength(m) == 2)
    }
}
