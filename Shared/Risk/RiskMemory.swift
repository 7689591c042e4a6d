import Schema

/// What the risk gate must not forget across a restart: the kill switch, the HALTED latch and
/// its causes, the equity baselines and the reservations of working orders. Everything else
/// (positions, P&L, marks) comes back from the next account snapshot and the feed.
public struct RiskMemory: Codable, Sendable, Equatable {
    public struct KillSwitch: Codable, Sendable, Equatable {
        public var engaged: Bool
        public var reason: String
        /// Who engaged (or released) it, as the operator gave it.
        public var by: String
        /// The caller's address.
        public var from: String
        /// When it was engaged; nil while released.
        public var since: EpochNanos?

        public init(engaged: Bool, reason: String = "", by: String = "", from: String = "", since: EpochNanos? = nil) {
            self.engaged = engaged
            self.reason = reason
            self.by = by
            self.from = from
            self.since = since
        }
    }

    /// An approved order whose reservation still counts.
    public struct Reservation: Codable, Sendable, Equatable {
        public var clientOrderId: String
        public var intentId: String
        public var symbol: String
        public var side: Side
        public var price: Amount
        public var size: Amount
        public var remaining: Amount
        public var reduceOnly: Bool
        public var approvedAt: EpochNanos
        public var ackDeadline: EpochNanos
        public var acked: Bool

        public init(
            clientOrderId: String, intentId: String, symbol: String, side: Side, price: Amount, size: Amount,
            remaining: Amount, reduceOnly: Bool, approvedAt: EpochNanos, ackDeadline: EpochNanos, acked: Bool
        ) {
            self.clientOrderId = clientOrderId
            self.intentId = intentId
            self.symbol = symbol
            self.side = side
            self.price = price
            self.size = size
            self.remaining = remaining
            self.reduceOnly = reduceOnly
            self.approvedAt = approvedAt
            self.ackDeadline = ackDeadline
            self.acked = acked
        }
    }

    /// The state when saved. Only HALTED is restored as such: any other state restarts in SYNCING.
    public var state: TradingState
    /// The causes HALTED was entered with (empty unless halted).
    public var haltCauses: [Reason]
    public var killSwitch: KillSwitch
    public var peakEquity: Amount
    /// The UTC day's start equity and that day (days since the epoch); nil before the first sync.
    public var dayStartEquity: Amount?
    public var day: Int64?
    /// Sorted by client order id, so equal books give equal memories.
    public var reservations: [Reservation]
    /// The VaR forecast for the current day and the back-test's days, so a restart neither forecasts
    /// a day twice nor forgets its exceptions. Absent in files saved before the back-test existed.
    public var varForecast: VaRForecast?
    public var varBacktest: [VaRBacktest.Observation]?

    public init(
        state: TradingState, haltCauses: [Reason], killSwitch: KillSwitch, peakEquity: Amount,
        dayStartEquity: Amount?, day: Int64?, reservations: [Reservation], varForecast: VaRForecast? = nil,
        varBacktest: [VaRBacktest.Observation]? = nil
    ) {
        self.state = state
        self.haltCauses = haltCauses
        self.killSwitch = killSwitch
        self.peakEquity = peakEquity
        self.dayStartEquity = dayStartEquity
        self.day = day
        self.reservations = reservations
        self.varForecast = varForecast
        self.varBacktest = varBacktest
    }
}

extension RiskMemory {
    /// How soon a save of this memory must survive a power loss, given the last one saved.
    public enum Persistence: Sendable, Equatable {
        /// The trading state, its causes or the kill switch changed (or nothing was saved yet): on the
        /// disk before the change is published, so a restart can never release a halt.
        case beforePublishing
        /// Equity baselines or the VaR back-test moved: on the disk within moments, off the path of
        /// the next decision. A power loss in between takes back a mark's new peak, not a halt.
        case soon
        /// Reservations alone (an approved order, its answer): the executor's account snapshot,
        /// which a restarted gate waits for, restates every live order.
        case forTheProcess
    }

    public func persistence(since previous: RiskMemory?) -> Persistence {
        guard let previous, state == previous.state, haltCauses == previous.haltCauses, killSwitch == previous.killSwitch
        else { return .beforePublishing }
        return changesOnlyReservations(since: previous) ? .forTheProcess : .soon
    }

    /// Whether `self` is `previous` with other reservations only.
    public func changesOnlyReservations(since previous: RiskMemory) -> Bool {
        var same = previous
        same.reservations = reservations
        return same == self
    }
}

extension RiskBook {
    /// The memory to save. Cheap enough to take after every step and compare with the last saved.
    public var memory: RiskMemory {
        RiskMemory(
            state: state, haltCauses: haltReasons,
            killSwitch: killSwitch,
            peakEquity: peakEquity, dayStartEquity: dayStartEquity, day: currentDay,
            reservations: orders.keys.sorted().compactMap { id in
                orders[id].map {
                    RiskMemory.Reservation(
                        clientOrderId: $0.clientOrderId, intentId: $0.intentId, symbol: $0.symbol, side: $0.side,
                        price: $0.price, size: $0.size, remaining: $0.remaining, reduceOnly: $0.reduceOnly,
                        approvedAt: $0.approvedAt, ackDeadline: $0.ackDeadline, acked: $0.acked)
                }
            },
            varForecast: varForecast, varBacktest: varBacktest.observations)
    }

    /// Restores a saved memory into a book that has not synced yet (just built). HALTED stays
    /// HALTED with its causes; any other state starts in SYNCING, as a fresh start does.
    /// Reservations count against the limits until a snapshot shows them not live. Returns the
    /// restatement to publish.
    public mutating func restore(_ memory: RiskMemory, now: EpochNanos) -> RiskStateChange {
        killSwitchEngaged = memory.killSwitch.engaged
        killSwitchReason = memory.killSwitch.reason
        killSwitchBy = memory.killSwitch.by
        killSwitchFrom = memory.killSwitch.from
        killSwitchSince = memory.killSwitch.since
        peakEquity = memory.peakEquity
        dayStartEquity = memory.dayStartEquity
        currentDay = memory.dayStartEquity == nil ? nil : memory.day
        varForecast = memory.varForecast
        varBacktest = VaRBacktest(window: varBacktest.window, observations: memory.varBacktest ?? [])
        for saved in memory.reservations where !saved.clientOrderId.isEmpty && saved.remaining.isPositive {
            orders[saved.clientOrderId] = WorkingOrder(
                clientOrderId: saved.clientOrderId, intentId: saved.intentId, symbol: saved.symbol, side: saved.side,
                price: saved.price, size: saved.size, remaining: saved.remaining, reduceOnly: saved.reduceOnly,
                approvedAt: saved.approvedAt, ackDeadline: saved.ackDeadline, acked: saved.acked)
        }
        rebuildExposure()
        let previous = state
        if memory.state == .halted {
            state = .halted
            haltReasons = memory.haltCauses
        }
        var reasons = [Reason(.riskStateRestored, restoredSummary(memory))]
        if state == .halted { reasons += haltReasons }
        return RiskStateChange(
            state: state, previous: previous, reasons: reasons, openPositions: openPositionCount,
            grossExposure: grossExposure, killSwitch: killSwitchEngaged)
    }

    private func restoredSummary(_ memory: RiskMemory) -> String {
        var parts = [
            "saved state \(memory.state.rawValue)", "peak equity \(Format.money(memory.peakEquity))",
            "\(orders.count) reserved orders",
        ]
        if let start = memory.dayStartEquity { parts.append("day start equity \(Format.money(start))") }
        if memory.killSwitch.engaged {
            parts.append("kill switch engaged by \(memory.killSwitch.by): \(memory.killSwitch.reason)")
        }
        return parts.joined(separator: "; ")
    }

    /// The kill switch as it stands: engaged, why, by whom, since when.
    public var killSwitch: RiskMemory.KillSwitch {
        .init(
            engaged: killSwitchEngaged, reason: killSwitchReason, by: killSwitchBy, from: killSwitchFrom,
            since: killSwitchSince)
    }

    /// The causes of the current halt (empty unless HALTED).
    public var haltCausesLatched: [Reason] { haltReasons }

    /// Open positions, sorted by symbol, valued at the latest marks.
    public var openPositions: [Position] {
        positions.keys.sorted().compactMap { symbol in
            guard let position = positions[symbol], !position.size.isZero else { return nil }
            let unrealized = marks[symbol].map { position.size * ($0 - position.entryPrice) }
            return Position(
                symbol: symbol, size: position.size, entryPrice: position.entryPrice,
                unrealizedPnl: unrealized ?? position.snapshotUnrealized ?? .zero)
        }
    }

    /// Takes back a reservation whose order will not be sent (the gate could not save it).
    public mutating func withdraw(_ clientOrderId: String, now: EpochNanos) {
        release(clientOrderId, now: now)
    }
}
