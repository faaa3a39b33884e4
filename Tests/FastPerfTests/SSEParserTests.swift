import Testing

@testable import FastPerf

// MARK: - Helpers

/// An owned copy of one dispatched event.
struct CollectedSSEEvent: Equatable, CustomStringConvertible {
    var data: [UInt8]
    var type: [UInt8]
    var id: [UInt8]

    init(data: String, type: String = "", id: String = "") {
        self.data = Array(data.utf8)
        self.type = Array(type.utf8)
        self.id = Array(id.utf8)
    }

    init(_ event: SSEEvent) {
        data = Array(event.data)
        type = Array(event.type)
        id = Array(event.id)
    }

    var dataString: String { String(decoding: data, as: UTF8.self) }
    var typeString: String { String(decoding: type, as: UTF8.self) }
    var idString: String { String(decoding: id, as: UTF8.self) }
    var description: String { "(data: \(dataString.debugDescription), type: \(typeString), id: \(idString))" }
}

/// Everything observable after feeding a stream.
struct SSERunResult: Equatable {
    var events: [CollectedSSEEvent]
    var commentCount: Int
    var retryMillis: Int?
    var discardedFieldLines: Int
    var hasPendingData: Bool
}

/// Feeds `chunks` in order to a fresh parser.
func runSSE(_ chunks: [[UInt8]], initialCapacity: Int = 4096) -> SSERunResult {
    var parser = SSEParser(initialCapacity: initialCapacity)
    return feedSSE(&parser, chunks)
}

func feedSSE(_ parser: inout SSEParser, _ chunks: [[UInt8]]) -> SSERunResult {
    var events: [CollectedSSEEvent] = []
    for chunk in chunks {
        chunk.withUnsafeBytes { bytes in
            parser.feed(bytes) { events.append(CollectedSSEEvent($0)) }
        }
    }
    return SSERunResult(
        events: events, commentCount: parser.commentCount, retryMillis: parser.retryMillis,
        discardedFieldLines: parser.discardedFieldLines, hasPendingData: parser.hasPendingData)
}

func runSSE(_ text: String, initialCapacity: Int = 4096) -> SSERunResult {
    runSSE([Array(text.utf8)], initialCapacity: initialCapacity)
}

/// `bytes` cut at the given ascending offsets (empty pieces kept: they are valid feeds too).
func splitFeeds(_ bytes: [UInt8], at offsets: [Int]) -> [[UInt8]] {
    var pieces: [[UInt8]] = []
    var start = 0
    for offset in offsets {
        pieces.append(Array(bytes[start..<offset]))
        start = offset
    }
    pieces.append(Array(bytes[start...]))
    return pieces
}

/// Asserts that every way of splitting `bytes` gives `expected`: byte by byte, at every index
/// into two feeds, and `randomTriples` random three-way splits; each with a normal and a tiny
/// initial capacity.
func expectSSESplitInvariance(
    _ bytes: [UInt8], _ expected: SSERunResult, randomTriples: Int = 200,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    for capacity in [4096, 1] {
        #expect(runSSE([bytes], initialCapacity: capacity) == expected, "whole, capacity \(capacity)",
            sourceLocation: sourceLocation)
        #expect(runSSE(bytes.map { [$0] }, initialCapacity: capacity) == expected, "byte by byte, capacity \(capacity)",
            sourceLocation: sourceLocation)
        for index in 0...bytes.count {
            let result = runSSE(splitFeeds(bytes, at: [index]), initialCapacity: capacity)
            if result != expected {
                Issue.record("split at \(index), capacity \(capacity): \(result.events)", sourceLocation: sourceLocation)
                return
            }
        }
    }
    var generator = SplitMix64(seed: 0x5EED_0000 + UInt64(bytes.count))
    for _ in 0..<randomTriples {
        let offsets = [Int.random(in: 0...bytes.count, using: &generator), Int.random(in: 0...bytes.count, using: &generator)]
            .sorted()
        let result = runSSE(splitFeeds(bytes, at: offsets), initialCapacity: 16)
        if result != expected {
            Issue.record("split at \(offsets): \(result.events)", sourceLocation: sourceLocation)
            return
        }
    }
}

private func utf8Bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

// MARK: - Rules of WHATWG HTML §9.2.6, one at a time

@Suite struct SSEParserRuleTests {
    @Test func dataLineThenBlankLineDispatchesOneEvent() {
        let result = runSSE("data: hello\n\n")
        #expect(result.events == [CollectedSSEEvent(data: "hello")])
        #expect(result.hasPendingData == false)
    }

    @Test func leadingBOMIsStrippedOnce() {
        let stream = [0xEF, 0xBB, 0xBF] + utf8Bytes("data: a\n\n")
        #expect(runSSE([stream]).events == [CollectedSSEEvent(data: "a")])
        // A second BOM is not stripped: it becomes part of the field name, so the line is ignored.
        let twice = [0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF] + utf8Bytes("data: a\n\ndata: b\n\n")
        let result = runSSE([twice])
        #expect(result.events == [CollectedSSEEvent(data: "b")])
        #expect(result.discardedFieldLines == 1)
    }

    @Test func bomSplitAcrossFeedsIsStripped() {
        let stream = [0xEF, 0xBB, 0xBF] + utf8Bytes("data: a\n\n")
        let expected = runSSE([stream])
        #expect(expected.events == [CollectedSSEEvent(data: "a")])
        #expect(runSSE([[0xEF], [0xBB], [0xBF], utf8Bytes("data: a\n\n")]) == expected)
        #expect(runSSE([[0xEF, 0xBB], [], [0xBF, 0x64], utf8Bytes("ata: a\n\n")]) == expected)
        expectSSESplitInvariance(stream, expected)
    }

    @Test func partialBOMPrefixIsOrdinaryContent() {
        // EF BB followed by "data: x": not a BOM, so the line's field name is EF BB "data".
        let result = runSSE([[0xEF], [0xBB], utf8Bytes("data: x\n\ndata: y\n\n")])
        #expect(result.events == [CollectedSSEEvent(data: "y")])
        #expect(result.discardedFieldLines == 1)
        // EF followed by a line end is a (one-byte) unknown field line.
        let lone = runSSE([[0xEF], utf8Bytes("\ndata: z\n\n")])
        #expect(lone.events == [CollectedSSEEvent(data: "z")])
        #expect(lone.discardedFieldLines == 1)
    }

    @Test func bomLaterInTheStreamIsNotStripped() {
        let stream = utf8Bytes("data: a\n\n") + [0xEF, 0xBB, 0xBF] + utf8Bytes("data: b\n\n")
        let result = runSSE([stream])
        #expect(result.events == [CollectedSSEEvent(data: "a")])
        #expect(result.discardedFieldLines == 1)
    }

    @Test func partialBOMAloneIsPending() {
        var parser = SSEParser()
        let result = feedSSE(&parser, [[0xEF, 0xBB]])
        #expect(result.events.isEmpty)
        #expect(result.hasPendingData)
    }

    @Test func crlfLfAndLoneCRAreEquivalentLineEnds() {
        let expected = [
            CollectedSSEEvent(data: "a\nb", type: "t"), CollectedSSEEvent(data: "c", id: "7"),
        ]
        for ending in ["\n", "\r\n", "\r"] {
            let text = ["event: t", "data: a", "data: b", "", "id: 7", "data: c", "", ""].joined(separator: ending)
            let result = runSSE(text)
            #expect(result.events == expected, "line ending \(ending.debugDescription)")
            expectSSESplitInvariance(utf8Bytes(text), result)
        }
    }

    @Test func crAtEndOfFeedAndLFAtStartOfNextAreOneLineEnd() {
        // If CR|LF counted twice, the empty "line" between them would dispatch "a" alone.
        let result = runSSE([utf8Bytes("data: a\r"), utf8Bytes("\ndata: b\r\n\r\n")])
        #expect(result.events == [CollectedSSEEvent(data: "a\nb")])
        // An empty feed in between changes nothing.
        #expect(runSSE([utf8Bytes("data: a\r"), [], utf8Bytes("\ndata: b\r\n\r\n")]) == result)
        // Two CRs are two line ends: a blank line.
        #expect(runSSE([utf8Bytes("data: a\r"), utf8Bytes("\rdata: b\r\r")]).events ==
            [CollectedSSEEvent(data: "a"), CollectedSSEEvent(data: "b")])
    }

    @Test func blankLineWithEmptyDataBufferDoesNotDispatchAndResetsType() {
        let result = runSSE("event: foo\n\ndata: x\n\n\n\n")
        #expect(result.events == [CollectedSSEEvent(data: "x", type: "")])
    }

    @Test func onlyOneTrailingLFIsRemoved() {
        #expect(runSSE("data: a\ndata:\n\n").events == [CollectedSSEEvent(data: "a\n")])
        #expect(runSSE("data\n\n").events == [CollectedSSEEvent(data: "")])
        #expect(runSSE("data:\ndata:\n\n").events == [CollectedSSEEvent(data: "\n")])
    }

    @Test func commentLinesAreCountedAndIgnored() {
        let result = runSSE(": keep-alive\n:\n\n: ping - 2024\ndata: x\n\n")
        #expect(result.commentCount == 3)
        #expect(result.events == [CollectedSSEEvent(data: "x")])
        #expect(result.discardedFieldLines == 0)
    }

    @Test func valueSplitsAtFirstColonAndLosesExactlyOneSpace() {
        #expect(runSSE("data:a:b\n\n").events == [CollectedSSEEvent(data: "a:b")])
        #expect(runSSE("data: a: b\n\n").events == [CollectedSSEEvent(data: "a: b")])
        #expect(runSSE("data:  two\n\n").events == [CollectedSSEEvent(data: " two")])
        #expect(runSSE("data:\tx\n\n").events == [CollectedSSEEvent(data: "\tx")])
        #expect(runSSE("data: \n\n").events == [CollectedSSEEvent(data: "")])
        #expect(runSSE("data:x \n\n").events == [CollectedSSEEvent(data: "x ")])
    }

    @Test func eventFieldSetsTypeLastOneWinsAndResetsAfterDispatch() {
        let result = runSSE("event: a\nevent:b\ndata: x\n\ndata: y\n\n")
        #expect(result.events == [CollectedSSEEvent(data: "x", type: "b"), CollectedSSEEvent(data: "y")])
    }

    @Test func idPersistsAcrossEventsAndCanBeCleared() {
        let result = runSSE("id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 2\n\ndata: d\n\n")
        #expect(result.events.map(\.idString) == ["1", "1", "", "2"])
        #expect(result.events.map(\.dataString) == ["a", "b", "c", "d"])
    }

    @Test func idContainingNULIsIgnored() {
        let result = runSSE("id: 5\ndata: a\n\nid: 6\u{0}x\ndata: b\n\n")
        #expect(result.events.map(\.idString) == ["5", "5"])
        #expect(result.discardedFieldLines == 0)
    }

    @Test func retryAcceptsOnlyAllDigits() {
        #expect(runSSE("retry: 3000\n").retryMillis == 3000)
        #expect(runSSE("retry:0\n").retryMillis == 0)
        let bad = runSSE("retry: 1500\nretry: 30x\nretry:\nretry: -1\nretry:  20\n")
        #expect(bad.retryMillis == 1500)
        #expect(bad.discardedFieldLines == 4)
        #expect(bad.events.isEmpty)
        #expect(runSSE("retry: 99999999999999999999999\n").retryMillis == nil)
    }

    @Test func unknownFieldsAreIgnoredAndCounted() {
        let result = runSSE("foo: bar\nData: x\nDATA\n data: y\ndata: z\n\n")
        #expect(result.events == [CollectedSSEEvent(data: "z")])
        #expect(result.discardedFieldLines == 4)
    }

    @Test func lineWithoutColonIsFieldWithEmptyValue() {
        let result = runSSE("event\ndata: x\n\nevent: e\nevent\ndata: y\n\n")
        #expect(result.events == [CollectedSSEEvent(data: "x"), CollectedSSEEvent(data: "y")])
    }

    @Test func eventWithoutTrailingBlankLineIsNotDispatched() {
        let cases: [(String, Bool)] = [
            ("data: a\n", true), ("data: a", true), ("data: a\r", true), ("event: x\n", true),
            ("data: a\n\n", false), (": comment\n", false), ("retry: 5\n", false), ("", false),
        ]
        for (text, pending) in cases {
            let result = runSSE(text)
            #expect(result.events.isEmpty == (text != "data: a\n\n"), "\(text.debugDescription)")
            #expect(result.hasPendingData == pending, "\(text.debugDescription)")
        }
        // The held-back event comes out once its blank line arrives.
        var parser = SSEParser()
        #expect(feedSSE(&parser, [utf8Bytes("data: late\n")]).events.isEmpty)
        #expect(feedSSE(&parser, [utf8Bytes("\n")]).events == [CollectedSSEEvent(data: "late")])
        #expect(parser.hasPendingData == false)
    }

    @Test func eventLongerThanInitialCapacityGrowsBuffers() {
        let line = String(repeating: "x", count: 10_000)
        let text = "event: \(String(repeating: "t", count: 300))\ndata: \(line)\ndata: \(line)\n\n"
        let expected = [
            CollectedSSEEvent(data: line + "\n" + line, type: String(repeating: "t", count: 300))
        ]
        #expect(runSSE(text, initialCapacity: 8).events == expected)
        let stream = utf8Bytes(text)
        #expect(runSSE(stride(from: 0, to: stream.count, by: 7).map { Array(stream[$0..<min($0 + 7, stream.count)]) },
            initialCapacity: 8).events == expected)
        #expect(runSSE(splitFeeds(stream, at: [5, 9_000, 15_000]), initialCapacity: 8).events == expected)
    }

    @Test func buffersAreReusedAcrossManyEvents() {
        var parser = SSEParser(initialCapacity: 16)
        var count = 0
        var total = 0
        let chunk = utf8Bytes("data: 0123456789\n\n")
        chunk.withUnsafeBytes { raw in
            for _ in 0..<1000 {
                parser.feed(raw) { event in
                    count += 1
                    total += event.data.count
                }
            }
        }
        #expect(count == 1000)
        #expect(total == 10_000)
    }

    @Test func resetForgetsEverything() {
        var parser = SSEParser()
        _ = feedSSE(&parser, [utf8Bytes(": c\nretry: 10\nfoo: x\nid: 9\nevent: e\ndata: partial\nda")])
        #expect(parser.hasPendingData)
        parser.reset()
        #expect(parser.hasPendingData == false)
        #expect(parser.commentCount == 0)
        #expect(parser.retryMillis == nil)
        #expect(parser.discardedFieldLines == 0)
        let result = feedSSE(&parser, [[0xEF, 0xBB, 0xBF] + utf8Bytes("ta: fresh\n\n")])
        // "ta" is an unknown field (no carried-over "da"), and the BOM is stripped again.
        #expect(result.events.isEmpty)
        #expect(result.discardedFieldLines == 1)
        let next = feedSSE(&parser, [utf8Bytes("data: new\n\n")])
        #expect(next.events == [CollectedSSEEvent(data: "new")])  // no id, no type carried over
    }

    /// A compact stream exercising every rule, split at every pair of indices.
    /// Random streams of `data`, `event`, `id`, comment, unknown and blank lines with mixed line ends: fed whole
    /// (where one-line events are handed out in place) they give what byte-by-byte feeding gives (where no line
    /// and blank line ever share a feed), and what any two-way split gives.
    @Test func oneLineEventsInPlaceMatchTheLineByLinePath() {
        var generator = SplitMix64(seed: 0xDA7A)
        let ends: [[UInt8]] = [[0x0A], [0x0D], [0x0D, 0x0A]]
        let lines: [String] = ["data: x", "data:", "data", "data:  two spaces", "data:{\"a\":1}", "event: e", "id: 7",
                               ": c", "retry: 5", "other: z", "", "", "", "dat: no", "data: é"]
        for _ in 0..<3000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 1...12, using: &generator) {
                bytes += Array(lines[Int.random(in: 0..<lines.count, using: &generator)].utf8)
                bytes += ends[Int.random(in: 0..<ends.count, using: &generator)]
            }
            let whole = runSSE([bytes])
            #expect(runSSE(bytes.map { [$0] }) == whole, "\(bytes)")
            let cut = Int.random(in: 0...bytes.count, using: &generator)
            #expect(runSSE(splitFeeds(bytes, at: [cut])) == whole, "\(bytes) cut at \(cut)")
        }
    }

    @Test func everyPairOfSplitsOfACompactStream() {
        let stream =
            [0xEF, 0xBB, 0xBF]
            + utf8Bytes(": hi\r\nevent: e1\rid: 1\ndata:a\r\ndata:  b\r\rretry: 42\nx\n\ndata\n\nid\ndata: 😊\r\n\r\ndata: tail")
        let expected = runSSE([stream])
        #expect(expected.events == [
            CollectedSSEEvent(data: "a\n b", type: "e1", id: "1"),
            CollectedSSEEvent(data: "", id: "1"),
            CollectedSSEEvent(data: "😊", id: ""),
        ])
        #expect(expected.commentCount == 1)
        #expect(expected.retryMillis == 42)
        #expect(expected.discardedFieldLines == 1)
        #expect(expected.hasPendingData)
        for first in 0...stream.count {
            for second in first...stream.count {
                let result = runSSE(splitFeeds(stream, at: [first, second]), initialCapacity: 2)
                if result != expected {
                    Issue.record("split at \(first), \(second): \(result)")
                    return
                }
            }
        }
    }
}

// MARK: - Real-world bodies (../shared/cases)

/// What one case body must produce.
struct SSECaseExpectation: Sendable, CustomTestStringConvertible {
    let name: String
    let eventCount: Int
    let commentCount: Int
    var testDescription: String { name }
}

@Suite struct SSEParserCaseTests {
    static let cases: [SSECaseExpectation] = [
        .init(name: "case-01", eventCount: 9, commentCount: 0),
        .init(name: "case-02", eventCount: 6, commentCount: 0),
        .init(name: "case-04", eventCount: 6, commentCount: 0),
        .init(name: "case-05", eventCount: 7, commentCount: 0),
        .init(name: "case-06", eventCount: 5, commentCount: 4),
        .init(name: "case-08", eventCount: 7, commentCount: 1),
        .init(name: "case-09", eventCount: 5, commentCount: 0),
        .init(name: "case-10", eventCount: 7, commentCount: 0),
        .init(name: "case-12", eventCount: 5, commentCount: 0),
        .init(name: "case-13", eventCount: 6, commentCount: 0),
        .init(name: "case-15", eventCount: 3, commentCount: 0),
        .init(name: "case-19", eventCount: 4, commentCount: 4),
        .init(name: "case-20", eventCount: 8, commentCount: 0),
        .init(name: "case-21", eventCount: 4, commentCount: 0),
    ]

    static func body(_ name: String) throws -> [UInt8] { try CaseFixtures.load(name).body }

    @Test(arguments: cases)
    func caseBodyIsSplitInvariant(_ expectation: SSECaseExpectation) throws {
        let body = try Self.body(expectation.name)
        let whole = runSSE([body])
        #expect(whole.events.count == expectation.eventCount)
        #expect(whole.commentCount == expectation.commentCount)
        #expect(whole.discardedFieldLines == 0)
        #expect(whole.retryMillis == nil)
        #expect(whole.hasPendingData == false)
        expectSSESplitInvariance(body, whole)
    }

    @Test func case05HasSevenEventsWithTheSplitText() throws {
        let body = try Self.body("case-05")
        #expect(body.count == 1194)
        for chunks in [[body], body.map { [$0] }, splitFeeds(body, at: [215, 553, 701])] {
            let events = runSSE(chunks).events
            #expect(events.count == 7)
            guard events.count == 7 else { return }
            #expect(events[1].dataString.contains(#""content":"Hello""#))
            #expect(events[2].dataString.contains(#""content":" world""#))
            #expect(events[3].dataString.contains(#""content":" again""#))
            #expect(events[6].dataString == "[DONE]")
            #expect(events[0].dataString.hasPrefix(#"{"id":"chatcmpl-case05""#))
        }
        // The documented transport splits fall where the README says.
        #expect(String(decoding: body[210..<215], as: UTF8.self) == "data:")
        #expect(String(decoding: body[553..<560], as: UTF8.self) == #" world""#)
    }

    @Test func case08CRLFBodyMatchesLFAndCRVariants() throws {
        let crlf = try Self.body("case-08")
        #expect(crlf.contains(0x0D))
        var lf: [UInt8] = []
        var cr: [UInt8] = []
        var index = 0
        while index < crlf.count {
            if crlf[index] == 0x0D && index + 1 < crlf.count && crlf[index + 1] == 0x0A {
                lf.append(0x0A)
                cr.append(0x0D)
                index += 2
            } else {
                lf.append(crlf[index])
                cr.append(crlf[index])
                index += 1
            }
        }
        let expected = runSSE([crlf])
        #expect(expected.events.count == 7)
        #expect(expected.commentCount == 1)
        #expect(expected.events.allSatisfy { !$0.data.contains(0x0D) })
        #expect(expected.events.last?.dataString == "[DONE]")
        #expect(expected.events[1].dataString.contains(#""content": "Paris""#))
        #expect(runSSE([lf]) == expected)
        #expect(runSSE([cr]) == expected)
        expectSSESplitInvariance(cr, expected)
        expectSSESplitInvariance(lf, expected, randomTriples: 0)
    }

    @Test func case09MultiLineDataIsJoinedWithLF() throws {
        let events = runSSE([try Self.body("case-09")]).events
        #expect(events.count == 5)  // 4 JSON chunks + [DONE]
        guard events.count == 5 else { return }
        #expect(events[1].dataString == #"{"id":"chatcmpl-case09","object":"chat.completion.chunk","created":1700000000,"model":"test-model","#
            + "\n" + #""choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}]}"#)
        #expect(events[2].dataString.hasPrefix(#"{"id":"chatcmpl-case09","object":"chat.completion.chunk","created":1700000000,"# + "\n" + #""model""#))
        #expect(events[2].dataString.contains(#""content":" there""#))
        #expect(events.prefix(4).allSatisfy { $0.dataString.hasPrefix("{") && $0.dataString.hasSuffix("}") })
        #expect(events[4].dataString == "[DONE]")
    }

    /// Every pair of split points (three feeds) of a real multi-line-data body.
    @Test func case09EveryPairOfSplits() throws {
        let body = try Self.body("case-09")
        let expected = runSSE([body])
        #expect(expected.events.count == 5)
        var parser = SSEParser(initialCapacity: 4)
        for first in 0...body.count {
            for second in first...body.count {
                parser.reset()
                let result = feedSSE(&parser, splitFeeds(body, at: [first, second]))
                if result != expected {
                    Issue.record("split at \(first), \(second): \(result.events)")
                    return
                }
            }
        }
    }

    @Test func case04DataWithoutSpace() throws {
        let events = runSSE([try Self.body("case-04")]).events
        #expect(events.count == 6)
        #expect(events.first?.dataString.hasPrefix(#"{"id":"chatcmpl-case04""#) == true)
        #expect(events.last?.dataString == "[DONE]")
        #expect(events.contains { $0.dataString.contains(#""content":"Good""#) })
        #expect(events.contains { $0.dataString.contains(#""content":" morning""#) })
    }

    @Test func case06CommentsAreNotEvents() throws {
        let result = runSSE([try Self.body("case-06")])
        #expect(result.commentCount == 4)
        #expect(result.events.count == 5)
        #expect(result.events.allSatisfy { !$0.dataString.contains("keep-alive") && !$0.dataString.contains("OPENROUTER") })
        #expect(result.events[1].dataString.contains(#""content":"Hi""#))
    }

    @Test func case13AnthropicEventTypes() throws {
        let events = runSSE([try Self.body("case-13")]).events
        #expect(events.map(\.typeString) == [
            "message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta", "error",
        ])
        #expect(events[2].dataString == #"{"type":"ping"}"#)
        #expect(events[5].dataString.contains("overloaded_error"))
        #expect(events.allSatisfy { $0.id.isEmpty })
    }

    @Test func case19DashScopeIdsTypesAndComments() throws {
        let result = runSSE([try Self.body("case-19")])
        #expect(result.events.map(\.idString) == ["1", "2", "3", "4"])
        #expect(result.events.allSatisfy { $0.typeString == "result" })
        #expect(result.commentCount == 4)  // one `:HTTP_STATUS/200` per event
        #expect(result.events.allSatisfy { $0.dataString.hasPrefix(#"{"output""#) })
        #expect(result.events[3].dataString.contains(#""finish_reason":"stop""#))
    }

    @Test func case10MultiByteCharactersSurviveEverySplit() throws {
        let body = try Self.body("case-10")
        #expect(body.count == 1197)
        // The README's split points fall inside 好 (e5 | a5 bd) and inside 😊 (f0 9f | 98 8a).
        #expect(Array(body[360..<363]) == [0xE5, 0xA5, 0xBD])
        #expect(Array(body[754..<758]) == [0xF0, 0x9F, 0x98, 0x8A])
        let expected = runSSE([body])
        let text = expected.events.map(\.dataString).joined(separator: "|")
        #expect(text.contains(#""content":"你好""#))
        #expect(text.contains(#""content":"，世界""#))
        #expect(text.contains(#""content":"😊""#))
        #expect(!text.contains("\u{FFFD}"))
        for chunks in [splitFeeds(body, at: [361]), splitFeeds(body, at: [756]), body.map { [$0] }] {
            #expect(runSSE(chunks) == expected)
        }
    }

    @Test func case15EndsCleanlyButWithoutDone() throws {
        let result = runSSE([try Self.body("case-15")])
        #expect(result.events.count == 3)
        #expect(result.events.last?.dataString.contains(#""content":" upon""#) == true)
        #expect(!result.events.contains { $0.dataString == "[DONE]" })
        #expect(result.hasPendingData == false)
        // Cut in the middle of the last event: nothing dispatched for it, and pending data shows.
        let body = try Self.body("case-15")
        let cut = runSSE([Array(body[..<(body.count - 3)])])
        #expect(cut.events.count == 2)
        #expect(cut.hasPendingData)
    }
}

/// What the loops store: a response's body bytes in `RequestRecord.payload` as read, events located in them where
/// the parser hands data out in place, and copied after them where it assembles data or names an event.
@Suite struct RequestRecordEventTests {
    /// The record the loops build from `chunks` (one feed each), as the connections do.
    static func record(_ chunks: [[UInt8]]) -> RequestRecord {
        var record = RequestRecord(requestIndex: 0, loopID: 0, connectionID: 1)
        var parser = SSEParser(initialCapacity: 16)
        for (k, chunk) in chunks.enumerated() {
            chunk.withUnsafeBytes { bytes in
                let feed = record.appendFeed(bytes)
                parser.feed(bytes) { record.append($0, at: UInt64(k + 1), feed: feed) }
            }
        }
        return record
    }

    /// Each event's data and type read back through its mark equal the parser's own events, fed whole, byte by
    /// byte and split at every index: single data lines, multi-line data, named events, empty data, CRLF and
    /// lone-CR line ends, comments, a BOM.
    @Test func marksLocateEveryEventWhateverTheSplit() {
        let body = Array(("\u{FEFF}data: {\"a\":1}\n\n: comment\ndata:x\r\n\r\nevent: error\ndata: one\ndata: two\n\n"
            + "data:\n\ndata: last é\r\rid: 7\nevent: done\ndata: [DONE]\n\n").utf8)
        let expected = runSSE([body]).events
        #expect(expected.count == 6)
        var splits: [[[UInt8]]] = [[body], body.map { [$0] }]
        for i in 1..<body.count { splits.append([Array(body[..<i]), Array(body[i...])]) }
        for chunks in splits {
            let record = Self.record(chunks)
            #expect(record.events.count == expected.count)
            #expect(record.payload.count >= body.count)
            for (k, e) in expected.enumerated() where k < record.events.count {
                #expect(Array(record.eventData(k)) == e.data, "event \(k), \(chunks.count) feeds")
                #expect(Array(record.eventName(k)) == e.type, "event \(k), \(chunks.count) feeds")
            }
        }
        // Whole, events of one data line are located in the body, not copied: the payload is the body plus the
        // assembled data ("one\ntwo") and the two event names.
        #expect(Self.record([body]).payload.count == body.count + 7 + 5 + 4)
    }
}
