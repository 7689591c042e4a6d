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
}
