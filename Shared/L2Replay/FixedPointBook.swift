/// An L2 book in integers: the size in lots at every tick of a window, one array a side, and the best
/// bid and ask kept up to date on every change.
///
/// Setting a level is an array store; only removing the best level scans, outwards to the next
/// non-empty tick, and near the touch of a liquid book that is a step or two. The window grows when
/// a level falls outside it, up to `maxSpan` ticks; levels beyond that (Binance shows asks at ten
/// times the price) go to a dictionary a side, off the hot path, so a stray price costs neither
/// memory nor speed.
public struct FixedPointBook: Sendable {
    /// Sentinels for an empty side.
    public static let noBid = Int64.min
    public static let noAsk = Int64.max

    public let maxSpan: Int64
    /// The tick of index 0 of both arrays.
    private var lowestTick: Int64 = 0
    private var bids: [Int64] = []
    private var asks: [Int64] = []
    /// Levels outside the window.
    private var farBids: [Int64: Int64] = [:]
    private var farAsks: [Int64: Int64] = [:]
    public private(set) var bestBidTick = FixedPointBook.noBid
    public private(set) var bestAskTick = FixedPointBook.noAsk

    public init(maxSpan: Int64 = 1 << 20) {
        precondition(maxSpan > 0, "the window needs at least one tick")
        self.maxSpan = maxSpan
    }

    public var hasBid: Bool { bestBidTick != Self.noBid }
    public var hasAsk: Bool { bestAskTick != Self.noAsk }
    public var isCrossed: Bool { hasBid && hasAsk && bestBidTick >= bestAskTick }
    public var bestBidLots: Int64 { hasBid ? lots(bid: true, at: bestBidTick) : 0 }
    public var bestAskLots: Int64 { hasAsk ? lots(bid: false, at: bestAskTick) : 0 }

    /// Lots resting at `tick` on one side (0 when none).
    public func lots(bid: Bool, at tick: Int64) -> Int64 {
        let index = tick &- lowestTick
        guard index >= 0, index < Int64(bids.count) else { return (bid ? farBids[tick] : farAsks[tick]) ?? 0 }
        return bid ? bids[Int(index)] : asks[Int(index)]
    }

    /// Sets a bid level's size (0 removes it); false, and nothing changed, for a negative size.
    @inline(__always) @discardableResult
    public mutating func setBid(_ tick: Int64, lots: Int64) -> Bool {
        guard lots >= 0 else { return false }
        guard let index = index(tick) else {
            setFar(bid: true, tick, lots: lots)
            return true
        }
        bids[index] = lots
        if lots > 0 {
            if tick > bestBidTick { bestBidTick = tick }
        } else if tick == bestBidTick {
            var next = index - 1
            while next >= 0, bids[next] == 0 { next -= 1 }
            // Below the window only far levels remain.
            bestBidTick = next >= 0 ? lowestTick + Int64(next) : farBids.keys.max() ?? Self.noBid
        }
        return true
    }

    /// Sets an ask level's size (0 removes it); false, and nothing changed, for a negative size.
    @inline(__always) @discardableResult
    public mutating func setAsk(_ tick: Int64, lots: Int64) -> Bool {
        guard lots >= 0 else { return false }
        guard let index = index(tick) else {
            setFar(bid: false, tick, lots: lots)
            return true
        }
        asks[index] = lots
        if lots > 0 {
            if tick < bestAskTick { bestAskTick = tick }
        } else if tick == bestAskTick {
            var next = index + 1
            while next < asks.count, asks[next] == 0 { next += 1 }
            bestAskTick = next < asks.count ? lowestTick + Int64(next) : farAsks.keys.min() ?? Self.noAsk
        }
        return true
    }

    /// A level outside the window: kept in the side's dictionary, the best found again when it was the best.
    private mutating func setFar(bid: Bool, _ tick: Int64, lots: Int64) {
        if bid {
            farBids[tick] = lots > 0 ? lots : nil
            if lots > 0, tick > bestBidTick { bestBidTick = tick }
            if lots == 0, tick == bestBidTick { bestBidTick = max(windowBest(bid: true) ?? Self.noBid, farBids.keys.max() ?? Self.noBid) }
        } else {
            farAsks[tick] = lots > 0 ? lots : nil
            if lots > 0, tick < bestAskTick { bestAskTick = tick }
            if lots == 0, tick == bestAskTick { bestAskTick = min(windowBest(bid: false) ?? Self.noAsk, farAsks.keys.min() ?? Self.noAsk) }
        }
    }

    /// The best level inside the window, by a full scan.
    private func windowBest(bid: Bool) -> Int64? {
        let index = bid ? bids.lastIndex { $0 > 0 } : asks.firstIndex { $0 > 0 }
        return index.map { lowestTick + Int64($0) }
    }

    /// Applies one replay event; false when the book refused it (see `setBid`). Trades do not change
    /// an L2 book: the venue's next diff does.
    @inline(__always) @discardableResult
    public mutating func apply(_ event: L2Event) -> Bool {
        switch event.kind {
        case .bid: return setBid(event.price, lots: event.quantity)
        case .ask: return setAsk(event.price, lots: event.quantity)
        case .clear:
            removeAll()
            return true
        case .buyTrade, .sellTrade: return true
        }
    }

    public mutating func removeAll() {
        for index in bids.indices { bids[index] = 0 }
        for index in asks.indices { asks[index] = 0 }
        farBids.removeAll()
        farAsks.removeAll()
        bestBidTick = Self.noBid
        bestAskTick = Self.noAsk
    }

    /// The best `limit` levels of a side as (tick, lots), best first.
    public func levels(bid: Bool, limit: Int) -> [(tick: Int64, lots: Int64)] {
        var result: [(tick: Int64, lots: Int64)] = []
        guard bid ? hasBid : hasAsk, !bids.isEmpty else { return result }
        // From the best inside the window outwards, then merged with the far levels.
        var index = bid ? min(Int(max(bestBidTick, lowestTick - 1) - lowestTick), bids.count - 1) : max(Int(min(bestAskTick, lowestTick + Int64(asks.count)) - lowestTick), 0)
        while result.count < limit, index >= 0, index < bids.count {
            let lots = bid ? bids[index] : asks[index]
            if lots > 0 { result.append((lowestTick + Int64(index), lots)) }
            index += bid ? -1 : 1
        }
        let far = (bid ? farBids : farAsks).map { (tick: $0.key, lots: $0.value) }
        return Array((result + far).sorted { bid ? $0.tick > $1.tick : $0.tick < $1.tick }.prefix(limit))
    }

    // MARK: Window

    /// The array index of `tick`, growing the window when needed; nil beyond `maxSpan`.
    @inline(__always)
    private mutating func index(_ tick: Int64) -> Int? {
        let offset = tick &- lowestTick
        if offset >= 0, offset < Int64(bids.count) { return Int(offset) }
        return grow(toInclude: tick)
    }

    /// Widens the window to hold `tick` with room to spare on that side.
    private mutating func grow(toInclude tick: Int64) -> Int? {
        guard !bids.isEmpty else {
            let margin: Int64 = min(4_096, maxSpan / 2)
            lowestTick = tick &- margin
            bids = Array(repeating: 0, count: Int(2 * margin + 1))
            asks = bids
            return Int(margin)
        }
        let highestTick = lowestTick + Int64(bids.count) - 1
        let low = min(lowestTick, tick)
        let high = max(highestTick, tick)
        // Subtraction in wider arithmetic: a hostile tick must not overflow.
        let (span, overflow) = high.subtractingReportingOverflow(low)
        guard !overflow, span < maxSpan else { return nil }
        // Double the room on the side that grew, within maxSpan.
        let room = min(span, maxSpan - 1 - span)
        let newLow = tick < lowestTick ? low - room : low
        let newHigh = tick > highestTick ? high + room : high
        let shift = Int(lowestTick - newLow)
        var newBids = Array(repeating: Int64(0), count: Int(newHigh - newLow + 1))
        var newAsks = newBids
        newBids.replaceSubrange(shift..<(shift + bids.count), with: bids)
        newAsks.replaceSubrange(shift..<(shift + asks.count), with: asks)
        bids = newBids
        asks = newAsks
        lowestTick = newLow
        return Int(tick - newLow)
    }
}
