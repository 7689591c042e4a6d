import Bus
import Foundation
import Hummingbird
import Logging
import Metrics
import Risk
import Schema
import ServiceKit
import ServiceLifecycle
import Synchronization

struct RiskConfig: Sendable {
    var limits: RiskLimits
    /// nil when `risk.exits.enabled` is false.
    var exits: ExitPolicy?
    var instrument: Instrument
    var startingCapital: Amount
    /// Bearer token for the operator routes; nil refuses them all.
    var adminToken: String?

    static func read(_ settings: inout Settings) -> RiskConfig {
        let defaults = RiskLimits()
        let symbol = settings.string("feed.symbol", default: "BTC")
        var limits = RiskLimits(
            maxOpenPositions: settings.int("risk.maxOpenPositions", default: defaults.maxOpenPositions, in: 0...1_000),
            maxOrderNotional: settings.amount("risk.maxOrderNotional", default: defaults.maxOrderNotional),
            maxSymbolNotional: settings.amount("risk.maxSymbolNotional", default: defaults.maxSymbolNotional),
            maxGrossExposure: settings.amount("risk.maxGrossExposure", default: defaults.maxGrossExposure),
            maxDirectionShare: settings.double("risk.maxDirectionShare", default: defaults.maxDirectionShare, in: 0.5...1),
            dailyLossLimit: settings.amount("risk.dailyLossLimit", default: defaults.dailyLossLimit),
            drawdownLock: settings.double("risk.drawdownLock", default: defaults.drawdownLock, in: 0.001...1),
            reduceAtDrawdown: settings.double("risk.reduceAtDrawdown", default: defaults.reduceAtDrawdown, in: 0.001...1),
            maxOrdersPerMinute: settings.int("risk.maxOrdersPerMinute", default: defaults.maxOrdersPerMinute, in: 1...100_000))
        limits.ackTimeoutNanos = Int64(settings.int("risk.ackTimeoutMs", default: 5_000, in: 100...600_000)) * 1_000_000
        for problem in limits.validationErrors() { settings.problem("risk: \(problem)") }
        let token = settings.optionalString("risk.adminToken")
        if let token, token.count < 16 {
            settings.problem("risk.adminToken (BREAKWATER_RISK_ADMIN_TOKEN) must be at least 16 characters")
        }
        var exits: ExitPolicy?
        if settings.bool("risk.exits.enabled", default: true) {
            let hardStop = settings.double("risk.exits.hardStop", default: 0.03, in: 0.0001...1)
            let activation = settings.double("risk.exits.trailing.activation", default: 0.01, in: 0...10)
            let holdingMinutes = settings.int("risk.exits.maxHoldingMinutes", default: 0, in: 0...1_000_000)
            let policy = ExitPolicy(
                emergencyLoss: settings.amount("risk.exits.emergencyLoss", default: 250, minimum: 1),
                hardStop: hardStop,
                trailingStop: .init(
                    activationProfit: activation,
                    atrMultiple: settings.double("risk.exits.trailing.atrMultiple", default: 3, in: 0.1...100),
                    minDistance: settings.double("risk.exits.trailing.minDistance", default: 0.003, in: 0...1),
                    maxDistance: settings.double("risk.exits.trailing.maxDistance", default: 0.02, in: 0...1)),
                maxHoldingNanos: holdingMinutes == 0 ? nil : Int64(holdingMinutes) * 60_000_000_000)
            for problem in policy.validationErrors() { settings.problem("risk.exits: \(problem)") }
            exits = policy
        }
        return RiskConfig(
            limits: limits, exits: exits,
            instrument: Instrument(
                symbol: symbol, szDecimals: settings.int("feed.szDecimals", default: 5, in: 0...8),
                minOrderValue: settings.amount("signal.minOrderValue", default: 10)),
            startingCapital: settings.amount("account.startingCapital", default: 10_000, minimum: 1),
            adminToken: token)
    }
}

/// The risk book behind a lock: the bus loop, the timer and the operator routes share it.
final class Gate: Sendable {
    private let book: Mutex<RiskBook>
    /// The one exit engine: it emits exit intents, which go through the same rules as any other.
    private let exits: Mutex<ExitDesk?>
    /// What the executor says of the exchange, and whether the book was last told it is down.
    private let venue: Mutex<(watch: VenueWatch, down: Bool)>
    let runtime: ServiceRuntime
    private let decisions: Metrics.Counter
    private let stateGauge: Gauge

    let adminToken: String?

    init(book: RiskBook, exits: ExitDesk?, runtime: ServiceRuntime, adminToken: String?) {
        self.book = Mutex(book)
        self.exits = Mutex(exits)
        self.venue = Mutex((VenueWatch(silenceNanos: 5_000_000_000), false))
        self.runtime = runtime
        self.adminToken = adminToken
        decisions = Counter(label: "breakwater_risk_decisions_total", factory: runtime.metrics)
        stateGauge = Gauge(label: "breakwater_risk_trading_state", factory: runtime.metrics)
        reflect(book.state)
    }

    func withBook<T>(_ body: (inout RiskBook) -> T) -> T { book.withLock { body(&$0) } }

    /// Publishes transitions and mirrors the state into health: the gate is only "ok" when it can trade.
    func publish(_ changes: [RiskStateChange], traceId: String? = nil) {
        for change in changes {
            runtime.logger.notice(
                "trading state", metadata: [
                    "from": "\(change.previous.rawValue)", "to": "\(change.state.rawValue)",
                    "reasons": "\(change.reasons.map(\.description).joined(separator: "; "))",
                ])
            runtime.publish(change, traceId: traceId ?? runtime.newIdentifier())
            reflect(change.state)
        }
    }

    private func reflect(_ state: TradingState) {
        runtime.status.setFact("tradingState", state.rawValue)
        runtime.status.setDegraded("trading", state == .active ? nil : state.rawValue)
        stateGauge.record(["syncing": 0, "active": 1, "reducing": 2, "halted": 3][state.rawValue] ?? -1)
    }

    func evaluate(_ intent: OrderIntent, traceId: String) {
        let verdict = withBook { $0.evaluate(intent, now: runtime.clock.now()) }
        decisions.increment()
        runtime.publish(verdict.decision, traceId: traceId)
        if let order = verdict.order { runtime.publish(order, traceId: traceId) }
        publish(verdict.stateChanges, traceId: traceId)
    }

    /// Feeds the executor's breakers and heartbeats in; tells the book when the venue goes or comes back.
    func observeVenue(now: EpochNanos, _ update: (inout VenueWatch) -> Void = { _ in }) {
        let change = venue.withLock { venue -> (Bool, String)? in
            update(&venue.watch)
            let reason = venue.watch.unavailability(now: now)
            guard (reason != nil) != venue.down else { return nil }
            venue.down = reason != nil
            return (reason == nil, reason ?? "executor breakers closed")
        }
        guard let (available, reason) = change else { return }
        runtime.logger.notice("venue \(available ? "available" : "unavailable")", metadata: ["reason": "\(reason)"])
        publish(withBook { $0.setVenueAvailable(available, reason: reason, now: now) })
    }

    func withExits<T>(_ body: (inout ExitDesk?) -> T) -> T { exits.withLock { body(&$0) } }

    /// Fills move positions; the exit engine follows the book's view of each.
    func apply(_ fill: Fill, now: EpochNanos) {
        let (changes, size, entry) = withBook { book in
            let changes = book.apply(fill, now: now)
            let symbol = fill.symbol ?? ""
            return (changes, book.position(symbol), book.entryPrice(symbol))
        }
        publish(changes)
        withExits {
            $0?.sync(symbol: fill.symbol ?? "", size: size, entryPrice: entry, time: fill.time, strategy: fill.strategy)
        }
    }

    /// Marks the bar's close and lets the exit engine look at the position.
    func onBar(_ bar: Bar, traceId: String, now: EpochNanos) {
        publish(withBook { $0.updateMark(symbol: bar.symbol ?? "", price: bar.close, now: now) })
        guard let exit = withExits({ $0?.onBar(bar, now: now) }) else { return }
        runtime.logger.notice(
            "exit fired", metadata: ["path": "\(exit.path.rawValue)", "detail": "\(exit.detail)", "symbol": "\(bar.symbol ?? "")"])
        runtime.publish(exit.intent, traceId: traceId)
        evaluate(exit.intent, traceId: traceId)
    }

    /// The current state, restated for subscribers that started after the last transition.
    func restatement() -> RiskStateChange {
        withBook { book in
            RiskStateChange(
                state: book.state, previous: book.state, reasons: [Reason("restated")],
                openPositions: book.openPositionCount, grossExposure: book.grossExposure,
                killSwitch: book.killSwitchEngaged)
        }
    }
}

func operatorRoutes(_ gate: Gate, token: String?) -> AdminServer.Routes {
    { router in
        router.post("/kill-switch") { request, _ in
            guard AdminServer.authorized(request, token: token) else {
                return AdminServer.json(["error": "bearer token missing or wrong"], status: .unauthorized)
            }
            let body = try await request.body.collect(upTo: 4_096)
            let command = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
            guard let engaged = command["engaged"] as? Bool else {
                return AdminServer.json(["error": "body must be {\"engaged\": true|false, \"reason\": \"…\"}"], status: .badRequest)
            }
            let reason = command["reason"] as? String ?? "operator"
            let changes = gate.withBook { $0.setKillSwitch(engaged, reason: reason, now: gate.runtime.clock.now()) }
            gate.runtime.logger.notice("kill switch", metadata: ["engaged": "\(engaged)", "reason": "\(reason)"])
            gate.publish(changes)
            return AdminServer.json(["killSwitch": engaged, "state": gate.withBook { $0.state.rawValue }])
        }
        router.post("/resume") { request, _ in
            guard AdminServer.authorized(request, token: token) else {
                return AdminServer.json(["error": "bearer token missing or wrong"], status: .unauthorized)
            }
            let outcome = gate.withBook { $0.resume(now: gate.runtime.clock.now()) }
            switch outcome {
            case .resumed(let change):
                gate.publish([change])
                return AdminServer.json(["state": gate.withBook { $0.state.rawValue }])
            case .refused(let causes):
                return AdminServer.json(["refused": causes.map(\.description)], status: .conflict)
            case .notHalted(let state):
                return AdminServer.json(["state": state.rawValue, "note": "not halted"])
            }
        }
    }
}

await ServiceMain.run(
    .riskGate, readConfig: RiskConfig.read,
    prepare: { runtime, config in
        let book = RiskBook(
            limits: config.limits, instruments: [config.instrument.symbol: config.instrument],
            startingCapital: config.startingCapital, now: runtime.clock.now())
        if config.adminToken == nil {
            runtime.logger.warning("no risk.adminToken (BREAKWATER_RISK_ADMIN_TOKEN): operator routes refuse every call")
        }
        let exits = config.exits.map {
            ExitDesk(engine: ExitEngine(policy: $0), instruments: [config.instrument.symbol: config.instrument])
        }
        return Gate(book: book, exits: exits, runtime: runtime, adminToken: config.adminToken)
    },
    routes: { gate in operatorRoutes(gate, token: gate.adminToken) }
) { gate in
    let runtime = gate.runtime
    runtime.status.addDetail("risk") {
        gate.withBook { book in
            [
                "state": book.state.rawValue, "openPositions": book.openPositionCount,
                "grossExposure": book.grossExposure.description, "killSwitch": book.killSwitchEngaged,
                "reservedOrders": book.reservedOrderIds.count,
            ]
        }
    }
    let stream = try runtime.subscribe(
        to: [.signalGenerator, .executor, .feedHandler],
        topics: ["intent.", "sig.", "exec.", "acct.", "md.bar.", "svc.breaker.executor", "svc.hb.executor"])
    let housekeeping = Task {
        while !Task.isCancelled {
            let now = runtime.clock.now()
            gate.observeVenue(now: now)
            let (overdue, changes) = gate.withBook { book in (book.expireOverdue(now: now), book.tick(now: now)) }
            for reason in overdue { runtime.logger.warning("order overdue", metadata: ["reason": "\(reason)"]) }
            gate.publish(changes)
            runtime.publish(gate.restatement(), traceId: runtime.newIdentifier())
            try await Task.sleep(for: .seconds(1))
        }
    }
    defer { housekeeping.cancel() }
    runtime.status.setReady()
    for await event in stream.cancelOnGracefulShutdown() {
        guard case .envelope(let raw) = event else { continue }
        let now = runtime.clock.now()
        do {
            switch raw.messageType {
            case .orderIntent:
                gate.evaluate(try raw.decode(OrderIntent.self), traceId: raw.header.traceId)
            case .fill:
                gate.apply(try raw.decode(Fill.self), now: now)
            case .signal:
                let signal = try raw.decode(Signal.self)
                gate.withExits { $0?.onSignal(signal) }
            case .orderAck:
                let ack = try raw.decode(OrderAck.self)
                gate.withBook { $0.apply(ack, now: now) }
            case .orderReject:
                let reject = try raw.decode(OrderReject.self)
                gate.withBook { $0.apply(reject, now: now) }
            case .orderCanceled:
                let cancel = try raw.decode(OrderCanceled.self)
                gate.withBook { $0.apply(cancel, now: now) }
            case .accountSnapshot:
                let snapshot = try raw.decode(AccountSnapshot.self)
                gate.publish(gate.withBook { $0.apply(snapshot, now: now) })
            case .bar:
                gate.onBar(try raw.decode(Bar.self), traceId: raw.header.traceId, now: now)
            case .breakerTransition:
                let transition = try raw.decode(BreakerTransition.self)
                gate.observeVenue(now: now) { $0.breaker(transition.dependency, transition.to, now: now) }
            case .heartbeat:
                let beat = try raw.decode(Heartbeat.self)
                gate.observeVenue(now: now) { $0.heartbeat(beat, now: now) }
            default:
                continue
            }
        } catch {
            runtime.logger.warning(
                "skipped a message that does not decode", metadata: ["type": "\(raw.header.type)", "error": "\(error)"])
        }
    }
}
