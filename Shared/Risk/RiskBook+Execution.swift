import Ledger
import Schema

/// What the executor reports: fills, acks, rejects, cancels and account snapshots.
extension RiskBook {
    /// A (partial) execution: the position changes and the order's reservation shrinks by the
    /// filled size (released when nothing is left). Repeated fill ids are ignored.
    public mutating func apply(_ fill: Fill, now: EpochNanos) -> [RiskStateChange] {
        advanceClock(now)
        guard seenFills[fill.fillId] == nil else { return [] }
        seenFills[fill.fillId] = now
        if var order = orders[fill.clientOrderId] {
            order.remaining -= fill.size
            order.acked = true  // a fill proves the venue accepted the order
            if order.remaining.isPositive {
                orders[fill.clientOrderId] = order
            } else {
                release(fill.clientOrderId, now: now)
            }
        }
        if let includedThrough = fillsIncludedThrough, fill.time <= includedThrough {
            // A snapshot that ran ahead of the bus already holds this fill.
        } else {
            applyToPosition(fill)
            unconfirmedFills.append(fill)
            if unconfirmedFills.count > Self.maxUnconfirmedFills { unconfirmedFills.removeFirst() }
        }
        if let symbol = fill.symbol { refreshExposure(symbol) }
        if let symbol = orders[fill.clientOrderId]?.symbol, symbol != fill.symbol { refreshExposure(symbol) }
        return settleState(now: now)
    }

    /// The venue accepted the order: it is no longer at risk of timing out.
    public mutating func apply(_ ack: OrderAck, now: EpochNanos) {
        guard ack.action == .place else { return }
        orders[ack.clientOrderId]?.acked = true
    }

    /// The order was refused: its whole reservation is released. A reject after an ack or a fill
    /// refuses a cancel or modify of a live order, so the reservation stays.
    public mutating func apply(_ reject: OrderReject, now: EpochNanos) {
        guard let order = orders[reject.clientOrderId], !order.acked, !order.isPartiallyFilled else { return }
        release(reject.clientOrderId, now: now)
    }

    /// The order is no longer live: what was not filled is released.
    public mutating func apply(_ cancel: OrderCanceled, now: EpochNanos) {
        guard orders[cancel.clientOrderId] != nil else { return }
        release(cancel.clientOrderId, now: now)
    }

    /// The executor's ledger view of the account; authoritative for positions and P&L.
    ///
    /// - A snapshot older than the last one applied is ignored.
    /// - Fills this book applied that the snapshot does not hold yet (after its `lastFillId`) are
    ///   applied again on top, so a lagging snapshot cannot make a position vanish. They are booked by
    ///   a `FifoLedger` seeded with the snapshot's lots and totals, so the figures are the ledger's.
    /// - A reserved order is released when the snapshot shows it not live and the snapshot was
    ///   taken after the order's ack deadline: an earlier snapshot cannot prove the order dead.
    /// - Live orders this book does not know (placed before a restart) are reserved.
    /// - The first fresh snapshot (age ≤ `snapshotMaxAgeNanos`) ends SYNCING.
    public mutating func apply(_ snapshot: AccountSnapshot, now: EpochNanos) -> [RiskStateChange] {
        advanceClock(now)
        if let last = lastSnapshotAsOf, snapshot.asOf < last { return [] }
        lastSnapshotAsOf = snapshot.asOf

        positions = [:]
        var openLots: [String: [OpenLot]] = [:]
        for position in snapshot.positions where !position.size.isZero {
            let entryPrice = position.entryPrice.rounded(scale: Self.entryPriceScale)
            positions[position.symbol] = BookPosition(
                size: position.size, entryPrice: entryPrice, snapshotUnrealized: position.unrealizedPnl)
            openLots[position.symbol] = PositionLedger.openLots(of: position, entryPrice: entryPrice, asOf: snapshot.asOf)
        }
        realizedPnl = snapshot.realizedPnl
        fees = snapshot.fees
        funding = snapshot.funding
        positionLedger = PositionLedger(seededFrom: snapshot, openLots: openLots)
        reapplyUnconfirmedFills(after: snapshot)

        let live = Set(snapshot.openOrders.map(\.clientOrderId))
        for id in orders.keys.sorted() where !live.contains(id) {
            if let order = orders[id], snapshot.asOf > order.ackDeadline { release(id, now: now) }
        }
        // Trigger orders (protective stops and take-profits) only shrink a position when they fire:
        // neither exposure nor a reservation. Quotes count through their approved set.
        for open in snapshot.openOrders
        where open.trigger == nil && !open.isQuote && orders[open.clientOrderId] == nil
            && closedOrders[open.clientOrderId] == nil
        {
            orders[open.clientOrderId] = WorkingOrder(
                clientOrderId: open.clientOrderId, intentId: "", symbol: open.symbol, side: open.side,
                price: open.price, size: open.size, remaining: open.size, reduceOnly: open.reduceOnly ?? false,
                approvedAt: snapshot.asOf,
                ackDeadline: snapshot.asOf, acked: true)
        }
        rebuildExposure()

        var reasons: [Reason] = []
        let age = now - snapshot.asOf
        if !synced && age <= limits.snapshotMaxAgeNanos {
            synced = true
            // A restored day's start equity belongs to its day: a restart on a later day rolls it first.
            rollDay(now: now)
            reasons.append(
                Reason(
                    .accountSynced,
                    "snapshot \(Format.seconds(age)) old ≤ \(Format.seconds(limits.snapshotMaxAgeNanos)); \(openPositionCount) positions, \(snapshot.openOrders.count) open orders, equity \(Format.money(equity))"
                ))
        }
        return settleState(now: now, because: reasons)
    }

    /// Flags orders past their ack deadline without an ack, reject or fill. Their reservations
    /// stay until a snapshot shows them not live: the executor may have placed them anyway.
    /// Each order is reported once.
    public mutating func expireOverdue(now: EpochNanos) -> [Reason] {
        let overdue = orders.values
            .filter { !$0.acked && !$0.overdue && now > $0.ackDeadline }
            .sorted { ($0.ackDeadline, $0.clientOrderId) < ($1.ackDeadline, $1.clientOrderId) }
        return overdue.map { order in
            orders[order.clientOrderId]?.overdue = true
            return Reason(
                .ackTimeout,
                "order \(order.clientOrderId) (intent \(order.intentId), \(order.symbol) \(order.side.rawValue) \(order.remaining)) unanswered \(Format.seconds(now - order.ackDeadline)) past its deadline; reserved until a snapshot shows it not live"
            )
        }
    }

    /// Orders past their ack deadline and still unanswered, sorted.
    public var overdueOrderIds: [String] { orders.values.filter(\.overdue).map(\.clientOrderId).sorted() }

    // MARK: Internals

    static var maxUnconfirmedFills: Int { 10_000 }
    /// Average entry prices are kept to this many decimals, so every exposure is a short exact
    /// decimal and the running sums stay exact.
    static var entryPriceScale: Int { 10 }

    mutating func release(_ clientOrderId: String, now: EpochNanos) {
        guard let order = orders.removeValue(forKey: clientOrderId) else { return }
        closedOrders[clientOrderId] = now
        refreshExposure(order.symbol)
    }

    private mutating func reapplyUnconfirmedFills(after snapshot: AccountSnapshot) {
        if let last = snapshot.lastFillId, let index = unconfirmedFills.firstIndex(where: { $0.fillId == last }) {
            unconfirmedFills.removeFirst(index + 1)
        } else if let last = snapshot.lastFillId, seenFills[last] == nil, last != lastSnapshotFillId {
            // The snapshot holds a fill not yet seen here, so it holds every fill seen so far too. Only a
            // new last fill says so: after a restart every snapshot names a fill from before it, and a
            // fill recorded after such a snapshot (an exchange stop's, with an earlier exchange time)
            // must still count.
            unconfirmedFills.removeAll()
            fillsIncludedThrough = Swift.max(fillsIncludedThrough ?? snapshot.asOf, snapshot.asOf)
        }
        lastSnapshotFillId = snapshot.lastFillId
        // Otherwise the snapshot predates every unconfirmed fill: all of them still count.
        for fill in unconfirmedFills { applyToPosition(fill) }
    }

    /// Position keeping between snapshots by the executor's own FIFO ledger code, so size, entry
    /// price, realised P&L and fees match what the next snapshot will say. A fill the ledger refuses
    /// (no symbol, a size or price that is not positive, a fee that is not a number) changes nothing.
    private mutating func applyToPosition(_ fill: Fill) {
        guard let symbol = fill.symbol else { return }
        let realizedBefore = positionLedger.ledger.realizedPnl
        let feesBefore = positionLedger.ledger.fees
        guard case .applied = try? positionLedger.ledger.apply(fill) else { return }
        // Deltas, so the book's totals stay its own even if the ledger was not seeded by a snapshot.
        realizedPnl += positionLedger.ledger.realizedPnl - realizedBefore
        fees += positionLedger.ledger.fees - feesBefore
        if let open = positionLedger.ledger.position(symbol) {
            positions[symbol] = BookPosition(
                size: open.size, entryPrice: open.averageEntryPrice.rounded(scale: Self.entryPriceScale),
                snapshotUnrealized: nil)
        } else {
            positions.removeValue(forKey: symbol)
        }
    }
}

/// The risk book's FIFO lots: a `FifoLedger` seeded from the last snapshot, fed the fills since.
struct PositionLedger: Sendable {
    var ledger = FifoLedger(startingCapital: .zero)

    init() {}

    /// A ledger holding the snapshot's totals and these lots.
    init(seededFrom snapshot: AccountSnapshot, openLots: [String: [OpenLot]]) {
        // `openLots` are checked by `openLots(of:)`, so this does not throw; if it did, an empty
        // ledger still books later fills (the book applies P&L and fee deltas, not totals).
        ledger =
            (try? FifoLedger(
                startingCapital: snapshot.startingCapital, realizedPnl: snapshot.realizedPnl, fees: snapshot.fees,
                funding: snapshot.funding, openLots: openLots)) ?? FifoLedger(startingCapital: snapshot.startingCapital)
    }

    /// The ledger lots of a snapshot position. A snapshot without lots (an older executor), or
    /// with lots that do not add up to the position, falls back to one lot at the position's entry
    /// price: FIFO over one lot is average cost until the next snapshot. A position whose entry
    /// price is not positive cannot be booked and gets no lots.
    static func openLots(of position: Position, entryPrice: Amount, asOf: EpochNanos) -> [OpenLot] {
        let direction: TradeDirection = position.size.signum > 0 ? .long : .short
        if let lots = position.lots, !lots.isEmpty,
            lots.allSatisfy({ $0.size.signum == position.size.signum && $0.entryPrice.isPositive }),
            lots.map(\.size).sum() == position.size
        {
            return lots.map {
                OpenLot(
                    fillId: $0.fillId, strategy: $0.strategy, direction: direction, entryTime: $0.entryTime,
                    entryPrice: $0.entryPrice, size: $0.size.magnitude)
            }
        }
        guard entryPrice.isPositive else { return [] }
        return [
            OpenLot(
                fillId: "", strategy: "", direction: direction, entryTime: asOf, entryPrice: entryPrice,
                size: position.size.magnitude)
        ]
    }
}
