/// The risk gate's answer to one intent.
public struct RiskDecision: BusMessage {
    public enum Outcome: String, Codable, Sendable { case approved, resized, rejected }
    public static let messageType = MessageType.riskDecision
    public var intentId: String
    public var symbol: String?
    public var outcome: Outcome
    public var reasons: [Reason]
    public var requestedSize: Amount
    /// Zero when rejected.
    public var approvedSize: Amount
    /// The order the approval became; nil when rejected.
    public var clientOrderId: String?
    public var topic: String { Topic.join("risk", "decision", symbol ?? "") }

    public init(
        intentId: String, symbol: String, outcome: Outcome, reasons: [Reason], requestedSize: Amount,
        approvedSize: Amount, clientOrderId: String?
    ) {
        self.intentId = intentId
        self.symbol = symbol
        self.outcome = outcome
        self.reasons = reasons
        self.requestedSize = requestedSize
        self.approvedSize = approvedSize
        self.clientOrderId = clientOrderId
    }
}

/// The trading state of the risk gate (DESIGN.md, "Trading state").
public enum TradingState: String, Codable, Sendable, Hashable {
    /// After start, until a fresh account snapshot.
    case syncing
    case active
    /// Only orders that shrink exposure.
    case reducing
    /// New orders refused; cancels allowed.
    case halted
}

/// A transition of the trading state, or its periodic restatement.
public struct RiskStateChange: BusMessage {
    public static let messageType = MessageType.riskState
    public var state: TradingState
    public var previous: TradingState
    public var reasons: [Reason]
    public var openPositions: Int
    public var grossExposure: Amount
    public var killSwitch: Bool
    public var topic: String { "risk.state" }

    public init(
        state: TradingState, previous: TradingState, reasons: [Reason], openPositions: Int, grossExposure: Amount,
        killSwitch: Bool
    ) {
        self.state = state
        self.previous = previous
        self.reasons = reasons
        self.openPositions = openPositions
        self.grossExposure = grossExposure
        self.killSwitch = killSwitch
    }
}

/// What a VaR figure rests on.
public enum VaRBasis: String, Codable, Sendable, CaseIterable {
    /// From the joint historical returns.
    case historical
    /// Fewer scenarios than required, or a symbol without history: the configured fallback applies.
    case insufficientHistory = "insufficient_history"
}

/// The Basel traffic light of a VaR back-test: 0–4 exceptions in 250 days at 99 % green, 5–9 yellow, ≥ 10 red.
public enum VaRZone: String, Codable, Sendable, CaseIterable { case green, yellow, red }

/// One symbol's signed notional at its mark (long positive, short negative).
public struct SymbolNotional: Codable, Sendable, Equatable {
    public var symbol: String
    public var notional: Amount

    public init(symbol: String, notional: Amount) {
        self.symbol = symbol
        self.notional = notional
    }
}

/// The portfolio's VaR, expected shortfall and worst stress loss for the positions held, and the
/// back-test of the VaR model so far. Money figures are rounded to cents.
public struct PortfolioRiskReport: BusMessage {
    public static let messageType = MessageType.portfolioRisk
    /// Loss not exceeded with probability `confidence` over the horizon (positive).
    public var valueAtRisk: Amount
    /// Mean loss of the scenarios at or beyond the VaR.
    public var expectedShortfall: Amount
    public var confidence: Double
    /// The horizon in bars of the history, and one bar's length (0 before the first bar).
    public var horizonBars: Int
    public var barSeconds: Int
    public var basis: VaRBasis
    /// Scenarios used (historical) or available (insufficient history), and how many are required.
    public var scenarios: Int
    public var requiredScenarios: Int
    /// Σ |notional| of the positions at their marks.
    public var grossExposure: Amount
    /// Per symbol, sorted by symbol.
    public var exposures: [SymbolNotional]
    /// The stress scenario that loses most, and its loss (0 and absent when none loses).
    public var worstStress: String?
    public var worstStressLoss: Amount
    /// Days back-tested (at most 250), the days whose loss exceeded the VaR forecast at their start,
    /// and the traffic light (absent before 250 days).
    public var backtestDays: Int
    public var backtestExceptions: Int
    public var backtestZone: VaRZone?
    public var time: EpochNanos
    public var topic: String { "risk.portfolio" }

    public init(
        valueAtRisk: Amount, expectedShortfall: Amount, confidence: Double, horizonBars: Int, barSeconds: Int,
        basis: VaRBasis, scenarios: Int, requiredScenarios: Int, grossExposure: Amount, exposures: [SymbolNotional],
        worstStress: String?, worstStressLoss: Amount, backtestDays: Int, backtestExceptions: Int,
        backtestZone: VaRZone?, time: EpochNanos
    ) {
        self.valueAtRisk = valueAtRisk
        self.expectedShortfall = expectedShortfall
        self.confidence = confidence
        self.horizonBars = horizonBars
        self.barSeconds = barSeconds
        self.basis = basis
        self.scenarios = scenarios
        self.requiredScenarios = requiredScenarios
        self.grossExposure = grossExposure
        self.exposures = exposures
        self.worstStress = worstStress
        self.worstStressLoss = worstStressLoss
        self.backtestDays = backtestDays
        self.backtestExceptions = backtestExceptions
        self.backtestZone = backtestZone
        self.time = time
    }
}
