import Bus
import Foundation
import Hyperliquid
import Logging
import AsyncHTTPClient
import Market
import Recall
import Resilience
import Metrics
import Model
import Schema
import ServiceKit
import ServiceLifecycle
import Strategy
import Synchronization

/// Pattern recall: ChromaDB behind deadline → breaker → retry, with a local fallback.
struct RecallConfig: Sendable {
    var enabled: Bool
    var chromaURL: String
    var collection: String
    var k: Int
    var localCapacity: Int
    var policy: ResiliencePolicy

    static func read(_ settings: inout Settings) -> RecallConfig {
        let deadline = Duration.milliseconds(settings.int("recall.deadlineMs", default: 100, in: 1...10_000))
        let waitOpen = settings.int("recall.breaker.waitOpenMs", default: 5_000, in: 10...600_000)
        var policy = RecallService<ContinuousClock>.defaultPolicy(deadline: deadline)
        var breaker = policy.circuitBreaker
        breaker.failureRateThreshold = settings.double("recall.breaker.failureRateThreshold", default: 20, in: 1...100)
        breaker.slowCallRateThreshold = settings.double("recall.breaker.slowCallRateThreshold", default: 60, in: 1...100)
        breaker.slowCallDurationThreshold = .milliseconds(
            settings.int("recall.breaker.slowCallMs", default: 60, in: 1...60_000))
        breaker.slidingWindow = .countBased(calls: settings.int("recall.breaker.window", default: 5, in: 1...10_000))
        breaker.minimumNumberOfCalls = settings.int("recall.breaker.minimumCalls", default: 1, in: 1...10_000)
        breaker.permittedCallsInHalfOpenState = settings.int("recall.breaker.halfOpenCalls", default: 1, in: 1...1_000)
        breaker.waitInOpenState = .exponential(
            initial: .milliseconds(waitOpen), multiplier: 2,
            maximum: .milliseconds(settings.int("recall.breaker.waitOpenMaxMs", default: 120_000, in: waitOpen...3_600_000)))
        for problem in breaker.problems { settings.problem("recall.breaker: \(problem)") }
        policy.circuitBreaker = breaker
        return RecallConfig(
            enabled: settings.bool("recall.enabled", default: true),
            chromaURL: settings.string("recall.chroma.url", default: "http://127.0.0.1:8000"),
            collection: settings.string(
                "recall.chroma.collection", default: "breakwater_setups_v\(SetupFeatures.version)"),
            k: settings.int("recall.k", default: 10, in: 1...1_000),
            localCapacity: settings.int("recall.localCapacity", default: 5_000, in: 10...1_000_000),
            policy: policy)
    }
}

struct SignalConfig: Sendable {
    var recall: RecallConfig
    var symbols: [String]
    var endpoint: HyperliquidEndpoint
    /// The strategies and how they size and time intents (shared with the backtester).
    var strategies: StrategySettings

    static func read(_ settings: inout Settings) -> SignalConfig {
        let exchange = ExchangeSettings.read(&settings, needsKey: false)
        let symbols = Symbols.read(&settings)
        return SignalConfig(
            recall: RecallConfig.read(&settings), symbols: symbols,
            endpoint: HyperliquidEndpoint(mode: exchange.mode, paperURL: exchange.paperURL),
            strategies: StrategySettings.read(&settings, symbols: symbols))
    }
}

/// Features, the set-up journal and the recall service, for the bar loop.
final class RecallDesk: Sendable {
    let service: RecallService<ContinuousClock>
    let client: HTTPClient
    private let state = Mutex((trackers: [String: SetupFeatureTracker](), journal: SetupJournal()))
    let k: Int

    init(config: RecallConfig, runtime: ServiceRuntime) {
        client = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: ChromaRecallStore.makeHTTPClientConfiguration())
        let store = ChromaRecallStore(
            client: client,
            configuration: .init(baseURL: config.chromaURL, collection: config.collection),
            logger: runtime.logger)
        k = config.k
        service = RecallService(
            store: store,
            settings: .init(policy: config.policy, localCapacity: config.localCapacity),
            clock: ContinuousClock(), logger: runtime.logger, metricsFactory: runtime.metrics
        ) { transition in
            runtime.status.setBreaker(transition.name, transition.to)
            runtime.status.setDegraded(
                "recall", transition.to == .closed ? nil : "answering from the local fallback (breaker \(transition.to.rawValue))")
            runtime.publish(transition.message(service: runtime.name.rawValue), traceId: runtime.newIdentifier())
        }
        runtime.status.setBreaker(service.dependency.name, .closed)
    }

    func features(_ bar: Bar) -> [Double]? {
        guard let symbol = bar.symbol else { return nil }
        return state.withLock { $0.trackers[symbol, default: SetupFeatureTracker()].update(bar) }.map { SetupFeatures.vector($0) }
    }

    /// Asks recall about one view's set-up; the desk applies the answer before it decides.
    func note(symbol: String, direction: Direction, strategy: String, features: [Double]) async -> RecallNote {
        let answer = await service.recall(
            features: features, symbol: symbol, direction: direction, strategy: strategy, k: k)
        return RecallNote(
            source: answer.source == .chroma ? .chroma : .local, latencyMicros: answer.latency.wholeNanoseconds / 1_000,
            neighbours: answer.neighbours.count, adjustment: answer.confidenceAdjustment,
            fallbackReason: answer.fallbackReason?.rawValue)
    }

    func remember(_ signal: Signal, intent: OrderIntent, features: [Double]) async {
        state.withLock { $0.journal.intended(intent.intentId, setupId: signal.signalId) }
        await service.remember(
            setupId: signal.signalId, features: features,
            context: SetupContext(
                symbol: signal.symbol ?? "", strategy: signal.strategy, direction: signal.direction,
                time: signal.barTime))
    }

    func decided(_ decision: RiskDecision) { state.withLock { $0.journal.decided(decision) } }

    func filled(_ fill: Fill) async {
        let finished = state.withLock { $0.journal.filled(fill) }
        for (setupId, outcome) in finished { await service.recordOutcome(setupId: setupId, outcome: outcome) }
    }

    func shutdown() async {
        await service.shutdown()
        try? await client.shutdown()
    }
}

await ServiceMain.run(.signalGenerator, readConfig: SignalConfig.read) { runtime, config in
    // The instrument rules (size decimals, minimum order value) come from the exchange's `meta`.
    runtime.status.setDegraded("instruments", "waiting for the exchange's meta")
    let instruments = try await HyperliquidClient.instruments(
        config.symbols, endpoint: config.endpoint, metricsFactory: runtime.metrics, logger: runtime.logger
    ) { error in
        runtime.status.setDegraded("instruments", "exchange meta: \(error)")
    }
    runtime.status.setDegraded("instruments", nil)
    let desk = Locked(config.strategies.makePortfolio(instruments))
    let recall = config.recall.enabled ? RecallDesk(config: config.recall, runtime: runtime) : nil
    let models =
        config.strategies.usesModel
        ? ModelKeeper(config: config.strategies.model, symbols: config.strategies.directionalSymbols, portfolio: desk, runtime: runtime) : nil
    if let models {
        models.refresh()
        runtime.status.addDetail("models") { models.status() }
    }
    let modelWatch = Task { await models?.run(pollEvery: .seconds(2)) }
    defer { modelWatch.cancel() }
    let evaluated = Counter(label: "breakwater_signals_total", factory: runtime.metrics)
    let approved = Counter(label: "breakwater_signals_approved_total", factory: runtime.metrics)
    // A bar in to its decisions out, recall included: the cycle whose p95 is alerted on (a histogram).
    let cycleTimer = Metrics.Timer(label: "breakwater_decision_cycle_seconds", factory: runtime.metrics)
    let tally = Mutex((signals: 0, approved: 0))
    runtime.status.setFact("symbols", "\(config.symbols.count)")
    runtime.status.setFact(
        "strategies", desk.withLock { $0.desks.values.first?.strategyNames.joined(separator: ",") ?? "" })
    runtime.status.setFact("recall", recall == nil ? "disabled" : config.recall.chromaURL)
    let quoting = try QuotingDesk(config: config.strategies.marketMaking, instruments: instruments, runtime: runtime)
    runtime.status.setFact("marketMaking", config.strategies.marketMaking.symbols.joined(separator: ","))
    runtime.status.addDetail("marketMaking") { quoting.status() }
    let quoter = Task {
        do { try await quoting.run(tickEvery: .milliseconds(250)) } catch {
            runtime.logger.critical("market maker stopped", metadata: ["error": "\(error)"])
            runtime.status.setDegraded("marketMaking", "stopped: \(error)")
        }
    }
    defer { quoter.cancel() }
    runtime.status.addDetail("signals") {
        let counts = tally.withLock { $0 }
        let (positions, regimes) = desk.withLock { portfolio in
            (
                portfolio.intendedPositions.mapValues(\.description),
                portfolio.desks.compactMapValues { $0.regime?.regime.rawValue }
            )
        }
        return [
            "evaluated": counts.signals, "approved": counts.approved, "intendedPositions": positions,
            "regimes": regimes,
        ]
    }
    if let recall {
        runtime.status.addDetail("recall") {
            let data = (try? JSONEncoder().encode(recall.service.status())) ?? Data("{}".utf8)
            return (try? JSONSerialization.jsonObject(with: data)) ?? [:]
        }
        await recall.service.warmUp(timeout: .seconds(2))
    }
    let stream = try runtime.subscribe(
        to: [.feedHandler, .riskGate, .executor],
        topics: ["md.bar.", "md.status.", "risk.decision.", "risk.state", "exec.fill.", "acct.snapshot"])
    runtime.status.setReady()
    // The stream ends at graceful shutdown (ServiceRuntime ends every subscription).
    for await event in stream {
        guard case .envelope(let raw) = event else { continue }
        do {
            switch raw.messageType {
            case .bar:
                let cycleStart = ContinuousClock.now
                let bar = try raw.decode(Bar.self)
                guard let symbol = bar.symbol,
                    let observation = desk.withLock({ $0.observe(bar, now: runtime.clock.now()) })
                else { continue }
                // Recall is asked before the decision, about every view that wants a position.
                let features = recall?.features(bar)
                var notes: [Int: RecallNote] = [:]
                if let recall, let features {
                    for (index, view) in observation.views.enumerated() {
                        guard let direction = view.direction, view.reason.code != .warmingUp else { continue }
                        notes[index] = await recall.note(
                            symbol: symbol, direction: direction, strategy: observation.strategies[index],
                            features: features)
                    }
                }
                guard let output = desk.withLock({
                    $0.decide(observation, now: runtime.clock.now(), recall: notes, newIdentifier: runtime.newIdentifier)
                }) else { continue }
                // The bar's trace follows each decision all the way to the fill.
                for evaluation in output.evaluations {
                    runtime.publish(evaluation.signal, traceId: raw.header.traceId)
                    evaluated.increment()
                    if let intent = evaluation.intent {
                        runtime.publish(intent, traceId: raw.header.traceId)
                        approved.increment()
                        if let recall, let features {
                            await recall.remember(evaluation.signal, intent: intent, features: features)
                        }
                    }
                }
                tally.withLock {
                    $0.signals += output.evaluations.count
                    $0.approved += output.intents.count
                }
                cycleTimer.recordNanoseconds((ContinuousClock.now - cycleStart).wholeNanoseconds)
            case .riskDecision:
                let decision = try raw.decode(RiskDecision.self)
                desk.withLock { $0.onDecision(decision) }
                recall?.decided(decision)
            case .fill:
                let fill = try raw.decode(Fill.self)
                desk.withLock { $0.onExitFill(fill) }
                await recall?.filled(fill)
            case .riskState:
                let change = try raw.decode(RiskStateChange.self)
                desk.withLock { $0.onTradingState(change.state) }
                runtime.status.setFact("tradingState", change.state.rawValue)
            case .feedStatus:
                let status = try raw.decode(FeedStatus.self)
                desk.withLock { $0.onFeedStatus(status) }
            case .accountSnapshot:
                let snapshot = try raw.decode(AccountSnapshot.self)
                for adoption in desk.withLock({ $0.onAccountSnapshot(snapshot) }) {
                    runtime.logger.notice(
                        "position taken from the account", metadata: [
                            "symbol": "\(adoption.symbol)", "intended": "\(adoption.before)", "account": "\(adoption.after)",
                        ])
                }
            default:
                continue
            }
        } catch {
            runtime.logger.warning(
                "skipped a message that does not decode", metadata: ["type": "\(raw.header.type)", "error": "\(error)"])
        }
    }
    await recall?.shutdown()
}
