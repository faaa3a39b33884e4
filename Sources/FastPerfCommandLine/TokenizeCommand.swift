import ArgumentParser
import FastPerf
import Foundation

/// `fastperf tokenize`: counts (or lists) the tokens of a text with `--tokenizer-path`, times encoding
/// (`--repeat`), or times building a `random` dataset (`--random-prompts`).
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Count tokens with a tokenizer.json or .tiktoken file; measure encode speed."
    )

    @Option(name: .customLong("tokenizer-path"), help: "Directory with tokenizer.json, the file itself, or a .tiktoken rank file.")
    var tokenizerPath: String
    @Option(name: .customLong("tokenizer-kind"), help: "huggingface (default), tiktoken:cl100k_base or tiktoken:o200k_base.")
    var tokenizerKind: String?
    @Option(help: "Text to encode.") var text: String?
    @Option(help: "File whose text to encode.") var file: String?
    @Flag(help: "Print the token ids.") var ids = false
    @Option(help: "Encode this many times and report the best throughput (MB/s).") var `repeat`: Int = 1
    @Option(name: .customLong("random-prompts"), help: "Time building this many `random` prompts instead.")
    var randomPrompts: Int?
    @Option(name: .customLong("length"), help: "Tokens per random prompt (with --random-prompts).") var length: Int = 1024
    @Option(help: "Seed for --random-prompts.") var seed: Int = 0

    func run() throws {
        let t0 = Date()
        let tokenizer = try Tokenizer.load(path: tokenizerPath, kind: tokenizerKind)
        print(String(format: "loaded %@ (%d ids) in %.2f s", tokenizer.path, tokenizer.vocabularySize, Date().timeIntervalSince(t0)))
        if let n = randomPrompts {
            var a = RunArguments()
            a.dataset = RandomDataset.name
            a.tokenizerPath = tokenizerPath
            a.tokenizerKind = tokenizerKind
            a.number = [n]
            a.minPromptLength = length
            a.maxPromptLength = length
            a.seed = seed
            let start = Date()
            let items = try RandomDataset(arguments: a).buildMessages()
            let seconds = Date().timeIntervalSince(start)
            print(String(format: "random: %d prompts of %d tokens in %.2f s (%.0f prompts/s)", items.count, length, seconds,
                         Double(items.count) / seconds))
            return
        }
        var input = text ?? ""
        if let file {
            guard let s = try? String(contentsOfFile: file, encoding: .utf8) else { throw FastPerfError("cannot read \(file) as UTF-8") }
            input = s
        }
        var best = Double.infinity
        var out: [Int] = []
        for _ in 0..<max(1, `repeat`) {
            let start = Date()
            out = tokenizer.encode(input)
            best = min(best, Date().timeIntervalSince(start))
        }
        let mb = Double(input.utf8.count) / 1e6
        print(String(format: "%d tokens, %d bytes; encode %.4f s = %.1f MB/s (best of %d)", out.count, input.utf8.count, best,
                     mb / max(best, 1e-9), max(1, `repeat`)))
        if ids { print(out.map(String.init).joined(separator: " ")) }
    }
}
