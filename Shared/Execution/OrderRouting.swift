import Hyperliquid
import Schema

/// How an order command from the risk gate becomes a Hyperliquid order.
///
/// Hyperliquid has no market order: like the official SDK's `market_open`, a market order is an
/// IOC limit at the reference price moved against us by `marketSlippage`, so it can never fill
/// further away than that.
public struct OrderRouting: Sendable, Equatable {
    /// Fraction of the reference price a market order may pay (0.005 = 50 bps).
    public var marketSlippage: Amount

    public init(marketSlippage: Amount) {
        self.marketSlippage = marketSlippage
    }

    public enum RoutingError: Error, Equatable, CustomStringConvertible {
        case invalidClientOrderId(String)
        case nonPositiveSize
        case noPrice

        public var description: String {
            switch self {
            case .invalidClientOrderId(let id): "client order id \(id) is not 0x and 32 hex digits"
            case .nonPositiveSize: "order size must be positive"
            case .noPrice: "no price: the command has none and no mark is known"
            }
        }
    }

    /// The cloid of a client order id ("0x" + 32 hex digits, as `Identifier.clientOrderId` makes them).
    public static func cloid(_ clientOrderId: String) throws(RoutingError) -> Cloid {
        do { return try Cloid(hex: clientOrderId.lowercased()) } catch { throw .invalidClientOrderId(clientOrderId) }
    }

    /// The order for `command`; `mark` is the latest market price, used by market orders when
    /// it is known (the command's price is the signal's, possibly a bar old).
    public func request(for command: OrderCommand, mark: Amount?) throws(RoutingError) -> OrderRequest {
        guard command.size.isPositive else { throw .nonPositiveSize }
        let cloid = try Self.cloid(command.clientOrderId)
        let isBuy = command.side == .buy
        if let trigger = command.trigger {
            // Hyperliquid's TP/SL: fired by the mark; `price` is the limit (a market trigger's worst price).
            guard command.price.isPositive, trigger.triggerPrice.isPositive else { throw .noPrice }
            return OrderRequest(
                coin: command.symbol ?? "", isBuy: isBuy, size: command.size, limitPrice: command.price,
                kind: .trigger(
                    triggerPrice: trigger.triggerPrice, isMarket: trigger.isMarket,
                    tpsl: trigger.kind == .stopLoss ? .sl : .tp),
                reduceOnly: command.reduceOnly, cloid: cloid)
        }
        switch command.orderType {
        case .market:
            let reference = mark ?? command.price
            guard reference.isPositive else { throw .noPrice }
            let limit = isBuy ? reference * (1 + marketSlippage) : reference * (1 - marketSlippage)
            return .limit(
                command.symbol ?? "", isBuy: isBuy, size: command.size, price: limit, tif: .ioc,
                reduceOnly: command.reduceOnly, cloid: cloid)
        case .limit:
            guard command.price.isPositive else { throw .noPrice }
            let tif: Tif =
                switch command.timeInForce {
                case .gtc: .gtc
                case .ioc: .ioc
                case .alo: .alo
                }
            return .limit(
                command.symbol ?? "", isBuy: isBuy, size: command.size, price: command.price, tif: tif,
                reduceOnly: command.reduceOnly, cloid: cloid)
        }
    }
}
