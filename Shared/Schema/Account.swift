/// A signed position: positive size is long.
public struct Position: Codable, Sendable, Equatable {
    public var symbol: String
    public var size: Amount
    public var entryPrice: Amount
    public var unrealizedPnl: Amount
    /// The ledger's open FIFO lots, oldest first, so a reader can keep FIFO P&L between snapshots.
    /// nil from an older executor.
    public var lots: [PositionLot]?
    public init(symbol: String, size: Amount, entryPrice: Amount, unrealizedPnl: Amount, lots: [PositionLot]? = nil) {
        self.symbol = symbol
        self.size = size
        self.entryPrice = entryPrice
        self.unrealizedPnl = unrealizedPnl
        self.lots = lots
    }
}

/// One open FIFO lot of a position: what is left of one opening fill (the ledger's `OpenLot`).
public struct PositionLot: Codable, Sendable, Equatable {
    public var fillId: String
    /// The strategy whose fill opened the lot.
    public var strategy: String
    /// Signed like the position: positive is long.
    public var size: Amount
    public var entryPrice: Amount
    public var entryTime: EpochNanos
    public init(fillId: String, strategy: String, size: Amount, entryPrice: Amount, entryTime: EpochNanos) {
        self.fillId = fillId
        self.strategy = strategy
        self.size = size
        self.entryPrice = entryPrice
        self.entryTime = entryTime
    }
}

public struct OpenOrder: Codable, Sendable, Equatable {
    public var clientOrderId: String
    public var symbol: String
    public var side: Side
    public var size: Amount
    public var price: Amount
    /// Present for a trigger order (a protective stop or take-profit waiting for the mark).
    public var trigger: OrderTrigger?
    /// nil: not reduce-only.
    public var reduceOnly: Bool?
    /// Present for a market maker's quote (its exposure is the approved quote set's): its tier.
    public var quoteTier: Int?
    public init(
        clientOrderId: String, symbol: String, side: Side, size: Amount, price: Amount, trigger: OrderTrigger? = nil,
        reduceOnly: Bool? = nil, quoteTier: Int? = nil
    ) {
        self.clientOrderId = clientOrderId
        self.symbol = symbol
        self.side = side
        self.size = size
        self.price = price
        self.trigger = trigger
        self.reduceOnly = reduceOnly
        self.quoteTier = quoteTier
    }
}

extension OpenOrder {
    public var isQuote: Bool { quoteTier != nil }
}

/// The executor's view of the account, from its ledger.
/// equity = startingCapital + realizedPnl − fees + funding + unrealizedPnl.
public struct AccountSnapshot: BusMessage {
    public static let messageType = MessageType.accountSnapshot
    public var asOf: EpochNanos
    public var startingCapital: Amount
    public var realizedPnl: Amount
    public var fees: Amount
    public var funding: Amount
    public var unrealizedPnl: Amount
    public var equity: Amount
    public var positions: [Position]
    public var openOrders: [OpenOrder]
    /// The last fill the ledger holds, so a reader can tell the snapshot is current.
    public var lastFillId: String?
    public var topic: String { "acct.snapshot" }

    public init(
        asOf: EpochNanos, startingCapital: Amount, realizedPnl: Amount, fees: Amount, funding: Amount,
        unrealizedPnl: Amount, equity: Amount, positions: [Position], openOrders: [OpenOrder], lastFillId: String?
    ) {
        self.asOf = asOf
        self.startingCapital = startingCapital
        self.realizedPnl = realizedPnl
        self.fees = fees
        self.funding = funding
        self.unrealizedPnl = unrealizedPnl
        self.equity = equity
        self.positions = positions
        self.openOrders = openOrders
        self.lastFillId = lastFillId
    }
}

/// One funding payment on a perpetual position, as the exchange booked it; in the executor's ledger
/// before it is published. Funding is part of equity: startingCapital + realised − fees + funding.
public struct FundingSettlement: BusMessage {
    public static let messageType = MessageType.funding
    /// Stable across syncs: from the exchange's hash, the coin and the time (one payment, one id).
    public var fundingId: String
    public var symbol: String?
    /// Quote currency, signed: positive received, negative paid.
    public var amount: Amount
    /// The funding rate applied (positive: longs pay shorts).
    public var rate: Amount
    /// The signed position the payment was computed on (positive: long).
    public var positionSize: Amount
    /// When the exchange booked it.
    public var time: EpochNanos
    public var topic: String { Topic.join("acct", "funding", symbol ?? "") }

    public init(fundingId: String, symbol: String, amount: Amount, rate: Amount, positionSize: Amount, time: EpochNanos) {
        self.fundingId = fundingId
        self.symbol = symbol
        self.amount = amount
        self.rate = rate
        self.positionSize = positionSize
        self.time = time
    }
}
