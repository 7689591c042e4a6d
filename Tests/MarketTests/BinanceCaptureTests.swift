import Foundation
import Market
import Schema
import Testing

/// Rebuilds the BTCUSDT book from the real Binance USD-M capture with
/// `BinanceDepthSync` and holds it against the venue's own `bookTicker` stream.
///
/// The rule for "the same point of the stream": both streams carry the one order
/// book update id sequence. The book is exact at update id N right after the snapshot
/// (N = lastUpdateId, or the `u` of the last buffered diff it replays) and after each
/// applied diff (N = its `u`). A `bookTicker` is pushed on every change of the best
/// levels and carries the id `u` of that change, so the top of the book at N is the
/// latest ticker with u ≤ N. Each book state is compared with that ticker.
///
/// A ticker is therefore comparable when it is the latest one at or before some book
/// state. The others are not comparable by construction: the depth stream aggregates
/// every change between `U` and `u` into one event, so a ticker superseded by another
/// ticker within the same diff's id range describes a state the diffs never show.
/// Tickers before the snapshot's id are compared with the snapshot itself.
@Suite(
    .enabled(
        if: Fixtures.hasData,
        "shared/data is absent (expected beside the package root): the Binance capture check is skipped"))
struct BinanceCaptureTests {
    struct Top: Equatable, CustomStringConvertible {
        var bid: BookLevel
        var ask: BookLevel
        var description: String { "\(bid.size)@\(bid.price) / \(ask.size)@\(ask.price)" }
    }

    @Test("the rebuilt book agrees with every comparable bookTicker, matched by update id")
    func bookAgreesWithBookTicker() async throws {
        let lines = Fixtures.captureLines(try await Fixtures.gunzip(Fixtures.binanceCapture))
        try #require(lines.count == 93_954)

        let decoder = BinanceMessageDecoder()
        var sync = BinanceDepthSync(symbol: "BTCUSDT")
        var tickers: [BinanceBookTicker] = []
        var trades: [BinanceTrade] = []
        var snapshot: BinanceDepthSnapshot?
        var diffCount = 0
        var appliedDiffs = 0
        // (update id the book is exact at, its top), in stream order.
        var states: [(updateId: Int64, top: Top)] = []

        func recordState() throws {
            let bid = try #require(sync.book.bestBid)
            let ask = try #require(sync.book.bestAsk)
            states.append((try #require(sync.bookUpdateId), Top(bid: bid, ask: ask)))
        }

        for (_, json) in lines {
            switch try decoder.decode(json) {
            case .depthUpdate(let diff):
                diffCount += 1
                let outcome = sync.receive(diff)
                switch outcome {
                case .applied(let count):
                    appliedDiffs += count
                    try recordState()
                case .gap(let gap):
                    Issue.record("unexpected gap in an unbroken capture: \(gap)")
                case .buffered, .ignored:
                    break
                }
            case .depthSnapshot(let received):
                snapshot = received
                let outcome = sync.applySnapshot(received)
                guard case .applied(let count) = outcome else {
                    Issue.record("snapshot not applied: \(outcome)")
                    continue
                }
                appliedDiffs += count
                try recordState()
            case .bookTicker(let ticker):
                tickers.append(ticker)
            case .trade(let trade):
                trades.append(trade)
            case .other(let event):
                Issue.record("unexpected event \(event)")
            }
        }

        #expect(diffCount == 6_551)
        #expect(tickers.count == 66_089)
        #expect(trades.count == 21_313)
        let snapshotMessage = try #require(snapshot)
        #expect(snapshotMessage.lastUpdateId == 5_123_107_852_948)
        #expect(snapshotMessage.bids.count == 1_000 && snapshotMessage.asks.count == 1_000)
        #expect(sync.isSynced)
        #expect(sync.gapCount == 0)
        #expect(appliedDiffs > 6_500, "almost every diff follows the snapshot")
        #expect(!sync.book.isCrossed)

        // The ticker stream must be ordered by update id for "latest at or before" to hold.
        for (earlier, later) in zip(tickers, tickers.dropFirst()) {
            try #require(earlier.updateId < later.updateId, "bookTicker ids not increasing at \(later.updateId)")
        }
        let tickerIds = tickers.map(\.updateId)

        // The snapshot alone, before any buffered diff is replayed on it.
        let snapshotBook = OrderBook(symbol: "BTCUSDT", bids: snapshotMessage.bids, asks: snapshotMessage.asks)
        let snapshotTop = Top(bid: try #require(snapshotBook.bestBid), ask: try #require(snapshotBook.bestAsk))
        let allStates = [(snapshotMessage.lastUpdateId, snapshotTop)] + states

        var comparedStates = 0
        var matchedStates = 0
        var checkedTickers = Set<Int>()
        var mismatchedTickers = Set<Int>()
        for (updateId, top) in allStates {
            // The latest ticker with u ≤ updateId.
            let index = Self.lastIndex(in: tickerIds, atOrBefore: updateId)
            guard let index else {
                Issue.record("no bookTicker at or before book state \(updateId)")
                continue
            }
            comparedStates += 1
            checkedTickers.insert(index)
            let ticker = tickers[index]
            let expected = Top(bid: ticker.bestBid, ask: ticker.bestAsk)
            if top == expected {
                matchedStates += 1
            } else {
                mismatchedTickers.insert(index)
                if mismatchedTickers.count <= 5 {
                    Issue.record("book at \(updateId): \(top); bookTicker u \(ticker.updateId): \(expected)")
                }
            }
        }

        // Why the other tickers were not compared.
        let lastStateId = try #require(allStates.last?.0)
        var beforeSnapshot = 0
        var afterLastState = 0
        var supersededWithinDiff = 0
        for (index, ticker) in tickers.enumerated() where !checkedTickers.contains(index) {
            if ticker.updateId < snapshotMessage.lastUpdateId {
                beforeSnapshot += 1
            } else if ticker.updateId > lastStateId {
                afterLastState += 1
            } else {
                supersededWithinDiff += 1
            }
        }

        #expect(comparedStates == allStates.count)
        #expect(matchedStates == comparedStates)
        #expect(mismatchedTickers.isEmpty)
        #expect(checkedTickers.count > 5_000)
        print(
            "binance capture: \(allStates.count) book states (the snapshot, then \(states.count) after "
                + "\(appliedDiffs) applied diffs) compared, \(matchedStates) matched; "
                + "\(checkedTickers.count) distinct bookTickers checked, "
                + "\(checkedTickers.count - mismatchedTickers.count) matched; not comparable: "
                + "\(supersededWithinDiff) superseded within one diff's id range, \(beforeSnapshot) before the "
                + "snapshot, \(afterLastState) after the last diff")
    }

    @Test("trades parse into prints with the aggressor's side")
    func tradesParse() async throws {
        let lines = Fixtures.captureLines(try await Fixtures.gunzip(Fixtures.binanceCapture))
        let decoder = BinanceMessageDecoder()
        var trades: [Trade] = []
        var previousId: Int64?
        // Only the trade stream's lines: the book test decodes everything already.
        let tradeStream = Data(#"{"stream":"btcusdt@trade""#.utf8)
        for (_, json) in lines where json.starts(with: tradeStream) {
            guard case .trade(let trade) = try decoder.decode(json) else {
                Issue.record("a trade stream line is not a trade")
                continue
            }
            if let previousId { #expect(trade.tradeId > previousId) }
            previousId = trade.tradeId
            #expect(trade.symbol == "BTCUSDT")
            trades.append(trade.trade)
        }
        #expect(trades.count == 21_313)
        // The capture opens with a buyer lifting the offer: 0.006 at 61800.30.
        let first = try #require(trades.first)
        #expect(first.price == "61800.30" && first.size == "0.006" && first.side == .buy)
        #expect(first.exchangeTime == 1_723_161_256_322_000_000)
        #expect(trades.contains { $0.side == .sell } && trades.contains { $0.side == .buy })
    }

    static func lastIndex(in sortedIds: [Int64], atOrBefore id: Int64) -> Int? {
        var low = 0
        var high = sortedIds.count
        while low < high {
            let middle = (low + high) / 2
            if sortedIds[middle] <= id { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? nil : low - 1
    }
}
