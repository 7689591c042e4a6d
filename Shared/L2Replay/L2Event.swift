import Foundation
import Schema

/// One event of a replay, in integers: a price level set to an absolute size, a clear of the whole
/// book (a snapshot follows), or a trade. 32 bytes, so a capture of a million events is a flat,
/// cache-friendly array.
public struct L2Event: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        /// A bid level's absolute size (zero removes it).
        case bid
        /// An ask level's absolute size (zero removes it).
        case ask
        /// Both sides empty: a snapshot's levels follow.
        case clear
        /// A trade whose aggressor bought (it lifted asks).
        case buyTrade
        /// A trade whose aggressor sold (it hit bids).
        case sellTrade
    }

    /// Local receive time, ns since the epoch.
    public var time: Int64
    /// Integer ticks (price / tick size).
    public var price: Int64
    /// Integer lots (size / lot size).
    public var quantity: Int64
    public var kind: Kind
    /// The last event of one venue message: the book is consistent again after it.
    public var endsUpdate: Bool

    public init(time: Int64, price: Int64, quantity: Int64, kind: Kind, endsUpdate: Bool) {
        self.time = time
        self.price = price
        self.quantity = quantity
        self.kind = kind
        self.endsUpdate = endsUpdate
    }
}

/// Tick and lot size: how exact decimals become integers and back.
public struct L2Instrument: Sendable, Equatable {
    public var symbol: String
    public var tickSize: Amount
    public var lotSize: Amount

    public init(symbol: String, tickSize: Amount, lotSize: Amount) {
        precondition(tickSize.isPositive && lotSize.isPositive, "tick and lot sizes must be positive")
        self.symbol = symbol
        self.tickSize = tickSize
        self.lotSize = lotSize
    }

    /// Binance USD-M BTCUSDT: 0.1 USDT ticks, 0.001 BTC lots.
    public static let binanceBTCUSDT = L2Instrument(symbol: "BTCUSDT", tickSize: "0.1", lotSize: "0.001")

    /// The price in whole ticks; nil when it is off the tick grid or out of Int64 range.
    public func ticks(_ price: Amount) -> Int64? { Self.units(price, of: tickSize) }

    /// The size in whole lots; nil when it is not a whole number of lots.
    public func lots(_ size: Amount) -> Int64? { Self.units(size, of: lotSize) }

    public func price(ticks: Int64) -> Amount { Amount(Decimal(ticks)) * tickSize }
    public func size(lots: Int64) -> Amount { Amount(Decimal(lots)) * lotSize }

    private static func units(_ value: Amount, of unit: Amount) -> Int64? {
        guard !value.isNaN else { return nil }
        let quotient = value / unit
        guard quotient == quotient.rounded(scale: 0) else { return nil }
        // An integral Decimal prints as plain digits.
        return Int64(quotient.description)
    }
}
