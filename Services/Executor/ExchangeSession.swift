import Execution
import Foundation
import Hyperliquid
import Ledger
import Logging
import Metrics
import Schema
import ServiceKit
import Storage

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
    private let rejects: Counter
    private let actions: Counter
    private let ordersSent: Counter

    /// What the bus loop, the fill paths, the timers and `/status` share.
    struct Desk {
        var ledger: FifoLedger
        var marks: [String: Amount] = [:]
        /// Orders sent whose answer has not been handled: their fills wait for it.
        var inFlight: Set<String> = []
        var lastReconciliation: String = "not yet"
        var lastFillSyncMs: UInt64?
        var deadManUntilMs: UInt64?
        var deadManRefreshedAt: ContinuousClock.Instant?

        func snapshot(now: EpochNanos, openOrders: [OpenOrder]) -> AccountSnapshot? {
            try? ledger.snapshot(asOf: now, marks: marks, openOrders: openOrders)
        }
    }

    init(runtime: ServiceRuntime, config: ExecutorConfig, client: HyperliquidClient<ContinuousClock>, store: LedgerStore)
        throws
    {
        self.runtime = runtime
        self.config = config
        self.client = client
        self.store = store
        var ledger = FifoLedger(startingCapital: config.startingCapital)
        for fill in try store.fills() { try ledger.apply(fill) }
        desk = Locked(Desk(ledger: ledger))
        fillsCounter = Counter(label: "breakwater_fills_total", factory: runtime.metrics)
        rejects = Counter(label: "breakwater_order_rejects_total", factory: runtime.metrics)
        actions = Counter(label: "breakwater_order_actions_total", factory: runtime.metrics)
        ordersSent = Counter(label: "breakwater_orders_sent_total", factory: runtime.metrics)
    }

    var account: Address { config.account }
    private var now: EpochNanos { runtime.clock.now() }
    private var nowMs: UInt64 { UInt64(max(runtime.clock.now(), 0) / 1_000_000) }

    // MARK: Orders

    /// Places a batch of commands as one signed action (the rate limiter staggers batches).
    func place(_ batch: [(command: OrderCommand, traceId: String)]) async {
        var accepted: [(command: OrderCommand, traceId: String, request: OrderRequest)] = []
        let mark = desk.withLock { $0.marks[config.symbol] }
        for (command, traceId) in batch {
            guard command.symbol == config.symbol else {
                reject(command, Reason(.invalidIntent, "this executor trades \(config.symbol) only"), traceId: traceId)
                continue
            }
            let request: OrderRequest
            do {
                request = try config.routing.request(for: command, mark: mark)
            } catch {
                reject(command, Reason(.invalidIntent, "\(error)"), traceId: traceId)
                continue
            }
            do {
                // The ledger refuses a client order id it has seen: an order is never placed twice.
                try store.recordOrder(command, traceId: traceId, at: now)
            } catch let error as LedgerStore.StoreError {
                reject(command, Reason(.duplicateIntent, "\(error)"), traceId: traceId, record: false)
                continue
            } catch {
                runtime.status.setDegraded("ledger", "\(error)")
                reject(command, Reason(.ledgerWriteFailed, "\(error)"), traceId: traceId, record: false)
                continue
            }
            accepted.append((command, traceId, request))
        }
        guard !accepted.isEmpty else { return }
        let ids = accepted.map(\.command.clientOrderId)
        desk.withLock { $0.inFlight.formUnion(ids) }
        defer { desk.withLock { $0.inFlight.subtract(ids) } }

        let statuses: [OrderStatus]
        actions.increment()
        ordersSent.increment(by: accepted.count)
        do {
            statuses = try await client.order(accepted.map(\.request))
        } catch {
            await placementFailed(accepted.map { ($0.command, $0.traceId) }, error: error)
            return
        }
        var anyFilled = false
        var remainders: [(command: OrderCommand, traceId: String, size: Amount)] = []
        for ((command, traceId, request), status) in zip(accepted, statuses) {
            switch status {
            case .resting(let oid, _):
                acknowledge(command, oid: oid, traceId: traceId)
            case .filled(let filled, _, let oid, _):
                acknowledge(command, oid: oid, traceId: traceId)
                anyFilled = true
                // An IOC that filled only in part: the exchange canceled the rest.
                if case .limit(.ioc) = request.kind, filled < command.size {
                    remainders.append((command, traceId, command.size - filled))
                }
            case .error(let message):
                reject(command, Reason(.venueRejected, message), traceId: traceId)
            case .waitingForFill, .waitingForTrigger:
                acknowledge(command, oid: nil, traceId: traceId)
            }
        }
        desk.withLock { $0.inFlight.subtract(ids) }
        guard anyFilled else { return }
        await syncFills(reason: "order filled")
        for (command, traceId, size) in remainders {
            ended(command, reason: Reason(.canceledByVenue, "IOC remainder \(size) not filled"), traceId: traceId)
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
        switch answer {
        case .unknownOid:
            reject(command, Reason(.venueUnavailable, "not placed: \(cause)"), traceId: traceId)
        case .order(let order, let status, _):
            acknowledge(command, oid: order.oid, traceId: traceId)
            guard status != .open else { return }
            await syncFills(reason: "order resolved")
            if let stored = try? store.order(command.clientOrderId), stored.status.isLive {
                ended(command, reason: Reason(.canceledByVenue, "exchange status \(status.rawValue)"), traceId: traceId)
            }
        }
    }

    func cancel(_ command: OrderCommand, traceId: String) async {
        guard let stored = try? store.order(command.clientOrderId), stored.status.isLive,
            let cloid = try? OrderRouting.cloid(command.clientOrderId)
        else {
            reject(command, Reason(.venueRejected, "order is not live"), traceId: traceId, record: false)
            return
        }
        do {
            let status = try await client.cancelByCloid(coin: config.symbol, cloid: cloid)
            if let message = status.errorMessage {
                // Usually: it filled or was canceled just before; the fill sync tells which.
                await syncFills(reason: "cancel refused")
                reject(command, Reason(.venueRejected, message), traceId: traceId, record: false)
                return
            }
            ended(stored.command, reason: Reason("canceled_by_request"), traceId: traceId)
        } catch {
            reject(command, Reason(.venueUnavailable, "\(error)"), traceId: traceId, record: false)
        }
    }

    private func acknowledge(_ command: OrderCommand, oid: UInt64?, traceId: String) {
        do {
            try store.setStatus(command.clientOrderId, .acked, venueOrderId: oid.map { "\($0)" }, at: now)
        } catch {
            runtime.status.setDegraded("ledger", "\(error)")
        }
        runtime.publish(
            OrderAck(
                clientOrderId: command.clientOrderId, venueOrderId: oid.map { "\($0)" } ?? "",
                symbol: command.symbol ?? "", action: .place),
            traceId: traceId)
    }

    private func ended(_ command: OrderCommand, reason: Reason, traceId: String) {
        try? store.setStatus(command.clientOrderId, .canceled, at: now)
        runtime.publish(
            OrderCanceled(clientOrderId: command.clientOrderId, symbol: command.symbol ?? "", reason: reason),
            traceId: traceId)
    }

    func reject(_ command: OrderCommand, _ reason: Reason, traceId: String, record: Bool = true) {
        rejects.increment()
        if record { try? store.setStatus(command.clientOrderId, .rejected, at: now) }
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
        for fill in fills.sorted(by: { ($0.time, $0.tid) < ($1.time, $1.tid) }) where fill.coin == config.symbol {
            guard let id = fill.cloid?.rawValue, !inFlight.contains(id), let order = try? store.order(id) else { continue }
            record(FillMapping.fill(fill, order: order.command), traceId: trace(of: order))
        }
    }

    /// The trace an order's messages belong to: the cycle from the bar that caused it.
    private func trace(of order: LedgerStore.StoredOrder?) -> String {
        order?.traceId ?? runtime.newIdentifier()
    }

    /// The regular look at the exchange: fills while orders are live, otherwise the position (a
    /// lighter call). Either way an exchange that stopped answering trips the breaker while idle.
    func poll() async {
        if ((try? store.liveOrders()) ?? []).isEmpty {
            await checkPosition()
        } else {
            await syncFills(reason: "poll")
        }
    }

    /// Fetches the exchange's fills since the ledger's last one and records those it lacks.
    func syncFills(reason: String) async {
        guard let since = fillSyncStart() else { return }  // no order ever placed: no fill can be ours
        let fills: [UserFill]
        do {
            fills = try await userFills(since: since)
        } catch {
            runtime.logger.warning("fill sync failed", metadata: ["reason": "\(reason)", "error": "\(error)"])
            return
        }
        recordExchangeFills(fills)
        desk.withLock { $0.lastFillSyncMs = nowMs }
    }

    /// A second (clock skew, equal times) before the older of the ledger's newest fill and its
    /// oldest live order: a live order's fills can be older than a fill already recorded.
    private func fillSyncStart() -> UInt64? {
        let last: EpochNanos? = (try? store.lastFillTime()) ?? nil
        let oldestLive = ((try? store.liveOrders()) ?? []).map(\.createdAt).min()
        let first: EpochNanos? = (try? store.firstOrderTime()) ?? nil
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
            runtime.logger.critical(
                "fill not recorded; the next sync retries it", metadata: ["fill": "\(fill.fillId)", "error": "\(error)"])
            runtime.publish(
                Alert(
                    severity: .critical, code: "ledger_write_failed", message: "\(error)", service: runtime.name.rawValue,
                    symbol: fill.symbol),
                traceId: traceId)
            return
        }
        runtime.status.setDegraded("ledger", nil)
        desk.withLock { _ = try? $0.ledger.apply(fill) }
        runtime.publish(fill, traceId: traceId)
        fillsCounter.increment()
        publishSnapshot()
    }

    // MARK: Reconciliation

    /// Makes the ledger agree with the exchange: fills it lacks, orders that ended while nobody
    /// watched, orders nobody here placed (canceled). Throws when the exchange cannot answer.
    @discardableResult
    func reconcile(why: String) async throws(HyperliquidClientError) -> Reconciliation {
        let inFlight = desk.withLock { $0.inFlight }
        let ledgerOrders = (try? store.orders()) ?? []
        var known: [String: Reconciliation.KnownOrder] = [:]
        for order in ledgerOrders where !inFlight.contains(order.command.clientOrderId) {
            known[order.command.clientOrderId.lowercased()] = .init(
                command: order.command, isLive: order.status.isLive, filledSize: order.filledSize)
        }
        // Orders in flight are the order worker's: neither orphans nor foreign.
        let isInFlight = { (cloid: Cloid?) in cloid.map { inFlight.contains($0.rawValue) } ?? false }
        let open = try await client.openOrders(user: account).filter { !isInFlight($0.cloid) }
        var fills: [UserFill] = []
        if let since = fillSyncStart() { fills = try await userFills(since: since).filter { !isInFlight($0.cloid) } }
        let recorded = Set(((try? store.fills()) ?? []).map(\.fillId))
        let plan = Reconciliation.plan(
            known: known, recordedFillIds: recorded, openOrders: open, fills: fills, symbols: [config.symbol])

        for fill in plan.missingFills {
            record(fill, traceId: trace(of: (try? store.order(fill.clientOrderId)) ?? nil))
        }
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
            let message = "\(plan.foreignFills.count) fill(s) on \(config.symbol) of orders this system did not place"
            runtime.status.setDegraded("foreign_fills", message)
            runtime.publish(
                Alert(severity: .critical, code: "foreign_fills", message: message, service: runtime.name.rawValue,
                    symbol: config.symbol),
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

    /// The ledger's position against the exchange's: a difference is an alert, never papered over.
    private func checkPosition() async {
        guard let state = try? await client.clearinghouseState(user: account) else { return }
        let exchange = state.position(config.symbol)?.szi ?? .zero
        let ours = desk.withLock { $0.ledger.positionSize(config.symbol) }
        if exchange != ours {
            let message = "position \(config.symbol): ledger \(ours), exchange \(exchange)"
            if runtime.status.degradedReasons["position"] != message {
                runtime.logger.critical("position mismatch", metadata: ["detail": "\(message)"])
                runtime.publish(
                    Alert(severity: .critical, code: "position_mismatch", message: message,
                        service: runtime.name.rawValue, symbol: config.symbol),
                    traceId: runtime.newIdentifier())
            }
            runtime.status.setDegraded("position", message)
        } else {
            runtime.status.setDegraded("position", nil)
        }
    }

    // MARK: Dead man's switch

    /// Arms (or pushes back) the exchange's cancel-all; while the executor is healthy it never fires.
    func refreshDeadMan() async {
        desk.withLock { $0.deadManRefreshedAt = .now }
        let until = nowMs + UInt64(config.deadManSeconds) * 1_000
        do {
            try await client.scheduleCancel(time: until)
            desk.withLock { $0.deadManUntilMs = until }
        } catch {
            runtime.logger.warning("dead man's switch not refreshed", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Account

    func publishSnapshot() {
        let openOrders = ((try? store.liveOrders()) ?? []).map {
            OpenOrder(
                clientOrderId: $0.command.clientOrderId, symbol: $0.command.symbol ?? "", side: $0.command.side,
                size: $0.remaining, price: $0.command.price)
        }
        if let snapshot = desk.withLock({ $0.snapshot(now: runtime.clock.now(), openOrders: openOrders) }) {
            runtime.publish(snapshot, traceId: runtime.newIdentifier())
        }
    }

    func updateMark(_ symbol: String, _ price: Amount) {
        guard price.isPositive else { return }
        desk.withLock { $0.marks[symbol] = price }
    }
}
