import Market
import Schema

/// The risk gate's rules in the order it applies them: the book, the one exit engine and the stops
/// resting on the exchange, moved together by the same events. The risk-gate service wraps it in a
/// lock and adds the disk, the bus and metrics; the backtester drives it on simulated time, so both
/// take the same decisions from the same events.
public struct RiskGateCore: Sendable {
    public var book: RiskBook
    /// nil when exits are off.
    public var exits: ExitDesk?
    /// nil when no stop rests on the exchange.
    public var protection: PositionProtection?

    public init(book: RiskBook, exits: ExitDesk?, protection: PositionProtection?) {
        self.book = book
        self.exits = exits
        self.protection = protection
    }

    /// What a bar did: the book's transitions and, when an exit fired, its intent (to be judged by
    /// `evaluate` like any other).
    public struct BarOutcome: Sendable {
        public var changes: [RiskStateChange]
        public var exit: ExitOrder?
    }

    /// Marks the bar's close, then lets the exit engine look at the position.
    public mutating func onBar(_ bar: Bar, now: EpochNanos) -> BarOutcome {
        book.recordBar(bar)
        let changes = book.updateMark(symbol: bar.symbol ?? "", price: bar.close, now: now)
        let equity = book.equity
        let exit = exits?.onBar(bar, equity: equity, now: now)
        return BarOutcome(changes: changes, exit: exit)
    }

    public mutating func evaluate(_ intent: OrderIntent, now: EpochNanos) -> RiskVerdict {
        book.evaluate(intent, now: now)
    }

    /// An approved order on its way out: an entry carries its stop (and take-profit, when
    /// configured) in the same signed action, and the stops' book learns what was sent.
    public mutating func protect(_ order: inout OrderCommand, now: EpochNanos) {
        guard var keeper = protection else { return }
        defer {
            keeper.sent(order, now: now)
            protection = keeper
        }
        guard order.action == .place, !order.reduceOnly, order.trigger == nil, order.purpose == .entry,
            let symbol = order.symbol
        else { return }
        // An entry against the position only shrinks (or flips) it: a reduce-only child on its side
        // would be refused, and after a flip the stops' upkeep places the stop of the new position.
        let held = book.position(symbol)
        guard held.isZero || held.isPositive == (order.side == .buy) else { return }
        let reference = book.mark(symbol) ?? order.price
        guard
            let stop = exits?.initialStop(
                symbol: symbol, side: order.side, size: order.size, entryPrice: reference, now: now)
        else { return }
        let takeProfit = exits?.exchangeTakeProfit(side: order.side, size: order.size, entryPrice: reference)
        let children = keeper.protectiveOrders(for: order, reference: reference, stopPrice: stop, takeProfit: takeProfit)
        guard !children.isEmpty else { return }
        order.protectiveOrders = children
        order.grouping = .normalTpsl
    }

    /// What brings the exchange's stops in line with the positions and the exit engine's levels:
    /// places what is missing, moves what trails, cancels what a closed position left behind.
    public mutating func stopCommands(now: EpochNanos) -> [OrderCommand] {
        // Before the first snapshot the book knows no position and the stops are not known yet.
        guard book.accountSynced, var keeper = protection else { return [] }
        let held = book.openPositions.filter { !book.isQuoted($0.symbol, now: now) }
        let positions = Dictionary(held.map { ($0.symbol, $0.size) }, uniquingKeysWith: +)
        var marks: [String: Amount] = [:]
        for symbol in positions.keys { marks[symbol] = book.mark(symbol) }
        let levels = exits?.protectiveStops(now: now) ?? [:]
        let commands = keeper.plan(
            positions: positions, stopLevels: levels, marks: marks, now: now, ackDeadline: now + book.limits.ackTimeoutNanos)
        protection = keeper
        return commands
    }

    /// A fill moves the position; the exit engine follows the book's view of it.
    public mutating func apply(_ fill: Fill, now: EpochNanos) -> [RiskStateChange] {
        let symbol = fill.symbol ?? ""
        let before = book.position(symbol)
        let changes = book.apply(fill, now: now)
        let after = book.position(symbol)
        // A market maker's inventory is bounded by the quote limits, not exited position by position.
        let quoted = book.isQuoted(symbol, now: now)
        exits?.sync(
            symbol: symbol, size: quoted ? .zero : after, entryPrice: quoted ? nil : book.entryPrice(symbol),
            time: fill.time, strategy: fill.strategy)
        protection?.apply(fill)
        if !before.isZero && (after.isZero || after.isPositive != before.isPositive) {
            protection?.positionEnded(symbol, at: fill.time)
        }
        return changes
    }

    /// The account as the executor's ledger has it; the exit engine follows every position in it,
    /// so after a restart the exits of positions opened before it resume.
    public mutating func apply(_ snapshot: AccountSnapshot, now: EpochNanos) -> [RiskStateChange] {
        let changes = book.apply(snapshot, now: now)
        let held = book.openPositions.filter { !book.isQuoted($0.symbol, now: now) }
        exits?.sync(positions: held, time: now)
        protection?.apply(snapshot)
        return changes
    }

    public mutating func apply(_ ack: OrderAck, now: EpochNanos) {
        book.apply(ack, now: now)
        protection?.apply(ack)
    }

    public mutating func apply(_ reject: OrderReject, now: EpochNanos) {
        book.apply(reject, now: now)
        protection?.apply(reject)
    }

    public mutating func apply(_ cancel: OrderCanceled, now: EpochNanos) {
        book.apply(cancel, now: now)
        protection?.apply(cancel)
    }

    public mutating func onSignal(_ signal: Signal) { exits?.onSignal(signal) }

    /// The once-a-second housekeeping: overdue orders expired, the day and the locks moved on.
    public mutating func tick(now: EpochNanos) -> (overdue: [Reason], changes: [RiskStateChange]) {
        (book.expireOverdue(now: now), book.tick(now: now))
    }
}
