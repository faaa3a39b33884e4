import Foundation

/// Loads the real-world response fixtures in `<repo>/../shared/cases/` (see its README.md).
///
/// Each `case-NN.http` file is a raw HTTP/1.1 response: status line and header lines ending in
/// CRLF, a blank line, then the body bytes.
enum CaseFixtures {
    /// A fixture file could not be read or has no CRLFCRLF head terminator.
    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    /// The shared cases folder: this file is `<repo>/Tests/FastPerfTests/Support/CaseFixtures.swift`,
    /// so the repository root is three folders up, and the cases live next to it.
    static let casesDirectory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // FastPerfTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repository root
        .deletingLastPathComponent()  // its parent, which holds shared/
        .appendingPathComponent("shared")
        .appendingPathComponent("cases")

    /// Loads `name` (`"case-05"` or `"case-05.http"`) and splits it at the first CRLFCRLF:
    /// `head` is the status line and fields including the CRLFCRLF, `body` everything after
    /// it, `whole` the file's bytes.
    static func load(_ name: String) throws -> (head: [UInt8], body: [UInt8], whole: [UInt8]) {
        let fileName = name.hasSuffix(".http") ? name : name + ".http"
        let url = casesDirectory.appendingPathComponent(fileName)
        let whole: [UInt8]
        do {
            whole = [UInt8](try Data(contentsOf: url))
        } catch {
            throw LoadError(description: "cannot read \(url.path): \(error)")
        }
        let terminator: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]
        guard whole.count >= 4,
            let start = (0...(whole.count - 4)).first(where: { whole[$0..<($0 + 4)].elementsEqual(terminator) })
        else {
            throw LoadError(description: "\(url.path) has no CRLFCRLF after its head")
        }
        let headEnd = start + 4
        return (Array(whole[..<headEnd]), Array(whole[headEnd...]), whole)
    }
}
