import Schema

/// The strategies of every traded symbol: one `StrategyDesk` per symbol, each with its own
/// indicators, cooldown and intended position. Routes each message to the desk of its symbol;
/// trading state goes to all. Pure and synchronous, like the desks.
public struct StrategyPortfolio: Sendable {
    /// A desk that adopted the account's position after a snapshot.
    public struct Adoption: Sendable, Equatable {
        public var symbol: String
        public var before: Amount
        public var after: Amount
    }

    public private(set) var desks: [String: StrategyDesk]
    /// How long after an intent a snapshot may contradict the desk before the desk follows it.
    public let settleNanos: Int64

    public init(desks: [StrategyDesk], settleNanos: Int64) {
        var bySymbol: [String: StrategyDesk] = [:]
        for desk in desks { bySymbol[desk.settings.instrument.symbol] = desk }
        self.desks = bySymbol
        self.settleNanos = settleNanos
    }

    public var symbols: [String] { desks.keys.sorted() }

    public mutating func updateStrategies<S: BarStrategy>(
        of type: S.Type, symbol: String, _ change: (inout S) -> Void
    ) {
        desks[symbol]?.updateStrategies(of: type, change)
    }

    /// Nil for a bar of a symbol this portfolio does not trade.
    public mutating func onBar(_ bar: Bar, now: EpochNanos, newIdentifier: () -> String) -> StrategyDesk.Output? {
        guard let symbol = bar.symbol, desks[symbol] != nil else { return nil }
        return desks[symbol]!.onBar(bar, now: now, newIdentifier: newIdentifier)
    }

    /// The first half of `onBar`, for a caller that asks recall about the views before deciding.
    public mutating func observe(_ bar: Bar, now: EpochNanos) -> StrategyDesk.Observation? {
        guard let symbol = bar.symbol, desks[symbol] != nil else { return nil }
        return desks[symbol]!.observe(bar, now: now)
    }

    public mutating func decide(
        _ observation: StrategyDesk.Observation, now: EpochNanos, recall: [Int: RecallNote],
        newIdentifier: () -> String
    ) -> StrategyDesk.Output? {
        guard let symbol = observation.bar.symbol, desks[symbol] != nil else { return nil }
        return desks[symbol]!.decide(observation, now: now, recall: recall, newIdentifier: newIdentifier)
    }

    public mutating func onDecision(_ decision: RiskDecision) {
        guard let symbol = decision.symbol else { return }
        desks[symbol]?.onDecision(decision)
    }

    public mutating func onExitFill(_ fill: Fill) {
        guard let symbol = fill.symbol else { return }
        desks[symbol]?.onExitFill(fill)
    }

    public mutating func onTradingState(_ state: TradingState) {
        for symbol in symbols { desks[symbol]!.onTradingState(state) }
    }

    /// A status without a symbol applies to every desk.
    public mutating func onFeedStatus(_ status: FeedStatus) {
        for symbol in status.symbol.map({ [$0] }) ?? symbols { desks[symbol]?.onFeedStatus(status) }
    }

    /// Every desk compares its intended position with the account's (flat where the snapshot has none).
    public mutating func onAccountSnapshot(_ snapshot: AccountSnapshot) -> [Adoption] {
        var sizes: [String: Amount] = [:]
        for position in snapshot.positions { sizes[position.symbol, default: .zero] += position.size }
        var adopted: [Adoption] = []
        for symbol in symbols {
            let before = desks[symbol]!.intendedPosition
            let size = sizes[symbol] ?? .zero
            if desks[symbol]!.onAccountPosition(size, asOf: snapshot.asOf, settleNanos: settleNanos) {
                adopted.append(Adoption(symbol: symbol, before: before, after: size))
            }
        }
        return adopted
    }

    /// Non-zero intended positions by symbol.
    public var intendedPositions: [String: Amount] {
        desks.compactMapValues { $0.intendedPosition.isZero ? nil : $0.intendedPosition }
    }

    public var pendingIntentCount: Int { desks.values.reduce(0) { $0 + $1.pendingIntentCount } }
}
