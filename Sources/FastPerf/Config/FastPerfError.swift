/// An error FastPerf reports to the user as one line: bad flags, unreadable files, a failed setup step.
public struct FastPerfError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
