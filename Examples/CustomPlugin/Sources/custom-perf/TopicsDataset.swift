import FastPerf
import Foundation

/// A dataset plugin: a text file of topics, one per line (`#` starts a comment), each turned into the prompt
/// "Write a haiku about TOPIC." `--min/--max-prompt-length` bound the prompt's characters.
struct TopicsDataset: DatasetPlugin {
    let path: String
    let arguments: RunArguments

    init(arguments: RunArguments) throws {
        guard let path = arguments.datasetPath else { throw FastPerfError("topics dataset: --dataset-path FILE is required") }
        self.path = path
        self.arguments = arguments
    }

    func buildMessages() throws -> [DatasetItem] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw FastPerfError("topics dataset: cannot read \(path)")
        }
        let prompts = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
            .map { "Write a haiku about \($0)." }
            .filter { (arguments.minPromptLength...arguments.maxPromptLength).contains($0.count) }
        guard !prompts.isEmpty else { throw FastPerfError("topics dataset: no topics in \(path)") }
        return prompts.map { .prompt($0) }
    }
}
