import Bus
import Foundation
import Logging
import Metrics
import Schema
import ServiceKit
import ServiceLifecycle
import Strategy
import Synchronization

struct SignalConfig: Sendable {
    var instrument: Instrument
    var parameters: RsiMeanReversion.Parameters
    var tradeNotional: Amount
    var intentLifetimeMs: Int

    static func read(_ settings: inout Settings) -> SignalConfig {
        let symbol = settings.string("feed.symbol", default: "BTC")
        let oversold = settings.double("signal.rsi.oversold", default: 30, in: 0...100)
        let overbought = settings.double("signal.rsi.overbought", default: 70, in: 0...100)
        if oversold >= overbought { settings.problem("signal.rsi.oversold must be below signal.rsi.overbought") }
        return SignalConfig(
            instrument: Instrument(
                symbol: symbol, szDecimals: settings.int("feed.szDecimals", default: 5, in: 0...8),
                minOrderValue: settings.amount("signal.minOrderValue", default: 10)),
            parameters: .init(
                period: settings.int("signal.rsi.period", default: 14, in: 2...500), oversold: oversold,
                overbought: overbought),
            tradeNotional: settings.amount("signal.tradeNotional", default: 1_000, minimum: 1),
            intentLifetimeMs: settings.int("signal.intentLifetimeMs", default: 5_000, in: 100...600_000))
    }
}

await ServiceMain.run(.signalGenerator, readConfig: SignalConfig.read) { runtime, config in
    let engine = Mutex(
        SignalEngine(
            strategy: RsiMeanReversion(parameters: config.parameters),
            settings: .init(
                instrument: config.instrument, tradeNotional: config.tradeNotional,
                intentLifetimeNanos: Int64(config.intentLifetimeMs) * 1_000_000)))
    let evaluated = Counter(label: "breakwater_signals_total", dimensions: [("decision", "any")], factory: runtime.metrics)
    let approved = Counter(label: "breakwater_signals_approved_total", factory: runtime.metrics)
    let tally = Mutex((signals: 0, approved: 0))
    runtime.status.addDetail("signals") {
        let counts = tally.withLock { $0 }
        let position = engine.withLock { $0.intendedPosition }
        return ["evaluated": counts.signals, "approved": counts.approved, "intendedPosition": position.description]
    }
    let stream = try runtime.subscribe(
        to: [.feedHandler, .riskGate], topics: ["md.bar.", "md.status.", "risk.decision.", "risk.state"])
    runtime.status.setReady()
    for await event in stream.cancelOnGracefulShutdown() {
        guard case .envelope(let raw) = event else { continue }
        do {
            switch raw.messageType {
            case .bar:
                let bar = try raw.decode(Bar.self)
                guard bar.symbol == config.instrument.symbol else { continue }
                let output = engine.withLock {
                    $0.onBar(
                        bar, signalId: runtime.newIdentifier(), intentId: runtime.newIdentifier(),
                        now: runtime.clock.now())
                }
                // The bar's trace follows the decision all the way to the fill.
                runtime.publish(output.signal, traceId: raw.header.traceId)
                evaluated.increment()
                if let intent = output.intent {
                    runtime.publish(intent, traceId: raw.header.traceId)
                    approved.increment()
                }
                tally.withLock {
                    $0.signals += 1
                    if output.intent != nil { $0.approved += 1 }
                }
            case .riskDecision:
                let decision = try raw.decode(RiskDecision.self)
                engine.withLock { $0.onDecision(decision) }
            case .riskState:
                let change = try raw.decode(RiskStateChange.self)
                engine.withLock { $0.onTradingState(change.state) }
                runtime.status.setFact("tradingState", change.state.rawValue)
            case .feedStatus:
                let status = try raw.decode(FeedStatus.self)
                engine.withLock { $0.onFeedStatus(status) }
            default:
                continue
            }
        } catch {
            runtime.logger.warning(
                "skipped a message that does not decode", metadata: ["type": "\(raw.header.type)", "error": "\(error)"])
        }
    }
}
