import Foundation

/// Reads a Hugging Face `tokenizer.json` (the `tokenizers` library's serialization) into a `Tokenizer`.
/// Supported: model `BPE` (with `byte_fallback`, `unk_token`, `fuse_unk`, `ignore_merges`; merges as
/// `"a b"` strings or `["a", "b"]` pairs); normalizers `NFC`, `NFD`, `NFKC`, `NFKD`, `Lowercase`,
/// `Replace`, `Prepend`, `Sequence`; pre-tokenizers `ByteLevel`, `Split`, `Digits`, `Sequence`; decoders
/// `ByteLevel`, `ByteFallback`, `Fuse`, `Replace`, `Strip`, `Sequence`. Anything else is a `FastPerfError`
/// naming the component, so a tokenizer is never silently approximated.
enum HuggingFaceTokenizerLoader {
    static func load(_ data: Data, path: String) throws -> Tokenizer {
        func fail(_ what: String) -> FastPerfError { FastPerfError("tokenizer \(path): \(what)") }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw fail("not a JSON object (expected a Hugging Face tokenizer.json)")
        }
        guard let model = root["model"] as? [String: Any] else { throw fail("no \"model\"") }
        let type = model["type"] as? String ?? (model["merges"] != nil ? "BPE" : "unknown")
        guard type == "BPE" else { throw fail("model type \"\(type)\" is not supported (only BPE)") }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let v = model[key] as? String, !v.isEmpty { throw fail("BPE \(key) is not supported") }
        }
        if let dropout = model["dropout"] as? Double, dropout > 0 { throw fail("BPE dropout is not supported") }
        guard let vocab = model["vocab"] as? [String: Int] else { throw fail("BPE model has no \"vocab\" object") }
        guard let rawMerges = model["merges"] as? [Any] else { throw fail("BPE model has no \"merges\" list") }

        let preTokenizers = try parsePreTokenizers(root["pre_tokenizer"], fail: fail)
        let byteLevel = preTokenizers.contains { if case .byteLevel = $0 { true } else { false } }
        let normalizer = try parseNormalizer(root["normalizer"], fail: fail)
        let decoders = try parseDecoders(root["decoder"], fail: fail)

        func bytes(_ token: String) -> [UInt8] { byteLevel ? ByteLevelAlphabet.bytes(of: token) : Array(token.utf8) }
        let modelSize = (vocab.values.max() ?? -1) + 1
        var strings = [String](repeating: "", count: modelSize)
        var vocabulary = [[UInt8]](repeating: [], count: modelSize)
        for (token, id) in vocab where id >= 0 {
            strings[id] = token
            vocabulary[id] = bytes(token)
        }
        var merges: [([UInt8], [UInt8])] = []
        merges.reserveCapacity(rawMerges.count)
        for (k, m) in rawMerges.enumerated() {
            if let s = m as? String {
                let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw fail("merge \(k) is not two tokens: \(s.debugDescription)") }
                merges.append((bytes(String(parts[0])), bytes(String(parts[1]))))
            } else if let pair = m as? [String], pair.count == 2 {
                merges.append((bytes(pair[0]), bytes(pair[1])))
            } else {
                throw fail("merge \(k) is neither \"a b\" nor [\"a\", \"b\"]")
            }
        }
        let bpe = try BytePairModel(
            vocabulary: vocabulary, merges: merges, byteLevel: byteLevel,
            wholePieceFirst: model["ignore_merges"] as? Bool ?? false,
            byteFallback: model["byte_fallback"] as? Bool ?? false,
            unknownToken: (model["unk_token"] as? String).map(bytes), fuseUnknown: model["fuse_unk"] as? Bool ?? false)

        var added: [(AddedTokenMatcher.Token, normalized: Bool, special: Bool)] = []
        for (k, entry) in ((root["added_tokens"] as? [[String: Any]]) ?? []).enumerated() {
            guard let id = entry["id"] as? Int, id >= 0, let content = entry["content"] as? String, !content.isEmpty else {
                throw fail("added_tokens[\(k)] needs an \"id\" and a non-empty \"content\"")
            }
            let token = AddedTokenMatcher.Token(
                id: id, bytes: Array(content.utf8), singleWord: entry["single_word"] as? Bool ?? false,
                lstrip: entry["lstrip"] as? Bool ?? false, rstrip: entry["rstrip"] as? Bool ?? false)
            let special = entry["special"] as? Bool ?? false
            let normalized = entry["normalized"] as? Bool ?? !special
            added.append((token, normalized: normalized, special: special))
            if id >= strings.count { strings += Array(repeating: "", count: id + 1 - strings.count) }
            // `tokenizers` decodes a normalized added token as its normalized content ("ﬁx" → "fix" with NFKC).
            strings[id] = normalized ? normalizer?.apply(content) ?? content : content
        }
        var decodeBytes: FlatByteStrings?
        if let decoders, decoders.count == 1, case .byteLevel = decoders[0] {
            var flat = FlatByteStrings()
            for s in strings { flat.append(ByteLevelAlphabet.bytes(of: s)) }
            decodeBytes = flat
        }
        return Tokenizer(kind: .huggingFace, path: path, model: bpe, added: added, normalizer: normalizer,
                         preTokenizers: preTokenizers, decodeBytes: decodeBytes, tokenStrings: strings, decoders: decoders)
    }

    /// The `type` of a component object, or nil for JSON null / absent.
    private static func component(_ value: Any?, _ field: String, fail: (String) -> FastPerfError) throws -> (String, [String: Any])? {
        guard let value, !(value is NSNull) else { return nil }
        guard let object = value as? [String: Any], let type = object["type"] as? String else {
            throw fail("\(field) has no \"type\"")
        }
        return (type, object)
    }

    /// A `{"String": …}` or `{"Regex": …}` pattern.
    private static func pattern(_ value: Any?, _ field: String, fail: (String) -> FastPerfError) throws -> ScalarRegex {
        if let p = value as? [String: Any] {
            if let s = p["String"] as? String { return ScalarRegex(literal: s) }
            if let r = p["Regex"] as? String { return try ScalarRegex(r) }
        }
        if let s = value as? String { return ScalarRegex(literal: s) }
        throw fail("\(field) pattern must be {\"String\": …} or {\"Regex\": …}")
    }

    static func parsePreTokenizers(_ value: Any?, fail: (String) -> FastPerfError) throws -> [PreTokenizerStep] {
        guard let (type, o) = try component(value, "pre_tokenizer", fail: fail) else { return [] }
        switch type {
        case "Sequence":
            return try ((o["pretokenizers"] as? [Any]) ?? []).flatMap { try parsePreTokenizers($0, fail: fail) }
        case "Split":
            let behaviorName = o["behavior"] as? String ?? "Isolated"
            guard let behavior = SplitBehavior(rawValue: behaviorName) else {
                throw fail("pre_tokenizer Split behavior \"\(behaviorName)\" is not supported")
            }
            return [.split(try pattern(o["pattern"], "pre_tokenizer Split", fail: fail), behavior, invert: o["invert"] as? Bool ?? false)]
        case "ByteLevel":
            let regex = (o["use_regex"] as? Bool ?? true) ? try ScalarRegex(PreTokenizerStep.gpt2Pattern) : nil
            return [.byteLevel(addPrefixSpace: o["add_prefix_space"] as? Bool ?? true, regex: regex)]
        case "Digits":
            return [.digits(individual: o["individual_digits"] as? Bool ?? false)]
        default:
            throw fail("pre_tokenizer type \"\(type)\" is not supported (supported: ByteLevel, Split, Digits, Sequence)")
        }
    }

    static func parseNormalizer(_ value: Any?, fail: (String) -> FastPerfError) throws -> TextNormalizer? {
        guard let (type, o) = try component(value, "normalizer", fail: fail) else { return nil }
        switch type {
        case "NFC": return .nfc
        case "NFD": return .nfd
        case "NFKC": return .nfkc
        case "NFKD": return .nfkd
        case "Lowercase": return .lowercase
        case "Prepend": return .prepend(o["prepend"] as? String ?? "")
        case "Replace":
            return .replace(try pattern(o["pattern"], "normalizer Replace", fail: fail), o["content"] as? String ?? "")
        case "Sequence":
            let steps = try ((o["normalizers"] as? [Any]) ?? []).compactMap { try parseNormalizer($0, fail: fail) }
            return steps.isEmpty ? nil : .sequence(steps)
        default:
            throw fail("normalizer type \"\(type)\" is not supported (supported: NFC, NFD, NFKC, NFKD, Lowercase, Replace, Prepend, Sequence)")
        }
    }

    static func parseDecoders(_ value: Any?, fail: (String) -> FastPerfError) throws -> [DecoderStep]? {
        guard let (type, o) = try component(value, "decoder", fail: fail) else { return nil }
        switch type {
        case "ByteLevel": return [.byteLevel]
        case "ByteFallback": return [.byteFallback]
        case "Fuse": return [.fuse]
        case "Replace":
            guard let p = o["pattern"] as? [String: Any], let s = p["String"] as? String else {
                throw fail("decoder Replace supports only a {\"String\": …} pattern")
            }
            return [.replace(s, o["content"] as? String ?? "")]
        case "Strip":
            guard let content = (o["content"] as? String)?.first else { throw fail("decoder Strip needs a content character") }
            return [.strip(content, start: o["start"] as? Int ?? 0, stop: o["stop"] as? Int ?? 0)]
        case "Sequence":
            return try ((o["decoders"] as? [Any]) ?? []).flatMap { try parseDecoders($0, fail: fail) ?? [] }
        default:
            throw fail("decoder type \"\(type)\" is not supported (supported: ByteLevel, ByteFallback, Fuse, Replace, Strip, Sequence)")
        }
    }
}

/// Reads a tiktoken rank file (one `base64(token bytes) rank` per line) with a published encoding's
/// split pattern and special tokens, as `tiktoken_ext/openai_public.py` (tiktoken 0.14) defines them.
enum TiktokenLoader {
    /// (pattern, special tokens) of the encodings FastPerf knows.
    static let encodings: [String: (pattern: String, specials: [(String, Int)])] = [
        "cl100k_base": (
            #"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"#,
            [("<|endoftext|>", 100257), ("<|fim_prefix|>", 100258), ("<|fim_middle|>", 100259),
             ("<|fim_suffix|>", 100260), ("<|endofprompt|>", 100276)]
        ),
        "o200k_base": (
            [
                #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#,
                #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#,
                #"\p{N}{1,3}"#,
                #" ?[^\s\p{L}\p{N}]+[\r\n/]*"#,
                #"\s*[\r\n]+"#,
                #"\s+(?!\S)"#,
                #"\s+"#,
            ].joined(separator: "|"),
            [("<|endoftext|>", 199999), ("<|endofprompt|>", 200018)]
        ),
    ]

    static func load(_ data: Data, name: String, path: String) throws -> Tokenizer {
        guard let encoding = encodings[name] else {
            throw FastPerfError("--tokenizer-kind tiktoken:\(name): unknown encoding (known: \(encodings.keys.sorted().joined(separator: ", ")))")
        }
        var ranks: [[UInt8]] = []
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n")) {
            lineNumber += 1
            let fields = line.split(separator: UInt8(ascii: " "))
            guard fields.count == 2, let token = Data(base64Encoded: Data(fields[0])),
                  let rank = Int(String(decoding: fields[1], as: UTF8.self).trimmingCharacters(in: .whitespaces)),
                  rank >= 0, rank < 10_000_000
            else {
                throw FastPerfError("tokenizer \(path) line \(lineNumber): expected \"base64 rank\"")
            }
            if rank >= ranks.count { ranks += Array(repeating: [], count: rank + 1 - ranks.count) }
            ranks[rank] = [UInt8](token)
        }
        if ranks.isEmpty { throw FastPerfError("tokenizer \(path): empty rank file") }
        let model = BytePairModel(tiktokenRanks: ranks)
        let specials = encoding.specials.map {
            (AddedTokenMatcher.Token(id: $0.1, bytes: Array($0.0.utf8)), normalized: false, special: true)
        }
        var decodeBytes = FlatByteStrings()
        let total = max(ranks.count, (encoding.specials.map(\.1).max() ?? 0) + 1)
        let specialText = Dictionary(uniqueKeysWithValues: encoding.specials.map { ($0.1, $0.0) })
        for id in 0..<total {
            if let s = specialText[id] { decodeBytes.append(s.utf8) } else if id < ranks.count { decodeBytes.append(ranks[id]) } else { decodeBytes.append([]) }
        }
        // tiktoken encodes the pattern's matches only (text between matches is dropped): a Split that keeps
        // the matches is `Removed` with `invert`.
        let split = PreTokenizerStep.split(try ScalarRegex(encoding.pattern), .removed, invert: true)
        return Tokenizer(kind: .tiktoken(name), path: path, model: model, added: specials, normalizer: nil,
                         preTokenizers: [split], decodeBytes: decodeBytes, tokenStrings: [], decoders: [])
    }
}
