import Foundation
import Schema

/// One readable line per message: time, source, sequence, topic, then what matters in it.
enum MessageLine {
    static func render(_ raw: RawEnvelope) -> String {
        let header = raw.header
        let time = Date(timeIntervalSince1970: Double(header.publishTime) / 1e9)
            .formatted(.iso8601.time(includingFractionalSeconds: true))
        let prefix =
            "\(time) \(header.source.padding(toLength: 16, withPad: " ", startingAt: 0)) #\(header.sequence) \(raw.topic)"
        return "\(prefix)  \(summary(raw)) trace=\(header.traceId.prefix(8))"
    }

    static func summary(_ raw: RawEnvelope) -> String {
        do {
            switch raw.messageType {
            case .bar:
                let bar = try raw.decode(Bar.self)
                return "o=\(bar.open) h=\(bar.high) l=\(bar.low) c=\(bar.close) v=\(bar.volume)"
            case .book:
                let book = try raw.decode(BookUpdate.self)
                let bid = book.bids.first.map { "\($0.size)@\($0.price)" } ?? "-"
                let ask = book.asks.first.map { "\($0.size)@\($0.price)" } ?? "-"
                return "bid \(bid) ask \(ask)"
            case .trade:
                let trade = try raw.decode(Trade.self)
                return "\(trade.side.rawValue) \(trade.size)@\(trade.price)"
            case .feedStatus:
                let status = try raw.decode(FeedStatus.self)
                return "\(status.state.rawValue) \(status.source) \(status.detail)"
            case .signal:
                let signal = try raw.decode(Signal.self)
                return "\(signal.strategy) \(signal.direction.rawValue) \(signal.decision.rawValue) [\(signal.reasons.map(\.description).joined(separator: "; "))]"
            case .orderIntent:
                let intent = try raw.decode(OrderIntent.self)
                return "\(intent.purpose.rawValue) \(intent.side.rawValue) \(intent.size) \(intent.orderType.rawValue)@\(intent.price) intent=\(intent.intentId.prefix(8))"
            case .quoteTarget:
                let target = try raw.decode(QuoteTarget.self)
                return "\(target.strategy) \(target.bids.count) bids \(target.asks.count) asks inv=\(target.inventory) target=\(target.targetId.prefix(8)) [\(target.reasons.map(\.description).joined(separator: "; "))]"
            case .approvedQuotes:
                let approved = try raw.decode(ApprovedQuotes.self)
                return "\(approved.tradingState.rawValue) \(approved.quotes.count) quotes, \(approved.clipped.count) clipped target=\(approved.targetId.prefix(8)) [\(approved.reasons.map(\.description).joined(separator: "; "))]"
            case .quoteReport:
                let report = try raw.decode(QuoteReport.self)
                return "resting \(report.restingBids)/\(report.restingAsks) kept=\(report.kept) modified=\(report.modified) placed=\(report.placed) canceled=\(report.canceled) alo=\(report.aloRejected) failed=\(report.failed) deferred=\(report.deferred)"
            case .riskDecision:
                let decision = try raw.decode(RiskDecision.self)
                return "\(decision.outcome.rawValue) \(decision.approvedSize)/\(decision.requestedSize) [\(decision.reasons.map(\.description).joined(separator: "; "))]"
            case .riskState:
                let state = try raw.decode(RiskStateChange.self)
                return "\(state.previous.rawValue) → \(state.state.rawValue) [\(state.reasons.map(\.description).joined(separator: "; "))]"
            case .portfolioRisk:
                let report = try raw.decode(PortfolioRiskReport.self)
                let exposures = report.exposures.map { "\($0.symbol) \($0.notional)" }.joined(separator: ", ")
                let basis = report.basis == .historical ? "\(report.scenarios) scenarios"
                    : "insufficient_history \(report.scenarios)/\(report.requiredScenarios)"
                return "VaR=\(report.valueAtRisk) ES=\(report.expectedShortfall) (\(basis)) gross=\(report.grossExposure) [\(exposures)] worst stress \(report.worstStress ?? "-") \(report.worstStressLoss) backtest \(report.backtestExceptions)/\(report.backtestDays) \(report.backtestZone?.rawValue ?? "-")"
            case .orderCommand:
                let order = try raw.decode(OrderCommand.self)
                return "\(order.action.rawValue) \(order.side.rawValue) \(order.size)@\(order.price) \(order.timeInForce.rawValue) cloid=\(order.clientOrderId)"
            case .orderAck:
                let ack = try raw.decode(OrderAck.self)
                return "ack \(ack.action.rawValue) cloid=\(ack.clientOrderId) venue=\(ack.venueOrderId)"
            case .orderReject:
                let reject = try raw.decode(OrderReject.self)
                return "reject cloid=\(reject.clientOrderId) \(reject.reason)"
            case .fill:
                let fill = try raw.decode(Fill.self)
                return "\(fill.side.rawValue) \(fill.size)@\(fill.price) fee=\(fill.fee) cloid=\(fill.clientOrderId)"
            case .orderCanceled:
                let cancel = try raw.decode(OrderCanceled.self)
                return "canceled cloid=\(cancel.clientOrderId) \(cancel.reason)"
            case .accountSnapshot:
                let account = try raw.decode(AccountSnapshot.self)
                let positions = account.positions.map { "\($0.symbol) \($0.size)" }.joined(separator: ", ")
                return "equity=\(account.equity) realised=\(account.realizedPnl) fees=\(account.fees) positions=[\(positions)]"
            case .funding:
                let funding = try raw.decode(FundingSettlement.self)
                return "funding \(funding.amount) on \(funding.positionSize) at rate \(funding.rate) id=\(funding.fundingId)"
            case .heartbeat:
                let beat = try raw.decode(Heartbeat.self)
                let breakers = beat.breakers.map { "\($0.dependency)=\($0.state.rawValue)" }.joined(separator: ",")
                return "\(beat.health.rawValue) up=\(beat.uptimeMs / 1000)s\(breakers.isEmpty ? "" : " breakers: \(breakers)")"
            case .breakerTransition:
                let transition = try raw.decode(BreakerTransition.self)
                return "\(transition.dependency) \(transition.from.rawValue) → \(transition.to.rawValue) \(transition.reason)"
            case .alert:
                let alert = try raw.decode(Alert.self)
                return "\(alert.severity.rawValue) \(alert.code): \(alert.message)"
            case nil:
                return "(type \(raw.header.type) unknown to this build)"
            }
        } catch {
            return "(undecodable body: \(error))"
        }
    }
}
