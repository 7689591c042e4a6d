import Foundation
import Schema

/// The performance table per strategy, from fills: what `breakwater report` prints, and
/// what a test recomputes offline to prove the running system recorded the same thing.
public struct PerformanceReport: Sendable, Equatable {
    public struct Row: Sendable, Equatable, Codable {
        public var strategy: String
        public var trades: Int
        public var winRate: Double
        /// nil when there was no losing trade.
        public var profitFactor: Double?
        /// Of this strategy's own equity curve from the starting capital, 0…1.
        public var maxDrawdown: Double
        public var netPnl: Amount
        public var fees: Amount
        /// Funding the closed trades carried (received positive), within `netPnl`.
        public var funding: Amount
    }

    public var rows: [Row]
    public var total: Row
    public var fills: Int
    public var startingCapital: Amount
    /// How many funding payments were booked, and their sum (received positive), open trades and
    /// flat periods included: what equity counts, which `total.funding` (closed trades only) may not.
    public var fundingPayments: Int
    public var funding: Amount
    /// startingCapital + realised P&L − fees + funding, over everything booked.
    public var realizedEquity: Amount

    /// Books every fill (in the given order) and every funding payment (by time, between the fills)
    /// into a fresh FIFO ledger.
    public init(fills: [Fill], funding: [FundingSettlement] = [], startingCapital: Amount) throws(LedgerError) {
        let ledger = try FifoLedger.replaying(fills: fills, funding: funding, startingCapital: startingCapital)
        let trades = ledger.closedTrades
        func row(_ name: String, _ selected: [ClosedTrade]) -> Row {
            let statistics = TradeStatistics(trades: selected)
            return Row(
                strategy: name, trades: statistics.tradeCount, winRate: statistics.winRate,
                profitFactor: statistics.profitFactor,
                maxDrawdown: EquityCurve(startingCapital: startingCapital, trades: selected).maxDrawdown,
                netPnl: statistics.totalNetPnl, fees: statistics.totalFees, funding: statistics.totalFunding)
        }
        let strategies = Set(trades.map(\.strategy)).sorted()
        rows = strategies.map { name in row(name, trades.filter { $0.strategy == name }) }
        total = row("all", trades)
        self.fills = fills.count
        self.startingCapital = startingCapital
        fundingPayments = funding.count
        self.funding = ledger.funding
        realizedEquity = ledger.account.realizedEquity
    }

    public func table() -> String {
        func cell(_ text: String, _ width: Int) -> String {
            text.count >= width ? text + " " : text.padding(toLength: width, withPad: " ", startingAt: 0)
        }
        func percent(_ value: Double) -> String { String(format: "%.2f %%", value * 100) }
        var lines = [
            cell("STRATEGY", 24) + cell("TRADES", 8) + cell("WIN RATE", 10) + cell("PROFIT F.", 11)
                + cell("MAX DD", 10) + cell("NET P&L", 14) + "FEES"
        ]
        for row in rows + [total] {
            lines.append(
                cell(row.strategy, 24) + cell("\(row.trades)", 8) + cell(percent(row.winRate), 10)
                    + cell(row.profitFactor.map { String(format: "%.3f", $0) } ?? "n/a", 11)
                    + cell(percent(row.maxDrawdown), 10) + cell(row.netPnl.rounded(scale: 2).description, 14)
                    + row.fees.rounded(scale: 2).description)
        }
        lines.append(
            "\(fills) fills; \(fundingPayments) funding payments (\(funding)); starting capital \(startingCapital); "
                + "realised equity \(realizedEquity.rounded(scale: 2))")
        return lines.joined(separator: "\n")
    }
}
