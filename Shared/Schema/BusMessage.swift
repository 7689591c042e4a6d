/// A message body that travels on the bus inside an envelope.
public protocol BusMessage: Codable, Sendable, Equatable {
    /// The envelope's `type`: one per Swift type, and one JSON Schema in `proto/` each.
    static var messageType: MessageType { get }
    /// The topic frame; subscribers filter on its prefix.
    var topic: String { get }
    /// The instrument it concerns, indexed by the trace recorder.
    var symbol: String? { get }
}

extension BusMessage {
    public var symbol: String? { nil }
}

/// Every message type of schema major version 1.
public enum MessageType: String, Codable, Sendable, CaseIterable {
    case book = "md.book"
    case trade = "md.trade"
    case bar = "md.bar"
    case feedStatus = "md.status"
    case signal = "sig.signal"
    case orderIntent = "intent.order"
    case quoteTarget = "intent.quotes"
    case riskDecision = "risk.decision"
    case riskState = "risk.state"
    case portfolioRisk = "risk.portfolio"
    case orderCommand = "order.command"
    case approvedQuotes = "order.quotes"
    case orderAck = "exec.ack"
    case orderReject = "exec.reject"
    case fill = "exec.fill"
    case orderCanceled = "exec.cancel"
    case quoteReport = "exec.quotes"
    case accountSnapshot = "acct.snapshot"
    case funding = "acct.funding"
    case heartbeat = "svc.hb"
    case breakerTransition = "svc.breaker"
    case alert = "alert"

    /// The Swift type carrying this message's body.
    public var bodyType: any BusMessage.Type {
        switch self {
        case .book: BookUpdate.self
        case .trade: Trade.self
        case .bar: Bar.self
        case .feedStatus: FeedStatus.self
        case .signal: Signal.self
        case .orderIntent: OrderIntent.self
        case .quoteTarget: QuoteTarget.self
        case .riskDecision: RiskDecision.self
        case .riskState: RiskStateChange.self
        case .portfolioRisk: PortfolioRiskReport.self
        case .orderCommand: OrderCommand.self
        case .approvedQuotes: ApprovedQuotes.self
        case .orderAck: OrderAck.self
        case .orderReject: OrderReject.self
        case .fill: Fill.self
        case .orderCanceled: OrderCanceled.self
        case .quoteReport: QuoteReport.self
        case .accountSnapshot: AccountSnapshot.self
        case .funding: FundingSettlement.self
        case .heartbeat: Heartbeat.self
        case .breakerTransition: BreakerTransition.self
        case .alert: Alert.self
        }
    }
}

/// Topics are dot-separated so that prefix subscription selects families: `md.`, `md.bar.`, `exec.fill`.
public enum Topic {
    public static func join(_ parts: String...) -> String { parts.joined(separator: ".") }
}
