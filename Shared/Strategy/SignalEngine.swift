import Schema

/// Turns a strategy's views into signals (every evaluation, approved or not) and
/// intents (one per approved signal), keeping the position it has asked for.
///
/// The engine tracks the position it *intended*, not fills: a decision must not depend
/// on whether a fill happened to arrive before the next bar. A rejected intent rolls
/// the intended position back.
public struct SignalEngine: Sendable {
    public struct Settings: Sendable, Equatable {
        public var instrument: Instrument
        /// Quote notional of one position.
        public var tradeNotional: Amount
        /// How long an intent may wait for the risk gate.
        public var intentLifetimeNanos: Int64
        public init(instrument: Instrument, tradeNotional: Amount, intentLifetimeNanos: Int64 = 5_000_000_000) {
            self.instrument = instrument
            self.tradeNotional = tradeNotional
            self.intentLifetimeNanos = intentLifetimeNanos
        }
    }

    /// What the engine intends to hold in its symbol: signed size.
    public private(set) var intendedPosition: Amount = .zero
    public private(set) var tradingState: TradingState = .active
    public private(set) var feedLive = true
    public let settings: Settings
    private var strategy: RsiMeanReversion
    /// Position before each intent still awaiting its decision.
    private var pending: [String: Amount] = [:]
    private var lastBarTime: EpochNanos?

    public init(strategy: RsiMeanReversion, settings: Settings) {
        self.strategy = strategy
        self.settings = settings
    }

    public var strategyName: String { strategy.name }

    public struct Output: Sendable, Equatable {
        public var signal: Signal
        public var intent: OrderIntent?
    }

    public mutating func onBar(_ bar: Bar, signalId: String, intentId: String, now: EpochNanos) -> Output {
        let view = strategy.update(close: bar.close.doubleValue)
        let symbol = settings.instrument.symbol
        var reasons = [view.reason]
        var direction = view.direction ?? .flat
        if let last = lastBarTime, bar.openTime <= last {
            reasons = [Reason(.duplicate, "bar at \(bar.openTime) not after \(last)")]
            direction = .flat
        }
        lastBarTime = max(lastBarTime ?? bar.openTime, bar.openTime)

        var intent: OrderIntent?
        if reasons.first?.code == .approved, let wanted = view.direction {
            let unit = settings.instrument.roundSize(settings.tradeNotional / bar.close)
            let target = wanted == .long ? unit : -unit
            if !feedLive {
                reasons = [Reason(.staleData, "feed for \(symbol) is not live")]
            } else if tradingState == .halted || tradingState == .syncing {
                reasons = [Reason(.tradingHalted, "risk gate is \(tradingState.rawValue)")]
            } else if intendedPosition.signum == target.signum {
                reasons = [
                    Reason(.alreadyPositioned, "already \(wanted.rawValue) \(intendedPosition.magnitude) \(symbol)")
                ]
            } else if unit.isZero || unit * bar.close < settings.instrument.minOrderValue {
                reasons = [Reason(.belowThreshold, "position of \(unit) \(symbol) is below the venue minimum")]
            } else if tradingState == .reducing && !intendedPosition.isZero {
                reasons = [Reason(.tradingHalted, "risk gate is reducing: entries refused")]
            } else {
                let change = target - intendedPosition
                intent = OrderIntent(
                    intentId: intentId, symbol: symbol, side: change.isPositive ? .buy : .sell,
                    size: change.magnitude, orderType: .market, price: bar.close, purpose: .entry,
                    reduceOnly: false, strategy: strategy.name, origin: signalId, createdAt: now,
                    expiresAt: now + settings.intentLifetimeNanos)
                pending[intentId] = intendedPosition
                intendedPosition = target
            }
        }
        let decision: Signal.Decision = intent == nil ? .rejected : .approved
        let signal = Signal(
            signalId: signalId, symbol: symbol, strategy: strategy.name, direction: direction,
            confidence: view.confidence, referencePrice: bar.close, barTime: bar.openTime,
            indicators: view.indicators.filter { $0.value.isFinite }, decision: decision, reasons: reasons)
        return Output(signal: signal, intent: intent)
    }

    /// A rejection restores the position the intent would have changed.
    public mutating func onDecision(_ decision: RiskDecision) {
        guard let before = pending.removeValue(forKey: decision.intentId) else { return }
        switch decision.outcome {
        case .rejected:
            intendedPosition = before
        case .resized:
            let change = decision.approvedSize
            intendedPosition = before + (intendedPosition > before ? change : -change)
        case .approved:
            break
        }
    }

    public mutating func onTradingState(_ state: TradingState) { tradingState = state }
    public mutating func onFeedStatus(_ status: FeedStatus) { feedLive = status.state != .stale }
}
