import Foundation
import Testing
@testable @_spi(Benchmarks) import FastPerf

/// The fast chunk reader must agree with `JSONDecoder` whenever it answers.
struct OpenAIChunkScannerTests {
    /// A comparable rendering of everything `OpenAIPlugin.parseStream` reads from a chunk's facts (texts as bytes).
    static func describe(_ f: ChunkFacts, event: Span<UInt8>) -> String {
        func text(_ r: TextRef?) -> String {
            guard let r else { return "nil" }
            var bytes: [UInt8] = []
            f.append(r, from: event, to: &bytes)
            return "\(bytes)"
        }
        var s = "usage=\(f.promptTokens as Any)/\(f.completionTokens as Any)"
        for c in f.choices {
            s += " [i=\(c.index as Any) f=\(c.finished) t=\(text(c.text)) c=\(text(c.content))"
            s += " rc=\(text(c.reasoningContent)) r=\(text(c.reasoning)) tc=\(c.toolCallCount)]"
        }
        return s
    }

    /// The reference: `JSONDecoder`'s `ChunkJSON`, as facts; nil when it does not decode or is an error chunk
    /// (the scan always leaves those to the decoder).
    static func decodedFacts(_ bytes: [UInt8]) -> String? {
        guard let chunk = try? JSONDecoder().decode(ChunkJSON.self, from: Data(bytes)),
              chunk.error == nil, chunk.message == nil else { return nil }
        var f = ChunkFacts()
        f.load(chunk)
        return describe(f, event: bytes.span)
    }

    /// The fast reading of `bytes`, or nil when it hands the chunk to the decoder. With `after`, that chunk is
    /// scanned first in the same payload, so that `bytes` may resume from its checkpoint; with `after` and
    /// `memo`, it is scanned first in a payload of its own (as in an earlier stream), so that `bytes` may take its
    /// ending's facts from a `ChunkMemo`.
    static func scanned(_ bytes: [UInt8], after previous: [UInt8]? = nil, memo: Bool = false) -> String? {
        if memo, let previous {
            let memo = ChunkMemo()
            var template = OpenAIChunkScanner.Template()
            var facts = ChunkFacts()
            _ = OpenAIChunkScanner.scan(previous.span, 0..<previous.count, into: &facts, template: &template, memo: memo)
            template = OpenAIChunkScanner.Template()
            guard OpenAIChunkScanner.scan(bytes.span, 0..<bytes.count, into: &facts, template: &template, memo: memo) else {
                return nil
            }
            return describe(facts, event: bytes.span)
        }
        let payload = (previous ?? []) + bytes
        let span = payload.span
        var template = OpenAIChunkScanner.Template()
        var facts = ChunkFacts()
        if let previous { _ = OpenAIChunkScanner.scan(span, 0..<previous.count, into: &facts, template: &template) }
        let range = payload.count - bytes.count..<payload.count
        guard OpenAIChunkScanner.scan(span, range, into: &facts, template: &template) else { return nil }
        return describe(facts, event: span.extracting(range))
    }

    /// Whenever the fast path answers it agrees with the decoder, alone, after `previous`, and after `previous`
    /// in an earlier stream (its ending kept in a `ChunkMemo`).
    @discardableResult
    static func check(_ bytes: [UInt8], after previous: [UInt8]? = nil, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let reference = decodedFacts(bytes)
        var answered = false
        for (before, memo) in [(nil, false), (previous, false), (previous, true)] {
            if let fast = scanned(bytes, after: before, memo: memo) {
                answered = true
                #expect(fast == reference, "input: \(String(decoding: bytes, as: UTF8.self)) \(bytes)",
                        sourceLocation: sourceLocation)
            }
        }
        return answered
    }

    static func check(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        check(Array(text.utf8), sourceLocation: sourceLocation)
    }

    static func canScan(_ text: String) -> Bool { scanned(Array(text.utf8)) != nil }

    static let samples: [String] = [
        #"{"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}"#,
        #"{"choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}],"usage":null}"#,
        #"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0}}}"#,
        #"{"choices":[{"index":1,"delta":{"content":"a\"b\\c\/d\n\u00e9\ud83d\ude0a"},"finish_reason":"stop"}]}"#,
        #"{"choices":[{"index":0,"delta":{"reasoning_content":"think","content":null}}]}"#,
        #"{"choices":[{"index":0,"delta":{"reasoning":"hmm"}}]}"#,
        #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"f","arguments":"{\"x\":1}"}}]}}]}"#,
        #"{"choices":[{"index":0,"delta":{"tool_calls":null}}]}"#,
        #"{"choices":[{"index":0,"delta":{"tool_calls":{}}}]}"#,
        #"{"choices":[{"index":"0","delta":{"content":["part"]},"finish_reason":7}]}"#,
        #"{"choices":null}"#,
        #"{"choices":[1,2]}"#,
        #"{"choices":[{"index":0,"text":" tok","finish_reason":null}],"object":"text_completion"}"#,
        #"{"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
        #"{"usage":{"prompt_tokens":1.5,"completion_tokens":2}}"#,
        #"{"usage":{"prompt_tokens":-3,"completion_tokens":1e2}}"#,
        #"{"usage":{"prompt_tokens":99999999999999999999}}"#,
        #"{"error":{"message":"boom","type":"x","code":500}}"#,
        #"{"message":"bad","object":"error"}"#,
        #"{"choices":[{"index":0,"delta":{"content":"a"},"delta":{"content":"b"}}]}"#,
        #"  { "choices" : [ { "index" : 0 , "delta" : { "content" : "sp" } } ] , "x" : [ true , false , null , -1.5e-3 , { } , [ ] ] }  "#,
        #"{"choices":[{"index":0,"delta":{"content":"x"}}]} trailing"#,
        #"{"choices":[{"index":0,"delta":{"content":"bad \q escape"}}]}"#,
        #"{"choices":[{"index":0,"delta":{"content":"lone \ud800 surrogate"}}]}"#,
        #"{"choices":[{"index":0,"delta":{"content":"x"}}"#,
        #"{"a":01}"#,
        #"{"a":-}"#,
        #"{"\u0063hoices":[{"index":0,"delta":{"content":"escaped key"}}]}"#,
        "[1,2,3]",
        "{}",
        #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":0,"delta":{"content":"café 你好"},"finish_reason":null}]}"#,
        #"{"id":"x","created":12,"usage":{"prompt_tokens":5,"completion_tokens":7},"choices":[{"index":0,"text":"t","delta":{"reasoning_content":"","reasoning":"r"},"finish_reason":"length"},{"index":1,"delta":{"content":"\u00e9"}}]}"#,
    ]

    @Test func agreesWithJSONDecoderOnSamples() {
        for s in Self.samples { Self.check(s) }
        // The common shapes are read by the fast path, not handed back.
        #expect(Self.canScan(Self.samples[0]))
        #expect(Self.scanned(Array(Self.samples[3].utf8)) == Self.decodedFacts(Array(Self.samples[3].utf8)))
        #expect(Self.scanned(Array(Self.samples[3].utf8))?.contains("\(Array("a\"b\\c/d\né😊".utf8))") == true)
        #expect(Self.scanned(Array(Self.samples[2].utf8))?.hasPrefix("usage=Optional(12)/Optional(3)") == true)
        #expect(!Self.canScan(Self.samples[17]))  // error: decoder path
        // Every kept key is recognized (the packed-word comparison).
        let keys: [(String, OpenAIChunkScanner.Key)] = [
            ("choices", .choices), ("usage", .usage), ("error", .error), ("message", .message), ("index", .index),
            ("finish_reason", .finishReason), ("text", .text), ("delta", .delta), ("content", .content),
            ("reasoning_content", .reasoningContent), ("reasoning", .reasoning), ("tool_calls", .toolCalls),
            ("prompt_tokens", .promptTokens), ("completion_tokens", .completionTokens), ("contenT", .other),
            ("reasoning_contenu", .other), ("completion_tokenz", .other), ("id", .other), ("reasoninG", .other),
        ]
        for (name, key) in keys {
            let bytes = Array(name.utf8)
            #expect(OpenAIChunkScanner.key(bytes.span, 0..<bytes.count) == key, "\(name)")
        }
    }

    /// Chunks that share their beginning: the second resumes at the first's checkpoint and still agrees.
    @Test func resumesFromTheSharedBeginningOfAStream() {
        let base = #"{"id":"c","object":"chat.completion.chunk","created":17,"model":"m","choices":[{"index":0,"delta":{"content":"A"}}]}"#
        let next = #"{"id":"c","object":"chat.completion.chunk","created":17,"model":"m","choices":[{"index":0,"delta":{"content":"B\n"}}]}"#
        let a = Array(base.utf8), b = Array(next.utf8)
        #expect(Self.check(b, after: a))
        #expect(Self.scanned(b, after: a) == Self.decodedFacts(b))
        // A different number at the checkpoint's edge ("created":170) must not resume into the wrong state.
        let longer = Array(next.replacingOccurrences(of: "17,", with: "170,").utf8)
        #expect(Self.scanned(longer, after: a) == Self.decodedFacts(longer))
        let broken = Array(next.replacingOccurrences(of: "17,", with: "1.,").utf8)
        #expect(Self.scanned(broken, after: a) == nil)
    }

    /// A token chunk is read as the previous full chunk's shape (the same bytes around one raw text); whatever
    /// the shape reads, and whatever it refuses and the full scan reads instead, agrees with the decoder.
    @Test func tokenChunksAreReadAsTheStreamsShape() throws {
        let head = #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":0,"delta":{"content":""#
        let tail = #""},"finish_reason":null}]}"#
        let first = Array((head + "tok0" + tail).utf8)
        var template = OpenAIChunkScanner.Template()
        var facts = ChunkFacts()
        #expect(OpenAIChunkScanner.scan(first.span, 0..<first.count, into: &facts, template: &template))
        let shape = try #require(template.shape)
        #expect(shape.field == .content && shape.textStart == head.utf8.count && shape.textEnd == head.utf8.count + 4)
        // The shape answers for texts of any length and for UTF-8, and refuses what it cannot be sure of.
        let cases: [(text: [UInt8], byShape: Bool)] = [
            (Array(" next".utf8), true), (Array("".utf8), true), (Array("café 你好 😊 and a longer text".utf8), true),
            (Array(#"a\nb"#.utf8), false),                   // an escape: the full scan unescapes it
            (Array(#"B","x":"y"#.utf8), false),              // a quote: another structure with the same tail
            ([0x61, 0x01, 0x62], false),                     // a control byte: invalid JSON
            ([0x61, 0xC3, 0x28], false),                     // invalid UTF-8: left to the decoder
        ]
        for (text, byShape) in cases {
            let event = Array(head.utf8) + text + Array(tail.utf8)
            let payload = first + event
            let range = first.count..<payload.count
            var f = ChunkFacts()
            #expect(shape.read(payload.span, range, into: &f) == byShape, "\(text)")
            Self.check(event, after: first)
        }
        // Different bytes before or after the text: not the shape.
        for other in [head.replacingOccurrences(of: "\"m\"", with: "\"n\"") + "x" + tail,
                      head + "x" + tail.replacingOccurrences(of: "null", with: "\"stop\""),
                      head + "x" + tail + " "] {
            let event = Array(other.utf8)
            let payload = first + event
            var f = ChunkFacts()
            #expect(!shape.read(payload.span, first.count..<payload.count, into: &f), "\(other)")
            Self.check(event, after: first)
        }
        // Chunks without exactly one raw text leave no shape.
        for sample in [Self.samples[2], #"{"choices":[{"index":0,"delta":{"content":"a\\nb"}}]}"#,
                       #"{"choices":[{"index":0,"delta":{"content":"a","reasoning":"b"}}]}"#] {
            var t = OpenAIChunkScanner.Template()
            var f = ChunkFacts()
            let bytes = Array(sample.utf8)
            #expect(OpenAIChunkScanner.scan(bytes.span, 0..<bytes.count, into: &f, template: &t))
            #expect(t.shape == nil, "\(sample)")
        }
    }

    @Test func agreesWithJSONDecoderOnEveryCaseEvent() throws {
        for name in ["case-01", "case-02", "case-04", "case-05", "case-06", "case-09", "case-10", "case-12", "case-15", "case-20", "case-21"] {
            let body = String(decoding: try CaseFixtures.load(name).body, as: UTF8.self)
            var previous: [UInt8]?
            for block in body.components(separatedBy: "\n\n") {
                let data = block.split(separator: "\n").filter { $0.hasPrefix("data:") }
                    .map { String($0.dropFirst(5)).trimmingCharacters(in: .whitespaces) }.joined(separator: "\n")
                if data.isEmpty || data == "[DONE]" { continue }
                let bytes = Array(data.utf8)
                Self.check(bytes, after: previous)
                if !data.contains("\"error\"") {
                    #expect(Self.canScan(data), "\(name): \(data)")
                }
                previous = bytes
            }
        }
    }

    /// Random byte mutations of real chunks (also bytes that are not valid UTF-8): whenever the fast path answers,
    /// alone or resuming after the unmutated chunk, it agrees. `FASTPERF_SCANNER_MUTATIONS` sets the count.
    @Test func agreesWithJSONDecoderOnMutations() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array(#"{}[]:,"\ 0123456789.-eEtrufalsnu"#.utf8) + [0x0A, 0x01, 0x80, 0xA9, 0xC3, 0xED, 0xF0, 0xFF]
        let count = ProcessInfo.processInfo.environment["FASTPERF_SCANNER_MUTATIONS"].flatMap(Int.init) ?? 3000
        var answered = 0
        for _ in 0..<count {
            let original = Array(Self.samples.randomElement(using: &rng)!.utf8)
            var bytes = original
            for _ in 0..<Int.random(in: 1...2, using: &rng) {
                let k = Int.random(in: 0..<max(1, bytes.count), using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0 where !bytes.isEmpty: bytes[k] = alphabet.randomElement(using: &rng)!
                case 1 where !bytes.isEmpty: bytes.remove(at: k)
                default: bytes.insert(alphabet.randomElement(using: &rng)!, at: min(k, bytes.count))
                }
            }
            if Self.check(bytes, after: original) { answered += 1 }
        }
        #expect(answered > count / 10)  // the mutations exercise the fast path, not only the fallback
    }

    /// Whole streams through `OpenAIPlugin.parseResponses`, where token chunks after the first are read as the
    /// stream's shape, agree with each event read alone (no shape to reuse), merged: texts, tool calls, usage,
    /// which events bear output; and read without texts and event shapes, they agree on the rest. Streams mix token chunks (texts with escapes, quotes, UTF-8, a control byte,
    /// empty) of every text field, tool-call chunks, other samples and mutated bytes.
    @Test func streamsReadByShapeAgreeWithEventsReadAlone() {
        var rng = SystemRandomNumberGenerator()
        let head = #"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"#
        let texts = [" tok", "", "café 你好", #"a\"b"#, #"x\ny"#, "long text that runs past eight bytes", "\u{1}"]
        let fields = ["content", "reasoning_content", "reasoning", "text"]
        let plugin = OpenAIPlugin()
        let request = APIRequest(body: [], isStream: true)
        func body(_ chunks: ArraySlice<[UInt8]>) -> [UInt8] {
            chunks.flatMap { Array("data: ".utf8) + $0.filter { $0 != 0x0A && $0 != 0x0D } + Array("\n\n".utf8) }
        }
        var byShape = 0
        let memo = ChunkMemo()
        for _ in 0..<300 {
            var events: [[UInt8]] = []
            let field = fields.randomElement(using: &rng)!
            for _ in 0..<Int.random(in: 1...12, using: &rng) {
                var chunk: [UInt8]
                switch Int.random(in: 0..<10, using: &rng) {
                case 0: chunk = Array(Self.samples.randomElement(using: &rng)!.utf8)
                case 1: chunk = Array((head + #""tool_calls":[{"index":0}]},"finish_reason":null}]}"#).utf8)
                case 2: chunk = Array((head + "\"\(fields.dropLast().randomElement(using: &rng)!)\":\"t\"},\"finish_reason\":null}]}").utf8)
                default:
                    let text = texts.randomElement(using: &rng)!
                    chunk = field == "text"  // the completions API: the text is the choice's own
                        ? Array((#"{"object":"text_completion","choices":[{"index":0,"text":""# + text + #"","finish_reason":null}]}"#).utf8)
                        : Array((head + "\"\(field)\":\"" + text + #""},"finish_reason":null}]}"#).utf8)
                }
                if Int.random(in: 0..<8, using: &rng) == 0 {
                    chunk[Int.random(in: 0..<chunk.count, using: &rng)] = [0x22, 0x5C, 0xC3, 0x7D, 0x61].randomElement(using: &rng)!
                }
                events.append(chunk)
            }
            if events.count > 1 && events[0] == events[1] { byShape += 1 }
            let record = makeStreamRecord(sseBody: body(events[...]))
            let whole = plugin.parseResponses(record, request: request)
            // Read with the endings of the earlier streams' chunks at hand: the same.
            #expect(plugin.parseResponses(record, needs: .all, memo: memo) == whole)
            // What a run that stores neither texts nor response_messages reads: the same, less those.
            var lean = whole
            (lean.generatedText, lean.reasoningText, lean.eventShapes) = ("", "", EventShapes())
            #expect(plugin.parseResponses(record, needs: ResponseNeeds(eventShapes: false, streamText: false)) == lean)
            var generated = "", reasoning = "", tools = 0, output: [Int] = []
            var prompt: Int?, completion: Int?
            for k in events.indices {
                let alone = plugin.parseResponses(makeStreamRecord(sseBody: body(events[k...k])), request: request)
                generated += alone.generatedText
                reasoning += alone.reasoningText
                tools += alone.toolCallCount
                if !alone.outputEventIndices.isEmpty { output.append(k) }
                if let p = alone.promptTokens { prompt = p }
                if let c = alone.completionTokens { completion = c }
            }
            let stream = events.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")
            #expect(whole.generatedText == generated && whole.reasoningText == reasoning, "\(stream)")
            #expect(whole.toolCallCount == tools && whole.outputEventIndices == output, "\(stream)")
            #expect(whole.promptTokens == prompt && whole.completionTokens == completion, "\(stream)")
        }
        #expect(byShape > 0)
        #expect(memo.hits > 100)
    }
    /// Streams as a real server sends them: every stream repeats its role and finish chunks' endings, while its
    /// first token and its usage counts are new each time. The repeated endings stay in the memo (it replaces the
    /// ending least recently used) and are found in every stream after the first, however many one-off endings
    /// pass through; and every reading equals the reading without a memo.
    @Test func repeatedEndingsStayInTheMemoWhileOneOffsPass() {
        let plugin = OpenAIPlugin()
        let request = APIRequest(body: [], isStream: true)
        let memo = ChunkMemo()
        for k in 0..<40 {
            let head = "{\"id\":\"chatcmpl-\(k)\",\"object\":\"chat.completion.chunk\",\"created\":\(1700000000 + k),\"model\":\"m\","
            let chunks = [
                head + #""choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
                head + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"first \(k)\"},\"finish_reason\":null}]}",
                head + #""choices":[{"index":0,"delta":{"content":" next"},"finish_reason":null}]}"#,
                head + #""choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
                head + "\"choices\":[],\"usage\":{\"prompt_tokens\":\(10 + k),\"completion_tokens\":2}}",
                "[DONE]",
            ]
            let record = makeStreamRecord(sseBody: Array(chunks.map { "data: \($0)\n\n" }.joined().utf8))
            let hitsBefore = memo.hits
            #expect(plugin.parseResponses(record, needs: .all, memo: memo) == plugin.parseResponses(record, request: request))
            // The role and finish chunks' endings, from the second stream on.
            if k > 0 { #expect(memo.hits - hitsBefore == 2, "stream \(k)") }
        }
    }

    /// The shape's text check reads 8 bytes at a time and the last 1–7 bytes as the top of a word: texts of every
    /// length up to 17 bytes, with a byte that is not plain ASCII at each place (UTF-8, an escape, a control byte,
    /// a byte that is not UTF-8) or none, read as the stream's shape, agree with each event read alone; so do
    /// the same chunks as named events, with spaces around the data, and in the reasoning field after content.
    @Test func shapeTextCheckAgreesAtEveryLengthAndPlace() {
        let plugin = OpenAIPlugin()
        let request = APIRequest(body: [], isStream: true)
        let head = #"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"#
        func chunk(_ field: String, _ text: [UInt8]) -> [UInt8] {
            Array((head + "\"\(field)\":\"").utf8) + text + Array(#""},"finish_reason":null}]}"#.utf8)
        }
        let odd: [[UInt8]] = [Array("é".utf8), Array(#"\""#.utf8), Array(#"\u0041"#.utf8), [0x01], [0xFF], [0xC3], Array("€".utf8)]
        var texts: [[UInt8]] = []
        for length in 0...17 {
            texts.append([UInt8](repeating: UInt8(ascii: "a"), count: length))
            for place in 0..<length {
                for o in odd {
                    var t = [UInt8](repeating: UInt8(ascii: "b"), count: length)
                    t.replaceSubrange(place...place, with: o)
                    texts.append(t)
                }
            }
        }
        var checked = 0
        for text in texts {
            for form in 0..<4 {
                // The shape chunk, then the text under test, in one of four forms.
                var events: [(name: String?, data: [UInt8])] = [(nil, chunk("content", Array("x".utf8)))]
                switch form {
                case 0: events.append((nil, chunk("content", text)))
                case 1: events.append(("message", chunk("content", text)))
                case 2: events.append((nil, Array("  ".utf8) + chunk("content", text) + Array(" ".utf8)))
                default: events += [(nil, chunk("reasoning_content", Array("r".utf8))), (nil, chunk("reasoning_content", text)),
                                    (nil, chunk("content", text))]
                }
                func sse(_ list: ArraySlice<(name: String?, data: [UInt8])>) -> [UInt8] {
                    var out: [UInt8] = []
                    for e in list {
                        if let name = e.name { out += Array("event: \(name)\n".utf8) }
                        out += Array("data:".utf8)
                        out += e.data
                        out += Array("\n\n".utf8)
                    }
                    return out
                }
                let whole = plugin.parseResponses(makeStreamRecord(sseBody: sse(events[...])), request: request)
                var generated = "", reasoning = "", output: [Int] = []
                for k in events.indices {
                    let alone = plugin.parseResponses(makeStreamRecord(sseBody: sse(events[k...k])), request: request)
                    generated += alone.generatedText
                    reasoning += alone.reasoningText
                    if !alone.outputEventIndices.isEmpty { output.append(k) }
                }
                let shown = String(decoding: text, as: UTF8.self)
                #expect(whole.generatedText == generated, "form \(form), text \(shown)")
                #expect(whole.reasoningText == reasoning, "form \(form), text \(shown)")
                #expect(whole.outputEventIndices == output, "form \(form), text \(shown)")
                checked += 1
            }
        }
        #expect(checked == texts.count * 4)
        #expect(texts.count > 1000)
    }
}
