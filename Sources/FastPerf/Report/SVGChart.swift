import Foundation

/// HTML text escaping for the report: every string that comes from a user, a server or a file goes through it.
enum HTMLText {
    /// `s` with `& < > " '` replaced by character references (safe in element content and quoted attributes).
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}

/// A line chart drawn as inline SVG (no script, no external resource): numeric or categorical x axis, a left
/// and optionally a right y axis starting at 0, series drawn as lines, steps or bars, dots with hover titles,
/// vertical markers, and a legend. The output is deterministic text.
struct SVGChart {
    /// How a series is drawn.
    enum Style: Sendable { case line, bars }

    /// One series. `points` are (x, y) in data units, y nil = gap; x ascending.
    struct Series {
        var name: String
        var color: String
        var points: [(x: Double, y: Double?)]
        var dashed = false
        var style = Style.line
        /// Plot against the right axis.
        var rightAxis = false
        /// Draw a dot (with a hover title) at every point; off for dense series.
        var dots = true
    }

    /// A vertical line at `x` with a label at its top.
    struct Marker {
        var x: Double
        var label: String
        var color: String
    }

    /// The chart's title (also the SVG's accessible name).
    var title: String
    var xLabel: String
    var yLabel: String
    var yRightLabel: String?
    var series: [Series]
    var markers: [Marker] = []
    /// Categorical x axis: x = index into these labels.
    var xCategories: [String]?
    /// Fixed x range (numeric axis); default: the data's.
    var xRange: ClosedRange<Double>?
    /// Fixed top of the left y axis (e.g. 100 for percentages); default: a nice value above the data.
    var yMax: Double?
    /// Unit appended to values in dot titles, e.g. `" ms"`.
    var valueSuffix = ""

    static let width = 600.0
    static let height = 330.0
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                          "#7f7f7f", "#bcbd22"]

    /// The `<svg>` element.
    func render() -> String {
        let hasRight = series.contains { $0.rightAxis }
        let left = 66.0, right = hasRight ? 66.0 : 22.0, top = 26.0, bottom = 84.0
        let plotW = Self.width - left - right, plotH = Self.height - top - bottom
        let all = series.flatMap { s in s.points.compactMap { p in p.y.map { (p.x, $0) } } }
        var svg = "<svg class=\"chart\" viewBox=\"0 0 \(Int(Self.width)) \(Int(Self.height))\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"\(HTMLText.escape(title))\">"
        svg += "<title>\(HTMLText.escape(title))</title>"
        svg += "<rect class=\"plot\" x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\"/>"
        guard !all.isEmpty else {
            svg += "<text class=\"nodata\" x=\"\(f(left + plotW / 2))\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\">no data</text></svg>"
            return svg
        }
        // x scale
        let xMin: Double, xMax: Double
        if let cats = xCategories {
            xMin = -0.5
            xMax = Double(cats.count) - 0.5
        } else if let range = xRange {
            xMin = range.lowerBound
            xMax = range.upperBound > xMin ? range.upperBound : xMin + 1
        } else {
            let xs = all.map(\.0) + markers.map(\.x)
            xMin = xs.min()!
            xMax = xs.max()! > xMin ? xs.max()! : xMin + 1
        }
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotW }
        // y scales (from 0)
        func yAxis(_ right: Bool) -> (ticks: [Double], top: Double) {
            let ys = series.filter { $0.rightAxis == right }.flatMap { $0.points.compactMap(\.y) }
            if !right, let yMax { return (Self.niceTicks(max: yMax), yMax) }
            let maxY = ys.max() ?? 0
            let ticks = Self.niceTicks(max: maxY > 0 ? maxY * 1.06 : 1)  // headroom for marker labels
            return (ticks, ticks.last!)
        }
        let leftAxis = yAxis(false)
        let rightAxis = yAxis(true)
        func py(_ y: Double, _ r: Bool) -> Double { top + plotH - y / (r ? rightAxis.top : leftAxis.top) * plotH }

        // grid and left ticks
        for t in leftAxis.ticks {
            let y = py(t, false)
            svg += "<line class=\"gl\" x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y))\"/>"
            svg += "<text class=\"tick\" x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(Self.format(t, step: leftAxis.ticks[1] - leftAxis.ticks[0]))</text>"
        }
        if hasRight {
            for t in rightAxis.ticks {
                svg += "<text class=\"tick\" x=\"\(f(left + plotW + 6))\" y=\"\(f(py(t, true) + 4))\">\(Self.format(t, step: rightAxis.ticks[1] - rightAxis.ticks[0]))</text>"
            }
        }
        // x ticks
        if let cats = xCategories {
            for (i, c) in cats.enumerated() {
                svg += "<text class=\"tick\" x=\"\(f(px(Double(i))))\" y=\"\(f(top + plotH + 18))\" text-anchor=\"middle\">\(HTMLText.escape(c))</text>"
            }
        } else {
            let ticks = Self.niceTicks(min: xMin, max: xMax)
            let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
            for t in ticks where t >= xMin - 1e-9 && t <= xMax + 1e-9 {
                svg += "<line class=\"gl\" x1=\"\(f(px(t)))\" y1=\"\(f(top))\" x2=\"\(f(px(t)))\" y2=\"\(f(top + plotH))\"/>"
                svg += "<text class=\"tick\" x=\"\(f(px(t)))\" y=\"\(f(top + plotH + 18))\" text-anchor=\"middle\">\(Self.format(t, step: step))</text>"
            }
        }
        svg += "<line class=\"axis\" x1=\"\(f(left))\" y1=\"\(f(top + plotH))\" x2=\"\(f(left + plotW))\" y2=\"\(f(top + plotH))\"/>"
        svg += "<line class=\"axis\" x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotH))\"/>"
        // axis labels
        svg += "<text class=\"label\" x=\"\(f(left + plotW / 2))\" y=\"\(f(top + plotH + 38))\" text-anchor=\"middle\">\(HTMLText.escape(xLabel))</text>"
        svg += "<text class=\"label\" transform=\"translate(16 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(HTMLText.escape(yLabel))</text>"
        if let r = yRightLabel, hasRight {
            svg += "<text class=\"label\" transform=\"translate(\(f(Self.width - 14)) \(f(top + plotH / 2))) rotate(90)\" text-anchor=\"middle\">\(HTMLText.escape(r))</text>"
        }
        // markers
        for (i, m) in markers.enumerated() {
            let x = px(m.x)
            let anchor = x + 6 + Double(m.label.count) * 6.2 > left + plotW ? "end" : "start"
            let dx = anchor == "end" ? -4.0 : 4.0
            svg += "<line class=\"marker\" x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(top + plotH))\" stroke=\"\(m.color)\"/>"
            svg += "<text class=\"marker-label\" x=\"\(f(x + dx))\" y=\"\(f(top + 12 + 13 * Double(i)))\" text-anchor=\"\(anchor)\" fill=\"\(m.color)\">\(HTMLText.escape(m.label))</text>"
        }
        // series
        let barSeries = series.filter { $0.style == .bars && $0.points.contains { ($0.y ?? 0) > 0 } }
        for (si, s) in series.enumerated() {
            let dash = s.dashed ? " stroke-dasharray=\"6 4\"" : ""
            switch s.style {
            case .bars:
                let slot = barSeries.firstIndex { $0.name == s.name } ?? 0
                let spacing = s.points.count > 1 ? (px(s.points[1].x) - px(s.points[0].x)) : plotW / 10
                let w = max(1, spacing * 0.8 / Double(max(1, barSeries.count)))
                for p in s.points {
                    guard let y = p.y, y > 0 else { continue }
                    let x = px(p.x) - spacing * 0.4 + Double(slot) * w
                    svg += "<rect class=\"bar\" x=\"\(f(x))\" y=\"\(f(py(y, s.rightAxis)))\" width=\"\(f(w))\" height=\"\(f(top + plotH - py(y, s.rightAxis)))\" fill=\"\(s.color)\"><title>\(HTMLText.escape(s.name)): \(Self.format(y, step: 0.01))\(HTMLText.escape(valueSuffix))</title></rect>"
                }
            case .line:
                var segment: [String] = []
                func flush() {
                    if segment.count > 1 {
                        svg += "<polyline class=\"series s\(si)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\"\(dash) points=\"\(segment.joined(separator: " "))\"/>"
                    }
                    segment = []
                }
                for p in s.points {
                    guard let y = p.y else { flush(); continue }
                    segment.append("\(f(px(p.x))),\(f(py(y, s.rightAxis)))")
                }
                flush()
                if s.dots {
                    for p in s.points {
                        guard let y = p.y else { continue }
                        let xText = xCategories.map { p.x >= 0 && Int(p.x) < $0.count ? $0[Int(p.x)] : "" } ?? Self.format(p.x, step: 0.001)
                        svg += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(y, s.rightAxis)))\" r=\"3.5\" fill=\"\(s.color)\"><title>\(HTMLText.escape(s.name)) at \(HTMLText.escape(xText)): \(Self.format(y, step: 0.01))\(HTMLText.escape(valueSuffix))</title></circle>"
                    }
                }
            }
        }
        // legend (wraps to a second row when long)
        var lx = left, ly = top + plotH + 58
        for s in series {
            let w = 30 + Double(s.name.count) * 6.6
            if lx + w > Self.width - 8 && lx > left { lx = left; ly += 16 }
            if s.style == .bars {
                svg += "<rect x=\"\(f(lx))\" y=\"\(f(ly - 8))\" width=\"16\" height=\"9\" fill=\"\(s.color)\"/>"
            } else {
                svg += "<line x1=\"\(f(lx))\" y1=\"\(f(ly - 4))\" x2=\"\(f(lx + 16))\" y2=\"\(f(ly - 4))\" stroke=\"\(s.color)\" stroke-width=\"2\"\(s.dashed ? " stroke-dasharray=\"4 3\"" : "")/>"
            }
            svg += "<text class=\"legend\" x=\"\(f(lx + 21))\" y=\"\(f(ly))\">\(HTMLText.escape(s.name))</text>"
            lx += w + 12
        }
        return svg + "</svg>"
    }

    /// One decimal, no trailing noise (SVG coordinates).
    private func f(_ x: Double) -> String { String(format: "%.1f", x) }

    /// Ticks 0 (or a multiple of the step at or below `min`) … a multiple of a 1/2/5 × 10^k step at or above
    /// `max`, about five intervals.
    static func niceTicks(min lo: Double = 0, max hi: Double) -> [Double] {
        let range = Swift.max(hi - lo, 1e-12)
        let rough = range / 5
        let decade = pow(10, (log10(rough)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * decade }.first { $0 >= rough * 0.999 } ?? decade * 10
        let first = (lo / step).rounded(.down) * step
        var ticks: [Double] = []
        var t = first
        while t < hi + step * 0.999 && ticks.count < 50 {
            ticks.append(abs(t) < step * 1e-9 ? 0 : t)
            t = first + Double(ticks.count) * step
        }
        if ticks.count < 2 { ticks.append(first + step) }
        return ticks
    }

    /// A tick or value label with as many decimals as `step` needs; thousands as `k`, millions as `M`.
    static func format(_ x: Double, step: Double) -> String {
        if abs(x) >= 1e6 && step >= 1e5 { return trim(String(format: "%.1f", x / 1e6)) + "M" }
        if abs(x) >= 1e4 && step >= 1e3 { return trim(String(format: "%.1f", x / 1e3)) + "k" }
        let decimals = step >= 1 ? 0 : min(6, Int((-log10(step)).rounded(.up)))
        return String(format: "%.\(decimals)f", x)
    }

    private static func trim(_ s: String) -> String { s.hasSuffix(".0") ? String(s.dropLast(2)) : s }
}
