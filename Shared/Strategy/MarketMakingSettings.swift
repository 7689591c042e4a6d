import Foundation
import Schema

/// Everything the `MarketMaker` strategy is told about one symbol. Names follow the
/// `Quoter`'s settings, and Hummingbot's `pure_market_making` where they mean the same
/// (`order_levels`, `order_level_spread`, `order_refresh_tolerance_pct`, `max_order_age`,
/// `filled_order_delay`, `inventory_target_base_pct`, `price_ceiling`, `price_floor`).
///
/// Sizes are given in quote currency (USD) and turned into base units once, at the first
/// sound book (see `MarketMaker`). Spreads and distances are in basis points of the reference
/// price; times in milliseconds.
public struct MarketMakingSettings: Sendable, Equatable {
    // Ladder
    /// Tiers quoted on each side (Hummingbot `order_levels`).
    public var tiers: Int
    /// Notional of tier 0 (the one nearest the reference), in quote currency.
    public var baseNotional: Amount
    /// Tier i is tier 0 × sizeDecay^i; 0 < decay ≤ 1.
    public var sizeDecay: Amount
    /// Distance between consecutive tiers (Hummingbot `order_level_spread`, in bps here).
    public var tierSpacingBps: Double
    /// Tiers whose rounded size is below this many base units are not quoted (0: only the
    /// venue's minimum order value applies).
    public var minimumLot: Amount
    public var tierSizeRounding: QuoterSettings.SizeRounding

    // Spread
    /// spread = min · (max/min)^t, t = clamp((vol − volLow) / (volHigh − volLow), 0, 1), with vol
    /// the realised volatility (per bar) of the last `volatilityBars` bar returns.
    public var minSpreadBps: Double
    public var maxSpreadBps: Double
    public var volatilityLow: Double
    public var volatilityHigh: Double
    /// Returns in the realised volatility; until that many bars (plus one) have closed the
    /// spread is the widest.
    public var volatilityBars: Int
    /// Only bars of this interval feed the volatility (nil: every bar of the symbol).
    public var volatilityIntervalSeconds: Int?

    // Widening
    public var imbalanceWidening: Double
    public var maxSideWidening: Double
    public var adverseSelection: AdverseSelectionSettings

    // Inventory
    /// The inventory the quotes steer towards, in quote currency (0 for perps; Hummingbot's
    /// `inventory_target_base_pct` as a notional). Skew and limits act on inventory − target.
    public var inventoryTargetNotional: Amount
    /// |inventory − target| at which the side that would add to it stops (Hummingbot's
    /// inventory range), in quote currency.
    public var maxInventoryNotional: Amount
    public var inventorySkewBps: Double
    public var inventorySizeShrink: Double

    // Refresh (travels to the executor in `QuoteRefresh`)
    /// Hummingbot `order_refresh_tolerance_pct`, in bps.
    public var refreshToleranceBps: Double
    /// Hummingbot `max_order_age` (0: never replace for age).
    public var maxOrderAgeMs: Int
    public var allowModify: Bool
    /// Hummingbot `filled_order_delay`: after a fill of one of our quotes on a side, that side
    /// quotes nothing for this long.
    public var filledOrderDelayMs: Int

    // Book soundness
    /// Levels of each side used for the microprice, the imbalance and the depth.
    public var microLevels: Int
    /// Levels each side must have, or nothing is quoted.
    public var minBookLevels: Int
    /// Notional each side must have within `microLevels`, or nothing is quoted.
    public var minDepthNotional: Amount
    /// No book received for this long: withdraw.
    public var staleBookMs: Int

    // Price band
    /// A quote further than this from the reference is dropped.
    public var priceBandBps: Double
    /// No bids above this (Hummingbot `price_ceiling`).
    public var priceCeiling: Amount?
    /// No asks below this (Hummingbot `price_floor`).
    public var priceFloor: Amount?

    // Publishing
    /// An unchanged target is published again this often, so the risk gate and the executor
    /// know the strategy is alive.
    public var keepaliveMs: Int
    /// A target's `expiresAt` is its `createdAt` + this; longer than `keepaliveMs`.
    public var quoteLifetimeMs: Int

    public init(
        tiers: Int = 12, baseNotional: Amount, sizeDecay: Amount = "0.9", tierSpacingBps: Double = 2,
        minimumLot: Amount = 0, tierSizeRounding: QuoterSettings.SizeRounding = .nearest, minSpreadBps: Double = 4,
        maxSpreadBps: Double = 40, volatilityLow: Double = 0.0005, volatilityHigh: Double = 0.003,
        volatilityBars: Int = 20, volatilityIntervalSeconds: Int? = nil, imbalanceWidening: Double = 1,
        maxSideWidening: Double = 3, adverseSelection: AdverseSelectionSettings = AdverseSelectionSettings(),
        inventoryTargetNotional: Amount = 0, maxInventoryNotional: Amount, inventorySkewBps: Double = 10,
        inventorySizeShrink: Double = 1, refreshToleranceBps: Double = 1, maxOrderAgeMs: Int = 1_800_000,
        allowModify: Bool = true, filledOrderDelayMs: Int = 60_000, microLevels: Int = 10, minBookLevels: Int = 3,
        minDepthNotional: Amount = 0, staleBookMs: Int = 5_000, priceBandBps: Double = 200,
        priceCeiling: Amount? = nil, priceFloor: Amount? = nil, keepaliveMs: Int = 5_000,
        quoteLifetimeMs: Int = 15_000
    ) {
        self.tiers = tiers
        self.baseNotional = baseNotional
        self.sizeDecay = sizeDecay
        self.tierSpacingBps = tierSpacingBps
        self.minimumLot = minimumLot
        self.tierSizeRounding = tierSizeRounding
        self.minSpreadBps = minSpreadBps
        self.maxSpreadBps = maxSpreadBps
        self.volatilityLow = volatilityLow
        self.volatilityHigh = volatilityHigh
        self.volatilityBars = volatilityBars
        self.volatilityIntervalSeconds = volatilityIntervalSeconds
        self.imbalanceWidening = imbalanceWidening
        self.maxSideWidening = maxSideWidening
        self.adverseSelection = adverseSelection
        self.inventoryTargetNotional = inventoryTargetNotional
        self.maxInventoryNotional = maxInventoryNotional
        self.inventorySkewBps = inventorySkewBps
        self.inventorySizeShrink = inventorySizeShrink
        self.refreshToleranceBps = refreshToleranceBps
        self.maxOrderAgeMs = maxOrderAgeMs
        self.allowModify = allowModify
        self.filledOrderDelayMs = filledOrderDelayMs
        self.microLevels = microLevels
        self.minBookLevels = minBookLevels
        self.minDepthNotional = minDepthNotional
        self.staleBookMs = staleBookMs
        self.priceBandBps = priceBandBps
        self.priceCeiling = priceCeiling
        self.priceFloor = priceFloor
        self.keepaliveMs = keepaliveMs
        self.quoteLifetimeMs = quoteLifetimeMs
    }

    /// How the executor recycles these quotes.
    public var refresh: QuoteRefresh {
        QuoteRefresh(toleranceBps: refreshToleranceBps, maxOrderAgeMs: maxOrderAgeMs, allowModify: allowModify)
    }

    /// A week: longer times are surely a unit mistake, and nanoseconds must not overflow.
    static let longestMs = 7 * 24 * 3_600_000

    /// Every problem at once, each naming the setting and its value.
    public func validate() throws(StrategyConfigError) {
        var problems: [String] = []
        func finite(_ value: Double) -> Bool { value.isFinite }
        func number(_ value: Amount) -> Bool { !value.isNaN }
        func time(_ name: String, _ value: Int, zeroAllowed: Bool) {
            let low = zeroAllowed ? 0 : 1
            if !(low...Self.longestMs).contains(value) {
                problems.append("\(name) \(value) must be in [\(low), \(Self.longestMs)] ms")
            }
        }

        if !(1...100).contains(tiers) { problems.append("tiers \(tiers) must be in [1, 100]") }
        if !(number(baseNotional) && baseNotional.isPositive) {
            problems.append("baseNotional \(baseNotional) must be positive")
        }
        if !(number(sizeDecay) && sizeDecay.isPositive && sizeDecay <= 1) {
            problems.append("sizeDecay \(sizeDecay) must be in (0, 1]")
        }
        if !(tierSpacingBps >= 0 && finite(tierSpacingBps)) {
            problems.append("tierSpacingBps \(tierSpacingBps) must not be negative")
        }
        if !(number(minimumLot) && !minimumLot.isNegative) {
            problems.append("minimumLot \(minimumLot) must not be negative")
        }
        if !(minSpreadBps > 0 && minSpreadBps <= maxSpreadBps && finite(maxSpreadBps)) {
            problems.append(
                "spread bounds must satisfy 0 < minSpreadBps (\(minSpreadBps)) ≤ maxSpreadBps (\(maxSpreadBps))")
        }
        if !(volatilityLow < volatilityHigh && finite(volatilityLow) && finite(volatilityHigh)) {
            problems.append("volatilityLow \(volatilityLow) must be below volatilityHigh \(volatilityHigh)")
        }
        if !(2...10_000).contains(volatilityBars) {
            problems.append("volatilityBars \(volatilityBars) must be in [2, 10000]")
        }
        if let interval = volatilityIntervalSeconds, interval <= 0 {
            problems.append("volatilityIntervalSeconds \(interval) must be positive")
        }
        if !(imbalanceWidening >= 0 && finite(imbalanceWidening)) {
            problems.append("imbalanceWidening \(imbalanceWidening) must not be negative")
        }
        if !(maxSideWidening >= 1 && finite(maxSideWidening)) {
            problems.append("maxSideWidening \(maxSideWidening) must be at least 1")
        }
        if adverseSelection.windowNanos <= 0 { problems.append("adverseSelection.windowNanos must be positive") }
        if !(adverseSelection.thresholdBps >= 0 && finite(adverseSelection.thresholdBps)) {
            problems.append("adverseSelection.thresholdBps must not be negative")
        }
        if !(adverseSelection.wideningFactor >= 1 && finite(adverseSelection.wideningFactor)) {
            problems.append("adverseSelection.wideningFactor must be at least 1")
        }
        if adverseSelection.halfLifeNanos <= 0 { problems.append("adverseSelection.halfLifeNanos must be positive") }
        if !number(inventoryTargetNotional) { problems.append("inventoryTargetNotional is not a number") }
        if !(number(maxInventoryNotional) && maxInventoryNotional.isPositive) {
            problems.append("maxInventoryNotional \(maxInventoryNotional) must be positive")
        }
        if number(maxInventoryNotional), maxInventoryNotional.isPositive, number(baseNotional),
            baseNotional > maxInventoryNotional
        {
            problems.append(
                "baseNotional \(baseNotional) exceeds maxInventoryNotional \(maxInventoryNotional): "
                    + "not even tier 0 fits the inventory range")
        }
        if !(inventorySkewBps >= 0 && inventorySkewBps < 10_000) {
            problems.append("inventorySkewBps \(inventorySkewBps) must be in [0, 10000)")
        }
        if !(inventorySizeShrink >= 0 && inventorySizeShrink <= 1) {
            problems.append("inventorySizeShrink \(inventorySizeShrink) must be in [0, 1]")
        }
        if !(refreshToleranceBps >= 0 && finite(refreshToleranceBps)) {
            problems.append("refreshToleranceBps \(refreshToleranceBps) must not be negative")
        }
        time("maxOrderAgeMs", maxOrderAgeMs, zeroAllowed: true)
        time("filledOrderDelayMs", filledOrderDelayMs, zeroAllowed: true)
        if !(1...100).contains(microLevels) { problems.append("microLevels \(microLevels) must be in [1, 100]") }
        if !(1...100).contains(minBookLevels) {
            problems.append("minBookLevels \(minBookLevels) must be in [1, 100]")
        }
        if !(number(minDepthNotional) && !minDepthNotional.isNegative) {
            problems.append("minDepthNotional \(minDepthNotional) must not be negative")
        }
        time("staleBookMs", staleBookMs, zeroAllowed: false)
        if !(priceBandBps > 0 && finite(priceBandBps)) {
            problems.append("priceBandBps \(priceBandBps) must be positive")
        }
        if let priceCeiling, !(number(priceCeiling) && priceCeiling.isPositive) {
            problems.append("priceCeiling \(priceCeiling) must be positive")
        }
        if let priceFloor, !(number(priceFloor) && priceFloor.isPositive) {
            problems.append("priceFloor \(priceFloor) must be positive")
        }
        if let priceCeiling, let priceFloor, number(priceCeiling), number(priceFloor), priceFloor > priceCeiling {
            problems.append("priceFloor \(priceFloor) is above priceCeiling \(priceCeiling)")
        }
        time("keepaliveMs", keepaliveMs, zeroAllowed: false)
        time("quoteLifetimeMs", quoteLifetimeMs, zeroAllowed: false)
        if quoteLifetimeMs <= keepaliveMs {
            problems.append(
                "quoteLifetimeMs \(quoteLifetimeMs) must exceed keepaliveMs \(keepaliveMs), "
                    + "or quotes expire before the next keepalive")
        }
        try StrategyConfigError.check(problems)
    }
}
