import Schema

/// Which side of a book a level rests on.
public enum BookSide: String, Codable, Sendable, Hashable, CaseIterable {
    case bid, ask
}

/// Resting size and notional on each side within a price band around the mid.
public struct BandDepth: Sendable, Equatable {
    /// The band: bids at or above `lowerPrice`, asks at or below `upperPrice` count.
    public var lowerPrice: Amount
    public var upperPrice: Amount
    public var bidSize: Amount
    public var askSize: Amount
    /// Σ price × size, in quote currency.
    public var bidNotional: Amount
    public var askNotional: Amount

    public init(
        lowerPrice: Amount, upperPrice: Amount, bidSize: Amount, askSize: Amount, bidNotional: Amount,
        askNotional: Amount
    ) {
        self.lowerPrice = lowerPrice
        self.upperPrice = upperPrice
        self.bidSize = bidSize
        self.askSize = askSize
        self.bidNotional = bidNotional
        self.askNotional = askNotional
    }
}

/// One symbol's aggregated price levels (L2) with exact prices and sizes.
///
/// Each side is a sorted array with its best level *last*: most changes happen near
/// the touch, so inserting or removing there moves only a few elements.
public struct OrderBook: Sendable, Equatable {
    public let symbol: String
    private var bidLevels = SortedLevels(side: .bid)
    private var askLevels = SortedLevels(side: .ask)

    public init(symbol: String) {
        self.symbol = symbol
    }

    public init(symbol: String, bids: [BookLevel], asks: [BookLevel]) {
        self.symbol = symbol
        applySnapshot(bids: bids, asks: asks)
    }

    // MARK: Updates

    /// Replaces the whole book. Levels may come in any order; zero sizes are left out
    /// and a repeated price keeps its last size.
    public mutating func applySnapshot(bids: [BookLevel], asks: [BookLevel]) {
        bidLevels.replace(with: bids)
        askLevels.replace(with: asks)
    }

    /// Sets the size resting at `price`; a size of zero removes the level. Removing a
    /// level that is not there is not an error (venues send such removals).
    public mutating func setLevel(_ side: BookSide, price: Amount, size: Amount) {
        precondition(!size.isNegative, "negative size \(size) at \(price)")
        switch side {
        case .bid: bidLevels.set(price: price, size: size)
        case .ask: askLevels.set(price: price, size: size)
        }
    }

    /// Applies a diff of absolute sizes per level (size zero removes the level).
    public mutating func applyDiff(bids: [BookLevel], asks: [BookLevel]) {
        for level in bids { setLevel(.bid, price: level.price, size: level.size) }
        for level in asks { setLevel(.ask, price: level.price, size: level.size) }
    }

    public mutating func removeAll() {
        bidLevels.removeAll()
        askLevels.removeAll()
    }

    // MARK: Reading

    public var bestBid: BookLevel? { bidLevels.best }
    public var bestAsk: BookLevel? { askLevels.best }
    public var isEmpty: Bool { bidLevels.isEmpty && askLevels.isEmpty }

    public func levelCount(_ side: BookSide) -> Int {
        storage(side).count
    }

    /// The best `limit` levels of one side, best first (all of them when `limit` is nil).
    public func levels(_ side: BookSide, limit: Int? = nil) -> [BookLevel] {
        storage(side).best(limit ?? Int.max)
    }

    /// The size resting at exactly `price`, or nil when there is no such level.
    public func size(_ side: BookSide, at price: Amount) -> Amount? {
        storage(side).size(at: price)
    }

    public var spread: Amount? {
        guard let bid = bestBid, let ask = bestAsk else { return nil }
        return ask.price - bid.price
    }

    public var mid: Amount? {
        guard let bid = bestBid, let ask = bestAsk else { return nil }
        return (bid.price + ask.price) / 2
    }

    /// The touch prices weighted by the size on the *opposite* side:
    /// (bid·askSize + ask·bidSize) / (bidSize + askSize). It leans towards the side
    /// that is more likely to be hit next.
    public var microprice: Amount? {
        guard let bid = bestBid, let ask = bestAsk else { return nil }
        let totalSize = bid.size + ask.size
        guard totalSize.isPositive else { return nil }
        return (bid.price * ask.size + ask.price * bid.size) / totalSize
    }

    /// (bidQty − askQty) / (bidQty + askQty) over the best `levels` levels of each side,
    /// in [−1, 1]; positive means more size bid than offered. Nil for an empty book.
    public func imbalance(levels: Int) -> Double? {
        precondition(levels > 0, "imbalance needs at least one level")
        let bidQuantity = bidLevels.best(levels).map(\.size).sum()
        let askQuantity = askLevels.best(levels).map(\.size).sum()
        let total = bidQuantity + askQuantity
        guard total.isPositive else { return nil }
        return ((bidQuantity - askQuantity) / total).doubleValue
    }

    /// Size and notional resting within `basisPoints` of the mid on each side, band
    /// edges included. Nil unless both sides have a level (no mid).
    public func depth(withinBasisPoints basisPoints: Amount) -> BandDepth? {
        precondition(!basisPoints.isNegative, "negative band")
        guard let mid else { return nil }
        let offset = mid * basisPoints / 10_000
        let lower = mid - offset
        let upper = mid + offset
        let bids = bidLevels.fromBest { $0 >= lower }
        let asks = askLevels.fromBest { $0 <= upper }
        return BandDepth(
            lowerPrice: lower, upperPrice: upper, bidSize: bids.map(\.size).sum(), askSize: asks.map(\.size).sum(),
            bidNotional: bids.map { $0.price * $0.size }.sum(), askNotional: asks.map { $0.price * $0.size }.sum())
    }

    /// Best bid at or above best ask. One venue's book can never be like this (the
    /// orders would have matched), so it means an update was missed or misapplied.
    public var isCrossed: Bool {
        guard let bid = bestBid, let ask = bestAsk else { return false }
        return bid.price >= ask.price
    }

    /// The top `levels` of each side as a bus message.
    public func bookUpdate(levels: Int, exchangeTime: EpochNanos) -> BookUpdate {
        BookUpdate(
            symbol: symbol, bids: self.levels(.bid, limit: levels), asks: self.levels(.ask, limit: levels),
            exchangeTime: exchangeTime)
    }

    private func storage(_ side: BookSide) -> SortedLevels {
        side == .bid ? bidLevels : askLevels
    }
}

/// One side of a book, sorted with the best level last.
///
/// Comparing two `Decimal`s costs about 60 ns, and a lookup in a thousand levels needs
/// a dozen comparisons. So each level also keeps its price as a `Double`: the binary
/// search runs on those, and exact comparisons only settle the final position (and,
/// should a conversion ever be out of order, redo the search exactly).
private struct SortedLevels: Sendable, Equatable {
    struct Entry: Sendable, Equatable {
        var key: Double
        var level: BookLevel
    }

    let side: BookSide
    private var entries: [Entry] = []

    init(side: BookSide) { self.side = side }

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }
    var best: BookLevel? { entries.last?.level }

    static func == (lhs: SortedLevels, rhs: SortedLevels) -> Bool {
        lhs.side == rhs.side && lhs.entries.map(\.level) == rhs.entries.map(\.level)
    }

    /// The best `limit` levels, best first.
    func best(_ limit: Int) -> [BookLevel] {
        entries.suffix(max(min(limit, entries.count), 0)).reversed().map(\.level)
    }

    /// Levels from the best outwards while `price` satisfies `inBand`.
    func fromBest(while inBand: (Amount) -> Bool) -> [BookLevel] {
        var result: [BookLevel] = []
        for entry in entries.reversed() {
            guard inBand(entry.level.price) else { break }
            result.append(entry.level)
        }
        return result
    }

    func size(at price: Amount) -> Amount? {
        let index = searchIndex(price)
        guard index < entries.count, entries[index].level.price == price else { return nil }
        return entries[index].level.size
    }

    mutating func set(price: Amount, size: Amount) {
        let index = searchIndex(price)
        let exists = index < entries.count && entries[index].level.price == price
        switch (exists, size.isZero) {
        case (true, true): entries.remove(at: index)
        case (true, false): entries[index].level.size = size
        case (false, false):
            entries.insert(Entry(key: price.doubleValue, level: BookLevel(price: price, size: size)), at: index)
        case (false, true): break
        }
    }

    mutating func removeAll() { entries.removeAll(keepingCapacity: true) }

    mutating func replace(with levels: [BookLevel]) {
        // A stable sort keeps a repeated price's entries in input order, so the last wins.
        let sorted = levels.enumerated().sorted { lhs, rhs in
            if lhs.element.price != rhs.element.price { return before(lhs.element.price, rhs.element.price) }
            return lhs.offset < rhs.offset
        }
        entries.removeAll(keepingCapacity: true)
        entries.reserveCapacity(sorted.count)
        for (_, level) in sorted {
            precondition(!level.size.isNegative, "negative size \(level.size) at \(level.price)")
            if let last = entries.last, last.level.price == level.price { entries.removeLast() }
            if !level.size.isZero { entries.append(Entry(key: level.price.doubleValue, level: level)) }
        }
    }

    // MARK: Search

    /// True when `lhs` sorts before `rhs` on this side (best last).
    private func before(_ lhs: Amount, _ rhs: Amount) -> Bool {
        side == .bid ? lhs < rhs : lhs > rhs
    }

    private func before(_ lhs: Double, _ rhs: Double) -> Bool {
        side == .bid ? lhs < rhs : lhs > rhs
    }

    /// The first index whose price does not sort before `price`: the level itself when
    /// present, otherwise where it would be inserted.
    private func searchIndex(_ price: Amount) -> Int {
        let key = price.doubleValue
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if before(entries[middle].key, key) { low = middle + 1 } else { high = middle }
        }
        // Equal keys may hide distinct prices: step over those that are really before.
        var index = low
        while index < entries.count, entries[index].key == key, before(entries[index].level.price, price) {
            index += 1
        }
        let ordered =
            (index == 0 || before(entries[index - 1].level.price, price))
            && (index == entries.count || !before(entries[index].level.price, price))
        return ordered ? index : exactSearchIndex(price)
    }

    private func exactSearchIndex(_ price: Amount) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if before(entries[middle].level.price, price) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
