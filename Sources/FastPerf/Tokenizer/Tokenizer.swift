import Foundation
import Synchronization

/// A byte-pair-encoding tokenizer loaded from a Hugging Face `tokenizer.json` or a tiktoken rank file,
/// used before the run (token-exact `random` prompts, token-counting length filters) and on the writer
/// thread (token counts when a server sends no usage). Never used on a loop thread. Immutable and
/// thread-safe.
///
/// Encoding (`encode`) follows `tokenizers`' `Tokenizer::encode(text, add_special_tokens: false)` and
/// tiktoken's `Encoding.encode(text, allowed_special="all")`:
/// 1. added / special tokens are cut out first (leftmost-longest); tokens marked `normalized` are matched
///    in the normalized text;
/// 2. the rest is normalized (`TextNormalizer`), split by the pre-tokenizers (`PreTokenizerStep`);
/// 3. each piece is encoded by the BPE model (`BytePairModel`).
/// Post-processors (templates that add BOS/EOS) are not applied: counts are of the text itself.
public final class Tokenizer: Sendable {
    /// What the tokenizer was loaded from.
    public enum Kind: Sendable, Equatable {
        /// A Hugging Face `tokenizer.json` with a `BPE` model.
        case huggingFace
        /// A tiktoken rank file with a published encoding's pattern and special tokens (`cl100k_base`,
        /// `o200k_base`).
        case tiktoken(String)
    }

    /// The format and, for tiktoken, the encoding name.
    public let kind: Kind
    /// The file it was loaded from.
    public let path: String
    /// Ids are `0..<vocabularySize` (model vocabulary and added tokens).
    public let vocabularySize: Int
    /// Model-vocabulary ids that are neither added/special tokens nor byte-fallback `<0xHH>` tokens, in
    /// increasing order: the pool `random` prompts draw from (evalscope `random_dataset.py`).
    public let ordinaryTokenIDs: [Int]
    /// Ids of the added and special tokens.
    public let addedTokenIDs: Set<Int>

    let model: BytePairModel
    /// Added tokens matched in the raw text, and those matched after normalization.
    let rawAdded: AddedTokenMatcher
    let normalizedAdded: AddedTokenMatcher
    let normalizer: TextNormalizer?
    let preTokenizers: [PreTokenizerStep]
    /// Decoding: `decodeBytes` per id when decoding is plain byte concatenation (tiktoken, a `ByteLevel`
    /// decoder alone); otherwise the token strings and the decoder steps (`nil`: joined with spaces, as
    /// `tokenizers` does without a decoder).
    let decodeBytes: FlatByteStrings?
    let tokenStrings: [String]
    let decoders: [DecoderStep]?

    init(kind: Kind, path: String, model: BytePairModel, added: [(AddedTokenMatcher.Token, normalized: Bool, special: Bool)],
         normalizer: TextNormalizer?, preTokenizers: [PreTokenizerStep], decodeBytes: FlatByteStrings?,
         tokenStrings: [String], decoders: [DecoderStep]?) {
        self.kind = kind
        self.path = path
        self.model = model
        self.rawAdded = AddedTokenMatcher(added.filter { !$0.normalized }.map(\.0))
        self.normalizedAdded = AddedTokenMatcher(added.filter(\.normalized).map { entry in
            var t = entry.0
            if let normalizer { t.bytes = Array(normalizer.apply(String(decoding: t.bytes, as: UTF8.self)).utf8) }
            return t
        })
        self.normalizer = normalizer
        self.preTokenizers = preTokenizers
        self.decodeBytes = decodeBytes
        self.tokenStrings = tokenStrings
        self.decoders = decoders
        let addedIDs = Set(added.map(\.0.id))
        addedTokenIDs = addedIDs
        vocabularySize = max(model.count, (addedIDs.max() ?? -1) + 1)
        let fallback = Set((model.byteFallbackIDs ?? []).map(Int.init))
        ordinaryTokenIDs = (0..<model.count).filter {
            !addedIDs.contains($0) && !fallback.contains($0) && !model.bytes(of: $0).isEmpty
        }
    }

    // MARK: Encode and decode

    /// The token ids of `text` (no BOS/EOS added).
    public func encode(_ text: String) -> [Int] {
        var cache = PieceCache(enabled: false)
        return encode(text, cache: &cache)
    }

    /// `encode(text)`, reusing (and filling) `cache`: for texts encoded again with small changes (the
    /// `random` dataset's decode/re-encode rounds), where unchanged pieces need no BPE.
    func encode(_ text: String, cache: inout PieceCache) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(text.utf8.count / 3 + 4)
        let utf8 = Array(text.utf8)
        for part in rawAdded.split(utf8) {
            switch part {
            case .token(let id):
                out.append(id)
            case .text(let range):
                if normalizedAdded.isEmpty && normalizer == nil {
                    encodeNormalized(utf8[range], into: &out, cache: &cache)
                    continue
                }
                let normalized = normalizer.map { Array($0.apply(String(decoding: utf8[range], as: UTF8.self)).utf8) }
                    ?? Array(utf8[range])
                for inner in normalizedAdded.split(normalized) {
                    switch inner {
                    case .token(let id): out.append(id)
                    case .text(let r): encodeNormalized(normalized[r], into: &out, cache: &cache)
                    }
                }
            }
        }
        return out
    }

    /// The number of tokens in `text` (`encode(text).count`).
    public func count(_ text: String) -> Int { encode(text).count }

    /// Pre-tokenizes and BPE-encodes normalized text without added tokens.
    private func encodeNormalized(_ utf8: ArraySlice<UInt8>, into out: inout [Int], cache: inout PieceCache) {
        if utf8.isEmpty { return }
        var pieces = PieceList(UTF8Scalars.scalars(utf8))
        for step in preTokenizers { step.apply(&pieces) }
        var bytes: [UInt8] = []
        for piece in pieces.list {
            let scalars = pieces.buffers[piece.buffer][piece.range]
            bytes.removeAll(keepingCapacity: true)
            UTF8Scalars.append(scalars, to: &bytes)
            if cache.enabled && bytes.count >= PieceCache.minimumBytes {
                if let ids = cache.ids[bytes] {
                    out += ids
                    continue
                }
                let start = out.count
                model.encodePiece(utf8: bytes[...], scalars: scalars, into: &out)
                cache.ids[bytes] = Array(out[start...])
            } else {
                model.encodePiece(utf8: bytes[...], scalars: scalars, into: &out)
            }
        }
    }

    /// The text of `ids` (ids outside `0..<vocabularySize` are skipped; invalid UTF-8 becomes U+FFFD).
    public func decode(_ ids: [Int]) -> String {
        if let decodeBytes {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(ids.count * 4)
            for id in ids where id >= 0 && id < decodeBytes.count { bytes += decodeBytes[id] }
            return String(decoding: bytes, as: UTF8.self)
        }
        let tokens = ids.compactMap { $0 >= 0 && $0 < tokenStrings.count ? tokenStrings[$0] : nil }
        guard let decoders else { return tokens.joined(separator: " ") }
        return decoders.reduce(tokens) { $1.apply($0) }.joined()
    }

    // MARK: Loading

    /// `--tokenizer-kind` values.
    public static let kindNames = ["huggingface", "tiktoken:cl100k_base", "tiktoken:o200k_base"]

    /// Loads `path`: a model directory holding `tokenizer.json`, a `tokenizer.json` file, or a `.tiktoken`
    /// rank file. `kind` is `huggingface` (the default for JSON and directories) or `tiktoken:NAME`
    /// (inferred from a rank file's name when it contains `cl100k_base` or `o200k_base`).
    /// - Throws: `FastPerfError` (one line) for a missing or unreadable file, an unknown kind, or a
    ///   component this build does not implement (named, e.g. `pre_tokenizer type "Metaspace"`).
    public static func load(path: String, kind: String? = nil) throws -> Tokenizer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FastPerfError("--tokenizer-path: not found: \(path)")
        }
        var file = path
        let requested = kind?.lowercased()
        if let requested, !kindNames.contains(requested) && requested != "hf" {
            throw FastPerfError("--tokenizer-kind must be one of \(kindNames.joined(separator: ", ")) (got \(kind!))")
        }
        var tiktokenName = requested.flatMap { $0.hasPrefix("tiktoken:") ? String($0.dropFirst(9)) : nil }
        if isDirectory.boolValue {
            if let name = tiktokenName {
                file = (path as NSString).appendingPathComponent("\(name).tiktoken")
            } else {
                file = (path as NSString).appendingPathComponent("tokenizer.json")
            }
            guard FileManager.default.fileExists(atPath: file) else {
                throw FastPerfError("--tokenizer-path: \(path) is a directory without \((file as NSString).lastPathComponent)")
            }
        } else if file.hasSuffix(".tiktoken") && tiktokenName == nil {
            let base = (file as NSString).lastPathComponent
            tiktokenName = ["cl100k_base", "o200k_base"].first { base.contains($0) }
            if requested != nil || tiktokenName == nil {
                throw FastPerfError("--tokenizer-path \(file) is a tiktoken rank file: give --tokenizer-kind tiktoken:cl100k_base or tiktoken:o200k_base")
            }
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw FastPerfError("--tokenizer-path: cannot read \(file): \(error.localizedDescription)")
        }
        if let name = tiktokenName { return try TiktokenLoader.load(data, name: name, path: file) }
        return try HuggingFaceTokenizerLoader.load(data, path: file)
    }

    private static let cache = Mutex<[String: Tokenizer]>([:])

    /// The run's tokenizer (`--tokenizer-path`, `--tokenizer-kind`), loaded once per process and shared
    /// (datasets, the writer and the embedded mock server use the same instance); nil without a path.
    /// - Throws: `FastPerfError` from `load`.
    public static func forRun(_ arguments: RunArguments) throws -> Tokenizer? {
        guard let path = arguments.tokenizerPath, !path.isEmpty else { return nil }
        return try shared(path: path, kind: arguments.tokenizerKind)
    }

    /// `load(path:kind:)`, memoized per (path, kind) for the process.
    public static func shared(path: String, kind: String?) throws -> Tokenizer {
        let key = path + "\u{0}" + (kind ?? "")
        if let t = cache.withLock({ $0[key] }) { return t }
        let t = try load(path: path, kind: kind)
        cache.withLock { $0[key] = t }
        return t
    }
}

/// Tokens of pre-tokenized pieces already encoded, by the piece's UTF-8 (owned by one caller, never
/// shared between threads).
struct PieceCache {
    /// Pieces shorter than this are not worth a hash look-up.
    static let minimumBytes = 4
    let enabled: Bool
    var ids: [[UInt8]: [Int]] = [:]

    init(enabled: Bool = true) { self.enabled = enabled }
}

/// Byte strings by index, stored flat (`offsets[i]..<offsets[i + 1]` in `bytes`).
struct FlatByteStrings: Sendable {
    private(set) var bytes: [UInt8] = []
    private(set) var offsets: [Int32] = [0]

    init() {}

    var count: Int { offsets.count - 1 }

    mutating func append<S: Sequence>(_ s: S) where S.Element == UInt8 {
        bytes += s
        offsets.append(Int32(bytes.count))
    }

    subscript(i: Int) -> ArraySlice<UInt8> { bytes[Int(offsets[i])..<Int(offsets[i + 1])] }
}
