import Schema

/// Keeps every open position protected on the exchange by a reduce-only stop-loss trigger order,
/// so a position stays protected while any Breakwater process is down.
///
/// - An approved entry carries its stop (and a take-profit where configured) in the same signed
///   action (`protectiveOrders`, grouped `normalTpsl`): the exchange arms them when the entry fills.
/// - Each `plan` compares positions with the stops known to rest: a position without one gets a
///   stop of its own (`positionTpsl`); a stop whose size no longer matches the position, or whose
///   level the exit engine moved (a trailing stop), is modified; a stop left on a flat symbol is
///   canceled. The exit engine decides the level; this only keeps the exchange in step with it.
/// - It learns what rests from its own commands, the executor's answers and account snapshots, so
///   a restart rebuilds it from the exchange.
///
/// Cancels are never refused; a place or a modify is checked like any order (reduce-only, the
/// instrument's price rules, a trigger on the side of the mark the venue accepts).
public struct PositionProtection: Sendable {
    public struct Settings: Sendable, Equatable {
        /// A market stop's worst accepted price, as a fraction beyond its trigger (Hyperliquid's
        /// market TP/SL tolerate 10 %).
        public var stopSlippage: Double
        /// The exchange stop is moved when the exit engine's level is better by at least this fraction.
        public var minMove: Double
        /// How long a sent command may stay unanswered before the plan may act on that symbol again.
        public var answerTimeoutNanos: Int64

        public init(stopSlippage: Double = 0.10, minMove: Double = 0.001, answerTimeoutNanos: Int64 = 10 * Nanos.second) {
            self.stopSlippage = stopSlippage
            self.minMove = minMove
            self.answerTimeoutNanos = answerTimeoutNanos
        }

        public static let standard = Settings()
    }

    /// A stop resting (or sent) on the exchange.
    public struct Stop: Sendable, Equatable {
        public var clientOrderId: String
        public var symbol: String
        /// The side that closes the position: sell for a long.
        public var side: Side
        public var size: Amount
        public var triggerPrice: Amount
        /// Sent and not yet answered (acked, rejected or canceled) since this time.
        public var pendingSince: EpochNanos?
    }

    public let settings: Settings
    public let instruments: [String: Instrument]
    public private(set) var stops: [String: Stop] = [:]
    /// Symbols whose stop could not be placed, with why (a level the mark is already through).
    public private(set) var unprotectable: [String: String] = [:]
    private var sequence = 0
    /// Symbols whose stop fired (its fill seen), with the fill's time: no new stop until a snapshot
    /// says what is left, since the fill may reach the risk book's position only with that snapshot.
    private var fired: [String: EpochNanos] = [:]

    public init(settings: Settings = .standard, instruments: [String: Instrument]) {
        self.settings = settings
        self.instruments = instruments
    }

    // MARK: Entries

    /// The stop (and take-profit) an approved entry carries: a market stop-loss at `stopPrice` for the
    /// entry's size, and, when given, a market take-profit for `takeProfit.size` at `takeProfit.price`.
    /// Empty when the instrument is unknown or the levels are on the wrong side of the entry.
    public func protectiveOrders(
        for entry: OrderCommand, reference: Amount, stopPrice: Amount, takeProfit: (price: Amount, size: Amount)? = nil
    ) -> [ProtectiveOrder] {
        guard let symbol = entry.symbol, let instrument = instruments[symbol], entry.action == .place,
            !entry.reduceOnly, entry.trigger == nil
        else { return [] }
        let closing = entry.side.opposite
        guard let stop = triggerOrder(
            closing, kind: .stopLoss, trigger: stopPrice, size: entry.size, instrument: instrument, mark: reference)
        else { return [] }
        var orders = [
            ProtectiveOrder(
                clientOrderId: Identifier.clientOrderId(forIntent: entry.intentId + ":sl"), side: closing,
                size: entry.size, price: stop.price, trigger: stop.trigger, exitPath: ExitPath.hardStop.rawValue)
        ]
        if let takeProfit, takeProfit.size.isPositive,
            let size = Optional(Swift.min(instrument.roundSize(takeProfit.size), entry.size)), size.isPositive,
            let tp = triggerOrder(
                closing, kind: .takeProfit, trigger: takeProfit.price, size: size, instrument: instrument, mark: reference)
        {
            orders.append(
                ProtectiveOrder(
                    clientOrderId: Identifier.clientOrderId(forIntent: entry.intentId + ":tp"), side: closing, size: size,
                    price: tp.price, trigger: tp.trigger, exitPath: ExitPath.takeProfit.rawValue))
        }
        return orders
    }

    // MARK: What the executor and the exchange say

    /// An order command left the risk gate: its stops are pending until the executor answers.
    public mutating func sent(_ command: OrderCommand, now: EpochNanos) {
        guard let symbol = command.symbol else { return }
        switch command.action {
        case .place:
            if let trigger = command.trigger, trigger.kind == .stopLoss, command.reduceOnly {
                stops[symbol] = Stop(
                    clientOrderId: command.clientOrderId, symbol: symbol, side: command.side, size: command.size,
                    triggerPrice: trigger.triggerPrice, pendingSince: now)
            }
            for child in command.protectiveOrders ?? [] where child.trigger.kind == .stopLoss {
                stops[symbol] = Stop(
                    clientOrderId: child.clientOrderId, symbol: symbol, side: child.side, size: child.size,
                    triggerPrice: child.trigger.triggerPrice, pendingSince: now)
            }
        case .modify:
            guard var stop = stops[symbol], stop.clientOrderId == command.clientOrderId else { return }
            stop.size = command.size
            stop.triggerPrice = command.trigger?.triggerPrice ?? stop.triggerPrice
            stop.pendingSince = now
            stops[symbol] = stop
        case .cancel:
            guard var stop = stops[symbol], stop.clientOrderId == command.clientOrderId else { return }
            stop.pendingSince = now
            stops[symbol] = stop
        }
    }

    public mutating func apply(_ ack: OrderAck) {
        guard let symbol = ack.symbol, stops[symbol]?.clientOrderId == ack.clientOrderId else { return }
        if ack.action == .cancel {
            stops[symbol] = nil
        } else {
            stops[symbol]?.pendingSince = nil
        }
    }

    /// A refused place leaves no stop; a refused modify or cancel leaves the stop as it was known to
    /// rest, and the next snapshot tells its true size and level.
    public mutating func apply(_ reject: OrderReject) {
        guard let symbol = reject.symbol, let stop = stops[symbol], stop.clientOrderId == reject.clientOrderId else {
            return
        }
        stops[symbol] = stop.pendingSince == nil ? stop : nil
        if stops[symbol] != nil { stops[symbol]?.pendingSince = nil }
    }

    public mutating func apply(_ cancel: OrderCanceled) {
        guard let symbol = cancel.symbol, stops[symbol]?.clientOrderId == cancel.clientOrderId else { return }
        stops[symbol] = nil
    }

    /// A fill of the stop itself: it fired.
    public mutating func apply(_ fill: Fill) {
        guard let symbol = fill.symbol, stops[symbol]?.clientOrderId == fill.clientOrderId else { return }
        stops[symbol] = nil
        fired[symbol] = fill.time
    }

    /// What rests according to the ledger: every reduce-only stop-loss trigger order. A stop this
    /// book sent and the snapshot does not show yet stays while it is pending.
    public mutating func apply(_ snapshot: AccountSnapshot) {
        fired = [:]
        var resting: [String: Stop] = [:]
        for order in snapshot.openOrders {
            guard let trigger = order.trigger, trigger.kind == .stopLoss, order.reduceOnly == true else { continue }
            resting[order.symbol] = Stop(
                clientOrderId: order.clientOrderId, symbol: order.symbol, side: order.side, size: order.size,
                triggerPrice: trigger.triggerPrice, pendingSince: nil)
        }
        for (symbol, stop) in stops where stop.pendingSince != nil && resting[symbol] == nil {
            resting[symbol] = stop
        }
        stops = resting
    }

    // MARK: Keeping the exchange in step

    /// The commands that bring the exchange's stops in line with the positions (signed sizes) and
    /// the exit engine's stop levels. `marks` guard against a level the market is already through.
    public mutating func plan(
        positions: [String: Amount], stopLevels: [String: Amount], marks: [String: Amount], now: EpochNanos,
        ackDeadline: EpochNanos
    ) -> [OrderCommand] {
        var commands: [OrderCommand] = []
        let symbols = Set(positions.keys).union(stops.keys).sorted()
        for symbol in symbols {
            if let pending = stops[symbol]?.pendingSince, now - pending < settings.answerTimeoutNanos { continue }
            if let time = fired[symbol], now - time < settings.answerTimeoutNanos { continue }
            let position = positions[symbol] ?? .zero
            guard let instrument = instruments[symbol] else { continue }
            if position.isZero {
                unprotectable[symbol] = nil
                if let stop = stops[symbol] {
                    commands.append(command(.cancel, stop: stop, instrument: instrument, now: now, deadline: ackDeadline))
                    sent(commands.last!, now: now)
                }
                continue
            }
            let closing: Side = position.isPositive ? .sell : .buy
            let size = position.magnitude
            guard let level = stopLevels[symbol], let mark = marks[symbol] else { continue }
            guard let order = triggerOrder(
                closing, kind: .stopLoss, trigger: level, size: size, instrument: instrument, mark: mark)
            else {
                unprotectable[symbol] = "stop \(level) is not \(closing == .sell ? "below" : "above") the mark \(mark)"
                continue
            }
            unprotectable[symbol] = nil
            if var stop = stops[symbol], stop.side == closing {
                let better =
                    closing == .sell
                    ? order.trigger.triggerPrice > stop.triggerPrice * Amount(1 + settings.minMove)
                    : order.trigger.triggerPrice < stop.triggerPrice * Amount(1 - settings.minMove)
                guard stop.size != size || better else { continue }
                if better { stop.triggerPrice = order.trigger.triggerPrice }
                stop.size = size
                commands.append(command(.modify, stop: stop, instrument: instrument, now: now, deadline: ackDeadline))
            } else {
                if let wrong = stops[symbol] {
                    // A stop for the other direction (the position flipped): it can only be canceled.
                    commands.append(command(.cancel, stop: wrong, instrument: instrument, now: now, deadline: ackDeadline))
                    sent(commands.last!, now: now)
                }
                sequence += 1
                let stop = Stop(
                    clientOrderId: Identifier.clientOrderId(forIntent: "protect:\(symbol):\(now):\(sequence)"),
                    symbol: symbol, side: closing, size: size, triggerPrice: order.trigger.triggerPrice)
                commands.append(command(.place, stop: stop, instrument: instrument, now: now, deadline: ackDeadline))
            }
            sent(commands.last!, now: now)
        }
        return commands
    }

    // MARK: Internals

    /// A market trigger order closing on `side`, rounded to the venue's rules; nil when the trigger is
    /// not on the side of `mark` the venue accepts (the market is already through it).
    func triggerOrder(
        _ side: Side, kind: OrderTrigger.Kind, trigger: Amount, size: Amount, instrument: Instrument, mark: Amount
    ) -> (trigger: OrderTrigger, price: Amount)? {
        // A stop rounds away from the market (never tighter than asked); a take-profit likewise.
        let away: Bool = (kind == .stopLoss) == (side == .sell)
        let triggerPrice = instrument.roundPrice(trigger, away ? .down : .up)
        let order = OrderTrigger(kind: kind, triggerPrice: triggerPrice, isMarket: true)
        guard triggerPrice.isPositive, size.isPositive, order.isPlausible(side: side, mark: mark) else { return nil }
        let factor = Amount(side == .sell ? 1 - settings.stopSlippage : 1 + settings.stopSlippage)
        let price = instrument.roundPrice(triggerPrice * factor, side == .sell ? .down : .up)
        guard price.isPositive else { return nil }
        return (order, price)
    }

    private func command(
        _ action: OrderCommand.Action, stop: Stop, instrument: Instrument, now: EpochNanos, deadline: EpochNanos
    ) -> OrderCommand {
        let factor = Amount(stop.side == .sell ? 1 - settings.stopSlippage : 1 + settings.stopSlippage)
        let price = instrument.roundPrice(stop.triggerPrice * factor, stop.side == .sell ? .down : .up)
        return OrderCommand(
            action: action, clientOrderId: stop.clientOrderId, intentId: "protect:\(stop.symbol):\(now)",
            symbol: stop.symbol, side: stop.side, size: stop.size, orderType: .market, price: price, timeInForce: .gtc,
            reduceOnly: true, purpose: .exit, strategy: "protection", ackDeadline: deadline,
            trigger: OrderTrigger(kind: .stopLoss, triggerPrice: stop.triggerPrice, isMarket: true),
            grouping: action == .place ? .positionTpsl : nil)
    }
}
