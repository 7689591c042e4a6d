import Execution
import Foundation
import Hyperliquid
import Ledger
import Metrics
import Schema
import ServiceKit
import Storage
import Synchronization

/// The executor's market-making side: the latest approved quotes per symbol, made to rest by
/// passes of `QuoteReconciliation` that go out through the session's one order path (ledger
/// first, then the exchange), paced by the address budget and each symbol's refresh pacer.
final class QuoteDriver: Sendable {
    struct Configuration: Sendable {
        var keeping: QuoteKeeper.Settings
        /// How often the address budget is read from the exchange (`userRateLimit`).
        var budgetPollMs: Int

        static func read(_ settings: inout Settings) -> Configuration {
            Configuration(keeping: settings.quoteKeeping(), budgetPollMs: settings.quoteBudgetPollMs())
        }
    }

    private struct State {
        var keeper: QuoteKeeper
        var lastReports: [String: QuoteReport] = [:]
        /// What a market maker watches, by the ledger's rules (fills, funding, passes, mids).
        var stats: MarketMakingStats
    }

    private let state: Mutex<State>
    private let session: ExchangeSession
    private let runtime: ServiceRuntime
    private let passes: Counter
    private let aloRejects: Counter
    private let deferred: Counter
    private let gauges: QuoteGauges
    private let requestGauges: (addressUsed: Gauge, addressCap: Gauge, ipWeightAvailable: Gauge, ipWeightCapacity: Gauge)

    init(settings: Configuration, session: ExchangeSession, runtime: ServiceRuntime) throws {
        self.session = session
        self.runtime = runtime
        // The figures start from the ledger, so a restart keeps them.
        var stats = MarketMakingStats(
            startingCapital: session.config.startingCapital, symbols: session.config.symbols)
        let funding = try session.store.fundingPayments()
        for fill in try session.store.fills() {
            for payment in funding where payment.time <= fill.time { _ = try? stats.apply(payment) }
            _ = try? stats.apply(fill)
        }
        for payment in funding { _ = try? stats.apply(payment) }
        state = Mutex(
            State(keeper: QuoteKeeper(settings: settings.keeping, instance: runtime.identity.instance), stats: stats))
        gauges = QuoteGauges(factory: runtime.metrics)
        requestGauges = (
            Gauge(label: "breakwater_exchange_address_requests_used", factory: runtime.metrics),
            Gauge(label: "breakwater_exchange_address_requests_cap", factory: runtime.metrics),
            Gauge(label: "breakwater_exchange_ip_weight_available", factory: runtime.metrics),
            Gauge(label: "breakwater_exchange_ip_weight_capacity", factory: runtime.metrics)
        )
        passes = Counter(label: "breakwater_quote_passes_total", factory: runtime.metrics)
        aloRejects = Counter(label: "breakwater_quote_alo_rejects_total", factory: runtime.metrics)
        deferred = Counter(label: "breakwater_quote_deferred_total", factory: runtime.metrics)
    }

    private var now: EpochNanos { runtime.clock.now() }

    // MARK: Inputs

    /// The risk gate's latest word on a symbol replaces the previous one.
    func approved(_ approved: ApprovedQuotes) {
        guard let symbol = approved.symbol, session.trades(symbol) else { return }
        state.withLock { $0.keeper.approved(approved) }
    }

    /// A fill of a quote uses up that much of its approval: the executor never re-places what
    /// filled; only a newer approval (which knows the new inventory) can.
    func filled(_ fill: Fill) {
        state.withLock { state in
            _ = try? state.stats.apply(fill)
            state.keeper.filled(fill)
        }
    }

    func targeted(_ target: QuoteTarget) { state.withLock { $0.stats.apply(target) } }

    func funded(_ payment: FundingSettlement) { state.withLock { _ = try? $0.stats.apply(payment) } }

    func marked(_ symbol: String, _ mid: Amount) {
        let now = self.now
        state.withLock { $0.stats.observeMid(symbol: symbol, mid: mid, time: now) }
    }

    /// An order of `symbol` ended without us asking: the next pass looks again.
    func orderEnded(symbol: String) { state.withLock { $0.keeper.orderEnded(symbol: symbol) } }

    /// Reads the address budget from the exchange.
    func pollBudget() async {
        guard let reading = try? await session.client.userRateLimit(user: session.account) else { return }
        let at = now
        state.withLock { $0.keeper.observeBudget(used: reading.requestsUsed, cap: reading.requestsCap, at: at) }
    }

    /// Both of the exchange's request limits in `/metrics`: the address budget (used of its cap, as
    /// last read plus what was spent since) and the per-IP weight left in its bucket.
    func recordRequestBudgets() {
        let (used, cap) = state.withLock { ($0.keeper.budget.estimatedUsed, $0.keeper.budget.readingCap) }
        if let used, let cap {
            requestGauges.addressUsed.record(used)
            requestGauges.addressCap.record(cap)
        }
        let limiter = session.client.rateLimiter
        requestGauges.ipWeightAvailable.record(limiter.availableTokens(now: .now))
        requestGauges.ipWeightCapacity.record(limiter.limit.capacity)
    }

    // MARK: Passes

    /// Symbols that need a pass now (QuoteKeeper.due).
    func due() -> [String] {
        let now = self.now
        return state.withLock { $0.keeper.due(now: now) }
    }

    /// One pass on `symbol`: from what the ledger says rests to what is approved.
    func pass(_ symbol: String) async {
        let resting: [RestingQuote]
        do {
            resting = Self.restingQuotes(of: symbol, in: try session.store.liveOrders())
        } catch {
            // Never act on a guess of what rests: the next pass tries again.
            session.ledgerUnreadable(error, while: "reading the resting quotes of \(symbol)")
            return
        }
        let startedAt = now
        let plan = state.withLock { $0.keeper.plan(symbol: symbol, resting: resting, now: startedAt) }
        guard !plan.isEmpty else {
            guard plan.deferred > 0 else { return }
            // Paced out entirely: looked at again as the bucket refills; said at most once a second.
            let lastReport = state.withLock { $0.lastReports[symbol]?.time }
            if lastReport.map({ startedAt - $0 >= 1_000_000_000 }) ?? true {
                publishReport(symbol, plan: plan, outcome: QuoteOutcome())
            }
            return
        }
        let approval = state.withLock { $0.keeper.approvals[symbol] }
        let commands = plan.orderCommands(approval: approval, now: startedAt)
        let traceId = runtime.newIdentifier()
        session.watch(commands.map(\.clientOrderId))
        // At most 39 orders an action, so that each weighs 1 against the IP limit (1 + n/40).
        for start in stride(from: 0, to: commands.count, by: 39) {
            let chunk = commands[start..<min(start + 39, commands.count)]
            await session.execute(chunk.map { ($0, traceId) })
        }
        let answers = session.unwatch(commands.map(\.clientOrderId))
        let outcome = QuoteOutcome(commands, answers: answers)
        passes.increment()
        if outcome.aloRejected > 0 { aloRejects.increment(by: outcome.aloRejected) }
        if plan.deferred > 0 { deferred.increment(by: plan.deferred) }
        let slowed = state.withLock { $0.keeper.record(plan, outcome: outcome, sentAt: startedAt) }
        if let slowed {
            runtime.logger.notice("quote refresh paced", metadata: ["symbol": "\(symbol)", "reason": "\(slowed)"])
        }
        publishReport(symbol, plan: plan, outcome: outcome, reasons: slowed.map { [$0] } ?? [])
    }

    /// The quotes of `symbol` among the ledger's live orders, as a pass and its report see them.
    private static func restingQuotes(of symbol: String, in live: [LedgerStore.StoredOrder]) -> [RestingQuote] {
        live.filter { $0.command.symbol == symbol && $0.command.isQuote }.map { order in
            RestingQuote(
                clientOrderId: order.command.clientOrderId, side: order.command.side, tier: order.command.quoteTier ?? -1,
                price: order.command.price, size: order.remaining, placedAt: order.createdAt)
        }
    }

    private func publishReport(_ symbol: String, plan: QuotePass, outcome: QuoteOutcome, reasons: [Reason] = []) {
        // A report of no resting quotes would be a false one: without the ledger there is none.
        let live: [LedgerStore.StoredOrder]
        do { live = try session.store.liveOrders() } catch {
            runtime.logger.error("no quote report: the ledger's live orders are unreadable", metadata: ["symbol": "\(symbol)", "error": "\(error)"])
            return
        }
        let resting = Self.restingQuotes(of: symbol, in: live)
        let (budget, interval) = state.withLock { ($0.keeper.budget, $0.keeper.pacer(symbol).intervalMs) }
        let report = QuoteReport(
            pass: plan, outcome: outcome, resting: resting, budget: budget, refreshIntervalMs: interval,
            reasons: reasons, time: now)
        let summary = state.withLock { state in
            state.lastReports[symbol] = report
            state.stats.apply(report)
            return state.stats.summary(now: report.time).first { $0.symbol == symbol }
        }
        runtime.publish(report, traceId: runtime.newIdentifier())
        if let summary { gauges.record(summary, equity: state.withLock { $0.stats.account().equity }) }
    }

    /// What `/status` shows: per quoted symbol what a market maker watches (MarketMakingStats), the
    /// last pass's reasons, and both rate limits.
    func status() -> [String: Any] {
        let (summary, reports, budget) = state.withLock { state in
            (state.stats.snapshot(now: now), state.lastReports, state.keeper.budget)
        }
        let quoted = summary.symbols.filter { reports[$0.symbol] != nil || $0.quoteFills > 0 }
        let encoder = JSONEncoder()
        func json<T: Encodable>(_ value: T) -> Any {
            (try? encoder.encode(value)).flatMap { try? JSONSerialization.jsonObject(with: $0) } ?? [:]
        }
        var symbols: [String: Any] = [:]
        for row in quoted {
            var entry = json(row) as? [String: Any] ?? [:]
            entry["reasons"] = reports[row.symbol]?.reasons.map(\.description) ?? []
            symbols[row.symbol] = entry
        }
        let limiter = session.client.rateLimiter
        let capacity = limiter.limit.capacity
        return [
            "symbols": symbols, "account": json(summary.account),
            "addressRequests": ["used": budget.estimatedUsed as Any, "cap": budget.readingCap as Any],
            "ipWeight": ["used": capacity - limiter.availableTokens(now: .now), "capacity": capacity],
        ]
    }

}

/// A market maker's figures as Prometheus gauges, per symbol (see the README's metrics table).
struct QuoteGauges: Sendable {
    let factory: any MetricsFactory

    init(factory: any MetricsFactory) { self.factory = factory }

    func record(_ row: SymbolSummary, equity: Amount?) {
        let symbol = [("symbol", row.symbol)]
        func gauge(_ name: String, _ value: Double?, _ extra: [(String, String)] = []) {
            guard let value, value.isFinite else { return }
            Gauge(label: "breakwater_mm_\(name)", dimensions: symbol + extra, factory: factory).record(value)
        }
        gauge("resting_quotes", Double(row.restingBids), [("side", "bid")])
        gauge("resting_quotes", Double(row.restingAsks), [("side", "ask")])
        gauge("two_sided_uptime_ratio", row.twoSidedUptime)
        gauge("fill_rate", row.fillRate)
        gauge("maker_share", row.makerShareByCount)
        gauge("spread_captured_bps", row.spreadCapturedBps)
        gauge("inventory", row.inventory.doubleValue)
        gauge("inventory_limit", row.inventoryLimit?.doubleValue)
        gauge("alo_rejects", Double(row.aloRejected))
        gauge("realized_pnl", row.realizedPnl.doubleValue)
        gauge("unrealized_pnl", row.unrealizedPnl?.doubleValue)
        gauge("quote_placements", Double(row.quotePlacements))
        gauge("quote_fills", Double(row.quoteFills))
        if let used = row.requestsUsed { gauge("address_requests_used", Double(used), []) }
        if let cap = row.requestsCap { gauge("address_requests_cap", Double(cap), []) }
        if let equity {
            Gauge(label: "breakwater_mm_equity", dimensions: [], factory: factory).record(equity.doubleValue)
        }
    }
}
