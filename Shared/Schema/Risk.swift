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
