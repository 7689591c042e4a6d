import Market

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
    public var faults: [DataProblem.Kind: Int] = [:]
    /// The first few faults, for the message.
    public var firstFaults: [DataProblem] = []

    public init() {}

    public var faultCount: Int { faults.values.reduce(0, +) }

    /// Every problem found (with `.skip`), in line order.
    public var problems: [DataProblem] = []
    /// Lines not replayed: the bad ones, and the diffs left out while the book was out of sync.
    public var leftOutLines: [Int] = []

    mutating func record(_ fault: DataProblem) {
        faults[fault.kind, default: 0] += 1
        if firstFaults.count < 10 { firstFaults.append(fault) }
        problems.append(fault)
        leftOutLines.append(fault.line)
    }
}
