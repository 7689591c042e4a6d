import Foundation
import Schema

/// The statistics traders read, per strategy, per symbol and overall, from fills: what
/// `breakwater report` prints (live and backtest alike), and what a test recomputes offline to
/// prove the running system recorded the same thing. Definitions: `PerformanceFigures` and the README.
public struct PerformanceReport: Sendable, Equatable, Encodable {
    /// One group's figures. Ratios that would divide by zero are nil (JSON null, "—" in the table).
    public struct Row: Sendable, Equatable, Codable {
        /// The strategy, the symbol, or "all".
        public var name: String
        public var trades: Int
        public var wins: Int
        public var losses: Int
        public var breakevens: Int
        /// wins / trades, 0…1.
        public var winRate: Double
        public var averageWin: Amount?
        /// ≤ 0, signed as booked.
        public var averageLoss: Amount?
        /// averageWin / |averageLoss|.
        public var rewardToRisk: Double?
        /// Mean net P&L per trade.
        public var expectancy: Amount
        /// grossProfit / |grossLoss|; nil when there was no losing trade.
        public var profitFactor: Double?
        public var largestWin: Amount?
        /// ≤ 0, signed as booked.
        public var largestLoss: Amount?
        public var averageHoldingSeconds: Double?
        /// Time with at least one of the group's positions open (closed trades), and its share of the span.
        public var exposureSeconds: Double
        public var exposureShare: Double?
        /// Of this group's own equity curve from the starting capital, 0…1.
        public var maxDrawdown: Double
        /// On daily returns, annualised by √365.
        public var sharpe: Double?
        public var sortino: Double?
        /// UTC days with a daily return.
        public var days: Int
        public var grossProfit: Amount
        public var grossLoss: Amount
        public var netPnl: Amount
        /// Paid, positive.
        public var fees: Amount
        /// Funding the closed trades carried (received positive, paid negative), within `netPnl`.
        public var funding: Amount

        public init(name: String, figures: PerformanceFigures) {
            let statistics = figures.trades
            self.name = name
            trades = statistics.tradeCount
            wins = statistics.wins
            losses = statistics.losses
            breakevens = statistics.breakevens
            winRate = statistics.winRate
            averageWin = statistics.averageWin
            averageLoss = statistics.averageLoss
            rewardToRisk = statistics.payoffRatio
            expectancy = statistics.expectancy
            profitFactor = statistics.profitFactor
            largestWin = statistics.largestWin
            largestLoss = statistics.largestLoss
            averageHoldingSeconds = statistics.averageHoldingSeconds
            exposureSeconds = figures.exposure.openSeconds
            exposureShare = figures.exposure.share
            maxDrawdown = figures.maxDrawdown
            sharpe = figures.sharpe
            sortino = figures.sortino
            days = figures.dailyReturns.returns.count
            grossProfit = statistics.grossProfit
            grossLoss = statistics.grossLoss
            netPnl = statistics.totalNetPnl
            fees = statistics.totalFees
            funding = statistics.totalFunding
        }

        /// Every key, nil ones as null, so a reader of the JSON sees the field exists.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(trades, forKey: .trades)
            try container.encode(wins, forKey: .wins)
            try container.encode(losses, forKey: .losses)
            try container.encode(breakevens, forKey: .breakevens)
            try container.encode(winRate, forKey: .winRate)
            try container.encode(averageWin, forKey: .averageWin)
            try container.encode(averageLoss, forKey: .averageLoss)
            try container.encode(rewardToRisk, forKey: .rewardToRisk)
            try container.encode(expectancy, forKey: .expectancy)
            try container.encode(profitFactor, forKey: .profitFactor)
            try container.encode(largestWin, forKey: .largestWin)
            try container.encode(largestLoss, forKey: .largestLoss)
            try container.encode(averageHoldingSeconds, forKey: .averageHoldingSeconds)
            try container.encode(exposureSeconds, forKey: .exposureSeconds)
            try container.encode(exposureShare, forKey: .exposureShare)
            try container.encode(maxDrawdown, forKey: .maxDrawdown)
            try container.encode(sharpe, forKey: .sharpe)
            try container.encode(sortino, forKey: .sortino)
            try container.encode(days, forKey: .days)
            try container.encode(grossProfit, forKey: .grossProfit)
            try container.encode(grossLoss, forKey: .grossLoss)
            try container.encode(netPnl, forKey: .netPnl)
            try container.encode(fees, forKey: .fees)
            try container.encode(funding, forKey: .funding)
        }
    }

    /// Per strategy (the strategy that opened the lots), by name.
    public var rows: [Row]
    /// Per symbol, by name.
    public var symbols: [Row]
    /// Every trade.
    public var total: Row
    public var fills: Int
    public var startingCapital: Amount
    /// The period reported on: the first fill to the last; nil with no fills. Exposure shares and
    /// daily returns of every group are measured over it.
    public var spanStart: EpochNanos?
    public var spanEnd: EpochNanos?
    /// How many funding payments were booked, and their sum (received positive), open trades and
    /// flat periods included: what equity counts, which `total.funding` (closed trades only) may not.
    public var fundingPayments: Int
    public var funding: Amount
    /// startingCapital + realised P&L − fees + funding, over everything booked.
    public var realizedEquity: Amount

    /// Books every fill (in the given order) and every funding payment (by time, between the fills)
    /// into a fresh FIFO ledger.
    public init(fills: [Fill], funding: [FundingSettlement] = [], startingCapital: Amount) throws(LedgerError) {
        self.init(try ReplayedLedger(fills: fills, funding: funding, startingCapital: startingCapital))
    }

    /// The report of a window already booked (shared with the pipeline report and the equity history).
    public init(_ replayed: ReplayedLedger) {
        let (fills, funding, ledger) = (replayed.fills, replayed.funding, replayed.ledger)
        let startingCapital = ledger.account.startingCapital
        let trades = ledger.closedTrades
        let span: ClosedRange<EpochNanos>? =
            if let first = fills.map(\.time).min(), let last = fills.map(\.time).max() { first...last } else { nil }
        func row(_ name: String, _ selected: [ClosedTrade]) -> Row {
            Row(name: name, figures: PerformanceFigures(trades: selected, startingCapital: startingCapital, span: span))
        }
        rows = Dictionary(grouping: trades, by: \.strategy).sorted { $0.key < $1.key }.map { row($0.key, $0.value) }
        symbols = Dictionary(grouping: trades, by: \.symbol).sorted { $0.key < $1.key }.map { row($0.key, $0.value) }
        total = row("all", trades)
        self.fills = fills.count
        self.startingCapital = startingCapital
        spanStart = span?.lowerBound
        spanEnd = span?.upperBound
        fundingPayments = funding.count
        self.funding = ledger.funding
        realizedEquity = ledger.account.realizedEquity
    }

    private enum CodingKeys: String, CodingKey {
        case rows, symbols, total, fills, startingCapital, spanStart, spanEnd, fundingPayments, funding, realizedEquity
    }

    /// The JSON of `breakwater report --json`: every field, nil ones as null.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(rows, forKey: .rows)
        try container.encode(symbols, forKey: .symbols)
        try container.encode(total, forKey: .total)
        try container.encode(fills, forKey: .fills)
        try container.encode(startingCapital, forKey: .startingCapital)
        try container.encode(spanStart, forKey: .spanStart)
        try container.encode(spanEnd, forKey: .spanEnd)
        try container.encode(fundingPayments, forKey: .fundingPayments)
        try container.encode(funding, forKey: .funding)
        try container.encode(realizedEquity, forKey: .realizedEquity)
    }

    /// One table of the report: a header and its rows of cells, as `table()` prints them and the HTML
    /// page shows them.
    public struct Table: Sendable, Equatable {
        public var header: [String]
        public var rows: [[String]]
    }

    /// Two tables per grouping (per strategy, then per symbol, each ending with "all"): trade figures,
    /// then time and risk figures. "—" marks a ratio that does not exist.
    public func tables() -> [Table] {
        [("STRATEGY", rows), ("SYMBOL", symbols)].flatMap { title, rows -> [Table] in
            [
                Table(
                    header: [title, "TRADES", "WIN RATE", "AVG WIN", "AVG LOSS", "REWARD:RISK", "EXPECTANCY", "PROFIT F.",
                        "LARGEST WIN", "LARGEST LOSS"],
                    rows: (rows + [total]).map { row in
                        [row.name, "\(row.trades)", Self.percent(row.winRate), Self.money(row.averageWin),
                            Self.money(row.averageLoss), Self.ratio(row.rewardToRisk), Self.money(row.expectancy),
                            Self.ratio(row.profitFactor), Self.money(row.largestWin), Self.money(row.largestLoss)]
                    }),
                Table(
                    header: [title, "AVG HOLD", "EXPOSURE", "EXPOSURE %", "MAX DD", "SHARPE", "SORTINO", "DAYS", "NET P&L",
                        "FEES", "FUNDING"],
                    rows: (rows + [total]).map { row in
                        [row.name, Self.duration(row.averageHoldingSeconds), Self.duration(row.exposureSeconds),
                            row.exposureShare.map(Self.percent) ?? "—", Self.percent(row.maxDrawdown),
                            Self.ratio(row.sharpe), Self.ratio(row.sortino), "\(row.days)", Self.money(row.netPnl),
                            Self.money(row.fees), Self.money(row.funding)]
                    }),
            ]
        }
    }

    /// The account line under the tables.
    public var accountLine: String {
        "\(fills) fills; \(fundingPayments) funding payments (\(funding)); starting capital \(startingCapital); "
            + "realised equity \(realizedEquity.rounded(scale: 2))"
    }

    /// The tables (`tables()`), each followed by a blank line; then the account line.
    public func table() -> String {
        var lines: [String] = []
        for table in tables() {
            lines += Self.render(table.header, table.rows)
            lines.append("")
        }
        lines.append(accountLine)
        lines.append(
            "Sharpe and Sortino: daily (UTC) equity returns × √365, risk-free 0; funding received is positive. "
                + "Definitions: README, `breakwater report`.")
        return lines.joined(separator: "\n")
    }

    /// Left-aligned columns, each as wide as its widest cell plus two spaces.
    private static func render(_ header: [String], _ rows: [[String]]) -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { cells in
            cells.enumerated().map { column, text in
                column == cells.count - 1 ? text : text.padding(toLength: widths[column] + 2, withPad: " ", startingAt: 0)
            }.joined()
        }
    }

    static func percent(_ value: Double) -> String { String(format: "%.2f %%", value * 100) }
    static func ratio(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "—" }
    static func money(_ value: Amount?) -> String { value.map { $0.rounded(scale: 2).description } ?? "—" }

    /// "45s", "12m 5s", "3h 20m", "2d 4h"; "—" for nil.
    static func duration(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite else { return "—" }
        let total = Int(min(max(seconds.rounded(), 0), 1e15))
        let (days, hours, minutes, secs) = (total / 86_400, total % 86_400 / 3_600, total % 3_600 / 60, total % 60)
        if days > 0 { return "\(days)d \(hours)h" }
        if hours > 0 { return "\(hours)h \(minutes)m" }
        if minutes > 0 { return "\(minutes)m \(secs)s" }
        return "\(secs)s"
    }
}
