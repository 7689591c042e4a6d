import Schema

/// A round trip still open: one leg per strategy that opened lots in it (see `ClosedTrade`).
struct RoundTripInProgress: Sendable, Equatable {
    let id: Int
    let direction: TradeDirection
    /// In the order the strategies first opened a lot, so closed trades come out in that order.
    private(set) var legs: [StrategyLeg] = []

    init(id: Int, direction: TradeDirection) {
        self.id = id
        self.direction = direction
    }

    mutating func recordEntry(of lot: OpenLot, fee: Amount) {
        update(lot.strategy, firstEntry: lot.entryTime) { leg in
            leg.entryTime = min(leg.entryTime, lot.entryTime)
            leg.openedSize += lot.size
            leg.entryNotional += lot.entryPrice * lot.size
            leg.fees += fee
        }
    }

    mutating func recordExit(of match: LotMatch, fee: Amount) {
        update(match.strategy, firstEntry: match.entryTime) { leg in
            leg.exitTime = max(leg.exitTime ?? match.exitTime, match.exitTime)
            leg.closedSize += match.size
            leg.exitNotional += match.exitPrice * match.size
            leg.realizedPnl += match.realizedPnl
            leg.fees += fee
        }
    }

    mutating func recordFunding(_ amount: Amount, strategy: String) {
        guard let index = legs.firstIndex(where: { $0.strategy == strategy }) else { return }
        legs[index].funding += amount
    }

    /// One trade per leg; called once the position is flat, when every leg is fully closed.
    func closedTrades(symbol: String) -> [ClosedTrade] {
        legs.map { leg in
            ClosedTrade(
                roundTrip: id, symbol: symbol, strategy: leg.strategy, direction: direction,
                entryTime: leg.entryTime, exitTime: leg.exitTime ?? leg.entryTime,
                entryPrice: Self.average(leg.entryNotional, over: leg.openedSize),
                exitPrice: Self.average(leg.exitNotional, over: leg.closedSize),
                size: leg.closedSize, realizedPnl: leg.realizedPnl, fees: leg.fees, funding: leg.funding)
        }
    }

    private mutating func update(_ strategy: String, firstEntry: EpochNanos, _ body: (inout StrategyLeg) -> Void) {
        if let index = legs.firstIndex(where: { $0.strategy == strategy }) {
            body(&legs[index])
        } else {
            var leg = StrategyLeg(strategy: strategy, entryTime: firstEntry)
            body(&leg)
            legs.append(leg)
        }
    }

    private static func average(_ notional: Amount, over size: Amount) -> Amount {
        size.isPositive ? notional / size : .zero
    }
}

/// What one strategy did within one round trip.
struct StrategyLeg: Sendable, Equatable {
    let strategy: String
    var entryTime: EpochNanos
    var exitTime: EpochNanos?
    var openedSize = Amount.zero
    var entryNotional = Amount.zero
    var closedSize = Amount.zero
    var exitNotional = Amount.zero
    var realizedPnl = Amount.zero
    var fees = Amount.zero
    var funding = Amount.zero

    init(strategy: String, entryTime: EpochNanos) {
        self.strategy = strategy
        self.entryTime = entryTime
    }
}
