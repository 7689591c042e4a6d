/// A trigger order's condition: Hyperliquid's take-profit or stop-loss, fired by the mark price.
public struct OrderTrigger: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, Hashable, CaseIterable {
        case takeProfit = "tp"
        case stopLoss = "sl"
    }
    public var kind: Kind
    public var triggerPrice: Amount
    /// When triggered, fills at market (no worse than the order's price); otherwise rests as a limit at it.
    public var isMarket: Bool

    public init(kind: Kind, triggerPrice: Amount, isMarket: Bool) {
        self.kind = kind
        self.triggerPrice = triggerPrice
        self.isMarket = isMarket
    }

    /// Whether the trigger is on the side the venue accepts for an order on `side` with the mark
    /// at `mark`: a stop closes a move against the position (a sell stop below the mark, a buy stop
    /// above it), a take-profit a move in its favour.
    public func isPlausible(side: Side, mark: Amount) -> Bool {
        switch (kind, side) {
        case (.stopLoss, .sell), (.takeProfit, .buy): triggerPrice < mark
        case (.stopLoss, .buy), (.takeProfit, .sell): triggerPrice > mark
        }
    }
}

/// How trigger orders are tied to others (Hyperliquid's `grouping`): `normalTpsl` arms the children
/// when their parent fills; `positionTpsl` ties them to the position.
public enum OrderGrouping: String, Codable, Sendable, Hashable, CaseIterable {
    case na, normalTpsl, positionTpsl
}

/// A reduce-only trigger order sent in the same signed action as its entry (`normalTpsl`), so the
/// position is protected on the exchange from its first fill, whatever runs here.
public struct ProtectiveOrder: Codable, Sendable, Equatable {
    public var clientOrderId: String
    public var side: Side
    public var size: Amount
    /// The limit price once triggered; for a market trigger the worst price accepted.
    public var price: Amount
    public var trigger: OrderTrigger
    /// The exit path it stands for, e.g. `hard_stop`, `take_profit`.
    public var exitPath: String

    public init(clientOrderId: String, side: Side, size: Amount, price: Amount, trigger: OrderTrigger, exitPath: String) {
        self.clientOrderId = clientOrderId
        self.side = side
        self.size = size
        self.price = price
        self.trigger = trigger
        self.exitPath = exitPath
    }
}

/// What the risk gate tells the executor to do.
///
/// `place` a new order; `cancel` the order `clientOrderId` names; `modify` it to this command's
/// price, size and trigger (it keeps its client order id).
public struct OrderCommand: BusMessage {
    public enum Action: String, Codable, Sendable { case place, cancel, modify }
    public static let messageType = MessageType.orderCommand
    public var action: Action
    /// Derived from the intent, so a repeated intent can never become a second order.
    public var clientOrderId: String
    public var intentId: String
    public var symbol: String?
    public var side: Side
    public var size: Amount
    public var orderType: OrderType
    public var price: Amount
    public var timeInForce: TimeInForce
    public var reduceOnly: Bool
    public var purpose: OrderPurpose
    public var strategy: String
    /// The executor must answer (ack or reject) by then.
    public var ackDeadline: EpochNanos
    /// Present for a trigger order (then `timeInForce` does not apply).
    public var trigger: OrderTrigger?
    /// nil is `na`.
    public var grouping: OrderGrouping?
    /// Trigger orders placed with this entry in one signed action (`normalTpsl`).
    public var protectiveOrders: [ProtectiveOrder]?
    /// Present for a market maker's post-only quote: its tier (0 nearest the mid).
    public var quoteTier: Int?
    public var topic: String { Topic.join("order", symbol ?? "") }

    public init(
        action: Action, clientOrderId: String, intentId: String, symbol: String, side: Side, size: Amount,
        orderType: OrderType, price: Amount, timeInForce: TimeInForce, reduceOnly: Bool, purpose: OrderPurpose,
        strategy: String, ackDeadline: EpochNanos, trigger: OrderTrigger? = nil, grouping: OrderGrouping? = nil,
        protectiveOrders: [ProtectiveOrder]? = nil, quoteTier: Int? = nil
    ) {
        self.action = action
        self.clientOrderId = clientOrderId
        self.intentId = intentId
        self.symbol = symbol
        self.side = side
        self.size = size
        self.orderType = orderType
        self.price = price
        self.timeInForce = timeInForce
        self.reduceOnly = reduceOnly
        self.purpose = purpose
        self.strategy = strategy
        self.ackDeadline = ackDeadline
        self.trigger = trigger
        self.grouping = grouping
        self.protectiveOrders = protectiveOrders
        self.quoteTier = quoteTier
    }

    public var isQuote: Bool { quoteTier != nil }
}

/// The venue accepted the order.
public struct OrderAck: BusMessage {
    public static let messageType = MessageType.orderAck
    public var clientOrderId: String
    public var venueOrderId: String
    public var symbol: String?
    public var action: OrderCommand.Action
    public var topic: String { Topic.join("exec", "ack", symbol ?? "") }

    public init(clientOrderId: String, venueOrderId: String, symbol: String, action: OrderCommand.Action) {
        self.clientOrderId = clientOrderId
        self.venueOrderId = venueOrderId
        self.symbol = symbol
        self.action = action
    }
}

/// The order was refused, by the executor or the venue.
public struct OrderReject: BusMessage {
    public static let messageType = MessageType.orderReject
    public var clientOrderId: String
    public var symbol: String?
    public var reason: Reason
    public var topic: String { Topic.join("exec", "reject", symbol ?? "") }

    public init(clientOrderId: String, symbol: String, reason: Reason) {
        self.clientOrderId = clientOrderId
        self.symbol = symbol
        self.reason = reason
    }
}

public enum Liquidity: String, Codable, Sendable { case maker, taker }

/// A (partial) execution, written to the ledger before it is published.
public struct Fill: BusMessage {
    public static let messageType = MessageType.fill
    public var fillId: String
    public var clientOrderId: String
    public var symbol: String?
    public var side: Side
    public var price: Amount
    public var size: Amount
    /// Positive: paid. Quote currency.
    public var fee: Amount
    public var liquidity: Liquidity
    public var purpose: OrderPurpose
    public var strategy: String
    public var time: EpochNanos
    /// Present for a fill of a market maker's quote: the quote's tier.
    public var quoteTier: Int?
    public var topic: String { Topic.join("exec", "fill", symbol ?? "") }

    public init(
        fillId: String, clientOrderId: String, symbol: String, side: Side, price: Amount, size: Amount, fee: Amount,
        liquidity: Liquidity, purpose: OrderPurpose, strategy: String, time: EpochNanos, quoteTier: Int? = nil
    ) {
        self.fillId = fillId
        self.clientOrderId = clientOrderId
        self.symbol = symbol
        self.side = side
        self.price = price
        self.size = size
        self.fee = fee
        self.liquidity = liquidity
        self.purpose = purpose
        self.strategy = strategy
        self.time = time
        self.quoteTier = quoteTier
    }

    public var isQuote: Bool { quoteTier != nil }
}

/// The order is no longer live without (further) fills.
public struct OrderCanceled: BusMessage {
    public static let messageType = MessageType.orderCanceled
    public var clientOrderId: String
    public var symbol: String?
    public var reason: Reason
    public var topic: String { Topic.join("exec", "cancel", symbol ?? "") }

    public init(clientOrderId: String, symbol: String, reason: Reason) {
        self.clientOrderId = clientOrderId
        self.symbol = symbol
        self.reason = reason
    }
}
