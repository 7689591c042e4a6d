import Hyperliquid
import Schema

/// Placement, matching, cancels and modifies.
///
/// Fill model (also in README terms):
/// - An incoming order takes, best price first, the external book's liquidity and other paper
///   accounts' resting orders; at one price the external liquidity goes first (it was there before
///   us), then resting paper orders by time. Each fill is at the resting price, as a taker (taker
///   fee, `crossed` true). External liquidity taken is gone until the next book snapshot replaces it.
/// - A resting order joins the back of the queue at its price: the size the external book displays
///   on its side at that price when it comes to rest is its queue ahead (`SimOrder.queueAhead`).
///   A later snapshot that displays less there shortens the queue (queue ahead = min(queue ahead,
///   displayed size now)); a snapshot never lengthens it (size added later joins behind us).
/// - A resting order fills as a maker (maker fee, `crossed` false) at its own limit price, in
///   price-time priority among paper orders, partially by the printed size:
///   - a print strictly through its price (a buy when a print is below it, a sell above) fills it;
///   - a print at its price first consumes the queue ahead, and only what is left of the print
///     fills it (the external size a print eats is ahead of every paper order at that price);
///   - a new external snapshot whose opposite side reaches its price fills it against that crossing
///     external size (by then nothing is displayed on its own side at its price: no queue is left).
/// - A modify is a cancel and a new order (a new oid). The new order keeps the old one's place in
///   the queue (time priority and queue ahead) only when it keeps the price and side and does not
///   grow the size; otherwise it joins the back of the queue.
/// - Alo is refused if it would take; Ioc's rest is canceled; Gtc's rest rests.
/// - Self-trade: an order meeting its own account's resting order cancels that resting order
///   ("selfTradeCanceled", Hyperliquid's "expire maker") and goes on.
extension VenueCore {
    // MARK: Placement

    /// Places `user`'s orders as an `order` action does, without the checks `handleExchange` makes
    /// first (nonce, signature, request budget): the entry point for a caller in the same process.
    /// Returns one status per order, as the exchange answers them.
    public mutating func placeOrders(_ wires: [OrderWire], grouping: Grouping, user: Address, now: UInt64) -> [WireValue] {
        var statuses: [WireValue] = []
        var parent: UInt64?
        var parentFilled = false
        var parentFailed = false
        // The TP/SL orders of one positionTpsl action cancel each other like normalTpsl children.
        let positionGroup = grouping == .positionTpsl ? nextOid : nil
        for (index, wire) in wires.enumerated() {
            let isChild = grouping == .normalTpsl && index > 0
            if isChild && parentFailed {
                statuses.append(.object([("error", .string(VenueError.badTriggerPx))]))
                continue
            }
            let result = placeOne(
                wire, user: user, now: now, parent: isChild && !parentFilled ? parent : nil,
                ocoGroup: isChild ? parent : positionGroup, isPositionTpsl: grouping == .positionTpsl,
                isTpsl: isChild || grouping == .positionTpsl)
            if grouping == .normalTpsl && index == 0 {
                parent = result.oid
                parentFilled = result.filledFully
                parentFailed = result.oid == nil
            }
            if isChild, result.oid != nil {
                statuses.append(.string(parentFilled ? "waitingForTrigger" : "waitingForFill"))
            } else {
                statuses.append(result.status)
            }
        }
        // An Ioc parent that filled only partly is over: children are placed only on a complete fill.
        if let parent, !parentFilled, let order = orders[parent], !order.status.isLive {
            for child in childrenWaiting(on: parent) { cancelOrder(child, status: .canceled, now: now) }
        }
        return statuses
    }

    struct PlaceResult {
        var status: WireValue
        var oid: UInt64?
        var filledFully = false
    }

    /// Validates, checks margin and reduce-only, then matches or rests one order. An order refused
    /// for a reason Hyperliquid names (tickRejected, badAloPxRejected, …) is kept with that status.
    /// `isTpsl`: grouped as a TP/SL (a normalTpsl child or a positionTpsl order), so it must be a
    /// reduce-only trigger.
    mutating func placeOne(
        _ wire: OrderWire, user: Address, now: UInt64, parent: UInt64? = nil, ocoGroup: UInt64? = nil,
        isPositionTpsl: Bool = false, isTpsl: Bool = false, keepCloid: Cloid? = nil
    ) -> PlaceResult {
        func error(_ text: String) -> PlaceResult { PlaceResult(status: .object([("error", .string(text))])) }
        guard let spec = spec(wire.asset) else { return error(VenueError.unknownAsset(wire.asset)) }
        let asset = wire.asset
        let cloid = wire.cloid ?? keepCloid
        guard let px = Wire.amount(wire.limitPx) else { return error(VenueError.invalidPrice) }
        guard let sz = Wire.amount(wire.size) else { return error(VenueError.invalidSize) }
        var kind: SimOrderKind
        switch wire.orderType {
        case .limit(let tif): kind = .limit(tif)
        case .trigger(let isMarket, let text, let tpsl):
            kind = .trigger(isMarket: isMarket, triggerPx: Wire.amount(text) ?? 0, tpsl: tpsl)
        }
        func reject(_ text: String, _ status: SimOrderStatus) -> PlaceResult {
            recordRejection(
                wire, coin: spec.name, px: px, sz: sz, kind: kind, cloid: cloid, user: user, status: status,
                isPositionTpsl: isPositionTpsl, now: now)
            return error(text)
        }
        if let e = AssetRules.priceError(px, spec: spec, asset: asset) {
            return e == VenueError.invalidPrice ? error(e) : reject(e, .tickRejected)
        }
        // A position TP/SL may leave its size 0: it closes whatever the position is when it fires.
        let wholePosition = isPositionTpsl && kind.isTrigger && sz.isZero
        if !wholePosition, let e = AssetRules.sizeError(sz, spec: spec) { return error(e) }

        if case .trigger(_, let triggerPx, let tpsl) = kind {
            guard triggerPx.isPositive, AssetRules.priceError(triggerPx, spec: spec, asset: asset) == nil else {
                return reject(VenueError.badTriggerPx, .badTriggerPxRejected)
            }
            // A trigger the mark has already reached cannot be placed: a stop buy must be above the
            // mark, a take-profit buy below it (and the reverse for sells).
            if parent == nil, let mark = mark(asset) {
                let above = (tpsl == .tp) != wire.isBuy
                if above ? mark >= triggerPx : mark <= triggerPx {
                    return reject(VenueError.badTriggerPx, .badTriggerPxRejected)
                }
            }
        }
        if isTpsl && kind.isTrigger && !wire.reduceOnly { return error(VenueError.tpslNotReduceOnly) }
        if !wire.reduceOnly && sz * px < AssetRules.minimumOrderValue {
            return reject(VenueError.minimumValue, .minTradeNtlRejected)
        }

        let position = accounts[user]?.positions[asset]?.szi ?? 0
        if wire.reduceOnly && parent == nil {
            let reduces = wire.isBuy ? position.isNegative : position.isPositive
            if !reduces { return reject(VenueError.reduceOnly(asset: asset), .reduceOnlyRejected) }
        }
        if !wire.reduceOnly, let account = accounts[user] {
            let lev = Amount(leverage(user, asset).leverage)
            let opposite = wire.isBuy ? (position.isNegative ? position.magnitude : 0) : (position.isPositive ? position : 0)
            let increasing = Amount.max(sz - opposite, 0)
            let required = increasing * px / lev
            if required.isPositive && availableMargin(account) < required {
                return reject(VenueError.insufficientMargin(asset: asset), .perpMarginRejected)
            }
        }
        if case .limit(.alo) = kind, let bad = aloViolation(asset: asset, isBuy: wire.isBuy, px: px) {
            return reject(bad, .badAloPxRejected)
        }

        let oid = nextOid
        nextOid += 1
        let order = SimOrder(
            oid: oid, user: user, asset: asset, coin: spec.name, isBuy: wire.isBuy, limitPx: px, origSz: sz, sz: sz,
            reduceOnly: wire.reduceOnly, kind: kind, cloid: cloid, timestamp: now, statusTimestamp: now,
            isPositionTpsl: isPositionTpsl, parentOid: parent, ocoGroup: ocoGroup, sequence: nextSequence)
        nextSequence += 1
        orders[oid] = order
        if let cloid { cloids[user, cloid] = oid }

        if kind.isTrigger {
            addLive(order)
            triggers[asset, default: []].append(oid)
            emitUpdate(oid)
            return PlaceResult(status: resting(order), oid: oid)
        }
        return executeLimit(oid, now: now, reportErrors: true)
    }

    /// Keeps a refused order under a fresh oid with its rejection status (never live).
    mutating func recordRejection(
        _ wire: OrderWire, coin: String, px: Amount, sz: Amount, kind: SimOrderKind, cloid: Cloid?, user: Address,
        status: SimOrderStatus, isPositionTpsl: Bool, now: UInt64
    ) {
        let oid = nextOid
        nextOid += 1
        var order = SimOrder(
            oid: oid, user: user, asset: wire.asset, coin: coin, isBuy: wire.isBuy, limitPx: px, origSz: sz, sz: sz,
            reduceOnly: wire.reduceOnly, kind: kind, cloid: cloid, timestamp: now, statusTimestamp: now,
            isPositionTpsl: isPositionTpsl, sequence: nextSequence)
        order.status = status
        nextSequence += 1
        orders[oid] = order
        // A cloid still naming a live order keeps naming it.
        if let cloid, cloids[user, cloid].flatMap({ orders[$0] })?.status.isLive != true {
            cloids[user, cloid] = oid
        }
        emitUpdate(oid)
    }

    /// Matches a (new or just triggered) limit order, then rests or cancels the remainder.
    mutating func executeLimit(_ oid: UInt64, now: UInt64, reportErrors: Bool) -> PlaceResult {
        guard var order = orders[oid], case .limit(let tif) = order.kind else { return PlaceResult(status: .null) }
        let (filled, notional) = take(oid, now: now)
        order = orders[oid]!
        let cloidEntry: [(String, WireValue)] = order.cloid.map { [("cloid", .string($0.rawValue))] } ?? []
        if order.status == .reduceOnlyCanceled && filled.isZero {
            if reportErrors {
                order.status = .reduceOnlyRejected
                orders[oid] = order
                emitUpdate(oid)
            }
            return PlaceResult(status: .object([("error", .string(VenueError.reduceOnly(asset: order.asset)))]))
        }
        if order.sz.isZero || order.status != .open {
            if order.status == .open {
                order.status = .filled
                order.statusTimestamp = now
                orders[oid] = order
                removeLive(order)
                emitUpdate(oid)
                armChildren(of: oid, now: now)
            }
            let avg = filled.isPositive ? (notional / filled) : order.limitPx
            let status: WireValue = .object(
                [
                    ("filled", .object([("totalSz", .decimal(filled)), ("avgPx", .decimal(avg.rounded(scale: 8, .plain))), ("oid", .integer(oid))] + cloidEntry))
                ])
            return PlaceResult(status: status, oid: oid, filledFully: true)
        }
        if tif == .ioc {
            if filled.isZero {
                let text = VenueError.iocCancel(asset: order.asset)
                if reportErrors {
                    // Never live: kept as iocCancelRejected.
                    order.status = .iocCancelRejected
                    order.statusTimestamp = now
                    orders[oid] = order
                    emitUpdate(oid)
                } else {
                    markCanceledTrigger(order, now: now)
                }
                return PlaceResult(status: .object([("error", .string(text))]))
            }
            order.status = .canceled
            order.statusTimestamp = now
            orders[oid] = order
            removeLive(order)
            emitUpdate(oid)
            // normalTpsl children are placed only when their parent fills completely.
            for child in childrenWaiting(on: oid) { cancelOrder(child, status: .canceled, now: now) }
            let avg = notional / filled
            return PlaceResult(
                status: .object([
                    ("filled", .object([("totalSz", .decimal(filled)), ("avgPx", .decimal(avg.rounded(scale: 8, .plain))), ("oid", .integer(oid))] + cloidEntry))
                ]), oid: oid)
        }
        let queue = displayedSize(asset: order.asset, isBuy: order.isBuy, px: order.limitPx)
        orders[oid]?.queueAhead = queue
        rest(oid)
        emitUpdate(oid)
        return PlaceResult(status: resting(orders[oid]!), oid: oid)
    }

    private mutating func markCanceledTrigger(_ order: SimOrder, now: UInt64) {
        var o = order
        o.status = .canceled
        o.statusTimestamp = now
        orders[o.oid] = o
        removeLive(o)
        emitUpdate(o.oid)
    }

    func resting(_ order: SimOrder) -> WireValue {
        var entries: [(String, WireValue)] = [("oid", .integer(order.oid))]
        if let cloid = order.cloid { entries.append(("cloid", .string(cloid.rawValue))) }
        return .object([("resting", .object(entries))])
    }

    /// The external size displayed on one side at exactly `px` (0 when no level is there).
    func displayedSize(asset: Int, isBuy: Bool, px: Amount) -> Amount {
        let side = isBuy ? markets[asset]?.bids : markets[asset]?.asks
        return side?.first { $0.px == px }?.sz ?? 0
    }

    /// BadAloPx when a post-only order would take.
    func aloViolation(asset: Int, isBuy: Bool, px: Amount) -> String? {
        let (bid, ask) = bbo(asset)
        let crosses = isBuy ? ask.map { px >= $0 } ?? false : bid.map { px <= $0 } ?? false
        guard crosses else { return nil }
        return VenueError.badAloPx(
            bid: bid.map(Wire.plain) ?? "None", ask: ask.map(Wire.plain) ?? "None", asset: asset)
    }

    /// Best bid and ask of the merged book (external plus paper orders).
    func bbo(_ asset: Int) -> (Amount?, Amount?) {
        let market = markets[asset] ?? ExternalBook()
        let paperBid = restingBids[asset]?.first.flatMap { orders[$0]?.limitPx }
        let paperAsk = restingAsks[asset]?.first.flatMap { orders[$0]?.limitPx }
        let bid = [market.bestBid, paperBid].compactMap { $0 }.max()
        let ask = [market.bestAsk, paperAsk].compactMap { $0 }.min()
        return (bid, ask)
    }

    // MARK: Matching

    /// Takes liquidity for `oid` up to its limit price: external levels and other accounts' resting
    /// orders, best price first, external first at one price. Returns filled size and notional.
    mutating func take(_ oid: UInt64, now: UInt64) -> (Amount, Amount) {
        var filled: Amount = 0
        var notional: Amount = 0
        while let order = orders[oid], order.status == .open, order.sz.isPositive {
            var quantity = order.sz
            if order.reduceOnly {
                let reducible = reducibleSize(user: order.user, asset: order.asset, isBuy: order.isBuy)
                quantity = Amount.min(quantity, reducible)
                if quantity.isZero {
                    cancelOrder(oid, status: .reduceOnlyCanceled, now: now)
                    break
                }
            }
            let external = order.isBuy ? markets[order.asset]?.asks.first : markets[order.asset]?.bids.first
            let externalOK = external.map { order.isBuy ? $0.px <= order.limitPx : $0.px >= order.limitPx } ?? false
            let makerId = (order.isBuy ? restingAsks[order.asset] : restingBids[order.asset])?.first
            let maker = makerId.flatMap { orders[$0] }
            let makerOK = maker.map { order.isBuy ? $0.limitPx <= order.limitPx : $0.limitPx >= order.limitPx } ?? false
            let useExternal: Bool
            switch (externalOK, makerOK) {
            case (false, false): useExternal = false
            case (true, false): useExternal = true
            case (false, true): useExternal = false
            case (true, true): useExternal = order.isBuy ? external!.px <= maker!.limitPx : external!.px >= maker!.limitPx
            }
            if !externalOK && !makerOK { break }
            if useExternal, let level = external {
                let qty = Amount.min(quantity, level.sz)
                consumeExternal(asset: order.asset, takerIsBuy: order.isBuy, size: qty)
                fillTaker(oid, px: level.px, sz: qty, counterparty: nil, now: now)
                filled += qty
                notional += qty * level.px
            } else if let maker {
                if maker.user == order.user {
                    cancelOrder(maker.oid, status: .selfTradeCanceled, now: now)
                    continue
                }
                var makerQty = maker.sz
                if maker.reduceOnly {
                    makerQty = Amount.min(makerQty, reducibleSize(user: maker.user, asset: maker.asset, isBuy: maker.isBuy))
                    if makerQty.isZero {
                        cancelOrder(maker.oid, status: .reduceOnlyCanceled, now: now)
                        continue
                    }
                }
                let qty = Amount.min(quantity, makerQty)
                fillTaker(oid, px: maker.limitPx, sz: qty, counterparty: maker.oid, now: now)
                fillMaker(maker.oid, px: maker.limitPx, sz: qty, counterparty: order.user, takerIsBuy: order.isBuy, now: now)
                filled += qty
                notional += qty * maker.limitPx
            }
        }
        return (filled, notional)
    }

    /// How much of an order on this side only shrinks the position.
    func reducibleSize(user: Address, asset: Int, isBuy: Bool) -> Amount {
        let szi = accounts[user]?.positions[asset]?.szi ?? 0
        return isBuy ? (szi.isNegative ? szi.magnitude : 0) : (szi.isPositive ? szi : 0)
    }

    private mutating func consumeExternal(asset: Int, takerIsBuy: Bool, size: Amount) {
        guard var market = markets[asset] else { return }
        if takerIsBuy {
            market.asks[0].sz -= size
            if !market.asks[0].sz.isPositive { market.asks.removeFirst() }
        } else {
            market.bids[0].sz -= size
            if !market.bids[0].sz.isPositive { market.bids.removeFirst() }
        }
        markets[asset] = market
    }

    /// A fill of a taking order; `counterparty` is the maker's oid (nil: the external market).
    mutating func fillTaker(_ oid: UInt64, px: Amount, sz: Amount, counterparty: UInt64?, now: UInt64) {
        guard var order = orders[oid] else { return }
        order.sz -= sz
        orders[oid] = order
        let tid = nextTid
        nextTid += 1
        let hash = Wire.hash(tid)
        applyFill(
            user: order.user, asset: order.asset, isBuy: order.isBuy, px: px, sz: sz, crossed: true, oid: oid,
            cloid: order.cloid, tid: tid, hash: hash, now: now)
        let makerUser = counterparty.flatMap { orders[$0]?.user } ?? Address.zero
        let users = order.isBuy ? [order.user, makerUser] : [makerUser, order.user]
        emitTrade(coin: order.coin, isBuy: order.isBuy, px: px, sz: sz, tid: tid, hash: hash, users: users, now: now)
    }

    /// A fill of a resting order at its limit price.
    /// `publishTrade`: false when the external print that filled it is already on the tape.
    mutating func fillMaker(
        _ oid: UInt64, px: Amount, sz: Amount, counterparty: Address?, takerIsBuy: Bool, now: UInt64, publishTrade: Bool = true
    ) {
        guard var order = orders[oid] else { return }
        order.sz -= sz
        if order.sz.isZero {
            order.status = .filled
            order.statusTimestamp = now
        }
        orders[oid] = order
        let tid = nextTid
        nextTid += 1
        applyFill(
            user: order.user, asset: order.asset, isBuy: order.isBuy, px: px, sz: sz, crossed: false, oid: oid,
            cloid: order.cloid, tid: tid, hash: Wire.hash(tid), now: now)
        if counterparty == nil && publishTrade {
            let users = order.isBuy ? [order.user, Address.zero] : [Address.zero, order.user]
            emitTrade(coin: order.coin, isBuy: takerIsBuy, px: px, sz: sz, tid: tid, hash: Wire.hash(tid), users: users, now: now)
        }
        if order.status == .filled {
            unrest(order)
            removeLive(order)
            emitUpdate(oid)
            armChildren(of: oid, now: now)
        }
    }

    private mutating func emitTrade(coin: String, isBuy: Bool, px: Amount, sz: Amount, tid: UInt64, hash: String, users: [Address], now: UInt64) {
        emit(
            .trade(
                coin: coin,
                .object([
                    ("coin", .string(coin)), ("side", .string(isBuy ? "B" : "A")), ("px", .decimal(px)), ("sz", .decimal(sz)),
                    ("time", .ms(now)), ("hash", .string(hash)), ("tid", .integer(tid)),
                    ("users", .array(users.map { .string($0.lowercased) })),
                ])))
        candles.record(asset: coinAsset(coin), px: px, sz: sz, now: now)
    }

    func coinAsset(_ coin: String) -> Int { assetIndex[coin] ?? -1 }

    /// Books a fill on an account: position, entry, realised P&L, fee, volume, history.
    mutating func applyFill(
        user: Address, asset: Int, isBuy: Bool, px: Amount, sz: Amount, crossed: Bool, oid: UInt64, cloid: Cloid?,
        tid: UInt64, hash: String, now: UInt64, liquidation: SimLiquidation? = nil, feeFree: Bool = false
    ) {
        guard var account = accounts[user] else { return }
        var position = account.positions[asset] ?? SimPosition()
        let start = position.szi
        let delta = isBuy ? sz : -sz
        var closedPnl: Amount = 0
        if start.isZero || start.signum == delta.signum {
            let total = start.magnitude + sz
            position.entryPx = (start.magnitude * position.entryPx + sz * px) / total
            if start.isZero {
                position.cumFundingSinceOpen = 0
            }
        } else {
            let closing = Amount.min(start.magnitude, sz)
            closedPnl = closing * (px - position.entryPx) * Amount(start.signum)
            if sz > start.magnitude {
                position.entryPx = px
                position.cumFundingSinceOpen = 0
            }
        }
        if isIsolated(account, asset) {
            position.isolatedMargin = isolatedMarginAfterFill(
                position.isolatedMargin, start: start, delta: delta, px: px, leverage: setting(account, asset).leverage)
        }
        position.szi = start + delta
        if position.szi.isZero { position.entryPx = 0 }
        position.cumFundingSinceChange = 0
        let fee = feeFree ? Amount.zero : (sz * px * (crossed ? config.takerFee : config.makerFee)).rounded(scale: 6, .plain)
        account.usdc += closedPnl - fee
        account.cumVolume += sz * px
        account.positions[asset] = position.szi.isZero && position.cumFundingAllTime.isZero ? nil : position
        if position.szi.isZero { account.positions[asset] = nil }
        let fill = SimFill(
            coin: assets[asset].name, px: px, sz: sz, isBuy: isBuy, time: now, startPosition: start,
            dir: Self.direction(start: start, isBuy: isBuy, end: position.szi), closedPnl: closedPnl, hash: hash, oid: oid,
            crossed: crossed, fee: fee, tid: tid, cloid: cloid, liquidation: liquidation)
        account.fills.append(fill)
        if account.fills.count > Self.fillHistoryLimit { account.fills.removeFirst(account.fills.count - Self.fillHistoryLimit) }
        accounts[user] = account
        emit(.fill(user: user, fill.wire))
        enforceReduceOnly(user: user, asset: asset, now: now)
    }

    static func direction(start: Amount, isBuy: Bool, end: Amount) -> String {
        if start.isZero { return isBuy ? "Open Long" : "Open Short" }
        if start.isPositive {
            if isBuy { return "Open Long" }
            return end.isNegative ? "Long > Short" : "Close Long"
        }
        if !isBuy { return "Open Short" }
        return end.isPositive ? "Short > Long" : "Close Short"
    }

    /// Resting reduce-only orders (limits and armed triggers) that can no longer reduce are canceled.
    mutating func enforceReduceOnly(user: Address, asset: Int, now: UInt64) {
        guard let live = liveOrders[user] else { return }
        for oid in live.sorted() {
            // Armed reduce-only triggers (a TP/SL whose position closed) go too; children still
            // waiting for their parent's fill do not.
            guard let order = orders[oid], order.asset == asset, order.reduceOnly, order.parentOid == nil,
                order.status == .open
            else { continue }
            if reducibleSize(user: user, asset: asset, isBuy: order.isBuy).isZero {
                cancelOrder(oid, status: .reduceOnlyCanceled, now: now)
            }
        }
    }

    // MARK: Book keeping

    mutating func rest(_ oid: UInt64) {
        guard let order = orders[oid] else { return }
        addLive(order)
        var side = (order.isBuy ? restingBids[order.asset] : restingAsks[order.asset]) ?? []
        let index =
            side.firstIndex { otherId in
                guard let other = orders[otherId] else { return false }
                if other.limitPx == order.limitPx { return other.sequence > order.sequence }
                return order.isBuy ? other.limitPx < order.limitPx : other.limitPx > order.limitPx
            } ?? side.count
        side.insert(oid, at: index)
        if order.isBuy { restingBids[order.asset] = side } else { restingAsks[order.asset] = side }
    }

    mutating func unrest(_ order: SimOrder) {
        if order.isBuy {
            restingBids[order.asset]?.removeAll { $0 == order.oid }
        } else {
            restingAsks[order.asset]?.removeAll { $0 == order.oid }
        }
    }

    mutating func addLive(_ order: SimOrder) { liveOrders[order.user, default: []].insert(order.oid) }

    mutating func removeLive(_ order: SimOrder) {
        liveOrders[order.user]?.remove(order.oid)
        if order.kind.isTrigger { triggers[order.asset]?.removeAll { $0 == order.oid } }
    }

    /// Ends a live order with `status` and tells its owner.
    mutating func cancelOrder(_ oid: UInt64, status: SimOrderStatus, now: UInt64) {
        guard var order = orders[oid], order.status.isLive else { return }
        order.status = status
        order.statusTimestamp = now
        orders[oid] = order
        unrest(order)
        removeLive(order)
        emitUpdate(oid)
        // Children waiting for this parent go with it (the dead man's switch names its own cancels).
        let childStatus: SimOrderStatus = status == .scheduledCancel ? .scheduledCancel : .canceled
        for child in childrenWaiting(on: oid) { cancelOrder(child, status: childStatus, now: now) }
    }

    func childrenWaiting(on parent: UInt64) -> [UInt64] {
        (triggers.values.flatMap { $0 }).filter { orders[$0]?.parentOid == parent }.sorted()
    }

    /// Arms the normalTpsl children of a parent that just filled.
    mutating func armChildren(of parent: UInt64, now: UInt64) {
        let waiting = childrenWaiting(on: parent)
        guard !waiting.isEmpty else { return }
        for child in waiting { orders[child]?.parentOid = nil }
        if let asset = orders[parent]?.asset { checkTriggers(asset: asset, now: now) }
    }

    mutating func emitUpdate(_ oid: UInt64) {
        guard let order = orders[oid] else { return }
        var entries: [(String, WireValue)] = [
            ("coin", .string(order.coin)), ("side", .string(order.side)), ("limitPx", .decimal(order.limitPx)),
            ("sz", .decimal(order.sz)), ("oid", .integer(order.oid)), ("timestamp", .ms(order.timestamp)),
            ("origSz", .decimal(order.origSz)),
        ]
        if let cloid = order.cloid { entries.append(("cloid", .string(cloid.rawValue))) }
        emit(
            .orderUpdate(
                user: order.user,
                .object([
                    ("order", .object(entries)), ("status", .string(order.status.rawValue)),
                    ("statusTimestamp", .ms(order.statusTimestamp)),
                ])))
    }

    // MARK: Cancel and modify

    /// Cancels one of `user`'s live orders; the status is "success" or {"error": …}.
    public mutating func cancel(user: Address, asset: Int, oid: UInt64, now: UInt64) -> WireValue {
        guard let order = orders[oid], order.user == user, order.asset == asset, order.status.isLive else {
            return .object([("error", .string(VenueError.missingOrder(asset: asset)))])
        }
        cancelOrder(order.oid, status: .canceled, now: now)
        return .string("success")
    }

    /// Cancels `user`'s live order by its client order id, as `cancelByCloid` does.
    public mutating func cancel(user: Address, asset: Int, cloid: Cloid, now: UInt64) -> WireValue {
        guard let oid = cloids[user, cloid] else {
            return .object([("error", .string(VenueError.missingOrder(asset: asset)))])
        }
        return cancel(user: user, asset: asset, oid: oid, now: now)
    }

    /// Cancels the named live order and places the new one (with a new oid).
    ///
    /// Hyperliquid documents a modify as a cancel and a new order; it does not say what becomes of
    /// the original when the new order is refused (an Alo that would cross: BadAloPx). As the
    /// cancel comes first, the original stays canceled and the status is the new order's
    /// {"error": …}: a quoter that requotes into the spread loses that quote and must place again.
    public mutating func modify(_ modify: ModifyWire, user: Address, now: UInt64) -> WireValue {
        let oid: UInt64?
        switch modify.oid {
        case .oid(let o): oid = o
        case .cloid(let c): oid = cloids[user, c]
        }
        guard let oid, let old = orders[oid], old.user == user, old.status.isLive, old.asset == modify.order.asset else {
            return .object([("error", .string(VenueError.cannotModify))])
        }
        // normalTpsl children waiting on the old order move to the new one (cancelOrder would take them).
        let waiting = childrenWaiting(on: oid)
        for child in waiting { orders[child]?.parentOid = nil }
        cancelOrder(oid, status: .canceled, now: now)
        // The new order keeps the old one's cloid, TP/SL group and parent unless it says otherwise.
        let result = placeOne(
            modify.order, user: user, now: now, parent: old.parentOid, ocoGroup: old.ocoGroup,
            isPositionTpsl: old.isPositionTpsl, isTpsl: old.ocoGroup != nil && old.kind.isTrigger, keepCloid: old.cloid)
        if let newOid = result.oid { keepQueuePlace(of: old, in: newOid) }
        relink(waiting, to: result.oid.flatMap { orders[$0] }, now: now)
        return result.status
    }

    /// A resting order that replaced `old` at the same price and side, no larger than what was left
    /// of it, keeps the old order's time priority and queue ahead (a price change or a size increase
    /// loses the place, as on exchanges with price-time priority).
    private mutating func keepQueuePlace(of old: SimOrder, in oid: UInt64) {
        guard !old.kind.isTrigger, var order = orders[oid], order.status == .open, !order.kind.isTrigger,
            order.isBuy == old.isBuy, order.limitPx == old.limitPx, order.sz <= old.sz
        else { return }
        let isResting = (order.isBuy ? restingBids[order.asset] : restingAsks[order.asset])?.contains(oid) ?? false
        guard isResting else { return }
        unrest(order)
        order.sequence = old.sequence
        order.queueAhead = Amount.min(old.queueAhead, order.queueAhead)
        orders[oid] = order
        rest(oid)
    }

    /// Children detached from a modified parent: they wait on the new order if it is live, are
    /// armed if it filled, and are canceled otherwise.
    private mutating func relink(_ children: [UInt64], to parent: SimOrder?, now: UInt64) {
        guard !children.isEmpty else { return }
        for child in children {
            guard let parent, parent.status.isLive || parent.status == .filled else {
                cancelOrder(child, status: .canceled, now: now)
                continue
            }
            if parent.status.isLive { orders[child]?.parentOid = parent.oid }
        }
        if let parent, parent.status == .filled { checkTriggers(asset: parent.asset, now: now) }
    }
}
