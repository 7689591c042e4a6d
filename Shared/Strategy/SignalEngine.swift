import Schema

/// One strategy on one symbol: signals (every evaluation, approved or not) and intents
/// (one per approved signal), keeping the position it has asked for.
///
/// A `StrategyDesk` with a single strategy and, by default, no regime selection, no
/// cooldown and no bar-age check; see `StrategyDesk` for the rules. The engine tracks
/// the position it *intended*, not fills; a rejected intent rolls it back.
public struct SignalEngine: Sendable {
    public struct Settings: Sendable, Equatable {
        public var instrument: Instrument
        /// Quote notional of one position.
        public var tradeNotional: Amount
        /// How long an intent may wait for the risk gate.
        public var intentLifetimeNanos: Int64
        /// After an entry on bar k, no entry on bars k+1 … k+cooldownBars (0: none).
        public var cooldownBars: Int
        /// A bar closed more than this before `now` is stale (nil: feed status only).
        public var maxBarAgeNanos: Int64?
        /// nil: the strategy trades in any regime.
        public var regimeSelection: RegimeSelection?

        public init(
            instrument: Instrument, tradeNotional: Amount, intentLifetimeNanos: Int64 = 5_000_000_000,
            cooldownBars: Int = 0, maxBarAgeNanos: Int64? = nil, regimeSelection: RegimeSelection? = nil
        ) {
            self.instrument = instrument
            self.tradeNotional = tradeNotional
            self.intentLifetimeNanos = intentLifetimeNanos
            self.cooldownBars = cooldownBars
            self.maxBarAgeNanos = maxBarAgeNanos
            self.regimeSelection = regimeSelection
        }

        var desk: StrategyDesk.Settings {
            StrategyDesk.Settings(
                instrument: instrument, tradeNotional: tradeNotional, intentLifetimeNanos: intentLifetimeNanos,
                cooldownBars: cooldownBars, maxBarAgeNanos: maxBarAgeNanos, regimeSelection: regimeSelection)
        }
    }

    public struct Output: Sendable, Equatable {
        public var signal: Signal
        public var intent: OrderIntent?
    }

    public let settings: Settings
    private var desk: StrategyDesk

    public init(strategy: some BarStrategy, settings: Settings) {
        self.settings = settings
        self.desk = StrategyDesk(strategies: [strategy], settings: settings.desk)
    }

    /// What the engine intends to hold in its symbol: signed size.
    public var intendedPosition: Amount { desk.intendedPosition }
    public var tradingState: TradingState { desk.tradingState }
    public var feedLive: Bool { desk.feedLive }
    public var strategyName: String { desk.strategyNames[0] }

    public mutating func onBar(_ bar: Bar, signalId: String, intentId: String, now: EpochNanos) -> Output {
        let output = desk.evaluate(bar, now: now, signalId: { _ in signalId }, intentId: { _ in intentId })
        let evaluation = output.evaluations[0]
        return Output(signal: evaluation.signal, intent: evaluation.intent)
    }

    /// A rejection restores the position the intent would have changed.
    public mutating func onDecision(_ decision: RiskDecision) { desk.onDecision(decision) }
    public mutating func onTradingState(_ state: TradingState) { desk.onTradingState(state) }
    public mutating func onFeedStatus(_ status: FeedStatus) { desk.onFeedStatus(status) }
}
