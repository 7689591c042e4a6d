import Schema

/// An open position as the exit engine sees it. The caller keeps one per symbol and updates
/// `size` (and `entryPrice` on additions) from fills; the engine maintains the rest.
public struct ExitPosition: Codable, Sendable, Equatable {
    public var symbol: String
    /// Signed: positive is long.
    public var size: Amount
    public var entryPrice: Amount
    public var entryTime: EpochNanos
    public var strategy: String

    // Maintained by the engine.
    /// Best and worst marks seen since entry.
    public var highWater: Amount
    public var lowWater: Amount
    /// The largest size the position has had: the base of take-profit fractions.
    public var peakSize: Amount
    /// Latched once the trade reached the trailing stop's activation profit.
    public var trailingActive: Bool
    /// Consecutive evaluations with the mark beyond the soft stop.
    public var softStopBreaches: Int
    /// Consecutive opposite signals counted after the cooldown.
    public var oppositeSignals: Int
    /// The newest signal counted, so one signal is never counted twice.
    public var lastSignalTime: EpochNanos?
    /// Profit levels of take-profits that have fired.
    public var takeProfitsFired: Set<Double>
    /// Loss levels (fractions of equity) of emergency tiers that have fired.
    public var emergencyTiersFired: Set<Double>

    public init(symbol: String, size: Amount, entryPrice: Amount, entryTime: EpochNanos, strategy: String = "") {
        self.symbol = symbol
        self.size = size
        self.entryPrice = entryPrice
        self.entryTime = entryTime
        self.strategy = strategy
        self.highWater = entryPrice
        self.lowWater = entryPrice
        self.peakSize = size.magnitude
        self.trailingActive = false
        self.softStopBreaches = 0
        self.oppositeSignals = 0
        self.lastSignalTime = nil
        self.takeProfitsFired = []
        self.emergencyTiersFired = []
    }

    public var isLong: Bool { size.isPositive }
}

/// The latest strategy signal for the symbol.
public struct ExitSignal: Codable, Sendable, Equatable {
    public var direction: Direction
    /// The signal's bar time: a signal is counted once however often it is passed in.
    public var time: EpochNanos
    public init(direction: Direction, time: EpochNanos) {
        self.direction = direction
        self.time = time
    }
}

/// What the market says at one evaluation.
public struct ExitMarket: Sendable, Equatable {
    public var mark: Amount
    /// The close of a bar that just closed, if this evaluation is on a bar; confirms a soft stop.
    public var barClose: Amount?
    public var atr: Double?
    public var signal: ExitSignal?
    /// The account equity, the base of the emergency tiers; without it they cannot fire.
    public var equity: Amount?
    public var now: EpochNanos
    public init(
        mark: Amount, barClose: Amount? = nil, atr: Double? = nil, signal: ExitSignal? = nil, equity: Amount? = nil,
        now: EpochNanos
    ) {
        self.mark = mark
        self.barClose = barClose
        self.atr = atr
        self.signal = signal
        self.equity = equity
        self.now = now
    }
}

/// An exit that fired: the intent for the risk gate, tagged with its path.
public struct ExitOrder: Sendable, Equatable {
    public var path: ExitPath
    /// Purpose `.exit`, reduce-only, origin "exit:<path>".
    public var intent: OrderIntent
    /// The numbers behind it, for the trace.
    public var detail: String
    public var isPartial: Bool
}

/// The one exit engine: every exit rule, evaluated per open position on each mark or bar, in
/// the priority order of `ExitPath`, firing at most one exit per evaluation.
///
/// A full exit fires again at every evaluation until the position is gone; the risk book
/// refuses the repeats (`nothing_to_reduce`) while the first exit is still working.
public struct ExitEngine: Sendable {
    public var policy: ExitPolicy

    public init(policy: ExitPolicy) { self.policy = policy }

    /// Updates the position's tracked state and returns the exit that fires, if any.
    public func evaluate(_ position: inout ExitPosition, market: ExitMarket, instrument: Instrument) -> ExitOrder? {
        guard !position.size.isZero, market.mark.isPositive, position.entryPrice.isPositive else { return nil }
        track(&position, market: market)

        for path in ExitPath.allCases {
            guard let fired = check(path, position: position, market: market, instrument: instrument) else { continue }
            if path == .takeProfit { position.takeProfitsFired.formUnion(fired.levels) }
            if path == .emergencyLoss { position.emergencyTiersFired.formUnion(fired.levels) }
            return order(path: path, size: fired.size, detail: fired.detail, position: position, market: market)
        }
        return nil
    }

    /// The stop the position is protected by: the tightest of the hard stop, the ATR stop (with
    /// an ATR) and the trailing stop once active, as the engine would fire them, for the
    /// exchange-side stop order. nil when none applies. Reads the position as it is: pass it
    /// after `evaluate` so the trailing stop follows the newest mark. Not rounded to the tick.
    public func protectiveStopPrice(_ position: ExitPosition, market: ExitMarket) -> Amount? {
        guard !position.size.isZero, position.entryPrice.isPositive else { return nil }
        let levels = [
            hardStopLevel(position), atrStopLevel(position, atr: market.atr),
            trailingStopLevel(position, atr: market.atr)?.level,
        ].compactMap { $0 }.filter(\.isPositive)
        guard !levels.isEmpty else { return nil }
        // Tightest: the nearest to the price, highest below a long, lowest above a short.
        return position.isLong ? levels.max() : levels.min()
    }

    // MARK: Tracking

    private func track(_ position: inout ExitPosition, market: ExitMarket) {
        let mark = market.mark
        position.highWater = Swift.max(position.highWater, mark)
        position.lowWater = Swift.min(position.lowWater, mark)
        position.peakSize = Swift.max(position.peakSize, position.size.magnitude)

        if let softStop = policy.softStop {
            let level = adverseLevel(softStop.loss, position)
            position.softStopBreaches = isBeyond(mark, level, position) ? position.softStopBreaches + 1 : 0
        }

        if let signal = market.signal, signal.time > (position.lastSignalTime ?? .min) {
            position.lastSignalTime = signal.time
            let cooldownEnds = position.entryTime + (policy.signalExit?.cooldownNanos ?? 0)
            if signal.time >= cooldownEnds {
                let opposite: Direction = position.isLong ? .short : .long
                position.oppositeSignals = signal.direction == opposite ? position.oppositeSignals + 1 : 0
            }
        }

        if let trailing = policy.trailingStop, !position.trailingActive {
            let best = position.isLong ? position.highWater : position.lowWater
            position.trailingActive = profit(at: best, position) >= Amount(trailing.activationProfit)
        }
    }

    // MARK: Rules

    private struct Fired {
        var size: Amount? = nil  // nil: the whole position
        var detail: String
        var levels: Set<Double> = []
    }

    private func check(_ path: ExitPath, position: ExitPosition, market: ExitMarket, instrument: Instrument) -> Fired? {
        let mark = market.mark
        switch path {
        case .emergencyLoss:
            return emergency(position: position, market: market, instrument: instrument)

        case .hardStop:
            guard let stop = policy.hardStop, let level = hardStopLevel(position) else { return nil }
            guard isBeyond(mark, level, position) else { return nil }
            return Fired(detail: "mark \(mark) beyond hard stop \(level) (\(Format.percent(stop)) from entry \(position.entryPrice))")

        case .atrStop:
            guard let rule = policy.atrStop, let atr = market.atr, let level = atrStopLevel(position, atr: atr) else {
                return nil
            }
            guard isBeyond(mark, level, position) else { return nil }
            return Fired(detail: "mark \(mark) beyond ATR stop \(level) (entry \(position.entryPrice) ∓ \(rule.multiple) × ATR \(atr))")

        case .softStop:
            guard let rule = policy.softStop else { return nil }
            let level = adverseLevel(rule.loss, position)
            if let close = market.barClose, isBeyond(close, level, position) {
                return Fired(detail: "bar closed at \(close) beyond soft stop \(level)")
            }
            guard position.softStopBreaches >= rule.confirmations else { return nil }
            return Fired(detail: "mark beyond soft stop \(level) for \(position.softStopBreaches) evaluations ≥ \(rule.confirmations)")

        case .trailingStop:
            guard let trail = trailingStopLevel(position, atr: market.atr) else { return nil }
            guard isBeyond(mark, trail.level, position) else { return nil }
            return Fired(detail: "mark \(mark) beyond trailing stop \(trail.level) (best \(trail.best), distance \(trail.distance))")

        case .forceStop:
            guard let limit = policy.forceStopDistance, let stop = protectiveStopPrice(position, market: market) else {
                return nil
            }
            // Through the stop is the stop's own path; this is only the approach to it.
            let gap = (position.isLong ? mark - stop : stop - mark) / mark
            guard gap.isPositive, gap <= Amount(limit) else { return nil }
            return Fired(detail: "mark \(mark) within \(Format.percent(gap)) of protective stop \(stop) ≤ force-stop distance \(Format.percent(limit))")

        case .maxHoldingTime:
            guard let limit = policy.maxHoldingNanos else { return nil }
            let held = market.now - position.entryTime
            guard held >= limit else { return nil }
            return Fired(detail: "held \(Format.seconds(held)) ≥ \(Format.seconds(limit))")

        case .signal:
            guard let rule = policy.signalExit else { return nil }
            let gain = profit(at: mark, position)
            guard position.oppositeSignals >= rule.confirmations, gain >= Amount(rule.minProfit),
                market.now - position.entryTime >= rule.cooldownNanos
            else { return nil }
            return Fired(detail: "\(position.oppositeSignals) opposite signals ≥ \(rule.confirmations); profit \(Format.percent(gain)) ≥ \(Format.percent(rule.minProfit))")

        case .takeProfit:
            let gain = profit(at: mark, position)
            let due = policy.takeProfits.filter {
                !position.takeProfitsFired.contains($0.profit) && gain >= Amount($0.profit)
            }
            guard !due.isEmpty else { return nil }
            let fraction = Amount(due.reduce(0) { $0 + $1.fraction })
            let levels = due.map { Format.percent($0.profit) }.joined(separator: ", ")
            let detail = "profit \(Format.percent(gain)) reached take-profit \(levels)"
            return Fired(
                size: partialSize(fraction, position: position, mark: mark, instrument: instrument), detail: detail,
                levels: Set(due.map(\.profit)))
        }
    }

    /// The tiers reached by the loss as a share of equity: a lower tier closes its fraction of the
    /// peak size once; the last tier closes everything, and like every full exit repeats until
    /// the position is gone, so an exit that failed is tried again.
    private func emergency(position: ExitPosition, market: ExitMarket, instrument: Instrument) -> Fired? {
        let tiers = policy.emergencyTiers
        guard !tiers.isEmpty, let equity = market.equity, equity.isPositive else { return nil }
        let loss = -(position.size * (market.mark - position.entryPrice))
        guard loss.isPositive else { return nil }
        let share = loss / equity
        let reached = tiers.indices.filter { share >= Amount(tiers[$0].loss) }
        guard let worst = reached.last else { return nil }
        let isLast = worst == tiers.count - 1
        let due = reached.filter { !position.emergencyTiersFired.contains(tiers[$0].loss) }
        guard isLast || !due.isEmpty else { return nil }
        let fraction = due.reduce(0) { $0 + tiers[$1].fraction }
        let size = isLast ? nil : partialSize(Amount(fraction), position: position, mark: market.mark, instrument: instrument)
        let action = size == nil ? "close all" : "close \(Format.percent(fraction)) of peak size \(position.peakSize)"
        let tier = "emergency tier \(worst + 1) of \(tiers.count) (\(Format.percent(tiers[worst].loss)))"
        let detail = "unrealised loss \(Format.money(loss)) is \(Format.percent(share)) of equity \(Format.money(equity)) ≥ \(tier): \(action)"
        return Fired(size: size, detail: detail, levels: Set(reached.map { tiers[$0].loss }))
    }

    // MARK: Stop levels

    private func hardStopLevel(_ position: ExitPosition) -> Amount? {
        policy.hardStop.map { adverseLevel($0, position) }
    }

    /// entry ∓ multiple × ATR; nil without a usable ATR.
    private func atrStopLevel(_ position: ExitPosition, atr: Double?) -> Amount? {
        guard let rule = policy.atrStop, let atr, atr.isFinite, atr > 0 else { return nil }
        let distance = Amount(rule.multiple * atr)
        return position.isLong ? position.entryPrice - distance : position.entryPrice + distance
    }

    /// The trailing stop's level once it is active, with the best price and distance behind it.
    private func trailingStopLevel(_ position: ExitPosition, atr: Double?) -> (level: Amount, best: Amount, distance: Amount)? {
        guard let rule = policy.trailingStop, position.trailingActive else { return nil }
        let best = position.isLong ? position.highWater : position.lowWater
        let distance = trailingDistance(rule, best: best, atr: atr)
        return (position.isLong ? best - distance : best + distance, best, distance)
    }

    /// The partial size, or nil (the whole position) when it would leave less than a valid order.
    private func partialSize(_ fraction: Amount, position: ExitPosition, mark: Amount, instrument: Instrument) -> Amount? {
        let held = position.size.magnitude
        let partial = instrument.roundSize(position.peakSize * fraction, .down)
        let remainder = held - partial
        guard partial.isPositive, remainder.isPositive, instrument.roundSize(remainder, .down).isPositive,
            remainder * mark >= instrument.minOrderValue
        else { return nil }
        return partial
    }

    /// multiple × ATR clamped to [min, max] fractions of the best price; the maximum without an ATR.
    private func trailingDistance(_ rule: ExitPolicy.TrailingStop, best: Amount, atr: Double?) -> Amount {
        let lower = best * Amount(rule.minDistance)
        let upper = best * Amount(rule.maxDistance)
        guard let atr, atr.isFinite, atr > 0 else { return upper }
        return Swift.min(Swift.max(Amount(rule.atrMultiple * atr), lower), upper)
    }

    // MARK: Direction-neutral helpers

    /// The price `fraction` against the position from its entry.
    private func adverseLevel(_ fraction: Double, _ position: ExitPosition) -> Amount {
        let move = position.entryPrice * Amount(fraction)
        return position.isLong ? position.entryPrice - move : position.entryPrice + move
    }

    /// Whether `price` is at or past `level` on the losing side.
    private func isBeyond(_ price: Amount, _ level: Amount, _ position: ExitPosition) -> Bool {
        position.isLong ? price <= level : price >= level
    }

    /// Profit as a fraction of the entry price at `price`.
    private func profit(at price: Amount, _ position: ExitPosition) -> Amount {
        let move = position.isLong ? price - position.entryPrice : position.entryPrice - price
        return move / position.entryPrice
    }

    private func order(path: ExitPath, size: Amount?, detail: String, position: ExitPosition, market: ExitMarket) -> ExitOrder {
        let exitSize = size ?? position.size.magnitude
        let intent = OrderIntent(
            intentId: "exit-\(position.symbol)-\(path.rawValue)-\(market.now)", symbol: position.symbol,
            side: position.isLong ? .sell : .buy, size: exitSize, orderType: policy.orderType, price: market.mark,
            purpose: .exit, reduceOnly: true, strategy: position.strategy, origin: "exit:\(path.rawValue)",
            createdAt: market.now, expiresAt: market.now + policy.intentTimeToLiveNanos)
        return ExitOrder(path: path, intent: intent, detail: detail, isPartial: size != nil)
    }
}
