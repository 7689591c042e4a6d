import Foundation
import Market
import Schema
import Testing

/// The real Hyperliquid capture, read by our decoder and, independently, by
/// `JSONSerialization`; the two must agree on every level and every fill.
@Suite(
    .enabled(
        if: Fixtures.hasData,
        "shared/data is absent (expected beside the package root): the Hyperliquid capture check is skipped"))
struct HyperliquidCaptureTests {
    struct ExpectedLevel: Equatable {
        var price: Amount
        var size: Amount
        var orders: Int
    }

    /// The levels of one side straight from the JSON tree.
    static func expectedLevels(_ side: Any) throws -> [ExpectedLevel] {
        let entries = try #require(side as? [[String: Any]])
        return try entries.map { entry in
            ExpectedLevel(
                price: try Self.amount(entry["px"]), size: try Self.amount(entry["sz"]),
                orders: try #require(entry["n"] as? Int))
        }
    }

    /// A decimal string from the JSON tree.
    static func amount(_ value: Any?) throws -> Amount {
        let text = try #require(value as? String)
        return try #require(Amount(text))
    }

    @Test("every l2Book becomes a book whose 20 levels a side are those of the file")
    func booksMatchFile() throws {
        let lines = Fixtures.captureLines(try Data(contentsOf: Fixtures.hyperliquidCapture))
        try #require(lines.count == 55)
        let decoder = HyperliquidMessageDecoder()
        var books = 0
        var levelsCompared = 0
        for (_, json) in lines {
            let tree = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
            guard tree["channel"] as? String == "l2Book" else { continue }
            let data = try #require(tree["data"] as? [String: Any])
            let sides = try #require(data["levels"] as? [Any])
            let expectedBids = try Self.expectedLevels(sides[0])
            let expectedAsks = try Self.expectedLevels(sides[1])
            #expect(expectedBids.count == 20 && expectedAsks.count == 20)

            guard case .l2Book(let message) = try decoder.decode(json) else {
                Issue.record("an l2Book line did not decode as a book")
                continue
            }
            books += 1
            #expect(message.coin == "BTC")
            #expect(message.time == (try #require(data["time"] as? Int64)) * 1_000_000)
            #expect(
                message.bids.map { ExpectedLevel(price: $0.price, size: $0.size, orders: $0.orderCount) }
                    == expectedBids)
            #expect(
                message.asks.map { ExpectedLevel(price: $0.price, size: $0.size, orders: $0.orderCount) }
                    == expectedAsks)

            let book = message.orderBook
            #expect(!book.isCrossed)
            #expect(book.bestBid == BookLevel(price: expectedBids[0].price, size: expectedBids[0].size))
            #expect(book.bestAsk == BookLevel(price: expectedAsks[0].price, size: expectedAsks[0].size))
            let bookBids = book.levels(.bid)
            let bookAsks = book.levels(.ask)
            #expect(bookBids.map(\.price) == expectedBids.map(\.price))
            #expect(bookBids.map(\.size) == expectedBids.map(\.size))
            #expect(bookAsks.map(\.price) == expectedAsks.map(\.price))
            #expect(bookAsks.map(\.size) == expectedAsks.map(\.size))
            levelsCompared += bookBids.count + bookAsks.count

            let update = message.bookUpdate
            #expect(update.bids.count == 20 && update.asks.count == 20 && update.exchangeTime == message.time)
        }
        #expect(books == 46)
        #expect(levelsCompared == 46 * 40)
        print("hyperliquid capture: \(books) l2Book snapshots, \(levelsCompared) levels matched")
    }

    @Test("every trades message parses, fill by fill")
    func tradesMatchFile() throws {
        let lines = Fixtures.captureLines(try Data(contentsOf: Fixtures.hyperliquidCapture))
        let decoder = HyperliquidMessageDecoder()
        var messages = 0
        var fills = 0
        for (_, json) in lines {
            let tree = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
            guard tree["channel"] as? String == "trades" else { continue }
            let expected = try #require(tree["data"] as? [[String: Any]])
            guard case .trades(let parsed) = try decoder.decode(json) else {
                Issue.record("a trades line did not decode as trades")
                continue
            }
            messages += 1
            try #require(parsed.count == expected.count)
            for (trade, entry) in zip(parsed, expected) {
                fills += 1
                #expect(trade.coin == entry["coin"] as? String)
                #expect(trade.side == (entry["side"] as? String == "B" ? .buy : .sell))
                #expect(trade.price == (try Self.amount(entry["px"])))
                #expect(trade.size == (try Self.amount(entry["sz"])))
                #expect(trade.time == (try #require(entry["time"] as? Int64)) * 1_000_000)
                #expect(trade.hash == entry["hash"] as? String)
                #expect(trade.tradeId == entry["tid"] as? Int64)
                #expect(trade.users == (entry["users"] as? [String] ?? []))
                let print = trade.trade
                #expect(print.symbol == "BTC" && print.tradeId == String(trade.tradeId) && print.side == trade.side)
            }
        }
        #expect(messages == 9)
        #expect(fills == 64)
    }
}
