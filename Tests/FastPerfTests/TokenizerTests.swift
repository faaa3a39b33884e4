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
}
