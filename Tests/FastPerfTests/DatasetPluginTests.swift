import Foundation
import Testing
@testable import FastPerf

/// Dataset plugins on temporary files: formats, length filter, cycling, errors.
/// A class suite: each test has its own instance, whose `deinit` removes the temporary files it wrote.
@Suite final class DatasetPluginTests {
    private var folders: [URL] = []

    deinit {
        for folder in folders { try? FileManager.default.removeItem(at: folder) }
    }

    /// Writes `text` to a fresh temporary file and returns its path.
    func temp(_ text: String, ext: String = "txt") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fastperf-dataset-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        folders.append(dir)
        let url = dir.appendingPathComponent("data.\(ext)")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func arguments(dataset: String, path: String?, min: Int = 0, max: Int = 131_072) -> RunArguments {
        var a = RunArguments()
        a.dataset = dataset
        a.datasetPath = path
        a.minPromptLength = min
        a.maxPromptLength = max
        return a
    }

    func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as FastPerfError {
            return error.message
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func lineByLineFormats() throws {
        let text = """
            hello world\r
              \t
            [{"role":"system","content":"s"},{"role":"user","content":"héllo"}]
            {"messages":[{"role":"user","content":"x"}],"max_tokens":3}
            [INST] plain text that starts with a bracket

            """
        let path = try temp(text)
        let items = try PluginRegistry.dataset(named: "line_by_line", arguments: arguments(dataset: "line_by_line", path: path))
            .buildMessages()
        #expect(items == [
            .prompt("hello world"),
            .messages([Message(role: "system", content: "s"), Message(role: "user", content: "héllo")]),
            .body(#"{"messages":[{"role":"user","content":"x"}],"max_tokens":3}"#),
            .prompt("[INST] plain text that starts with a bracket"),
        ])
    }

    @Test func lineByLineLengthFilterSkipsBodies() throws {
        // Lengths: "abc" 3, "abcdef" 6, messages "ab"+"cde" = 5, "é🙂x" 3 characters, body never filtered.
        let text = """
            abc
            abcdef
            [{"role":"user","content":"ab"},{"role":"user","content":"cde"}]
            é🙂x
            {"prompt":"a very very long body"}
            """
        let path = try temp(text)
        let items = try LineByLineDataset(arguments: arguments(dataset: "line_by_line", path: path, min: 3, max: 5))
            .buildMessages()
        #expect(items == [
            .prompt("abc"),
            .messages([Message(role: "user", content: "ab"), Message(role: "user", content: "cde")]),
            .prompt("é🙂x"),
            .body(#"{"prompt":"a very very long body"}"#),
        ])
    }

    @Test func lineByLineErrorsNameFileAndLine() throws {
        let path = try temp("ok line\n{\"broken\": \n")
        let m = message { _ = try LineByLineDataset(arguments: arguments(dataset: "line_by_line", path: path)).buildMessages() }
        #expect(m == "line_by_line: \(path) line 2: not a valid JSON object")

        let arrays = try temp("first\nsecond\n[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]\n")
        let m2 = message { _ = try LineByLineDataset(arguments: arguments(dataset: "line_by_line", path: arrays)).buildMessages() }
        #expect(m2?.hasPrefix("line_by_line: \(arrays) line 3: message 1 needs") == true)

        let m3 = message { _ = try LineByLineDataset(arguments: arguments(dataset: "line_by_line", path: nil)) }
        #expect(m3?.contains("--dataset-path") == true)

        let missing = "/nonexistent/fastperf/data.txt"
        let m4 = message { _ = try LineByLineDataset(arguments: arguments(dataset: "line_by_line", path: missing)).buildMessages() }
        #expect(m4 == "line_by_line: dataset file not found: \(missing)")

        let blank = try temp("\n  \n")
        let m5 = message { _ = try LineByLineDataset(arguments: arguments(dataset: "line_by_line", path: blank)).buildMessages() }
        #expect(m5 == "line_by_line: no items in dataset file \(blank)")
    }

    @Test func noItemsLeftAfterFilter() throws {
        let path = try temp("abcdef\nabcdefgh\n")
        let m = message { _ = try LineByLineDataset(arguments: arguments(dataset: "line_by_line", path: path, max: 5)).buildMessages() }
        #expect(m?.contains("no items left in \(path) after the length filter (2 read") == true)
        #expect(m?.contains("--max-prompt-length 5") == true)
    }

    @Test func openQA() throws {
        let text = """
            {"question": "  什么是量子计算？ ", "human_answers": ["..."]}

            {"question": "Why is the sky blue?", "chatgpt_answers": []}
            {"question": "hi"}
            """
        let path = try temp(text, ext: "jsonl")
        let items = try PluginRegistry.dataset(named: "openqa", arguments: arguments(dataset: "openqa", path: path, min: 3))
            .buildMessages()
        #expect(items == [.prompt("什么是量子计算？"), .prompt("Why is the sky blue?")])

        let bad = try temp("{\"question\": \"a\"}\n{\"question\": \"b\"}\n{\"q\": 1}\n")
        let m = message { _ = try OpenQADataset(arguments: arguments(dataset: "openqa", path: bad)).buildMessages() }
        #expect(m == "openqa: \(bad) line 3: no string \"question\" field")
        let broken = try temp("{\"question\": \"a\"}\nnot json\n")
        let m2 = message { _ = try OpenQADataset(arguments: arguments(dataset: "openqa", path: broken)).buildMessages() }
        #expect(m2 == "openqa: \(broken) line 2: not a valid JSON object")
    }

    @Test func longAlpaca() throws {
        let text = #"[{"instruction": "Summarise this paper.", "output": "..."}, {"instruction": "x", "file": "y"}]"#
        let path = try temp(text, ext: "json")
        let items = try PluginRegistry.dataset(named: "longalpaca", arguments: arguments(dataset: "longalpaca", path: path, min: 2))
            .buildMessages()
        #expect(items == [.prompt("Summarise this paper.")])

        let notList = try temp(#"{"instruction": "x"}"#, ext: "json")
        let m = message { _ = try LongAlpacaDataset(arguments: arguments(dataset: "longalpaca", path: notList)).buildMessages() }
        #expect(m == "longalpaca: \(notList) is not a JSON list of objects")
        let missing = try temp(#"[{"instruction": "x"}, {"input": "y"}]"#, ext: "json")
        let m2 = message { _ = try LongAlpacaDataset(arguments: arguments(dataset: "longalpaca", path: missing)).buildMessages() }
        #expect(m2 == "longalpaca: \(missing) item 2: no string \"instruction\" field")
    }

    @Test func promptOverridesDatasetAndReadsFiles() throws {
        var a = arguments(dataset: "openqa", path: nil)
        a.prompt = "Tell me a joke"
        let plugin = try PluginRegistry.dataset(named: "openqa", arguments: a)
        #expect(plugin is PromptDataset)
        #expect(try plugin.buildMessages() == [.prompt("Tell me a joke")])

        let path = try temp("line 1\nline 2\n")
        a.prompt = "@" + path
        #expect(try PluginRegistry.dataset(named: "whatever", arguments: a).buildMessages() == [.prompt("line 1\nline 2\n")])

        a.prompt = "@/nonexistent/prompt.txt"
        let m = message { _ = try PromptDataset(arguments: a).buildMessages() }
        #expect(m == "--prompt: dataset file not found: /nonexistent/prompt.txt")
    }

    @Test func unknownDatasetListsKnownNames() {
        let m = message { _ = try PluginRegistry.dataset(named: "nosuch", arguments: arguments(dataset: "nosuch", path: nil)) }
        // Other tests may register more names concurrently; every built-in is listed.
        #expect(m?.hasPrefix("unknown --dataset 'nosuch'; known: ") == true)
        for name in ["custom", "line_by_line", "longalpaca", "openqa", "random", "sharegpt", "speed_benchmark", "speed_benchmark_long"] {
            #expect(m?.contains(name) == true, "\(name) in \(m ?? "")")
        }
    }

    @Test func registerCustomDataset() throws {
        struct Fixed: DatasetPlugin {
            init(arguments: RunArguments) throws {}
            func buildMessages() throws -> [DatasetItem] { [.prompt("custom")] }
        }
        PluginRegistry.register(dataset: "writer-test-fixed") { try Fixed(arguments: $0) }
        #expect(PluginRegistry.datasetNames.contains("writer-test-fixed"))
        let items = try PluginRegistry.dataset(named: "writer-test-fixed", arguments: RunArguments()).buildMessages()
        #expect(items == [.prompt("custom")])

        struct Echo: APIPlugin {
            var defaultPath: String { "/echo" }
            func buildRequest(_ item: DatasetItem, arguments: RunArguments, path: String) throws -> APIRequest {
                APIRequest(body: [], isStream: false)
            }
            func parseResponses(_ record: RequestRecord, request: APIRequest) -> ParsedResponse { ParsedResponse() }
        }
        PluginRegistry.register(api: "writer-test-echo", Echo())
        #expect(try PluginRegistry.api(named: "writer-test-echo").defaultPath == "/echo")
    }

    @Test func cycling() {
        let items: [DatasetItem] = [.prompt("a"), .prompt("b"), .prompt("c")]
        #expect(cycledItems(items, count: 7) == [.prompt("a"), .prompt("b"), .prompt("c"), .prompt("a"), .prompt("b"), .prompt("c"), .prompt("a")])
        #expect(cycledItems(items, count: 2) == [.prompt("a"), .prompt("b")])
        #expect(cycledItems(items, count: 0).isEmpty)
        #expect(cycledItems([], count: 5).isEmpty)
    }
}
