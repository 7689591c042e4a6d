/// What a reader of a market data file does with a bad line: stop at the first, or leave it out,
/// count it and go on. Never trade on it.
public enum DataProblemPolicy: String, Sendable, CaseIterable {
    case stop
    case skip
}

/// A bad line of a market data file, with its 1-based line number.
public struct DataProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, CaseIterable, Comparable {
        /// Not in the file's format, or a value off the instrument's grid.
        case malformed
        /// A time earlier than the line before.
        case outOfOrder = "out-of-order time"
        /// The same time again where each must be new (a candle).
        case duplicate = "duplicate time"
        /// Data missing: a candle interval skipped, a snapshot older than the next diff, trade ids jumping.
        case gap
        /// The book crossed (best bid at or above best ask).
        case crossedBook = "crossed book"
        /// A depth diff that does not continue the previous one: diffs were lost.
        case brokenDiffChain = "broken diff chain"

        public static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The file, when the reader knows it.
    public var file: String
    public var line: Int
    public var kind: Kind
    public var detail: String

    public init(file: String = "", line: Int, kind: Kind, detail: String) {
        self.file = file
        self.line = line
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "\(file.isEmpty ? "" : file + " ")line \(line): \(kind.rawValue): \(detail)" }
}
