/// One order a market maker wants resting: always a post-only (ALO) limit order.
public struct QuoteLevel: Codable, Sendable, Hashable {
    public var side: Side
    /// 0 is the tier nearest the mid.
    public var tier: Int
    public var price: Amount
    public var size: Amount

    public init(side: Side, tier: Int, price: Amount, size: Amount) {
        self.side = side
        self.tier = tier
        self.price = price
        self.size = size
    }

    public var notional: Amount { price * size }
}

/// How the executor recycles resting quotes (Hummingbot's `order_refresh_tolerance_pct`, `max_order_age`). The
/// strategy owns these settings; they travel with its quotes so the executor follows the strategy that asked.
public struct QuoteRefresh: Codable, Sendable, Hashable {
    /// A resting quote of the wanted size whose price is within this of the wanted price is kept.
    public var toleranceBps: Double
    /// A quote older than this is replaced even when it is still within the tolerance (0: never).
    public var maxOrderAgeMs: Int
    /// Re-price with one `batchModify` instead of a cancel and a place.
    public var allowModify: Bool

    public init(toleranceBps: Double, maxOrderAgeMs: Int, allowModify: Bool) {
        self.toleranceBps = toleranceBps
        self.maxOrderAgeMs = maxOrderAgeMs
        self.allowModify = allowModify
    }
}

/// The whole set of quotes a market-making strategy wants resting on one symbol now. It replaces
/// the previous set; an empty set withdraws every quote. The reasons say why a side is wider,
/// smaller, one-sided or empty.
public struct QuoteTarget: BusMessage {
    public static let messageType = MessageType.quoteTarget
    public var targetId: String
    public var symbol: String?
    public var strategy: String
    /// Rises with every target of this symbol from this strategy instance: an older one never
    /// replaces a newer one.
    public var sequence: UInt64
    /// Bids best first (falling price), then asks best first (rising price).
    public var quotes: [QuoteLevel]
    /// The price quotes are centred on before the inventory skew (the microprice); nil without a sound book.
    public var referencePrice: Amount?
    /// The reference shifted against the inventory.
    public var reservationPrice: Amount?
    /// Bid-to-ask spread from volatility alone, before widening.
    public var spreadBps: Double
    public var bidHalfSpreadBps: Double
    public var askHalfSpreadBps: Double
    /// Signed position in the base asset the quotes were built for, and its limit.
    public var inventory: Amount
    public var maxInventory: Amount
    public var refresh: QuoteRefresh
    public var reasons: [Reason]
    public var createdAt: EpochNanos
    /// The quotes must not rest past this unless a newer target replaces them: a strategy that
    /// stops talking stops quoting.
    public var expiresAt: EpochNanos
    public var topic: String { Topic.join("intent", "quotes", symbol ?? "") }

    public init(
        targetId: String, symbol: String, strategy: String, sequence: UInt64, quotes: [QuoteLevel],
        referencePrice: Amount?, reservationPrice: Amount?, spreadBps: Double, bidHalfSpreadBps: Double,
        askHalfSpreadBps: Double, inventory: Amount, maxInventory: Amount, refresh: QuoteRefresh, reasons: [Reason],
        createdAt: EpochNanos, expiresAt: EpochNanos
    ) {
        self.targetId = targetId
        self.symbol = symbol
        self.strategy = strategy
        self.sequence = sequence
        self.quotes = quotes
        self.referencePrice = referencePrice
        self.reservationPrice = reservationPrice
        self.spreadBps = spreadBps
        self.bidHalfSpreadBps = bidHalfSpreadBps
        self.askHalfSpreadBps = askHalfSpreadBps
        self.inventory = inventory
        self.maxInventory = maxInventory
        self.refresh = refresh
        self.reasons = reasons
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    public var bids: [QuoteLevel] { quotes.filter { $0.side == .buy } }
    public var asks: [QuoteLevel] { quotes.filter { $0.side == .sell } }
}

/// A wanted quote the risk gate removed or shrank, and why.
public struct QuoteClip: Codable, Sendable, Hashable {
    public var quote: QuoteLevel
    /// The size let through (zero: removed).
    public var allowedSize: Amount
    public var reason: Reason

    public init(quote: QuoteLevel, allowedSize: Amount, reason: Reason) {
        self.quote = quote
        self.allowedSize = allowedSize
        self.reason = reason
    }
}

/// The quotes the risk gate lets rest on one symbol: the strategy's target clipped to the limits and
/// the trading state. The executor makes what rests equal to this; an empty set cancels every quote.
public struct ApprovedQuotes: BusMessage {
    public static let messageType = MessageType.approvedQuotes
    /// The target these come from; for a withdrawal the risk gate decided alone, a new id.
    public var targetId: String
    public var symbol: String?
    public var strategy: String
    /// Rises with every approval of this symbol from this risk-gate instance.
    public var sequence: UInt64
    public var quotes: [QuoteLevel]
    public var clipped: [QuoteClip]
    /// Why quotes were withdrawn or a side removed as a whole (trading state, expiry, limits).
    public var reasons: [Reason]
    public var tradingState: TradingState
    public var refresh: QuoteRefresh
    public var createdAt: EpochNanos
    public var expiresAt: EpochNanos
    public var topic: String { Topic.join("order", "quotes", symbol ?? "") }
    public var bids: [QuoteLevel] { quotes.filter { $0.side == .buy } }
    public var asks: [QuoteLevel] { quotes.filter { $0.side == .sell } }

    public init(
        targetId: String, symbol: String, strategy: String, sequence: UInt64, quotes: [QuoteLevel],
        clipped: [QuoteClip], reasons: [Reason], tradingState: TradingState, refresh: QuoteRefresh,
        createdAt: EpochNanos, expiresAt: EpochNanos
    ) {
        self.targetId = targetId
        self.symbol = symbol
        self.strategy = strategy
        self.sequence = sequence
        self.quotes = quotes
        self.clipped = clipped
        self.reasons = reasons
        self.tradingState = tradingState
        self.refresh = refresh
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// One quote order resting on the venue.
public struct RestingQuote: Codable, Sendable, Hashable {
    public var clientOrderId: String
    public var side: Side
    public var tier: Int
    public var price: Amount
    public var size: Amount
    public var placedAt: EpochNanos

    public init(clientOrderId: String, side: Side, tier: Int, price: Amount, size: Amount, placedAt: EpochNanos) {
        self.clientOrderId = clientOrderId
        self.side = side
        self.tier = tier
        self.price = price
        self.size = size
        self.placedAt = placedAt
    }
}

/// What one pass of the executor's quote reconciliation did on a symbol, and what rests after it.
public struct QuoteReport: BusMessage {
    public static let messageType = MessageType.quoteReport
    public var symbol: String?
    /// The approval this pass worked towards.
    public var targetId: String
    public var sequence: UInt64
    public var resting: [RestingQuote]
    public var kept: Int
    public var modified: Int
    public var placed: Int
    public var canceled: Int
    /// Post-only orders the venue refused because they would have crossed: repriced on the next update.
    public var aloRejected: Int
    /// Other refusals and failed requests.
    public var failed: Int
    /// Actions this pass wanted but left for a later one (pacing).
    public var deferred: Int
    /// The address budget as last known (Hyperliquid's `userRateLimit`), nil before the first reading.
    public var requestsUsed: Int?
    public var requestsCap: Int?
    /// The shortest time between two passes on this symbol now; it grows after rejects and rate-limit warnings.
    public var refreshIntervalMs: Int
    public var reasons: [Reason]
    public var time: EpochNanos
    public var topic: String { Topic.join("exec", "quotes", symbol ?? "") }

    public init(
        symbol: String, targetId: String, sequence: UInt64, resting: [RestingQuote], kept: Int, modified: Int,
        placed: Int, canceled: Int, aloRejected: Int, failed: Int, deferred: Int, requestsUsed: Int?,
        requestsCap: Int?, refreshIntervalMs: Int, reasons: [Reason], time: EpochNanos
    ) {
        self.symbol = symbol
        self.targetId = targetId
        self.sequence = sequence
        self.resting = resting
        self.kept = kept
        self.modified = modified
        self.placed = placed
        self.canceled = canceled
        self.aloRejected = aloRejected
        self.failed = failed
        self.deferred = deferred
        self.requestsUsed = requestsUsed
        self.requestsCap = requestsCap
        self.refreshIntervalMs = refreshIntervalMs
        self.reasons = reasons
        self.time = time
    }

    public var restingBids: Int { resting.count { $0.side == .buy } }
    public var restingAsks: Int { resting.count { $0.side == .sell } }
}
