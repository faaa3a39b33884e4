import Foundation

/// How a run shows its progress while a point goes (`RunArguments.progressDisplay`).
public enum ProgressDisplayMode: String, Sendable, Equatable {
    /// Nothing (`--quiet`, and library callers by default).
    case off
    /// One line per point on standard error, rewritten in place about four times a second.
    case terminal
    /// A plain log line every `ProgressDisplay.logIntervalNanos` through the run's log (also `benchmark.log`).
    case log
}

/// The live progress display of one sweep point, polled by the main thread while the point runs. It reads
/// `RunProgress`'s atomics only (the writer thread counts, the loop threads are never touched).
final class ProgressDisplay {
    /// Terminal redraw period and log-line period, ns.
    static let terminalIntervalNanos: UInt64 = 250_000_000
    static let logIntervalNanos: UInt64 = 5_000_000_000

    private let mode: ProgressDisplayMode
    private let label: String
    private let number: Int
    private let progress: RunProgress
    private let log: (String) -> Void
    private let write: (String) -> Void
    private let startNanos: UInt64
    private var lastNanos: UInt64

    /// - Parameters:
    ///   - label: the point, e.g. `parallel 8` or `rate 2.5`.
    ///   - write: where terminal output goes (default: standard error, unbuffered).
    init(mode: ProgressDisplayMode, label: String, number: Int, progress: RunProgress,
         log: @escaping (String) -> Void,
         write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) },
         nowNanos: UInt64 = MonotonicClock.nowNanos()) {
        self.mode = mode
        self.label = label
        self.number = number
        self.progress = progress
        self.log = log
        self.write = write
        self.startNanos = nowNanos
        self.lastNanos = nowNanos
    }

    /// Redraws (terminal) or logs (log mode) when its period has passed since the last time.
    func update(nowNanos: UInt64 = MonotonicClock.nowNanos()) {
        switch mode {
        case .off: return
        case .terminal:
            guard nowNanos &- lastNanos >= Self.terminalIntervalNanos else { return }
            lastNanos = nowNanos
            write("\r" + line(nowNanos: nowNanos) + "\u{1B}[K")
        case .log:
            guard nowNanos &- lastNanos >= Self.logIntervalNanos else { return }
            lastNanos = nowNanos
            log("  " + line(nowNanos: nowNanos))
        }
    }

    /// Ends the point: on a terminal the line is drawn a last time and kept.
    func finish(nowNanos: UInt64 = MonotonicClock.nowNanos()) {
        guard mode == .terminal else { return }
        write("\r" + line(nowNanos: nowNanos) + "\u{1B}[K\n")
    }

    /// The progress line now, e.g.
    /// `parallel 8: 312/400 (78%) | 1203.4 req/s | 30123 tok/s | 8 in flight | 0 errors | 0:03 elapsed | ETA 0:01`.
    func line(nowNanos: UInt64) -> String {
        let stored = progress.stored.load(ordering: .relaxed)
        let failed = progress.failed.load(ordering: .relaxed)
        return Self.line(label: label, number: number, done: stored, failed: failed,
                         outputTokens: progress.outputTokens.load(ordering: .relaxed),
                         inFlight: progress.inFlight.load(ordering: .relaxed),
                         elapsedSeconds: Double(nowNanos &- startNanos) / 1e9)
    }

    /// The progress line from its numbers: `done` requests stored of `number` (`failed` of them failed),
    /// `outputTokens` completion tokens of the successes, `inFlight` requests now, `elapsedSeconds` since the point
    /// began. req/s and tok/s count successes over the elapsed time; ETA = remaining ÷ the stored-request rate.
    static func line(label: String, number: Int, done: Int, failed: Int, outputTokens: Int, inFlight: Int,
                     elapsedSeconds: Double) -> String {
        let rate = elapsedSeconds > 0 ? Double(done) / elapsedSeconds : 0
        let okRate = elapsedSeconds > 0 ? Double(done - failed) / elapsedSeconds : 0
        let tokRate = elapsedSeconds > 0 ? Double(outputTokens) / elapsedSeconds : 0
        let percent = number > 0 ? done * 100 / number : 0
        let eta = rate > 0 ? clock(Double(max(0, number - done)) / rate) : "-"
        return "\(label): \(done)/\(number) (\(percent)%) | " + String(format: "%.1f req/s | %.0f tok/s", okRate, tokRate)
            + " | \(inFlight) in flight | \(failed) error\(failed == 1 ? "" : "s") | \(clock(elapsedSeconds)) elapsed | ETA \(eta)"
    }

    /// `m:ss`, or `h:mm:ss` from an hour.
    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.down))
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
