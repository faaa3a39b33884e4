import Foundation

/// A JSON request body under construction, shared by the built-in API plugins so that every API applies
/// the flags the same way (EVALSCOPE-PERF §2.4):
///
/// 1. the dataset item's content (`messages`, `prompt`, `input`, …, rendered by the plugin), or a whole
///    body (`DatasetItem.body`: a `line_by_line` object line or a `--query-template`);
/// 2. flag values (`set`): for a whole body they only fill keys it lacks, so a template's `temperature`
///    is never overwritten by the flag default; a dataset-fixed length (`DatasetItem.withMaxTokens`) always
///    wins over `--max-tokens` and the body;
/// 3. `--extra-args` merged last, overriding (`mergeExtraArgs`).
///
/// Built before the run, never on a loop thread; `JSONSerialization` does the encoding.
struct RequestBody {
    /// The body so far.
    var object: [String: Any]
    /// The item was a whole body: flag values only fill missing keys.
    let fillOnly: Bool
    /// `DatasetItem.maxTokens` of the item, in tokens.
    let itemMaxTokens: Int?

    /// Starts from `item`: a whole body is parsed; anything else is rendered by `render(item.base)`.
    /// - Throws: `FastPerfError` when a whole body is not a JSON object.
    init(item: DatasetItem, render: (DatasetItem) throws -> [String: Any]) throws {
        itemMaxTokens = item.maxTokens
        if case .body(let json) = item.base {
            object = try Self.object(json, what: "request body item")
            fillOnly = true
        } else {
            object = try render(item.base)
            fillOnly = false
        }
    }

    /// Sets `key` (in the object `parent` when given, created if missing) to `value`; nil does nothing, and
    /// for a whole body an existing key is kept.
    mutating func set(_ key: String, _ value: Any?, in parent: String? = nil) {
        guard let value else { return }
        guard let parent else {
            if fillOnly && object[key] != nil { return }
            object[key] = value
            return
        }
        var nested = object[parent] as? [String: Any] ?? [:]
        if fillOnly && nested[key] != nil { return }
        nested[key] = value
        object[parent] = nested
    }

    /// Sets the API's output-length key: the item's own length when the dataset fixed one (always), else
    /// `--max-tokens` (like any flag).
    mutating func setMaxTokens(_ key: String, in parent: String? = nil, arguments: RunArguments) {
        if let n = itemMaxTokens {
            if let parent {
                var nested = object[parent] as? [String: Any] ?? [:]
                nested[key] = n
                object[parent] = nested
            } else {
                object[key] = n
            }
        } else {
            set(key, arguments.maxTokens, in: parent)
        }
    }

    /// A flag an API sends (EVALSCOPE-PERF §1.9), with the API's key where APIs name it differently.
    enum Flag {
        /// `--model` → `model`.
        case model
        /// `--max-tokens`, or the item's own length (`setMaxTokens`), under the API's key.
        case maxTokens(String)
        /// `--min-tokens` → `min_tokens`.
        case minTokens
        /// `--temperature`, `--top-p`, `--top-k`, `--seed` → `temperature`, `top_p`, `top_k`, `seed`.
        case temperature, topP, topK, seed
        /// `--stop` under the API's key.
        case stop(String)
        /// `--stream/--no-stream` → `stream`.
        case stream
    }

    /// Sets each of `flags` from `arguments` (in the object `parent` when given), as `set` does.
    mutating func set(_ flags: [Flag], from arguments: RunArguments, in parent: String? = nil) {
        for flag in flags {
            switch flag {
            case .model: set("model", arguments.model, in: parent)
            case .maxTokens(let key): setMaxTokens(key, in: parent, arguments: arguments)
            case .minTokens: set("min_tokens", arguments.minTokens, in: parent)
            case .temperature: set("temperature", arguments.temperature, in: parent)
            case .topP: set("top_p", arguments.topP, in: parent)
            case .topK: set("top_k", arguments.topK, in: parent)
            case .seed: set("seed", arguments.seed, in: parent)
            case .stop(let key): set(key, arguments.stop, in: parent)
            case .stream: set("stream", arguments.stream, in: parent)
            }
        }
    }

    /// Merges `--extra-args` (a JSON object) into the body, or into the object `parent`, overriding.
    /// - Throws: `FastPerfError` when `--extra-args` is not a JSON object.
    mutating func mergeExtraArgs(_ arguments: RunArguments, in parent: String? = nil) throws {
        guard let extra = arguments.extraArgs, !extra.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return }
        let extraObject = try Self.object(extra, what: "--extra-args")
        if let parent {
            var nested = object[parent] as? [String: Any] ?? [:]
            for (key, value) in extraObject { nested[key] = value }
            object[parent] = nested
        } else {
            for (key, value) in extraObject { object[key] = value }
        }
    }

    /// The body's `stream` value (false when absent or not a bool).
    var streams: Bool { (object["stream"] as? Bool) ?? false }

    /// Compact UTF-8 JSON: keys sorted, non-ASCII and `/` not escaped.
    /// - Throws: `FastPerfError` when the object holds a value JSON cannot encode.
    func encoded() throws -> [UInt8] { try Self.encode(object) }

    /// `object` as compact UTF-8 JSON: keys sorted, non-ASCII and `/` not escaped.
    /// - Throws: `FastPerfError` when the object holds a value JSON cannot encode.
    static func encode(_ object: [String: Any]) throws -> [UInt8] {
        do {
            return [UInt8](try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
        } catch {
            throw FastPerfError("cannot encode the request body as JSON: \(error)")
        }
    }

    /// `messages` as OpenAI-style JSON message objects (`role`, `content`).
    static func messagesJSON(_ messages: [Message]) -> [[String: Any]] {
        messages.map { ["role": $0.role, "content": $0.content] }
    }

    /// Parses `text` as a JSON object, or throws a one-line `FastPerfError` naming `what`.
    static func object(_ text: String, what: String) throws -> [String: Any] {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        } catch {
            throw FastPerfError("\(what) is not valid JSON: \(OpenAIPlugin.oneLine(text, limit: 80))")
        }
        guard let object = parsed as? [String: Any] else {
            throw FastPerfError("\(what) must be a JSON object, got: \(OpenAIPlugin.oneLine(text, limit: 80))")
        }
        return object
    }
}
