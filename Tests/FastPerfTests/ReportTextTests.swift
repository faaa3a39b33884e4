import Foundation
import Testing
@testable import FastPerf

@Suite struct ReportTextTests {
    @Test func overviewTable() {
        let s = SummaryFixture.accumulator().summary(parallel: 2, number: 5)
        let open = MetricsAccumulator().summary(parallel: -1, number: 0)
        let text = ReportText.overviewTable(points: [(parallel: 2, number: 5, summary: s), (parallel: -1, number: 0, summary: open)])
        let expected = """
            Performance Overview
            ┌───────┬─────┬──────┬───────────┬───────────┐
            │ Conc. │ Num │  RPS │ Gen tok/s │ Success % │
            ├───────┼─────┼──────┼───────────┼───────────┤
            │     2 │   5 │ 0.75 │      2.25 │     60.0% │
            │     - │   0 │ 0.00 │      0.00 │      0.0% │
            └───────┴─────┴──────┴───────────┴───────────┘

            """
        #expect(text == expected)
    }

    /// ITL percentiles come from an HdrHistogram (3 significant digits, highest equivalent value of the
    /// bucket): the 500 ms median reads 500.17 ms; the mean is exact.
    @Test func perRequestTableWithFailures() {
        let s = SummaryFixture.accumulator().summary(parallel: 2, number: 5)
        let expected = """
            Per-Request Metrics
            ┌───────────────┬────────┬────────┬────────┬────────┐
            │ Metric        │    Avg │    P50 │    P99 │    Max │
            ├───────────────┼────────┼────────┼────────┼────────┤
            │ TTFT (ms)     │ 200.00 │ 200.00 │ 300.00 │ 300.00 │
            │ TPOT (ms)     │ 522.22 │ 566.67 │ 800.00 │ 800.00 │
            │ ITL (ms)      │ 483.33 │ 500.17 │ 800.00 │ 800.00 │
            │ Latency (s)   │ 1.1667 │ 1.0000 │ 2.0000 │ 2.0000 │
            │ Input tokens  │   20.0 │   20.0 │   30.0 │   30.0 │
            │ Output tokens │    3.0 │    3.0 │    4.0 │    4.0 │
            └───────────────┴────────┴────────┴────────┴────────┘
            Failures: http_status 1, truncated 1

            """
        #expect(ReportText.perRequestTable(summary: s) == expected)
    }

    @Test func perRequestTableWithoutDataOrFailures() {
        let s = MetricsAccumulator().summary(parallel: 1, number: 0)
        let text = ReportText.perRequestTable(summary: s)
        #expect(!text.contains("Failures"))
        #expect(text.contains("│ TTFT (ms)     │   - │   - │   - │   - │"))
        #expect(ReportText.failuresLine(summary: s) == nil)
    }
}
