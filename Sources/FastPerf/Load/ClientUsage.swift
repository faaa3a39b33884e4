import Foundation
import Histogram

/// The client's own cost and saturation signals for one run point (the "client-saturation line").
public struct ClientUsage: Sendable {
    /// Loop threads that carried the point.
    public let loopThreads: Int
    /// CPU seconds (user + system) of all loop threads together, and of the busiest one as a fraction of the
    /// point's wall time (1.0 = that loop never idled).
    public let loopCPUSeconds: Double
    public let busiestLoopFraction: Double
    /// CPU seconds of the writer thread.
    public let writerCPUSeconds: Double
    /// Wall time of the point, s.
    public let wallSeconds: Double
    /// Loop lag: how late the loops' 10 ms sweep timers fired (time spent on other work past a due time), ms.
    public let loopLagP99Millis: Double
    public let loopLagMaxMillis: Double
    /// Sweep ticks measured (100 per second per loop).
    public var loopLagSamples: Int = 0
    /// Records that waited on a loop's overflow list because the ring to the writer was full.
    public let ringOverflows: Int
    /// Most records one loop held on its overflow list at once (a closed loop stops sending while it holds
    /// any, so at most the loop's requests in flight then).
    public var peakOverflow: Int = 0
    /// Connections that could not be opened because the process ran out of file descriptors (`ulimit -n`).
    public var connectionsOverFDLimit: Int = 0
    /// Most requests in flight at once.
    public let peakInFlight: Int
    /// Peak resident set size of the process so far, bytes.
    public let peakRSSBytes: Int
    /// Rate-driven points: send lag p99 (actual − intended send), ms.
    public var sendLagP99Millis: Double? = nil
    /// Rate-driven points with `--parallel`: that cap on requests in flight (0 = no cap, or a closed loop).
    public var connectionCap: Int = 0

    /// The cap on requests in flight was reached: due requests then wait for a connection, send lag that the
    /// cap the user chose makes, not the client.
    public var capReached: Bool { connectionCap > 0 && peakInFlight >= connectionCap }

    /// Loop lag p99 above which the loops were too busy to read sockets on time, ms.
    public static let loopLagLimitMillis = 2.0
    /// Loop CPU fraction above which a loop thread was saturated.
    public static let busyLimit = 0.9

    /// One line: CPU, per-request CPU, loop lag, overflows, peak in flight, peak RSS.
    public func line(requests: Int) -> String {
        let cpu = loopCPUSeconds + writerCPUSeconds
        return String(format: "Client: CPU %.3f s (%d loop%@ %.3f s, writer %.3f s), %.1f µs per request; loop lag p99 %.2f ms (max %.2f); busiest loop %.0f%%; ring overflows %d; peak in flight %d; peak RSS %.1f MiB",
                      cpu, loopThreads, loopThreads == 1 ? "" : "s", loopCPUSeconds, writerCPUSeconds,
                      cpu / Double(max(1, requests)) * 1e6, loopLagP99Millis, loopLagMaxMillis,
                      busiestLoopFraction * 100, ringOverflows, peakInFlight, Double(peakRSSBytes) / 1048576)
    }

    /// Why the client may have limited the run, with what to do about it, or nil when every signal is clear.
    public var warning: String? {
        let reasons = limits
        if reasons.isEmpty { return nil }
        var advice: [String] = []
        if connectionsOverFDLimit > 0 { advice.append("raise the open-files limit (ulimit -n)") }
        if connectionsOverFDLimit == 0 || reasons.count > 1 { advice.append("use more --threads, --db-store metrics, or a bigger machine") }
        return "the client may have limited this run: " + reasons.joined(separator: "; ") + " — " + advice.joined(separator: "; ")
    }

    /// What limited a point without being the client's doing (printed as notes, not warnings).
    public var notes: [String] {
        guard let lag = sendLagP99Millis, lag > OpenLoopSummary.sendLagLimitMillis, capReached else { return [] }
        return [String(format: "send lag p99 %.2f ms: requests waited for one of the %d requests in flight --parallel allows "
                       + "(the cap was reached; the corrected latencies include the wait)", lag, connectionCap)]
    }

    /// Each signal that says the client may have limited the run, as a phrase (empty when all are clear).
    public var limits: [String] {
        var reasons: [String] = []
        if let lag = sendLagP99Millis, lag > OpenLoopSummary.sendLagLimitMillis, !capReached {
            reasons.append(String(format: "send lag p99 %.2f ms > %.0f ms (requests left late: the corrected latencies include it)",
                                  lag, OpenLoopSummary.sendLagLimitMillis))
        }
        // Judged on at least 1 s of sweep ticks: a short run's p99 is its single worst tick.
        if loopLagP99Millis > Self.loopLagLimitMillis && loopLagSamples >= 100 {
            reasons.append(String(format: "loop lag p99 %.2f ms > %.0f ms", loopLagP99Millis, Self.loopLagLimitMillis))
        }
        if busiestLoopFraction > Self.busyLimit {
            reasons.append(String(format: "a loop thread was busy %.0f%% of the time", busiestLoopFraction * 100))
        }
        if connectionsOverFDLimit > 0 {
            reasons.append("\(connectionsOverFDLimit) connections could not be opened: the open-files limit (ulimit -n) was reached; their requests are connect_failed rows")
        }
        if ringOverflows > 0 {
            reasons.append("\(ringOverflows) records waited for the writer (ring full; a closed loop pauses sending then)")
        }
        return reasons
    }
}

/// What one loop thread hands back after its loop closed.
struct LoopOutcome: Sendable {
    var cpuSeconds: Double = 0
    var closeStatus: Int32 = 0
    var loopLag = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000_000,
                                    numberOfSignificantValueDigits: .three)
    var error: String?

    /// Runs one closed-loop driver on a new libuv loop on the calling thread until it is done.
    static func run(_ plan: LoopPlan) -> LoopOutcome {
        var out = LoopOutcome()
        do {
            let loop = try EventLoop()
            let driver: LoopDriver = plan.arrivals == nil
                ? ClosedLoopDriver(plan: plan, loop: loop) : OpenLoopDriver(plan: plan, loop: loop)
            driver.start()
            loop.run()
            out.closeStatus = loop.close()
            out.loopLag = driver.loopLag
        } catch {
            out.error = "\(error)"
            plan.progress.loopsFinished.add(1, ordering: .releasing)
        }
        out.cpuSeconds = ResourceUsage.threadCPUSeconds()
        return out
    }
}
