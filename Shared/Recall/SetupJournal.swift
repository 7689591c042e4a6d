import Ledger
import Schema

/// Follows each remembered set-up from its signal to the fills that close the position it
/// opened, and says its outcome when they do: the write-back recall learns from.
///
/// The links: signal → intent (the intent's origin), intent → client order id (the risk
/// decision), client order id → fills. P&L is the shared FIFO ledger's.
public struct SetupJournal: Sendable {
    private struct OpenSetup: Sendable {
        var setupId: String
        var openedSize: Amount
        var entryPrice: Amount
        var entryTime: EpochNanos
        var closedSize: Amount = .zero
        var realizedPnl: Amount = .zero
    }

    private var ledger: FifoLedger
    private var setupByIntent: [String: String] = [:]
    private var setupByOrder: [String: String] = [:]
    private var openByFill: [String: OpenSetup] = [:]
    private let barNanos: Int64

    public init(barNanos: Int64 = 60_000_000_000) {
        self.ledger = FifoLedger(startingCapital: 1)
        self.barNanos = barNanos
    }

    /// An approved signal became this intent.
    public mutating func intended(_ intentId: String, setupId: String) {
        setupByIntent[intentId] = setupId
    }

    public mutating func decided(_ decision: RiskDecision) {
        guard let setupId = setupByIntent.removeValue(forKey: decision.intentId) else { return }
        if let order = decision.clientOrderId { setupByOrder[order] = setupId }
    }

    /// Books a fill; returns the set-ups whose position it finished closing, with their outcome.
    public mutating func filled(_ fill: Fill) -> [(setupId: String, outcome: SetupOutcome)] {
        guard case .applied(let report) = (try? ledger.apply(fill)) ?? .duplicate(fillId: fill.fillId) else {
            return []
        }
        if report.openedSize.isPositive, let setupId = setupByOrder[fill.clientOrderId] {
            openByFill[fill.fillId] = OpenSetup(
                setupId: setupId, openedSize: report.openedSize, entryPrice: fill.price, entryTime: fill.time)
        }
        var finished: [(String, SetupOutcome)] = []
        for match in report.matches {
            guard var open = openByFill[match.entryFillId] else { continue }
            open.closedSize += match.size
            open.realizedPnl += match.realizedPnl
            if open.closedSize >= open.openedSize {
                openByFill[match.entryFillId] = nil
                let notional = (open.entryPrice * open.openedSize).doubleValue
                let fraction = notional > 0 ? open.realizedPnl.doubleValue / notional : 0
                let bars = Int((match.exitTime - open.entryTime) / max(barNanos, 1))
                finished.append((open.setupId, SetupOutcome(pnlFraction: fraction, holdingBars: max(bars, 0))))
            } else {
                openByFill[match.entryFillId] = open
            }
        }
        return finished
    }

    /// Set-ups whose position is still open.
    public var openSetups: Int { openByFill.count }
}
