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
    /// Every reduce-only stop-loss known to rest (or sent), by symbol and client order id. Usually one a
    /// symbol; more after a race (an entry's stop and a replacement both placed), and `plan` cancels
    /// all but one.
    public private(set) var resting: [String: [String: Stop]] = [:]
    /// Symbols whose stop could not be placed, with why (a level the mark is already through).
    public private(set) var unprotectable: [String: String] = [:]
    private var sequence = 0
    /// Symbols whose stop fired (its fill seen), with the fill's time: no new stop until a snapshot
    /// says what is left, since the fill may reach the risk book's position only with that snapshot.
    private var fired: [String: EpochNanos] = [:]
    /// Symbols whose position a fill closed or flipped, with the fill's time. The venue cancels the
    /// reduce-only stops that can no longer reduce; a cancel sent before its word arrives would race
    /// it and be refused as not live.
    private var ended: [String: EpochNanos] = [:]

    public init(settings: Settings = .standard, instruments: [String: Instrument]) {
        self.settings = settings
        self.instruments = instruments
    }

    /// The stop each symbol keeps: the largest (the tightest among equals).
    public var stops: [String: Stop] { resting.compactMapValues { Self.kept(Array($0.values)) } }

    static func kept(_ stops: [Stop]) -> Stop? {
        stops.max { a, b in
            if a.size != b.size { return a.size < b.size }
            // Tighter: higher for a sell stop, lower for a buy stop.
            if a.triggerPrice != b.triggerPrice { return (a.side == .sell) == (a.triggerPrice < b.triggerPrice) }
            return a.clientOrderId < b.clientOrderId
        }
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
                resting[symbol, default: [:]][command.clientOrderId] = Stop(
                    clientOrderId: command.clientOrderId, symbol: symbol, side: command.side, size: command.size,
                    triggerPrice: trigger.triggerPrice, pendingSince: now)
            }
            for child in command.protectiveOrders ?? [] where child.trigger.kind == .stopLoss {
                resting[symbol, default: [:]][child.clientOrderId] = Stop(
                    clientOrderId: child.clientOrderId, symbol: symbol, side: child.side, size: child.size,
                    triggerPrice: child.trigger.triggerPrice, pendingSince: now)
            }
        case .modify:
            guard var stop = resting[symbol]?[command.clientOrderId] else { return }
            stop.size = command.size
            stop.triggerPrice = command.trigger?.triggerPrice ?? stop.triggerPrice
            stop.pendingSince = now
            resting[symbol]![command.clientOrderId] = stop
        case .cancel:
            resting[symbol]?[command.clientOrderId]?.pendingSince = now
        }
    }

    public mutating func apply(_ ack: OrderAck) {
        guard let symbol = ack.symbol, resting[symbol]?[ack.clientOrderId] != nil else { return }
        if ack.action == .cancel {
            remove(ack.clientOrderId, symbol)
        } else {
            resting[symbol]![ack.clientOrderId]!.pendingSince = nil
        }
    }

    /// A refused place, modify or cancel (usually: the order is no longer live) drops the stop; if it
    /// does rest after all, the next snapshot brings it back.
    public mutating func apply(_ reject: OrderReject) {
        guard let symbol = reject.symbol else { return }
        remove(reject.clientOrderId, symbol)
    }

    public mutating func apply(_ cancel: OrderCanceled) {
        guard let symbol = cancel.symbol else { return }
        remove(cancel.clientOrderId, symbol)
    }

    /// A fill of a stop itself: it fired.
    public mutating func apply(_ fill: Fill) {
        guard let symbol = fill.symbol, resting[symbol]?[fill.clientOrderId] != nil else { return }
        remove(fill.clientOrderId, symbol)
        fired[symbol] = fill.time
    }

    /// What rests according to the ledger: every reduce-only stop-loss trigger order. A stop this
    /// book sent and the snapshot does not show yet stays while it is pending.
    public mutating func apply(_ snapshot: AccountSnapshot) {
        fired = [:]
        var known: [String: [String: Stop]] = [:]
        for order in snapshot.openOrders {
            guard let trigger = order.trigger, trigger.kind == .stopLoss, order.reduceOnly == true else { continue }
            known[order.symbol, default: [:]][order.clientOrderId] = Stop(
                clientOrderId: order.clientOrderId, symbol: order.symbol, side: order.side, size: order.size,
                triggerPrice: trigger.triggerPrice, pendingSince: resting[order.symbol]?[order.clientOrderId]?.pendingSince)
        }
        for (symbol, stops) in resting {
            for (id, stop) in stops where stop.pendingSince != nil && known[symbol]?[id] == nil {
                known[symbol, default: [:]][id] = stop
            }
        }
        resting = known
    }

    /// A fill closed or flipped `symbol`'s position: the stops of the old direction are the venue's
    /// to cancel, for an answer timeout.
    public mutating func positionEnded(_ symbol: String, at time: EpochNanos) {
        ended[symbol] = time
    }

    private mutating func remove(_ clientOrderId: String, _ symbol: String) {
        resting[symbol]?[clientOrderId] = nil
        if resting[symbol]?.isEmpty == true { resting[symbol] = nil }
    }

    // MARK: Keeping the exchange in step

    /// The commands that bring the exchange's stops in line with the positions (signed sizes) and
    /// the exit engine's stop levels: one stop per position, of its size, at least as tight as the
    /// engine's level; none on a flat symbol. `marks` guard against a level the market is already through.
    public mutating func plan(
        positions: [String: Amount], stopLevels: [String: Amount], marks: [String: Amount], now: EpochNanos,
        ackDeadline: EpochNanos
    ) -> [OrderCommand] {
        var commands: [OrderCommand] = []
        func send(_ action: OrderCommand.Action, _ stop: Stop, _ instrument: Instrument) {
            commands.append(command(action, stop: stop, instrument: instrument, now: now, deadline: ackDeadline))
            sent(commands.last!, now: now)
        }
        let symbols = Set(positions.keys).union(resting.keys).sorted()
        for symbol in symbols {
            let stops = Array(resting[symbol]?.values ?? [:].values).sorted { $0.clientOrderId < $1.clientOrderId }
            if stops.contains(where: { $0.pendingSince.map { now - $0 < settings.answerTimeoutNanos } ?? false }) {
                continue
            }
            if let time = fired[symbol], now - time < settings.answerTimeoutNanos { continue }
            guard let instrument = instruments[symbol] else { continue }
            let position = positions[symbol] ?? .zero
            let venueCancels = ended[symbol].map { now - $0 < settings.answerTimeoutNanos } ?? false
            if position.isZero {
                unprotectable[symbol] = nil
                if !venueCancels { for stop in stops { send(.cancel, stop, instrument) } }
                continue
            }
            let closing: Side = position.isPositive ? .sell : .buy
            let size = position.magnitude
            // A stop for the other direction (the position flipped) can only be canceled.
            if !venueCancels { for stop in stops where stop.side != closing { send(.cancel, stop, instrument) } }
            let candidates = stops.filter { $0.side == closing }
            let keep = Self.kept(candidates)
            for stop in candidates where stop.clientOrderId != keep?.clientOrderId { send(.cancel, stop, instrument) }

            guard let level = stopLevels[symbol], let mark = marks[symbol] else { continue }
            guard let order = triggerOrder(
                closing, kind: .stopLoss, trigger: level, size: size, instrument: instrument, mark: mark)
            else {
                unprotectable[symbol] = "stop \(level) is not \(closing == .sell ? "below" : "above") the mark \(mark)"
                continue
            }
            unprotectable[symbol] = nil
            if var stop = keep {
                let better =
                    closing == .sell
                    ? order.trigger.triggerPrice > stop.triggerPrice * Amount(1 + settings.minMove)
                    : order.trigger.triggerPrice < stop.triggerPrice * Amount(1 - settings.minMove)
                guard stop.size != size || better else { continue }
                if better { stop.triggerPrice = order.trigger.triggerPrice }
                stop.size = size
                send(.modify, stop, instrument)
            } else {
                sequence += 1
                let stop = Stop(
                    clientOrderId: Identifier.clientOrderId(forIntent: "protect:\(symbol):\(now):\(sequence)"),
                    symbol: symbol, side: closing, size: size, triggerPrice: order.trigger.triggerPrice)
                send(.place, stop, instrument)
            }
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
