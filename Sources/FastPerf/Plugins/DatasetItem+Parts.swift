/// Views of a `DatasetItem` that API plugins (built-in or a user's) use to render request bodies.
extension DatasetItem {
    /// The item without a dataset-fixed output length (`withMaxTokens` unwrapped, recursively).
    public var base: DatasetItem {
        if case .withMaxTokens(let inner, _) = self { return inner.base }
        return self
    }

    /// The reply length the dataset fixed for this item, in tokens; nil when `--max-tokens` applies.
    public var maxTokens: Int? {
        if case .withMaxTokens(let inner, let n) = self { return inner.maxTokens ?? n }
        return nil
    }

    /// The item as chat messages: a prompt becomes one `user` message; nil for a whole body.
    public var messages: [Message]? {
        switch base {
        case .messages(let messages): return messages
        case .prompt(let text): return [Message(role: "user", content: text)]
        default: return nil
        }
    }

    /// The item as one text: the prompt, or the messages' contents joined with `"\n"` (as a completions
    /// `prompt`); nil for a whole body.
    public var promptText: String? {
        switch base {
        case .messages(let messages): return messages.map(\.content).joined(separator: "\n")
        case .prompt(let text): return text
        default: return nil
        }
    }
}
