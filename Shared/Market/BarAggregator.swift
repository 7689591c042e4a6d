import Schema

/// An OHLCV bar built from trades, with volume in both base and quote units.
public struct TradeBar: Sendable, Equatable, Codable {
    public var symbol: String
    public var intervalSeconds: Int
    /// Start of the interval, ns since the epoch, a multiple of the interval.
    public var openTime: EpochNanos
    public var open: Amount
    public var high: Amount
    public var low: Amount
    public var close: Amount
    /// Σ size, in the base asset (BTC).
    public var baseVolume: Amount
    /// Σ price × size, in the quote currency (USD notional).
    public var quoteVolume: Amount
    public var tradeCount: Int

    public init(
        symbol: String, intervalSeconds: Int, openTime: EpochNanos, open: Amount, high: Amount, low: Amount,
        close: Amount, baseVolume: Amount, quoteVolume: Amount, tradeCount: Int
    ) {
        self.symbol = symbol
        self.intervalSeconds = intervalSeconds
        self.openTime = openTime
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.baseVolume = baseVolume
        self.quoteVolume = quoteVolume
        self.tradeCount = tradeCount
    }

    /// End of the interval (exclusive).
    public var closeTime: EpochNanos { openTime + Int64(intervalSeconds) * 1_000_000_000 }

    /// Volume-weighted average price; nil for a bar without volume.
    public var vwap: Amount? { baseVolume.isPositive ? quoteVolume / baseVolume : nil }

    /// The bar as a bus message (whose volume is the quote notional).
    public var message: Bar {
        Bar(
            symbol: symbol, intervalSeconds: intervalSeconds, openTime: openTime, open: open, high: high, low: low,
            close: close, volume: quoteVolume)
    }
}

/// Turns a stream of trades into time bars of a fixed interval aligned to the epoch.
///
/// A bar is emitted when the first trade of a later interval arrives, or when
/// `close(upTo:)` says its interval has ended. An interval without trades produces
/// no bar: inventing a flat bar at the last price would feed indicators a price
/// nobody traded and a volume of zero; a consumer that needs one per interval can
/// see the hole from `openTime`.
///
/// Trades must come in time order per interval. A trade older than the open bar's
/// interval, or inside a bar already emitted, cannot be added any more: it is dropped
/// and counted in `lateTradeCount`. A trade without a positive price and size is
/// dropped and counted in `invalidTradeCount` (the venue parsers never produce one).
public struct BarAggregator: Sendable {
    public let symbol: String
    public let intervalSeconds: Int
    /// The bar being built, if any trade of its interval arrived.
    public private(set) var openBar: TradeBar?
    public private(set) var lateTradeCount = 0
    public private(set) var invalidTradeCount = 0
    /// Trades before this time belong to emitted (final) bars.
    private var closedThrough: EpochNanos?
    private let intervalNanos: Int64

    public init(symbol: String, intervalSeconds: Int) {
        precondition(intervalSeconds > 0, "a bar interval must be positive")
        self.symbol = symbol
        self.intervalSeconds = intervalSeconds
        self.intervalNanos = Int64(intervalSeconds) * 1_000_000_000
    }

    /// Adds one trade; returns the previous bar when this trade starts a later interval.
    public mutating func add(price: Amount, size: Amount, time: EpochNanos) -> TradeBar? {
        guard price.isPositive, size.isPositive else {
            invalidTradeCount += 1
            return nil
        }
        if let closedThrough, time < closedThrough {
            lateTradeCount += 1
            return nil
        }
        let intervalStart = Self.floor(time, to: intervalNanos)
        var emitted: TradeBar?
        if var bar = openBar {
            if intervalStart == bar.openTime {
                bar.high = max(bar.high, price)
                bar.low = min(bar.low, price)
                bar.close = price
                bar.baseVolume += size
                bar.quoteVolume += price * size
                bar.tradeCount += 1
                openBar = bar
                return nil
            }
            if intervalStart < bar.openTime {
                lateTradeCount += 1
                return nil
            }
            emitted = bar
            closedThrough = bar.closeTime
        }
        openBar = TradeBar(
            symbol: symbol, intervalSeconds: intervalSeconds, openTime: intervalStart, open: price, high: price,
            low: price, close: price, baseVolume: size, quoteVolume: price * size, tradeCount: 1)
        return emitted
    }

    public mutating func add(_ trade: Trade) -> TradeBar? {
        add(price: trade.price, size: trade.size, time: trade.exchangeTime)
    }

    /// Declares that the clock reached `time`: returns the open bar if its interval has
    /// ended (its close time is at or before `time`). Later trades before that close
    /// time count as late.
    public mutating func close(upTo time: EpochNanos) -> TradeBar? {
        guard let bar = openBar, bar.closeTime <= time else { return nil }
        openBar = nil
        closedThrough = bar.closeTime
        return bar
    }

    /// Floor division that also rounds negative times down.
    private static func floor(_ time: Int64, to interval: Int64) -> Int64 {
        let remainder = time % interval
        return remainder < 0 ? time - remainder - interval : time - remainder
    }
}
