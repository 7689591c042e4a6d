import Foundation
import Market
import Schema
import Testing

private let second: Int64 = 1_000_000_000

struct BarAggregatorTests {
    @Test func aTradeInALaterIntervalClosesTheBar() throws {
        var bars = BarAggregator(symbol: "BTC", intervalSeconds: 60)
        #expect(bars.add(price: 100, size: 1, time: 0) == nil)
        #expect(bars.add(price: 102, size: 2, time: 10 * second) == nil)
        #expect(bars.add(price: 99, size: "0.5", time: 30 * second) == nil)
        #expect(bars.add(price: 101, size: 1, time: 60 * second - 1) == nil)
        #expect(bars.openBar?.tradeCount == 4)

        let closed = bars.add(price: 103, size: 1, time: 60 * second)
        let bar = try #require(closed)
        #expect(bar.openTime == 0 && bar.closeTime == 60 * second && bar.intervalSeconds == 60)
        #expect(bar.open == 100 && bar.high == 102 && bar.low == 99 && bar.close == 101)
        #expect(bar.baseVolume == "4.5")
        #expect(bar.quoteVolume == 100 + 204 + Amount("49.5") + 101)
        #expect(bar.tradeCount == 4)
        #expect(bar.vwap == Amount("454.5") / Amount("4.5"))
        #expect(bars.openBar?.open == 103 && bars.openBar?.openTime == 60 * second)

        let message = bar.message
        #expect(message.volume == bar.quoteVolume && message.topic == "md.bar.BTC" && message.openTime == 0)
    }

    @Test func emptyIntervalsProduceNoBar() throws {
        var bars = BarAggregator(symbol: "BTC", intervalSeconds: 60)
        _ = bars.add(price: 100, size: 1, time: 5 * second)
        // Nothing traded from 60 s to 180 s.
        let closed = bars.add(price: 105, size: 1, time: 185 * second)
        let first = try #require(closed)
        #expect(first.openTime == 0)
        let closedLater = bars.close(upTo: 240 * second)
        let later = try #require(closedLater)
        #expect(later.openTime == 180 * second && later.open == 105 && later.close == 105)
    }

    @Test func closeUpToEmitsOnlyAnEndedInterval() throws {
        var bars = BarAggregator(symbol: "BTC", intervalSeconds: 60)
        #expect(bars.close(upTo: 1_000 * second) == nil, "nothing open")
        _ = bars.add(price: 100, size: 1, time: 1_200 * second)
        #expect(bars.close(upTo: 1_259 * second) == nil, "the interval has not ended")
        let closed = bars.close(upTo: 1_260 * second)
        let bar = try #require(closed)
        #expect(bar.openTime == 1_200 * second)
        #expect(bars.openBar == nil)
        #expect(bars.close(upTo: 1_400 * second) == nil, "a bar is emitted once")
    }

    @Test func lateTradesAreCountedNotAdded() throws {
        var bars = BarAggregator(symbol: "BTC", intervalSeconds: 60)
        _ = bars.add(price: 100, size: 1, time: 70 * second)
        // Older than the open bar's interval.
        #expect(bars.add(price: 90, size: 1, time: 50 * second) == nil)
        #expect(bars.lateTradeCount == 1)
        let closed = bars.close(upTo: 120 * second)
        let bar = try #require(closed)
        #expect(bar.low == 100 && bar.tradeCount == 1)
        // Inside the bar just emitted.
        #expect(bars.add(price: 90, size: 1, time: 119 * second) == nil)
        #expect(bars.lateTradeCount == 2 && bars.openBar == nil)
        // A later interval is fine.
        #expect(bars.add(price: 95, size: 1, time: 120 * second) == nil)
        #expect(bars.openBar?.openTime == 120 * second)
        // Nothing traded is no trade.
        #expect(bars.add(price: 95, size: 0, time: 121 * second) == nil)
        #expect(bars.invalidTradeCount == 1 && bars.openBar?.tradeCount == 1)
    }

    @Test func intervalsAlignToTheEpochAndTradesMessagesWork() throws {
        var bars = BarAggregator(symbol: "BTC", intervalSeconds: 300)
        let trade = Trade(symbol: "BTC", price: 50, size: 2, side: .buy, tradeId: "1", exchangeTime: 1_234 * second)
        _ = bars.add(trade)
        #expect(bars.openBar?.openTime == 1_200 * second)
        var negative = BarAggregator(symbol: "BTC", intervalSeconds: 60)
        _ = negative.add(price: 1, size: 1, time: -1)
        #expect(negative.openBar?.openTime == -60 * second)
    }
}

/// 1-minute bars from the real Binance Futures trades file against pandas' resample.
@Suite(
    .enabled(
        if: Fixtures.hasData,
        "shared/data is absent (expected beside the package root): the real-trade bar check is skipped"))
struct BarReferenceTests {
    @Test("bars from 9,999 real trades match pandas' 1-minute resample")
    func barsMatchPandas() async throws {
        guard Fixtures.exists(Fixtures.python) else {
            Issue.record(Comment(rawValue: Fixtures.missingPythonMessage))
            return
        }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "market-bars-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: output) }
        _ = try await Fixtures.run(
            Fixtures.python,
            [
                Fixtures.referenceDirectory.appendingPathComponent("bars.py").path, Fixtures.binanceTradesFile.path,
                output.path,
            ])

        let trades = try Fixtures.readCSV(Fixtures.binanceTradesFile)
        try #require(trades.rows.count == 9_999)
        let time = try #require(trades.header.firstIndex(of: "timestamp"))
        let price = try #require(trades.header.firstIndex(of: "price"))
        let amount = try #require(trades.header.firstIndex(of: "amount"))
        var aggregator = BarAggregator(symbol: "BTCUSDT", intervalSeconds: 60)
        var bars: [TradeBar] = []
        for row in trades.rows {
            let microseconds = try #require(Int64(row[time]))
            if let bar = aggregator.add(
                price: try #require(Amount(row[price])), size: try #require(Amount(row[amount])),
                time: microseconds * 1_000)
            {
                bars.append(bar)
            }
        }
        if let last = aggregator.close(upTo: .max) { bars.append(last) }
        #expect(aggregator.lateTradeCount == 0)

        let reference = try Fixtures.readCSV(output)
        try #require(
            reference.header == [
                "open_time_ns", "open", "high", "low", "close", "base_volume", "quote_volume", "trades",
            ])
        try #require(bars.count == reference.rows.count, "\(bars.count) bars here, \(reference.rows.count) in pandas")
        for (bar, row) in zip(bars, reference.rows) {
            #expect(bar.openTime == Int64(row[0]))
            // Prices agree to the last bit or two (decimal text → double on both sides).
            #expect(isClose(bar.open.doubleValue, try #require(Double(row[1])), relative: 1e-14))
            #expect(isClose(bar.high.doubleValue, try #require(Double(row[2])), relative: 1e-14))
            #expect(isClose(bar.low.doubleValue, try #require(Double(row[3])), relative: 1e-14))
            #expect(isClose(bar.close.doubleValue, try #require(Double(row[4])), relative: 1e-14))
            // pandas sums in floating point; ours are exact decimals.
            #expect(isClose(bar.baseVolume.doubleValue, try #require(Double(row[5]))))
            #expect(isClose(bar.quoteVolume.doubleValue, try #require(Double(row[6]))))
            #expect(bar.tradeCount == Int(row[7]))
        }
        #expect(bars.map(\.tradeCount).reduce(0, +) == 9_999)
        print("bar reference: \(bars.count) one-minute bars from 9,999 trades matched")
    }
}
