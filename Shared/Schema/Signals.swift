/// The direction a strategy wants to hold.
public enum Direction: String, Codable, Sendable, Hashable {
    case long, short, flat
}

/// Every evaluation of a strategy on a bar, approved or not, with its reasons.
public struct Signal: BusMessage {
    public enum Decision: String, Codable, Sendable { case approved, rejected }
    public static let messageType = MessageType.signal
    public var signalId: String
    public var symbol: String?
    public var strategy: String
    public var direction: Direction
    /// 0…1; how strongly the strategy holds its view.
    public var confidence: Double
    /// The price the strategy saw (the bar's close).
    public var referencePrice: Amount
    /// Open time of the bar that was evaluated.
    public var barTime: EpochNanos
    /// The indicator values behind the decision, by name.
    public var indicators: [String: Double]
    public var decision: Decision
    public var reasons: [Reason]
    /// Which recall answered and how long it took; nil when recall was not asked (warming up, disabled).
    public var recall: RecallNote?
    public var topic: String { Topic.join("sig", symbol ?? "") }

    public init(
        signalId: String, symbol: String, strategy: String, direction: Direction, confidence: Double,
        referencePrice: Amount, barTime: EpochNanos, indicators: [String: Double], decision: Decision,
        reasons: [Reason]
    ) {
        self.signalId = signalId
        self.symbol = symbol
        self.strategy = strategy
        self.direction = direction
        self.confidence = confidence
        self.referencePrice = referencePrice
        self.barTime = barTime
        self.indicators = indicators
        self.decision = decision
        self.reasons = reasons
    }
}

/// What pattern recall said about a signal's set-up.
public struct RecallNote: Codable, Sendable, Equatable {
    public enum Source: String, Codable, Sendable { case chroma, local }
    public var source: Source
    /// Wall time of the recall call, fallback included.
    public var latencyMicros: Int64
    /// Similar past set-ups found (with a known outcome).
    public var neighbours: Int
    /// Multiplier applied to the strategy's confidence, 0.5…1.5.
    public var adjustment: Double
    /// Why the local fallback answered: breaker_open, timeout, failure, …; nil when Chroma did.
    public var fallbackReason: String?

    public init(source: Source, latencyMicros: Int64, neighbours: Int, adjustment: Double, fallbackReason: String?) {
        self.source = source
        self.latencyMicros = latencyMicros
        self.neighbours = neighbours
        self.adjustment = adjustment
        self.fallbackReason = fallbackReason
    }
}

/// A request to trade. Not an order yet: only the risk gate turns it into one.
public struct OrderIntent: BusMessage {
    public static let messageType = MessageType.orderIntent
    public var intentId: String
    public var symbol: String?
    public var side: Side
    public var size: Amount
    public var orderType: OrderType
    /// Required for limit orders; for market orders the price the sender saw.
    public var price: Amount
    public var purpose: OrderPurpose
    public var reduceOnly: Bool
    public var strategy: String
    /// The signal behind it, or the exit path that fired.
    public var origin: String
    public var createdAt: EpochNanos
    /// After this the intent must not become an order.
    public var expiresAt: EpochNanos
    /// nil: `ioc` for a market order, `gtc` for a limit.
    public var timeInForce: TimeInForce?
    /// Present for a trigger order (take-profit or stop-loss on the mark).
    public var trigger: OrderTrigger?
    public var topic: String { Topic.join("intent", symbol ?? "") }

    public init(
        intentId: String, symbol: String, side: Side, size: Amount, orderType: OrderType, price: Amount,
        purpose: OrderPurpose, reduceOnly: Bool, strategy: String, origin: String, createdAt: EpochNanos,
        expiresAt: EpochNanos, timeInForce: TimeInForce? = nil, trigger: OrderTrigger? = nil
    ) {
        self.intentId = intentId
        self.symbol = symbol
        self.side = side
        self.size = size
        self.orderType = orderType
        self.price = price
        self.purpose = purpose
        self.reduceOnly = reduceOnly
        self.strategy = strategy
        self.origin = origin
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.timeInForce = timeInForce
        self.trigger = trigger
    }

    /// The time in force the order will carry.
    public var effectiveTimeInForce: TimeInForce { timeInForce ?? (orderType == .market ? .ioc : .gtc) }
}
