/// `custom`: JSON Lines of OpenAI-style conversations, one request per line — an object
/// `{"messages": [{"role", "content"}, …]}` (optionally with `"max_tokens": N`, that request's output
/// length) or a bare messages array. Conversations pass the `--min/--max-prompt-length` filter (the sum of
/// their contents' characters). It is also the dataset plugin to copy for your own format (see
/// `Examples/CustomPlugin`).
public struct CustomDataset: DatasetPlugin {
    /// The registered name, `custom`.
    public static let name = "custom"
    /// The run's arguments.
    public let arguments: RunArguments
    let path: String

    /// - Throws: `FastPerfError` when `--dataset-path` is missing or `--dataset-args` is given (it takes none).
    public init(arguments: RunArguments) throws {
        self.arguments = arguments
        self.path = try DatasetFiles.requirePath(arguments, dataset: Self.name)
        _ = try DatasetFiles.datasetArgs(arguments, dataset: Self.name, allowed: [])
    }

    /// One `.messages` item per line (`.withMaxTokens` when the line sets `max_tokens`).
    /// - Throws: `FastPerfError` naming the file and line for a line that is not a conversation, or a
    ///   `max_tokens` that is not a positive integer.
    public func buildMessages() throws -> [DatasetItem] {
        let text = try DatasetFiles.readText(path, dataset: Self.name)
        let items: [DatasetItem] = try DatasetFiles.jsonLines(text, dataset: Self.name, path: path).map { number, value in
            let location = "\(Self.name): \(path) line \(number)"
            let object = value as? [String: Any]
            guard let array = (object?["messages"] ?? value) as? [Any] else {
                throw FastPerfError("\(location): expected {\"messages\": [...]} or a messages array")
            }
            let item = DatasetItem.messages(try LineByLineDataset.messages(array, location: location))
            guard let limit = object?["max_tokens"] else { return item }
            guard let n = limit as? Int, n > 0 else { throw FastPerfError("\(location): max_tokens must be a positive integer") }
            return .withMaxTokens(item, n)
        }
        return try DatasetFiles.filtered(items, arguments, dataset: Self.name, path: path)
    }
}
