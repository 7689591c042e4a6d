import Schema

/// Every pre-trade limit and every threshold of the trading state machine, in one value
/// the risk gate loads from config and validates at start.
public struct RiskLimits: Codable, Sendable, Equatable {
    /// Symbols with a position plus flat symbols with a reserved entry order.
    public var maxOpenPositions: Int
    /// Per order, at the worse of its price and the mark.
    public var maxOrderNotional: Amount
    /// Per symbol: the position at the mark plus its reserved orders, worst case.
    public var maxSymbolNotional: Amount
    /// Σ of the per-symbol exposures.
    public var maxGrossExposure: Amount
    /// One direction (long or short) may use at most this share of `maxGrossExposure`, 0.5…1.
    /// Measured against the gross limit, not the current gross, so a flat book can open its first trade.
    public var maxDirectionShare: Double
    /// Loss (realised + unrealised) since the UTC day's start equity at which trading halts.
    public var dailyLossLimit: Amount
    /// Fraction below peak equity at which trading halts (0.08 = 8 %).
    public var drawdownLock: Double
    /// Fraction below peak equity at which only reducing orders pass; below `drawdownLock`.
    public var reduceAtDrawdown: Double
    /// A market maker's position (at the mark) at which quotes that would grow it are removed.
    public var maxQuoteInventory: Amount
    /// Entry orders in any sliding 60 s window.
    public var maxOrdersPerMinute: Int
    /// An order must be acked or rejected within this time of its approval.
    public var ackTimeoutNanos: Int64
    /// How long the venue may be unavailable (REDUCING) before trading halts.
    public var venueOutageGraceNanos: Int64
    /// A snapshot older than this (at arrival) does not end SYNCING.
    public var snapshotMaxAgeNanos: Int64
    /// How long decided intent ids and closed order ids are remembered, to refuse repeats.
    public var intentMemoryNanos: Int64

    public init(
        maxOpenPositions: Int = 8,
        maxOrderNotional: Amount = 1_000,
        maxSymbolNotional: Amount = 2_500,
        maxGrossExposure: Amount = 10_000,
        maxDirectionShare: Double = 0.75,
        dailyLossLimit: Amount = 500,
        drawdownLock: Double = 0.08,
        reduceAtDrawdown: Double = 0.05,
        maxOrdersPerMinute: Int = 30,
        maxQuoteInventory: Amount = 1_000,
        ackTimeoutNanos: Int64 = 5 * Nanos.second,
        venueOutageGraceNanos: Int64 = Nanos.minute,
        snapshotMaxAgeNanos: Int64 = 10 * Nanos.second,
        intentMemoryNanos: Int64 = Nanos.hour
    ) {
        self.maxOpenPositions = maxOpenPositions
        self.maxOrderNotional = maxOrderNotional
        self.maxSymbolNotional = maxSymbolNotional
        self.maxGrossExposure = maxGrossExposure
        self.maxDirectionShare = maxDirectionShare
        self.dailyLossLimit = dailyLossLimit
        self.drawdownLock = drawdownLock
        self.reduceAtDrawdown = reduceAtDrawdown
        self.maxOrdersPerMinute = maxOrdersPerMinute
        self.maxQuoteInventory = maxQuoteInventory
        self.ackTimeoutNanos = ackTimeoutNanos
        self.venueOutageGraceNanos = venueOutageGraceNanos
        self.snapshotMaxAgeNanos = snapshotMaxAgeNanos
        self.intentMemoryNanos = intentMemoryNanos
    }

    /// Problems that must stop the risk gate from starting; empty when the limits are usable.
    public func validationErrors() -> [String] {
        var errors: [String] = []
        if maxOpenPositions < 1 { errors.append("maxOpenPositions \(maxOpenPositions) must be ≥ 1") }
        if !maxOrderNotional.isPositive { errors.append("maxOrderNotional \(maxOrderNotional) must be > 0") }
        if !maxSymbolNotional.isPositive { errors.append("maxSymbolNotional \(maxSymbolNotional) must be > 0") }
        if !maxGrossExposure.isPositive { errors.append("maxGrossExposure \(maxGrossExposure) must be > 0") }
        if !(0.5...1).contains(maxDirectionShare) {
            errors.append("maxDirectionShare \(maxDirectionShare) must be within 0.5…1")
        }
        if !dailyLossLimit.isPositive { errors.append("dailyLossLimit \(dailyLossLimit) must be > 0") }
        if !(drawdownLock > 0 && drawdownLock <= 1) { errors.append("drawdownLock \(drawdownLock) must be within (0, 1]") }
        if !(reduceAtDrawdown > 0 && reduceAtDrawdown < drawdownLock) {
            errors.append("reduceAtDrawdown \(reduceAtDrawdown) must be > 0 and below drawdownLock \(drawdownLock)")
        }
        if maxOrdersPerMinute < 1 { errors.append("maxOrdersPerMinute \(maxOrdersPerMinute) must be ≥ 1") }
        if !maxQuoteInventory.isPositive { errors.append("maxQuoteInventory \(maxQuoteInventory) must be > 0") }
        if ackTimeoutNanos <= 0 { errors.append("ackTimeoutNanos must be > 0") }
        if venueOutageGraceNanos < 0 { errors.append("venueOutageGraceNanos must be ≥ 0") }
        if snapshotMaxAgeNanos <= 0 { errors.append("snapshotMaxAgeNanos must be > 0") }
        if intentMemoryNanos < Nanos.minute { errors.append("intentMemoryNanos must be ≥ 60 s") }
        return errors
    }

    enum CodingKeys: String, CodingKey {
        case maxOpenPositions, maxOrderNotional, maxSymbolNotional, maxGrossExposure, maxDirectionShare
        case dailyLossLimit, drawdownLock, reduceAtDrawdown, maxOrdersPerMinute, maxQuoteInventory, ackTimeoutNanos
        case venueOutageGraceNanos, snapshotMaxAgeNanos, intentMemoryNanos
    }

    /// A config file may name only the limits it changes; the rest keep their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RiskLimits()
        self.init(
            maxOpenPositions: try c.decodeIfPresent(Int.self, forKey: .maxOpenPositions) ?? d.maxOpenPositions,
            maxOrderNotional: try c.decodeIfPresent(Amount.self, forKey: .maxOrderNotional) ?? d.maxOrderNotional,
            maxSymbolNotional: try c.decodeIfPresent(Amount.self, forKey: .maxSymbolNotional) ?? d.maxSymbolNotional,
            maxGrossExposure: try c.decodeIfPresent(Amount.self, forKey: .maxGrossExposure) ?? d.maxGrossExposure,
            maxDirectionShare: try c.decodeIfPresent(Double.self, forKey: .maxDirectionShare) ?? d.maxDirectionShare,
            dailyLossLimit: try c.decodeIfPresent(Amount.self, forKey: .dailyLossLimit) ?? d.dailyLossLimit,
            drawdownLock: try c.decodeIfPresent(Double.self, forKey: .drawdownLock) ?? d.drawdownLock,
            reduceAtDrawdown: try c.decodeIfPresent(Double.self, forKey: .reduceAtDrawdown) ?? d.reduceAtDrawdown,
            maxOrdersPerMinute: try c.decodeIfPresent(Int.self, forKey: .maxOrdersPerMinute) ?? d.maxOrdersPerMinute,
            maxQuoteInventory: try c.decodeIfPresent(Amount.self, forKey: .maxQuoteInventory) ?? d.maxQuoteInventory,
            ackTimeoutNanos: try c.decodeIfPresent(Int64.self, forKey: .ackTimeoutNanos) ?? d.ackTimeoutNanos,
            venueOutageGraceNanos: try c.decodeIfPresent(Int64.self, forKey: .venueOutageGraceNanos)
                ?? d.venueOutageGraceNanos,
            snapshotMaxAgeNanos: try c.decodeIfPresent(Int64.self, forKey: .snapshotMaxAgeNanos)
                ?? d.snapshotMaxAgeNanos,
            intentMemoryNanos: try c.decodeIfPresent(Int64.self, forKey: .intentMemoryNanos) ?? d.intentMemoryNanos)
    }
}

/// Durations in `EpochNanos` units.
public enum Nanos {
    public static let second: Int64 = 1_000_000_000
    public static let minute: Int64 = 60 * second
    public static let hour: Int64 = 60 * minute
    public static let day: Int64 = 24 * hour
}
