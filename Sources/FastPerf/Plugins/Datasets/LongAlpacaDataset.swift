import Foundation

/// `longalpaca` (evalscope `longalpaca.py`): a JSON list of objects (LongAlpaca-12k), one prompt per
/// object from its `instruction` field, filtered by `--min/--max-prompt-length` (characters).
/// `--dataset-path` is required: FastPerf does not download datasets.
public struct LongAlpacaDataset: DatasetPlugin {
    /// The registered name, `longalpaca`.
    public static let name = "longalpaca"
    /// `--dataset-path` and the run's arguments.
    let file: DatasetFile

    /// - Throws: `FastPerfError` when `--dataset-path` is missing or `--dataset-args` is given (it takes none).
    public init(arguments: RunArguments) throws {
        file = try DatasetFile(arguments, dataset: Self.name)
    }

    /// One `.prompt` per list element.
    /// - Throws: `FastPerfError` naming the file (and item number, from 1) when the file is not a JSON list
    ///   or an item has no string `instruction`.
    public func buildMessages() throws -> [DatasetItem] {
        let text = try file.text()
        guard let list = DatasetFiles.json(Substring(text)) as? [Any] else {
            throw FastPerfError("\(file.location) is not a JSON list of objects")
        }
        let items: [DatasetItem] = try list.enumerated().map { i, element in
            guard let object = element as? [String: Any], let instruction = object["instruction"] as? String else {
                throw FastPerfError("\(file.location) item \(i + 1): no string \"instruction\" field")
            }
            return .prompt(instruction)
        }
        return try file.filtered(items)
    }
}
