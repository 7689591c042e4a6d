/// A signed position: positive size is long.
public struct Position: Codable, Sendable, Equatable {
    public var symbol: String
    public var size: Amount
    public var entryPrice: Amount
    public var unrealizedPnl: Amount
    public init(symbol: String, size: Amount, entryPrice: Amount, unrealizedPnl: Amount) {
        self.symbol = symbol
        self.size = size
        self.entryPrice = entryPrice
        self.unrealizedPnl = unrealizedPnl
    }
}

public struct OpenOrder: Codable, Sendable, Equatable {
    public var clientOrderId: String
    public var symbol: String
    public var side: Side
    public var size: Amount
    public var price: Amount
    public init(clientOrderId: String, symbol: String, side: Side, size: Amount, price: Amount) {
        self.clientOrderId = clientOrderId
        self.symbol = symbol
        self.side = side
        self.size = size
        self.price = price
    }
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
