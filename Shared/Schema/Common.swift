import Foundation

/// Buy or sell, from the order's point of view.
public enum Side: String, Codable, Sendable, Hashable, CaseIterable {
    case buy, sell

    public var opposite: Side { self == .buy ? .sell : .buy }
    /// +1 for a buy, −1 for a sell: the sign a fill gives to a position.
    public var sign: Int { self == .buy ? 1 : -1 }
}

/// Why an order exists: to open or add exposure, or to shrink it.
/// A market maker's quote is an `entry` (it may also shrink a position) marked by its `quoteTier`.
public enum OrderPurpose: String, Codable, Sendable, Hashable {
    case entry, exit
}

/// Which exchange the system trades on (DESIGN.md, "Modes"). The same client code runs in all three.
public enum TradingMode: String, Codable, Sendable, CaseIterable {
    /// exchange-sim on loopback.
    case paper
    case testnet
    case mainnet
}

public enum OrderType: String, Codable, Sendable, Hashable {
    case market, limit
}

public enum TimeInForce: String, Codable, Sendable, Hashable {
    /// Good till cancelled.
    case gtc
    /// Immediate or cancel.
    case ioc
    /// Add liquidity only (post-only).
    case alo
}

/// A machine-readable reason. An open set: a decoder keeps codes it does not know.
public struct ReasonCode: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
    public var description: String { rawValue }
}

extension ReasonCode {
    // Signal evaluation
    public static let approved: ReasonCode = "approved"
    public static let warmingUp: ReasonCode = "warming_up"
    public static let belowThreshold: ReasonCode = "below_threshold"
    public static let alreadyPositioned: ReasonCode = "already_positioned"
    public static let cooldown: ReasonCode = "cooldown"
    public static let regimeMismatch: ReasonCode = "regime_mismatch"
    public static let duplicate: ReasonCode = "duplicate"
    public static let staleData: ReasonCode = "stale_data"
    public static let tradingHalted: ReasonCode = "trading_halted"
    /// The view's confidence, after recall's multiplier, is below `signal.minConfidence`.
    public static let lowConfidence: ReasonCode = "low_confidence"
    /// The symbol's model is older than `model.maxAgeHours`: no entries until a newer one loads.
    public static let modelExpired: ReasonCode = "model_expired"
    /// No valid model is loaded for the symbol.
    public static let modelMissing: ReasonCode = "model_missing"
    // Risk
    public static let withinLimits: ReasonCode = "within_limits"
    public static let maxOpenPositions: ReasonCode = "max_open_positions"
    public static let maxOrderNotional: ReasonCode = "max_order_notional"
    public static let killSwitch: ReasonCode = "kill_switch"
    public static let stateSyncing: ReasonCode = "state_syncing"
    public static let stateReducing: ReasonCode = "state_reducing"
    public static let stateHalted: ReasonCode = "state_halted"
    public static let intentExpired: ReasonCode = "intent_expired"
    public static let duplicateIntent: ReasonCode = "duplicate_intent"
    public static let invalidIntent: ReasonCode = "invalid_intent"
    public static let noMarketPrice: ReasonCode = "no_market_price"
    /// A trigger order whose trigger the market is already through.
    public static let invalidTrigger: ReasonCode = "invalid_trigger"
    /// The risk gate could not save its memory: HALTED until it can and an operator resumes.
    public static let riskStateWriteFailed: ReasonCode = "risk_state_write_failed"
    /// The risk gate's saved memory does not read back: held in SYNCING.
    public static let riskStateUnreadable: ReasonCode = "risk_state_unreadable"
    /// The risk gate restored its memory after a restart.
    public static let riskStateRestored: ReasonCode = "risk_state_restored"
    /// An operator restarted the equity peak at current equity.
    public static let equityPeakRebased: ReasonCode = "equity_peak_rebased"
    /// An operator closed every position.
    public static let flattened: ReasonCode = "flattened"
    // Execution
    public static let venueRejected: ReasonCode = "venue_rejected"
    public static let ledgerWriteFailed: ReasonCode = "ledger_write_failed"
    /// The exchange cannot be reached (breaker open, timeout, 5xx): an order not placed, or the
    /// risk gate's reason for REDUCING.
    public static let venueUnavailable: ReasonCode = "venue_unavailable"
    /// The exchange ended the order: an IOC remainder, the dead man's switch, found at reconciliation.
    public static let canceledByVenue: ReasonCode = "canceled_by_venue"
    // Quoting (strategy, risk gate, executor)
    /// The book is too thin, crossed, stale or has a gap: no quotes on that symbol until it is sound.
    public static let bookUnsound: ReasonCode = "book_unsound"
    /// A quote outside the configured price band around the reference was dropped.
    public static let priceBand: ReasonCode = "price_band"
    /// A side waits after a fill before quoting again (`filledOrderDelay`).
    public static let filledOrderDelay: ReasonCode = "filled_order_delay"
    /// The quotes' target expired without a newer one: the strategy stopped talking.
    public static let quotesExpired: ReasonCode = "quotes_expired"
    /// The risk gate removed or shrank quotes to keep inventory within its limit.
    public static let maxInventory: ReasonCode = "max_inventory"
    /// A post-only order would have crossed the book: repriced on the next update, not an error.
    public static let aloRejected: ReasonCode = "alo_rejected"
    /// Requests are paced to stay inside the exchange's address and IP limits.
    public static let requestBudget: ReasonCode = "request_budget"
    /// Refreshes slowed after rejects or a rate-limit warning.
    public static let refreshSlowed: ReasonCode = "refresh_slowed"
}

/// A reason code with the numbers behind it, for a human reading the trace.
public struct Reason: Codable, Sendable, Hashable, CustomStringConvertible {
    public var code: ReasonCode
    public var detail: String

    public init(_ code: ReasonCode, _ detail: String = "") {
        self.code = code
        self.detail = detail
    }

    public var description: String { detail.isEmpty ? code.rawValue : "\(code.rawValue): \(detail)" }
}

/// Nanoseconds since the Unix epoch: every timestamp on the bus.
public typealias EpochNanos = Int64
