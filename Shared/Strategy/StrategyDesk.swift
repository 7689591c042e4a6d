import Market
import Schema

/// Runs several strategies on one symbol's bars, picks which may trade by market regime,
/// and turns their views into signals (every evaluation, approved or not) and intents
/// (one per approved signal, at most one per bar).
///
/// The desk tracks the position it *intended*, not fills: a decision must not depend on
/// whether a fill happened to arrive before the next bar. A rejected intent rolls the
/// intended position (and the cooldown it started) back.
///
/// Each bar is observed (every strategy sees it) and then decided, so that recall can move a
/// view's confidence in between; `onBar` does both when nothing is asked in between.
/// Each bar, in this order:
/// 1. a bar not after the previous one is a `duplicate` for every strategy, and feeds
///    no indicator;
/// 2. the regime classifier (when configured) and every strategy see the close, in the
///    order given at `init` (that order is also the priority within a bar);
/// 3. each view is judged, first failing check wins, one reason per signal:
///    `warming_up` (strategy) → `warming_up` (regime classifier) → `regime_mismatch`
///    (style not admitted in this regime) → `below_threshold` (no view) →
///    `regime_mismatch` (direction not admitted) → `stale_data` (feed status, or bar
///    older than `maxBarAgeNanos`) → `trading_halted` (risk gate syncing, reducing or
///    halted) → `no_market_price` (close not positive) → `already_positioned` →
///    `superseded` (another strategy traded this bar) → `cooldown` → `below_threshold`
///    (position below the venue minimum) → `approved`.
///
/// Pure and synchronous; the caller passes time and identifiers in and routes only
/// this desk's symbol to it.
public struct StrategyDesk: Sendable {
    public struct Settings: Sendable, Equatable {
        public var instrument: Instrument
        /// Quote notional of one position.
        public var tradeNotional: Amount
        /// How long an intent may wait for the risk gate.
        public var intentLifetimeNanos: Int64
        /// After an entry on bar k, no entry on bars k+1 … k+cooldownBars (0: none).
        public var cooldownBars: Int
        /// A bar whose close time is more than this before `now` is `stale_data`.
        /// nil: only the feed status decides (replays run on recorded bar times).
        public var maxBarAgeNanos: Int64?
        /// nil: no classifier; every strategy may trade both directions in any market.
        public var regimeSelection: RegimeSelection?
        /// A view whose confidence (after recall's multiplier) is below this is `low_confidence`.
        public var minConfidence: Double

        public init(
            instrument: Instrument, tradeNotional: Amount, intentLifetimeNanos: Int64 = 5_000_000_000,
            cooldownBars: Int = 0, maxBarAgeNanos: Int64? = nil, regimeSelection: RegimeSelection? = nil,
            minConfidence: Double = 0
        ) {
            self.minConfidence = minConfidence
            self.instrument = instrument
            self.tradeNotional = tradeNotional
            self.intentLifetimeNanos = intentLifetimeNanos
            self.cooldownBars = cooldownBars
            self.maxBarAgeNanos = maxBarAgeNanos
            self.regimeSelection = regimeSelection
        }

        public func validate() throws(StrategyConfigError) {
            var problems: [String] = []
            if !tradeNotional.isPositive { problems.append("tradeNotional \(tradeNotional) must be positive") }
            if intentLifetimeNanos <= 0 { problems.append("intentLifetimeNanos must be positive") }
            if cooldownBars < 0 { problems.append("cooldownBars \(cooldownBars) must not be negative") }
            if let maxBarAgeNanos, maxBarAgeNanos <= 0 { problems.append("maxBarAgeNanos must be positive") }
            if !(0...1).contains(minConfidence) { problems.append("minConfidence \(minConfidence) must be within 0…1") }
            if let regimeSelection {
                do { try regimeSelection.classifier.validate() } catch { problems += error.problems }
            }
            try StrategyConfigError.check(problems)
        }
    }

    /// One strategy's evaluation of one bar.
    public struct Evaluation: Sendable, Equatable {
        public var signal: Signal
        /// Present exactly when `signal.decision == .approved`.
        public var intent: OrderIntent?
    }

    /// Everything one bar produced: one evaluation per strategy, in strategy order.
    public struct Output: Sendable, Equatable {
        public var evaluations: [Evaluation]
        /// The regime reading after this bar; nil without a classifier or while it warms up.
        public var regime: RegimeReading?
        public var signals: [Signal] { evaluations.map(\.signal) }
        public var intents: [OrderIntent] { evaluations.compactMap(\.intent) }
    }

    /// What the desk intends to hold in its symbol: signed size.
    public private(set) var intendedPosition: Amount = .zero
    public private(set) var tradingState: TradingState = .active
    public private(set) var feedLive = true
    /// The strategy whose intent set the intended position last.
    public private(set) var positionStrategy: String?
    public let settings: Settings
    private var strategies: [any BarStrategy]
    private var classifier: RegimeClassifier?
    /// Bars accepted so far (duplicates excluded): the clock of the cooldown.
    private var barCount = 0
    private var lastEntryBar: Int?
    private var lastBarTime: EpochNanos?
    private var pending: [String: PendingIntent] = [:]
    /// When the last intent was made: the account cannot show its outcome before then.
    private var lastIntentAt: EpochNanos?

    private struct PendingIntent: Sendable {
        /// Signed change the intent made to the intended position.
        var change: Amount
        var bar: Int
        var lastEntryBarBefore: Int?
        var strategyBefore: String?
    }

    /// Strategy names must be distinct; the settings must be valid.
    public init(strategies: [any BarStrategy], settings: Settings) {
        precondition(!strategies.isEmpty, "a desk needs at least one strategy")
        precondition(
            Set(strategies.map(\.name)).count == strategies.count, "strategy names must be distinct")
        do { try settings.validate() } catch { preconditionFailure("\(error)") }
        self.strategies = strategies
        self.settings = settings
        self.classifier = settings.regimeSelection.map { RegimeClassifier(config: $0.classifier) }
    }

    /// The presets, in the given order.
    public init(presets: [StrategyPreset], settings: Settings) {
        self.init(strategies: presets.map { $0.makeStrategy() }, settings: settings)
    }

    public var strategyNames: [String] { strategies.map(\.name) }

    /// The desk's strategies of one type (a model strategy, to read what it serves).
    public func strategies<S: BarStrategy>(of type: S.Type) -> [S] { strategies.compactMap { $0 as? S } }

    /// Changes every strategy of one type in place (a model strategy gets a new model).
    public mutating func updateStrategies<S: BarStrategy>(of type: S.Type, _ change: (inout S) -> Void) {
        for index in strategies.indices {
            guard var strategy = strategies[index] as? S else { continue }
            change(&strategy)
            strategies[index] = strategy
        }
    }
    /// The latest regime reading (nil without a classifier or while it warms up).
    public var regime: RegimeReading? { classifier?.current }
    /// Intents still waiting for the risk gate's decision.
    public var pendingIntentCount: Int { pending.count }

    /// Evaluates a closed bar of this desk's symbol with every strategy.
    /// `newIdentifier` supplies each signal's id and each intent's id.
    public mutating func onBar(_ bar: Bar, now: EpochNanos, newIdentifier: () -> String) -> Output {
        evaluate(bar, now: now, signalId: { _ in newIdentifier() }, intentId: { _ in newIdentifier() })
    }

    /// A rejection restores the position the intent would have changed, and the cooldown
    /// it started; a resize keeps only the approved part.
    public mutating func onDecision(_ decision: RiskDecision) {
        guard let entry = pending.removeValue(forKey: decision.intentId) else { return }
        switch decision.outcome {
        case .rejected:
            intendedPosition -= entry.change
            if lastEntryBar == entry.bar {
                lastEntryBar = entry.lastEntryBarBefore
                positionStrategy = entry.strategyBefore
            }
        case .resized:
            let approved = entry.change.isNegative ? -decision.approvedSize : decision.approvedSize
            intendedPosition += approved - entry.change
        case .approved:
            break
        }
    }

    public mutating func onTradingState(_ state: TradingState) { tradingState = state }

    /// The account's position in this desk's symbol (from an account snapshot taken at `asOf`).
    /// The desk adopts it when it disagrees and nothing of the desk's own can explain the
    /// difference: no intent is waiting for its decision and the snapshot was taken at least
    /// `settleNanos` after the last intent (its order has had time to fill or end). So a restart
    /// rebuilds what the desk holds, and a position changed behind its back (an exchange-side stop,
    /// an operator's flatten, an order that never filled) is followed. Returns whether it adopted.
    public mutating func onAccountPosition(_ size: Amount, asOf: EpochNanos, settleNanos: Int64) -> Bool {
        guard size != intendedPosition, pending.isEmpty else { return false }
        if let lastIntentAt, asOf < lastIntentAt + settleNanos { return false }
        intendedPosition = size
        if size.isZero { positionStrategy = nil }
        return true
    }

    /// An exit the risk gate made (a stop, a trailing stop) changed the position behind the
    /// desk's back: the intended position follows the fill.
    public mutating func onExitFill(_ fill: Fill) {
        guard fill.purpose == .exit, fill.symbol == settings.instrument.symbol else { return }
        let signed = fill.side == .buy ? fill.size : -fill.size
        // Never past flat: an exit only shrinks.
        let after = intendedPosition + signed
        intendedPosition = after.signum == intendedPosition.signum ? after : .zero
        if intendedPosition.isZero { positionStrategy = nil }
    }
    /// Only a `stale` feed blocks entries; a status for another symbol is ignored (one
    /// without a symbol applies to all).
    public mutating func onFeedStatus(_ status: FeedStatus) {
        guard status.symbol == nil || status.symbol == settings.instrument.symbol else { return }
        feedLive = status.state != .stale
    }

    // MARK: Evaluation

    /// What the strategies made of one bar, before any view is judged: the shell may ask recall
    /// about each view (`decide`'s `recall`) before the desk decides.
    public struct Observation: Sendable {
        public let bar: Bar
        /// The strategies' names, in strategy order.
        public let strategies: [String]
        /// One per strategy, in strategy order; empty for a duplicate bar.
        public let views: [StrategyView]
        let reading: RegimeReading?
        /// The bar before, when this one is not after it.
        let duplicateOf: EpochNanos?
    }

    /// Feeds a closed bar of this desk's symbol to the regime classifier and every strategy.
    public mutating func observe(_ bar: Bar, now: EpochNanos) -> Observation {
        if let last = lastBarTime, bar.openTime <= last {
            return Observation(
                bar: bar, strategies: strategyNames, views: [], reading: classifier?.current, duplicateOf: last)
        }
        lastBarTime = bar.openTime
        barCount += 1
        let reading = classifier?.update(
            high: bar.high.doubleValue, low: bar.low.doubleValue, close: bar.close.doubleValue)
        let views = strategies.indices.map { strategies[$0].update(bar: bar, now: now) }
        return Observation(bar: bar, strategies: strategyNames, views: views, reading: reading, duplicateOf: nil)
    }

    /// Judges an observation's views, one signal per strategy. `recall` holds, by strategy index,
    /// what recall said about that view's set-up: its multiplier moves the view's confidence
    /// before `minConfidence` is applied.
    public mutating func decide(
        _ observation: Observation, now: EpochNanos, recall: [Int: RecallNote] = [:], newIdentifier: () -> String
    ) -> Output {
        decide(observation, now: now, recall: recall, signalId: { _ in newIdentifier() }, intentId: { _ in newIdentifier() })
    }

    mutating func evaluate(
        _ bar: Bar, now: EpochNanos, signalId: (Int) -> String, intentId: (Int) -> String
    ) -> Output {
        decide(observe(bar, now: now), now: now, recall: [:], signalId: signalId, intentId: intentId)
    }

    mutating func decide(
        _ observation: Observation, now: EpochNanos, recall: [Int: RecallNote], signalId: (Int) -> String,
        intentId: (Int) -> String
    ) -> Output {
        let symbol = settings.instrument.symbol
        let bar = observation.bar
        if let last = observation.duplicateOf {
            let evaluations = strategies.indices.map { index in
                Evaluation(
                    signal: Signal(
                        signalId: signalId(index), symbol: symbol, strategy: strategies[index].name, direction: .flat,
                        confidence: 0, referencePrice: bar.close, barTime: bar.openTime, indicators: [:],
                        decision: .rejected, reasons: [Reason(.duplicate, "bar at \(bar.openTime) not after \(last)")]),
                    intent: nil)
            }
            return Output(evaluations: evaluations, regime: observation.reading)
        }
        let reading = observation.reading
        let regimeIndicators: [String: Double] =
            reading.map {
                [
                    "regime_volatility": $0.realisedVolatility, "regime_trend_strength": $0.trendStrength,
                ]
            } ?? [:]
        let staleReason = staleness(of: bar, now: now)

        var tradedThisBar: String?
        var evaluations: [Evaluation] = []
        evaluations.reserveCapacity(strategies.count)
        for index in strategies.indices {
            let sid = signalId(index)
            var view = observation.views[index]
            let name = strategies[index].name
            let style = strategies[index].style
            let note = recall[index]
            let ownConfidence = view.confidence
            if let note { view.confidence = min(1, max(0, view.confidence * note.adjustment)) }
            var reason = view.reason
            var intent: OrderIntent?
            if view.reason.code != .warmingUp {
                reason = judge(
                    view, strategy: name, style: style, ownConfidence: ownConfidence, recall: note, reading: reading,
                    stale: staleReason, tradedThisBar: tradedThisBar, close: bar.close)
            }
            if reason.code == .approved, let wanted = view.direction {
                let id = intentId(index)
                let unit = settings.instrument.roundSize(settings.tradeNotional / bar.close)
                let target = wanted == .long ? unit : -unit
                let change = target - intendedPosition
                intent = OrderIntent(
                    intentId: id, symbol: symbol, side: change.isPositive ? .buy : .sell, size: change.magnitude,
                    orderType: .market, price: bar.close, purpose: .entry, reduceOnly: false, strategy: name,
                    origin: sid, createdAt: now, expiresAt: now + settings.intentLifetimeNanos)
                pending[id] = PendingIntent(
                    change: change, bar: barCount, lastEntryBarBefore: lastEntryBar, strategyBefore: positionStrategy)
                lastIntentAt = now
                intendedPosition = target
                lastEntryBar = barCount
                positionStrategy = name
                tradedThisBar = name
            }
            var indicators = view.indicators
            indicators.merge(regimeIndicators) { own, _ in own }
            var signal = Signal(
                signalId: sid, symbol: symbol, strategy: name, direction: view.direction ?? .flat,
                confidence: view.confidence, referencePrice: bar.close, barTime: bar.openTime,
                indicators: indicators.filter { $0.value.isFinite }, decision: intent == nil ? .rejected : .approved,
                reasons: [reason])
            signal.recall = note
            evaluations.append(Evaluation(signal: signal, intent: intent))
        }
        return Output(evaluations: evaluations, regime: reading)
    }

    /// The first check a warm strategy's view fails, or `.approved`.
    private func judge(
        _ view: StrategyView, strategy: String, style: StrategyStyle, ownConfidence: Double, recall: RecallNote?,
        reading: RegimeReading?, stale: Reason?, tradedThisBar: String?, close: Amount
    ) -> Reason {
        let symbol = settings.instrument.symbol
        var regimeNote = ""
        if let selection = settings.regimeSelection {
            guard let reading else {
                let bars = max(selection.classifier.slowPeriod, selection.classifier.volatilityPeriod + 1)
                return Reason(.warmingUp, "regime classifier needs about \(bars) bars; \(view.reason.description)")
            }
            let admission = selection.admission(for: style, in: reading.regime)
            if admission == .none {
                return Reason(
                    .regimeMismatch,
                    "\(style.rawValue) does not trade in \(reading.regime.rawValue); \(view.reason.description)")
            }
            guard let direction = view.direction else { return view.reason }
            if !admission.admits(direction) {
                let rule = "\(reading.regime.rawValue) admits \(style.rawValue) \(admission.rawValue)"
                return Reason(.regimeMismatch, "\(direction.rawValue) refused: \(rule); \(view.reason.description)")
            }
            regimeNote = " in \(reading.regime.rawValue)"
        }
        guard let wanted = view.direction else { return view.reason }
        if view.confidence < settings.minConfidence {
            return lowConfidence(view, strategy: strategy, ownConfidence: ownConfidence, recall: recall)
        }
        if let stale { return stale }
        switch tradingState {
        case .halted, .syncing:
            return Reason(.tradingHalted, "risk gate is \(tradingState.rawValue)")
        case .reducing:
            return Reason(.tradingHalted, "risk gate is reducing: entries refused")
        case .active:
            break
        }
        guard close.isPositive else { return Reason(.noMarketPrice, "bar close \(close) is not a price") }
        let unit = settings.instrument.roundSize(settings.tradeNotional / close)
        let target = wanted == .long ? unit : -unit
        if !intendedPosition.isZero, intendedPosition.signum == target.signum {
            return Reason(.alreadyPositioned, "already \(wanted.rawValue) \(intendedPosition.magnitude) \(symbol)")
        }
        if let tradedThisBar {
            return Reason(.superseded, "\(tradedThisBar) already traded \(symbol) on this bar")
        }
        if let lastEntryBar, barCount - lastEntryBar <= settings.cooldownBars {
            return Reason(
                .cooldown, "last entry \(barCount - lastEntryBar) bar(s) ago; cooldown is \(settings.cooldownBars) bars"
            )
        }
        if unit.isZero || unit * close < settings.instrument.minOrderValue {
            return Reason(.belowThreshold, "position of \(unit) \(symbol) is below the venue minimum")
        }
        return Reason(.approved, view.reason.detail + regimeNote)
    }

    /// Says who moved the confidence below the floor: the strategy (or model) itself, or recall.
    private func lowConfidence(
        _ view: StrategyView, strategy: String, ownConfidence: Double, recall: RecallNote?
    ) -> Reason {
        let floor = "signal.minConfidence \(Self.format(settings.minConfidence))"
        if let recall, ownConfidence >= settings.minConfidence {
            return Reason(
                .lowConfidence,
                "recall ×\(Self.format(recall.adjustment)) (\(recall.neighbours) neighbours) moved confidence "
                    + "\(Self.format(ownConfidence)) → \(Self.format(view.confidence)), below \(floor)")
        }
        let after = recall.map { "; recall ×\(Self.format($0.adjustment)) → \(Self.format(view.confidence))" } ?? ""
        return Reason(
            .lowConfidence, "\(strategy) confidence \(Self.format(ownConfidence)) is below \(floor)\(after)")
    }

    private static func format(_ value: Double) -> String { "\((value * 100).rounded() / 100)" }

    private func staleness(of bar: Bar, now: EpochNanos) -> Reason? {
        if !feedLive { return Reason(.staleData, "feed for \(settings.instrument.symbol) is not live") }
        if let maxAge = settings.maxBarAgeNanos {
            let closeTime = bar.openTime + Int64(bar.intervalSeconds) * 1_000_000_000
            let age = now - closeTime
            if age > maxAge {
                return Reason(.staleData, "bar closed \(age / 1_000_000) ms ago; limit \(maxAge / 1_000_000) ms")
            }
        }
        return nil
    }
}
