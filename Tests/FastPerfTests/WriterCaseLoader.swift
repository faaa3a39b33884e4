import Foundation
@testable import FastPerf

/// Builds `RequestRecord`s from `../shared/cases/case-NN.http` without the SSE parser: the body is split on
/// blank lines (LF or CRLF), each block's `data:` lines (one optional space removed) are joined with LF,
/// comment-only blocks produce no event, and block k gets the timeline time `blockMillis[k]` (ms after
/// `base`). Used by the writer-side tests only.
enum WriterCaseLoader {
    /// The `uv_hrtime` instant the tests use as the request start, ns.
    static let base: UInt64 = 1_000_000_000

    /// `<repo>/../shared/cases`, found from this file's path (the repo root is three levels above this file).
    static var casesDirectory: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("shared/cases")
    }

    /// The raw bytes of `case-NN.http`.
    static func bytes(_ number: Int) throws -> [UInt8] {
        let name = String(format: "case-%02d.http", number)
        return [UInt8](try Data(contentsOf: casesDirectory.appendingPathComponent(name)))
    }

    /// A completed record for case `number`; `blockMillis[k]` is block k's arrival (ms after start), missing
    /// entries continue 1 ms apart. `endMillis` is the stream's end (default: last block + 1 ms).
    static func record(_ number: Int, blockMillis: [Double] = [], endMillis: Double? = nil) throws -> RequestRecord {
        try record(raw: bytes(number), label: "case-\(number)", requestIndex: number, blockMillis: blockMillis, endMillis: endMillis)
    }

    /// The same from a whole raw response (`head` CRLF CRLF `body`), e.g. an `APIFixtures` response.
    static func record(raw: [UInt8], label: String, requestIndex: Int = 0, blockMillis: [Double] = [],
                       endMillis: Double? = nil) throws -> RequestRecord {
        let crlf2: [UInt8] = [13, 10, 13, 10]
        guard let split = (0...(raw.count - 4)).first(where: { Array(raw[$0..<$0 + 4]) == crlf2 }) else {
            throw FastPerfError("\(label): no header end")
        }
        let head = String(decoding: raw[..<split], as: UTF8.self)
        let body = Array(raw[(split + 4)...])
        let statusLine = head.components(separatedBy: "\r\n")[0]
        let status = Int(statusLine.split(separator: " ")[1])!

        var record = RequestRecord(requestIndex: requestIndex, loopID: 0, connectionID: 7)
        record.intendedStartNanos = base
        record.startNanos = base
        record.headNanos = base + 1_000_000
        record.httpStatus = status
        record.isEventStream = head.lowercased().contains("content-type: text/event-stream")
        record.bodyBytes = body.count
        var last = 0.0
        if record.isEventStream {
            let text = String(decoding: body, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
            let blocks = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            for (k, block) in blocks.enumerated() {
                let ms = k < blockMillis.count ? blockMillis[k] : last + 1
                last = ms
                var data: [String] = []
                var name = ""
                for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix("data:") {
                        var value = line.dropFirst(5)
                        if value.hasPrefix(" ") { value = value.dropFirst() }
                        data.append(String(value))
                    } else if line.hasPrefix("event:") {
                        name = line.dropFirst(6).trimmingCharacters(in: .whitespaces)
                    }
                }
                if data.isEmpty { continue }  // comment-only block: no event
                appendEvent(&record, data: data.joined(separator: "\n"), name: name, at: nanos(ms))
            }
        } else {
            record.payload = body
            last = blockMillis.first ?? 1
        }
        record.endNanos = nanos(endMillis ?? last + 1)
        return record
    }

    /// Appends an SSE event to `record` the way the loop does (name bytes, then data bytes, in `payload`).
    static func appendEvent(_ record: inout RequestRecord, data: String, name: String = "", at nanos: UInt64) {
        let nameOffset = UInt32(record.payload.count)
        record.payload += Array(name.utf8)
        let dataOffset = UInt32(record.payload.count)
        record.payload += Array(data.utf8)
        record.events.append(
            SSEEventMark(
                dataOffset: dataOffset, dataLength: UInt32(data.utf8.count), nameOffset: nameOffset,
                nameLength: UInt32(name.utf8.count), timestampNanos: nanos))
    }

    /// `base + ms` in ns.
    static func nanos(_ ms: Double) -> UInt64 { base + UInt64((ms * 1_000_000).rounded()) }

    /// Parses `record` with the OpenAI plugin and judges it.
    static func judge(_ record: RequestRecord, stream: Bool = true) -> (ParsedResponse, RequestResult) {
        let request = APIRequest(body: Array("{}".utf8), isStream: stream)
        let parsed = OpenAIPlugin().parseResponses(record, request: request)
        return (parsed, RequestResult.make(record: record, parsed: parsed, isStreamRequest: stream))
    }
}
