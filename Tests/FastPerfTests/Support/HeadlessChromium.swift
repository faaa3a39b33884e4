import Dispatch
import Foundation
import Synchronization

/// Debian's `chromium` in headless mode, driven over the DevTools protocol on a pipe
/// (`--remote-debugging-pipe`: NUL-terminated JSON commands on the browser's fd 3, replies and events on its
/// fd 4; a `/bin/sh` wrapper maps them onto the process's stdin and stdout). Opens a page the way a user
/// would and reports what happened: console errors, every request the page made, a screenshot, and the value
/// of a check expression. Every wait is bounded; the browser is killed if it does not close.
final class HeadlessChromium {
    /// What opening a page produced.
    struct Page {
        /// Console errors, uncaught exceptions and error log entries, as text.
        var consoleErrors: [String]
        /// URL of every request the page made, the document's own included.
        var requests: [String]
        /// Full-page PNG screenshot.
        var screenshot: Data
        /// CSS pixel size of the whole page.
        var width: Int
        var height: Int
        /// The check expression's value (it must return a JSON string), parsed.
        var check: [String: Any]
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// `chromium` on PATH (Debian's package), or nil.
    static var executable: String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(dir)/chromium"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let inbox = Inbox()
    private let profile: String
    private let deadline: DispatchTime
    private var nextID = 0
    private var events: [[String: Any]] = []

    /// Starts the browser; every later step must finish within `timeout` seconds of this call.
    init(timeout: Double) throws {
        guard let chromium = Self.executable else {
            throw Failure(description: "chromium is not installed: run scripts/setup.sh --browser (apt-get install chromium)")
        }
        deadline = .now() + timeout
        profile = FileManager.default.temporaryDirectory.appendingPathComponent("fastperf-chromium-\(UUID().uuidString)").path
        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                     "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--mute-audio",
                     // Anything the page fetches from the network would go to a dead proxy (and still be seen).
                     "--proxy-server=127.0.0.1:9", "--user-data-dir=\(profile)", "--remote-debugging-pipe", "about:blank"]
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec \"$0\" \"$@\" 3<&0 4>&1 0</dev/null 1>/dev/null 2>/dev/null", chromium] + flags
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let handle = output.fileHandleForReading
        let inbox = self.inbox
        Thread.detachNewThread {
            var buffer = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let end = buffer.firstIndex(of: 0) {
                    inbox.push(Data(buffer[buffer.startIndex..<end]))
                    buffer = Data(buffer[(end + 1)...])
                }
            }
            inbox.close()
        }
    }

    deinit { close() }

    /// Closes the browser (killing it when it does not exit within 5 s) and removes its profile.
    func close() {
        if process.isRunning {
            _ = try? send("Browser.close")
            let until = Date().addingTimeInterval(5)
            while process.isRunning && Date() < until { usleep(50_000) }
            // SIGKILL: the browser inherits the test runner's blocked-signal mask, so SIGTERM may never arrive.
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: profile)
    }

    /// Opens `url` in a `width`-pixel-wide page, waits for its load event, evaluates `check` and takes a
    /// full-page screenshot.
    func open(_ url: URL, width: Int, check: String) throws -> Page {
        let target = try call("Target.createTarget", ["url": "about:blank"])
        guard let targetID = target["targetId"] as? String else { throw Failure(description: "no target: \(target)") }
        let attached = try call("Target.attachToTarget", ["targetId": targetID, "flatten": true])
        guard let session = attached["sessionId"] as? String else { throw Failure(description: "no session: \(attached)") }
        for domain in ["Page", "Network", "Runtime", "Log"] { _ = try call("\(domain).enable", session: session) }
        _ = try call("Emulation.setDeviceMetricsOverride",
                     ["width": width, "height": 900, "deviceScaleFactor": 1, "mobile": false], session: session)
        _ = try call("Page.navigate", ["url": url.absoluteString], session: session)
        _ = try waitForEvent("Page.loadEventFired")
        let evaluated = try call("Runtime.evaluate", ["expression": check, "returnByValue": true], session: session)
        guard let value = (evaluated["result"] as? [String: Any])?["value"] as? String,
              let checkResult = try JSONSerialization.jsonObject(with: Data(value.utf8)) as? [String: Any] else {
            throw Failure(description: "check expression failed: \(evaluated)")
        }
        let metrics = try call("Page.getLayoutMetrics", session: session)
        let size = metrics["cssContentSize"] as? [String: Any] ?? [:]
        let height = Int(((size["height"] as? NSNumber)?.doubleValue ?? 900).rounded(.up))
        let shot = try call("Page.captureScreenshot", [
            "format": "png", "captureBeyondViewport": true,
            "clip": ["x": 0, "y": 0, "width": width, "height": height, "scale": 1],
        ], session: session)
        guard let base64 = shot["data"] as? String, let png = Data(base64Encoded: base64) else {
            throw Failure(description: "no screenshot")
        }
        var errors: [String] = []
        var requests: [String] = []
        for e in events {
            let params = e["params"] as? [String: Any] ?? [:]
            switch e["method"] as? String {
            case "Runtime.consoleAPICalled" where (params["type"] as? String) == "error":
                errors.append("console.error: \(params["args"] ?? "")")
            case "Runtime.exceptionThrown":
                errors.append("exception: \(params["exceptionDetails"] ?? "")")
            case "Log.entryAdded":
                let entry = params["entry"] as? [String: Any] ?? [:]
                if (entry["level"] as? String) == "error" { errors.append("log: \(entry["text"] ?? "") \(entry["url"] ?? "")") }
            case "Network.requestWillBeSent":
                requests.append(((params["request"] as? [String: Any])?["url"] as? String) ?? "?")
            default: break
            }
        }
        return Page(consoleErrors: errors, requests: requests, screenshot: png, width: width, height: height, check: checkResult)
    }

    // MARK: protocol

    @discardableResult
    private func send(_ method: String, _ params: [String: Any] = [:], session: String? = nil) throws -> Int {
        nextID += 1
        var message: [String: Any] = ["id": nextID, "method": method, "params": params]
        if let session { message["sessionId"] = session }
        var data = try JSONSerialization.data(withJSONObject: message)
        data.append(0)
        try input.fileHandleForWriting.write(contentsOf: data)
        return nextID
    }

    /// Sends a command and returns its `result`; every event read meanwhile is kept.
    private func call(_ method: String, _ params: [String: Any] = [:], session: String? = nil) throws -> [String: Any] {
        let id = try send(method, params, session: session)
        let reply = try next { ($0["id"] as? Int) == id }
        if let error = reply["error"] { throw Failure(description: "\(method): \(error)") }
        return reply["result"] as? [String: Any] ?? [:]
    }

    private func waitForEvent(_ method: String) throws -> [String: Any] {
        try next { ($0["method"] as? String) == method }
    }

    private func next(where match: ([String: Any]) -> Bool) throws -> [String: Any] {
        while true {
            guard let data = inbox.pop(deadline: deadline) else {
                throw Failure(description: "chromium did not answer in time (or exited)")
            }
            guard let message = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { continue }
            if message["method"] != nil { events.append(message) }
            if match(message) { return message }
        }
    }

    /// Messages read by the reader thread, handed to the test thread.
    private final class Inbox: Sendable {
        private let state = Mutex<(messages: [Data], closed: Bool)>(([], false))
        private let ready = DispatchSemaphore(value: 0)

        func push(_ message: Data) {
            state.withLock { $0.messages.append(message) }
            ready.signal()
        }

        func close() {
            state.withLock { $0.closed = true }
            ready.signal()
        }

        /// The next message; nil when the deadline passes or the browser closed its end.
        func pop(deadline: DispatchTime) -> Data? {
            while true {
                let (message, closed) = state.withLock { s -> (Data?, Bool) in
                    s.messages.isEmpty ? (nil, s.closed) : (s.messages.removeFirst(), false)
                }
                if let message { return message }
                if closed || ready.wait(timeout: deadline) == .timedOut { return nil }
            }
        }
    }
}

/// Width and height of a PNG file from its IHDR chunk; nil when `data` is not a PNG.
func pngSize(_ data: Data) -> (width: Int, height: Int)? {
    let bytes = [UInt8](data.prefix(24))
    guard bytes.count == 24, bytes[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { return nil }
    func be32(_ i: Int) -> Int { bytes[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) } }
    return (be32(16), be32(20))
}
