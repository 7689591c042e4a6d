import Foundation
import Market
import Schema
import Testing

struct BinanceDepthSyncTests {
    static func diff(
        _ first: Int64, _ final: Int64, previous: Int64, bids: [BookLevel] = [], asks: [BookLevel] = [],
        symbol: String = "BTCUSDT"
    ) -> BinanceDepthDiff {
        BinanceDepthDiff(
            symbol: symbol, eventTime: final, transactionTime: final, firstUpdateId: first, finalUpdateId: final,
            previousFinalUpdateId: previous, bids: bids, asks: asks)
    }

    static let snapshot = BinanceDepthSnapshot(
        lastUpdateId: 100, bids: [level(99, 1), level(98, 2)], asks: [level(101, 1), level(102, 2)])

    @Test func buffersUntilTheSnapshotThenReplaysFromTheBridgingDiff() {
        var sync = BinanceDepthSync(symbol: "BTCUSDT")
        #expect(sync.needsSnapshot)
        // Entirely before the snapshot: dropped at replay.
        #expect(sync.receive(Self.diff(80, 90, previous: 79, bids: [level(97, 9)])) == .buffered)
        // Spans lastUpdateId 100: the first applied.
        #expect(sync.receive(Self.diff(91, 105, previous: 90, bids: [level(99, 3)])) == .buffered)
        #expect(sync.receive(Self.diff(106, 110, previous: 105, asks: [level(101, 0)])) == .buffered)
        #expect(sync.bufferedDiffCount == 3)
        #expect(sync.book.isEmpty)

        #expect(sync.applySnapshot(Self.snapshot) == .applied(count: 2))
        #expect(sync.state == .synced(lastUpdateId: 110))
        #expect(sync.bufferedDiffCount == 0)
        #expect(
            sync.book.levels(.bid) == [level(99, 3), level(98, 2)], "the diff from before the snapshot is not applied")
        #expect(sync.book.bestAsk == level(102, 2))

        #expect(sync.receive(Self.diff(111, 120, previous: 110, bids: [level(100, 1)])) == .applied(count: 1))
        #expect(sync.book.bestBid == level(100, 1))
        #expect(sync.bookUpdateId == 120)
        #expect(sync.gapCount == 0)
    }

    @Test func aBrokenChainReportsAGapAndDemandsANewSnapshot() {
        var sync = BinanceDepthSync(symbol: "BTCUSDT")
        _ = sync.receive(Self.diff(95, 105, previous: 94))
        _ = sync.applySnapshot(Self.snapshot)
        #expect(sync.isSynced)

        // pu 111 ≠ previous u 105: events 106…111 were missed.
        let outcome = sync.receive(Self.diff(112, 115, previous: 111, bids: [level(99, 5)]))
        #expect(
            outcome == .gap(DepthGap(.brokenChain(expectedPreviousUpdateId: 105, receivedPreviousUpdateId: 111))))
        #expect(sync.needsSnapshot && !sync.isSynced)
        #expect(sync.book.isEmpty, "a book that missed updates is not served")
        #expect(sync.gapCount == 1)
        // Nothing is applied until a new snapshot: diffs are buffered, including the one that broke the chain.
        #expect(sync.receive(Self.diff(116, 120, previous: 115, asks: [level(103, 1)])) == .buffered)
        #expect(sync.bufferedDiffCount == 2)
        #expect(sync.book.isEmpty)

        let fresh = BinanceDepthSnapshot(lastUpdateId: 118, bids: [level(99, 4)], asks: [level(101, 4)])
        #expect(sync.applySnapshot(fresh) == .applied(count: 1))
        #expect(sync.state == .synced(lastUpdateId: 120))
        #expect(sync.book.levels(.ask) == [level(101, 4), level(103, 1)])
        #expect(sync.book.levels(.bid) == [level(99, 4)])
    }

    @Test func aSnapshotOlderThanTheBufferedDiffsIsRejected() {
        var sync = BinanceDepthSync(symbol: "BTCUSDT")
        _ = sync.receive(Self.diff(150, 160, previous: 140))
        // Updates 101…149 are in neither the snapshot nor the buffer.
        #expect(
            sync.applySnapshot(Self.snapshot) == .gap(DepthGap(.snapshotTooOld(snapshotId: 100, firstUpdateId: 150))))
        #expect(sync.needsSnapshot && sync.book.isEmpty)
        #expect(sync.bufferedDiffCount == 1, "the buffer is kept for the next snapshot")
        #expect(
            sync.applySnapshot(BinanceDepthSnapshot(lastUpdateId: 155, bids: [level(99, 1)], asks: [level(101, 1)]))
                == .applied(count: 1))
        #expect(sync.isSynced)
    }

    @Test func aSnapshotNewerThanTheBufferWaitsForTheBridgingDiff() {
        var sync = BinanceDepthSync(symbol: "BTCUSDT")
        _ = sync.receive(Self.diff(80, 90, previous: 79))
        #expect(sync.applySnapshot(Self.snapshot) == .applied(count: 0))
        #expect(sync.state == .awaitingBridge(snapshotId: 100))
        #expect(sync.book.bestBid == level(99, 1), "the snapshot itself is exact as of its id")
        #expect(sync.receive(Self.diff(91, 99, previous: 90)) == .ignored(.staleDiff))
        #expect(sync.receive(Self.diff(100, 104, previous: 99, bids: [level(99, 2)])) == .applied(count: 1))
        #expect(sync.state == .synced(lastUpdateId: 104))
        #expect(sync.book.bestBid == level(99, 2))
    }

    @Test func aFirstDiffThatDoesNotSpanTheSnapshotIsAGap() {
        var sync = BinanceDepthSync(symbol: "BTCUSDT")
        _ = sync.applySnapshot(Self.snapshot)
        #expect(sync.state == .awaitingBridge(snapshotId: 100))
        #expect(
            sync.receive(Self.diff(103, 108, previous: 102))
                == .gap(DepthGap(.snapshotTooOld(snapshotId: 100, firstUpdateId: 103))))
        #expect(sync.needsSnapshot)
    }

    @Test func aBreakInsideTheBufferedDiffsIsAGap() {
        var sync = BinanceDepthSync(symbol: "BTCUSDT")
        _ = sync.receive(Self.diff(95, 105, previous: 94))
        _ = sync.receive(Self.diff(107, 109, previous: 106))
        _ = sync.receive(Self.diff(110, 112, previous: 109))
        #expect(
            sync.applySnapshot(Self.snapshot)
                == .gap(DepthGap(.brokenChain(expectedPreviousUpdateId: 105, receivedPreviousUpdateId: 106))))
        #expect(sync.needsSnapshot && sync.book.isEmpty)
        #expect(sync.bufferedDiffCount == 2, "diffs from the break on are kept")
    }

    @Test func aCrossedBookIsAGap() {
        var sync = BinanceDepthSync(symbol: "BTCUSDT")
        _ = sync.applySnapshot(Self.snapshot)
        _ = sync.receive(Self.diff(100, 101, previous: 99))
        let outcome = sync.receive(Self.diff(102, 103, previous: 101, bids: [level(101, 1)]))
        #expect(outcome == .gap(DepthGap(.crossedBook(bestBid: 101, bestAsk: 101, updateId: 103))))
        #expect(sync.needsSnapshot && sync.book.isEmpty)
    }

    @Test func otherSymbolsDuplicatesAndUnaskedSnapshotsAreIgnored() {
        var sync = BinanceDepthSync(symbol: "BTCUSDT")
        #expect(sync.receive(Self.diff(1, 2, previous: 0, symbol: "ETHUSDT")) == .ignored(.otherSymbol("ETHUSDT")))
        #expect(sync.bufferedDiffCount == 0)
        _ = sync.receive(Self.diff(95, 105, previous: 94))
        _ = sync.applySnapshot(Self.snapshot)
        #expect(sync.applySnapshot(Self.snapshot) == .ignored(.unexpectedSnapshot))
        // A re-delivered diff is already in the book.
        #expect(sync.receive(Self.diff(95, 105, previous: 94)) == .ignored(.staleDiff))
        #expect(sync.state == .synced(lastUpdateId: 105))
    }

    @Test func theBufferKeepsOnlyTheNewestDiffs() {
        var sync = BinanceDepthSync(symbol: "BTCUSDT", maxBufferedDiffs: 2)
        _ = sync.receive(Self.diff(95, 105, previous: 94))
        _ = sync.receive(Self.diff(106, 107, previous: 105))
        _ = sync.receive(Self.diff(108, 109, previous: 107))
        #expect(sync.bufferedDiffCount == 2)
        // The bridging diff was pushed out, so this snapshot can no longer be used.
        #expect(
            sync.applySnapshot(Self.snapshot) == .gap(DepthGap(.snapshotTooOld(snapshotId: 100, firstUpdateId: 106))))
    }

    @Test func resetStartsOver() {
        var sync = BinanceDepthSync(symbol: "BTCUSDT")
        _ = sync.receive(Self.diff(95, 105, previous: 94))
        _ = sync.applySnapshot(Self.snapshot)
        sync.reset()
        #expect(sync.needsSnapshot && sync.book.isEmpty && sync.bookUpdateId == nil)
    }
}

struct BinanceMessageTests {
    let decoder = BinanceMessageDecoder()

    @Test func depthUpdateFromACombinedStream() throws {
        let json = """
            {"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1723161256509,"T":1723161256505,"s":"BTCUSDT",\
            "U":5123107850310,"u":5123107853551,"pu":5123107850146,"b":[["5000.00","2.301"],["60819.50","0.000"]],\
            "a":[["61800.30","1.088"]]}}
            """
        guard case .depthUpdate(let diff) = try decoder.decode(Data(json.utf8)) else {
            Issue.record("not a depth update")
            return
        }
        #expect(diff.symbol == "BTCUSDT")
        #expect(diff.firstUpdateId == 5_123_107_850_310 && diff.finalUpdateId == 5_123_107_853_551)
        #expect(diff.previousFinalUpdateId == 5_123_107_850_146)
        #expect(diff.eventTime == 1_723_161_256_509_000_000 && diff.transactionTime == 1_723_161_256_505_000_000)
        #expect(diff.bids == [level("5000.00", "2.301"), level("60819.50", 0)])
        #expect(diff.asks == [level("61800.30", "1.088")])
    }

    @Test func bookTickerTradeAndSnapshot() throws {
        let ticker = """
            {"e":"bookTicker","u":5123107839020,"s":"BTCUSDT","b":"61800.20","B":"2.507","a":"61800.30","A":"2.510",\
            "T":1723161256313,"E":1723161256313}
            """
        #expect(
            try decoder.decode(Data(ticker.utf8))
                == .bookTicker(
                    BinanceBookTicker(
                        symbol: "BTCUSDT", updateId: 5_123_107_839_020, bestBid: level("61800.20", "2.507"),
                        bestAsk: level("61800.30", "2.510"), eventTime: 1_723_161_256_313_000_000,
                        transactionTime: 1_723_161_256_313_000_000)))

        let trade = """
            {"stream":"btcusdt@trade","data":{"e":"trade","E":1723161256523,"T":1723161256523,"s":"BTCUSDT",\
            "t":5266583939,"p":"61800.20","q":"0.015","X":"MARKET","m":true}}
            """
        guard case .trade(let print) = try decoder.decode(Data(trade.utf8)) else {
            Issue.record("not a trade")
            return
        }
        #expect(print.buyerIsMaker && print.aggressorSide == .sell, "the buyer rested, so a seller hit the bid")
        #expect(print.trade.side == .sell && print.trade.tradeId == "5266583939" && print.trade.size == "0.015")

        let snapshot = """
            {"lastUpdateId":5123107852948,"E":1723161256501,"T":1723161256493,\
            "bids":[["61800.20","2.909"],["61800.10","0.696"]],"asks":[["61800.30","1.072"]]}
            """
        #expect(
            try decoder.decode(Data(snapshot.utf8))
                == .depthSnapshot(
                    BinanceDepthSnapshot(
                        lastUpdateId: 5_123_107_852_948, eventTime: 1_723_161_256_501_000_000,
                        transactionTime: 1_723_161_256_493_000_000,
                        bids: [level("61800.20", "2.909"), level("61800.10", "0.696")],
                        asks: [level("61800.30", "1.072")])))
    }

    @Test func unknownEventsAreNamed() throws {
        let json = #"{"e":"markPriceUpdate","E":1,"s":"BTCUSDT","p":"1"}"#
        #expect(try decoder.decode(Data(json.utf8)) == .other(event: "markPriceUpdate"))
    }

    @Test(arguments: [
        #"{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1e5","B":"1","a":"2","A":"1","T":1,"E":1}"#,
        #"{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1","B":"-1","a":"2","A":"1","T":1,"E":1}"#,
        #"{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1","B":"1","a":"2","T":1,"E":1}"#,
        #"{"e":"depthUpdate","E":1,"T":1,"s":"X","U":1,"u":2,"pu":0,"b":[["1","2","3"]],"a":[]}"#,
        #"{"e":"depthUpdate","E":1,"T":1,"s":"X","U":3,"u":2,"pu":0,"b":[],"a":[]}"#,
        #"{"e":"trade","E":1,"T":1,"s":"X","t":1,"p":"0","q":"1","m":false}"#,
        #"{"lastUpdateId":"x","bids":[],"asks":[]}"#,
        #"{"e":"depthUpdate""#,
        "not json",
    ])
    func malformedMessagesThrow(_ json: String) {
        #expect(throws: MarketDataParseError.self) { try decoder.decode(Data(json.utf8)) }
    }
}
