import Hyperliquid
import Schema

/// Hyperliquid's `userFunding` payments as the bus's `FundingSettlement`.
public enum FundingMapping {
    /// Stable across syncs. The hash alone is not unique (Hyperliquid gives funding a zero hash), so
    /// the coin and the time make it one payment.
    public static func fundingId(_ payment: UserFunding) -> String {
        "hl-funding-\(payment.coin)-\(payment.time)-\(payment.hash)"
    }

    /// `time` is ms from the exchange; one past the nanosecond range is clamped, never a crash.
    public static func settlement(_ payment: UserFunding) -> FundingSettlement {
        let ms = EpochNanos(min(payment.time, UInt64(EpochNanos.max / 1_000_000)))
        return FundingSettlement(
            fundingId: fundingId(payment), symbol: payment.coin, amount: payment.usdc, rate: payment.fundingRate,
            positionSize: payment.szi, time: ms * 1_000_000)
    }
}

/// How the executor keeps its `userFunding` requests (weight 20 each) few while missing no payment.
public enum FundingSync {
    /// Margin before the newest payment booked: one the exchange books a little late is still asked
    /// for (the funding id drops repeats).
    public static let margin: EpochNanos = 60_000_000_000

    /// Where the next request starts, in ms: `margin` before the ledger's newest payment, else before
    /// its first order (no funding of ours can be older); nil when no order was ever placed.
    public static func startMs(lastFunding: EpochNanos?, firstOrder: EpochNanos?) -> UInt64? {
        guard let from = lastFunding ?? firstOrder else { return nil }
        return UInt64((max(from, margin) - margin) / 1_000_000)
    }

    /// Whether a sync that ran at `now` booked every payment there will be until the next fill: every
    /// symbol flat, and `margin` past the last fill, so the closed positions' funding is booked by then.
    public static func settlesUntilNextFill(flat: Bool, lastFillTime: EpochNanos?, now: EpochNanos) -> Bool {
        guard flat else { return false }
        guard let lastFillTime else { return true }
        let (since, overflow) = now.subtractingReportingOverflow(lastFillTime)
        return !overflow && since >= margin
    }
}
