/// The calls into API and dataset plugins, each turning whatever a plugin throws into FastPerf's error
/// handling (never a crash): before the run a one-line `FastPerfError` that stops it; on the writer thread a
/// failed row carrying the message.
enum PluginCall {
    /// The run's dataset items (the plugin `--dataset` names, or `--prompt`), with `--query-template` applied.
    /// - Throws: `FastPerfError`: the plugin's own, or any other error it threw, named after the dataset.
    static func items(_ arguments: RunArguments) throws -> [DatasetItem] {
        let name = arguments.prompt == nil ? arguments.dataset : PromptDataset.name
        let items = try wrapped("dataset '\(name)'") {
            try PluginRegistry.dataset(named: arguments.dataset, arguments: arguments).buildMessages()
        }
        guard let template = try QueryTemplate(arguments: arguments) else { return items }
        return try items.map { try template.apply($0, model: arguments.model) }
    }

    /// Request `index` (0-based) of the run, rendered by `plugin`.
    /// - Throws: `FastPerfError`: the plugin's own, or any other error it threw, with the API and request named.
    static func request(_ plugin: any APIPlugin, item: DatasetItem, index: Int, arguments: RunArguments,
                        path: String) throws -> APIRequest {
        try wrapped("--api \(arguments.api): cannot build request \(index + 1)") {
            try plugin.buildRequest(item, arguments: arguments, path: path)
        }
    }

    /// `plugin`'s reading of one response (writer thread). An error it throws becomes a malformed response
    /// (outcome `protocol_error` for a 2xx reply) whose text names the API plugin and the error.
    /// `needs`: what the run uses of the reading; the built-in OpenAI plugin skips the rest (other plugins give
    /// everything). `memo`: the calling writer's chunk endings, for the built-in OpenAI plugin (`ChunkMemo`).
    static func parse(_ plugin: any APIPlugin, record: RequestRecord, request: APIRequest,
                      needs: ResponseNeeds = .all, memo: ChunkMemo? = nil) -> ParsedResponse {
        do {
            if let openAI = plugin as? OpenAIPlugin { return openAI.parseResponses(record, needs: needs, memo: memo) }
            return try plugin.parseResponses(record, request: request)
        } catch {
            var parsed = ParsedResponse()
            parsed.malformed = "API plugin \(type(of: plugin)) could not read the response: " + oneLine(error)
            return parsed
        }
    }

    /// `body()`, with a non-`FastPerfError` error rethrown as `FastPerfError("context: error")`.
    private static func wrapped<T>(_ context: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as FastPerfError {
            throw error
        } catch {
            throw FastPerfError("\(context): \(oneLine(error))")
        }
    }

    /// An error's description on one line, at most 300 characters.
    private static func oneLine(_ error: any Error) -> String {
        OpenAIPlugin.oneLine("\(error)", limit: 300)
    }
}

/// What a run uses of a `ParsedResponse` beyond the facts every row needs (output-bearing events, usage, terminal
/// marker, errors, tool calls).
struct ResponseNeeds: Sendable {
    /// `eventShapes`: only the JSON `response_messages` of `--db-store full` uses them.
    var eventShapes: Bool
    /// `generatedText` and `reasoningText` of a stream: only `--tokenizer-path` counts them (a response without
    /// `usage`); otherwise a stream's texts are left empty. Whether an event carries text is known either way.
    var streamText: Bool

    /// Everything (tests, and other callers that read the texts).
    static let all = ResponseNeeds(eventShapes: true, streamText: true)
}
