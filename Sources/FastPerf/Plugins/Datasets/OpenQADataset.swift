import Foundation

/// `openqa` (evalscope `openqa.py`, the default dataset): JSON Lines (HC3-Chinese `open_qa.jsonl`), one
/// prompt per line from its `question` field (whitespace-trimmed), filtered by `--min/--max-prompt-length`
/// (characters). `--dataset-path` is required: FastPerf does not download datasets.
public struct OpenQADataset: DatasetPlugin {
    /// The registered name, `openqa`.
    public static let name = "openqa"
    /// `--dataset-path` and the run's arguments.
    let file: DatasetFile

    /// - Throws: `FastPerfError` when `--dataset-path` is missing or `--dataset-args` is given (it takes none).
    public init(arguments: RunArguments) throws {
        file = try DatasetFile(arguments, dataset: Self.name)
    }

    /// One `.prompt` per non-empty line.
    /// - Throws: `FastPerfError` naming the file and line for a line that is not a JSON object with a string
    ///   `question`.
    public func buildMessages() throws -> [DatasetItem] {
        let text = try file.text()
        var items: [DatasetItem] = []
        for (number, raw) in DatasetFiles.numberedLines(text) {
            if raw.allSatisfy(\.isWhitespace) { continue }
            guard let object = DatasetFiles.json(raw) as? [String: Any] else {
                throw FastPerfError("\(file.location) line \(number): not a valid JSON object")
            }
            guard let question = object["question"] as? String else {
                throw FastPerfError("\(file.location) line \(number): no string \"question\" field")
            }
            items.append(.prompt(question.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        return try file.filtered(items)
    }
}
