import Schema

/// What a market maker reads from the top of a book: the microprice it centres its quotes on,
/// the imbalance it widens by, and the depth it needs before it quotes at all.
///
/// The microprice over the best N levels of each side is
///
///     micro = (bestBid · Qa + bestAsk · Qb) / (Qb + Qa)
///
/// with Qb, Qa the bid and ask sizes summed over those levels. It is the mid weighted by the
/// *opposite* side's size: when bids outweigh asks the ask is the likelier next price, so the
/// microprice sits nearer the ask (it leans to the thin side). This imbalance-weighted mid is
/// the first approximation of Stoikov's micro-price ("The micro-price: a high-frequency
/// estimator of future prices", 2018), which refines it by the expected mid given imbalance and
/// spread; summing N levels instead of the touch alone makes it harder to move with one small
/// order. It is a convex combination of the touch, so it always lies within [bestBid, bestAsk]
/// (clamped there against decimal rounding).
enum TopOfBook {
    static func microprice(bids: [BookLevel], asks: [BookLevel], levels: Int) -> Amount? {
        guard levels > 0, let bid = bids.first, let ask = asks.first else { return nil }
        let bidQuantity = bids.prefix(levels).map(\.size).sum()
        let askQuantity = asks.prefix(levels).map(\.size).sum()
        let total = bidQuantity + askQuantity
        guard bidQuantity.isPositive, askQuantity.isPositive, total.isPositive else { return nil }
        let micro = (bid.price * askQuantity + ask.price * bidQuantity) / total
        let low = min(bid.price, ask.price)
        let high = max(bid.price, ask.price)
        return min(high, max(low, micro))
    }

    static func imbalance(bids: [BookLevel], asks: [BookLevel], levels: Int) -> Double? {
        guard levels > 0 else { return nil }
        let bidQuantity = bids.prefix(levels).map(\.size).sum()
        let askQuantity = asks.prefix(levels).map(\.size).sum()
        let total = bidQuantity + askQuantity
        guard total.isPositive else { return nil }
        let value = ((bidQuantity - askQuantity) / total).doubleValue
        return value.isFinite ? min(1, max(-1, value)) : nil
    }
}

extension BookUpdate {
    /// The microprice over the best `levels` levels of each side (see `TopOfBook`): within
    /// [best bid, best ask], nearer the side with less size. Nil when a side is empty, its
    /// sizes are not positive, or `levels` < 1. Assumes the book is well formed
    /// (`malformation == nil`).
    public func microprice(levels: Int) -> Amount? {
        TopOfBook.microprice(bids: bids, asks: asks, levels: levels)
    }

    /// (Qb − Qa) / (Qb + Qa) over the best `levels` levels, in [−1, 1]; positive: more bid.
    /// Nil for an empty book or `levels` < 1.
    public func imbalance(levels: Int) -> Double? {
        TopOfBook.imbalance(bids: bids, asks: asks, levels: levels)
    }

    /// Σ price × size over the best `levels` levels of one side, in quote currency.
    public func depthNotional(_ side: BookSide, levels: Int) -> Amount {
        guard levels > 0 else { return .zero }
        return (side == .bid ? bids : asks).prefix(levels).map { $0.price * $0.size }.sum()
    }

    /// Best bid at or above best ask: crossed (above) or locked (equal). A maker cannot quote
    /// inside such a book, and one venue's book is never like this unless updates were lost.
    public var isCrossedOrLocked: Bool {
        guard let bid = bids.first, let ask = asks.first else { return false }
        return bid.price >= ask.price
    }

    /// Why the levels cannot be read as a book, or nil when they can: every price and size
    /// positive, bids strictly falling and asks strictly rising from the best. A message off
    /// the bus is not trusted to be so.
    public var malformation: String? {
        func check(_ levels: [BookLevel], _ name: String, better: (Amount, Amount) -> Bool) -> String? {
            for (index, level) in levels.enumerated() {
                if !level.price.isPositive { return "\(name) level \(index) has price \(level.price)" }
                if !level.size.isPositive { return "\(name) level \(index) has size \(level.size)" }
                if index > 0, !better(levels[index - 1].price, level.price) {
                    return "\(name) levels out of order at \(index): \(levels[index - 1].price) then \(level.price)"
                }
            }
            return nil
        }
        return check(bids, "bid", better: >) ?? check(asks, "ask", better: <)
    }
}

extension OrderBook {
    /// The microprice over the best `levels` levels of each side (see `TopOfBook`); the
    /// `microprice` property is the same over the touch alone.
    public func microprice(levels: Int) -> Amount? {
        guard levels > 0 else { return nil }
        return TopOfBook.microprice(
            bids: self.levels(.bid, limit: levels), asks: self.levels(.ask, limit: levels), levels: levels)
    }
}
