import Hyperliquid
import Schema

/// Hyperliquid fills as the bus's `Fill`.
public enum FillMapping {
    /// Stable across the websocket and REST, and unique per side of a trade (both sides share a tid).
    public static func fillId(_ fill: UserFill) -> String { "hl-\(fill.tid)-\(fill.oid)" }

    /// `fill` of the order `command` placed.
    public static func fill(_ fill: UserFill, order command: OrderCommand) -> Fill {
        Fill(
            fillId: fillId(fill), clientOrderId: command.clientOrderId, symbol: fill.coin, side: fill.side,
            price: fill.px, size: fill.sz, fee: fill.fee, liquidity: fill.crossed ? .taker : .maker,
            purpose: command.purpose, strategy: command.strategy, time: EpochNanos(fill.time) * 1_000_000,
            quoteTier: command.quoteTier)
    }

    /// The venue's own order that closed a position at liquidation: no command of ours placed it, so
    /// the ledger gets one that says so (an exit by "liquidation", reduce-only, at the fill's price).
    public static func liquidationOrder(_ fill: UserFill, at now: EpochNanos) -> OrderCommand {
        OrderCommand(
            action: .place, clientOrderId: liquidationOrderId(fill), intentId: liquidationOrderId(fill), symbol: fill.coin,
            side: fill.side, size: fill.sz, orderType: .market, price: fill.px, timeInForce: .ioc, reduceOnly: true,
            purpose: .exit, strategy: liquidationStrategy, ackDeadline: now)
    }

    /// One ledger order per liquidation order of the venue (its oid), and one per fill of it.
    public static func liquidationOrderId(_ fill: UserFill) -> String { "liquidation-\(fill.oid)-\(fill.tid)" }

    public static let liquidationStrategy = "liquidation"
}
