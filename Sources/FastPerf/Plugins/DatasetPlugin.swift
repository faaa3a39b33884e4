import Foundation

/// A dataset plugin: turns `--dataset-path` (or `--prompt`) into the items requests are built from,
/// before the run (evalscope's `DatasetPluginBase.build_messages`). Registered by name in `PluginRegistry`.
public protocol DatasetPlugin {
    /// Validates the arguments this dataset needs (e.g. `--dataset-path`); reads nothing yet.
    /// - Throws: `FastPerfError` with a one-line message.
    init(arguments: RunArguments) throws
    /// Loads and filters every item, in file order.
    /// - Throws: `FastPerfError` naming the file (and line or item) for unreadable input, or when no item
    ///   is left after the length filter.
    func buildMessages() throws -> [DatasetItem]
}

/// The dataset cycled round-robin to exactly `count` items (evalscope's `get_requests`: when `--number`
/// exceeds the dataset, it starts over). Empty when `items` is empty or `count ≤ 0`.
public func cycledItems(_ items: [DatasetItem], count: Int) -> [DatasetItem] {
    guard !items.isEmpty, count > 0 else { return [] }
    if count <= items.count { return Array(items.prefix(count)) }
    var out: [DatasetItem] = []
    out.reserveCapacity(count)
    for i in 0..<count { out.append(items[i % items.count]) }
    return out
}

/// The file a file-based dataset plugin reads (`--dataset-path`), with the run's arguments and its
/// `--dataset-args`, checked when the plugin is made.
struct DatasetFile {
    /// The registered dataset name, for messages.
    let dataset: String
    /// The run's arguments.
    let arguments: RunArguments
    /// `--dataset-path`.
    let path: String
    /// The `--dataset-args` object (only keys the dataset accepts).
    let options: [String: Any]

    /// - Throws: `FastPerfError` when `--dataset-path` is missing or `--dataset-args` holds a key not in `options`.
    init(_ arguments: RunArguments, dataset: String, options allowed: Set<String> = []) throws {
        self.dataset = dataset
        self.arguments = arguments
        path = try DatasetFiles.requirePath(arguments, dataset: dataset)
        options = try DatasetFiles.datasetArgs(arguments, dataset: dataset, allowed: allowed)
    }

    /// `"dataset: path"`, the start of every message about the file.
    var location: String { "\(dataset): \(path)" }

    /// The file's text (`DatasetFiles.readText`).
    func text() throws -> String { try DatasetFiles.readText(path, dataset: dataset) }

    /// The non-blank lines of `text` (this file's JSON Lines), each parsed, numbered from 1.
    /// - Throws: `FastPerfError` naming the file and line for a line that is not valid JSON.
    func jsonLines(_ text: String) throws -> [(number: Int, value: Any)] {
        try DatasetFiles.numberedLines(text).compactMap { number, raw in
            if raw.allSatisfy(\.isWhitespace) { return nil }
            guard let value = DatasetFiles.json(raw) else { throw FastPerfError("\(location) line \(number): not valid JSON") }
            return (number, value)
        }
    }

    /// `items` after the length filter and `--dataset-offset` (`DatasetFiles.filtered`).
    func filtered(_ items: [DatasetItem]) throws -> [DatasetItem] {
        try DatasetFiles.filtered(items, arguments, dataset: dataset, path: path)
    }
}

/// Shared helpers of the file-based dataset plugins.
enum DatasetFiles {
    /// `path`'s contents as UTF-8 text.
    /// - Throws: `FastPerfError` for a missing, unreadable or non-UTF-8 file.
    static func readText(_ path: String, dataset: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FastPerfError("\(dataset): dataset file not found: \(path)")
        }
        guard !isDirectory.boolValue else {
            throw FastPerfError("\(dataset): dataset path is a directory, expected a file: \(path)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw FastPerfError("\(dataset): cannot read dataset file \(path): \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw FastPerfError("\(dataset): dataset file is not UTF-8 text: \(path)")
        }
        return text
    }

    /// `--dataset-path`, or a `FastPerfError` saying the dataset needs one.
    static func requirePath(_ arguments: RunArguments, dataset: String) throws -> String {
        guard let path = arguments.datasetPath, !path.isEmpty else {
            throw FastPerfError("dataset '\(dataset)' needs --dataset-path (FastPerf does not download datasets); or give --prompt TEXT")
        }
        return path
    }

    /// Lines of `text` split on LF or CRLF, numbered from 1. (In Swift, CRLF is one `Character`, so a
    /// plain split on `"\n"` would leave CRLF files unsplit.)
    static func numberedLines(_ text: String) -> [(number: Int, text: Substring)] {
        var out: [(Int, Substring)] = []
        var n = 0
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            n += 1
            out.append((n, line))
        }
        return out
    }

    /// Prompt length as evalscope's `check_prompt_length`: tokens when a tokenizer is given
    /// (`--tokenizer-path`; no chat template), characters (Swift `String.count`) otherwise; the prompt
    /// itself or the sum over the messages' contents; nil for bodies (never filtered).
    static func promptLength(_ item: DatasetItem, tokenizer: Tokenizer? = nil) -> Int? {
        item.promptTexts?.reduce(0) { $0 + (tokenizer?.count($1) ?? $1.count) }
    }

    /// Whether `item` passes `--min-prompt-length ≤ length ≤ --max-prompt-length` (see `promptLength`).
    static func passesLengthFilter(_ item: DatasetItem, _ arguments: RunArguments, tokenizer: Tokenizer? = nil) -> Bool {
        guard let n = promptLength(item, tokenizer: tokenizer) else { return true }
        return arguments.minPromptLength <= n && n <= arguments.maxPromptLength
    }

    /// `items` after the length filter (in tokens with `--tokenizer-path`, else characters), rotated by
    /// `--dataset-offset` (see `rotated`).
    /// - Throws: `FastPerfError` when nothing is left (naming the file and the bounds), or when the
    ///   tokenizer cannot be loaded.
    static func filtered(_ items: [DatasetItem], _ arguments: RunArguments, dataset: String, path: String) throws
        -> [DatasetItem]
    {
        guard !items.isEmpty else { throw FastPerfError("\(dataset): no items in dataset file \(path)") }
        let tokenizer = try Tokenizer.forRun(arguments)
        let kept = items.filter { passesLengthFilter($0, arguments, tokenizer: tokenizer) }
        guard !kept.isEmpty else {
            throw FastPerfError(
                "\(dataset): no items left in \(path) after the length filter (\(items.count) read; "
                    + "--min-prompt-length \(arguments.minPromptLength), --max-prompt-length "
                    + "\(arguments.maxPromptLength) \(tokenizer == nil ? "characters" : "tokens"))")
        }
        return rotated(kept, by: arguments.datasetOffset)
    }

    /// `items` rotated left by `offset` modulo their count: the run starts at item `offset` (0-based) and
    /// wraps around to the skipped ones when `--number` needs more (evalscope's `--dataset-offset` rotation).
    static func rotated(_ items: [DatasetItem], by offset: Int) -> [DatasetItem] {
        guard !items.isEmpty, offset > 0 else { return items }
        let k = offset % items.count
        return Array(items[k...] + items[..<k])
    }

    /// The `--dataset-args` object, checked against the keys `dataset` accepts (evalscope validates it with the
    /// plugin's `args_schema` and rejects unknown keys); empty when the flag is absent.
    /// - Throws: `FastPerfError` for text that is not a JSON object or an unknown key.
    static func datasetArgs(_ arguments: RunArguments, dataset: String, allowed: Set<String>) throws -> [String: Any] {
        guard let text = arguments.datasetArgs, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return [:] }
        let object = try RequestBody.object(text, what: "--dataset-args")
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            let known = allowed.isEmpty ? "it takes none" : "known: " + allowed.sorted().joined(separator: ", ")
            throw FastPerfError("--dataset-args: dataset '\(dataset)' has no option '\(unknown)' (\(known))")
        }
        return object
    }

    /// Parses one JSON value, or nil when `text` is not JSON.
    static func json(_ text: Substring) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }
}
