/// `sharegpt`: ShareGPT conversations (e.g. `ShareGPT_V3_unfiltered_cleaned_split.json`, the dataset of vLLM's
/// `benchmark_serving --dataset-name sharegpt`): a JSON list — or JSON Lines — of objects whose
/// `conversations` is a list of turns `{"from": "human" | "gpt" | …, "value": text}` (`{"role", "content"}`
/// turns are read too). Each conversation gives one prompt: its first human (`human`/`user`) turn.
/// Conversations without one are skipped. Prompts pass the `--min/--max-prompt-length` filter (characters).
///
/// `--dataset-args` (JSON object):
/// - `output_from_reply` (bool, default false): take each request's `max_tokens` from the reply — the turn
///   after the prompt — as `round(characters / chars_per_token)`, at least 1 (vLLM's ShareGPT benchmark
///   takes the reply's token count; without a tokenizer FastPerf estimates it). Conversations with no
///   non-empty reply are skipped.
/// - `chars_per_token` (number > 0, default 3.0, evalscope's multi-turn estimate): characters per token
///   for that estimate.
public struct ShareGPTDataset: DatasetPlugin {
    /// The registered name, `sharegpt`.
    public static let name = "sharegpt"
    /// `--dataset-path`, the run's arguments and `--dataset-args`.
    let file: DatasetFile
    /// `output_from_reply`.
    let outputFromReply: Bool
    /// `chars_per_token`, characters per token (> 0).
    let charsPerToken: Double

    /// - Throws: `FastPerfError` when `--dataset-path` is missing or `--dataset-args` has an unknown key or a
    ///   value of the wrong type.
    public init(arguments: RunArguments) throws {
        file = try DatasetFile(arguments, dataset: Self.name, options: ["output_from_reply", "chars_per_token"])
        let options = file.options
        switch options["output_from_reply"] {
        case nil: outputFromReply = false
        case let flag as Bool: outputFromReply = flag
        default: throw FastPerfError("--dataset-args: output_from_reply must be true or false")
        }
        switch options["chars_per_token"] {
        case nil: charsPerToken = 3.0
        case let n as Double where n > 0: charsPerToken = n
        case let n as Int where n > 0: charsPerToken = Double(n)
        default: throw FastPerfError("--dataset-args: chars_per_token must be a number greater than 0")
        }
    }

    /// One prompt per conversation, in file order (see the type's documentation).
    /// - Throws: `FastPerfError` naming the file (and item) when it is not a list of conversations.
    public func buildMessages() throws -> [DatasetItem] {
        let text = try file.text()
        let entries: [(label: String, value: Any)]
        if let list = DatasetFiles.json(Substring(text)) as? [Any] {
            entries = list.enumerated().map { ("item \($0.offset + 1)", $0.element) }
        } else {
            entries = try file.jsonLines(text).map { ("line \($0.number)", $0.value) }
        }
        var items: [DatasetItem] = []
        for (label, value) in entries {
            guard let object = value as? [String: Any], let turns = object["conversations"] as? [Any] else {
                throw FastPerfError("\(file.location) \(label): not an object with a \"conversations\" list")
            }
            if let item = item(turns.compactMap(Self.turn)) { items.append(item) }
        }
        return try file.filtered(items)
    }

    /// The item of one conversation's turns, or nil when it has no human turn (or no reply when one is needed).
    func item(_ turns: [(speaker: String, text: String)]) -> DatasetItem? {
        guard let first = turns.firstIndex(where: { ["human", "user"].contains($0.speaker) }) else { return nil }
        let prompt = DatasetItem.prompt(turns[first].text)
        guard outputFromReply else { return prompt }
        guard first + 1 < turns.count, !["human", "user", "system"].contains(turns[first + 1].speaker) else { return nil }
        let reply = turns[first + 1].text
        guard !reply.isEmpty else { return nil }
        return .withMaxTokens(prompt, max(1, Int((Double(reply.count) / charsPerToken).rounded())))
    }

    /// A turn as (speaker lowercased, text): `from`/`value`, or `role`/`content`; nil for anything else.
    static func turn(_ value: Any) -> (speaker: String, text: String)? {
        guard let object = value as? [String: Any] else { return nil }
        guard let speaker = (object["from"] ?? object["role"]) as? String,
            let text = (object["value"] ?? object["content"]) as? String
        else { return nil }
        return (speaker.lowercased(), text)
    }
}
