import Foundation
@testable import FastPerf

/// The tokenizer reference fixtures (`Tests/TokenizerFixtures/`, written once by
/// `scripts/make_tokenizer_fixtures.py` from the PyPI `tokenizers` and `tiktoken` packages) and the real
/// tokenizers in `<repo>/../shared/data/tokenizers/`.
enum TokenizerFixtures {
    /// One reference case: the text, the reference ids and the reference decode of those ids.
    struct Case: Decodable {
        var name: String
        var text: String
        var ids: [Int]
        var decoded: String
    }

    private struct File: Decodable { var cases: [Case] }

    /// `<repo>/Tests/TokenizerFixtures` (this file is `<repo>/Tests/FastPerfTests/Support/…`).
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TokenizerFixtures")

    /// `<repo>/../shared/data/tokenizers`.
    static let sharedDirectory: URL = directory
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/data/tokenizers")

    static var deepSeekPath: String { sharedDirectory.appendingPathComponent("deepseek-v3.tokenizer.json").path }
    static var cl100kPath: String { sharedDirectory.appendingPathComponent("cl100k_base.tiktoken").path }

    /// The cases of `<name>.ids.json`.
    static func cases(_ name: String) throws -> [Case] {
        let data = try Data(contentsOf: directory.appendingPathComponent("\(name).ids.json"))
        return try JSONDecoder().decode(File.self, from: data).cases
    }

    /// DeepSeek-V3's tokenizer, loaded once per test process.
    static func deepSeek() throws -> Tokenizer { try Tokenizer.shared(path: deepSeekPath, kind: nil) }

    /// cl100k_base, loaded once per test process.
    static func cl100k() throws -> Tokenizer { try Tokenizer.shared(path: cl100kPath, kind: "tiktoken:cl100k_base") }

    /// A small fixture tokenizer (`small-bytelevel`, `small-bytefallback`).
    static func small(_ name: String) throws -> Tokenizer {
        try Tokenizer.shared(path: directory.appendingPathComponent("\(name).tokenizer.json").path, kind: nil)
    }
}
