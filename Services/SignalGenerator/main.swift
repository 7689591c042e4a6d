import Bus
import Foundation
import Logging
import Market
import Metrics
import Schema
import ServiceKit
import ServiceLifecycle
import Strategy
import Synchronization

struct SignalConfig: Sendable {
    var instrument: Instrument
    var presets: [StrategyPreset]
    /// Replaces the RSI presets' parameters when any `signal.rsi.*` key is set.
    var rsi: RsiMeanReversion.Parameters?
    var tradeNotional: Amount
    var intentLifetimeMs: Int
    var cooldownBars: Int
    var regimeSelection: Bool

    static func read(_ settings: inout Settings) -> SignalConfig {
        let symbol = settings.string("feed.symbol", default: "BTC")
        var presets: [StrategyPreset] = []
        for name in settings.string("signal.strategies", default: "rsi_standard").split(separator: ",") {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            if let preset = StrategyPreset(rawValue: trimmed) {
                presets.append(preset)
            } else {
                let known = StrategyPreset.allCases.map(\.rawValue).joined(separator: ", ")
                settings.problem("signal.strategies: unknown strategy \"\(trimmed)\" (known: \(known))")
            }
        }
        if presets.isEmpty { settings.problem("signal.strategies: name at least one strategy") }
        var rsi: RsiMeanReversion.Parameters?
        let standard = RsiMeanReversion.Parameters.standard
        let period = settings.int("signal.rsi.period", default: standard.period, in: 2...500)
        let oversold = settings.double("signal.rsi.oversold", default: standard.oversold, in: 0...100)
        let overbought = settings.double("signal.rsi.overbought", default: standard.overbought, in: 0...100)
        if (period, oversold, overbought) != (standard.period, standard.oversold, standard.overbought) {
            if oversold >= overbought { settings.problem("signal.rsi.oversold must be below signal.rsi.overbought") }
            rsi = .init(period: period, oversold: oversold, overbought: overbought)
        }
        return SignalConfig(
            instrument: Instrument(
                symbol: symbol, szDecimals: settings.int("feed.szDecimals", default: 5, in: 0...8),
                minOrderValue: settings.amount("signal.minOrderValue", default: 10)),
            presets: presets, rsi: rsi,
            tradeNotional: settings.amount("signal.tradeNotional", default: 1_000, minimum: 1),
            intentLifetimeMs: settings.int("signal.intentLifetimeMs", default: 5_000, in: 100...600_000),
            cooldownBars: settings.int("signal.cooldownBars", default: 0, in: 0...10_000),
            regimeSelection: settings.bool("signal.regimeSelection", default: false))
    }

    func makeDesk() -> StrategyDesk {
        let strategies: [any BarStrategy] = presets.map { preset in
            if let rsi, preset.style == .meanReversion {
                return RsiMeanReversion(name: "\(preset.rawValue)_custom", parameters: rsi)
            }
            return preset.makeStrategy()
        }
        return StrategyDesk(
            strategies: strategies,
            settings: .init(
                instrument: instrument, tradeNotional: tradeNotional,
                intentLifetimeNanos: Int64(intentLifetimeMs) * 1_000_000, cooldownBars: cooldownBars,
                regimeSelection: regimeSelection ? .standard(classifier: RegimeConfig()) : nil))
    }
}

/// The desk behind a lock: the bus loop and `/status` share it.
final class SharedDesk: Sendable {
    private let state: Mutex<StrategyDesk>
    init(_ desk: StrategyDesk) { state = Mutex(desk) }
    func withLock<T>(_ body: (inout StrategyDesk) throws -> T) rethrows -> T { try state.withLock { try body(&$0) } }
}

await ServiceMain.run(.signalGenerator, readConfig: SignalConfig.read) { runtime, config in
    let desk = SharedDesk(config.makeDesk())
    let evaluated = Counter(label: "breakwater_signals_total", factory: runtime.metrics)
    let approved = Counter(label: "breakwater_signals_approved_total", factory: runtime.metrics)
    let tally = Mutex((signals: 0, approved: 0))
    runtime.status.setFact("strategies", desk.withLock { $0.strategyNames.joined(separator: ",") })
    runtime.status.addDetail("signals") {
        let counts = tally.withLock { $0 }
        let (position, regime) = desk.withLock { ($0.intendedPosition, $0.regime?.regime.rawValue) }
        return [
            "evaluated": counts.signals, "approved": counts.approved, "intendedPosition": position.description,
            "regime": regime ?? "n/a",
        ]
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
                let output = desk.withLock {
                    $0.onBar(bar, now: runtime.clock.now(), newIdentifier: runtime.newIdentifier)
                }
                // The bar's trace follows each decision all the way to the fill.
                for evaluation in output.evaluations {
                    runtime.publish(evaluation.signal, traceId: raw.header.traceId)
                    evaluated.increment()
                    if let intent = evaluation.intent {
                        runtime.publish(intent, traceId: raw.header.traceId)
                        approved.increment()
                    }
                }
                tally.withLock {
                    $0.signals += output.evaluations.count
                    $0.approved += output.intents.count
                }
            case .riskDecision:
                let decision = try raw.decode(RiskDecision.self)
                desk.withLock { $0.onDecision(decision) }
            case .riskState:
                let change = try raw.decode(RiskStateChange.self)
                desk.withLock { $0.onTradingState(change.state) }
                runtime.status.setFact("tradingState", change.state.rawValue)
            case .feedStatus:
                let status = try raw.decode(FeedStatus.self)
                desk.withLock { $0.onFeedStatus(status) }
            default:
                continue
            }
        } catch {
            runtime.logger.warning(
                "skipped a message that does not decode", metadata: ["type": "\(raw.header.type)", "error": "\(error)"])
        }
    }
}
