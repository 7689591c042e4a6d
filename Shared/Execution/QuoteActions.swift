import Foundation
import Hyperliquid
import Resilience
import Schema

/// One signed request of a quote pass: a `cancelByCloid`, a `batchModify` or an `order` action.
public struct QuoteRequest: Sendable, Equatable {
    public enum Kind: String, Sendable, Hashable {
        case cancel, modify, place
    }

    public var kind: Kind
    public var symbol: String
    /// The orders in the action's order: the venue answers one status per entry, in this order.
    public var clientOrderIds: [String]
    /// Modify and place: what each order becomes, with price and size as sent (on the instrument's
    /// grid). Empty for a cancel.
    public var quotes: [QuoteLevel]
    /// The action to sign.
    public var action: Action
    /// The same orders as `HyperliquidClient` takes them (`order`, `batchModify`, `cancelByCloid`).
    public var orders: [OrderRequest]
    public var cancels: [CancelByCloidRequest]

    /// IP weight of the action: 1 + floor(n / 40).
    public var weight: Int { HyperliquidLimits.exchangeWeight(batchSize: clientOrderIds.count) }
    /// Address requests: every order, modify and cancel in the batch counts one.
    public var addressRequests: Int { clientOrderIds.count }

    /// Modifies in the client's form: each names its order by client order id, which it keeps.
    public var modifies: [ModifyRequest] {
        guard kind == .modify else { return [] }
        return orders.compactMap { order in order.cloid.map { ModifyRequest(target: .cloid($0), order: order) } }
    }
}

/// A quote pass as Hyperliquid actions: one `cancelByCloid` for the cancels, one `batchModify` for the
/// modifies (ALO limit orders, not reduce-only, each keeping its cloid), one `order` action grouped
/// `na` for the places (ALO), each split into batches of at most `maxBatch`, cancels first.
///
/// Prices are brought onto the instrument's grid passively (a bid rounds down, an ask up: a post-only
/// order is never made more aggressive than asked) and sizes down, as `OrderRequest.wire` writes them
/// (`floatToWire`). A quote that cannot be an order (size rounding to zero, value below the venue's
/// minimum, a bad client order id) is refused before anything is sent, with the reason.
public struct QuoteActions: Sendable, Equatable {
    public struct Refusal: Sendable, Hashable {
        public var clientOrderId: String
        public var kind: QuoteRequest.Kind
        public var reason: Reason

        public init(clientOrderId: String, kind: QuoteRequest.Kind, reason: Reason) {
            self.clientOrderId = clientOrderId
            self.kind = kind
            self.reason = reason
        }
    }

    /// 39 orders per action: the IP weight is 1 + floor(n / 40), so 39 is the largest batch that
    /// weighs 1 (40 would weigh 2). Smaller batches also bound what one lost answer leaves uncertain.
    public static let defaultMaxBatch = 39

    public var requests: [QuoteRequest]
    public var refused: [Refusal]

    public init(requests: [QuoteRequest], refused: [Refusal]) {
        self.requests = requests
        self.refused = refused
    }

    /// Total IP weight and address requests of all requests.
    public var weight: Int { requests.reduce(0) { $0 + $1.weight } }
    public var addressRequests: Int { requests.reduce(0) { $0 + $1.addressRequests } }

    /// The requests for `pass` on the exchange described by `assets`.
    public static func plan(_ pass: QuotePass, assets: AssetDirectory, maxBatch: Int = defaultMaxBatch) -> QuoteActions
    {
        let batchSize = max(1, maxBatch)
        let symbol = pass.symbol
        guard let asset = assets.index(of: symbol), let instrument = assets.instrument(symbol) else {
            let reason = Reason(.invalidIntent, "\(symbol) is not listed by the exchange")
            let refused =
                pass.cancels.map { Refusal(clientOrderId: $0, kind: .cancel, reason: reason) }
                + pass.modifies.map { Refusal(clientOrderId: $0.clientOrderId, kind: .modify, reason: reason) }
                + pass.places.map { Refusal(clientOrderId: $0.clientOrderId, kind: .place, reason: reason) }
            return QuoteActions(requests: [], refused: refused)
        }
        var refused: [Refusal] = []
        var requests: [QuoteRequest] = []

        var cancels: [(String, CancelByCloidWire, CancelByCloidRequest)] = []
        for id in pass.cancels {
            guard let cloid = try? OrderRouting.cloid(id) else {
                refused.append(Refusal(clientOrderId: id, kind: .cancel, reason: badId(id)))
                continue
            }
            cancels.append(
                (id, CancelByCloidWire(asset: asset, cloid: cloid), CancelByCloidRequest(coin: symbol, cloid: cloid)))
        }
        for chunk in chunks(cancels, batchSize) {
            requests.append(
                QuoteRequest(
                    kind: .cancel, symbol: symbol, clientOrderIds: chunk.map(\.0), quotes: [],
                    action: .cancelByCloid(chunk.map(\.1)), orders: [], cancels: chunk.map(\.2)))
        }

        typealias Wired = (id: String, cloid: Cloid, quote: QuoteLevel, request: OrderRequest, wire: OrderWire)
        func wired(_ id: String, _ quote: QuoteLevel, kind: QuoteRequest.Kind) -> Wired? {
            do {
                let (cloid, order, sent) = try aloOrder(id, quote, symbol: symbol, instrument: instrument)
                let wire = try order.wire(asset: asset, instrument: instrument, rounding: .passive)
                return (id, cloid, sent, order, wire)
            } catch {
                refused.append(Refusal(clientOrderId: id, kind: kind, reason: Reason(.invalidIntent, "\(error)")))
                return nil
            }
        }

        let modifies = pass.modifies.compactMap { wired($0.clientOrderId, $0.to, kind: .modify) }
        for chunk in chunks(modifies, batchSize) {
            requests.append(
                QuoteRequest(
                    kind: .modify, symbol: symbol, clientOrderIds: chunk.map(\.id), quotes: chunk.map(\.quote),
                    action: .batchModify(chunk.map { ModifyWire(oid: .cloid($0.cloid), order: $0.wire) }),
                    orders: chunk.map(\.request), cancels: []))
        }
        let places = pass.places.compactMap { wired($0.clientOrderId, $0.quote, kind: .place) }
        for chunk in chunks(places, batchSize) {
            requests.append(
                QuoteRequest(
                    kind: .place, symbol: symbol, clientOrderIds: chunk.map(\.id), quotes: chunk.map(\.quote),
                    action: .order(chunk.map(\.wire), grouping: .na), orders: chunk.map(\.request), cancels: []))
        }
        return QuoteActions(requests: requests, refused: refused)
    }

    enum QuoteOrderError: Error, CustomStringConvertible {
        case badClientOrderId(String)
        case sizeRoundsToZero(Amount, szDecimals: Int)
        case priceRoundsToZero(Amount)
        case belowMinimumValue(Amount, minimum: Amount)

        var description: String {
            switch self {
            case .badClientOrderId(let id): "client order id \(id) is not 0x and 32 hex digits"
            case .sizeRoundsToZero(let size, let decimals): "size \(size) rounds to zero at \(decimals) decimals"
            case .priceRoundsToZero(let price): "price \(price) rounds to zero"
            case .belowMinimumValue(let value, let minimum): "order value \(value) is below the minimum \(minimum)"
            }
        }
    }

    /// The ALO limit order for `quote`, and the quote as it will rest (price and size on the grid).
    static func aloOrder(
        _ id: String, _ quote: QuoteLevel, symbol: String, instrument: Instrument
    ) throws -> (Cloid, OrderRequest, QuoteLevel) {
        guard let cloid = try? OrderRouting.cloid(id) else { throw QuoteOrderError.badClientOrderId(id) }
        guard quote.price.isPositive, !quote.price.isNaN else { throw QuoteOrderError.priceRoundsToZero(quote.price) }
        let price = instrument.roundPrice(quote.price, quote.side == .buy ? .down : .up)
        let size = instrument.roundSize(quote.size, .down)
        guard price.isPositive else { throw QuoteOrderError.priceRoundsToZero(quote.price) }
        guard size.isPositive else {
            throw QuoteOrderError.sizeRoundsToZero(quote.size, szDecimals: instrument.szDecimals)
        }
        guard price * size >= instrument.minOrderValue else {
            throw QuoteOrderError.belowMinimumValue(price * size, minimum: instrument.minOrderValue)
        }
        var sent = quote
        sent.price = price
        sent.size = size
        let order = OrderRequest.limit(
            symbol, isBuy: quote.side == .buy, size: size, price: price, tif: .alo, reduceOnly: false, cloid: cloid)
        return (cloid, order, sent)
    }

    static func badId(_ id: String) -> Reason {
        Reason(.invalidIntent, "client order id \(id) is not 0x and 32 hex digits")
    }

    static func chunks<T>(_ items: [T], _ size: Int) -> [ArraySlice<T>] {
        stride(from: 0, to: items.count, by: size).map { items[$0..<min($0 + size, items.count)] }
    }
}
