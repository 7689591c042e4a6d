import Foundation
import Ledger
import Schema
import Testing

/// 2024-10-04 00:00 UTC (day 20000 since the epoch) plus `day` days and `hour` hours, in nanoseconds.
private func at(day: Int64, hour: Int64) -> EpochNanos {
    (20_000 + day) * DailyReturns.nanosPerDay + hour * 3_600_000_000_000
}

private func settlement(_ id: String, _ symbol: String, _ amount: Amount, time: EpochNanos) -> FundingSettlement {
    FundingSettlement(fundingId: id, symbol: symbol, amount: amount, rate: "0.0000125", positionSize: 1, time: time)
}

private func near(_ value: Double?, _ expected: Double, _ tolerance: Double = 1e-9) -> Bool {
    guard let value else { return false }
    return abs(value - expected) <= tolerance
}

@Suite("Trading statistics of a known trade list, hand-computed")
struct TradeStatisticsReportTests {
    // Starting capital 1000. Six round trips over three UTC days, two strategies, two symbols:
    //
    //  #  strategy symbol side   entry → exit           price        realised  fees  funding  net   held
    //  T1 trend    BTC    long   d0 01:00 → d0 05:00    100 → 150 ×1   +50       2     0        +48   4 h
    //  T2 revert   ETH    short  d0 03:00 → d0 09:00     50 →  60 ×2   −20       1    −1        −22   6 h
    //  T3 trend    ETH    long   d1 10:00 → d1 14:00     60 →  30 ×1   −30       1     0        −31   4 h
    //  T4 revert   BTC    long   d1 12:00 → d1 20:00    100 → 105 ×2   +10       1    +2        +11   8 h
    //  T5 trend    BTC    long   d2 02:00 → d2 03:00    100 → 101 ×1    +1       1     0          0   1 h
    //  T6 revert   ETH    short  d2 04:00 → d2 10:00     40 →  30 ×3   +30       1     0        +29   6 h
    //
    // ETH pays −0.5 funding at d2 12:00 while flat: in equity, in no trade.
    // The span is the first fill to the last: d0 01:00 → d2 10:00, 57 h.
    let fills = [
        fill("T1a", .buy, 1, at: 100, fee: 1, symbol: "BTC", strategy: "trend", time: at(day: 0, hour: 1)),
        fill("T2a", .sell, 2, at: 50, fee: 1, symbol: "ETH", strategy: "revert", time: at(day: 0, hour: 3)),
        fill("T1b", .sell, 1, at: 150, fee: 1, symbol: "BTC", strategy: "trend", time: at(day: 0, hour: 5)),
        fill("T2b", .buy, 2, at: 60, fee: 0, symbol: "ETH", strategy: "revert", time: at(day: 0, hour: 9)),
        fill("T3a", .buy, 1, at: 60, fee: "0.5", symbol: "ETH", strategy: "trend", time: at(day: 1, hour: 10)),
        fill("T4a", .buy, 2, at: 100, fee: 0, symbol: "BTC", strategy: "revert", time: at(day: 1, hour: 12)),
        fill("T3b", .sell, 1, at: 30, fee: "0.5", symbol: "ETH", strategy: "trend", time: at(day: 1, hour: 14)),
        fill("T4b", .sell, 2, at: 105, fee: 1, symbol: "BTC", strategy: "revert", time: at(day: 1, hour: 20)),
        fill("T5a", .buy, 1, at: 100, fee: "0.5", symbol: "BTC", strategy: "trend", time: at(day: 2, hour: 2)),
        fill("T5b", .sell, 1, at: 101, fee: "0.5", symbol: "BTC", strategy: "trend", time: at(day: 2, hour: 3)),
        fill("T6a", .sell, 3, at: 40, fee: 0, symbol: "ETH", strategy: "revert", time: at(day: 2, hour: 4)),
        fill("T6b", .buy, 3, at: 30, fee: 1, symbol: "ETH", strategy: "revert", time: at(day: 2, hour: 10)),
    ]
    let funding = [
        settlement("F1", "ETH", -1, time: at(day: 0, hour: 6)),
        settlement("F2", "BTC", 2, time: at(day: 1, hour: 13)),
        settlement("F3", "ETH", "-0.5", time: at(day: 2, hour: 12)),
    ]

    func report() throws -> PerformanceReport {
        try PerformanceReport(fills: fills, funding: funding, startingCapital: 1_000)
    }

    @Test("overall: every figure")
    func overall() throws {
        let report = try report()
        let all = report.total
        #expect(all.name == "all")
        // Nets 48, −22, −31, 11, 0, 29.
        #expect(all.trades == 6 && all.wins == 3 && all.losses == 2 && all.breakevens == 1)
        #expect(all.winRate == 0.5)
        #expect(all.grossProfit == 88 && all.grossLoss == -53 && all.netPnl == 35)
        // 88 / 3 and −53 / 2.
        #expect(all.averageWin == Amount(88) / Amount(3))
        #expect(all.averageLoss == "-26.5")
        // (88 / 3) / 26.5 = 88 / 79.5 = 1.10691823899…
        #expect(near(all.rewardToRisk, 88.0 / 79.5))
        #expect(all.expectancy == Amount(35) / Amount(6))
        // 88 / 53 = 1.66037735849…
        #expect(near(all.profitFactor, 88.0 / 53.0))
        #expect(all.largestWin == 48 && all.largestLoss == -31)
        // (4 + 6 + 4 + 8 + 1 + 6) h / 6 = 29 h / 6 = 17 400 s.
        #expect(near(all.averageHoldingSeconds, 17_400))
        // Union of open intervals: d0 01:00–09:00 (T1 ∪ T2, 8 h), d1 10:00–20:00 (T3 ∪ T4, 10 h),
        // d2 02:00–03:00 and 04:00–10:00 (7 h): 25 h of a 57 h span.
        #expect(all.exposureSeconds == 25 * 3_600)
        #expect(near(all.exposureShare, 25.0 / 57.0))
        #expect(all.fees == 7 && all.funding == 1)
        // Equity at each close: 1048, 1026, 995, 1006, 1006, 1035; peak 1048, trough 995: 53 / 1048.
        #expect(near(all.maxDrawdown, 53.0 / 1_048.0, 1e-12))
        // Daily closes 1026, 1006, 1035 from 1000: returns 0.026, −20/1026, 29/1006.
        // mean 0.0117779534618, sample sd 0.0271184578121: Sharpe = mean / sd × √365 = 8.29757674635.
        // Downside deviation √((20/1026)² / 3) = 0.0112543912123: Sortino = 19.9937500567.
        #expect(all.days == 3)
        #expect(near(all.sharpe, 8.29757674635473, 1e-9))
        #expect(near(all.sortino, 19.993750056742435, 1e-9))
        // Account: realised 41, fees 7, funding −1 + 2 − 0.5 = 0.5 (the flat payment included).
        #expect(report.funding == "0.5" && report.fundingPayments == 3)
        #expect(report.realizedEquity == "1034.5")
        #expect(report.spanStart == at(day: 0, hour: 1) && report.spanEnd == at(day: 2, hour: 10))
    }

    @Test("per strategy: every figure")
    func perStrategy() throws {
        let report = try report()
        #expect(report.rows.map(\.name) == ["revert", "trend"])
        let revert = report.rows[0], trend = report.rows[1]

        // trend: T1 +48, T3 −31, T5 0.
        #expect(trend.trades == 3 && trend.wins == 1 && trend.losses == 1 && trend.breakevens == 1)
        #expect(near(trend.winRate, 1.0 / 3.0, 1e-15))
        #expect(trend.averageWin == 48 && trend.averageLoss == -31)
        #expect(near(trend.rewardToRisk, 48.0 / 31.0))
        #expect(near(trend.profitFactor, 48.0 / 31.0))
        #expect(trend.expectancy == Amount(17) / Amount(3))
        #expect(trend.largestWin == 48 && trend.largestLoss == -31)
        #expect(near(trend.averageHoldingSeconds, 3 * 3_600))  // (4 + 4 + 1) h / 3
        #expect(trend.exposureSeconds == 9 * 3_600)
        #expect(near(trend.exposureShare, 9.0 / 57.0))
        #expect(trend.fees == 4 && trend.funding == 0 && trend.netPnl == 17)
        // Equity 1048, 1017, 1017: 31 / 1048.
        #expect(near(trend.maxDrawdown, 31.0 / 1_048.0, 1e-12))
        // Returns 0.048, −31/1048, 0: Sharpe 2.99604286697, Sortino 6.86865052147.
        #expect(near(trend.sharpe, 2.996042866968399))
        #expect(near(trend.sortino, 6.868650521472581))

        // revert: T2 −22, T4 +11, T6 +29.
        #expect(revert.trades == 3 && revert.wins == 2 && revert.losses == 1 && revert.breakevens == 0)
        #expect(near(revert.winRate, 2.0 / 3.0, 1e-15))
        #expect(revert.averageWin == 20 && revert.averageLoss == -22)
        #expect(near(revert.rewardToRisk, 20.0 / 22.0))
        #expect(near(revert.profitFactor, 40.0 / 22.0))
        #expect(revert.expectancy == 6)
        #expect(revert.largestWin == 29 && revert.largestLoss == -22)
        #expect(near(revert.averageHoldingSeconds, 24_000))  // (6 + 8 + 6) h / 3
        #expect(revert.exposureSeconds == 20 * 3_600)
        #expect(revert.fees == 3 && revert.funding == 1 && revert.netPnl == 18)
        // Equity 978, 989, 1018: the fall is from the starting capital, 22 / 1000.
        #expect(near(revert.maxDrawdown, 0.022, 1e-12))
        // Returns −0.022, 11/978, 29/989: Sharpe 4.54279537075, Sortino 9.31053926127.
        #expect(near(revert.sharpe, 4.54279537075085))
        #expect(near(revert.sortino, 9.310539261265978))

        #expect(trend.netPnl + revert.netPnl == report.total.netPnl)
    }

    @Test("per symbol: every figure, a symbol without a loss has no loss ratios")
    func perSymbol() throws {
        let report = try report()
        #expect(report.symbols.map(\.name) == ["BTC", "ETH"])
        let btc = report.symbols[0], eth = report.symbols[1]

        // BTC: T1 +48, T4 +11, T5 0; no loss.
        #expect(btc.trades == 3 && btc.wins == 2 && btc.losses == 0 && btc.breakevens == 1)
        #expect(btc.averageWin == "29.5" && btc.averageLoss == nil)
        #expect(btc.rewardToRisk == nil && btc.profitFactor == nil)
        #expect(btc.largestWin == 48 && btc.largestLoss == nil)
        #expect(btc.expectancy == Amount(59) / Amount(3))
        #expect(btc.exposureSeconds == 13 * 3_600)
        #expect(btc.fees == 4 && btc.funding == 2 && btc.netPnl == 59)
        #expect(btc.maxDrawdown == 0)
        // Returns 0.048, 11/1048, 0: Sharpe 14.7623845658; no losing day, so no Sortino.
        #expect(near(btc.sharpe, 14.762384565752303))
        #expect(btc.sortino == nil)

        // ETH: T2 −22, T3 −31, T6 +29.
        #expect(eth.trades == 3 && eth.wins == 1 && eth.losses == 2)
        #expect(eth.averageWin == 29 && eth.averageLoss == "-26.5")
        #expect(near(eth.rewardToRisk, 29.0 / 26.5))
        #expect(near(eth.profitFactor, 29.0 / 53.0))
        #expect(eth.expectancy == -8)
        #expect(eth.largestWin == 29 && eth.largestLoss == -31)
        #expect(near(eth.averageHoldingSeconds, 16.0 / 3.0 * 3_600))
        #expect(eth.exposureSeconds == 16 * 3_600)
        #expect(eth.fees == 3 && eth.funding == -1 && eth.netPnl == -24)
        // Equity 978, 947, 976: 53 / 1000.
        #expect(near(eth.maxDrawdown, 0.053, 1e-12))
        // Returns −0.022, −31/978, 29/947: Sharpe −4.38200467742, Sortino −6.59641573749.
        #expect(near(eth.sharpe, -4.382004677423486))
        #expect(near(eth.sortino, -6.596415737489473))

        #expect(btc.netPnl + eth.netPnl == report.total.netPnl)
    }

    @Test("the table shows both groupings and marks missing ratios with a dash")
    func table() throws {
        let table = try report().table()
        let lines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.contains { $0.hasPrefix("STRATEGY") && $0.contains("REWARD:RISK") })
        #expect(lines.contains { $0.hasPrefix("SYMBOL") && $0.contains("SHARPE") && $0.contains("SORTINO") })
        let btcTrades = try #require(lines.first { $0.hasPrefix("BTC ") && $0.contains("66.67 %") })
        #expect(btcTrades.contains("—"))  // no loss: average loss, reward:risk, profit factor
        #expect(lines.contains { $0.hasPrefix("all ") && $0.contains("4h 50m") && $0.contains("5.06 %") })
        #expect(table.contains("3 funding payments (0.5)"))
        #expect(!table.contains("nan") && !table.contains("inf"))
    }

    @Test("the JSON carries every field, nil ones as null")
    func json() throws {
        let data = try JSONEncoder().encode(try report())
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["rows", "symbols", "total", "fills", "startingCapital", "spanStart", "spanEnd", "fundingPayments",
            "funding", "realizedEquity"]
        {
            #expect(document.keys.contains(key), "\(key)")
        }
        let symbols = try #require(document["symbols"] as? [[String: Any]])
        let btc = try #require(symbols.first { $0["name"] as? String == "BTC" })
        let keys = [
            "name", "trades", "wins", "losses", "breakevens", "winRate", "averageWin", "averageLoss", "rewardToRisk",
            "expectancy", "profitFactor", "largestWin", "largestLoss", "averageHoldingSeconds", "exposureSeconds",
            "exposureShare", "maxDrawdown", "sharpe", "sortino", "days", "grossProfit", "grossLoss", "netPnl", "fees",
            "funding",
        ]
        #expect(Set(btc.keys) == Set(keys))
        #expect(btc["sortino"] is NSNull && btc["profitFactor"] is NSNull && btc["largestLoss"] is NSNull)
        // The rows decode back to what was encoded, nulls included: encoding the decoded rows gives the same
        // JSON (Amount's wire form carries 38 significant digits, so 88 / 3 compares by its text).
        struct Document: Decodable { var rows, symbols: [PerformanceReport.Row]; var total: PerformanceReport.Row }
        let decoded = try JSONDecoder().decode(Document.self, from: data)
        let report = try report()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(try encoder.encode(decoded.rows) == (try encoder.encode(report.rows)))
        #expect(try encoder.encode(decoded.symbols) == (try encoder.encode(report.symbols)))
        #expect(try encoder.encode(decoded.total) == (try encoder.encode(report.total)))
        #expect(decoded.symbols[0].sortino == nil && decoded.symbols[0].sharpe == report.symbols[0].sharpe)
    }
}

/// A closed trade with times, symbol and net P&L (realised; no fees or funding).
private func closed(
    _ strategy: String = "t", _ symbol: String = "BTC", entry: EpochNanos, exit: EpochNanos, net: Amount
) -> ClosedTrade {
    ClosedTrade(
        roundTrip: Int(exit % 1_000_000), symbol: symbol, strategy: strategy, direction: .long, entryTime: entry,
        exitTime: exit, entryPrice: 100, exitPrice: 100, size: 1, realizedPnl: net, fees: 0, funding: 0)
}

@Suite("Trading statistics, edge cases")
struct TradeStatisticsEdgeTests {
    @Test("no trades: zeros and nils, never NaN")
    func noTrades() throws {
        let figures = PerformanceFigures(trades: [], startingCapital: 1_000)
        #expect(figures.trades.largestWin == nil && figures.trades.largestLoss == nil)
        #expect(figures.trades.averageHoldingSeconds == nil)
        #expect(figures.exposure.openNanos == 0 && figures.exposure.share == nil)
        #expect(figures.span == nil && figures.dailyReturns.returns.isEmpty)
        #expect(figures.sharpe == nil && figures.sortino == nil)
        #expect(figures.maxDrawdown == 0)

        let report = try PerformanceReport(fills: [], startingCapital: 1_000)
        #expect(report.total.trades == 0 && report.rows.isEmpty && report.symbols.isEmpty)
        #expect(report.spanStart == nil && report.total.days == 0)
        #expect(report.table().contains("—"))
        // Encodes (a NaN would throw).
        let document = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(report)) as? [String: Any]
        #expect(document?["spanStart"] is NSNull)
    }

    @Test("only wins: no loss ratios, no drawdown, no Sortino")
    func onlyWins() {
        // Capital 100; +10 on day 0, +11 on day 1: returns 0.1, 0.1 (equal: no Sharpe either).
        let trades = [
            closed(entry: at(day: 0, hour: 1), exit: at(day: 0, hour: 2), net: 10),
            closed(entry: at(day: 1, hour: 1), exit: at(day: 1, hour: 3), net: 11),
        ]
        let figures = PerformanceFigures(trades: trades, startingCapital: 100)
        #expect(figures.trades.winRate == 1)
        #expect(figures.trades.profitFactor == nil && figures.trades.payoffRatio == nil)
        #expect(figures.trades.largestWin == 11 && figures.trades.largestLoss == nil)
        #expect(figures.maxDrawdown == 0)
        #expect(figures.dailyReturns.returns == [0.1, 0.1])
        #expect(figures.sharpe == nil)
        #expect(figures.sortino == nil)
        #expect(figures.trades.averageHoldingSeconds == 5_400)
    }

    @Test("only losses: profit factor 0, no reward to risk, negative Sortino")
    func onlyLosses() throws {
        // Capital 100: −10 on day 0, −18 on day 1: returns −0.1, −0.2.
        // mean −0.15; sample sd √((0.05² + 0.05²) / 1) = 0.0707106781; Sharpe = −0.15 / 0.0707106781 × √365 = −40.5277682583
        // downside deviation √((0.01 + 0.04) / 2) = 0.158113883; Sortino = −0.15 / 0.158113883 × √365 = −18.1245689604
        let trades = [
            closed(entry: at(day: 0, hour: 1), exit: at(day: 0, hour: 2), net: -10),
            closed(entry: at(day: 1, hour: 1), exit: at(day: 1, hour: 2), net: -18),
        ]
        let figures = PerformanceFigures(trades: trades, startingCapital: 100)
        #expect(figures.trades.winRate == 0)
        #expect(figures.trades.profitFactor == 0)
        #expect(figures.trades.payoffRatio == nil && figures.trades.averageWin == nil)
        #expect(figures.trades.largestLoss == -18 && figures.trades.largestWin == nil)
        #expect(figures.dailyReturns.returns.count == 2)
        #expect(near(figures.sharpe, -0.15 / (0.05 * 2.0.squareRoot()) * 365.0.squareRoot(), 1e-9))
        #expect(near(figures.sharpe, -40.52776825831888, 1e-9))
        #expect(near(figures.sortino, -0.15 / 0.025.squareRoot() * 365.0.squareRoot(), 1e-9))
        #expect(near(figures.maxDrawdown, 28.0 / 100.0, 1e-12))
    }

    @Test("breakeven only: no win, no loss, no ratio")
    func breakevenOnly() {
        let trades = [closed(entry: at(day: 0, hour: 1), exit: at(day: 1, hour: 1), net: 0)]
        let figures = PerformanceFigures(trades: trades, startingCapital: 100)
        #expect(figures.trades.wins == 0 && figures.trades.losses == 0 && figures.trades.breakevens == 1)
        #expect(figures.trades.winRate == 0 && figures.trades.expectancy == 0)
        #expect(figures.trades.profitFactor == nil && figures.trades.payoffRatio == nil)
        #expect(figures.dailyReturns.returns == [0, 0])
        #expect(figures.sharpe == nil && figures.sortino == nil)
        #expect(figures.exposure.share == 1)
        #expect(figures.trades.averageHoldingSeconds == 86_400)
    }

    @Test("equity reaching zero: drawdown exactly 100 %, returns end at ruin", arguments: [-100, -150] as [Amount])
    func ruin(_ loss: Amount) {
        // Capital 100; the loss on day 0 takes equity to zero (floored there when below); a win on day 2
        // comes too late: the account is ruined, day 0's return is −100 % and later days have none.
        let trades = [
            closed(entry: at(day: 0, hour: 1), exit: at(day: 0, hour: 2), net: loss),
            closed(entry: at(day: 2, hour: 1), exit: at(day: 2, hour: 2), net: 500),
        ]
        let figures = PerformanceFigures(trades: trades, startingCapital: 100)
        #expect(figures.maxDrawdown == 1)
        #expect(figures.dailyReturns.returns == [-1])
        #expect(figures.dailyReturns.closingEquity == [0])
        #expect(figures.sharpe == nil)  // one return
        #expect(figures.sortino == -365.0.squareRoot())
    }

    @Test("days without a trade carry equity forward; days are UTC calendar days")
    func calendarDays() {
        // Capital 100: +10 at d0 23:00, −11 at d3 00:30 (a trade held over midnight counts on its exit day).
        let trades = [
            closed(entry: at(day: 0, hour: 1), exit: at(day: 0, hour: 23), net: 10),
            closed(entry: at(day: 2, hour: 22), exit: at(day: 3, hour: 0) + 1_800_000_000_000, net: -11),
        ]
        let figures = PerformanceFigures(trades: trades, startingCapital: 100)
        #expect(figures.dailyReturns.closingEquity == [110, 110, 110, 99])
        #expect(figures.dailyReturns.returns == [0.1, 0, 0, -0.1])
        #expect(DailyReturns.day(at(day: 0, hour: 0)) == 20_000)
        #expect(DailyReturns.day(at(day: 0, hour: 0) - 1) == 19_999)
        #expect(DailyReturns.day(-1) == -1)
    }

    @Test("exposure: overlapping trades count once, gaps do not count, clipped to the span")
    func exposure() {
        let hour: Int64 = 3_600_000_000_000
        let trades = [
            closed(entry: 0, exit: 4 * hour, net: 1),
            closed(entry: 2 * hour, exit: 6 * hour, net: 1),
            closed(entry: 3 * hour, exit: 5 * hour, net: 1),  // inside the first two
            closed(entry: 8 * hour, exit: 9 * hour, net: 1),
        ]
        let whole = Exposure(trades: trades, span: 0...(10 * hour))
        #expect(whole.openNanos == 7 * hour)
        #expect(whole.share == 0.7)
        let clipped = Exposure(trades: trades, span: (5 * hour)...(10 * hour))
        #expect(clipped.openNanos == 2 * hour)
        #expect(clipped.share == 0.4)
        #expect(Exposure(trades: trades, span: 5...5).share == nil)
        #expect(Exposure(trades: [closed(entry: .min, exit: .max, net: 1)], span: nil).openNanos == .max)
    }
}
