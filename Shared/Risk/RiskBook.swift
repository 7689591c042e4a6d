import Market
import Schema

/// The whole pre-trade state of the risk gate: positions, reserved orders, marks, equity and
/// the trading state. Pure and deterministic: every call gets `now`; there is one instance,
/// owned by the risk gate's loop, so a check and its reservation are one atomic step.
public struct RiskBook: Sendable {
    public let limits: RiskLimits
    /// Leverage and the margin limits; by default Hyperliquid's 20× cross with no limit but equity.
    public var margin = MarginRules(defaultLeverage: 20)
    /// VaR, expected shortfall and stress limits; nil: not checked.
    public var portfolioLimits: PortfolioRiskLimits?
    /// The symbols' closes for those figures (`recordBar`).
    public internal(set) var returnHistory: ReturnHistory?
    /// Bars the history could not take (another interval, out of order).
    public internal(set) var barsRefused = 0
    /// Entry limits scaled by the entered symbol's market regime; every factor 1 unless configured.
    public var regimeScaling = RegimeLimitScaling(factors: [:])
    /// Each symbol's regime, from the bars `recordBar` sees (the signal generator's classifier settings).
    var regimes: [String: RegimeClassifier] = [:]
    /// Each symbol's 14-bar average true range, for the liquidation distance in ATRs.
    var averageTrueRanges: [String: AverageTrueRange] = [:]
    /// The VaR model's back-test: each UTC day's equity change against the VaR forecast for it.
    public internal(set) var varBacktest = VaRBacktest()
    /// The forecast for the current UTC day: the first VaR assessed that day with positions held.
    public internal(set) var varForecast: VaRForecast?
    public let instruments: [String: Instrument]
    public let startingCapital: Amount

    public internal(set) var state: TradingState = .syncing
    public internal(set) var killSwitchEngaged = false

    var positions: [String: BookPosition] = [:]
    /// The FIFO lots behind `positions`, seeded by each snapshot (RiskBook+Execution.swift).
    var positionLedger = PositionLedger()
    /// Reservations by client order id.
    var orders: [String: WorkingOrder] = [:]
    var marks: [String: Amount] = [:]
    /// Per-symbol exposure and its sums, kept current at every change of a position, a
    /// reservation or a mark, so a decision reads them instead of summing the book.
    var exposures = BookExposure()

    /// Intent ids already decided, with the time after which they may be forgotten.
    var decidedIntents: [String: EpochNanos] = [:]
    /// Orders released by fill, reject, cancel or snapshot, so a lagging snapshot cannot revive them.
    var closedOrders: [String: EpochNanos] = [:]
    /// Approval times of entry orders within the last minute.
    var recentEntryTimes: [EpochNanos] = []
    var lastHousekeeping: EpochNanos

    // Account, from snapshots and the fills since.
    var synced = false
    var lastSnapshotAsOf: EpochNanos?
    var realizedPnl: Amount = .zero
    var fees: Amount = .zero
    var funding: Amount = .zero
    /// Fill ids seen, to ignore repeats and to place a snapshot's `lastFillId`.
    var seenFills: [String: EpochNanos] = [:]
    /// Fills applied since the latest snapshot that did not yet include them, in arrival order.
    var unconfirmedFills: [Fill] = []
    /// A snapshot included fills this book had not seen yet; such fills up to this time are not applied twice.
    var fillsIncludedThrough: EpochNanos?
    /// The last fill the previous snapshot named.
    var lastSnapshotFillId: String?

    // Equity tracking and trading-state causes.
    public internal(set) var peakEquity: Amount
    var dayStartEquity: Amount?
    var currentDay: Int64?
    var killSwitchReason = ""
    /// Who engaged the kill switch, and when: kept so a restart restates them.
    var killSwitchBy = ""
    /// The address the kill switch was set from.
    var killSwitchFrom = ""
    var killSwitchSince: EpochNanos?
    /// The causes HALTED was entered with; kept while latched so a restart restores them.
    var haltReasons: [Reason] = []
    /// Set while the gate cannot save its memory: a halt cause, so nothing trades on unsaved state.
    var stateWriteFault: String?
    /// Set when the saved memory could not be read: SYNCING is never left, so the gate cannot
    /// trade as if it had no halt or kill switch to remember.
    var unreadableState: String?
    var venueAvailable = true
    /// A market maker's latest wanted quotes, and what was approved of them, per symbol.
    var quoteTargets: [String: QuoteTarget] = [:]
    var approvedQuotes: [String: ApprovedQuotes] = [:]
    var quoteSequence: UInt64 = 0
    var venueDownSince: EpochNanos?
    var venueReason = ""

    public init(
        limits: RiskLimits, instruments: [String: Instrument], startingCapital: Amount, now: EpochNanos,
        peakEquity: Amount? = nil
    ) {
        self.limits = limits
        self.instruments = instruments
        self.startingCapital = startingCapital
        self.peakEquity = Swift.max(peakEquity ?? startingCapital, startingCapital)
        self.lastHousekeeping = now
    }

    // MARK: Read-outs

    /// Symbols with a non-zero position.
    public var openPositionCount: Int { positions.values.count { !$0.size.isZero } }

    /// Flat symbols holding a reserved order that could open a position.
    public var reservedEntryCount: Int { reservedEntrySymbols.count }

    /// What `maxOpenPositions` is checked against: positions plus reserved entries.
    public var occupiedPositionSlots: Int { openPositionCount + reservedEntryCount }

    /// Σ over symbols of the worst-case exposure (positions at the mark plus reserved orders):
    /// what `maxGrossExposure` is checked against.
    public var grossExposure: Amount { exposures.gross }

    /// Worst-case exposure of one symbol (position at the mark plus reserved orders).
    public func symbolExposure(_ symbol: String) -> Amount { exposures.symbol(symbol).gross }

    /// The signed position size.
    public func position(_ symbol: String) -> Amount { positions[symbol]?.size ?? .zero }

    /// The average entry price of a position, if there is one.
    public func entryPrice(_ symbol: String) -> Amount? { positions[symbol]?.entryPrice }

    public func mark(_ symbol: String) -> Amount? { marks[symbol] }

    /// Client order ids whose reservations still count, sorted.
    public var reservedOrderIds: [String] { orders.keys.sorted() }

    /// Unfilled size of a reserved order, if it is still reserved.
    public func reservedSize(clientOrderId: String) -> Amount? { orders[clientOrderId]?.remaining }

    // MARK: Evaluate

    /// Checks an intent against every rule and, if it passes (possibly resized), reserves it in
    /// the same step, so no sequence or interleaving of intents can breach a limit.
    ///
    /// Rules in order: expiry, duplicate, validity (and the instrument's rounding), SYNCING,
    /// a reduce-only intent with nothing to reduce, HALTED, REDUCING, kill switch; then for
    /// entries: open positions, order notional, symbol notional, gross exposure, direction
    /// share, margin used and liquidation distance (`margin`), VaR, expected shortfall and stress
    /// loss (`portfolioLimits`), order rate, minimum order value.
    ///
    /// An intent that only shrinks a position passes in every state but SYNCING, so positions
    /// can always be closed: it skips the exposure limits, is clipped to the part of the
    /// position not already being closed, sent reduce-only, and capped at the order notional.
    public mutating func evaluate(_ intent: OrderIntent, now: EpochNanos) -> RiskVerdict {
        advanceClock(now)
        // Equity-driven causes settle where equity moves (marks, fills, snapshots); here only
        // the clock can add one: the venue's grace running out.
        let changes = venueDownSince == nil ? [] : settleState(now: now)
        let (decision, order) = decide(intent, now: now)
        return RiskVerdict(decision: decision, order: order, stateChanges: changes)
    }

    private mutating func decide(_ intent: OrderIntent, now: EpochNanos) -> (RiskDecision, OrderCommand?) {
        let symbol = intent.symbol ?? ""
        func rejected(_ reasons: [Reason]) -> (RiskDecision, OrderCommand?) {
            let decision = RiskDecision(
                intentId: intent.intentId, symbol: symbol, outcome: .rejected, reasons: reasons,
                requestedSize: intent.size, approvedSize: .zero, clientOrderId: nil)
            return (decision, nil)
        }
        func reject(_ code: ReasonCode, _ detail: String) -> (RiskDecision, OrderCommand?) {
            rejected([Reason(code, detail)])
        }

        if now > intent.expiresAt {
            return reject(.intentExpired, "now \(now) is \(Format.seconds(now - intent.expiresAt)) past expiry \(intent.expiresAt)")
        }
        let clientOrderId = Identifier.clientOrderId(forIntent: intent.intentId)
        if decidedIntents[intent.intentId] != nil || orders[clientOrderId] != nil || closedOrders[clientOrderId] != nil {
            return reject(.duplicateIntent, "intent \(intent.intentId) was already decided (order \(clientOrderId))")
        }
        // Remembered whatever the outcome: an intent is decided once.
        let (forgetAt, overflow) = Swift.max(intent.expiresAt, now).addingReportingOverflow(limits.intentMemoryNanos)
        decidedIntents[intent.intentId] = overflow ? .max : forgetAt

        guard !symbol.isEmpty else { return reject(.invalidIntent, "no symbol") }
        guard intent.size.isPositive else { return reject(.invalidIntent, "size \(intent.size) ≤ 0") }
        guard intent.price.isPositive else { return reject(.invalidIntent, "price \(intent.price) ≤ 0") }
        guard let instrument = instruments[symbol] else {
            return reject(.unknownInstrument, "no instrument rules for \(symbol)")
        }

        if state == .syncing {
            if let unreadableState {
                return reject(.stateSyncing, "the saved risk state is unreadable (\(unreadableState)); held in SYNCING")
            }
            return reject(.stateSyncing, "waiting for a fresh account snapshot")
        }

        // Venue rules: buyers round their price down, sellers up; sizes always down.
        let price = instrument.roundPrice(intent.price, intent.side == .buy ? .down : .up)
        let requestedSize = instrument.roundSize(intent.size, .down)
        guard price.isPositive else { return reject(.invalidIntent, "price \(intent.price) rounds to \(price)") }
        guard requestedSize.isPositive else {
            return reject(
                .minOrderValue, "size \(intent.size) rounds to 0 at \(instrument.szDecimals) decimals")
        }
        let reference = referencePrice(price, mark: marks[symbol])
        // A trigger the market is already through would be refused by the venue (or fire at once):
        // refused here, before it is signed.
        var trigger = intent.trigger
        if var wanted = trigger {
            wanted.triggerPrice = instrument.roundPrice(wanted.triggerPrice)
            guard let mark = marks[symbol] else {
                return reject(.noMarketPrice, "no mark for \(symbol): a trigger order cannot be checked")
            }
            guard wanted.triggerPrice.isPositive, wanted.isPlausible(side: intent.side, mark: mark) else {
                return reject(
                    .invalidTrigger,
                    "\(intent.side.rawValue) \(wanted.kind == .stopLoss ? "stop" : "take-profit") at \(wanted.triggerPrice) with the mark at \(mark): the trigger must be \((wanted.kind == .stopLoss) == (intent.side == .sell) ? "below" : "above") the mark")
            }
            trigger = wanted
        }

        let position = self.position(symbol)
        let pendingReduce = pendingOrders(symbol, side: intent.side).reduce(Amount.zero) { $0 + $1.remaining }
        let reducible = shrinks(position, side: intent.side) ? Swift.max(position.magnitude - pendingReduce, .zero) : .zero
        let isShrinking = reducible.isPositive
        let isExit = intent.purpose == .exit || intent.reduceOnly
        let reducibleDetail = "position \(position), already closing \(pendingReduce)"

        // A reduce-only order with nothing to reduce is pointless in every state.
        if isExit && !isShrinking {
            return reject(.nothingToReduce, "\(intent.side.rawValue) \(requestedSize) reduces nothing; \(reducibleDetail)")
        }
        if state == .halted && !isShrinking {
            var reasons = [Reason(.stateHalted, "only orders that shrink a position pass; \(reducibleDetail)")]
            if killSwitchEngaged { reasons.insert(Reason(.killSwitch, "engaged: \(killSwitchReason)"), at: 0) }
            return rejected(reasons)
        }
        if state == .reducing && !isShrinking {
            return reject(.stateReducing, "only orders that shrink a position pass; \(reducibleDetail)")
        }
        if killSwitchEngaged && !isShrinking {
            return reject(.killSwitch, "engaged: \(killSwitchReason); only orders that shrink a position pass")
        }

        var sizing = Sizing(size: requestedSize, price: price, reference: reference, instrument: instrument)
        let restricted = state != .active || killSwitchEngaged
        // Sent reduce-only whenever it goes the reducing way, so the venue can never flip the position.
        let reduceOnly = isShrinking && (isExit || restricted)
        let book = exposures
        let failure =
            reduceOnly
            ? checkReducingOrder(&sizing, side: intent.side, reducible: reducible, detail: reducibleDetail)
            : checkEntryLimits(&sizing, symbol: symbol, side: intent.side, book: book, now: now)
        // A refusal under a regime-scaled limit says the limit was scaled.
        if let failure { return rejected([failure] + sizing.reasons.filter { $0.code == .regimeScaled }) }

        let order = OrderCommand(
            action: .place, clientOrderId: clientOrderId, intentId: intent.intentId, symbol: symbol, side: intent.side,
            size: sizing.size, orderType: intent.orderType, price: price,
            timeInForce: intent.effectiveTimeInForce, reduceOnly: reduceOnly || trigger != nil, purpose: intent.purpose,
            strategy: intent.strategy, ackDeadline: now + limits.ackTimeoutNanos, trigger: trigger)
        reserve(order, now: now, countsAgainstRate: !reduceOnly)

        var reasons = sizing.reasons
        // A reduce-only order adds no exposure; an entry adds its value on its side.
        let after = reduceOnly ? book : book.adding(sizing.size * reference, on: intent.side, to: symbol)
        reasons.append(Reason(.withinLimits, summary(symbol: symbol, book: after, reduceOnly: reduceOnly, now: now)))
        let decision = RiskDecision(
            intentId: intent.intentId, symbol: symbol, outcome: sizing.resized ? .resized : .approved, reasons: reasons,
            requestedSize: intent.size, approvedSize: sizing.size, clientOrderId: clientOrderId)
        return (decision, order)
    }

    /// A reducing order is never blocked by exposure limits: it is clipped to what is left to
    /// reduce and capped at the order notional. Dust may always be closed; a partial close must
    /// still meet the venue's minimum.
    private func checkReducingOrder(_ sizing: inout Sizing, side: Side, reducible: Amount, detail: String) -> Reason? {
        if sizing.size > reducible {
            sizing.reasons.append(
                Reason(.exceedsPosition, "\(side.rawValue) \(sizing.size) > reducible \(reducible) (\(detail)); size → \(reducible)"))
            sizing.size = reducible
            sizing.resized = true
        }
        if let failure = sizing.cap(.maxOrderNotional, maxNotional: limits.maxOrderNotional, detail: {
            "order notional \(Format.money($0)) > limit \(Format.money(self.limits.maxOrderNotional))"
        }) { return failure }
        if sizing.size < reducible && sizing.notional < sizing.instrument.minOrderValue {
            return Reason(
                .minOrderValue,
                "order value \(Format.money(sizing.notional)) < minimum \(Format.money(sizing.instrument.minOrderValue)) and it does not close the position")
        }
        return nil
    }

    /// The limits that only entries face. Resizes `sizing` where a smaller order still fits;
    /// returns the rejecting reason otherwise.
    private func checkEntryLimits(
        _ sizing: inout Sizing, symbol: String, side: Side, book: BookExposure, now: EpochNanos
    ) -> Reason? {
        let (limits, scaling) = regimeScaledLimits(for: symbol)
        sizing.reasons += scaling
        let reserved = reservedEntrySymbols
        let open = openPositionCount
        let opensSlot = position(symbol).isZero && !reserved.contains(symbol)
        if opensSlot && open + reserved.count >= limits.maxOpenPositions {
            return Reason(
                .maxOpenPositions, "open \(open) + reserved \(reserved.count) ≥ limit \(limits.maxOpenPositions)")
        }

        if let failure = sizing.cap(.maxOrderNotional, maxNotional: limits.maxOrderNotional, detail: {
            "order notional \(Format.money($0)) > limit \(Format.money(limits.maxOrderNotional))"
        }) { return failure }

        // Each cap bounds the side this order grows (its worst case if every order on that side
        // fills) so that side still fits its limit. The other side is left as it is.
        let current = book.symbol(symbol)
        let sideNow = current.side(side)
        let direction = side == .buy ? "long" : "short"

        if let failure = sizing.cap(.maxSymbolNotional, maxNotional: limits.maxSymbolNotional - sideNow, detail: {
            "\(symbol) \(direction) exposure \(Format.money(sideNow)) + order \(Format.money($0)) > limit \(Format.money(limits.maxSymbolNotional))"
        }) { return failure }

        if let failure = checkCorrelated(&sizing, symbol: symbol, side: side, book: book, limit: limits.maxSymbolNotional) {
            return failure
        }

        let grossOthers = book.gross - current.gross
        let grossRoom = limits.maxGrossExposure - grossOthers
        if let failure = sizing.cap(.maxGrossExposure, maxNotional: Self.room(grossRoom, sideNow), detail: {
            "gross exposure \(Format.money(grossOthers)) elsewhere + \(symbol) \(Format.money(sideNow + $0)) > limit \(Format.money(limits.maxGrossExposure))"
        }) { return failure }

        let directionCap = limits.maxGrossExposure * Amount(limits.maxDirectionShare)
        let directionOthers = book.directionTotal(side) - Swift.max(sideNow, .zero)
        if let failure = sizing.cap(
            .maxDirectionShare, maxNotional: Self.room(directionCap - directionOthers, sideNow),
            detail: {
                "\(direction) exposure \(Format.money(directionOthers)) elsewhere + \(symbol) \(Format.money(sideNow + $0)) > \(Format.percent(limits.maxDirectionShare)) of gross limit \(Format.money(limits.maxGrossExposure)) = \(Format.money(directionCap))"
            }) { return failure }

        if let failure = checkMargin(&sizing, symbol: symbol, side: side) { return failure }
        if let failure = checkPortfolio(&sizing, symbol: symbol, side: side) { return failure }

        let recent = entriesInLastMinute(now: now)
        if recent >= limits.maxOrdersPerMinute {
            return Reason(.orderRate, "\(recent) entry orders in the last 60 s ≥ limit \(limits.maxOrdersPerMinute)")
        }
        if sizing.notional < sizing.instrument.minOrderValue {
            return Reason(
                .minOrderValue,
                "order value \(Format.money(sizing.notional)) < minimum \(Format.money(sizing.instrument.minOrderValue))")
        }
        return nil
    }

    /// How much a side now at `sideNow` may grow when the rest of the book leaves `room`:
    /// none at all once the rest alone fills the limit (a mark move can do that).
    static func room(_ room: Amount, _ sideNow: Amount) -> Amount {
        room.isPositive ? room - sideNow : .zero
    }

    private func summary(symbol: String, book: BookExposure, reduceOnly: Bool, now: EpochNanos) -> String {
        var parts = [
            "slots \(occupiedPositionSlots) of \(limits.maxOpenPositions)",
            "\(symbol) \(Format.money(book.symbol(symbol).gross)) of \(Format.money(limits.maxSymbolNotional))",
            "gross \(Format.money(book.gross)) of \(Format.money(limits.maxGrossExposure))",
            "long \(Format.money(book.longTotal)) short \(Format.money(book.shortTotal))",
        ]
        if reduceOnly { parts.insert("reduce-only", at: 0) } else {
            parts.append("entries in last 60 s \(entriesInLastMinute(now: now)) of \(limits.maxOrdersPerMinute)")
        }
        return parts.joined(separator: "; ")
    }

    // MARK: Reservations and exposure

    private mutating func reserve(_ order: OrderCommand, now: EpochNanos, countsAgainstRate: Bool) {
        orders[order.clientOrderId] = WorkingOrder(
            clientOrderId: order.clientOrderId, intentId: order.intentId, symbol: order.symbol ?? "", side: order.side,
            price: order.price, size: order.size, remaining: order.size, reduceOnly: order.reduceOnly, approvedAt: now,
            ackDeadline: order.ackDeadline)
        if countsAgainstRate { recentEntryTimes.append(now) }
        refreshExposure(order.symbol ?? "")
    }

    /// Orders that may still fill, on one side of one symbol.
    func pendingOrders(_ symbol: String, side: Side) -> [WorkingOrder] {
        orders.values.filter { $0.symbol == symbol && $0.side == side }
    }

    /// Flat symbols with a reserved order that could open a position.
    var reservedEntrySymbols: Set<String> {
        var symbols = Set<String>()
        for order in orders.values where !order.reduceOnly && position(order.symbol).isZero {
            symbols.insert(order.symbol)
        }
        return symbols
    }

    /// An order is valued at the worse (higher) of its price and the mark: a stale market
    /// price or a resting limit must not understate what it can add.
    func referencePrice(_ price: Amount, mark: Amount?) -> Amount {
        guard let mark else { return price }
        return Swift.max(price, mark)
    }

    /// One symbol's worst-case exposure at its current mark: position, reserved orders and approved quotes.
    func computeExposure(_ symbol: String, includingQuotes: Bool = true) -> SymbolExposure {
        var exposure = SymbolExposure()
        let mark = marks[symbol]
        if let position = positions[symbol], !position.size.isZero {
            let value = position.size * (mark ?? position.entryPrice)
            exposure.long = value
            exposure.short = -value
        }
        // Reduce-only orders can only shrink a position, so they never add exposure.
        for order in orders.values where order.symbol == symbol && !order.reduceOnly {
            exposure.add(order.remaining * referencePrice(order.price, mark: mark), on: order.side)
        }
        if includingQuotes, let approved = approvedQuotes[symbol] {
            for quote in approved.quotes {
                exposure.add(quote.size * referencePrice(quote.price, mark: mark), on: quote.side)
            }
        }
        return exposure
    }

    /// After a change to one symbol's position, reservations or mark.
    mutating func refreshExposure(_ symbol: String) {
        exposures.set(symbol, computeExposure(symbol))
    }

    /// After a snapshot replaced positions and reservations wholesale.
    mutating func rebuildExposure() {
        var symbols = Set(positions.keys)
        for order in orders.values { symbols.insert(order.symbol) }
        symbols.formUnion(approvedQuotes.keys)
        var rebuilt = BookExposure()
        for symbol in symbols { rebuilt.set(symbol, computeExposure(symbol)) }
        exposures = rebuilt
    }

    func shrinks(_ position: Amount, side: Side) -> Bool {
        !position.isZero && position.signum == -side.sign
    }

    func entriesInLastMinute(now: EpochNanos) -> Int {
        recentEntryTimes.count { $0 > now - Nanos.minute && $0 <= now }
    }

    // MARK: Time

    /// Rolls the UTC day and forgets what is too old to matter. Runs before every timed step.
    mutating func advanceClock(_ now: EpochNanos) {
        rollDay(now: now)
        recentEntryTimes.removeAll { $0 <= now - Nanos.minute }
        guard now - lastHousekeeping >= Nanos.minute else { return }
        lastHousekeeping = now
        decidedIntents = decidedIntents.filter { $0.value >= now }
        let horizon = now - limits.intentMemoryNanos
        closedOrders = closedOrders.filter { $0.value >= horizon }
        for (symbol, approved) in approvedQuotes where approved.expiresAt < now {
            approvedQuotes[symbol] = nil
            refreshExposure(symbol)
        }
        let unconfirmed = Set(unconfirmedFills.map(\.fillId))
        seenFills = seenFills.filter { $0.value >= horizon || unconfirmed.contains($0.key) }
    }
}

/// An order's size while the limits cut it down, with the reasons for each cut.
struct Sizing {
    var size: Amount
    let price: Amount
    let reference: Amount
    let instrument: Instrument
    var reasons: [Reason] = []
    var resized = false

    /// Value at the order's own price: what the venue's minimum is checked against.
    var notional: Amount { size * price }

    /// Cuts the size so its value at the reference price stays within `maxNotional`. Returns the
    /// rejecting reason when the cut order would be empty or below the venue's minimum value.
    mutating func cap(_ code: ReasonCode, maxNotional: Amount, detail: (Amount) -> String) -> Reason? {
        let wanted = size * reference
        guard wanted > maxNotional else { return nil }
        var cut = maxNotional.isPositive ? instrument.roundSize(maxNotional / reference, .down) : .zero
        // Decimal division keeps 38 digits; step down if its rounding pushed the cut over.
        if cut * reference > maxNotional { cut -= 1 / pow10(instrument.szDecimals) }
        if !cut.isPositive || cut * price < instrument.minOrderValue {
            return Reason(code, "\(detail(wanted)); smallest cut \(Swift.max(cut, .zero)) is below the minimum order value \(Format.money(instrument.minOrderValue))")
        }
        reasons.append(Reason(code, "\(detail(wanted)); size \(size) → \(cut)"))
        size = cut
        resized = true
        return nil
    }

    private func pow10(_ exponent: Int) -> Amount {
        var result: Amount = 1
        for _ in 0..<Swift.max(exponent, 0) { result = result * 10 }
        return result
    }
}
