import Foundation

/// The `request` and `response_messages` columns in `--db-format pickle` (writer thread): base64 text of a
/// Python pickle (protocol 2, `PickleWriter`), so the analysis script documented for evalscope perf
/// (`evalscope/perf/utils/analysis_result.py`: `pickle.loads(base64.b64decode(row['request']))`, the same for
/// `response_messages`, then `json.loads` of each message) reads a FastPerf database unchanged.
enum PickledColumns {
    private static let doneMarker: [UInt8] = Array("[DONE]".utf8)

    /// `request`: the JSON body as a pickled `dict` (its keys sorted). A body that is not JSON is pickled as
    /// one `str`.
    static func request(_ body: [UInt8]) -> String {
        let value = (try? JSONDecoder().decode(PickleValue.self, from: Data(body))) ?? .string(String(decoding: body, as: UTF8.self))
        return Data(PickleWriter.pickle(value)).base64EncodedString()
    }

    /// `response_messages`: a pickled `list` of `str`, one per SSE event's data in arrival order — `[DONE]`
    /// left out, since evalscope never stores it and the script `json.loads` every element — or, for a
    /// non-SSE response, the one body. Invalid UTF-8 is repaired (U+FFFD) so Python can decode every string.
    static func responseMessages(_ record: RequestRecord) -> String {
        var strings: [[UInt8]] = []
        if record.isEventStream {
            strings.reserveCapacity(record.events.count)
            for i in record.events.indices {
                let data = record.eventData(i)
                if OpenAIPlugin.trimmed(data).elementsEqual(doneMarker) { continue }
                strings.append(Array(String(decoding: data, as: UTF8.self).utf8))
            }
        } else if !record.payload.isEmpty {
            strings.append(Array(String(decoding: record.payload, as: UTF8.self).utf8))
        }
        var writer = PickleWriter()
        writer.writeStringList(strings)
        return Data(writer.finish()).base64EncodedString()
    }
}
