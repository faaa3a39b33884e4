/// The byte-pair-encoding model shared by Hugging Face `BPE` models and tiktoken rank files: a vocabulary
/// of byte strings and a table of pair merges, each with a priority (rank) and the id it produces.
///
/// - Hugging Face `BPE` (`tokenizers/src/models/bpe/model.rs`): a merge `"a b"` at list position r merges
///   adjacent symbols a and b into the vocabulary entry `a+b`, priority r. Symbols start as one per
///   character (one per byte when a `ByteLevel` pre-tokenizer maps bytes to characters).
/// - tiktoken (`src/lib.rs`, `byte_pair_merge`): any two adjacent parts whose concatenation has a rank
///   merge, lowest rank first. This is the same algorithm with the pair table "every split of every
///   token into two tokens → the token's rank", which `init(tiktokenRanks:)` builds.
/// Both pick the lowest priority first and, on ties, the leftmost pair.
struct BytePairModel: Sendable {
    /// Byte string of every id.
    let vocabulary: FlatByteStrings
    /// Byte string → id.
    let index: ByteStringTable
    /// (left id, right id) → (priority, merged id).
    let pairs: PairTable
    /// Input symbols are bytes (ByteLevel / tiktoken): the id of each byte, −1 when the vocabulary lacks it.
    let byteIDs: [Int32]?
    /// A piece that is itself a vocabulary entry becomes that token without merging (tiktoken; Hugging
    /// Face `ignore_merges`).
    let wholePieceFirst: Bool
    /// Ids of `<0x00>`…`<0xFF>` when `byte_fallback` is on: an unknown character becomes its UTF-8 bytes.
    let byteFallbackIDs: [Int32]?
    /// `unk_token`'s id, and whether consecutive unknowns fuse into one (`fuse_unk`).
    let unknownID: Int32?
    let fuseUnknown: Bool

    /// Number of ids the model defines (0..<count).
    var count: Int { vocabulary.count }

    /// The byte string of `id`.
    func bytes(of id: Int) -> ArraySlice<UInt8> { vocabulary[id] }

    /// A model from a vocabulary (id → bytes; gaps are empty) and merges as (left, right) byte strings in
    /// priority order.
    /// - Throws: `FastPerfError` when a merge names a string that is not in the vocabulary.
    init(vocabulary: [[UInt8]], merges: [([UInt8], [UInt8])], byteLevel: Bool, wholePieceFirst: Bool,
         byteFallback: Bool, unknownToken: [UInt8]?, fuseUnknown: Bool) throws {
        var flat = FlatByteStrings()
        for v in vocabulary { flat.append(v) }
        self.vocabulary = flat
        let index = ByteStringTable(flat)
        self.index = index
        var pairs = PairTable(capacity: merges.count)
        for (rank, (a, b)) in merges.enumerated() {
            guard let l = index.id(of: a[...]), let r = index.id(of: b[...]), let m = index.id(of: (a + b)[...]) else {
                throw FastPerfError("tokenizer: merge \(rank) (\(String(decoding: a, as: UTF8.self)) \(String(decoding: b, as: UTF8.self))) names a token that is not in the vocabulary")
            }
            pairs.set(l, r, rank: UInt32(rank), merged: m)  // a repeated merge: the last one wins, as in `tokenizers`
        }
        self.pairs = pairs
        byteIDs = byteLevel ? (0..<256).map { index.id(of: [UInt8($0)][...]) ?? -1 } : nil
        self.wholePieceFirst = wholePieceFirst
        if byteFallback {
            let ids = (0..<256).map { index.id(of: Array(String(format: "<0x%02X>", $0).utf8)[...]) ?? -1 }
            byteFallbackIDs = ids.contains(-1) ? nil : ids
        } else {
            byteFallbackIDs = nil
        }
        unknownID = unknownToken.flatMap { index.id(of: $0[...]) }
        self.fuseUnknown = fuseUnknown
    }

    /// A tiktoken model: `ranks[r]` is the byte string of rank r (every rank is present).
    init(tiktokenRanks ranks: [[UInt8]]) {
        var flat = FlatByteStrings()
        for v in ranks { flat.append(v) }
        vocabulary = flat
        let index = ByteStringTable(flat)
        self.index = index
        var pairs = PairTable(capacity: ranks.count * 6)
        for (rank, token) in ranks.enumerated() where token.count > 1 {
            for cut in 1..<token.count {
                guard let l = index.id(of: token[..<cut]), let r = index.id(of: token[cut...]) else { continue }
                pairs.set(l, r, rank: UInt32(rank), merged: Int32(rank))
            }
        }
        self.pairs = pairs
        byteIDs = (0..<256).map { index.id(of: [UInt8($0)][...]) ?? -1 }
        wholePieceFirst = true
        byteFallbackIDs = nil
        unknownID = nil
        fuseUnknown = false
    }

    /// Appends the tokens of one pre-tokenized piece. `utf8` is the piece's UTF-8; `scalars` its scalar
    /// values (used when symbols are characters, not bytes).
    func encodePiece(utf8: ArraySlice<UInt8>, scalars: ArraySlice<UInt32>, into out: inout [Int]) {
        if utf8.isEmpty { return }
        if wholePieceFirst, let id = index.id(of: utf8) {
            out.append(Int(id))
            return
        }
        var symbols: [Int32] = []
        symbols.reserveCapacity(utf8.count)
        if let byteIDs {
            for b in utf8 {
                let id = byteIDs[Int(b)]
                if id >= 0 { symbols.append(id) } else if let unknownID { appendUnknown(unknownID, &symbols) }
            }
        } else {
            var k = utf8.startIndex
            for v in scalars {
                let n = v < 0x80 ? 1 : v < 0x800 ? 2 : v < 0x10000 ? 3 : 4
                let char = utf8[k..<(k + n)]
                k += n
                if let id = index.id(of: char) {
                    symbols.append(id)
                } else if let byteFallbackIDs {
                    for b in char { symbols.append(byteFallbackIDs[Int(b)]) }
                } else if let unknownID {
                    appendUnknown(unknownID, &symbols)
                }
            }
        }
        if symbols.count <= 128 { mergeShort(&symbols) } else { mergeLong(&symbols) }
        for s in symbols { out.append(Int(s)) }
    }

    private func appendUnknown(_ id: Int32, _ symbols: inout [Int32]) {
        if fuseUnknown, symbols.last == id { return }
        symbols.append(id)
    }

    /// Merges a short word in place: keeps the priority of every adjacent pair and rescans for the lowest.
    private func mergeShort(_ symbols: inout [Int32]) {
        guard symbols.count > 1 else { return }
        var priority: [UInt64] = []  // (rank << 32 | merged id), UInt64.max when the pair does not merge
        priority.reserveCapacity(symbols.count - 1)
        for i in 0..<(symbols.count - 1) { priority.append(pairs.get(symbols[i], symbols[i + 1]) ?? .max) }
        while true {
            var best = UInt64.max
            var at = -1
            for (i, p) in priority.enumerated() where p >> 32 < best >> 32 {
                best = p
                at = i
            }
            if at < 0 { return }
            symbols[at] = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
            symbols.remove(at: at + 1)
            priority.remove(at: at)
            if at < priority.count { priority[at] = pairs.get(symbols[at], symbols[at + 1]) ?? .max }
            if at > 0 { priority[at - 1] = pairs.get(symbols[at - 1], symbols[at]) ?? .max }
        }
    }

    /// Merges a long word in O(n log n): a doubly linked list of symbols and a min-heap of candidate
    /// merges keyed (priority, position), entries checked again when popped (as `tokenizers`' `merge_word`).
    private func mergeLong(_ symbols: inout [Int32]) {
        let n = symbols.count
        var next = Array(1...n)
        var prev = Array(-1..<(n - 1))
        var alive = [Bool](repeating: true, count: n)
        var heap = MinHeap()
        for i in 0..<(n - 1) {
            if let p = pairs.get(symbols[i], symbols[i + 1]) { heap.push((p & 0xFFFF_FFFF_0000_0000) | UInt64(i)) }
        }
        while let top = heap.pop() {
            let i = Int(top & 0xFFFF_FFFF)
            let rank = top >> 32
            guard alive[i], next[i] < n, let p = pairs.get(symbols[i], symbols[next[i]]), p >> 32 == rank else { continue }
            let j = next[i]
            symbols[i] = Int32(truncatingIfNeeded: p & 0xFFFF_FFFF)
            alive[j] = false
            next[i] = next[j]
            if next[j] < n { prev[next[j]] = i }
            if prev[i] >= 0, let q = pairs.get(symbols[prev[i]], symbols[i]) { heap.push((q & 0xFFFF_FFFF_0000_0000) | UInt64(prev[i])) }
            if next[i] < n, let q = pairs.get(symbols[i], symbols[next[i]]) { heap.push((q & 0xFFFF_FFFF_0000_0000) | UInt64(i)) }
        }
        var out: [Int32] = []
        out.reserveCapacity(n)
        var i = 0
        while i < n {
            out.append(symbols[i])
            i = next[i]
        }
        symbols = out
    }
}

/// A binary min-heap of `UInt64` keys.
struct MinHeap {
    private var items: [UInt64] = []

    mutating func push(_ v: UInt64) {
        items.append(v)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if items[parent] <= items[i] { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> UInt64? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if items.isEmpty { return first }
        items[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var m = i
            if l < items.count && items[l] < items[m] { m = l }
            if r < items.count && items[r] < items[m] { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return first
    }
}

/// Open-addressing hash table (left id, right id) → (priority << 32 | merged id). Key and value share
/// one array (`slots[2i]`, `slots[2i + 1]`) so a probe touches one cache line.
struct PairTable: Sendable {
    private var slots: [UInt64]
    private let mask: Int

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [UInt64](repeating: .max, count: size * 2)
        mask = size - 1
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 29) & mask
    }

    /// Sets (or replaces) the pair's entry.
    mutating func set(_ a: Int32, _ b: Int32, rank: UInt32, merged: Int32) {
        let key = UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
        var i = slot(key)
        while slots[2 * i] != .max && slots[2 * i] != key { i = (i + 1) & mask }
        slots[2 * i] = key
        slots[2 * i + 1] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: merged))
    }

    /// (priority << 32 | merged id) of the pair, or nil when it does not merge.
    @inline(__always)
    func get(_ a: Int32, _ b: Int32) -> UInt64? {
        let key = UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
        var i = slot(key)
        while true {
            let k = slots[2 * i]
            if k == key { return slots[2 * i + 1] }
            if k == .max { return nil }
            i = (i + 1) & mask
        }
    }
}

/// Open-addressing hash table byte string → id over a model's vocabulary. Empty strings and duplicates
/// (the lowest id wins) are not indexed.
struct ByteStringTable: Sendable {
    private let strings: FlatByteStrings
    private var slots: [Int32]
    private let mask: Int

    init(_ strings: FlatByteStrings) {
        self.strings = strings
        var size = 16
        while size < strings.count * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
        for id in 0..<strings.count {
            let s = strings[id]
            if s.isEmpty { continue }
            var i = Self.hash(s) & mask
            var duplicate = false
            while slots[i] >= 0 {
                if strings[Int(slots[i])].elementsEqual(s) { duplicate = true; break }
                i = (i + 1) & mask
            }
            if !duplicate { slots[i] = Int32(id) }
        }
    }

    /// FNV-1a, folded.
    @inline(__always)
    static func hash(_ s: ArraySlice<UInt8>) -> Int {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    /// The id of byte string `s`, or nil.
    func id(of s: ArraySlice<UInt8>) -> Int32? {
        if s.isEmpty { return nil }
        var i = Self.hash(s) & mask
        while true {
            let id = slots[i]
            if id < 0 { return nil }
            let candidate = strings[Int(id)]
            if candidate.count == s.count && candidate.elementsEqual(s) { return id }
            i = (i + 1) & mask
        }
    }
}
