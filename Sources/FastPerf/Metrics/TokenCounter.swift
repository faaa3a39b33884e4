import Foundation

/// The token-count fallback (DESIGN.md §3 "completion/prompt tokens"): when a successful response carries
/// no `usage`, the writer thread counts with the run's tokenizer, as evalscope's
/// `OpenaiPlugin.parse_responses` does: prompt = the request's prompt text (the sum over its messages'
/// contents; FastPerf applies no chat template), completion = the generated `content`/`text` (reasoning
/// text is not counted). Such rows get `tokens_counted = 1`.
struct TokenCounter: Sendable {
    let tokenizer: Tokenizer
    /// The distinct dataset items the requests were rendered from: request `i` from `items[i % items.count]`.
    let items: [DatasetItem]

    /// Prompt tokens of request `index` (0 when it has no prompt text).
    func promptTokens(requestIndex: Int) -> Int {
        guard !items.isEmpty, requestIndex >= 0 else { return 0 }
        let index = requestIndex % items.count
        let texts = items[index].promptTexts ?? Self.promptTexts(ofBody: items[index])
        return texts.reduce(0) { $0 + tokenizer.count($1) }
    }

    /// Completion tokens of the generated text.
    func completionTokens(_ generated: String) -> Int { tokenizer.count(generated) }

    /// The prompt texts of a `.body` item (its `prompt` string or its messages' string contents).
    private static func promptTexts(ofBody item: DatasetItem) -> [String] {
        guard case .body(let json) = item,
              let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any]
        else { return [] }
        return promptTexts(ofRequestBody: object)
    }

    /// The prompt texts of a decoded OpenAI request body: `prompt` (a string) or each message's string
    /// `content`. Also used by the mock server to report prompt tokens.
    static func promptTexts(ofRequestBody object: [String: Any]) -> [String] {
        if let messages = object["messages"] as? [[String: Any]] { return messages.compactMap { $0["content"] as? String } }
        if let prompt = object["prompt"] as? String { return [prompt] }
        return []
    }
}

extension DatasetItem {
    /// The texts a prompt length is measured on: the prompt, or every message's content; nil for a whole
    /// request body.
    var promptTexts: [String]? {
        switch base {
        case .prompt(let s): [s]
        case .messages(let ms): ms.map(\.content)
        default: nil
        }
    }
}
