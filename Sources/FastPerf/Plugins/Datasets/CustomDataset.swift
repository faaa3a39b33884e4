/// `custom`: JSON Lines of OpenAI-style conversations, one request per line — an object
/// `{"messages": [{"role", "content"}, …]}` (optionally with `"max_tokens": N`, that request's output
/// length) or a bare messages array. Conversations pass the `--min/--max-prompt-length` filter (the sum of
/// their contents' characters). It is also the dataset plugin to copy for your own format (see
/// `Examples/CustomPlugin`).
public struct CustomDataset: DatasetPlugin {
    /// The registered name, `custom`.
    public static let name = "custom"
    /// `--dataset-path` and the run's arguments.
    let file: DatasetFile

    /// - Throws: `FastPerfError` when `--dataset-path` is missing or `--dataset-args` is given (it takes none).
    public init(arguments: RunArguments) throws {
        file = try DatasetFile(arguments, dataset: Self.name)
    }

    /// One `.messages` item per line (`.withMaxTokens` when the line sets `max_tokens`).
    /// - Throws: `FastPerfError` naming the file and line for a line that is not a conversation, or a
    ///   `max_tokens` that is not a positive integer.
    public func buildMessages() throws -> [DatasetItem] {
        let text = try file.text()
        let items: [DatasetItem] = try file.jsonLines(text).map { number, value in
            let location = "\(file.location) line \(number)"
            let object = value as? [String: Any]
            guard let array = (object?["messages"] ?? value) as? [Any] else {
                throw FastPerfError("\(location): expected {\"messages\": [...]} or a messages array")
            }
            let item = DatasetItem.messages(try LineByLineDataset.messages(array, location: location))
            guard let limit = object?["max_tokens"] else { return item }
            guard let n = limit as? Int, n > 0 else { throw FastPerfError("\(location): max_tokens must be a positive integer") }
            return .withMaxTokens(item, n)
        }
        return try file.filtered(items)
    }
}
