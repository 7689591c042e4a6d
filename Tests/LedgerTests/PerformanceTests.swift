import Foundation
import Ledger
import Schema
import Testing

/// A closed trade with only what performance reads.
func trade(
    _ strategy: String, exit: EpochNanos, realized: Amount, fees: Amount = 0, funding: Amount = 0
) -> ClosedTrade {
    ClosedTrade(
        roundTrip: Int(exit), symbol: "BTC", strategy: strategy, direction: .long, entryTime: exit - 1,
        exitTime: exit, entryPrice: 100, exitPrice: 100, size: 1, realizedPnl: realized, fees: fees, funding: funding)
}

@Suite("Performance, hand-computed")
struct PerformanceTests {
    /// Net P&L 30, −10, 20, 0, −20 (exit times 1…5), given out of order.
    let trades = [
        trade("revert", exit: 4, realized: 1, fees: 1),  // 0: breakeven
        trade("trend", exit: 1, realized: 31, fees: 1),  // +30
        trade("trend", exit: 5, realized: -20),  // −20
        trade("revert", exit: 2, realized: -9, fees: 1),  // −10
        trade("trend", exit: 3, realized: 20, fees: "0.5", funding: "0.5"),  // +20
    ]

    @Test("counts, sums and ratios over a known trade list")
    func overall() throws {
        let stats = Performance(trades: trades, startingCapital: 100).overall
        #expect(stats.tradeCount == 5)
        #expect(stats.wins == 2)
        #expect(stats.losses == 2)
        #expect(stats.breakevens == 1)
        #expect(stats.winRate == 0.4)
        #expect(stats.grossProfit == 50)
        #expect(stats.grossLoss == -30)
        #expect(stats.totalNetPnl == 20)
        #expect(stats.totalFees == "3.5")
        #expect(stats.totalFunding == "0.5")
        let profitFactor = try #require(stats.profitFactor)
        #expect(abs(profitFactor - 5.0 / 3.0) < 1e-12)
        #expect(stats.averageWin == 25)
        #expect(stats.averageLoss == -15)
        let payoff = try #require(stats.payoffRatio)
        #expect(abs(payoff - 25.0 / 15.0) < 1e-12)
        #expect(stats.expectancy == 4)
    }

    @Test("the equity curve starts at the starting capital and follows exit time")
    func equityCurveAndDrawdown() {
        let performance = Performance(trades: trades, startingCapital: 100)
        #expect(performance.equityCurve.points.map(\.equity) == [130, 120, 140, 140, 120])
        #expect(performance.equityCurve.points.map(\.time) == [1, 2, 3, 4, 5])
        #expect(performance.equityCurve.finalEquity == 120)
        // 130 → 120 is 10/130; 140 → 120 is 20/140 = 1/7, the larger.
        #expect(abs(performance.maxDrawdown - 1.0 / 7.0) < 1e-12)
    }

    @Test("per strategy: each its own statistics, adding up to the whole")
    func byStrategy() throws {
        let performance = Performance(trades: trades, startingCapital: 100)
        #expect(Set(performance.byStrategy.keys) == ["trend", "revert"])
        let trend = try #require(performance.byStrategy["trend"])
        let revert = try #require(performance.byStrategy["revert"])
        #expect(trend.tradeCount == 3)
        #expect(trend.wins == 2)
        #expect(trend.totalNetPnl == 30)
        #expect(abs(try #require(trend.profitFactor) - 2.5) < 1e-12)
        #expect(revert.tradeCount == 2)
        #expect(revert.wins == 0)
        #expect(revert.winRate == 0)
        #expect(revert.profitFactor == 0)
        #expect(revert.averageWin == nil)
        #expect(revert.payoffRatio == nil)
        #expect(revert.totalNetPnl == -10)
        #expect(trend.totalNetPnl + revert.totalNetPnl == performance.overall.totalNetPnl)
    }

    @Test("no trades: zeros and nils, never NaN")
    func empty() {
        let performance = Performance(trades: [], startingCapital: 1000)
        let stats = performance.overall
        #expect(stats.tradeCount == 0)
        #expect(stats.winRate == 0)
        #expect(stats.profitFactor == nil)
        #expect(stats.averageWin == nil)
        #expect(stats.averageLoss == nil)
        #expect(stats.payoffRatio == nil)
        #expect(stats.expectancy == 0)
        #expect(performance.maxDrawdown == 0)
        #expect(performance.byStrategy.isEmpty)
        #expect(performance.equityCurve.finalEquity == 1000)
    }

    @Test("only wins: win rate 1, no profit factor (no loss to divide by), no drawdown")
    func onlyWins() {
        let performance = Performance(
            trades: [trade("t", exit: 1, realized: 5), trade("t", exit: 2, realized: 7)], startingCapital: 100)
        #expect(performance.overall.winRate == 1)
        #expect(performance.overall.profitFactor == nil)
        #expect(performance.overall.payoffRatio == nil)
        #expect(performance.overall.averageWin == 6)
        #expect(performance.maxDrawdown == 0)
    }

    @Test("drawdown is measured from the starting capital, not from the first trade")
    func drawdownFromStartingCapital() {
        let performance = Performance(trades: [trade("t", exit: 1, realized: -50)], startingCapital: 100)
        #expect(performance.maxDrawdown == 0.5)
    }

    @Test("equity at or below zero is a drawdown of exactly 1, never more", arguments: [-120, -439, -1000] as [Amount])
    func drawdownIsCapped(_ loss: Amount) {
        // 100 + 20 + loss: exactly zero, then below.
        let performance = Performance(
            trades: [trade("t", exit: 1, realized: 20), trade("t", exit: 2, realized: loss)], startingCapital: 100)
        #expect(performance.maxDrawdown == 1)
    }

    @Test("drawdown of an arbitrary equity series")
    func drawdownOfSeries() {
        #expect(EquityCurve.maxDrawdown(startingCapital: 100, equities: [110, 99, 120, 90, 125] as [Amount]) == 0.25)
        #expect(EquityCurve.maxDrawdown(startingCapital: 100, equities: [] as [Amount]) == 0)
        #expect(EquityCurve.maxDrawdown(startingCapital: 0, equities: [] as [Amount]) == 1)
        #expect(EquityCurve.maxDrawdown(startingCapital: 100, equities: [100, 100] as [Amount]) == 0)
    }

    @Test("the ledger's performance uses its own trades and starting capital")
    func fromLedger() throws {
        var ledger = FifoLedger(startingCapital: 200)
        try book(fill("f1", .buy, 1, at: 100, time: 1), into: &ledger)
        try book(fill("f2", .sell, 1, at: 50, time: 2), into: &ledger)
        try book(fill("f3", .buy, 1, at: 50, time: 3), into: &ledger)
        try book(fill("f4", .sell, 1, at: 75, time: 4), into: &ledger)
        let performance = ledger.performance()
        #expect(performance.overall.tradeCount == 2)
        #expect(performance.overall.winRate == 0.5)
        #expect(performance.equityCurve.points.map(\.equity) == [150, 175])
        #expect(performance.maxDrawdown == 0.25)
    }
}
