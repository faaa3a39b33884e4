import Foundation
import Testing
@testable import FastPerf

/// Encode parity with the PyPI `tokenizers` / `tiktoken` reference ids (committed fixtures), decode
/// round trips, and load errors.
@Suite(.serialized)
struct TokenizerTests {
    @Test func deepSeekMatchesTokenizersOnEveryFixture() throws {
        let tok = try TokenizerFixtures.deepSeek()
        #expect(tok.kind == .huggingFace)
        for c in try TokenizerFixtures.cases("deepseek-v3") {
            let ids = tok.encode(c.text)
            #expect(ids == c.ids, "\(c.name)")
            #expect(tok.decode(c.ids) == c.decoded, "\(c.name)")
            #expect(tok.decode(ids) == c.text, "\(c.name): decode(encode(x)) == x")
        }
    }

    @Test func cl100kMatchesTiktokenOnEveryFixture() throws {
        let tok = try TokenizerFixtures.cl100k()
        #expect(tok.kind == .tiktoken("cl100k_base"))
        for c in try TokenizerFixtures.cases("cl100k_base") {
            let ids = tok.encode(c.text)
            #expect(ids == c.ids, "\(c.name)")
            #expect(tok.decode(ids) == c.text, "\(c.name): decode(encode(x)) == x")
        }
    }

    /// NFKC, Digits, ByteLevel with its regex and add_prefix_space, normalized and lstrip/rstrip added tokens.
    @Test func smallByteLevelTokenizerMatchesTokenizers() throws {
        let tok = try TokenizerFixtures.small("small-bytelevel")
        for c in try TokenizerFixtures.cases("small-bytelevel") {
            #expect(tok.encode(c.text) == c.ids, "\(c.name)")
            #expect(tok.decode(c.ids) == c.decoded, "\(c.name)")
        }
    }

    /// NFC + Prepend + Replace, Split behaviours (MergedWithNext/Previous, Contiguous, Removed, invert),
    /// Digits runs, byte fallback, and the Replace/ByteFallback/Fuse/Strip decoders.
    @Test func smallByteFallbackTokenizerMatchesTokenizers() throws {
        let tok = try TokenizerFixtures.small("small-bytefallback")
        for c in try TokenizerFixtures.cases("small-bytefallback") {
            #expect(tok.encode(c.text) == c.ids, "\(c.name)")
            #expect(tok.decode(c.ids) == c.decoded, "\(c.name)")
        }
    }

    // MARK: Loading

    @Test func loadsADirectoryAndInfersTiktokenFromTheFileName() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fastperf-tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("tokenizer.json").path,
                                                   withDestinationPath: TokenizerFixtures.deepSeekPath)
        let fromDirectory = try Tokenizer.load(path: dir.path)
        #expect(fromDirectory.encode("Hello, 世界!") == (try TokenizerFixtures.deepSeek()).encode("Hello, 世界!"))
        let inferred = try Tokenizer.load(path: TokenizerFixtures.cl100kPath)
        #expect(inferred.kind == .tiktoken("cl100k_base"))
        #expect(inferred.encode("hello world") == [15339, 1917])
        #expect(inferred.ordinaryTokenIDs.count == 100_256 && !inferred.ordinaryTokenIDs.contains(100_257))
    }

    @Test(arguments: [
        (#"{"model": {"type": "WordPiece", "vocab": {}}}"#, #"model type "WordPiece""#),
        (#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Metaspace"}}"#, #"pre_tokenizer type "Metaspace""#),
        (#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "normalizer": {"type": "BertNormalizer"}}"#, #"normalizer type "BertNormalizer""#),
        (#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "decoder": {"type": "WordPiece"}}"#, #"decoder type "WordPiece""#),
        (#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(?<=a)b"}, "behavior": "Isolated"}}"#, "lookbehind"),
        (#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}"#, "not in the vocabulary"),
        ("not json", "not a JSON object"),
    ])
    func unsupportedComponentsAreNamedErrors(_ json: String, _ mention: String) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fastperf-tok-\(UUID().uuidString).json")
        try Data(json.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            _ = try Tokenizer.load(path: file.path)
            Issue.record("loaded \(json)")
        } catch let error as FastPerfError {
            #expect(error.message.contains(mention), "\(error.message)")
            #expect(!error.message.contains("\n"))
        }
    }

    @Test func badPathsAndKindsAreErrors() throws {
        #expect(throws: FastPerfError.self) { try Tokenizer.load(path: "/nonexistent/tokenizer.json") }
        #expect(throws: FastPerfError.self) { try Tokenizer.load(path: TokenizerFixtures.cl100kPath, kind: "tiktoken:r50k_base") }
        #expect(throws: FastPerfError.self) { try Tokenizer.load(path: TokenizerFixtures.sharedDirectory.path, kind: "tiktoken:o200k_base") }
    }

    // MARK: Regex engine

    @Test func regexFeaturesBehaveLikePerlStyleEngines() throws {
        func pieces(_ pattern: String, _ text: String) throws -> [String] {
            let scalars = Array(text.unicodeScalars.map(\.value))
            return try ScalarRegex(pattern).matches(in: scalars, range: 0..<scalars.count).map { r in
                String(String.UnicodeScalarView(scalars[r].map { Unicode.Scalar($0)! }))
            }
        }
        // `\s+(?!\S)` leaves the last space of a run for the next word.
        #expect(try pieces(#" ?\p{L}+|\s+(?!\S)|\s+"#, "a   b ") == ["a", "  ", " b", " "])
        // Possessive and counted repetition.
        #expect(try pieces(#"\p{N}{1,3}+"#, "1234567") == ["123", "456", "7"])
        #expect(try pieces(#"a++b|a"#, "aaa") == ["a", "a", "a"])
        // Case-insensitive group, alternation order, classes with escapes and nested negation.
        #expect(try pieces(#"'(?i:[sdmt]|ll|ve|re)"#, "I'LL it'S we'Ve") == ["'LL", "'S", "'Ve"])
        #expect(try pieces(#"[^\s\p{L}\p{N}]+"#, "a+=b, 1!") == ["+=", ",", "!"])
        #expect(try pieces(#"[\u4e00-\u9fa5]+"#, "ab中文cd字") == ["中文", "字"])
        // `$` is the end of the subject; `\s++$` takes trailing whitespace only there.
        #expect(try pieces(#"\s++$|\S+|\s"#, "a \n b  ") == ["a", " ", "\n", " ", "b", "  "])
        #expect(throws: FastPerfError.self) { try ScalarRegex(#"(a"#) }
        #expect(throws: FastPerfError.self) { try ScalarRegex(#"\p{Han}"#) }
        #expect(throws: FastPerfError.self) { try ScalarRegex(#"(a*)*"#) }
    }
}
