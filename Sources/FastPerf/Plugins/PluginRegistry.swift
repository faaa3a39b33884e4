import Synchronization

/// Plugins by name (`--api`, `--dataset`), replacing evalscope's `@register_api` / `@register_dataset`
/// decorators. Built-ins are always present; a user package adds its own with `register` before calling
/// the CLI entry point. Thread-safe (a `Mutex` guards the tables).
public enum PluginRegistry {
    /// Makes a dataset plugin from the run's arguments.
    public typealias DatasetFactory = @Sendable (RunArguments) throws -> any DatasetPlugin

    /// Built-in APIs under evalscope's names and aliases (EVALSCOPE-PERF §2.3), plus `anthropic`.
    private static let apis = Mutex<[String: any APIPlugin]>([
        "openai": OpenAIPlugin(),
        "openai_embedding": OpenAIEmbeddingPlugin(), "embedding": OpenAIEmbeddingPlugin(),
        "openai_rerank": OpenAIRerankPlugin(), "rerank": OpenAIRerankPlugin(),
        "openai_responses": OpenAIResponsesPlugin(), "openai_response": OpenAIResponsesPlugin(),
        "responses": OpenAIResponsesPlugin(),
        "dashscope": DashScopePlugin(),
        "anthropic": AnthropicPlugin(),
        "custom": CustomAPIPlugin(),
    ])
    private static let datasets = Mutex<[String: DatasetFactory]>([
        LineByLineDataset.name: { try LineByLineDataset(arguments: $0) },
        OpenQADataset.name: { try OpenQADataset(arguments: $0) },
        LongAlpacaDataset.name: { try LongAlpacaDataset(arguments: $0) },
        ShareGPTDataset.name: { try ShareGPTDataset(arguments: $0) },
        CustomDataset.name: { try CustomDataset(arguments: $0) },
        WorkloadTraceDataset.name: { try WorkloadTraceDataset(arguments: $0) },
        RandomDataset.name: { try RandomDataset(arguments: $0) },
        SpeedBenchmarkDataset.name: { try SpeedBenchmarkDataset(arguments: $0) },
        SpeedBenchmarkDataset.longName: { try SpeedBenchmarkDataset(arguments: $0) },
    ])

    /// Registers (or replaces) the API plugin `name`.
    public static func register(api name: String, _ plugin: any APIPlugin) {
        apis.withLock { $0[name] = plugin }
    }

    /// Registers (or replaces) the dataset plugin `name`, made by `factory` for each run.
    public static func register(dataset name: String, _ factory: @escaping DatasetFactory) {
        datasets.withLock { $0[name] = factory }
    }

    /// Registered API plugin names, sorted.
    public static var apiNames: [String] { apis.withLock { $0.keys.sorted() } }

    /// Registered dataset plugin names, sorted.
    public static var datasetNames: [String] { datasets.withLock { $0.keys.sorted() } }

    /// The API plugin `name` (`--api`).
    /// - Throws: `FastPerfError` listing the known names when `name` is unknown.
    public static func api(named name: String) throws -> any APIPlugin {
        if let plugin = apis.withLock({ $0[name] }) { return plugin }
        throw FastPerfError("unknown --api '\(name)'; known: \(apiNames.joined(separator: ", "))")
    }

    /// The dataset plugin for a run: `PromptDataset` when `--prompt` is given (it overrides `--dataset`),
    /// else the one registered as `name`.
    /// - Throws: `FastPerfError` listing the known names when `name` is unknown, or the plugin's own error.
    public static func dataset(named name: String, arguments: RunArguments) throws -> any DatasetPlugin {
        if arguments.prompt != nil { return try PromptDataset(arguments: arguments) }
        guard let factory = datasets.withLock({ $0[name] }) else {
            throw FastPerfError("unknown --dataset '\(name)'; known: \(datasetNames.joined(separator: ", "))")
        }
        return try factory(arguments)
    }
}
