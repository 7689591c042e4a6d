import Schema

/// Whether the executor may send an order while the ledger's volume is nearly full.
///
/// Every fill must land in the ledger before it is published; a full disk at fill time would leave
/// a trade on the exchange that Breakwater cannot record. So below a reserve of free space the
/// executor stops opening exposure: new entries are refused with a reason, while reduce-only orders
/// (exits, stops) and cancels still go, because the reserve exists to record exactly their fills.
/// A write that fails outright refuses everything (the shell's job: nothing can be recorded then).
public struct LedgerSpace: Sendable, Equatable {
    /// Free bytes kept for the fills of orders already out.
    public let reserveBytes: Int64

    public init(reserveBytes: Int64) {
        self.reserveBytes = max(0, reserveBytes)
    }

    /// Nil when `command` may go; otherwise why not. `freeBytes` nil means the volume could not be
    /// measured: the write itself then decides (a failure refuses the order).
    public func refusal(_ command: OrderCommand, freeBytes: Int64?) -> Reason? {
        guard let freeBytes, isLow(freeBytes: freeBytes) else { return nil }
        guard command.action == .place, !command.reduceOnly else { return nil }
        return Reason(
            .ledgerWriteFailed,
            "ledger volume has \(Self.megabytes(freeBytes)) free, below the \(Self.megabytes(reserveBytes)) kept for fills: no new exposure")
    }

    public func isLow(freeBytes: Int64) -> Bool { freeBytes < reserveBytes }

    static func megabytes(_ bytes: Int64) -> String {
        let tenths = max(0, bytes) * 10 / 1_048_576
        return "\(tenths / 10).\(tenths % 10) MB"
    }
}

/// Turns measurements of the ledger's condition into one alert when it goes bad and one when it is
/// well again, instead of one per order: an operator needs the edge, not a storm.
public struct LedgerHealthWatch: Sendable, Equatable {
    public enum Change: Sendable, Equatable {
        /// Space fell below the reserve, or a write failed: alert, refuse.
        case failing(String)
        /// Writes succeed and space is back above the reserve.
        case recovered
    }

    public private(set) var lowSpace = false
    public private(set) var writeFailure: String?

    public init() {}

    public var isFailing: Bool { lowSpace || writeFailure != nil }

    /// A measurement of free space against the rule.
    public mutating func observeSpace(freeBytes: Int64?, rule: LedgerSpace) -> Change? {
        guard let freeBytes else { return nil }
        return update { $0.lowSpace = rule.isLow(freeBytes: freeBytes) }
    }

    /// A write that failed (`error`) or succeeded (nil).
    public mutating func observeWrite(error: String?) -> Change? {
        update { $0.writeFailure = error }
    }

    private mutating func update(_ body: (inout LedgerHealthWatch) -> Void) -> Change? {
        let before = isFailing
        body(&self)
        if !before && isFailing { return .failing(detail) }
        if before && !isFailing { return .recovered }
        return nil
    }

    /// What is wrong, empty when nothing is.
    public var detail: String {
        var parts: [String] = []
        if lowSpace { parts.append("ledger volume below its free-space reserve") }
        if let writeFailure { parts.append("ledger write failed: \(writeFailure)") }
        return parts.joined(separator: "; ")
    }
}
