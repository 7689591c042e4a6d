/// What is wrong with a line of a market data file, and where.
public struct L2DataFault: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, CaseIterable, Comparable {
        /// Not `<ns> <json>`, JSON the Binance reader refuses, another symbol, or a price or size off the grid.
        case malformed
        /// A receive time earlier than the line before.
        case outOfOrderTime
        /// A diff's `pu` is not the previous diff's `u`: diffs were lost.
        case brokenChain
        /// The book crossed after a diff was applied.
        case crossedBook
        /// Data missing: the first diff after the snapshot starts after it, or trade ids jump.
        case gap

        public static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// 1-based line number in the file.
    public var line: Int
    public var kind: Kind
    public var detail: String

    public init(line: Int, kind: Kind, detail: String) {
        self.line = line
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "line \(line): \(kind.rawValue): \(detail)" }
}

/// What a loader does with a bad line.
public enum L2FaultPolicy: Sendable, Equatable {
    /// Throw the first fault.
    case stop
    /// Leave the line out, count it, and go on. A gap or a broken chain also loses sync: the book is
    /// cleared (a `.clear` event) and diffs are left out until the next snapshot, so nothing ever
    /// trades on a book that cannot be vouched for.
    case skip
}

/// What a load read, applied, left out and why.
public struct L2LoadReport: Sendable, Equatable {
    public var lines = 0
    public var snapshots = 0
    public var diffsApplied = 0
    /// Diffs older than the book (before the snapshot's id): normal at the start of a capture.
    public var staleDiffs = 0
    /// Diffs left out while the book was out of sync after a gap or a broken chain.
    public var diffsWhileUnsynced = 0
    public var trades = 0
    /// `bookTicker` lines: validated for time order, not replayed (the diffs carry the book).
    public var bookTickers = 0
    /// Other well-formed events.
    public var otherEvents = 0
    /// Faults by kind; with `.stop` only the one thrown.
    public var faults: [L2DataFault.Kind: Int] = [:]
    /// The first few faults, for the message.
    public var firstFaults: [L2DataFault] = []

    public init() {}

    public var faultCount: Int { faults.values.reduce(0, +) }

    mutating func record(_ fault: L2DataFault) {
        faults[fault.kind, default: 0] += 1
        if firstFaults.count < 10 { firstFaults.append(fault) }
    }
}
