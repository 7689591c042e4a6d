import Foundation
import Schema

// Hyperliquid `/ws` market data: the `l2Book` channel (a full snapshot of the top
// levels every time) and the `trades` channel. Times on the wire are milliseconds.

/// One level of a Hyperliquid book.
public struct HyperliquidLevel: Sendable, Equatable {
    public var price: Amount
    public var size: Amount
    /// `n`: how many orders rest at this price.
    public var orderCount: Int

    public init(price: Amount, size: Amount, orderCount: Int) {
        self.price = price
        self.size = size
        self.orderCount = orderCount
    }

    public var bookLevel: BookLevel { BookLevel(price: price, size: size) }
}

/// An `l2Book` message: the top levels of both sides, best first.
public struct HyperliquidBook: Sendable, Equatable {
    public var coin: String
    public var time: EpochNanos
    public var bids: [HyperliquidLevel]
    public var asks: [HyperliquidLevel]

    public init(coin: String, time: EpochNanos, bids: [HyperliquidLevel], asks: [HyperliquidLevel]) {
        self.coin = coin
        self.time = time
        self.bids = bids
        self.asks = asks
    }

    /// The message as a book: every `l2Book` is a whole snapshot, never a diff.
    public var orderBook: OrderBook {
        OrderBook(symbol: coin, bids: bids.map(\.bookLevel), asks: asks.map(\.bookLevel))
    }

    public var bookUpdate: BookUpdate {
        BookUpdate(symbol: coin, bids: bids.map(\.bookLevel), asks: asks.map(\.bookLevel), exchangeTime: time)
    }
}

/// One fill from the `trades` channel.
public struct HyperliquidTrade: Sendable, Equatable {
    public var coin: String
    /// The aggressor: "B" (bid, a buyer took the ask) or "A" (ask, a seller hit the bid).
    public var side: Side
    public var price: Amount
    public var size: Amount
    public var time: EpochNanos
    public var hash: String
    public var tradeId: Int64
    /// The buyer's and the seller's addresses, when sent.
    public var users: [String]

    public init(
        coin: String, side: Side, price: Amount, size: Amount, time: EpochNanos, hash: String, tradeId: Int64,
        users: [String] = []
    ) {
        self.coin = coin
        self.side = side
        self.price = price
        self.size = size
        self.time = time
        self.hash = hash
        self.tradeId = tradeId
        self.users = users
    }

    public var trade: Trade {
        Trade(symbol: coin, price: price, size: size, side: side, tradeId: String(tradeId), exchangeTime: time)
    }
}

public enum HyperliquidMessage: Sendable, Equatable {
    case l2Book(HyperliquidBook)
    case trades([HyperliquidTrade])
    /// A well-formed message on another channel (subscriptionResponse, pong, …).
    case other(channel: String)
}

/// Reads Hyperliquid websocket JSON into `HyperliquidMessage`s.
public struct HyperliquidMessageDecoder: Sendable {
    private let decoder = JSONDecoder()

    public init() {}

    public func decode(_ json: Data) throws -> HyperliquidMessage {
        try WireValue.decode(HyperliquidFrame.self, from: json, with: decoder, venue: "hyperliquid").message
    }

    public func decode(_ bytes: some Sequence<UInt8>) throws -> HyperliquidMessage {
        try decode(Data(bytes))
    }
}

// MARK: Wire format

private struct HyperliquidFrame: Decodable {
    var message: HyperliquidMessage

    enum CodingKeys: String, CodingKey { case channel, data }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let channel = try container.decode(String.self, forKey: .channel)
        switch channel {
        case "l2Book":
            message = .l2Book(try container.decode(BookWire.self, forKey: .data).book())
        case "trades":
            message = .trades(try container.decode([TradeWire].self, forKey: .data).map { try $0.trade() })
        default:
            message = .other(channel: channel)
        }
    }
}

private struct LevelWire: Decodable {
    var px: String
    var sz: String
    var n: Int

    func level() throws -> HyperliquidLevel {
        let level = try WireValue.level(price: px, size: sz, venue: "hyperliquid")
        guard level.size.isPositive, n > 0 else {
            throw MarketDataParseError(venue: "hyperliquid", message: "empty level \(px) size \(sz) orders \(n)")
        }
        return HyperliquidLevel(price: level.price, size: level.size, orderCount: n)
    }
}

private struct BookWire: Decodable {
    var coin: String
    var time: Int64
    var levels: [[LevelWire]]

    func book() throws -> HyperliquidBook {
        guard levels.count == 2 else {
            throw MarketDataParseError(
                venue: "hyperliquid", message: "l2Book has \(levels.count) sides of levels, not 2")
        }
        return HyperliquidBook(
            coin: coin, time: try WireValue.nanos(fromMilliseconds: time, venue: "hyperliquid"), bids: try levels[0].map { try $0.level() },
            asks: try levels[1].map { try $0.level() })
    }
}

private struct TradeWire: Decodable {
    var coin: String
    var side: String
    var px: String
    var sz: String
    var time: Int64
    var hash: String
    var tid: Int64
    var users: [String]?

    func trade() throws -> HyperliquidTrade {
        let aggressor: Side
        switch side {
        case "B": aggressor = .buy
        case "A": aggressor = .sell
        default: throw MarketDataParseError(venue: "hyperliquid", message: "trade side \"\(side)\" is not B or A")
        }
        let price = try WireValue.amount(px, field: "px", venue: "hyperliquid")
        let size = try WireValue.amount(sz, field: "sz", venue: "hyperliquid")
        guard price.isPositive, size.isPositive else {
            throw MarketDataParseError(venue: "hyperliquid", message: "trade \(tid) with px \(px) sz \(sz)")
        }
        return HyperliquidTrade(
            coin: coin, side: aggressor, price: price, size: size, time: try WireValue.nanos(fromMilliseconds: time, venue: "hyperliquid"),
            hash: hash, tradeId: tid, users: users ?? [])
    }
}
