import Market
import Schema
import Testing

@Suite("Microprice")
struct MicropriceTests {
    /// Ten levels a side one tick apart around `mid`, with the given sizes per level.
    static func ladderBook(mid: Amount = 100, bidSizes: [Amount], askSizes: [Amount]) -> BookUpdate {
        BookUpdate(
            symbol: "BTC",
            bids: bidSizes.enumerated().map { BookLevel(price: mid - Amount($0.offset + 1) / 10, size: $0.element) },
            asks: askSizes.enumerated().map { BookLevel(price: mid + Amount($0.offset + 1) / 10, size: $0.element) },
            exchangeTime: 0)
    }

    @Test("a balanced book's microprice is the mid")
    func balanced() {
        let book = Self.ladderBook(bidSizes: Array(repeating: 2, count: 10), askSizes: Array(repeating: 2, count: 10))
        #expect(book.microprice(levels: 10) == 100)
        #expect(book.imbalance(levels: 10) == 0)
    }

    @Test("it leans to the thin side: more bid size pulls it towards the ask, and the reverse")
    func leansToThinSide() {
        // Qb = 3, Qa = 1 over one level: (99.9 × 1 + 100.1 × 3) / 4 = 100.05.
        let bidHeavy = Self.ladderBook(bidSizes: [3], askSizes: [1])
        #expect(bidHeavy.microprice(levels: 10) == Amount("100.05"))
        #expect(bidHeavy.imbalance(levels: 10) == 0.5)
        let askHeavy = Self.ladderBook(bidSizes: [1], askSizes: [3])
        #expect(askHeavy.microprice(levels: 10) == Amount("99.95"))
        #expect(askHeavy.imbalance(levels: 10) == -0.5)
    }

    @Test("deeper levels count: equal touch sizes, but a heavier bid side below leans it up")
    func usesTheLevels() {
        let book = Self.ladderBook(bidSizes: [1, 5, 5], askSizes: [1, 1, 1])
        // Touch only: equal sizes, the mid.
        #expect(book.microprice(levels: 1) == 100)
        // Three levels: Qb = 11, Qa = 3: (99.9 × 3 + 100.1 × 11) / 14.
        let expected = (Amount("99.9") * 3 + Amount("100.1") * 11) / 14
        #expect(book.microprice(levels: 3) == expected)
        #expect(expected > 100)
        // The order book's own touch microprice agrees with one level, and its N-level one with the update's.
        let orderBook = OrderBook(symbol: "BTC", bids: book.bids, asks: book.asks)
        #expect(orderBook.microprice == book.microprice(levels: 1))
        #expect(orderBook.microprice(levels: 3) == expected)
    }

    @Test("random books: the microprice lies within the touch and imbalance within [−1, 1]")
    func withinTouch() throws {
        var generator = SplitMix64(seed: 20_261_206)
        for _ in 0..<500 {
            let bidCount = Int.random(in: 1...12, using: &generator)
            let askCount = Int.random(in: 1...12, using: &generator)
            let sizes = { (count: Int, generator: inout SplitMix64) in
                (0..<count).map { _ in Amount(Int.random(in: 1...1_000_000, using: &generator)) / 1000 }
            }
            let book = Self.ladderBook(
                mid: Amount(Int.random(in: 100...100_000, using: &generator)),
                bidSizes: sizes(bidCount, &generator), askSizes: sizes(askCount, &generator))
            let levels = Int.random(in: 1...12, using: &generator)
            let micro = try #require(book.microprice(levels: levels))
            #expect(micro >= book.bids[0].price && micro <= book.asks[0].price)
            let imbalance = try #require(book.imbalance(levels: levels))
            #expect(imbalance >= -1 && imbalance <= 1)
            // More bid than ask over the levels: at or above the mid, and the reverse.
            let mid = (book.bids[0].price + book.asks[0].price) / 2
            if imbalance > 0 { #expect(micro >= mid) }
            if imbalance < 0 { #expect(micro <= mid) }
        }
    }

    @Test("no microprice without both sides or with no levels asked for")
    func undefined() {
        #expect(Self.ladderBook(bidSizes: [1], askSizes: []).microprice(levels: 10) == nil)
        #expect(Self.ladderBook(bidSizes: [], askSizes: [1]).microprice(levels: 10) == nil)
        #expect(Self.ladderBook(bidSizes: [1], askSizes: [1]).microprice(levels: 0) == nil)
        #expect(Self.ladderBook(bidSizes: [], askSizes: []).imbalance(levels: 5) == nil)
        #expect(OrderBook(symbol: "BTC").microprice(levels: 0) == nil)
    }

    @Test("depth, crossed and locked books, malformed levels")
    func soundnessHelpers() {
        let book = Self.ladderBook(bidSizes: [1, 2, 3], askSizes: [1, 1])
        // 99.9 × 1 + 99.8 × 2 = 299.5 over two levels.
        #expect(book.depthNotional(.bid, levels: 2) == Amount("299.5"))
        #expect(book.depthNotional(.ask, levels: 10) == Amount("100.1") + Amount("100.2"))
        #expect(book.depthNotional(.ask, levels: 0) == 0)
        #expect(!book.isCrossedOrLocked)
        #expect(book.malformation == nil)

        let locked = BookUpdate(
            symbol: "BTC", bids: [BookLevel(price: 100, size: 1)], asks: [BookLevel(price: 100, size: 1)],
            exchangeTime: 0)
        #expect(locked.isCrossedOrLocked)
        let crossed = BookUpdate(
            symbol: "BTC", bids: [BookLevel(price: 101, size: 1)], asks: [BookLevel(price: 100, size: 1)],
            exchangeTime: 0)
        #expect(crossed.isCrossedOrLocked)

        let unordered = BookUpdate(
            symbol: "BTC", bids: [BookLevel(price: 99, size: 1), BookLevel(price: "99.5", size: 1)],
            asks: [BookLevel(price: 100, size: 1)], exchangeTime: 0)
        #expect(unordered.malformation?.contains("bid levels out of order") == true)
        let negative = BookUpdate(
            symbol: "BTC", bids: [BookLevel(price: 99, size: 1)], asks: [BookLevel(price: 100, size: -1)],
            exchangeTime: 0)
        #expect(negative.malformation == "ask level 0 has size -1")
        let zeroPrice = BookUpdate(
            symbol: "BTC", bids: [BookLevel(price: 0, size: 1)], asks: [BookLevel(price: 100, size: 1)],
            exchangeTime: 0)
        #expect(zeroPrice.malformation == "bid level 0 has price 0")
    }
}
