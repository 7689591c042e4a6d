/// What the risk gate tells the executor to do.
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
    public var topic: String { Topic.join("order", symbol ?? "") }

    public init(
        action: Action, clientOrderId: String, intentId: String, symbol: String, side: Side, size: Amount,
        orderType: OrderType, price: Amount, timeInForce: TimeInForce, reduceOnly: Bool, purpose: OrderPurpose,
        strategy: String, ackDeadline: EpochNanos
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
    }
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
    public var topic: String { Topic.join("exec", "fill", symbol ?? "") }

    public init(
        fillId: String, clientOrderId: String, symbol: String, side: Side, price: Amount, size: Amount, fee: Amount,
        liquidity: Liquidity, purpose: OrderPurpose, strategy: String, time: EpochNanos
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
    }
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
