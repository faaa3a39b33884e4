import Foundation

/// `longalpaca` (evalscope `longalpaca.py`): a JSON list of objects (LongAlpaca-12k), one prompt per
/// object from its `instruction` field, filtered by `--min/--max-prompt-length` (characters).
/// `--dataset-path` is required: FastPerf does not download datasets.
public struct LongAlpacaDataset: DatasetPlugin {
    /// The registered name, `longalpaca`.
    public static let name = "longalpaca"
    /// The run's arguments.
    public let arguments: RunArguments
    let path: String

    /// - Throws: `FastPerfError` when `--dataset-path` is missing or `--dataset-args` is given (it takes none).
    public init(arguments: RunArguments) throws {
        self.arguments = arguments
        self.path = try DatasetFiles.requirePath(arguments, dataset: Self.name)
        _ = try DatasetFiles.datasetArgs(arguments, dataset: Self.name, allowed: [])
    }

    /// One `.prompt` per list element.
    /// - Throws: `FastPerfError` naming the file (and item number, from 1) when the file is not a JSON list
    ///   or an item has no string `instruction`.
    public func buildMessages() throws -> [DatasetItem] {
        let text = try DatasetFiles.readText(path, dataset: Self.name)
        guard let list = DatasetFiles.json(Substring(text)) as? [Any] else {
            throw FastPerfError("\(Self.name): \(path) is not a JSON list of objects")
        }
        let items: [DatasetItem] = try list.enumerated().map { i, element in
            guard let object = element as? [String: Any], let instruction = object["instruction"] as? String else {
                throw FastPerfError("\(Self.name): \(path) item \(i + 1): no string \"instruction\" field")
            }
            return .prompt(instruction)
        }
        return try DatasetFiles.filtered(items, arguments, dataset: Self.name, path: path)
    }
}
