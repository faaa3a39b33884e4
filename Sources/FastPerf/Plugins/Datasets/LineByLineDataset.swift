import Foundation

/// `line_by_line` (evalscope `line_by_line.py`): one item per non-empty line of `--dataset-path`.
/// - a line starting with `{` is a whole request body (a JSON object; flags only fill keys it lacks);
/// - a line that is a JSON array is a conversation: `[{"role": …, "content": "…"}, …]`;
/// - anything else (including a line that starts with `[` but is not JSON, e.g. `[INST] …`) is a prompt,
///   trimmed of surrounding whitespace.
/// Prompts and conversations pass the `--min/--max-prompt-length` filter (characters); bodies are kept.
public struct LineByLineDataset: DatasetPlugin {
    /// The registered name, `line_by_line`.
    public static let name = "line_by_line"
    /// `--dataset-path` and the run's arguments.
    let file: DatasetFile

    /// - Throws: `FastPerfError` when `--dataset-path` is missing or `--dataset-args` is given (it takes none).
    public init(arguments: RunArguments) throws {
        file = try DatasetFile(arguments, dataset: Self.name)
    }

    /// Reads the file; see the type's documentation for the line formats.
    /// - Throws: `FastPerfError` naming the file and line for a broken JSON object or a non-message array.
    public func buildMessages() throws -> [DatasetItem] {
        let text = try file.text()
        var items: [DatasetItem] = []
        for (number, raw) in DatasetFiles.numberedLines(text) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let location = "\(file.location) line \(number)"
            if line.hasPrefix("{") {
                guard DatasetFiles.json(Substring(line)) is [String: Any] else {
                    throw FastPerfError("\(location): not a valid JSON object")
                }
                items.append(.body(line))
            } else if line.hasPrefix("["), let array = DatasetFiles.json(Substring(line)) as? [Any] {
                items.append(.messages(try Self.messages(array, location: location)))
            } else {
                items.append(.prompt(line))
            }
        }
        return try file.filtered(items)
    }

    /// A JSON array as chat messages; every element needs string `role` and `content`.
    static func messages(_ array: [Any], location: String) throws -> [Message] {
        guard !array.isEmpty else { throw FastPerfError("\(location): empty message list") }
        return try array.enumerated().map { i, element in
            guard let object = element as? [String: Any], let role = object["role"] as? String,
                let content = object["content"] as? String
            else {
                throw FastPerfError(
                    "\(location): message \(i + 1) needs string \"role\" and \"content\" (use a JSON object line for a full body)")
            }
            return Message(role: role, content: content)
        }
    }
}
