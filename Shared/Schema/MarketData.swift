/// One price level of a book.
public struct BookLevel: Codable, Sendable, Equatable {
    public var price: Amount
    public var size: Amount
    public init(price: Amount, size: Amount) {
        self.price = price
        self.size = size
    }
}

/// The top levels of a book, best first on each side.
public struct BookUpdate: BusMessage {
    public static let messageType = MessageType.book
    public var symbol: String?
    public var bids: [BookLevel]
    public var asks: [BookLevel]
    /// Exchange time of the book, ns since the epoch.
    public var exchangeTime: EpochNanos
    public var topic: String { Topic.join("md", "book", symbol ?? "") }

    public init(symbol: String, bids: [BookLevel], asks: [BookLevel], exchangeTime: EpochNanos) {
        self.symbol = symbol
        self.bids = bids
        self.asks = asks
        self.exchangeTime = exchangeTime
    }
}

/// One print on the tape; `side` is the aggressor's.
public struct Trade: BusMessage {
    public static let messageType = MessageType.trade
    public var symbol: String?
    public var price: Amount
    public var size: Amount
    public var side: Side
    public var tradeId: String
    public var exchangeTime: EpochNanos
    public var topic: String { Topic.join("md", "trade", symbol ?? "") }

    public init(symbol: String, price: Amount, size: Amount, side: Side, tradeId: String, exchangeTime: EpochNanos) {
        self.symbol = symbol
        self.price = price
        self.size = size
        self.side = side
        self.tradeId = tradeId
        self.exchangeTime = exchangeTime
    }
}

/// A closed OHLCV bar. `volume` is in quote currency (USD notional).
public struct Bar: BusMessage {
    public static let messageType = MessageType.bar
    public var symbol: String?
    public var intervalSeconds: Int
    public var openTime: EpochNanos
    public var open: Amount
    public var high: Amount
    public var low: Amount
    public var close: Amount
    public var volume: Amount
    public var topic: String { Topic.join("md", "bar", symbol ?? "") }

    public init(
        symbol: String, intervalSeconds: Int, openTime: EpochNanos, open: Amount, high: Amount, low: Amount,
        close: Amount, volume: Amount
    ) {
        self.symbol = symbol
        self.intervalSeconds = intervalSeconds
        self.openTime = openTime
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }
}

/// Whether a symbol's feed can be traded on.
public struct FeedStatus: BusMessage {
    public enum State: String, Codable, Sendable { case live, stale, ended }
    public static let messageType = MessageType.feedStatus
    public var symbol: String?
    public var state: State
    public var source: String
    /// Milliseconds since the last update for this symbol.
    public var lastUpdateAgeMs: Int64
    public var detail: String
    public var topic: String { Topic.join("md", "status", symbol ?? "") }

    public init(symbol: String, state: State, source: String, lastUpdateAgeMs: Int64, detail: String = "") {
        self.symbol = symbol
        self.state = state
        self.source = source
        self.lastUpdateAgeMs = lastUpdateAgeMs
        self.detail = detail
    }
}
