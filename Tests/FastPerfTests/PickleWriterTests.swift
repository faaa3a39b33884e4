import Foundation
import Testing
@testable import FastPerf

/// `PickleWriter` against hand-assembled protocol 2 bytes (opcodes from CPython's `Lib/pickle.py`), against
/// CPython itself (`pickletools.optimize(pickle.dumps(v, protocol=2))`, which drops the unused memo puts
/// we never write), and the `--db-format pickle` database read by evalscope's documented analysis script
/// run with python3.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct PickleWriterTests {
    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// Runs `python3 -c script args…` (with `input` on stdin) and returns its stdout; throws on a non-zero exit.
    static func python(_ script: String, _ arguments: [String] = [], input: Data? = nil) throws -> String {
        let r = try Subprocess.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script] + arguments, input: input)
        guard r.status == 0 else { throw FastPerfTestError("python3 exited \(r.status): \(r.stderr)") }
        return r.stdout
    }

    @Test func handAssembledOpcodes() {
        let cases: [(PickleValue, String)] = [
            (.none, "80024e2e"),
            (.bool(true), "8002882e"),
            (.bool(false), "8002892e"),
            (.int(5), "80024b052e"),                      // BININT1
            (.int(300), "80024d2c012e"),                  // BININT2, little-endian
            (.int(-1), "80024affffffff2e"),               // BININT, signed 32-bit
            (.int(70000), "80024a701101002e"),
            (.int(1 << 40), "80028a060000000000012e"),    // LONG1: 6 bytes, two's complement
            (.int(-(1 << 40)), "80028a060000000000ff2e"),
            (.int(Int.max), "80028a08ffffffffffffff7f2e"),
            (.float(1.5), "8002473ff80000000000002e"),    // BINFLOAT, big-endian IEEE 754
            (.string("hé"), "80025803000000" + "68c3a9" + "2e"),  // BINUNICODE, UTF-8
            (.list([]), "80025d2e"),
            (.list([.string("a")]), "80025d5801000000" + "61" + "612e"),          // EMPTY_LIST, item, APPEND
            (.list([.int(1), .int(2)]), "80025d284b014b02652e"),                  // MARK … APPENDS
            (.dict([("k", .none)]), "80027d58010000006b4e732e"),                  // EMPTY_DICT, key, value, SETITEM
        ]
        for (value, expected) in cases {
            #expect(Self.hex(PickleWriter.pickle(value)) == expected, "\(value)")
        }
    }

    @Test func sameBytesAsCPython() throws {
        // JSON values with sorted keys (Python keeps the JSON order, we sort): one per line.
        let values = [
            "null", "true", "0", "255", "256", "65535", "65536", "-129", "2147483647", "2147483648", "-2147483649",
            "9007199254740993", "-9223372036854775808", "2.5", "-0.1", "1e+300", #""""#, #""héllo ☃ 😊\n""#,
            #"[1, "a", [], {}]"#, #"{"a": 1, "b": [true, false, null], "c": {"d": "e"}}"#,
            "[" + (0..<2500).map(String.init).joined(separator: ",") + "]",  // three APPENDS batches
        ]
        let script = """
            import json, pickle, pickletools, sys
            for line in sys.stdin.read().split("\\n"):
                print(pickletools.optimize(pickle.dumps(json.loads(line), protocol=2)).hex())
            """
        let lines = try Self.python(script, input: Data(values.joined(separator: "\n").utf8)).split(separator: "\n").map(String.init)
        #expect(lines.count == values.count)
        for (json, python) in zip(values, lines) {
            let value = try JSONDecoder().decode(PickleValue.self, from: Data(json.utf8))
            #expect(Self.hex(PickleWriter.pickle(value)) == python, "\(json.prefix(60))")
        }
    }

    @Test func columnsDecodeInPython() throws {
        var record = RequestRecord(requestIndex: 0, loopID: 0, connectionID: 0)
        record.isEventStream = true
        WriterCaseLoader.appendEvent(&record, data: #"{"choices":[{"delta":{"content":"Hé"}}]}"#, at: 1)
        WriterCaseLoader.appendEvent(&record, data: "[DONE]", at: 2)
        let request = PickledColumns.request(Array(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"temperature":0.5}"#.utf8))
        let messages = PickledColumns.responseMessages(record)
        let out = try Self.python("""
            import base64, pickle, sys
            print(repr(pickle.loads(base64.b64decode(sys.argv[1]))))
            print(repr(pickle.loads(base64.b64decode(sys.argv[2]))))
            """, [request, messages])
        #expect(out == """
            {'messages': [{'content': 'hi', 'role': 'user'}], 'model': 'm', 'stream': True, 'temperature': 0.5}
            ['{"choices":[{"delta":{"content":"Hé"}}]}']

            """)
    }

    /// evalscope's `evalscope/perf/utils/analysis_result.py` (as documented for `evalscope perf`), with only
    /// `db_path` filled in, then the text of each reply joined from `choices[0].delta.content`.
    static let analysisScript = """
        import base64
        import json
        import pickle
        import sqlite3
        import sys

        db_path = sys.argv[1]
        conn = sqlite3.connect(db_path)
        cursor = conn.cursor()

        # 获取列名
        cursor.execute('PRAGMA table_info(result)')
        columns = [info[1] for info in cursor.fetchall()]
        print('列名：', columns)

        cursor.execute('SELECT * FROM result WHERE success=1 AND first_chunk_latency > 1')
        rows = cursor.fetchall()
        print(f'len(rows): {len(rows)}')

        for row in rows:
            row_dict = dict(zip(columns, row))
            # 解码request
            row_dict['request'] = pickle.loads(base64.b64decode(row_dict['request']))
            # 解码response_messages
            row_dict['response_messages'] = pickle.loads(base64.b64decode(row_dict['response_messages']))
            # print(row_dict)
            print(
                f'request_id: {json.loads(row_dict["response_messages"][0])["id"]}, first_chunk_latency: {row_dict["first_chunk_latency"]}'  # noqa: E501
            )
            text = ''.join(
                (json.loads(m)['choices'][0]['delta'].get('content') or '')
                for m in row_dict['response_messages'] if json.loads(m).get('choices'))
            print(f'model: {row_dict["request"]["model"]}, prompt: {row_dict["request"]["messages"][0]["content"]}, text: {text}')
        """

    @Test func evalscopeAnalysisScriptReadsAPickleDatabase() throws {
        // The script selects first_chunk_latency > 1 s: TTFT 1010 ms.
        try BenchmarkHarness.withMockServer(ttftMillis: 1010, itlMillis: 2) { port in try Self.runAnalysisScript(port: port) }
    }

    static func runAnalysisScript(port: Int) throws {
        var args = BenchmarkHarness.arguments(url: "http://127.0.0.1:\(port)/v1/chat/completions", parallel: 2, number: 2)
        args.dbFormat = "pickle"
        args.maxTokens = 5
        args.prompt = "Tell me about foxes"
        let report = try Benchmark.run(args) { _ in }
        defer { try? FileManager.default.removeItem(atPath: args.outputsDir) }
        let db = report.points[0].directory + "/benchmark_data.db"
        let out = try Self.python(Self.analysisScript, [db]).split(separator: "\n").map(String.init)
        #expect(out.count == 6, "\(out)")
        #expect(out.first?.hasPrefix("列名： ['request', 'start_time', 'inter_token_latencies', 'success', 'response_messages'") == true)
        #expect(out.dropFirst().first == "len(rows): 2")
        for k in [2, 4] where k < out.count {
            #expect(out[k].hasPrefix("request_id: mock-"), "\(out[k])")
            let latency = Double(out[k].components(separatedBy: "first_chunk_latency: ").last ?? "") ?? 0
            #expect(latency > 1.0 && latency < 2.0)
            #expect(out[k + 1] == "model: mock-model, prompt: Tell me about foxes, text: The quick brown fox jumps")
        }
    }
}
