import Schema

/// Reason codes the risk gate adds to Schema's open set.
extension ReasonCode {
    // Pre-trade limits
    public static let maxSymbolNotional: ReasonCode = "max_symbol_notional"
    /// The entry would bring the margin used above `risk.margin.maxUsage` of equity.
    public static let marginUsage: ReasonCode = "margin_usage"
    /// The entry would leave its liquidation price closer than `risk.margin.minLiquidationDistance`.
    public static let liquidationDistance: ReasonCode = "liquidation_distance"
    public static let maxGrossExposure: ReasonCode = "max_gross_exposure"
    public static let maxDirectionShare: ReasonCode = "max_direction_share"
    public static let orderRate: ReasonCode = "order_rate"
    public static let minOrderValue: ReasonCode = "min_order_value"
    public static let unknownInstrument: ReasonCode = "unknown_instrument"
    /// A reduce-only order with no position (or no unreserved part of one) to reduce.
    public static let nothingToReduce: ReasonCode = "nothing_to_reduce"
    /// A reducing order clipped to the part of the position not already being closed.
    public static let exceedsPosition: ReasonCode = "exceeds_position"
    /// An order not acked or rejected by its deadline; its reservation stays.
    public static let ackTimeout: ReasonCode = "ack_timeout"

    // Trading state
    public static let accountSynced: ReasonCode = "account_synced"
    public static let drawdownLock: ReasonCode = "drawdown_lock"
    public static let drawdownReduce: ReasonCode = "drawdown_reduce"
    public static let dailyLossLimit: ReasonCode = "daily_loss_limit"
    /// The venue stayed unavailable past the grace period.
    public static let venueOutage: ReasonCode = "venue_outage"
    /// Every cause of REDUCING has cleared.
    public static let recovered: ReasonCode = "recovered"
    /// An operator resumed trading after a halt whose causes have all cleared.
    public static let resumed: ReasonCode = "resumed"
}
