import Foundation
import Synchronization

/// `random` (evalscope `random_dataset.py`, the "N input tokens" benchmark): synthetic prompts whose
/// re-encoded length is exactly a token count drawn uniformly from
/// `[--min-prompt-length, --max-prompt-length]`, plus `--prefix-length` tokens of one random prefix shared
/// by every prompt of the run. Needs `--tokenizer-path`.
///
/// Item i (of `max(--number)` items): a prompt of `L_i` tokens starts as the consecutive run of pool ids
/// from a random offset (vLLM's and evalscope's construction), pool = `Tokenizer.ordinaryTokenIDs` (no
/// special, added or `<0xHH>` tokens). The text is decode(prefix + run); it is re-encoded, truncated when
/// too long or extended with random pool tokens when too short, and decoded again until the re-encoded
/// length is exactly `prefix_length + L_i` (decoding can merge or split tokens at their seams). Output
/// length comes from `--max-tokens`/`--min-tokens` (add `{"ignore_eos": true}` with `--extra-args` where
/// the server needs it).
///
/// Reproducible: every draw comes from SplitMix64 seeded with `--seed` (0 when absent) and the item
/// index, so the prompts do not depend on how many threads build them. Chat endpoints receive the text
/// as one user message and add their chat template's tokens on top; `/v1/completions` receives it as is.
public struct RandomDataset: DatasetPlugin, Sendable {
    /// The registered name, `random`.
    public static let name = "random"
    /// Re-encode rounds before giving up on one prompt (in practice 1–3 are needed).
    static let maxRounds = 64

    let tokenizer: Tokenizer
    let count: Int
    let lengths: ClosedRange<Int>
    let prefixLength: Int
    let seed: UInt64

    /// - Throws: `FastPerfError` without `--tokenizer-path`, for bounds that allow an empty prompt or
    ///   `min > max`, a negative `--prefix-length`, or a tokenizer without ordinary tokens.
    public init(arguments: RunArguments) throws {
        guard let tokenizer = try Tokenizer.forRun(arguments) else {
            throw FastPerfError("dataset 'random' needs --tokenizer-path (prompts are built to exact token lengths)")
        }
        let lo = arguments.minPromptLength
        let hi = arguments.maxPromptLength
        guard lo >= 0, lo <= hi else {
            throw FastPerfError("random: need 0 ≤ --min-prompt-length ≤ --max-prompt-length (got \(lo), \(hi))")
        }
        guard arguments.prefixLength >= 0 else { throw FastPerfError("--prefix-length must not be negative") }
        guard lo + arguments.prefixLength >= 1 else {
            throw FastPerfError("random: --min-prompt-length 0 with no --prefix-length allows empty prompts; use at least 1")
        }
        guard !tokenizer.ordinaryTokenIDs.isEmpty else { throw FastPerfError("random: the tokenizer has no ordinary tokens") }
        self.tokenizer = tokenizer
        count = max(1, arguments.number.max() ?? 1)
        lengths = lo...hi
        prefixLength = arguments.prefixLength
        seed = UInt64(bitPattern: Int64(arguments.seed ?? 0))
    }

    /// `max(--number)` prompts, built on all cores.
    /// - Throws: `FastPerfError` when a prompt's length does not converge (reports the item and seed).
    public func buildMessages() throws -> [DatasetItem] {
        let pool = tokenizer.ordinaryTokenIDs
        let (prefixIDs, prefix) = try sharedPrefix()
        let results = ResultSlots<String>(count: count)
        let chunk = 64
        DispatchQueue.concurrentPerform(iterations: (count + chunk - 1) / chunk) { c in
            for i in (c * chunk)..<min(count, (c + 1) * chunk) {
                var random = SplitMix64(seed: seed, stream: UInt64(i))
                let length = lengths.lowerBound + random.below(lengths.count)
                let offset = random.below(pool.count)
                let inner = (0..<length).map { pool[(offset + $0) % pool.count] }
                results.set(i, Result { try exactText(prefixIDs + inner, target: prefixLength + length, prefix: prefix,
                                                      random: &random, item: i) })
            }
        }
        return try results.values().map { .prompt(try $0.get()) }
    }

    /// The run's shared prefix: its random pool ids and its text (exactly `--prefix-length` tokens on its
    /// own); empty without `--prefix-length`.
    func sharedPrefix() throws -> (ids: [Int], text: String) {
        guard prefixLength > 0 else { return ([], "") }
        let pool = tokenizer.ordinaryTokenIDs
        var random = SplitMix64(seed: seed, stream: .max)
        let ids = (0..<prefixLength).map { _ in pool[random.below(pool.count)] }
        return (ids, try exactText(ids, target: prefixLength, prefix: "", random: &random, item: -1))
    }

    /// Text starting with `prefix` whose encoding has exactly `target` tokens, from candidate ids `ids`.
    func exactText(_ ids: [Int], target: Int, prefix: String, random: inout SplitMix64, item: Int) throws -> String {
        let pool = tokenizer.ordinaryTokenIDs
        var current = ids
        var cache = PieceCache()
        for _ in 0..<Self.maxRounds {
            let text = tokenizer.decode(current)
            let encoded = tokenizer.encode(text, cache: &cache)
            if encoded.count == target && text.hasPrefix(prefix) { return text }
            if encoded.count >= target {
                current = Array(encoded.prefix(target))
            } else {
                current = encoded + (0..<(target - encoded.count)).map { _ in pool[random.below(pool.count)] }
            }
            if !prefix.isEmpty && !tokenizer.decode(current).hasPrefix(prefix) {
                // Truncation cut into the shared prefix (only possible at its seam): start over from it.
                current = tokenizer.encode(prefix) + (0..<max(1, target - prefixLength)).map { _ in pool[random.below(pool.count)] }
            }
        }
        throw FastPerfError("random: prompt \(item) did not reach exactly \(target) tokens after \(Self.maxRounds) rounds (seed \(seed)); try another --seed")
    }
}

/// Results filled by index from several threads (`DispatchQueue.concurrentPerform`), read after.
final class ResultSlots<T: Sendable>: Sendable {
    private let slots: Mutex<[Result<T, any Error>?]>

    init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }

    func set(_ i: Int, _ value: Result<T, any Error>) { slots.withLock { $0[i] = value } }

    /// Every slot's result, in index order (a slot never set is an error).
    func values() -> [Result<T, any Error>] {
        slots.withLock { $0.map { $0 ?? .failure(FastPerfError("internal: result slot not filled")) } }
    }
}
