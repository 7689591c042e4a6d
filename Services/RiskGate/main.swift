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
    var limits: RiskLimits
    /// nil when `risk.exits.enabled` is false.
    var exits: ExitPolicy?
    var symbols: [String]
    var endpoint: HyperliquidEndpoint
    var startingCapital: Amount
    /// Bearer token for the operator routes; nil refuses them all.
    var adminToken: String?
    /// Where the book's memory (kill switch, HALTED latch, equity baselines, reservations) is kept.
    var stateFile = "var/risk-state.db"
    /// nil when `risk.protection.enabled` is false: no stop rests on the exchange.
    var protection: PositionProtection.Settings?
    var takeProfitOnExchange = false
    /// The leverage the executor sets on the exchange, and the margin limits entries face.
    var margin: MarginRules
    /// VaR, expected shortfall and stress limits; nil unless `risk.portfolio.enabled`.
    var portfolio: PortfolioRiskLimits?
    /// Entry limits per market regime; every factor 1 unless configured.
    var regimeScaling: RegimeLimitScaling
    /// Where the portfolio figures' history comes from at start.
    var history: HistorySources

    static func read(_ settings: inout Settings) -> RiskConfig {
        let defaults = RiskLimits()
        let exchange = ExchangeSettings.read(&settings, needsKey: false)
        var limits = RiskLimits(
            maxOpenPositions: settings.int("risk.maxOpenPositions", default: defaults.maxOpenPositions, in: 0...1_000),
            maxOrderNotional: settings.amount("risk.maxOrderNotional", default: defaults.maxOrderNotional),
            maxSymbolNotional: settings.amount("risk.maxSymbolNotional", default: defaults.maxSymbolNotional),
            maxGrossExposure: settings.amount("risk.maxGrossExposure", default: defaults.maxGrossExposure),
            maxDirectionShare: settings.double("risk.maxDirectionShare", default: defaults.maxDirectionShare, in: 0.5...1),
            dailyLossLimit: settings.amount("risk.dailyLossLimit", default: defaults.dailyLossLimit),
            drawdownLock: settings.double("risk.drawdownLock", default: defaults.drawdownLock, in: 0.001...1),
            reduceAtDrawdown: settings.double("risk.reduceAtDrawdown", default: defaults.reduceAtDrawdown, in: 0.001...1),
            maxOrdersPerMinute: settings.int("risk.maxOrdersPerMinute", default: defaults.maxOrdersPerMinute, in: 1...100_000),
            maxQuoteInventory: settings.amount("risk.maxQuoteInventory", default: defaults.maxQuoteInventory))
        limits.ackTimeoutNanos = Int64(settings.int("risk.ackTimeoutMs", default: 5_000, in: 100...600_000)) * 1_000_000
        for problem in limits.validationErrors() { settings.problem("risk: \(problem)") }
        let token = OperatorToken.read(&settings)
        var exits: ExitPolicy?
        if settings.bool("risk.exits.enabled", default: true) {
            // Every default is ExitPolicy.standard's; 0 (or "off" for a list) switches a path off.
            let standard = ExitPolicy.standard
            func fraction(_ key: String, _ value: Double?) -> Double? {
                let found = settings.double(key, default: value ?? 0, in: 0...0.99)
                return found == 0 ? nil : found
            }
            func levels<T>(_ key: String, _ value: [T], text: [String], parse: ([String]) throws(ExitPolicy.ConfigError) -> [T]) -> [T] {
                do {
                    return try parse(settings.stringList(key, default: text))
                } catch {
                    settings.problem("\(key): \(error)")
                    return value
                }
            }
            let softStop = standard.softStop ?? .standard
            let softLoss = fraction("risk.exits.softStop.loss", standard.softStop?.loss)
            let softConfirmations = settings.int(
                "risk.exits.softStop.confirmations", default: softStop.confirmations, in: 1...10_000)
            let atrMultiple = settings.double(
                "risk.exits.atrStop.multiple", default: standard.atrStop?.multiple ?? 0, in: 0...100)
            let trailing = standard.trailingStop ?? .standard
            let trailingOn = settings.bool("risk.exits.trailing.enabled", default: standard.trailingStop != nil)
            let trailingStop = ExitPolicy.TrailingStop(
                activationProfit: settings.double("risk.exits.trailing.activation", default: trailing.activationProfit, in: 0...10),
                atrMultiple: settings.double("risk.exits.trailing.atrMultiple", default: trailing.atrMultiple, in: 0.1...100),
                minDistance: settings.double("risk.exits.trailing.minDistance", default: trailing.minDistance, in: 0...1),
                maxDistance: settings.double("risk.exits.trailing.maxDistance", default: trailing.maxDistance, in: 0...1))
            let signal = standard.signalExit ?? .standard
            let signalConfirmations = settings.int(
                "risk.exits.signalExit.confirmations", default: standard.signalExit?.confirmations ?? 0, in: 0...10_000)
            let signalExit = ExitPolicy.SignalExit(
                minProfit: settings.double("risk.exits.signalExit.minProfit", default: signal.minProfit, in: 0...10),
                confirmations: signalConfirmations,
                cooldownNanos: Int64(settings.int(
                    "risk.exits.signalExit.cooldownSeconds", default: Int(signal.cooldownNanos / Nanos.second),
                    in: 0...604_800)) * Nanos.second)
            let holdingMinutes = settings.int(
                "risk.exits.maxHoldingMinutes", default: Int((standard.maxHoldingNanos ?? 0) / Nanos.minute),
                in: 0...1_000_000)
            let policy = ExitPolicy(
                emergencyTiers: levels(
                    "risk.exits.emergency.tiers", standard.emergencyTiers,
                    text: ExitPolicy.configText(standard.emergencyTiers), parse: ExitPolicy.emergencyTiers(parsing:)),
                hardStop: fraction("risk.exits.hardStop", standard.hardStop),
                softStop: softLoss.map { ExitPolicy.SoftStop(loss: $0, confirmations: softConfirmations) },
                atrStop: atrMultiple == 0 ? nil : .init(multiple: atrMultiple),
                trailingStop: trailingOn ? trailingStop : nil,
                takeProfits: levels(
                    "risk.exits.takeProfits", standard.takeProfits,
                    text: ExitPolicy.configText(standard.takeProfits), parse: ExitPolicy.takeProfits(parsing:)),
                signalExit: signalConfirmations == 0 ? nil : signalExit,
                maxHoldingNanos: holdingMinutes == 0 ? nil : Int64(holdingMinutes) * Nanos.minute,
                forceStopDistance: fraction("risk.exits.forceStopDistance", standard.forceStopDistance),
                intentTimeToLiveNanos: standard.intentTimeToLiveNanos, orderType: standard.orderType)
            for problem in policy.validationErrors() { settings.problem("risk.exits: \(problem)") }
            exits = policy
        }
        var protection: PositionProtection.Settings?
        // Without the exit engine there is no stop level to rest on the exchange.
        if settings.bool("risk.protection.enabled", default: true), exits != nil {
            let standard = PositionProtection.Settings.standard
            protection = PositionProtection.Settings(
                stopSlippage: settings.double("risk.protection.stopSlippage", default: standard.stopSlippage, in: 0.001...0.5),
                minMove: settings.double("risk.protection.minMove", default: standard.minMove, in: 0...0.1))
        }
        let takeProfitOnExchange = settings.bool("risk.protection.takeProfitOnExchange", default: false)
        let symbols = Symbols.read(&settings)
        return RiskConfig(
            limits: limits, exits: exits,
            symbols: symbols,
            endpoint: HyperliquidEndpoint(mode: exchange.mode, paperURL: exchange.paperURL),
            startingCapital: settings.amount("account.startingCapital", default: 10_000, minimum: 1),
            adminToken: token, stateFile: settings.dataPath("risk.stateFile", file: "risk-state.db"),
            protection: protection, takeProfitOnExchange: takeProfitOnExchange,
            margin: MarginRules.read(&settings, symbols: symbols), portfolio: Self.readPortfolio(&settings),
            regimeScaling: Self.readRegimeScaling(&settings), history: HistorySources.read(&settings, symbols: symbols))
    }

    /// `risk.regimeScaling.<regime>`: the factor the entered symbol's regime applies to the order,
    /// symbol and gross limits and to the VaR, ES and stress limits.
    static func readRegimeScaling(_ settings: inout Settings) -> RegimeLimitScaling {
        var factors: [Regime: Double] = [:]
        for regime in Regime.allCases {
            let factor = settings.double("risk.regimeScaling.\(regime.rawValue)", default: 1, in: 0.01...10)
            if factor != 1 { factors[regime] = factor }
        }
        return RegimeLimitScaling(factors: factors)
    }

    static func readPortfolio(_ settings: inout Settings) -> PortfolioRiskLimits? {
        guard settings.bool("risk.portfolio.enabled", default: false) else { return nil }
        let d = PortfolioRiskLimits()
        let limits = PortfolioRiskLimits(
            maxValueAtRisk: settings.amount("risk.portfolio.maxValueAtRisk", default: d.maxValueAtRisk, minimum: 0),
            maxExpectedShortfall: settings.amount(
                "risk.portfolio.maxExpectedShortfall", default: d.maxExpectedShortfall, minimum: 0),
            maxStressLoss: settings.amount("risk.portfolio.maxStressLoss", default: d.maxStressLoss, minimum: 0),
            confidence: settings.double("risk.portfolio.confidence", default: d.confidence, in: 0.5...0.9999),
            horizonBars: settings.int("risk.portfolio.horizonBars", default: d.horizonBars, in: 1...1_000_000),
            stepBars: settings.int("risk.portfolio.stepBars", default: d.stepBars, in: 1...1_000_000),
            historyWindow: settings.int("risk.portfolio.historyWindow", default: d.historyWindow, in: 1...100_000),
            minimumScenarios: settings.int("risk.portfolio.minimumScenarios", default: d.minimumScenarios, in: 1...100_000),
            fallbackLossFraction: settings.double(
                "risk.portfolio.fallbackLossFraction", default: d.fallbackLossFraction, in: 0...1),
            correlationThreshold: settings.double(
                "risk.portfolio.correlationThreshold", default: d.correlationThreshold, in: 0...1),
            correlationWindow: settings.int("risk.portfolio.correlationWindow", default: d.correlationWindow, in: 2...100_000),
            minimumCorrelationSamples: settings.int(
                "risk.portfolio.minimumCorrelationSamples", default: d.minimumCorrelationSamples, in: 2...100_000),
            fallbackCorrelation: settings.double(
                "risk.portfolio.fallbackCorrelation", default: d.fallbackCorrelation, in: -1...1),
            countCorrelatedAsOne: settings.bool("risk.portfolio.countCorrelatedAsOne", default: d.countCorrelatedAsOne))
        for problem in limits.validationErrors() { settings.problem("risk.portfolio: \(problem)") }
        return limits
    }
}

/// The risk book behind a lock: the bus loop, the timer and the operator routes share it.
final class Gate: Sendable {
    private let book: Mutex<RiskBook>
    /// The one exit engine: it emits exit intents, which go through the same rules as any other.
    private let exits: Mutex<ExitDesk?>
    /// The stops resting on the exchange for every position; nil when protection is off.
    private let protection: Mutex<PositionProtection?>
    /// What the executor says of the exchange, and whether the book was last told it is down.
    private let venue: Mutex<(watch: VenueWatch, down: Bool)>
    /// The book's memory on disk and what was last written there. Its lock is taken before the
    /// book's, never after, so memories reach the disk in the order they were taken.
    private let keeper: Mutex<MemoryKeeper>
    let runtime: ServiceRuntime
    private let decisions: Metrics.Counter
    private let stateGauge: Gauge
    private let lastPortfolioFigures = Mutex<EpochNanos>(0)
    private let saves: Metrics.Counter
    private let quoteApprovals: Metrics.Counter
    private let quoteClips: Metrics.Counter
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
        book: RiskBook, exits: ExitDesk?, protection: PositionProtection?, runtime: ServiceRuntime, adminToken: String?,
        stateFile: String = ""
    ) {
        self.book = Mutex(book)
        self.exits = Mutex(exits)
        self.protection = Mutex(protection)
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
        bookGauges = Dictionary(
            uniqueKeysWithValues: [
                "open_positions", "max_open_positions", "daily_loss", "daily_loss_limit", "drawdown", "drawdown_lock",
                "drawdown_lock_engaged", "equity", "realized_pnl", "unrealized_pnl", "gross_exposure",
                "max_gross_exposure", "kill_switch_engaged",
            ].map { ($0, Gauge(label: "breakwater_risk_\($0)", factory: runtime.metrics)) })
        reflect(book.state)
    }

    func withBook<T>(_ body: (inout RiskBook) -> T) -> T { book.withLock { body(&$0) } }

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
            guard memory != keeper.lastSaved else { return (true, []) }
            let now = runtime.clock.now()
            do {
                try store.save(memory, tradingState: memory.state.rawValue, killSwitch: memory.killSwitch.engaged, at: now)
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

    func evaluate(_ intent: OrderIntent, traceId: String) {
        let verdict = withBook { $0.evaluate(intent, now: runtime.clock.now()) }
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
            protect(&order)
            runtime.publish(order, traceId: traceId)
        }
        publish(verdict.stateChanges + more, traceId: traceId)
    }

    // MARK: Stops on the exchange

    /// An entry carries its stop (and take-profit, when configured) in the same signed action.
    private func protect(_ order: inout OrderCommand) {
        let now = runtime.clock.now()
        withProtection { keeper in
            defer { keeper.sent(order, now: now) }
            guard order.action == .place, !order.reduceOnly, order.trigger == nil, order.purpose == .entry,
                let symbol = order.symbol
            else { return }
            let reference = withBook { $0.mark(symbol) } ?? order.price
            let (stop, takeProfit) = withExits { desk in
                (
                    desk?.initialStop(symbol: symbol, side: order.side, size: order.size, entryPrice: reference, now: now),
                    desk?.exchangeTakeProfit(side: order.side, size: order.size, entryPrice: reference)
                )
            }
            guard let stop else { return }
            let children = keeper.protectiveOrders(
                for: order, reference: reference, stopPrice: stop, takeProfit: takeProfit)
            guard !children.isEmpty else { return }
            order.protectiveOrders = children
            order.grouping = .normalTpsl
        }
    }

    /// Brings the exchange's stops in line with the positions and the exit engine's levels:
    /// places what is missing, moves what trails, cancels what a closed position left behind.
    func keepStops(now: EpochNanos) {
        // Before the first snapshot the book knows no position and the stops are not known yet.
        guard withBook({ $0.accountSynced }) else { return }
        let (positions, marks) = withBook { book in
            let held = book.openPositions.filter { !book.isQuoted($0.symbol, now: now) }
            let positions = Dictionary(held.map { ($0.symbol, $0.size) }, uniquingKeysWith: +)
            var marks: [String: Amount] = [:]
            for symbol in positions.keys { marks[symbol] = book.mark(symbol) }
            return (positions, marks)
        }
        let levels = withExits { $0?.protectiveStops(now: now) } ?? [:]
        let deadline = now + withBook { $0.limits.ackTimeoutNanos }
        let commands = withProtection {
            $0.plan(positions: positions, stopLevels: levels, marks: marks, now: now, ackDeadline: deadline)
        } ?? []
        for command in commands {
            runtime.logger.notice(
                "exchange stop", metadata: [
                    "action": "\(command.action.rawValue)", "symbol": "\(command.symbol ?? "")",
                    "trigger": "\(command.trigger?.triggerPrice.description ?? "")", "size": "\(command.size)",
                ])
            runtime.publish(command, traceId: runtime.newIdentifier())
        }
    }

    /// The stops' book, when protection is on.
    @discardableResult
    func withProtection<T>(_ body: (inout PositionProtection) -> T) -> T? {
        protection.withLock { protection in
            guard var keeper = protection else { return nil }
            defer { protection = keeper }
            return body(&keeper)
        }
    }

    var unprotectable: [String: String] { protection.withLock { $0?.unprotectable ?? [:] } }
    var restingStops: Int { protection.withLock { $0?.stops.count ?? 0 } }

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

    func withExits<T>(_ body: (inout ExitDesk?) -> T) -> T { exits.withLock { body(&$0) } }

    /// Fills move positions; the exit engine follows the book's view of each.
    func apply(_ fill: Fill, now: EpochNanos) {
        let (changes, size, entry) = withBook { book in
            let changes = book.apply(fill, now: now)
            let symbol = fill.symbol ?? ""
            return (changes, book.position(symbol), book.entryPrice(symbol))
        }
        commit(changes)
        let quoted = withBook { $0.isQuoted(fill.symbol ?? "", now: now) }
        withExits {
            // A market maker's inventory is bounded by the quote limits, not exited position by position.
            $0?.sync(
                symbol: fill.symbol ?? "", size: quoted ? .zero : size, entryPrice: quoted ? nil : entry,
                time: fill.time, strategy: fill.strategy)
        }
        withProtection { $0.apply(fill) }
        keepStops(now: now)
    }

    /// The account as the executor's ledger has it; the exit engine follows every position in
    /// it, so after a restart the exits of positions opened before it resume.
    func apply(_ snapshot: AccountSnapshot, now: EpochNanos) {
        let (changes, positions) = withBook { book in
            (book.apply(snapshot, now: now), book.openPositions.filter { !book.isQuoted($0.symbol, now: now) })
        }
        commit(changes)
        withExits { $0?.sync(positions: positions, time: now) }
        withProtection { $0.apply(snapshot) }
    }

    /// Marks the bar's close and lets the exit engine look at the position.
    func onBar(_ bar: Bar, traceId: String, now: EpochNanos) {
        let (changes, equity) = withBook { book in
            book.recordBar(bar)
            return (book.updateMark(symbol: bar.symbol ?? "", price: bar.close, now: now), book.equity)
        }
        commit(changes)
        recordPortfolioFigures(now: now)
        defer { keepStops(now: now) }
        guard let exit = withExits({ $0?.onBar(bar, equity: equity, now: now) }) else { return }
        runtime.logger.notice(
            "exit fired", metadata: ["path": "\(exit.path.rawValue)", "detail": "\(exit.detail)", "symbol": "\(bar.symbol ?? "")"])
        runtime.publish(exit.intent, traceId: traceId)
        evaluate(exit.intent, traceId: traceId)
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
        var book = RiskBook(
            limits: config.limits, instruments: instruments,
            startingCapital: config.startingCapital, now: runtime.clock.now())
        book.portfolioLimits = config.portfolio
        book.regimeScaling = config.regimeScaling
        book.margin = config.margin
        if config.portfolio != nil {
            // Without it a restart would leave VaR on its fallback until a day of bars is heard again.
            let (bars, notes) = try config.history.load(
                symbols: config.symbols, perSymbol: ReturnHistory().capacity, now: runtime.clock.now())
            let taken = book.seedHistory(bars)
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
        let exits = config.exits.map {
            ExitDesk(
                engine: ExitEngine(policy: $0), instruments: instruments,
                takeProfitOnExchange: config.takeProfitOnExchange && config.protection != nil)
        }
        let protection = config.protection.map { PositionProtection(settings: $0, instruments: instruments) }
        if protection == nil {
            runtime.logger.warning(
                "no stops on the exchange: risk.protection.enabled or risk.exits.enabled is false")
        }
        return Gate(
            book: book, exits: exits, protection: protection, runtime: runtime, adminToken: config.adminToken,
            stateFile: config.stateFile)
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
            let (overdue, changes) = gate.withBook { book in (book.expireOverdue(now: now), book.tick(now: now)) }
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
                gate.evaluate(try raw.decode(OrderIntent.self), traceId: raw.header.traceId)
            case .quoteTarget:
                gate.approve(try raw.decode(QuoteTarget.self), traceId: raw.header.traceId)
            case .fill:
                gate.apply(try raw.decode(Fill.self), now: now)
            case .signal:
                let signal = try raw.decode(Signal.self)
                gate.withExits { $0?.onSignal(signal) }
            case .orderAck:
                let ack = try raw.decode(OrderAck.self)
                gate.withBook { $0.apply(ack, now: now) }
                gate.withProtection { $0.apply(ack) }
                gate.commit([])
            case .orderReject:
                let reject = try raw.decode(OrderReject.self)
                gate.withBook { $0.apply(reject, now: now) }
                gate.withProtection { $0.apply(reject) }
                gate.commit([])
            case .orderCanceled:
                let cancel = try raw.decode(OrderCanceled.self)
                gate.withBook { $0.apply(cancel, now: now) }
                gate.withProtection { $0.apply(cancel) }
                gate.commit([])
            case .accountSnapshot:
                let snapshot = try raw.decode(AccountSnapshot.self)
                gate.apply(snapshot, now: now)
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
