import Schema

/// The risk book's answer to one intent: the decision to publish, the order it became
/// (if any) and any trading-state transitions this step caused.
public struct RiskVerdict: Sendable, Equatable {
    /// Always present, with reason codes and the numbers behind them in `detail`.
    public var decision: RiskDecision
    /// Present iff the decision is approved or resized.
    public var order: OrderCommand?
    /// Transitions caused by this step; usually empty.
    public var stateChanges: [RiskStateChange]

    public init(decision: RiskDecision, order: OrderCommand?, stateChanges: [RiskStateChange]) {
        self.decision = decision
        self.order = order
        self.stateChanges = stateChanges
    }

    /// The first reason's code: the rule that decided.
    public var code: ReasonCode? { decision.reasons.first?.code }
}

/// What an operator's `resume` achieved.
public enum ResumeOutcome: Sendable, Equatable {
    /// HALTED was left; the transition to publish.
    case resumed(RiskStateChange)
    /// A cause of the halt persists; still HALTED.
    case refused([Reason])
    /// There was nothing to resume from.
    case notHalted(TradingState)
}
