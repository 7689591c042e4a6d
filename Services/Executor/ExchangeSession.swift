import Execution
import Foundation
import Hyperliquid
import Ledger
import Logging
import Metrics
import Schema
import ServiceKit
import Storage
import Synchronization

/// The executor's side of the exchange: places and cancels orders, records fills in the ledger
/// before publishing them, reconciles with the exchange, and keeps the dead man's switch armed.
///
/// Fills reach it three ways — the `userFills` websocket, a REST sync after every order that
/// filled, and a periodic REST sync — and the ledger's fill id makes the three one.
final class ExchangeSession: Sendable {
    let runtime: ServiceRuntime
    let config: ExecutorConfig
    let client: HyperliquidClient<ContinuousClock>
    let store: LedgerStore
    let desk: Locked<Desk>
    private let fillsCounter: Counter
    private let metrics: any MetricsFactory
    private let actions: Counter
    private let ordersSent: Counter
    private let fundingCounter: Counter
    /// Symbols whose ledger position differs from the exchange's at the last check (0 when they agree).
    private let positionMismatches: Gauge
    /// When the exchange's cancel-all fires unless refreshed (0 before it was first armed), and its period.
    private let deadManExpiry: Gauge
    private let statsGauges: TradeStatsGauges
    /// Statistics are recomputed from every closed trade: at most once per 5 s, and only after a close.
    private let statsRefresh = Mutex(StatisticsRefresh(intervalNanos: 5_000_000_000))
    /// The ledger's free-space rule and its alert edges (a full disk refuses new exposure, with one alert).
    private let ledgerSpace: LedgerSpace
    private let ledgerHealth = Mutex(LedgerHealthWatch())
    private let ledgerFreeBytes: Gauge
    private let ledgerRefusals: Counter
    /// Told of every fill and funding payment once it is in the ledger (the quote driver).
    let fillObserver = Mutex<(@Sendable (Fill) -> Void)?>(nil)
    let fundingObserver = Mutex<(@Sendable (FundingSettlement) -> Void)?>(nil)

    /// What the bus loop, the fill paths, the timers and `/status` share.
    struct Desk {
        var ledger: FifoLedger
        var marks: [String: Amount] = [:]
        /// Orders sent whose answer has not been handled: their fills wait for it.
        var inFlight: Set<String> = []
        var lastReconciliation: String = "not yet"
        var lastFillSyncMs: UInt64?
        /// Fills of orders in flight were seen and left for a later sync.
        var fillsHeldBack = false
        var lastFundingSyncMs: UInt64?
        /// The last fill ("" for none) when a funding sync found every symbol flat, long enough after
        /// that fill for the exchange to have booked all its funding: until the next fill there is none.
        var fundingSettledThroughFill: String?
        var deadManUntilMs: UInt64?
        var deadManRefreshedAt: ContinuousClock.Instant?
        /// What became of the orders a quote pass sent, by client order id (only those it watches).
        var watched: [String: OrderOutcome?] = [:]

        mutating func note(_ clientOrderId: String, _ outcome: OrderOutcome) {
            guard watched.keys.contains(clientOrderId) else { return }
            watched[clientOrderId] = outcome
        }

        func snapshot(now: EpochNanos, openOrders: [OpenOrder]) -> AccountSnapshot? {
            try? ledger.snapshot(asOf: now, marks: marks, openOrders: openOrders)
        }
    }

    init(runtime: ServiceRuntime, config: ExecutorConfig, client: HyperliquidClient<ContinuousClock>, store: LedgerStore)
        throws
    {
        self.runtime = runtime
        self.config = config
        self.symbols = Set(config.symbols)
        self.client = client
        self.store = store
        // Funding between the fills by time: each payment belongs to the round trip open when it was paid.
        let ledger = try FifoLedger.replaying(
            fills: try store.fills(), funding: try store.fundingPayments(), startingCapital: config.startingCapital)
        desk = Locked(Desk(ledger: ledger))
        fillsCounter = Counter(label: "breakwater_fills_total", factory: runtime.metrics)
        metrics = runtime.metrics
        actions = Counter(label: "breakwater_order_actions_total", factory: runtime.metrics)
        ordersSent = Counter(label: "breakwater_orders_sent_total", factory: runtime.metrics)
        fundingCounter = Counter(label: "breakwater_funding_payments_total", factory: runtime.metrics)
        positionMismatches = Gauge(label: "breakwater_exec_position_mismatches", factory: runtime.metrics)
        deadManExpiry = Gauge(label: "breakwater_exec_dead_man_expiry_timestamp_seconds", factory: runtime.metrics)
        deadManExpiry.record(0)
        Gauge(label: "breakwater_exec_dead_man_seconds", factory: runtime.metrics).record(config.deadManSeconds)
        statsGauges = TradeStatsGauges(factory: runtime.metrics)
        ledgerSpace = LedgerSpace(reserveBytes: config.ledgerReserveBytes)
        ledgerFreeBytes = Gauge(label: "breakwater_exec_ledger_free_bytes", factory: runtime.metrics)
        ledgerRefusals = Counter(label: "breakwater_exec_ledger_refusals_total", factory: runtime.metrics)
        refreshStatistics()
    }

    // MARK: The ledger's disk

    /// Free bytes on the ledger's volume for an unprivileged writer, nil if it cannot be measured.
    func measureLedgerSpace() -> Int64? {
        var figures = statvfs()
        let directory = (store.path as NSString).deletingLastPathComponent
        guard statvfs(directory.isEmpty ? "." : directory, &figures) == 0 else { return nil }
        let free = Int64(figures.f_bavail) * Int64(figures.f_frsize)
        ledgerFreeBytes.record(free)
        if let change = ledgerHealth.withLock({ $0.observeSpace(freeBytes: free, rule: ledgerSpace) }) {
            announce(change, code: "ledger_space_low")
        }
        return free
    }

    /// A ledger write's outcome, for the alert edges.
    private func ledgerWrite(failed error: Error?) {
        if error == nil { runtime.status.setDegraded("ledger", nil) }
        if let change = ledgerHealth.withLock({ $0.observeWrite(error: error.map { "\($0)" }) }) {
            announce(change, code: "ledger_write_failed")
        }
    }

    /// One alert when the ledger goes bad (no new exposure is sent), one when it is well again.
    private func announce(_ change: LedgerHealthWatch.Change, code: String) {
        switch change {
        case .failing(let detail):
            runtime.status.setDegraded("ledger_space", "no new exposure: \(detail)")
            runtime.logger.critical("ledger cannot take new orders", metadata: ["detail": "\(detail)"])
            runtime.publish(
                Alert(
                    severity: .critical, code: code,
                    message: "the executor refuses new exposure: \(detail)", service: runtime.name.rawValue),
                traceId: runtime.newIdentifier())
        case .recovered:
            runtime.status.setDegraded("ledger_space", nil)
            runtime.logger.notice("ledger writable again; new orders resume")
            runtime.publish(
                Alert(
                    severity: .info, code: "ledger_recovered", message: "the ledger is writable again; new orders resume",
                    service: runtime.name.rawValue),
                traceId: runtime.newIdentifier())
        }
    }

    /// The headline statistics gauges, from the ledger's closed trades: at start, and after a trade
    /// closes at most once per interval (the executor's timer calls this every second).
    func refreshStatistics() {
        guard statsRefresh.withLock({ $0.due(now: runtime.clock.now()) }) else { return }
        let (trades, capital) = desk.withLock { ($0.ledger.closedTrades, $0.ledger.startingCapital) }
        statsGauges.record(trades: trades, startingCapital: capital, now: runtime.clock.now())
    }

    var account: Address { config.account }
    let symbols: Set<String>

    /// Whether this executor trades `symbol`.
    func trades(_ symbol: String) -> Bool { symbols.contains(symbol) }
    private var now: EpochNanos { runtime.clock.now() }
    private var nowMs: UInt64 { UInt64(max(runtime.clock.now(), 0) / 1_000_000) }

    // MARK: Orders

    /// Sends a batch of commands as the plan groups them (`ActionPlan`): cancels first, then plain
    /// places in one action, each entry with its protective orders in an action of its own, then
    /// modifies in one `batchModify`.
    func execute(_ batch: [(command: OrderCommand, traceId: String)]) async {
        let plan = ActionPlan.plan(
            batch, routing: config.routing, marks: desk.withLock { $0.marks }, traded: symbols)
        for (command, traceId, reason) in plan.refused { reject(command, reason, traceId: traceId, record: false) }
        for action in plan.actions {
            switch action {
            case .cancel(let cancels): await cancel(cancels)
            case .place(let orders, let grouping): await place(orders, grouping: grouping)
            case .modify(let orders): await modify(orders)
            }
        }
    }

    /// Records every order of one action (protective ones too) in one transaction before sending it.
    /// In a `normalTpsl` group the entry and its stops go together or not at all: an entry never
    /// goes out unprotected.
    private func record(_ orders: [ActionPlan.PlannedOrder], grouping: Grouping) -> [ActionPlan.PlannedOrder] {
        // Below the ledger's free-space reserve no new exposure goes out (its fills might not be
        // recordable); in a `normalTpsl` group the stops go with their entry or not at all.
        let free = measureLedgerSpace()
        let refusals = orders.map { ledgerSpace.refusal($0.command, freeBytes: free) }
        if let first = refusals.compactMap({ $0 }).first {
            let whole = grouping == .normalTpsl
            var admitted: [ActionPlan.PlannedOrder] = []
            for (order, refusal) in zip(orders, refusals) {
                if let reason = refusal ?? (whole ? first : nil) {
                    ledgerRefusals.increment()
                    reject(order.command, reason, traceId: order.traceId, record: false)
                } else {
                    admitted.append(order)
                }
            }
            guard !admitted.isEmpty else { return [] }
            return record(admitted, grouping: grouping)
        }
        let results: [LedgerStore.StoreError?]
        do {
            results = try store.recordOrders(orders.map { ($0.command, $0.traceId) }, at: now)
        } catch {
            runtime.status.setDegraded("ledger", "\(error)")
            ledgerWrite(failed: error)
            for order in orders {
                ledgerRefusals.increment()
                reject(order.command, Reason(.ledgerWriteFailed, "\(error)"), traceId: order.traceId, record: false)
            }
            return []
        }
        ledgerWrite(failed: nil)
        // The ledger refuses a client order id it has seen: an order is never placed twice.
        let allOrNothing = grouping == .normalTpsl && results.contains { $0 != nil }
        var recorded: [ActionPlan.PlannedOrder] = []
        for (order, refusal) in zip(orders, results) {
            if let refusal {
                reject(order.command, Reason(.duplicateIntent, "\(refusal)"), traceId: order.traceId, record: false)
            } else if allOrNothing {
                reject(order.command, Reason(.duplicateIntent, "not sent: a sibling was refused"), traceId: order.traceId)
            } else {
                recorded.append(order)
            }
        }
        return recorded
    }

    /// Places one action's orders (the rate limiter staggers actions).
    private func place(_ orders: [ActionPlan.PlannedOrder], grouping: Grouping) async {
        let accepted = record(orders, grouping: grouping)
        guard !accepted.isEmpty else { return }
        let ids = accepted.map(\.command.clientOrderId)
        desk.withLock { $0.inFlight.formUnion(ids) }
        defer { desk.withLock { $0.inFlight.subtract(ids) } }

        let statuses: [OrderStatus]
        actions.increment()
        ordersSent.increment(by: accepted.count)
        do {
            statuses = try await client.order(accepted.map(\.request), grouping: grouping)
        } catch {
            await placementFailed(accepted.map { ($0.command, $0.traceId) }, error: error)
            return
        }
        var anyFilled = false
        var remainders: [(command: OrderCommand, traceId: String, size: Amount)] = []
        for (order, status) in zip(accepted, statuses) {
            switch PlacementOutcome.of(status, order: order) {
            case .accepted(let oid):
                acknowledge(order.command, oid: oid, traceId: order.traceId)
            case .filled(let oid, let remainder):
                acknowledge(order.command, oid: oid, traceId: order.traceId)
                anyFilled = true
                if let remainder { remainders.append((order.command, order.traceId, remainder)) }
            case .rejected(let reason):
                reject(order.command, reason, traceId: order.traceId)
            }
        }
        desk.withLock { $0.inFlight.subtract(ids) }
        guard anyFilled else { return }
        await syncFills(reason: "order filled")
        for (command, traceId, size) in remainders {
            ended(command, reason: Reason(.canceledByVenue, "IOC remainder \(size) not filled"), traceId: traceId)
        }
    }

    /// Modifies live orders in one `batchModify`; each keeps its client order id. The ledger takes
    /// the new price, size and trigger once the exchange accepted them.
    private func modify(_ orders: [ActionPlan.PlannedOrder]) async {
        var live: [(order: ActionPlan.PlannedOrder, stored: LedgerStore.StoredOrder)] = []
        for order in orders {
            let stored: LedgerStore.StoredOrder?
            do { stored = try store.order(order.command.clientOrderId) } catch {
                ledgerUnreadable(error, while: "modifying \(order.command.clientOrderId)")
                reject(order.command, Reason(.ledgerWriteFailed, "ledger unreadable: \(error)"), traceId: order.traceId, record: false)
                continue
            }
            guard let stored, stored.status.isLive else {
                reject(order.command, Reason(.venueRejected, OrderOutcome.notLive), traceId: order.traceId, record: false)
                continue
            }
            live.append((order, stored))
        }
        guard !live.isEmpty else { return }
        let requests = live.map { entry in
            ModifyRequest(target: .cloid(entry.order.request.cloid!), order: entry.order.request)
        }
        // A modify is a cancel and a place: the venue's word on the old order must not end this one.
        let ids = live.map(\.order.command.clientOrderId)
        desk.withLock { $0.inFlight.formUnion(ids) }
        defer { desk.withLock { $0.inFlight.subtract(ids) } }
        actions.increment()
        let statuses: [OrderStatus]
        do {
            statuses = try await client.batchModify(requests)
        } catch {
            for (order, _) in live {
                reject(order.command, Reason(.venueUnavailable, "modify not confirmed: \(error)"), traceId: order.traceId, record: false)
            }
            // Whether it landed is settled by the next reconciliation against the exchange's orders.
            return
        }
        var anyFilled = false
        var gone: [(OrderCommand, Reason, String)] = []
        for ((order, stored), status) in zip(live, statuses) {
            let outcome = PlacementOutcome.of(status, order: order)
            switch outcome {
            case .accepted, .filled:
                var oid: UInt64?
                if case .accepted(let accepted) = outcome { oid = accepted }
                if case .filled(let filled, _) = outcome {
                    oid = filled
                    anyFilled = true
                }
                var command = order.command
                command.action = .place
                command.size = stored.filledSize + order.command.size
                do { try store.replaceCommand(command, venueOrderId: oid.map { "\($0)" }, at: now) } catch {
                    ledgerUnreadable(error, while: "recording a modify of \(command.clientOrderId)")
                }
                desk.withLock { $0.note(order.command.clientOrderId, .modified) }
                if command.isQuote { continue }
                runtime.publish(
                    OrderAck(
                        clientOrderId: order.command.clientOrderId, venueOrderId: oid.map { "\($0)" } ?? "",
                        symbol: order.command.symbol ?? "", action: .modify),
                    traceId: order.traceId)
            case .rejected(let reason):
                reject(order.command, reason, traceId: order.traceId, record: false)
                // A modify is a cancel and a place: refused for crossing, or because the order had
                // ended, the original is no longer on the book either.
                if VenueAnswers.isPostOnlyCross(reason.detail) || VenueAnswers.isMissingOrder(reason.detail) {
                    gone.append((stored.command, reason, order.traceId))
                }
            }
        }
        if anyFilled || !gone.isEmpty {
            await syncFills(reason: "modify filled or ended", unlessWithinMs: Self.quoteSyncSpacing(live.map(\.order.command)))
        }
        for (command, reason, traceId) in gone {
            guard let after = try? store.order(command.clientOrderId), after.status.isLive else { continue }
            ended(command, reason: Reason(.canceledByVenue, "modify refused, original gone: \(reason.detail)"), traceId: traceId)
        }
    }

    /// The action failed as a whole. Refused before sending (breaker open, local rate limit): not
    /// placed. Otherwise (timeout, 5xx, lost answer) it may be on the book: ask the exchange.
    private func placementFailed(_ batch: [(OrderCommand, String)], error: HyperliquidClientError) async {
        let neverSent: Bool =
            switch error {
            case .circuitOpen, .rateLimitedLocally, .noWallet, .signing, .invalidRequest: true
            default: false
            }
        runtime.logger.warning(
            "order action failed", metadata: ["orders": "\(batch.count)", "error": "\(error)", "sent": "\(!neverSent)"])
        for (command, traceId) in batch {
            if neverSent {
                reject(command, Reason(.venueUnavailable, "\(error)"), traceId: traceId)
            } else {
                await resolveUnknown(command, traceId: traceId, cause: "\(error)")
            }
        }
    }

    /// An order whose answer was lost: the exchange's order status by cloid decides. While the
    /// exchange cannot answer it stays `new` in the ledger and the next reconciliation settles it.
    private func resolveUnknown(_ command: OrderCommand, traceId: String, cause: String) async {
        guard let cloid = try? OrderRouting.cloid(command.clientOrderId) else { return }
        let answer: OrderStatusResponse
        do {
            answer = try await client.orderStatus(user: account, cloid: cloid)
        } catch {
            runtime.logger.warning(
                "order outcome unknown until the exchange answers",
                metadata: ["cloid": "\(command.clientOrderId)", "cause": "\(cause)"])
            runtime.status.setDegraded("reconciliation", "order outcomes unknown; reconciling when the exchange answers")
            return
        }
        switch LostAnswer.resolve(answer) {
        case .neverPlaced:
            reject(command, Reason(.venueUnavailable, "not placed: \(cause)"), traceId: traceId)
        case .refused(let status):
            reject(command, Reason(.venueRejected, "exchange status \(status.rawValue) (answer lost: \(cause))"), traceId: traceId)
        case .live(let oid):
            acknowledge(command, oid: oid, traceId: traceId)
        case .ended(let oid, let status):
            acknowledge(command, oid: oid, traceId: traceId)
            await syncFills(reason: "order resolved")
            if let stored = try? store.order(command.clientOrderId), stored.status.isLive {
                ended(command, reason: Reason(.canceledByVenue, "exchange status \(status.rawValue)"), traceId: traceId)
            }
        }
    }

    /// Cancels live orders by client order id, in one action. Cancels are never refused here for
    /// the trading state: shrinking what rests is always allowed.
    private func cancel(_ batch: [(command: OrderCommand, traceId: String)]) async {
        var live: [(command: OrderCommand, traceId: String, stored: LedgerStore.StoredOrder, cloid: Cloid)] = []
        for (command, traceId) in batch {
            let stored: LedgerStore.StoredOrder?
            do { stored = try store.order(command.clientOrderId) } catch {
                ledgerUnreadable(error, while: "canceling \(command.clientOrderId)")
                reject(command, Reason(.ledgerWriteFailed, "ledger unreadable: \(error)"), traceId: traceId, record: false)
                continue
            }
            guard let stored, stored.status.isLive, let cloid = try? OrderRouting.cloid(command.clientOrderId) else {
                reject(command, Reason(.venueRejected, OrderOutcome.notLive), traceId: traceId, record: false)
                continue
            }
            live.append((command, traceId, stored, cloid))
        }
        guard !live.isEmpty else { return }
        actions.increment()
        let statuses: [CancelStatus]
        do {
            statuses = try await client.cancelByCloid(
                live.map { CancelByCloidRequest(coin: $0.stored.command.symbol ?? "", cloid: $0.cloid) })
        } catch {
            for entry in live {
                reject(entry.command, Reason(.venueUnavailable, "\(error)"), traceId: entry.traceId, record: false)
            }
            return
        }
        var refused = false
        var gone: [(command: OrderCommand, traceId: String)] = []
        for (entry, status) in zip(live, statuses) {
            if let message = status.errorMessage {
                // Usually: it filled or was canceled just before; the fill sync tells which.
                refused = true
                reject(entry.command, Reason(.venueRejected, message), traceId: entry.traceId, record: false)
                if VenueAnswers.isMissingOrder(message) { gone.append((entry.stored.command, entry.traceId)) }
            } else {
                ended(entry.stored.command, reason: Reason("canceled_by_request"), traceId: entry.traceId)
            }
        }
        if refused {
            await syncFills(reason: "cancel refused", unlessWithinMs: Self.quoteSyncSpacing(live.map(\.command)))
        }
        // The venue no longer has them and the fills are in: what the ledger still holds live has ended.
        for (command, traceId) in gone {
            guard let after = try? store.order(command.clientOrderId), after.status.isLive else { continue }
            ended(command, reason: Reason(.canceledByVenue, "the exchange no longer has it"), traceId: traceId)
        }
    }

    /// The exchange ended one of our orders without a fill (a sibling's fill, the dead man's
    /// switch, reduce-only, margin): the ledger and the bus hear it now, not at the next reconciliation.
    func orderUpdated(_ update: OrderUpdate) async {
        guard trades(update.order.coin), let id = update.order.cloid?.rawValue, !update.status.isLive,
            update.status != .filled, !desk.withLock({ $0.inFlight.contains(id) })
        else { return }
        let stored: LedgerStore.StoredOrder?
        do { stored = try store.order(id) } catch {
            ledgerUnreadable(error, while: "reading order \(id) for an order update")
            return
        }
        guard let stored, stored.status.isLive else { return }
        // An update about an order a modify replaced (its old oid) says nothing of the order now live.
        if let oid = stored.venueOrderId, oid != "\(update.order.oid)" { return }
        await syncFills(reason: "order \(update.status.rawValue)", unlessWithinMs: Self.quoteSyncSpacing([stored.command]))
        guard let after = try? store.order(id), after.status.isLive else { return }
        ended(stored.command, reason: Reason(.canceledByVenue, "exchange status \(update.status.rawValue)"), traceId: trace(of: stored))
    }

    /// Starts noting what becomes of these orders (a quote pass's report).
    func watch(_ clientOrderIds: [String]) {
        desk.withLock { desk in for id in clientOrderIds { desk.watched[id] = .some(nil) } }
    }

    /// Stops noting, and returns what became of each (nil: no answer was handled).
    func unwatch(_ clientOrderIds: [String]) -> [String: OrderOutcome?] {
        desk.withLock { desk in
            var out: [String: OrderOutcome?] = [:]
            for id in clientOrderIds { out[id] = desk.watched.removeValue(forKey: id) ?? nil }
            return out
        }
    }

    private func acknowledge(_ command: OrderCommand, oid: UInt64?, traceId: String) {
        do {
            try store.setStatus(command.clientOrderId, .acked, venueOrderId: oid.map { "\($0)" }, at: now)
        } catch {
            runtime.status.setDegraded("ledger", "\(error)")
        }
        desk.withLock { $0.note(command.clientOrderId, .resting) }
        // A quote pass reports its orders together (exec.quotes): no ack per quote.
        guard !command.isQuote else { return }
        runtime.publish(
            OrderAck(
                clientOrderId: command.clientOrderId, venueOrderId: oid.map { "\($0)" } ?? "",
                symbol: command.symbol ?? "", action: .place),
            traceId: traceId)
    }

    private func ended(_ command: OrderCommand, reason: Reason, traceId: String) {
        try? store.setStatus(command.clientOrderId, .canceled, at: now)
        desk.withLock { $0.note(command.clientOrderId, .canceled) }
        if command.isQuote && reason.code != .canceledByVenue { return }
        runtime.publish(
            OrderCanceled(clientOrderId: command.clientOrderId, symbol: command.symbol ?? "", reason: reason),
            traceId: traceId)
    }

    /// Rejects by the reason's code (a closed set), so the dashboard ranks them.
    private func countReject(_ reason: Reason) {
        Counter(label: "breakwater_order_rejects_total", dimensions: [("reason", reason.code.rawValue)], factory: metrics).increment()
    }

    func reject(_ command: OrderCommand, _ reason: Reason, traceId: String, record: Bool = true) {
        if record { try? store.setStatus(command.clientOrderId, .rejected, at: now) }
        desk.withLock { $0.note(command.clientOrderId, .rejected(reason)) }
        // A post-only quote that would have crossed is repriced on the next pass, not an error.
        if command.isQuote {
            if !VenueAnswers.isPostOnlyCross(reason.detail) { countReject(reason) }
            return
        }
        countReject(reason)
        runtime.logger.warning("order rejected", metadata: ["cloid": "\(command.clientOrderId)", "reason": "\(reason)"])
        runtime.publish(
            OrderReject(clientOrderId: command.clientOrderId, symbol: command.symbol ?? "", reason: reason),
            traceId: traceId)
    }

    // MARK: Fills

    /// Records the exchange's fills of our orders, oldest first, from the websocket or REST; those of
    /// orders still in flight wait for the order's answer (its own sync takes them then).
    func recordExchangeFills(_ fills: [UserFill]) {
        let inFlight = desk.withLock { $0.inFlight }
        for fill in fills.sorted(by: { ($0.time, $0.tid) < ($1.time, $1.tid) }) where trades(fill.coin) {
            if fill.liquidation != nil {
                recordLiquidation(fill)
                continue
            }
            guard let id = fill.cloid?.rawValue else { continue }
            guard !inFlight.contains(id) else {
                // Held back until the order's answer is in: a sync is owed, whatever the spacing.
                desk.withLock { $0.fillsHeldBack = true }
                continue
            }
            let order: LedgerStore.StoredOrder?
            do { order = try store.order(id) } catch {
                // Not recorded now; the next sync asks again. Never taken for "not ours".
                ledgerUnreadable(error, while: "reading order \(id) for a fill")
                return
            }
            guard let order else { continue }
            record(FillMapping.fill(fill, order: order.command), traceId: trace(of: order))
        }
    }

    /// The venue closed a position because the account fell below maintenance margin: its order goes
    /// into the ledger as an exit by "liquidation", then its fill, as for any order; the first time,
    /// a critical alert says what happened.
    func recordLiquidation(_ fill: UserFill) {
        let command = FillMapping.liquidationOrder(fill, at: runtime.clock.now())
        let traceId = runtime.newIdentifier()
        let fresh: Bool
        do { fresh = try store.recordOrders([(command, traceId)], at: runtime.clock.now())[0] == nil } catch {
            ledgerUnreadable(error, while: "recording a liquidation")
            return
        }
        record(FillMapping.fill(fill, order: command), traceId: traceId)
        guard fresh else { return }
        let mark = fill.liquidation.map { " (mark \($0.markPx), \($0.method))" } ?? ""
        let message = "liquidated: \(fill.dir) \(fill.sz) \(fill.coin) at \(fill.px)\(mark), closed P&L \(fill.closedPnl)"
        runtime.logger.critical("liquidated", metadata: ["detail": "\(message)"])
        runtime.publish(
            Alert(severity: .critical, code: "liquidated", message: message, service: runtime.name.rawValue, symbol: fill.coin),
            traceId: traceId)
    }

    /// The trace an order's messages belong to: the cycle from the bar that caused it.
    private func trace(of order: LedgerStore.StoredOrder?) -> String {
        order?.traceId ?? runtime.newIdentifier()
    }

    /// The regular look at the exchange: fills while orders are live, otherwise the position (a
    /// lighter call). Either way an exchange that stopped answering trips the breaker while idle.
    func poll() async {
        let live: [LedgerStore.StoredOrder]
        do { live = try store.liveOrders() } catch {
            ledgerUnreadable(error, while: "polling")
            return
        }
        if live.isEmpty && !desk.withLock({ $0.fillsHeldBack }) {
            await checkPosition()
        } else {
            await syncFills(reason: "poll")
        }
    }

    /// A ledger read failed: say so and stop what depended on it; an unreadable ledger is never "empty".
    func ledgerUnreadable(_ error: any Error, while doing: String) {
        runtime.status.setDegraded("ledger", "read failed while \(doing): \(error)")
        runtime.logger.critical("ledger unreadable", metadata: ["while": "\(doing)", "error": "\(error)"])
    }

    /// Fetches the exchange's fills since the ledger's last one and records those it lacks.
    /// How recent a fill sync may be for orders that are all quotes to skip another: a market maker's
    /// orders end by the hundred, the stream brings their fills, and a late fill of an order already
    /// ended is still booked. Other orders always sync. Each sync weighs 20 and more of the IP's 1,200
    /// a minute, which every process and tool on the machine shares: at one every 2 s a market maker's
    /// syncs alone could take half of it, and the official SDK beside it was refused with 429s.
    static func quoteSyncSpacing(_ commands: [OrderCommand]) -> UInt64 {
        !commands.isEmpty && commands.allSatisfy(\.isQuote) ? 10_000 : 0
    }

    /// `unlessWithinMs`: skipped when the last sync is more recent (a market maker's fills come often and
    /// the stream brings them; a REST sync weighs 20 and more against the IP limit).
    func syncFills(reason: String, unlessWithinMs: UInt64 = 0) async {
        if unlessWithinMs > 0, let (last, owed) = desk.withLock({ desk in desk.lastFillSyncMs.map { ($0, desk.fillsHeldBack) } }),
            !owed, nowMs < last + unlessWithinMs
        {
            return
        }
        let start: UInt64?
        do { start = try fillSyncStart() } catch {
            ledgerUnreadable(error, while: "starting a fill sync")
            return
        }
        guard let since = start else { return }  // no order ever placed: no fill can be ours
        let fills: [UserFill]
        do {
            fills = try await userFills(since: since)
        } catch {
            runtime.logger.warning("fill sync failed", metadata: ["reason": "\(reason)", "error": "\(error)"])
            return
        }
        desk.withLock { $0.fillsHeldBack = false }  // what this sync holds back again sets it again
        recordExchangeFills(fills)
        desk.withLock { $0.lastFillSyncMs = nowMs }
    }

    /// A second (clock skew, equal times) before the older of the ledger's newest fill and its
    /// oldest live order: a live order's fills can be older than a fill already recorded.
    private func fillSyncStart() throws -> UInt64? {
        let last = try store.lastFillTime()
        let oldestLive = try store.liveOrders().map(\.createdAt).min()
        let first = try store.firstOrderTime()
        let candidates = [last, oldestLive].compactMap { $0 }
        guard let from = candidates.min() ?? first else { return nil }
        let ms = UInt64(max(from, 0) / 1_000_000)
        return ms > 1_000 ? ms - 1_000 : 0
    }

    /// `userFillsByTime` pages (2,000 fills each) from `since`.
    private func userFills(since: UInt64) async throws(HyperliquidClientError) -> [UserFill] {
        var all: [UserFill] = []
        var start = since
        while true {
            let page = try await client.userFillsByTime(user: account, startTime: start)
            all += page
            guard page.count >= 2_000, let last = page.map(\.time).max(), last > start else { break }
            start = last
        }
        return all
    }

    /// Written before published: a fill on the bus is always in the ledger. A repeat is dropped.
    private func record(_ fill: Fill, traceId: String) {
        do {
            guard try store.recordFill(fill) else { return }
        } catch {
            runtime.status.setDegraded("ledger", "\(error)")
            ledgerWrite(failed: error)
            runtime.logger.critical(
                "fill not recorded; the next sync retries it", metadata: ["fill": "\(fill.fillId)", "error": "\(error)"])
            runtime.publish(
                Alert(
                    severity: .critical, code: "ledger_write_failed", message: "\(error)", service: runtime.name.rawValue,
                    symbol: fill.symbol),
                traceId: traceId)
            return
        }
        ledgerWrite(failed: nil)
        let closed = desk.withLock { (try? $0.ledger.apply(fill))?.report?.closedTrades.isEmpty == false }
        runtime.publish(fill, traceId: traceId)
        if closed {
            statsRefresh.withLock { $0.tradeClosed() }
            refreshStatistics()
        }
        fillsCounter.increment()
        fillObserver.withLock { $0 }?(fill)
        publishSnapshot()
    }

    // MARK: Funding

    /// Books the funding payments the exchange made on our positions that the ledger lacks: ledger
    /// first, then the FIFO ledger, then the bus, then an account snapshot. One `userFunding` request
    /// (weight 20) per call, none while every symbol has been flat since a sync that settled it.
    func syncFunding(reason: String) async {
        let start: UInt64?
        let (lastFillId, flat, settled) = desk.withLock { desk in
            (
                desk.ledger.lastFillId ?? "", symbols.allSatisfy { desk.ledger.positionSize($0).isZero },
                desk.fundingSettledThroughFill
            )
        }
        if flat, settled == lastFillId { return }
        let lastFillTime: EpochNanos?
        do {
            start = try fundingSyncStart()
            lastFillTime = try store.lastFillTime()
        } catch {
            ledgerUnreadable(error, while: "starting a funding sync")
            return
        }
        guard let since = start else { return }  // no order ever placed: no position, no funding
        let requestedAt = now
        let payments: [UserFunding]
        do {
            payments = try await userFunding(since: since)
        } catch {
            runtime.logger.warning("funding sync failed", metadata: ["reason": "\(reason)", "error": "\(error)"])
            return
        }
        var booked = 0
        for payment in payments.sorted(by: { ($0.time, $0.coin) < ($1.time, $1.coin) }) where trades(payment.coin) {
            let settlement = FundingMapping.settlement(payment)
            do {
                guard try store.recordFunding(settlement) else { continue }
            } catch {
                runtime.status.setDegraded("ledger", "\(error)")
                runtime.logger.critical(
                    "funding not recorded; the next sync retries it",
                    metadata: ["funding": "\(settlement.fundingId)", "error": "\(error)"])
                runtime.publish(
                    Alert(
                        severity: .critical, code: "ledger_write_failed", message: "\(error)",
                        service: runtime.name.rawValue, symbol: settlement.symbol),
                    traceId: runtime.newIdentifier())
                return
            }
            desk.withLock { desk in
                do {
                    try desk.ledger.applyFunding(
                        symbol: settlement.symbol ?? "", amount: settlement.amount, time: settlement.time)
                } catch {
                    runtime.logger.error("funding not booked in the FIFO ledger", metadata: ["error": "\(error)"])
                }
            }
            runtime.publish(settlement, traceId: runtime.newIdentifier())
            fundingCounter.increment()
            fundingObserver.withLock { $0 }?(settlement)
            booked += 1
        }
        let settledNow = FundingSync.settlesUntilNextFill(flat: flat, lastFillTime: lastFillTime, now: requestedAt)
        desk.withLock { desk in
            desk.lastFundingSyncMs = nowMs
            desk.fundingSettledThroughFill = settledNow ? lastFillId : nil
        }
        if booked > 0 {
            runtime.logger.info("funding booked", metadata: ["payments": "\(booked)", "reason": "\(reason)"])
            publishSnapshot()
        }
    }

    /// A minute before the ledger's newest funding payment, or before its first order.
    private func fundingSyncStart() throws -> UInt64? {
        FundingSync.startMs(lastFunding: try store.lastFundingTime(), firstOrder: try store.firstOrderTime())
    }

    /// `userFunding` pages (500 payments each) from `since`.
    private func userFunding(since: UInt64) async throws(HyperliquidClientError) -> [UserFunding] {
        var all: [UserFunding] = []
        var start = since
        while true {
            let page = try await client.userFunding(user: account, startTime: start)
            all += page
            guard page.count >= 500, let last = page.map(\.time).max(), last > start else { break }
            start = last
        }
        return all
    }

    // MARK: Reconciliation

    /// Makes the ledger agree with the exchange: fills it lacks, orders that ended while nobody
    /// watched, orders nobody here placed (canceled). Throws when the exchange cannot answer or the
    /// ledger cannot be read: an unread ledger would make every resting order look foreign.
    @discardableResult
    func reconcile(why: String) async throws -> Reconciliation {
        let inFlight = desk.withLock { $0.inFlight }
        let ledgerOrders: [LedgerStore.StoredOrder]
        let recorded: Set<String>
        let since: UInt64?
        do {
            ledgerOrders = try store.orders()
            recorded = Set(try store.fills().map(\.fillId))
            since = try fillSyncStart()
        } catch {
            ledgerUnreadable(error, while: "reconciling (\(why))")
            throw error
        }
        var known: [String: Reconciliation.KnownOrder] = [:]
        for order in ledgerOrders where !inFlight.contains(order.command.clientOrderId) {
            known[order.command.clientOrderId.lowercased()] = .init(
                command: order.command, isLive: order.status.isLive, filledSize: order.filledSize)
        }
        // Orders in flight are the order worker's: neither orphans nor foreign.
        let isInFlight = { (cloid: Cloid?) in cloid.map { inFlight.contains($0.rawValue) } ?? false }
        let open = try await client.openOrders(user: account).filter { !isInFlight($0.cloid) }
        var fills: [UserFill] = []
        if let since { fills = try await userFills(since: since).filter { !isInFlight($0.cloid) } }
        let plan = Reconciliation.plan(
            known: known, recordedFillIds: recorded, openOrders: open, fills: fills, symbols: symbols)

        for fill in plan.missingFills {
            record(fill, traceId: trace(of: (try? store.order(fill.clientOrderId)) ?? nil))
        }
        for fill in plan.liquidationFills { recordLiquidation(fill) }
        // Open on the exchange but still `new` here: the answer was lost; the exchange's word acks it.
        for (id, oid) in plan.open {
            guard let order = known[id] else { continue }
            let stored: LedgerStore.StoredOrder? = (try? store.order(order.command.clientOrderId)) ?? nil
            if stored?.status == LedgerStore.OrderStatus.new {
                acknowledge(order.command, oid: oid, traceId: trace(of: stored))
            }
        }
        for id in plan.ended {
            guard let order = known[id] else { continue }
            ended(order.command, reason: Reason(.canceledByVenue, "not open on the exchange at reconciliation"),
                traceId: trace(of: (try? store.order(order.command.clientOrderId)) ?? nil))
        }
        if !plan.orphans.isEmpty {
            runtime.logger.warning("canceling orders nobody here placed", metadata: ["orders": "\(plan.orphans.map(\.oid))"])
            _ = try? await client.cancel(plan.orphans.map { CancelRequest(coin: $0.coin, oid: $0.oid) })
        }
        if !plan.foreignFills.isEmpty {
            let coins = Set(plan.foreignFills.map(\.coin)).sorted().joined(separator: ", ")
            let message = "\(plan.foreignFills.count) fill(s) on \(coins) of orders this system did not place"
            runtime.status.setDegraded("foreign_fills", message)
            runtime.publish(
                Alert(severity: .critical, code: "foreign_fills", message: message, service: runtime.name.rawValue,
                    symbol: nil),
                traceId: runtime.newIdentifier())
        }
        await checkPosition()
        let summary =
            "\(why): \(plan.missingFills.count) missing fill(s), \(plan.open.count) open, \(plan.ended.count) ended, "
            + "\(plan.orphans.count) orphan(s) canceled, \(plan.foreignFills.count) foreign fill(s)"
        desk.withLock { $0.lastReconciliation = summary }
        runtime.status.setDegraded("reconciliation", nil)
        if plan.isClean {
            runtime.logger.info("reconciled", metadata: ["summary": "\(summary)"])
        } else {
            runtime.logger.notice("reconciled", metadata: ["summary": "\(summary)"])
        }
        publishSnapshot()
        return plan
    }

    /// The ledger's positions against the exchange's, symbol by symbol: a difference is an alert, never
    /// papered over.
    /// A difference is first looked for in the fills (a liquidation closes positions with no order
    /// of ours live); only one that remains is an alert.
    private func checkPosition(lookingForFills: Bool = true) async {
        guard let state = try? await client.clearinghouseState(user: account) else { return }
        let ours = desk.withLock { ledger in symbols.map { ($0, ledger.ledger.positionSize($0)) } }
        var mismatches: [String] = []
        for (symbol, size) in ours {
            let exchange = state.position(symbol)?.szi ?? .zero
            if exchange != size { mismatches.append("\(symbol): ledger \(size), exchange \(exchange)") }
        }
        for position in state.assetPositions where !trades(position.coin) && !position.szi.isZero {
            mismatches.append("\(position.coin): not traded here, exchange \(position.szi)")
        }
        guard !mismatches.isEmpty else {
            positionMismatches.record(0)
            runtime.status.setDegraded("position", nil)
            return
        }
        if lookingForFills {
            await syncFills(reason: "positions differ")
            return await checkPosition(lookingForFills: false)
        }
        positionMismatches.record(mismatches.count)
        let message = "positions differ: " + mismatches.joined(separator: "; ")
        if runtime.status.degradedReasons["position"] != message {
            runtime.logger.critical("position mismatch", metadata: ["detail": "\(message)"])
            runtime.publish(
                Alert(severity: .critical, code: "position_mismatch", message: message,
                    service: runtime.name.rawValue, symbol: nil),
                traceId: runtime.newIdentifier())
        }
        runtime.status.setDegraded("position", message)
    }

    // MARK: Dead man's switch

    /// Arms (or pushes back) the exchange's cancel-all; while the executor is healthy it never fires.
    func refreshDeadMan() async {
        desk.withLock { $0.deadManRefreshedAt = .now }
        let until = nowMs + UInt64(config.deadManSeconds) * 1_000
        do {
            try await client.scheduleCancel(time: until)
            desk.withLock { $0.deadManUntilMs = until }
            deadManExpiry.record(Double(until) / 1_000)
        } catch {
            runtime.logger.warning("dead man's switch not refreshed", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Account

    /// Not published while the ledger cannot be read: a snapshot without its live orders would
    /// release their reservations in the risk gate.
    func publishSnapshot() {
        let live: [LedgerStore.StoredOrder]
        do { live = try store.liveOrders() } catch {
            ledgerUnreadable(error, while: "building the account snapshot")
            return
        }
        let openOrders = live.map {
            OpenOrder(
                clientOrderId: $0.command.clientOrderId, symbol: $0.command.symbol ?? "", side: $0.command.side,
                size: $0.remaining, price: $0.command.price, trigger: $0.command.trigger,
                reduceOnly: $0.command.reduceOnly ? true : nil, quoteTier: $0.command.quoteTier)
        }
        if let snapshot = desk.withLock({ $0.snapshot(now: runtime.clock.now(), openOrders: openOrders) }) {
            runtime.publish(snapshot, traceId: runtime.newIdentifier())
        }
    }

    func updateMark(_ symbol: String, _ price: Amount) {
        guard price.isPositive else { return }
        desk.withLock { $0.marks[symbol] = price }
        markObserver.withLock { $0 }?(symbol, price)
    }

    let markObserver = Mutex<(@Sendable (String, Amount) -> Void)?>(nil)
}
