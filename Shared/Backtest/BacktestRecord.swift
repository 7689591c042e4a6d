import Execution
import Ledger
import Schema

/// Everything a backtest did, in the order it happened.
public struct BacktestRecord: Sendable {
    /// One order command as the risk gate sent it to the executor.
    public struct SentOrder: Sendable, Equatable, Codable {
        public var clientOrderId: String
        public var intentId: String
        public var action: String
        public var symbol: String
        public var side: Side
        public var size: Amount
        public var orderType: String
        public var reduceOnly: Bool
        public var purpose: String
        public var strategy: String
        /// The open time of the bar whose decision sent it; nil for the gate's own stop upkeep.
        public var barTime: EpochNanos?
        public var sentAt: EpochNanos
        public var trigger: Amount?
        /// Why it was sent: the strategy's name for an entry, the exit path, or `protectionStop`.
        public var reason: String

        init(_ command: OrderCommand, reason: String, barTime: EpochNanos?, sentAt: EpochNanos) {
            self.reason = reason
            clientOrderId = command.clientOrderId
            intentId = command.intentId
            action = command.action.rawValue
            symbol = command.symbol ?? ""
            side = command.side
            size = command.size
            orderType = command.orderType.rawValue
            reduceOnly = command.reduceOnly
            purpose = command.purpose.rawValue
            strategy = command.strategy
            self.barTime = barTime
            self.sentAt = sentAt
            trigger = command.trigger?.triggerPrice
        }
    }

    public struct Rejection: Sendable, Equatable, Codable {
        public var clientOrderId: String
        public var symbol: String
        public var purpose: OrderPurpose
        public var reason: String
        public var time: EpochNanos
    }

    public struct StateChange: Sendable, Equatable, Codable {
        public var time: EpochNanos
        public var state: TradingState
        public var reasons: [String]
    }

    public var marketEvents = 0
    public var bars = 0
    public var signals = 0
    /// Intents judged by the gate: the strategies' and the exit engine's.
    public var intents = 0
    public var approved = 0
    /// Approved at a smaller size than asked (a limit clipped it).
    public var resized = 0
    /// Rejected decisions by the first reason's code.
    public var rejected: [String: Int] = [:]
    /// Exits the exit engine fired, by path.
    public var exits: [String: Int] = [:]
    public var orders: [SentOrder] = []
    public var rejects: [Rejection] = []
    public var fills: [Fill] = []
    public var funding: [FundingSettlement] = []
    public var stateChanges: [StateChange] = []
    /// Fills of orders no command of ours placed: always 0 unless something is wrong.
    public var unknownFills = 0
    /// What could not be read or booked: always empty unless something is wrong.
    public var faults: [String] = []
    public var finalSnapshot: AccountSnapshot?
    /// The market maker's passes reported (each a `QuoteReport`, as the executor publishes them).
    public var quoteReports = 0
    /// What a market maker watches, at the end (nil without quoted symbols).
    public var marketMaking: MarketMakingSummary?

    mutating func decide(_ decision: RiskDecision) {
        switch decision.outcome {
        case .approved: approved += 1
        case .resized: resized += 1
        case .rejected:
            rejected[decision.reasons.first?.code.rawValue ?? "none", default: 0] += 1
        }
    }
}

/// One closed trade as the backtest reports it: the FIFO ledger's round trip and why it closed.
public struct BacktestTrade: Sendable, Equatable, Codable {
    public var symbol: String
    public var strategy: String
    public var side: String
    public var size: Amount
    public var entryTime: EpochNanos
    public var entryPrice: Amount
    public var exitTime: EpochNanos
    public var exitPrice: Amount
    public var fees: Amount
    public var funding: Amount
    public var realizedPnl: Amount
    public var netPnl: Amount
    /// What closed it: the exit path (`hardStop`, `trailingStop`, …), `protectionStop` for a stop
    /// resting on the exchange, `signal` for an opposite entry, `quote` for a market maker's quote,
    /// `liquidation`.
    public var exitReason: String

    /// The ledger's closed trades, each with the reason of the order whose fill closed it.
    public static func trades(_ ledger: FifoLedger, record: BacktestRecord) -> [BacktestTrade] {
        var reasonByOrder: [String: String] = [:]
        for order in record.orders { reasonByOrder[order.clientOrderId] = order.purpose == "entry" ? "signal" : order.reason }
        var closing: [String: String] = [:]  // "symbol@time" → reason
        for fill in record.fills {
            closing["\(fill.symbol ?? "")@\(fill.time)"] =
                reasonByOrder[fill.clientOrderId] ?? (fill.isQuote ? "quote" : protectiveReason(fill))
        }
        return ledger.closedTrades.map { trade in
            BacktestTrade(
                symbol: trade.symbol, strategy: trade.strategy, side: trade.direction.rawValue, size: trade.size,
                entryTime: trade.entryTime, entryPrice: trade.entryPrice, exitTime: trade.exitTime, exitPrice: trade.exitPrice,
                fees: trade.fees, funding: trade.funding, realizedPnl: trade.realizedPnl, netPnl: trade.netPnl,
                exitReason: closing["\(trade.symbol)@\(trade.exitTime)"] ?? "unknown")
        }
    }

    /// A protective child's fill: its command was planned from the entry ("<intent>:<exitPath>").
    static func protectiveReason(_ fill: Fill) -> String {
        fill.strategy == FillMapping.liquidationStrategy ? "liquidation" : "protectionStop"
    }
}
