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
    ///   applied again on top, so a lagging snapshot cannot make a position vanish.
    /// - A reserved order is released when the snapshot shows it not live and the snapshot was
    ///   taken after the order's ack deadline: an earlier snapshot cannot prove the order dead.
    /// - Live orders this book does not know (placed before a restart) are reserved.
    /// - The first fresh snapshot (age ≤ `snapshotMaxAgeNanos`) ends SYNCING.
    public mutating func apply(_ snapshot: AccountSnapshot, now: EpochNanos) -> [RiskStateChange] {
        advanceClock(now)
        if let last = lastSnapshotAsOf, snapshot.asOf < last { return [] }
        lastSnapshotAsOf = snapshot.asOf

        positions = [:]
        for position in snapshot.positions where !position.size.isZero {
            positions[position.symbol] = BookPosition(
                size: position.size, entryPrice: position.entryPrice.rounded(scale: Self.entryPriceScale),
                snapshotUnrealized: position.unrealizedPnl)
        }
        realizedPnl = snapshot.realizedPnl
        fees = snapshot.fees
        funding = snapshot.funding
        reapplyUnconfirmedFills(after: snapshot)

        let live = Set(snapshot.openOrders.map(\.clientOrderId))
        for id in orders.keys.sorted() where !live.contains(id) {
            if let order = orders[id], snapshot.asOf > order.ackDeadline { release(id, now: now) }
        }
        for open in snapshot.openOrders where orders[open.clientOrderId] == nil && closedOrders[open.clientOrderId] == nil {
            orders[open.clientOrderId] = WorkingOrder(
                clientOrderId: open.clientOrderId, intentId: "", symbol: open.symbol, side: open.side,
                price: open.price, size: open.size, remaining: open.size, reduceOnly: false, approvedAt: snapshot.asOf,
                ackDeadline: snapshot.asOf, acked: true)
        }
        rebuildExposure()

        var reasons: [Reason] = []
        let age = now - snapshot.asOf
        if !synced && age <= limits.snapshotMaxAgeNanos {
            synced = true
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
        } else if let last = snapshot.lastFillId, seenFills[last] == nil {
            // The snapshot holds a fill not yet seen here, so it holds every fill seen so far too.
            unconfirmedFills.removeAll()
            fillsIncludedThrough = Swift.max(fillsIncludedThrough ?? snapshot.asOf, snapshot.asOf)
        }
        // Otherwise the snapshot predates every unconfirmed fill: all of them still count.
        for fill in unconfirmedFills { applyToPosition(fill) }
    }

    /// Average-cost position keeping between snapshots; the ledger's FIFO figures replace it at
    /// the next snapshot.
    private mutating func applyToPosition(_ fill: Fill) {
        guard let symbol = fill.symbol, fill.size.isPositive else { return }
        let signed = fill.side == .buy ? fill.size : -fill.size
        var position = positions[symbol] ?? BookPosition(size: .zero, entryPrice: fill.price, snapshotUnrealized: nil)
        if position.size.isZero || position.size.signum == signed.signum {
            let newSize = position.size + signed
            position.entryPrice = ((position.entryPrice * position.size.magnitude + fill.price * fill.size)
                / newSize.magnitude).rounded(scale: Self.entryPriceScale)
            position.size = newSize
        } else {
            let closing = Swift.min(position.size.magnitude, fill.size)
            realizedPnl += (fill.price - position.entryPrice) * closing * Amount(position.size.signum)
            position.size += signed
            if fill.size > closing { position.entryPrice = fill.price }  // flipped
        }
        position.snapshotUnrealized = nil
        fees += fill.fee
        if position.size.isZero {
            positions.removeValue(forKey: symbol)
        } else {
            positions[symbol] = position
        }
    }
}
