import Bus
import Foundation
import Hyperliquid
import Hummingbird
import Logging
import Market
import Metrics
import Risk
import Schema
import ServiceKit
import ServiceLifecycle
import Storage
import Synchronization

struct RiskConfig: Sendable {
    /// The rules: limits, exits, stops, margin, portfolio limits (shared with the backtester).
    var rules: RiskSettings
    var symbols: [String]
    var endpoint: HyperliquidEndpoint
    /// Bearer token for the operator routes; nil refuses them all.
    var adminToken: String?
    /// Where the book's memory (kill switch, HALTED latch, equity baselines, reservations) is kept.
    var stateFile = "var/risk-state.db"
    /// Where the portfolio figures' history comes from at start.
    var history: HistorySources

    static func read(_ settings: inout Settings) -> RiskConfig {
        let exchange = ExchangeSettings.read(&settings, needsKey: false)
        let token = OperatorToken.read(&settings)
        let symbols = Symbols.read(&settings)
        return RiskConfig(
            rules: RiskSettings.read(&settings, symbols: symbols), symbols: symbols,
            endpoint: HyperliquidEndpoint(mode: exchange.mode, paperURL: exchange.paperURL),
            adminToken: token, stateFile: settings.dataPath("risk.stateFile", file: "risk-state.db"),
            history: HistorySources.read(&settings, symbols: symbols))
    }
}

/// The risk book behind a lock: the bus loop, the timer and the operator routes share it.
final class Gate: Sendable {
    /// The book, the exit engine and the exchange-side stops: the rules, shared with the backtester.
    private let core: Mutex<RiskGateCore>
    /// What the executor says of the exchange, and whether the book was last told it is down.
    private let venue: Mutex<(watch: VenueWatch, down: Bool)>
    /// The book's memory on disk and what was last written there. Its lock is taken before the
    /// core's, never after, so memories reach the disk in the order they were taken.
    private let keeper: Mutex<MemoryKeeper>
    /// Intents read before their bar wait for it. Its lock is taken before the keeper's and the
    /// core's, and held while the intents it releases are judged, so each symbol's keep their order.
    private let ordering = Mutex(BarOrdering())
    let runtime: ServiceRuntime
    private let decisions: Metrics.Counter
    private let stateGauge: Gauge
    private let lastPortfolioFigures = Mutex<EpochNanos>(0)
    private let saves: Metrics.Counter
    private let quoteApprovals: Metrics.Counter
    private let quoteClips: Metrics.Counter
    private let intentsWaited: Metrics.Counter
    private let intentsWithoutBar: Metrics.Counter
    /// The book against its limits, for the alert rules (`recordBookFigures`).
    private let bookGauges: [String: Gauge]

    let adminToken: String?
    let stateFile: String

    /// What the restore at start published: the restatement, or the unreadable state's alert.
    private let restoreNotices = Mutex<(restated: RiskStateChange?, alert: String?)>((nil, nil))

    struct MemoryKeeper {
        /// nil before `restoreMemory`, and for good when the saved memory was unreadable (the file
        /// is left as found, for the operator).
        var store: RiskStateStore?
        var lastSaved: RiskMemory?
        var failing = false
    }

    init(
        core: RiskGateCore, runtime: ServiceRuntime, adminToken: String?, stateFile: String = ""
    ) {
        self.core = Mutex(core)
        self.venue = Mutex((VenueWatch(silenceNanos: 5_000_000_000), false))
        self.keeper = Mutex(MemoryKeeper())
        self.runtime = runtime
        self.adminToken = adminToken
        self.stateFile = stateFile
        decisions = Counter(label: "breakwater_risk_decisions_total", factory: runtime.metrics)
        stateGauge = Gauge(label: "breakwater_risk_trading_state", factory: runtime.metrics)
        saves = Counter(label: "breakwater_risk_state_writes_total", factory: runtime.metrics)
        quoteApprovals = Counter(label: "breakwater_risk_quote_approvals_total", factory: runtime.metrics)
        quoteClips = Counter(label: "breakwater_risk_quote_clips_total", factory: runtime.metrics)
        intentsWaited = Counter(label: "breakwater_risk_intents_waited_for_bar_total", factory: runtime.metrics)
        intentsWithoutBar = Counter(label: "breakwater_risk_intents_judged_without_bar_total", factory: runtime.metrics)
        bookGauges = Dictionary(
            uniqueKeysWithValues: [
                "open_positions", "max_open_positions", "daily_loss", "daily_loss_limit", "drawdown", "drawdown_lock",
                "drawdown_lock_engaged", "equity", "realized_pnl", "unrealized_pnl", "gross_exposure",
                "max_gross_exposure", "kill_switch_engaged",
            ].map { ($0, Gauge(label: "breakwater_risk_\($0)", factory: runtime.metrics)) })
        reflect(core.book.state)
    }

    func withBook<T>(_ body: (inout RiskBook) -> T) -> T { core.withLock { body(&$0.book) } }

    func withCore<T>(_ body: (inout RiskGateCore) -> T) -> T { core.withLock { body(&$0) } }

    // MARK: Memory

    /// Loads the saved memory into the book, before anything is subscribed. No file (or no row):
    /// a fresh start in SYNCING. A memory that cannot be read holds the book in SYNCING for good.
    func restoreMemory() {
        let now = runtime.clock.now()
        do {
            let store = try RiskStateStore(path: stateFile)
            let saved = try store.load(RiskMemory.self)
            keeper.withLock {
                $0.store = store
                $0.lastSaved = saved
            }
            guard let saved else {
                runtime.logger.notice("no saved risk state: fresh start", metadata: ["file": "\(stateFile)"])
                return
            }
            let restated = withBook { $0.restore(saved, now: now) }
            runtime.logger.notice(
                "risk state restored", metadata: [
                    "file": "\(stateFile)", "state": "\(restated.state.rawValue)",
                    "reasons": "\(restated.reasons.map(\.description).joined(separator: "; "))",
                ])
            runtime.publish(restated, traceId: runtime.newIdentifier())
            restoreNotices.withLock { $0.restated = restated }
            reflect(restated.state)
        } catch {
            let detail = "\(stateFile): \(error)"
            runtime.logger.critical("risk state unreadable: held in SYNCING", metadata: ["error": "\(detail)"])
            runtime.status.setDegraded("riskState", "saved risk state unreadable: \(detail)")
            let message = "saved risk state unreadable; the gate stays in SYNCING until it is fixed or removed: \(detail)"
            alert("risk_state_unreadable", message)
            restoreNotices.withLock { $0.alert = message }
            publish(withBook { $0.holdSyncing(unreadableState: detail, now: now) })
        }
    }

    /// Publishes the restore's restatement once more (the first went out before subscribers
    /// reconnected to this new instance), and the unreadable state's alert again while it holds.
    func repeatRestoreNotices() {
        let (restated, message) = restoreNotices.withLock { notices in
            defer { notices.restated = nil }
            return notices
        }
        if let restated { runtime.publish(restated, traceId: runtime.newIdentifier()) }
        if let message { alert("risk_state_unreadable", message) }
    }

    /// Writes the book's memory if it changed since the last write. A failed write halts the
    /// book (and a later good one lifts that cause); the transitions this caused are returned
    /// for the caller to publish after its own. Call it after every step that may have changed
    /// the memory and before publishing anything that depends on it.
    func save() -> (saved: Bool, changes: [RiskStateChange]) {
        keeper.withLock { keeper in
            guard let store = keeper.store else { return (true, []) }
            let memory = withBook { $0.memory }
            guard memory != keeper.lastSaved || store.flushFailed else { return (true, []) }
            let now = runtime.clock.now()
            do {
                let durability: RiskStateStore.Durability =
                    switch memory.persistence(since: keeper.lastSaved) {
                    case .beforePublishing: .beforeReturning
                    case .soon: .shortlyAfter
                    case .forTheProcess: .processOnly
                    }
                try store.save(
                    memory, tradingState: memory.state.rawValue, killSwitch: memory.killSwitch.engaged, at: now,
                    durability: durability)
                saves.increment()
                keeper.lastSaved = memory
                guard keeper.failing else { return (true, []) }
                keeper.failing = false
                runtime.logger.notice("risk state saved again", metadata: ["file": "\(stateFile)"])
                runtime.status.setDegraded("riskState", nil)
                return (true, withBook { $0.setStateWriteFailed(nil, now: now) })
            } catch {
                let detail = "\(stateFile): \(error)"
                if !keeper.failing {
                    keeper.failing = true
                    runtime.logger.critical("risk state not saved: halting", metadata: ["error": "\(detail)"])
                    alert("risk_state_write_failed", "risk state not saved; halted, new entries refused: \(detail)")
                }
                runtime.status.setDegraded("riskState", "risk state not saved: \(detail)")
                return (false, withBook { $0.setStateWriteFailed(detail, now: now) })
            }
        }
    }

    /// Saves, then publishes the step's transitions and any the save caused. Returns whether the memory is on disk.
    @discardableResult
    func commit(_ changes: [RiskStateChange], traceId: String? = nil) -> Bool {
        let (saved, more) = save()
        publish(changes + more, traceId: traceId)
        return saved
    }

    private func alert(_ code: String, _ message: String) {
        runtime.publish(
            Alert(severity: .critical, code: code, message: message, service: runtime.name.rawValue),
            traceId: runtime.newIdentifier())
    }

    // MARK: Steps

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
        if !changes.isEmpty { requote(traceId: traceId) }
    }

    // MARK: Quotes

    /// A market maker's wanted quotes, clipped to the limits; what may rest goes to the executor.
    func approve(_ target: QuoteTarget, traceId: String) {
        let approved = withBook { $0.approve(target, now: runtime.clock.now()) }
        quoteApprovals.increment()
        if approved.quotes.isEmpty || !approved.clipped.isEmpty { quoteClips.increment() }
        runtime.publish(approved, traceId: traceId)
    }

    /// After a change of trading state: every symbol's quotes judged again at once, so HALTED
    /// withdraws them all without waiting for the strategy.
    func requote(traceId: String? = nil) {
        for approved in withBook({ $0.reapproveQuotes(now: runtime.clock.now()) }) {
            runtime.logger.notice(
                "quotes re-approved", metadata: [
                    "symbol": "\(approved.symbol ?? "")", "quotes": "\(approved.quotes.count)",
                    "reasons": "\(approved.reasons.map(\.description).joined(separator: "; "))",
                ])
            runtime.publish(approved, traceId: traceId ?? runtime.newIdentifier())
        }
    }

    private func reflect(_ state: TradingState) {
        runtime.status.setFact("tradingState", state.rawValue)
        runtime.status.setDegraded("trading", state == .active ? nil : state.rawValue)
        stateGauge.record(["syncing": 0, "active": 1, "reducing": 2, "halted": 3][state.rawValue] ?? -1)
    }

    /// A signal goes before its intent on the signal generator's socket: it tells the intent's bar.
    func heard(_ signal: Signal) {
        ordering.withLock { $0.heard(signal) }
        withCore { $0.onSignal(signal) }
    }

    /// An intent from the bus: judged now, or once the gate has heard the bar it was decided on.
    func admit(_ intent: OrderIntent, traceId: String) {
        ordering.withLock { ordering in
            let ready = ordering.admit(intent, traceId: traceId, now: runtime.clock.now())
            if ready.isEmpty {
                intentsWaited.increment()
                judgeWhenDue(after: ordering.maxWaitNanos)
            }
            judge(ready)
        }
    }

    private func judge(_ released: [BarOrdering.Held]) {
        for held in released {
            if held.overdue {
                intentsWithoutBar.increment()
                runtime.logger.warning(
                    "intent judged without its bar", metadata: [
                        "intent": "\(held.intent.intentId)", "symbol": "\(held.intent.symbol ?? "")",
                        "bar": "\(held.bar.map(String.init) ?? "")",
                    ])
            }
            evaluate(held.intent, traceId: held.traceId)
        }
    }

    private func judgeWhenDue(after nanos: Int64) {
        Task {
            // A millisecond over, so that the wall clock the wait was set by has passed it too.
            try? await Task.sleep(for: .nanoseconds(nanos + 1_000_000))
            ordering.withLock { judge($0.due(now: runtime.clock.now())) }
        }
    }

    func evaluate(_ intent: OrderIntent, traceId: String) {
        let verdict = withCore { $0.evaluate(intent, now: runtime.clock.now()) }
        send(verdict, traceId: traceId)
    }

    /// Saves the reservation, then publishes the decision, the order and the transitions. An
    /// entry whose reservation could not be saved is withdrawn and rejected; a reduce-only order
    /// still goes, since it can only shrink a position.
    func send(_ verdict: RiskVerdict, traceId: String) {
        var verdict = verdict
        let (saved, more) = save()
        if !saved, let order = verdict.order, !order.reduceOnly {
            withBook { $0.withdraw(order.clientOrderId, now: runtime.clock.now()) }
            verdict.decision.outcome = .rejected
            verdict.decision.reasons = [Reason(.riskStateWriteFailed, "the reservation could not be saved; entries refused")]
            verdict.decision.approvedSize = .zero
            verdict.decision.clientOrderId = nil
            verdict.order = nil
        }
        decisions.increment()
        runtime.publish(verdict.decision, traceId: traceId)
        if var order = verdict.order {
            withCore { $0.protect(&order, now: runtime.clock.now()) }
            runtime.publish(order, traceId: traceId)
        }
        publish(verdict.stateChanges + more, traceId: traceId)
    }

    // MARK: Stops on the exchange

    /// Brings the exchange's stops in line with the positions and the exit engine's levels.
    func keepStops(now: EpochNanos) {
        for command in withCore({ $0.stopCommands(now: now) }) {
            runtime.logger.notice(
                "exchange stop", metadata: [
                    "action": "\(command.action.rawValue)", "symbol": "\(command.symbol ?? "")",
                    "trigger": "\(command.trigger?.triggerPrice.description ?? "")", "size": "\(command.size)",
                ])
            runtime.publish(command, traceId: runtime.newIdentifier())
        }
    }

    /// The stops' book, when protection is on.
    var unprotectable: [String: String] { withCore { $0.protection?.unprotectable ?? [:] } }
    var restingStops: Int { withCore { $0.protection?.stops.count ?? 0 } }

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
        commit(withBook { $0.setVenueAvailable(available, reason: reason, now: now) })
    }

    /// Fills move positions; the exit engine and the stops follow.
    func apply(_ fill: Fill, now: EpochNanos) {
        commit(withCore { $0.apply(fill, now: now) })
        keepStops(now: now)
    }

    func apply(_ snapshot: AccountSnapshot, now: EpochNanos) {
        commit(withCore { $0.apply(snapshot, now: now) })
    }

    /// Marks the bar's close and lets the exit engine look at the position.
    func onBar(_ bar: Bar, traceId: String, now: EpochNanos) {
        let outcome = withCore { $0.onBar(bar, now: now) }
        commit(outcome.changes)
        recordPortfolioFigures(now: now)
        defer { keepStops(now: now) }
        guard let exit = outcome.exit else { return }
        runtime.logger.notice(
            "exit fired", metadata: ["path": "\(exit.path.rawValue)", "detail": "\(exit.detail)", "symbol": "\(bar.symbol ?? "")"])
        runtime.publish(exit.intent, traceId: traceId)
        evaluate(exit.intent, traceId: traceId)
    }

    /// After the bar (and the exit it fired): the intents that were read before it.
    func release(after bar: Bar, now: EpochNanos) {
        ordering.withLock { judge($0.heard(bar, now: now)) }
    }

    /// Equity and P&L, open positions, gross exposure, the daily loss and the drawdown beside their
    /// limits, the drawdown lock and the kill switch: what the alert rules compare
    /// (`compose/prometheus/alerts.yml`) and the dashboard shows. Once a second.
    func recordBookFigures() {
        let figures: [String: Double] = withBook { book in
            [
                "open_positions": Double(book.openPositionCount),
                "max_open_positions": Double(book.limits.maxOpenPositions),
                "daily_loss": book.dailyLoss.doubleValue, "daily_loss_limit": book.limits.dailyLossLimit.doubleValue,
                "drawdown": book.drawdown, "drawdown_lock": book.limits.drawdownLock,
                "drawdown_lock_engaged": book.drawdownLockEngaged ? 1 : 0,
                "equity": book.equity.doubleValue, "realized_pnl": book.netRealizedPnl.doubleValue,
                "unrealized_pnl": book.unrealizedPnl.doubleValue, "gross_exposure": book.grossExposure.doubleValue,
                "max_gross_exposure": book.limits.maxGrossExposure.doubleValue,
                "kill_switch_engaged": book.killSwitchEngaged ? 1 : 0,
            ]
        }
        for (name, value) in figures { bookGauges[name]?.record(value) }
    }

    /// VaR, expected shortfall, the worst stress loss and the VaR back-test, in `/metrics` and on the
    /// bus (`risk.portfolio`), at most once a second and only while the portfolio limits are on.
    private func recordPortfolioFigures(now: EpochNanos) {
        let due = lastPortfolioFigures.withLock { last in
            guard now - last >= 1_000_000_000 else { return false }
            last = now
            return true
        }
        guard due, let (assessment, report, backtest) = withBook({ book in
            book.portfolioReport(now: now).map { ($0.assessment, $0.report, book.varBacktest) }
        }) else { return }
        let factory = runtime.metrics
        Gauge(label: "breakwater_risk_var", factory: factory).record(assessment.valueAtRisk.valueAtRisk)
        Gauge(label: "breakwater_risk_expected_shortfall", factory: factory).record(assessment.valueAtRisk.expectedShortfall)
        Gauge(label: "breakwater_risk_stress_worst_loss", factory: factory).record(assessment.stress.worstLoss)
        Gauge(label: "breakwater_risk_var_insufficient_history", factory: factory)
            .record(assessment.valueAtRisk.basis == .insufficientHistory ? 1 : 0)
        Gauge(label: "breakwater_risk_var_exceptions", factory: factory).record(backtest.exceptions)
        Gauge(label: "breakwater_risk_var_backtest_days", factory: factory).record(backtest.days)
        // 0 green, 1 yellow, 2 red; −1 before 250 days, when the zone means nothing.
        let zone: Int = switch backtest.zone {
        case .green: 0
        case .yellow: 1
        case .red: 2
        case nil: -1
        }
        Gauge(label: "breakwater_risk_var_backtest_zone", factory: factory).record(zone)
        if let report {
            runtime.publish(report, traceId: runtime.newIdentifier())
        } else {
            runtime.logger.warning("portfolio figures not finite: no risk.portfolio report")
        }
    }

    /// The current state, restated for subscribers that started after the last transition, with
    /// the causes of a halt and the kill switch.
    func restatement(_ extra: [Reason] = []) -> RiskStateChange {
        withBook { book in
            var reasons = [Reason("restated")] + extra + book.haltCausesLatched
            let killSwitch = book.killSwitch
            if killSwitch.engaged && !reasons.contains(where: { $0.code == .killSwitch }) {
                reasons.append(Reason(.killSwitch, "engaged: \(killSwitch.reason)"))
            }
            if let unreadable = book.unreadableStateDetail { reasons.append(Reason(.riskStateUnreadable, unreadable)) }
            return RiskStateChange(
                state: book.state, previous: book.state, reasons: reasons,
                openPositions: book.openPositionCount, grossExposure: book.grossExposure,
                killSwitch: book.killSwitchEngaged)
        }
    }

    /// What `/status` shows of the book and its memory.
    func statusDetail() -> [String: Any] {
        let (saved, failing) = keeper.withLock { ($0.store != nil, $0.failing) }
        return withBook { book in
            let killSwitch = book.killSwitch
            var detail: [String: Any] = [
                "state": book.state.rawValue, "openPositions": book.openPositionCount,
                "grossExposure": book.grossExposure.description, "killSwitch": book.killSwitchEngaged,
                "reservedOrders": book.reservedOrderIds.count,
                "haltCauses": book.haltCausesLatched.map(\.description),
                "peakEquity": book.peakEquity.description, "accountSynced": book.accountSynced,
                "stateFile": stateFile,
                "stateSaving": !saved ? "off (unreadable)" : (failing ? "failing" : "ok"),
            ]
            if killSwitch.engaged || !killSwitch.by.isEmpty {
                var entry: [String: Any] = [
                    "engaged": killSwitch.engaged, "reason": killSwitch.reason, "by": killSwitch.by,
                    "from": killSwitch.from,
                ]
                if let since = killSwitch.since { entry["since"] = since }
                detail["killSwitchDetail"] = entry
            }
            if let start = book.memory.dayStartEquity { detail["dayStartEquity"] = start.description }
            if let unreadable = book.unreadableStateDetail { detail["unreadableState"] = unreadable }
            if let history = book.returnHistory {
                detail["historyBars"] = Dictionary(uniqueKeysWithValues: history.symbols.map { ($0, history.barCount($0)) })
                detail["regimes"] = Dictionary(
                    uniqueKeysWithValues: history.symbols.compactMap { s in book.regime(s).map { (s, $0.rawValue) } })
            }
            if book.portfolioLimits != nil {
                let backtest = book.varBacktest
                var entry: [String: Any] = [
                    "days": backtest.days, "exceptions": backtest.exceptions,
                    "zone": backtest.zone?.rawValue ?? "none before 250 days",
                ]
                if let forecast = book.varForecast {
                    entry["todayForecastVaR"] = forecast.valueAtRisk
                    entry["todayForecastDay"] = forecast.day
                }
                detail["varBacktest"] = entry
            }
            return detail
        }
    }
}

/// The operator's routes. Each wants the bearer token; a call without it is refused (401) and
/// logged with the caller's address, and every accepted command is logged with who and from where.
func operatorRoutes(_ gate: Gate, token: String?) -> AdminServer.Routes {
    let guardian = OperatorGuard(token: token, metrics: gate.runtime.metrics, logger: gate.runtime.logger)
    return { router in
        @Sendable func refused(_ request: Request, _ context: AdminRequestContext) -> Response? {
            guardian.refusal(request, caller: context.caller)
        }
        @Sendable func body(_ request: Request) async throws -> [String: Any] {
            let body = try await request.body.collect(upTo: 4_096)
            return (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
        }
        @Sendable func text(_ value: Any?) -> String? {
            guard let string = (value as? String)?.trimmingCharacters(in: .whitespacesAndNewlines), !string.isEmpty
            else { return nil }
            return String(string.prefix(500))
        }
        let notSaved = "risk state not saved (see the risk_state_write_failed alert); the book is halted"

        router.post("/kill-switch") { request, context in
            if let refusal = refused(request, context) { return refusal }
            let command = try await body(request)
            guard let engaged = command["engaged"] as? Bool else {
                return AdminServer.json(
                    ["error": "body must be {\"engaged\": true|false, \"reason\": \"…\", \"by\": \"…\"}"],
                    status: .badRequest)
            }
            let reason = text(command["reason"]) ?? "operator"
            let by = text(command["by"]) ?? "operator"
            let changes = gate.withBook {
                $0.setKillSwitch(engaged, reason: reason, by: by, from: context.caller, now: gate.runtime.clock.now())
            }
            gate.runtime.logger.notice(
                "kill switch",
                metadata: ["engaged": "\(engaged)", "reason": "\(reason)", "by": "\(by)", "caller": "\(context.caller)"])
            let saved = gate.commit(changes)
            var answer: [String: Any] = ["killSwitch": engaged, "state": gate.withBook { $0.state.rawValue }]
            if !saved { answer["error"] = notSaved }
            return AdminServer.json(answer, status: saved ? .ok : .internalServerError)
        }
        router.post("/resume") { request, context in
            if let refusal = refused(request, context) { return refusal }
            let outcome = gate.withBook { $0.resume(now: gate.runtime.clock.now()) }
            gate.runtime.logger.notice("resume", metadata: ["outcome": "\(outcome)", "caller": "\(context.caller)"])
            switch outcome {
            case .resumed(let change):
                guard gate.commit([change]) else {
                    return AdminServer.json(["error": notSaved], status: .internalServerError)
                }
                return AdminServer.json(["state": gate.withBook { $0.state.rawValue }])
            case .refused(let causes):
                return AdminServer.json(["refused": causes.map(\.description)], status: .conflict)
            case .notHalted(let state):
                return AdminServer.json(["state": state.rawValue, "note": "not halted"])
            }
        }
        router.post("/rebase-peak") { request, context in
            if let refusal = refused(request, context) { return refusal }
            let command = try await body(request)
            guard let reason = text(command["reason"]), let by = text(command["by"]) else {
                return AdminServer.json(["error": "body must be {\"reason\": \"…\", \"by\": \"…\"}"], status: .badRequest)
            }
            let now = gate.runtime.clock.now()
            let rebased = gate.withBook { book -> (old: Amount, new: Amount)? in
                // Before a snapshot, equity is the starting capital, not the account's.
                guard book.accountSynced else { return nil }
                let old = book.peakEquity
                book.rebaseEquityPeak(now: now)
                return (old, book.peakEquity)
            }
            guard let rebased else {
                return AdminServer.json(
                    ["error": "no account snapshot yet: equity is unknown, nothing to rebase to"], status: .conflict)
            }
            let detail =
                "peak \(rebased.old) → \(rebased.new) (current equity) by \(by) from \(context.caller): \(reason)"
            gate.runtime.logger.notice("equity peak rebased", metadata: ["detail": "\(detail)"])
            let (saved, more) = gate.save()
            gate.runtime.publish(gate.restatement([Reason(.equityPeakRebased, detail)]), traceId: gate.runtime.newIdentifier())
            gate.publish(more)
            var answer: [String: Any] = [
                "oldPeak": rebased.old.description, "newPeak": rebased.new.description,
                "state": gate.withBook { $0.state.rawValue },
            ]
            if !saved { answer["error"] = notSaved }
            return AdminServer.json(answer, status: saved ? .ok : .internalServerError)
        }
        router.post("/flatten") { request, context in
            if let refusal = refused(request, context) { return refusal }
            let command = try await body(request)
            guard let reason = text(command["reason"]), let by = text(command["by"]) else {
                return AdminServer.json(["error": "body must be {\"reason\": \"…\", \"by\": \"…\"}"], status: .badRequest)
            }
            let now = gate.runtime.clock.now()
            let changes = gate.withBook {
                $0.setKillSwitch(true, reason: "flatten: \(reason)", by: by, from: context.caller, now: now)
            }
            gate.runtime.logger.notice(
                "flatten", metadata: ["reason": "\(reason)", "by": "\(by)", "caller": "\(context.caller)"])
            // The kill switch is on disk and HALTED on the bus before any closing order goes out.
            let saved = gate.commit(changes)
            let verdicts = gate.withBook { $0.flatten(now: now, reason: reason) }
            let traceId = gate.runtime.newIdentifier()
            for verdict in verdicts { gate.send(verdict, traceId: traceId) }
            let orders: [[String: Any]] = verdicts.compactMap { verdict in
                guard let order = verdict.order else { return nil }
                return [
                    "clientOrderId": order.clientOrderId, "symbol": order.symbol ?? "", "side": order.side.rawValue,
                    "size": order.size.description, "price": order.price.description, "reduceOnly": order.reduceOnly,
                ]
            }
            let refusedOrders = verdicts.filter { $0.order == nil }.map { verdict in
                "\(verdict.decision.symbol ?? ""): \(verdict.decision.reasons.map(\.description).joined(separator: "; "))"
            }
            var answer: [String: Any] = [
                "state": gate.withBook { $0.state.rawValue }, "killSwitch": true, "orders": orders,
                "refused": refusedOrders,
            ]
            if !saved { answer["error"] = notSaved }
            return AdminServer.json(answer, status: saved ? .ok : .internalServerError)
        }
    }
}

await ServiceMain.run(
    .riskGate, readConfig: RiskConfig.read,
    prepare: { runtime, config in
        // The instrument rules every order is rounded to and checked against: the exchange's `meta`.
        let instruments = try await HyperliquidClient.instruments(
            config.symbols, endpoint: config.endpoint, metricsFactory: runtime.metrics, logger: runtime.logger
        ) { error in
            runtime.logger.warning("waiting for the exchange's meta", metadata: ["error": "\(error)"])
        }
        var core = config.rules.makeCore(instruments: instruments, now: runtime.clock.now())
        if config.rules.portfolio != nil {
            // Without it a restart would leave VaR on its fallback until a day of bars is heard again.
            let (bars, notes) = try config.history.load(
                symbols: config.symbols, perSymbol: ReturnHistory().capacity, now: runtime.clock.now())
            let taken = core.book.seedHistory(bars)
            runtime.logger.notice(
                "portfolio history seeded",
                metadata: [
                    "read": "\(notes.joined(separator: "; "))",
                    "taken": "\(taken.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))",
                ])
        }
        if config.adminToken == nil {
            runtime.logger.warning("no admin.token (BREAKWATER_ADMIN_TOKEN): operator routes refuse every call")
        }
        if core.protection == nil {
            runtime.logger.warning(
                "no stops on the exchange: risk.protection.enabled or risk.exits.enabled is false")
        }
        return Gate(
            core: core, runtime: runtime,
            adminToken: config.adminToken, stateFile: config.stateFile)
    },
    routes: { gate in operatorRoutes(gate, token: gate.adminToken) }
) { gate in
    let runtime = gate.runtime
    runtime.status.addDetail("risk") { gate.statusDetail() }
    runtime.status.addDetail("protection") {
        ["stopsResting": gate.restingStops, "unprotectable": gate.unprotectable]
    }
    // What must survive a restart comes back before anything is heard.
    gate.restoreMemory()
    let stream = try runtime.subscribe(
        to: [.signalGenerator, .executor, .feedHandler],
        topics: ["intent.", "sig.", "exec.", "acct.", "md.bar.", "svc.breaker.executor", "svc.hb.executor"])
    let housekeeping = Task {
        var ticks = 0
        while !Task.isCancelled {
            let now = runtime.clock.now()
            gate.observeVenue(now: now)
            let (overdue, changes) = gate.withCore { $0.tick(now: now) }
            for reason in overdue { runtime.logger.warning("order overdue", metadata: ["reason": "\(reason)"]) }
            gate.commit(changes)
            gate.keepStops(now: now)
            gate.recordBookFigures()
            runtime.publish(gate.restatement(), traceId: runtime.newIdentifier())
            // What the restore said at start went out before subscribers could reconnect: say it again.
            if ticks % 60 == 2 { gate.repeatRestoreNotices() }
            ticks += 1
            try await Task.sleep(for: .seconds(1))
        }
    }
    defer { housekeeping.cancel() }
    runtime.status.setReady()
    // The stream ends at graceful shutdown (ServiceRuntime ends every subscription).
    for await event in stream {
        guard case .envelope(let raw) = event else { continue }
        let now = runtime.clock.now()
        do {
            switch raw.messageType {
            case .orderIntent:
                gate.admit(try raw.decode(OrderIntent.self), traceId: raw.header.traceId)
            case .quoteTarget:
                gate.approve(try raw.decode(QuoteTarget.self), traceId: raw.header.traceId)
            case .fill:
                gate.apply(try raw.decode(Fill.self), now: now)
            case .signal:
                gate.heard(try raw.decode(Signal.self))
            case .orderAck:
                let ack = try raw.decode(OrderAck.self)
                gate.withCore { $0.apply(ack, now: now) }
                gate.commit([])
            case .orderReject:
                let reject = try raw.decode(OrderReject.self)
                gate.withCore { $0.apply(reject, now: now) }
                gate.commit([])
            case .orderCanceled:
                let cancel = try raw.decode(OrderCanceled.self)
                gate.withCore { $0.apply(cancel, now: now) }
                gate.commit([])
            case .accountSnapshot:
                let snapshot = try raw.decode(AccountSnapshot.self)
                gate.apply(snapshot, now: now)
            case .bar:
                let bar = try raw.decode(Bar.self)
                gate.onBar(bar, traceId: raw.header.traceId, now: now)
                gate.release(after: bar, now: now)
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
