import Foundation
import Ledger
import Schema

/// A finished backtest as the operator reads it: the same P&L report as `breakwater report` (by the
/// FIFO ledger's rules over the fills), the funnel from bars to fills, every trade and every fill.
public struct BacktestReport: Sendable, Encodable {
    public struct Funnel: Sendable, Equatable, Encodable {
        public var marketEvents: Int
        public var bars: Int
        public var signals: Int
        public var intents: Int
        public var approved: Int
        public var resized: Int
        /// Rejected decisions by the first reason's code.
        public var rejected: [String: Int]
        public var ordersSent: Int
        public var exchangeRejects: Int
        public var fills: Int
        /// Exits the exit engine fired, by path.
        public var exits: [String: Int]
    }

    public var performance: PerformanceReport
    public var funnel: Funnel
    public var trades: [BacktestTrade]
    public var fills: [Fill]
    public var orders: [BacktestRecord.SentOrder]
    public var rejects: [BacktestRecord.Rejection]
    public var stateChanges: [BacktestRecord.StateChange]
    /// Final account: equity and open positions at the last mark.
    public var finalAccount: AccountSnapshot?
    /// Faults that mean the run is not to be trusted (fills of unknown orders, ledger refusals).
    public var faults: [String]
    /// What a market maker watches, as `breakwater report --quotes` prints it (nil without quoted symbols).
    public var marketMaking: MarketMakingSummary?

    public init(_ backtest: Backtest) throws(LedgerError) {
        let record = backtest.record
        performance = try PerformanceReport(
            fills: record.fills, funding: record.funding, startingCapital: backtest.ledger.startingCapital)
        funnel = Funnel(
            marketEvents: record.marketEvents, bars: record.bars, signals: record.signals, intents: record.intents,
            approved: record.approved, resized: record.resized, rejected: record.rejected, ordersSent: record.orders.count,
            exchangeRejects: record.rejects.count, fills: record.fills.count, exits: record.exits)
        trades = BacktestTrade.trades(backtest.ledger, record: record)
        fills = record.fills
        orders = record.orders
        rejects = record.rejects
        stateChanges = record.stateChanges
        finalAccount = record.finalSnapshot
        marketMaking = record.marketMaking
        faults =
            (record.unknownFills > 0 ? ["\(record.unknownFills) fill(s) of orders no command placed"] : [])
            + record.faults
    }

    /// The operator's text: what was played, the funnel, the P&L tables, faults.
    public func text(notes: [String]) -> String {
        var lines: [String] = ["Backtest"]
        for note in notes { lines.append("  \(note)") }
        lines.append("")
        let f = funnel
        lines.append(
            "Funnel: \(f.marketEvents) market events → \(f.bars) bars → \(f.signals) signals → \(f.intents) intents → \(f.approved + f.resized) approved (\(f.resized) resized) → \(f.ordersSent) orders sent → \(f.fills) fills (\(f.exchangeRejects) refused by the exchange)")
        if !f.rejected.isEmpty {
            lines.append(
                "Rejected by risk: "
                    + f.rejected.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if !f.exits.isEmpty {
            lines.append("Exits fired: " + f.exits.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        var reasons: [String: Int] = [:]
        for trade in trades { reasons[trade.exitReason, default: 0] += 1 }
        if !reasons.isEmpty {
            lines.append("Trades closed by: " + reasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if let account = finalAccount {
            lines.append(
                "Final equity \(account.equity.rounded(scale: 2, .plain)) (realised \(account.realizedPnl.rounded(scale: 2, .plain)), fees \(account.fees.rounded(scale: 2, .plain)), unrealised \(account.unrealizedPnl.rounded(scale: 2, .plain)), \(account.positions.count) open position(s))")
        }
        for change in stateChanges.suffix(5) {
            lines.append("Trading state \(change.state.rawValue) at \(ReportPage.utc(change.time)): \(change.reasons.joined(separator: "; "))")
        }
        lines.append("")
        lines.append(performance.table())
        if let marketMaking {
            lines.append("")
            let quoted = marketMaking.symbols.filter(\.configured).map(\.symbol)
            lines.append("Market making (quoted: \(quoted.joined(separator: ", ")); other symbols' fills count in the account):")
            lines.append(marketMaking.table())
        }
        for fault in faults { lines.append("FAULT: \(fault)") }
        return lines.joined(separator: "\n")
    }

    /// `--json`: the summary (the report's own JSON), the funnel, every trade, every fill.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    enum CodingKeys: String, CodingKey {
        case performance, funnel, trades, fills, orders, rejects, stateChanges, finalAccount, faults, marketMaking
    }
}
