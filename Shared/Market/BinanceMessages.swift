import Foundation
import Schema

// Binance USD-M futures market data: the websocket events `depthUpdate`, `bookTicker`
// and `trade` (raw or wrapped by a combined stream as {"stream":…,"data":…}) and the
// REST depth snapshot (`GET /fapi/v1/depth`). Times on the wire are milliseconds.

/// A `depthUpdate` event: absolute sizes for the levels that changed between update
/// ids `firstUpdateId` (`U`) and `finalUpdateId` (`u`).
public struct BinanceDepthDiff: Sendable, Equatable {
    public var symbol: String
    public var eventTime: EpochNanos
    public var transactionTime: EpochNanos
    /// `U`
    public var firstUpdateId: Int64
    /// `u`
    public var finalUpdateId: Int64
    /// `pu`: the previous event's `u`; the chain check of the sync procedure.
    public var previousFinalUpdateId: Int64
    public var bids: [BookLevel]
    public var asks: [BookLevel]

    public init(
        symbol: String, eventTime: EpochNanos, transactionTime: EpochNanos, firstUpdateId: Int64,
        finalUpdateId: Int64, previousFinalUpdateId: Int64, bids: [BookLevel], asks: [BookLevel]
    ) {
        self.symbol = symbol
        self.eventTime = eventTime
        self.transactionTime = transactionTime
        self.firstUpdateId = firstUpdateId
        self.finalUpdateId = finalUpdateId
        self.previousFinalUpdateId = previousFinalUpdateId
        self.bids = bids
        self.asks = asks
    }
}

/// The REST depth snapshot: the whole book as of update id `lastUpdateId`.
public struct BinanceDepthSnapshot: Sendable, Equatable {
    public var lastUpdateId: Int64
    /// Absent from some snapshot formats (spot); nil then.
    public var eventTime: EpochNanos?
    public var transactionTime: EpochNanos?
    public var bids: [BookLevel]
    public var asks: [BookLevel]

    public init(
        lastUpdateId: Int64, eventTime: EpochNanos? = nil, transactionTime: EpochNanos? = nil, bids: [BookLevel],
        asks: [BookLevel]
    ) {
        self.lastUpdateId = lastUpdateId
        self.eventTime = eventTime
        self.transactionTime = transactionTime
        self.bids = bids
        self.asks = asks
    }
}

/// A `bookTicker` event: the best bid and ask as of order book update id `updateId`.
public struct BinanceBookTicker: Sendable, Equatable {
    public var symbol: String
    /// `u`: the same update id sequence as the depth diffs' `U`/`u`.
    public var updateId: Int64
    public var bestBid: BookLevel
    public var bestAsk: BookLevel
    public var eventTime: EpochNanos
    public var transactionTime: EpochNanos

    public init(
        symbol: String, updateId: Int64, bestBid: BookLevel, bestAsk: BookLevel, eventTime: EpochNanos,
        transactionTime: EpochNanos
    ) {
        self.symbol = symbol
        self.updateId = updateId
        self.bestBid = bestBid
        self.bestAsk = bestAsk
        self.eventTime = eventTime
        self.transactionTime = transactionTime
    }
}

/// A `trade` event.
public struct BinanceTrade: Sendable, Equatable {
    public var symbol: String
    public var tradeId: Int64
    public var price: Amount
    public var quantity: Amount
    /// `m`: the buyer's order was resting, so the seller was the aggressor.
    public var buyerIsMaker: Bool
    /// `X`: "MARKET" for ordinary trades; liquidation fills ("INSURANCE_FUND", "ADL")
    /// are not part of the open market and a bar builder may want to skip them.
    public var kind: String
    public var eventTime: EpochNanos
    public var tradeTime: EpochNanos

    public init(
        symbol: String, tradeId: Int64, price: Amount, quantity: Amount, buyerIsMaker: Bool, kind: String = "MARKET",
        eventTime: EpochNanos, tradeTime: EpochNanos
    ) {
        self.symbol = symbol
        self.tradeId = tradeId
        self.price = price
        self.quantity = quantity
        self.buyerIsMaker = buyerIsMaker
        self.kind = kind
        self.eventTime = eventTime
        self.tradeTime = tradeTime
    }

    /// The aggressor's side.
    public var aggressorSide: Side { buyerIsMaker ? .sell : .buy }

    /// The print as a bus message.
    public var trade: Trade {
        Trade(
            symbol: symbol, price: price, size: quantity, side: aggressorSide, tradeId: String(tradeId),
            exchangeTime: tradeTime)
    }
}

/// One Binance market data message.
public enum BinanceMessage: Sendable, Equatable {
    case depthUpdate(BinanceDepthDiff)
    case bookTicker(BinanceBookTicker)
    case trade(BinanceTrade)
    case depthSnapshot(BinanceDepthSnapshot)
    /// A well-formed event of a type this library does not use (its `e`).
    case other(event: String)
}

/// Reads Binance JSON into `BinanceMessage`s, with the bus's `BodyDecoder` (a recorded depth
/// capture is hundreds of thousands of these: Foundation's decoder made loading most of an L2
/// backtest's time).
public struct BinanceMessageDecoder: Sendable {
    private let decoder = BodyDecoder()

    public init() {}

    public func decode(_ json: Data) throws -> BinanceMessage {
        try decode([UInt8](json))
    }

    public func decode(_ bytes: some Sequence<UInt8>) throws -> BinanceMessage {
        let bytes = Array(bytes)
        return try WireValue.decode(venue: "binance") { try decoder.decode(BinanceFrame.self, from: bytes) }.message
    }
}

// MARK: Wire format

/// A raw event, or one wrapped by a combined stream.
private struct BinanceFrame: Decodable {
    var message: BinanceMessage

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        if container.contains("stream"), container.contains("data") {
            message = try container.decode(BinancePayload.self, forKey: "data").message
        } else {
            message = try BinancePayload(from: decoder).message
        }
    }
}

private struct BinancePayload: Decodable {
    var message: BinanceMessage

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        if container.contains("lastUpdateId") {
            message = .depthSnapshot(try DepthSnapshotWire(from: decoder).snapshot())
            return
        }
        let event = try container.decode(String.self, forKey: "e")
        switch event {
        case "depthUpdate": message = .depthUpdate(try DepthUpdateWire(from: decoder).diff())
        case "bookTicker": message = .bookTicker(try BookTickerWire(from: decoder).ticker())
        case "trade": message = .trade(try TradeWire(from: decoder).trade())
        default: message = .other(event: event)
        }
    }
}

private func levels(_ pairs: [[String]]) throws -> [BookLevel] {
    try pairs.map { pair in
        guard pair.count == 2 else {
            throw MarketDataParseError(venue: "binance", message: "a level has \(pair.count) entries, not 2")
        }
        return try WireValue.level(price: pair[0], size: pair[1], venue: "binance")
    }
}

private struct DepthUpdateWire: Decodable {
    var eventTime: Int64
    var transactionTime: Int64
    var symbol: String
    var firstUpdateId: Int64
    var finalUpdateId: Int64
    var previousFinalUpdateId: Int64
    var bids: [[String]]
    var asks: [[String]]

    enum CodingKeys: String, CodingKey {
        case eventTime = "E", transactionTime = "T", symbol = "s", firstUpdateId = "U", finalUpdateId = "u"
        case previousFinalUpdateId = "pu", bids = "b", asks = "a"
    }

    func diff() throws -> BinanceDepthDiff {
        guard firstUpdateId <= finalUpdateId else {
            throw MarketDataParseError(
                venue: "binance", message: "depthUpdate with U \(firstUpdateId) after u \(finalUpdateId)")
        }
        return BinanceDepthDiff(
            symbol: symbol, eventTime: try WireValue.nanos(fromMilliseconds: eventTime, venue: "binance"),
            transactionTime: try WireValue.nanos(fromMilliseconds: transactionTime, venue: "binance"), firstUpdateId: firstUpdateId,
            finalUpdateId: finalUpdateId, previousFinalUpdateId: previousFinalUpdateId, bids: try levels(bids),
            asks: try levels(asks))
    }
}

private struct DepthSnapshotWire: Decodable {
    var lastUpdateId: Int64
    var eventTime: Int64?
    var transactionTime: Int64?
    var bids: [[String]]
    var asks: [[String]]

    enum CodingKeys: String, CodingKey {
        case lastUpdateId, eventTime = "E", transactionTime = "T", bids, asks
    }

    func snapshot() throws -> BinanceDepthSnapshot {
        BinanceDepthSnapshot(
            lastUpdateId: lastUpdateId, eventTime: try eventTime.map { try WireValue.nanos(fromMilliseconds: $0, venue: "binance") },
            transactionTime: try transactionTime.map { try WireValue.nanos(fromMilliseconds: $0, venue: "binance") }, bids: try levels(bids),
            asks: try levels(asks))
    }
}

private struct BookTickerWire: Decodable {
    var updateId: Int64
    var symbol: String
    var bidPrice: String
    var bidSize: String
    var askPrice: String
    var askSize: String
    var eventTime: Int64
    var transactionTime: Int64

    enum CodingKeys: String, CodingKey {
        case updateId = "u", symbol = "s", bidPrice = "b", bidSize = "B", askPrice = "a", askSize = "A"
        case eventTime = "E", transactionTime = "T"
    }

    func ticker() throws -> BinanceBookTicker {
        BinanceBookTicker(
            symbol: symbol, updateId: updateId,
            bestBid: try WireValue.level(price: bidPrice, size: bidSize, venue: "binance"),
            bestAsk: try WireValue.level(price: askPrice, size: askSize, venue: "binance"),
            eventTime: try WireValue.nanos(fromMilliseconds: eventTime, venue: "binance"),
            transactionTime: try WireValue.nanos(fromMilliseconds: transactionTime, venue: "binance"))
    }
}

private struct TradeWire: Decodable {
    var eventTime: Int64
    var tradeTime: Int64
    var symbol: String
    var tradeId: Int64
    var price: String
    var quantity: String
    var kind: String?
    var buyerIsMaker: Bool

    enum CodingKeys: String, CodingKey {
        case eventTime = "E", tradeTime = "T", symbol = "s", tradeId = "t", price = "p", quantity = "q"
        case kind = "X", buyerIsMaker = "m"
    }

    func trade() throws -> BinanceTrade {
        let price = try WireValue.amount(price, field: "price", venue: "binance")
        let quantity = try WireValue.amount(quantity, field: "quantity", venue: "binance")
        guard price.isPositive, quantity.isPositive else {
            throw MarketDataParseError(
                venue: "binance", message: "trade \(tradeId) with price \(price) quantity \(quantity)")
        }
        return BinanceTrade(
            symbol: symbol, tradeId: tradeId, price: price, quantity: quantity, buyerIsMaker: buyerIsMaker,
            kind: kind ?? "MARKET", eventTime: try WireValue.nanos(fromMilliseconds: eventTime, venue: "binance"),
            tradeTime: try WireValue.nanos(fromMilliseconds: tradeTime, venue: "binance"))
    }
}
