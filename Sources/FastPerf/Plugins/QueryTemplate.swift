import Foundation

/// `--query-template`: a request body template (JSON text, or `@path` of a file holding it), as documented for
/// evalscope perf (whose code never substitutes the placeholders; EVALSCOPE-PERF §2.2, §2.4). For each dataset
/// item the template becomes a whole request body (`DatasetItem.body`), so the API plugin keeps every field
/// the template sets and flag values only fill the ones it lacks; `--extra-args` is still merged last.
///
/// Substitution, in every string value at any depth (keys are left alone):
/// - `%m` → `--model`;
/// - `%p` → the prompt: the prompt text, or for a conversation its contents joined with `"\n"`;
/// - a `messages` array (at any depth, e.g. `input.messages` for DashScope) with a `%p` anywhere inside is
///   replaced as a whole by the item's conversation (a plain prompt is one `user` message), so a template
///   written for one prompt also carries multi-turn datasets.
/// A whole-body item (`line_by_line` object lines) is sent as is; a dataset-fixed output length is kept.
struct QueryTemplate {
    /// The parsed template.
    let template: [String: Any]

    /// Reads `--query-template`; nil when the flag is absent.
    /// - Throws: `FastPerfError` for an unreadable `@file` or text that is not a JSON object.
    init?(arguments: RunArguments) throws {
        guard var text = arguments.queryTemplate else { return nil }
        if text.hasPrefix("@") {
            text = try DatasetFiles.readText(String(text.dropFirst()), dataset: "--query-template")
        }
        template = try RequestBody.object(text, what: "--query-template")
    }

    /// `item` rendered through the template as a whole body (see the type's documentation).
    /// - Throws: `FastPerfError` when the result cannot be encoded as JSON.
    func apply(_ item: DatasetItem, model: String) throws -> DatasetItem {
        if case .withMaxTokens(let inner, let n) = item {
            return .withMaxTokens(try apply(inner, model: model), n)
        }
        guard let messages = item.messages, let prompt = item.promptText else { return item }
        let filled = substitute(template, model: model, prompt: prompt, messages: RequestBody.messagesJSON(messages))
        return .body(String(decoding: try RequestBody.encode(filled as? [String: Any] ?? [:]), as: UTF8.self))
    }

    /// `value` with the placeholders replaced (recursively).
    private func substitute(_ value: Any, model: String, prompt: String, messages: [[String: Any]], key: String? = nil) -> Any {
        switch value {
        case let text as String:
            return text.replacingOccurrences(of: "%m", with: model).replacingOccurrences(of: "%p", with: prompt)
        case let array as [Any]:
            if key == "messages" && Self.containsPrompt(array) { return messages }
            return array.map { substitute($0, model: model, prompt: prompt, messages: messages) }
        case let object as [String: Any]:
            return object.reduce(into: [String: Any]()) { out, entry in
                out[entry.key] = substitute(entry.value, model: model, prompt: prompt, messages: messages, key: entry.key)
            }
        default:
            return value
        }
    }

    /// Whether a `%p` occurs in a string anywhere inside `value`.
    private static func containsPrompt(_ value: Any) -> Bool {
        switch value {
        case let text as String: return text.contains("%p")
        case let array as [Any]: return array.contains(where: containsPrompt)
        case let object as [String: Any]: return object.values.contains(where: containsPrompt)
        default: return false
        }
    }
}
