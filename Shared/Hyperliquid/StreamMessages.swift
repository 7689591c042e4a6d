import Market
import Schema

/// A `/ws` subscription.
public enum StreamSubscription: Sendable, Hashable, CustomStringConvertible {
    case l2Book(coin: String)
    case trades(coin: String)
    case allMids
    case orderUpdates(user: Address)
    case userFills(user: Address)

    /// The `subscription` object: {"type": "l2Book", "coin": "BTC"}, {"type": "userFills", "user": "0x…"}.
    public var wireValue: WireValue {
        switch self {
        case .l2Book(let coin): .map([("type", .string("l2Book")), ("coin", .string(coin))])
        case .trades(let coin): .map([("type", .string("trades")), ("coin", .string(coin))])
        case .allMids: .map([("type", .string("allMids"))])
        case .orderUpdates(let user): .map([("type", .string("orderUpdates")), ("user", .string(user.lowercased))])
        case .userFills(let user): .map([("type", .string("userFills")), ("user", .string(user.lowercased))])
        }
    }

    /// {"method": "subscribe", "subscription": …}.
    public var subscribeMessage: String {
        WireValue.map([("method", .string("subscribe")), ("subscription", wireValue)]).jsonString()
    }

    /// From a `subscription` object (as echoed in `subscriptionResponse`); nil for a kind this client
    /// does not subscribe to.
    public init?(wire: WireValue) {
        switch wire["type"]?.stringValue {
        case "l2Book":
            guard let coin = wire["coin"]?.stringValue else { return nil }
            self = .l2Book(coin: coin)
        case "trades":
            guard let coin = wire["coin"]?.stringValue else { return nil }
            self = .trades(coin: coin)
        case "allMids": self = .allMids
        case "orderUpdates":
            guard let user = wire["user"]?.stringValue.flatMap({ try? Address(hex: $0) }) else { return nil }
            self = .orderUpdates(user: user)
        case "userFills":
            guard let user = wire["user"]?.stringValue.flatMap({ try? Address(hex: $0) }) else { return nil }
            self = .userFills(user: user)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .l2Book(let coin): "l2Book:\(coin)"
        case .trades(let coin): "trades:\(coin)"
        case .allMids: "allMids"
        case .orderUpdates(let user): "orderUpdates:\(user.lowercased)"
        case .userFills(let user): "userFills:\(user.lowercased)"
        }
    }
}

/// One `orderUpdates` entry.
public struct OrderUpdate: Sendable, Hashable {
    public var order: OpenOrderInfo
    public var status: OrderState
    public var statusTimestamp: UInt64

    public init(order: OpenOrderInfo, status: OrderState, statusTimestamp: UInt64) {
        self.order = order
        self.status = status
        self.statusTimestamp = statusTimestamp
    }
}

/// One message read from `/ws`.
public enum StreamMessage: Sendable, Equatable {
    /// The plain-text greeting the server sends after the upgrade.
    case connectionEstablished
    case pong
    case subscriptionResponse(method: String, subscription: StreamSubscription?)
    case book(HyperliquidBook)
    case trades([HyperliquidTrade])
    case mids([String: Amount])
    case orderUpdates([OrderUpdate])
    /// `isSnapshot` marks the first message after subscribing: the recent history, not new fills.
    case userFills(user: Address, isSnapshot: Bool, fills: [UserFill])
    /// {"channel": "error", "data": "…"}.
    case error(String)
    /// A well-formed message on a channel this client does not read.
    case other(channel: String)
}

/// Reads `/ws` messages. Market data (`l2Book`, `trades`) goes through the Market library's
/// `HyperliquidMessageDecoder`; the account channels are read here. A message that does not match the
/// documented shapes is a `malformedResponse`, never a crash.
public enum StreamDecoding {
    static let marketDecoder = HyperliquidMessageDecoder()
    public static let greeting = "Websocket connection established."

    public static func decode(_ text: String) throws(HyperliquidClientError) -> StreamMessage {
        if text == greeting { return .connectionEstablished }
        let bytes = Array(text.utf8)
        let market: HyperliquidMessage
        do {
            market = try marketDecoder.decode(bytes)
        } catch {
            throw .malformedResponse("ws: \(error)")
        }
        let channel: String
        switch market {
        case .l2Book(let book): return .book(book)
        case .trades(let trades): return .trades(trades)
        case .other(let name): channel = name
        }
        let r = try ResponseReader(json: bytes, what: "ws \(channel)")
        switch channel {
        case "pong":
            return .pong
        case "subscriptionResponse":
            let data = try r.field("data")
            return .subscriptionResponse(
                method: try data.string("method"),
                subscription: StreamSubscription(wire: try data.field("subscription").value))
        case "allMids":
            return .mids(try InfoDecoding.mids(r.field("data").field("mids")))
        case "orderUpdates":
            var updates: [OrderUpdate] = []
            for u in try r.field("data").array() {
                updates.append(
                    OrderUpdate(
                        order: try InfoDecoding.openOrder(u.field("order")),
                        status: OrderState(rawValue: try u.string("status")),
                        statusTimestamp: try u.uint64("statusTimestamp")))
            }
            return .orderUpdates(updates)
        case "userFills":
            let data = try r.field("data")
            return .userFills(
                user: try data.field("user").address(), isSnapshot: try data.optionalBool("isSnapshot") ?? false,
                fills: try InfoDecoding.fills(data.field("fills")))
        case "error":
            let data = try r.optionalField("data")
            return .error(data?.value.stringValue ?? data?.value.jsonString() ?? "")
        default:
            return .other(channel: channel)
        }
    }
}
