import Foundation

/// Plain-text report tables for the console and `performance_summary.txt` (evalscope's rich tables,
/// EVALSCOPE-PERF §5.2), drawn with Unicode box characters, monospace-aligned, deterministic.
public enum ReportText {
    /// evalscope's "Performance Overview": one row per run point, columns `Conc.` (configured `--parallel`,
    /// `-` for open loop), `Num` (requests judged, evalscope's column = `Total Requests`), `RPS`
    /// (`Req Throughput (req/s)`), `Gen tok/s` (`Output Throughput (tok/s)`), `Success %`.
    /// - Parameter points: the sweep points in run order; `number` is the configured `--number`.
    public static func overviewTable(points: [(parallel: Int, number: Int, summary: RunSummary)]) -> String {
        let header = ["Conc.", "Num", "RPS", "Gen tok/s", "Success %"]
        let rows = points.map { point -> [String] in
            [
                point.parallel < 0 ? "-" : String(point.parallel),
                String(point.summary.totalRequests),
                fixed(point.summary.requestThroughput, 2),
                fixed(point.summary.outputThroughput, 2),
                fixed(point.summary.successPercent, 1) + "%",
            ]
        }
        return "Performance Overview\n" + table(header: header, rows: rows, leftAligned: [])
    }

    /// "Per-Request Metrics" of one run point: rows `TTFT (ms)`, `TPOT (ms)`, `ITL (ms)`, `Latency (s)`,
    /// `Input tokens`, `Output tokens`; columns `Avg`, `P50`, `P99`, `Max` (successes only; `-` where
    /// there is no data). Followed by the failures line when any request failed.
    public static func perRequestTable(summary: RunSummary) -> String {
        let header = ["Metric", "Avg", "P50", "P99", "Max"]
        let specs: [(label: String, column: String, avg: Double?, decimals: Int)] = [
            ("TTFT (ms)", "TTFT (ms)", summary.avgTTFTMillis, 2),
            ("TPOT (ms)", "TPOT (ms)", summary.avgTPOTMillis, 2),
            ("ITL (ms)", "ITL (ms)", summary.avgITLMillis, 2),
            ("Latency (s)", "Latency (s)", summary.avgLatencySeconds, 4),
            ("Input tokens", "Input tokens", summary.avgInputTokens, 1),
            ("Output tokens", "Output tokens", summary.avgOutputTokens, 1),
        ]
        let rows = specs.map { spec -> [String] in
            let column = summary.column(spec.column)
            func cell(_ x: Double?) -> String { x.map { fixed($0, spec.decimals) } ?? "-" }
            return [
                spec.label, cell(spec.avg), cell(column?.value(permille: 500)),
                cell(column?.value(permille: 990)), cell(column?.value(permille: 1000)),
            ]
        }
        var text = "Per-Request Metrics\n" + table(header: header, rows: rows, leftAligned: [0])
        if let line = failuresLine(summary: summary) { text += line + "\n" }
        return text
    }

    /// `"Failures: http_status 3, truncated 1"` (kinds in `Outcome` order), or nil when nothing failed.
    public static func failuresLine(summary: RunSummary) -> String? {
        guard !summary.failuresByKind.isEmpty else { return nil }
        return "Failures: " + summary.failuresByKind.map { "\($0.0.rawValue) \($0.1)" }.joined(separator: ", ")
    }

    /// `x` with exactly `decimals` decimals (`%.*f`); non-finite values as `-`.
    static func fixed(_ x: Double, _ decimals: Int) -> String {
        x.isFinite ? String(format: "%.\(decimals)f", x) : "-"
    }

    /// A box-drawn table; cells are right-aligned except the column indices in `leftAligned`.
    static func table(header: [String], rows: [[String]], leftAligned: Set<Int>) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func rule(_ left: String, _ mid: String, _ right: String) -> String {
            left + widths.map { String(repeating: "─", count: $0 + 2) }.joined(separator: mid) + right + "\n"
        }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, width) in widths.enumerated() {
                let cell = i < cells.count ? cells[i] : ""
                let pad = String(repeating: " ", count: width - cell.count)
                parts.append(" " + (leftAligned.contains(i) ? cell + pad : pad + cell) + " ")
            }
            return "│" + parts.joined(separator: "│") + "│\n"
        }
        var out = rule("┌", "┬", "┐") + line(header) + rule("├", "┼", "┤")
        for row in rows { out += line(row) }
        return out + rule("└", "┴", "┘")
    }
}
