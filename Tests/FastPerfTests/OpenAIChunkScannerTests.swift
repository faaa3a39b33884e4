import Foundation
import Testing
@testable import FastPerf

/// The fast chunk reader must agree with `JSONDecoder` whenever it answers.
struct OpenAIChunkScannerTests {
    /// A comparable rendering of everything `OpenAIPlugin` reads from a chunk.
    static func describe(_ c: ChunkJSON?) -> String {
        guard let c else { return "nil" }
        var s = "usage=\(c.usage.map { "\($0.promptTokens as Any)/\($0.completionTokens as Any)" } ?? "none")"
        s += " error=\(c.error?.summary ?? "none") message=\(c.message ?? "none")"
        if let choices = c.choices {
            for ch in choices {
                s += " [i=\(ch.index as Any) f=\(ch.finishReason as Any) t=\(ch.text as Any)"
                for (label, m) in [("d", ch.delta), ("m", ch.message)] {
                    if let m { s += " \(label)={c=\(m.content as Any) rc=\(m.reasoningContent as Any) r=\(m.reasoning as Any) tc=\(m.toolCallCount)}" }
                }
                s += "]"
            }
        } else {
            s += " choices=nil"
        }
        return s
    }

    static func decoded(_ text: String) -> ChunkJSON? {
        try? JSONDecoder().decode(ChunkJSON.self, from: Data(text.utf8))
    }

    static func check(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let bytes = Array(text.utf8)
        if let fast = OpenAIChunkScanner.scan(bytes[...]) {
            #expect(describe(fast) == describe(decoded(text)), "input: \(text)", sourceLocation: sourceLocation)
        }
    }

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
    ]

    @Test func agreesWithJSONDecoderOnSamples() {
        for s in Self.samples { Self.check(s) }
        // The common shapes are read by the fast path, not handed back.
        #expect(OpenAIChunkScanner.scan(Array(Self.samples[0].utf8)[...]) != nil)
        #expect(OpenAIChunkScanner.scan(Array(Self.samples[3].utf8)[...])?.choices?.first?.delta?.content == "a\"b\\c/d\né😊")
        #expect(OpenAIChunkScanner.scan(Array(Self.samples[2].utf8)[...])?.usage?.completionTokens == 3)
        #expect(OpenAIChunkScanner.scan(Array(Self.samples[17].utf8)[...]) == nil)  // error: decoder path
    }

    @Test func agreesWithJSONDecoderOnEveryCaseEvent() throws {
        for name in ["case-01", "case-02", "case-04", "case-05", "case-06", "case-09", "case-10", "case-12", "case-15", "case-20", "case-21"] {
            let body = String(decoding: try CaseFixtures.load(name).body, as: UTF8.self)
            for block in body.components(separatedBy: "\n\n") {
                let data = block.split(separator: "\n").filter { $0.hasPrefix("data:") }
                    .map { String($0.dropFirst(5)).trimmingCharacters(in: .whitespaces) }.joined(separator: "\n")
                if data.isEmpty || data == "[DONE]" { continue }
                Self.check(data)
                if !data.contains("\"error\"") {
                    #expect(OpenAIChunkScanner.scan(Array(data.utf8)[...]) != nil, "\(name): \(data)")
                }
            }
        }
    }

    /// Random single-byte mutations of real chunks: whenever the fast path answers, it agrees.
    @Test func agreesWithJSONDecoderOnMutations() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array(#"{}[]:,"\ 0123456789.-eEtrufalsn"#.utf8)
        for _ in 0..<3000 {
            var bytes = Array(Self.samples.randomElement(using: &rng)!.utf8)
            let k = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: bytes[k] = alphabet.randomElement(using: &rng)!
            case 1: bytes.remove(at: k)
            default: bytes.insert(alphabet.randomElement(using: &rng)!, at: k)
            }
            Self.check(String(decoding: bytes, as: UTF8.self))
        }
    }
}
