import Schema

/// The executor's market-making rules, without the exchange: the risk gate's latest approval per
/// symbol, which symbols need a pass (news, a withdrawal, the sweep), and each pass planned from
/// what rests within the address budget and the symbol's refresh pacer. The executor drives it
/// over the exchange; the backtest over the venue engine.
public struct QuoteKeeper: Sendable {
    public struct Settings: Sendable, Equatable {
        public var budget: RequestBudget.Settings
        public var pacer: RefreshPacer.Settings
        /// How often a symbol with approved quotes gets a pass without news (order age, orders the
        /// venue ended).
        public var sweepNanos: Int64

        public init(
            budget: RequestBudget.Settings = RequestBudget.Settings(), pacer: RefreshPacer.Settings = RefreshPacer.Settings(),
            sweepNanos: Int64 = 5_000_000_000
        ) {
            self.budget = budget
            self.pacer = pacer
            self.sweepNanos = sweepNanos
        }
    }

    public let settings: Settings
    /// The risk gate's latest word per symbol, less what has filled since.
    public private(set) var approvals: [String: ApprovedQuotes] = [:]
    public private(set) var budget: RequestBudget
    private var reconciler: QuoteReconciliation
    private var pacers: [String: RefreshPacer] = [:]
    /// Symbols whose resting quotes may differ from their approval.
    private var dirty: Set<String> = []
    private var lastSweep: [String: EpochNanos] = [:]

    /// `instance` makes the client order ids of this process's quotes its own.
    public init(settings: Settings = Settings(), instance: String) {
        self.settings = settings
        budget = RequestBudget(settings: settings.budget)
        reconciler = QuoteReconciliation(instance: instance)
    }

    public func pacer(_ symbol: String) -> RefreshPacer { pacers[symbol] ?? RefreshPacer(settings: settings.pacer) }

    // MARK: News

    /// The risk gate's latest approval replaces the previous one.
    public mutating func approved(_ approved: ApprovedQuotes) {
        guard let symbol = approved.symbol else { return }
        approvals[symbol] = approved
        dirty.insert(symbol)
    }

    /// A fill of a quote uses up that much of its approval: what filled is never placed again; only
    /// a newer approval (which knows the new inventory) can.
    public mutating func filled(_ fill: Fill) {
        guard fill.isQuote, let symbol = fill.symbol else { return }
        if var approval = approvals[symbol],
            let index = approval.quotes.firstIndex(where: { $0.side == fill.side && $0.price == fill.price })
        {
            approval.quotes[index].size -= fill.size
            if !approval.quotes[index].size.isPositive { approval.quotes.remove(at: index) }
            approvals[symbol] = approval
        }
        dirty.insert(symbol)
    }

    /// An order of `symbol` ended without being asked to: the next pass looks again.
    public mutating func orderEnded(symbol: String) { dirty.insert(symbol) }

    /// The venue's reading of the address budget.
    public mutating func observeBudget(used: Int, cap: Int, at now: EpochNanos) {
        _ = budget.observe(used: used, cap: cap, at: now)
    }

    // MARK: Passes

    /// Symbols that need a pass now: a withdrawal (empty or expired approval) at once, anything else
    /// when its pacer allows; every symbol with an approval once per sweep.
    public mutating func due(now: EpochNanos) -> [String] {
        for symbol in approvals.keys where now - (lastSweep[symbol] ?? 0) >= settings.sweepNanos {
            dirty.insert(symbol)
            lastSweep[symbol] = now
        }
        for (symbol, approval) in approvals where approval.expiresAt < now && !approval.quotes.isEmpty {
            dirty.insert(symbol)
        }
        return dirty.sorted().filter { symbol in
            let withdrawing = approvals[symbol].map { $0.quotes.isEmpty || $0.expiresAt < now } ?? true
            return withdrawing || pacer(symbol).isDue(now: now)
        }
    }

    /// The first time after `time` at which the clock alone makes a symbol due: its sweep, its
    /// approval's expiry, the pacer letting waiting news through (`checkNanos` after `time` at the
    /// earliest: how often the executor looks). Nil when only news can.
    public func nextWake(after time: EpochNanos, checkNanos: Int64) -> EpochNanos? {
        var times: [EpochNanos] = []
        for (symbol, approval) in approvals {
            times.append((lastSweep[symbol] ?? 0).saturatingPlus(settings.sweepNanos))
            if !approval.quotes.isEmpty { times.append(approval.expiresAt.saturatingPlus(1)) }
        }
        for symbol in dirty {
            times.append(max(pacer(symbol).nextPassAt ?? 0, time.saturatingPlus(checkNanos)))
        }
        return times.filter { $0 > time }.min()
    }

    /// The pass on `symbol` from what rests towards what is approved, within the address budget. A
    /// pass the budget defers entirely is looked at again as the budget refills.
    public mutating func plan(symbol: String, resting: [RestingQuote], now: EpochNanos) -> QuotePass {
        dirty.remove(symbol)
        let allowance = budget.allowance(now: now)
        var plan = reconciler.pass(
            symbol: symbol, approved: approvals[symbol], resting: resting, now: now, nonCancelAllowance: allowance.nonCancel)
        if let reason = allowance.reason, plan.deferred > 0 { plan.reasons.append(reason) }
        if plan.isEmpty && plan.deferred > 0 { dirty.insert(symbol) }
        return plan
    }

    /// What the venue answered to a pass sent at `sentAt`: the budget spent, the pacer told (the
    /// reason when it slows the refresh), and the symbol looked at again when anything was left
    /// undone (crossed quotes are repriced on the next update, not retried now).
    public mutating func record(_ plan: QuotePass, outcome: QuoteOutcome, sentAt: EpochNanos) -> Reason? {
        budget.spend(nonCancel: plan.nonCancelCount, cancels: plan.cancels.count, at: sentAt)
        if let message = outcome.cumulativeLimitMessage {
            budget.observe(venueMessage: message, wasCancel: false, at: sentAt)
        }
        var pacer = pacer(plan.symbol)
        pacer.passSent(at: sentAt)
        let reason = pacer.record(outcome)
        pacers[plan.symbol] = pacer
        if outcome.failed > 0 || !outcome.uncertain.isEmpty || plan.deferred > 0 { dirty.insert(plan.symbol) }
        return reason
    }
}
