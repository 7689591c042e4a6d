import Market
import Schema
import Testing

func level(_ price: Amount, _ size: Amount) -> BookLevel { BookLevel(price: price, size: size) }

struct OrderBookTests {
    /// bids 100.0×2, 99.5×3, 99.0×5, 98.0×10; asks 100.5×1, 101.0×4, 101.5×6, 103.0×8.
    static func handBook() -> OrderBook {
        OrderBook(
            symbol: "BTC",
            bids: [level("99.0", 5), level("100.0", 2), level("98.0", 10), level("99.5", 3)],
            asks: [level("103.0", 8), level("100.5", 1), level("101.5", 6), level("101.0", 4)])
    }

    @Test func snapshotSortsBestFirst() {
        let book = Self.handBook()
        #expect(book.levels(.bid).map(\.price) == ["100.0", "99.5", "99.0", "98.0"])
        #expect(book.levels(.ask).map(\.price) == ["100.5", "101.0", "101.5", "103.0"])
        #expect(book.levels(.bid, limit: 2) == [level("100.0", 2), level("99.5", 3)])
        #expect(book.levels(.ask, limit: 10).count == 4)
        #expect(book.levels(.ask, limit: 0).isEmpty)
        #expect(book.bestBid == level("100.0", 2))
        #expect(book.bestAsk == level("100.5", 1))
        #expect(book.levelCount(.bid) == 4 && book.levelCount(.ask) == 4)
        #expect(book.size(.bid, at: "99.5") == 3)
        #expect(book.size(.bid, at: "99.6") == nil)
        #expect(book.size(.ask, at: "103") == 8)
    }

    @Test func snapshotDropsZeroSizesAndKeepsTheLastRepeat() {
        let book = OrderBook(
            symbol: "BTC", bids: [level(10, 1), level(9, 0), level(10, 3)], asks: [level(11, 2), level(11, 0)])
        #expect(book.levels(.bid) == [level(10, 3)])
        #expect(book.levels(.ask).isEmpty)
        #expect(book.mid == nil && book.microprice == nil && book.spread == nil)
    }

    @Test func diffSetsInsertsAndRemovesLevels() {
        var book = Self.handBook()
        book.applyDiff(bids: [level("100.0", 0), level("99.0", "7.5")], asks: [level("102.0", 2)])
        #expect(book.bestBid == level("99.5", 3))
        #expect(book.size(.bid, at: "100.0") == nil)
        #expect(book.size(.bid, at: "99") == "7.5")
        #expect(book.levels(.ask).map(\.price) == ["100.5", "101.0", "101.5", "102.0", "103.0"])

        // Removing a level that is not there changes nothing.
        let before = book
        book.setLevel(.ask, price: "100.7", size: 0)
        #expect(book == before)

        // A new best level on each side.
        book.applyDiff(bids: [level("100.2", 1)], asks: [level("100.4", "0.5")])
        #expect(book.bestBid == level("100.2", 1))
        #expect(book.bestAsk == level("100.4", "0.5"))

        // Emptying a side.
        book.applyDiff(bids: book.levels(.bid).map { level($0.price, 0) }, asks: [])
        #expect(book.bestBid == nil)
        #expect(book.levelCount(.ask) == 6)
    }

    @Test func spreadMidAndMicroprice() throws {
        let book = Self.handBook()
        #expect(book.spread == "0.5")
        #expect(book.mid == "100.25")
        // (100.0 × 1 + 100.5 × 2) / (2 + 1) = 301 / 3: the thin ask pulls it up.
        let microprice = try #require(book.microprice)
        #expect(microprice == Amount(301) / Amount(3))
        #expect(abs(microprice.doubleValue - 100.333_333_333_333_33) < 1e-9)
    }

    @Test func imbalanceOverTopLevels() throws {
        let book = Self.handBook()
        // Top 1: (2 − 1) / 3.
        #expect(abs(try #require(book.imbalance(levels: 1)) - 1.0 / 3.0) < 1e-15)
        // Top 2: 5 against 5.
        #expect(try #require(book.imbalance(levels: 2)) == 0)
        // Top 3: (10 − 11) / 21.
        #expect(abs(try #require(book.imbalance(levels: 3)) + 1.0 / 21.0) < 1e-15)
        // More levels than there are: all of them, (20 − 19) / 39.
        #expect(abs(try #require(book.imbalance(levels: 50)) - 1.0 / 39.0) < 1e-15)
        #expect(OrderBook(symbol: "BTC").imbalance(levels: 5) == nil)
        let oneSided = OrderBook(symbol: "BTC", bids: [level(1, 2)], asks: [])
        #expect(oneSided.imbalance(levels: 5) == 1)
    }

    @Test func depthWithinABandAroundMid() throws {
        let book = Self.handBook()
        // 50 bps of 100.25 is 0.50125: only the touch on each side.
        let narrow = try #require(book.depth(withinBasisPoints: 50))
        #expect(narrow.lowerPrice == "99.74875" && narrow.upperPrice == "100.75125")
        #expect(narrow.bidSize == 2 && narrow.askSize == 1)
        #expect(narrow.bidNotional == 200 && narrow.askNotional == "100.5")
        // 100 bps is 1.0025: two levels each side.
        let wide = try #require(book.depth(withinBasisPoints: 100))
        #expect(wide.bidSize == 5 && wide.askSize == 5)
        #expect(wide.bidNotional == "498.5" && wide.askNotional == "504.5")
        // Zero width: nothing rests at the mid.
        let none = try #require(book.depth(withinBasisPoints: 0))
        #expect(none.bidSize == 0 && none.askSize == 0)
        #expect(OrderBook(symbol: "BTC", bids: [level(1, 1)], asks: []).depth(withinBasisPoints: 10) == nil)
    }

    @Test func bandEdgesAreIncluded() throws {
        // Mid 100; 100 bps puts the edges exactly on 99 and 101.
        let book = OrderBook(
            symbol: "BTC", bids: [level("99.5", 1), level(99, 2), level("98.99", 4)],
            asks: [level("100.5", 1), level(101, 3), level("101.01", 5)])
        let band = try #require(book.depth(withinBasisPoints: 100))
        #expect(band.lowerPrice == 99 && band.upperPrice == 101)
        #expect(band.bidSize == 3 && band.askSize == 4)
    }

    @Test func crossedAndLockedBooksAreDetected() {
        var book = Self.handBook()
        #expect(!book.isCrossed)
        book.setLevel(.ask, price: "100.0", size: 1)
        #expect(book.isCrossed, "a lock (bid = ask) cannot rest on one venue")
        book.setLevel(.ask, price: "100.0", size: 0)
        #expect(!book.isCrossed)
        book.setLevel(.bid, price: "100.6", size: 1)
        #expect(book.isCrossed)
        #expect(!OrderBook(symbol: "BTC").isCrossed)
    }

    @Test func bookUpdateMessageCarriesTheTop() {
        let update = Self.handBook().bookUpdate(levels: 2, exchangeTime: 42)
        #expect(update.symbol == "BTC" && update.exchangeTime == 42)
        #expect(update.bids == [level("100.0", 2), level("99.5", 3)])
        #expect(update.asks == [level("100.5", 1), level("101.0", 4)])
        #expect(update.topic == "md.book.BTC")
    }

    /// Prices a double cannot tell apart still sort and match exactly.
    @Test func pricesEqualAsDoublesStayDistinct() {
        var book = OrderBook(symbol: "BTC")
        let prices: [Amount] = ["1.00000000000000000002", "1", "1.00000000000000000001", "0.99999999999999999999"]
        for (index, price) in prices.enumerated() { book.setLevel(.bid, price: price, size: Amount(index + 1)) }
        #expect(
            book.levels(.bid).map(\.price) == [
                "1.00000000000000000002", "1.00000000000000000001", "1", "0.99999999999999999999",
            ])
        #expect(book.size(.bid, at: "1.00000000000000000001") == 3)
        #expect(book.size(.bid, at: "1.00000000000000000003") == nil)
        book.setLevel(.bid, price: "1", size: 0)
        #expect(book.levels(.bid).map(\.size) == [1, 3, 4])
        for (index, price) in prices.enumerated() { book.setLevel(.ask, price: price + 1, size: Amount(index + 1)) }
        #expect(book.levels(.ask).map(\.size) == [4, 2, 3, 1])
    }

    /// Thousands of random level changes against a plain dictionary model.
    @Test func randomUpdatesAgreeWithADictionaryModel() {
        var generator = SplitMix64(seed: 20_240_808)
        var book = OrderBook(symbol: "BTC")
        var model: [BookSide: [Int: Amount]] = [.bid: [:], .ask: [:]]
        func price(_ side: BookSide, _ ticks: Int) -> Amount {
            (side == .bid ? Amount(900) : Amount("1000.5")) + Amount(ticks) / 2
        }
        for step in 0..<5_000 {
            let side: BookSide = Bool.random(using: &generator) ? .bid : .ask
            // Bids 900–1000, asks 1000.5–1100.5 in steps of 0.5: never crossed.
            let ticks = Int.random(in: 0...200, using: &generator)
            let size =
                Int.random(in: 0...3, using: &generator) == 0
                ? Amount.zero : Amount(Int.random(in: 1...50, using: &generator)) / 10
            book.setLevel(side, price: price(side, ticks), size: size)
            model[side]![ticks] = size.isZero ? nil : size
            if step % 250 == 0 || step == 4_999 {
                let bids = model[.bid]!.sorted { $0.key > $1.key }.map { level(price(.bid, $0.key), $0.value) }
                let asks = model[.ask]!.sorted { $0.key < $1.key }.map { level(price(.ask, $0.key), $0.value) }
                #expect(book.levels(.bid) == bids)
                #expect(book.levels(.ask) == asks)
            }
        }
    }
}
