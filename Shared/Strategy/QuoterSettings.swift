import Foundation
import Schema

/// When fills are followed by an adverse move of the mid, widen the side that was
/// filled; the widening then decays.
public struct AdverseSelectionSettings: Sendable, Equatable, Codable {
    /// A move counts only this long after the fill.
    public var windowNanos: Int64
    /// The adverse move of the mid from the fill price, in basis points, that counts:
    /// for a buy fill the mid falling this far below the fill price, for a sell fill
    /// rising this far above it.
    public var thresholdBps: Double
    /// The filled side's half-spread multiplier right after a detection (≥ 1).
    public var wideningFactor: Double
    /// The excess over 1 halves every this long.
    public var halfLifeNanos: Int64

    public init(
        windowNanos: Int64 = 5_000_000_000, thresholdBps: Double = 5, wideningFactor: Double = 2,
        halfLifeNanos: Int64 = 30_000_000_000
    ) {
        self.windowNanos = windowNanos
        self.thresholdBps = thresholdBps
        self.wideningFactor = wideningFactor
        self.halfLifeNanos = halfLifeNanos
    }
}

/// Everything the `Quoter` is told. Spreads and distances are in basis points of the
/// reference price; volatility is in whatever unit `volatilityLow`/`volatilityHigh` use
/// (e.g. `RealisedVolatility` per bar).
public struct QuoterSettings: Sendable, Equatable {
    /// How a tier's size base × decay^i is put on the instrument's size grid.
    public enum SizeRounding: String, Sendable, Codable, Hashable {
        /// To the nearest, halves up (`.plain`): 0.1365076… → 0.137 at 3 decimals.
        case nearest
        /// Towards zero: 0.1365076… → 0.136.
        case down

        var mode: NSDecimalNumber.RoundingMode {
            switch self {
            case .nearest: .plain
            case .down: .down
            }
        }
    }

    // Ladder
    /// N: tiers quoted on each side.
    public var tiersPerSide: Int
    /// Size of tier 0 (the one nearest the mid), in the base asset.
    public var baseSize: Amount
    /// Tier i is baseSize × sizeDecay^i; 0 < decay ≤ 1.
    public var sizeDecay: Amount
    /// Tiers whose (rounded) size is below this are not quoted.
    public var minimumLot: Amount
    public var tierSizeRounding: SizeRounding
    /// Distance between consecutive tiers.
    public var tierSpacingBps: Double

    // Spread (bid to ask, before widening)
    /// spread = min · (max/min)^t, t = clamp((vol − volLow) / (volHigh − volLow), 0, 1).
    public var minSpreadBps: Double
    public var maxSpreadBps: Double
    public var volatilityLow: Double
    public var volatilityHigh: Double

    // Widening of one side's half-spread
    /// The pressured side's half-spread × (1 + this × |imbalance|): a bid-heavy book
    /// (imbalance > 0) widens the asks, an offer-heavy one the bids.
    public var imbalanceWidening: Double
    /// Cap on a side's combined (imbalance × adverse selection) widening factor.
    public var maxSideWidening: Double
    public var adverseSelection: AdverseSelectionSettings

    // Inventory
    /// |inventory| at which the inventory-increasing side stops quoting; no side ever
    /// rests more size than would take inventory past ± this.
    public var maxInventory: Amount
    /// Both sides shift against the inventory by this × inventory / maxInventory.
    public var inventorySkewBps: Double
    /// The inventory-increasing side's sizes × (1 − this × |inventory| / maxInventory).
    public var inventorySizeShrink: Double

    public init(
        tiersPerSide: Int = 5, baseSize: Amount, sizeDecay: Amount = "0.9", minimumLot: Amount,
        tierSizeRounding: SizeRounding = .nearest, tierSpacingBps: Double = 2,
        minSpreadBps: Double = 4, maxSpreadBps: Double = 40, volatilityLow: Double = 0.0005,
        volatilityHigh: Double = 0.003, imbalanceWidening: Double = 1, maxSideWidening: Double = 3,
        adverseSelection: AdverseSelectionSettings = AdverseSelectionSettings(), maxInventory: Amount,
        inventorySkewBps: Double = 10, inventorySizeShrink: Double = 1
    ) {
        self.tiersPerSide = tiersPerSide
        self.baseSize = baseSize
        self.sizeDecay = sizeDecay
        self.minimumLot = minimumLot
        self.tierSizeRounding = tierSizeRounding
        self.tierSpacingBps = tierSpacingBps
        self.minSpreadBps = minSpreadBps
        self.maxSpreadBps = maxSpreadBps
        self.volatilityLow = volatilityLow
        self.volatilityHigh = volatilityHigh
        self.imbalanceWidening = imbalanceWidening
        self.maxSideWidening = maxSideWidening
        self.adverseSelection = adverseSelection
        self.maxInventory = maxInventory
        self.inventorySkewBps = inventorySkewBps
        self.inventorySizeShrink = inventorySizeShrink
    }

    public func validate() throws(StrategyConfigError) {
        var problems: [String] = []
        if tiersPerSide < 1 { problems.append("tiersPerSide \(tiersPerSide) must be at least 1") }
        if !baseSize.isPositive { problems.append("baseSize \(baseSize) must be positive") }
        if !(sizeDecay.isPositive && sizeDecay <= 1) { problems.append("sizeDecay \(sizeDecay) must be in (0, 1]") }
        if minimumLot.isNegative { problems.append("minimumLot \(minimumLot) must not be negative") }
        if minimumLot > baseSize { problems.append("minimumLot \(minimumLot) exceeds baseSize \(baseSize)") }
        if !(tierSpacingBps >= 0 && tierSpacingBps.isFinite) {
            problems.append("tierSpacingBps \(tierSpacingBps) must not be negative")
        }
        if !(minSpreadBps > 0 && minSpreadBps <= maxSpreadBps && maxSpreadBps.isFinite) {
            problems.append(
                "spread bounds must satisfy 0 < minSpreadBps (\(minSpreadBps)) ≤ maxSpreadBps (\(maxSpreadBps))")
        }
        if !(volatilityLow < volatilityHigh && volatilityLow.isFinite && volatilityHigh.isFinite) {
            problems.append("volatilityLow \(volatilityLow) must be below volatilityHigh \(volatilityHigh)")
        }
        if !(imbalanceWidening >= 0 && imbalanceWidening.isFinite) {
            problems.append("imbalanceWidening \(imbalanceWidening) must not be negative")
        }
        if !(maxSideWidening >= 1 && maxSideWidening.isFinite) {
            problems.append("maxSideWidening \(maxSideWidening) must be at least 1")
        }
        if adverseSelection.windowNanos <= 0 { problems.append("adverseSelection.windowNanos must be positive") }
        if !(adverseSelection.thresholdBps >= 0 && adverseSelection.thresholdBps.isFinite) {
            problems.append("adverseSelection.thresholdBps must not be negative")
        }
        if !(adverseSelection.wideningFactor >= 1 && adverseSelection.wideningFactor.isFinite) {
            problems.append("adverseSelection.wideningFactor must be at least 1")
        }
        if adverseSelection.halfLifeNanos <= 0 { problems.append("adverseSelection.halfLifeNanos must be positive") }
        if !maxInventory.isPositive { problems.append("maxInventory \(maxInventory) must be positive") }
        if !(inventorySkewBps >= 0 && inventorySkewBps < 10_000) {
            problems.append("inventorySkewBps \(inventorySkewBps) must be in [0, 10000)")
        }
        if !(inventorySizeShrink >= 0 && inventorySizeShrink <= 1) {
            problems.append("inventorySizeShrink \(inventorySizeShrink) must be in [0, 1]")
        }
        try StrategyConfigError.check(problems)
    }
}
