import Schema

/// Long or short: which way a position or a trade faces.
public enum TradeDirection: String, Codable, Sendable, Hashable, CaseIterable {
    case long, short

    /// The direction a fill of this side opens from flat.
    public init(opening side: Side) { self = side == .buy ? .long : .short }

    /// +1 long, −1 short: P&L per unit of price rise per unit of size.
    public var sign: Int { self == .long ? 1 : -1 }
    /// The fill side that grows a position of this direction.
    public var openingSide: Side { self == .long ? .buy : .sell }
}

/// One open lot: what is left of one opening fill. Lots of a symbol all face the same way.
public struct OpenLot: Codable, Sendable, Hashable {
    public var fillId: String
    /// The strategy whose fill opened the lot; the lot's P&L is credited to it.
    public var strategy: String
    public var direction: TradeDirection
    public var entryTime: EpochNanos
    public var entryPrice: Amount
    /// Still open, always positive; shrinks as closing fills match it.
    public var size: Amount

    public init(
        fillId: String, strategy: String, direction: TradeDirection, entryTime: EpochNanos, entryPrice: Amount,
        size: Amount
    ) {
        self.fillId = fillId
        self.strategy = strategy
        self.direction = direction
        self.entryTime = entryTime
        self.entryPrice = entryPrice
        self.size = size
    }
}

/// One FIFO match: part of a closing fill set against part of an open lot.
public struct LotMatch: Codable, Sendable, Hashable {
    public var symbol: String
    /// The strategy that opened the lot.
    public var strategy: String
    public var direction: TradeDirection
    public var entryFillId: String
    public var exitFillId: String
    public var entryTime: EpochNanos
    public var exitTime: EpochNanos
    public var entryPrice: Amount
    public var exitPrice: Amount
    public var size: Amount
    /// (exit − entry) × size × direction.sign, before fees.
    public var realizedPnl: Amount

    public init(
        symbol: String, strategy: String, direction: TradeDirection, entryFillId: String, exitFillId: String,
        entryTime: EpochNanos, exitTime: EpochNanos, entryPrice: Amount, exitPrice: Amount, size: Amount,
        realizedPnl: Amount
    ) {
        self.symbol = symbol
        self.strategy = strategy
        self.direction = direction
        self.entryFillId = entryFillId
        self.exitFillId = exitFillId
        self.entryTime = entryTime
        self.exitTime = exitTime
        self.entryPrice = entryPrice
        self.exitPrice = exitPrice
        self.size = size
        self.realizedPnl = realizedPnl
    }
}

/// A closed trade.
///
/// Definition: a *round trip* is the life of a position in one symbol from flat to flat.
/// It starts with the fill that opens a position from flat and ends with the fill that
/// brings it back to zero; adds and partial closes in between belong to the same round
/// trip. A fill larger than the open position ends the round trip (the part that closes)
/// and starts the next one on the other side (the remainder).
///
/// A trade is one round trip, aggregated over all its lot matches, for one strategy. When
/// every lot of the round trip was opened by one strategy (the usual case) the round trip
/// is exactly one trade. When lots were opened by several strategies, the round trip
/// yields one trade per strategy, each holding the matches of that strategy's lots, so that
/// P&L is credited to the strategy that took the risk. They share `roundTrip`.
///
/// - `size`: total size opened (= total size closed) in the round trip by this strategy.
/// - `entryPrice`, `exitPrice`: size-weighted averages of the entry and exit legs.
/// - `realizedPnl`: Σ over matches of (exit − entry) × size × direction.sign; exact.
/// - `fees`: the fees of the fills involved, allocated pro rata to the matched sizes of
///   both legs (a fill that closes lots of two strategies, or a fill that flips, is split
///   by size; shares are rounded to 10 decimal places and the last share takes the
///   remainder, so the shares of a fee always add up to the fee exactly).
/// - `funding`: funding paid or received while the round trip was open, split between
///   strategies by open size at the time of the payment (positive = received).
public struct ClosedTrade: Codable, Sendable, Hashable {
    /// Sequence number of the round trip within the ledger, from 1.
    public var roundTrip: Int
    public var symbol: String
    public var strategy: String
    public var direction: TradeDirection
    /// The earliest entry of this strategy's lots in the round trip.
    public var entryTime: EpochNanos
    /// The latest exit, the fill that made the position flat (or flipped it).
    public var exitTime: EpochNanos
    public var entryPrice: Amount
    public var exitPrice: Amount
    public var size: Amount
    public var realizedPnl: Amount
    /// Paid, positive (negative for a net rebate).
    public var fees: Amount
    /// Received, positive.
    public var funding: Amount

    /// What the trade added to equity: realised P&L − fees + funding. Wins and losses are judged on this.
    public var netPnl: Amount { realizedPnl - fees + funding }

    public init(
        roundTrip: Int, symbol: String, strategy: String, direction: TradeDirection, entryTime: EpochNanos,
        exitTime: EpochNanos, entryPrice: Amount, exitPrice: Amount, size: Amount, realizedPnl: Amount,
        fees: Amount, funding: Amount
    ) {
        self.roundTrip = roundTrip
        self.symbol = symbol
        self.strategy = strategy
        self.direction = direction
        self.entryTime = entryTime
        self.exitTime = exitTime
        self.entryPrice = entryPrice
        self.exitPrice = exitPrice
        self.size = size
        self.realizedPnl = realizedPnl
        self.fees = fees
        self.funding = funding
    }
}

/// A funding payment as the ledger booked it.
public struct FundingPayment: Codable, Sendable, Hashable {
    public var symbol: String
    /// Received, positive.
    public var amount: Amount
    public var time: EpochNanos
    /// The round trip it was attributed to; nil when the symbol was flat, so no trade carries it.
    public var roundTrip: Int?

    public init(symbol: String, amount: Amount, time: EpochNanos, roundTrip: Int?) {
        self.symbol = symbol
        self.amount = amount
        self.time = time
        self.roundTrip = roundTrip
    }
}

/// The open position in one symbol, from its lots.
public struct PositionSummary: Sendable, Hashable {
    public var symbol: String
    /// Signed: positive is long.
    public var size: Amount
    public var direction: TradeDirection
    /// Size-weighted average entry price of the open lots.
    public var averageEntryPrice: Amount
    /// Oldest first: the order closing fills consume them.
    public var lots: [OpenLot]

    public init(symbol: String, size: Amount, direction: TradeDirection, averageEntryPrice: Amount, lots: [OpenLot]) {
        self.symbol = symbol
        self.size = size
        self.direction = direction
        self.averageEntryPrice = averageEntryPrice
        self.lots = lots
    }
}

/// Running totals of one symbol.
public struct SymbolTotals: Sendable, Hashable {
    public var realizedPnl: Amount
    /// Paid, positive.
    public var fees: Amount
    /// Received, positive.
    public var funding: Amount

    public init(realizedPnl: Amount = .zero, fees: Amount = .zero, funding: Amount = .zero) {
        self.realizedPnl = realizedPnl
        self.fees = fees
        self.funding = funding
    }
}

/// The account, from the ledger alone.
public struct AccountFigures: Sendable, Hashable {
    public var startingCapital: Amount
    public var realizedPnl: Amount
    /// Paid, positive.
    public var fees: Amount
    /// Received, positive.
    public var funding: Amount
    /// Nil when the figures were taken without marks.
    public var unrealizedPnl: Amount?

    public init(startingCapital: Amount, realizedPnl: Amount, fees: Amount, funding: Amount, unrealizedPnl: Amount?) {
        self.startingCapital = startingCapital
        self.realizedPnl = realizedPnl
        self.fees = fees
        self.funding = funding
        self.unrealizedPnl = unrealizedPnl
    }

    /// startingCapital + realizedPnl − fees + funding: equity counting only what is realised.
    public var realizedEquity: Amount { startingCapital + realizedPnl - fees + funding }

    /// realizedEquity + unrealizedPnl: equity at the marks; nil without marks.
    public var equity: Amount? { unrealizedPnl.map { realizedEquity + $0 } }
}

/// What one fill did to the ledger.
public struct FillReport: Sendable, Hashable {
    public var fillId: String
    public var symbol: String
    /// FIFO matches against open lots, oldest lot first; empty when the fill only opened or added.
    public var matches: [LotMatch]
    /// Size that opened or added to a lot (the remainder of a flip, or the whole fill).
    public var openedSize: Amount
    /// Round trips this fill brought back to flat.
    public var closedTrades: [ClosedTrade]
    /// Signed position in the symbol after the fill.
    public var positionAfter: Amount

    public init(
        fillId: String, symbol: String, matches: [LotMatch], openedSize: Amount, closedTrades: [ClosedTrade],
        positionAfter: Amount
    ) {
        self.fillId = fillId
        self.symbol = symbol
        self.matches = matches
        self.openedSize = openedSize
        self.closedTrades = closedTrades
        self.positionAfter = positionAfter
    }

    /// Realised P&L of this fill, before fees.
    public var realizedPnl: Amount { matches.map(\.realizedPnl).sum() }
}

/// The outcome of applying a fill.
public enum FillApplication: Sendable, Hashable {
    case applied(FillReport)
    /// The fill id was applied before; nothing changed.
    case duplicate(fillId: String)

    public var isDuplicate: Bool {
        if case .duplicate = self { true } else { false }
    }

    public var report: FillReport? {
        if case .applied(let report) = self { report } else { nil }
    }
}
