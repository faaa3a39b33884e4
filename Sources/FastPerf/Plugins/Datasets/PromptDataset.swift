import Foundation

/// The `--prompt` dataset: one fixed prompt for every request (`@path` reads the whole file, unchanged).
/// It overrides `--dataset` and is not length-filtered (the user chose it explicitly, as in evalscope).
public struct PromptDataset: DatasetPlugin {
    /// The name it is reported under, `prompt`.
    public static let name = "prompt"
    /// The run's arguments.
    public let arguments: RunArguments
    let prompt: String

    /// - Throws: `FastPerfError` when `--prompt` is missing or empty.
    public init(arguments: RunArguments) throws {
        guard let prompt = arguments.prompt, !prompt.isEmpty else {
            throw FastPerfError("--prompt is empty")
        }
        self.arguments = arguments
        self.prompt = prompt
    }

    /// One `.prompt` item (the file's text for `@path`).
    /// - Throws: `FastPerfError` for a missing/unreadable `@path` file or an empty prompt.
    public func buildMessages() throws -> [DatasetItem] {
        var text = prompt
        if prompt.hasPrefix("@") {
            let path = String(prompt.dropFirst())
            text = try DatasetFiles.readText(path, dataset: "--prompt")
        }
        guard !text.isEmpty else { throw FastPerfError("--prompt: the prompt is empty (\(prompt))") }
        return [.prompt(text)]
    }
}
