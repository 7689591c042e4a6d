import Hyperliquid
import Schema

/// The external market moving under the paper orders; triggers, funding and the dead man's switch.
extension VenueCore {
    /// Applies one external market event at `now`.
    public mutating func applyMarket(_ event: MarketEvent, now: UInt64) {
        guard let asset = assetIndex[event.coin] else { return }
        var market = markets[asset] ?? ExternalBook()
        market.previousMark = market.mark
        market.updatedAt = now
        switch event {
        case .book(_, let bids, let asks):
            market.bids = bids.filter { $0.sz.isPositive }
            market.asks = asks.filter { $0.sz.isPositive }
            markets[asset] = market
            shortenQueues(asset: asset)
            crossRestingOrders(asset: asset, now: now)
            if let mid = markets[asset]?.mark { candles.record(asset: asset, px: mid, sz: 0, now: now) }
        case .trades(_, let trades):
            markets[asset] = market
            for trade in trades {
                markets[asset]?.lastTradePx = trade.px
                emit(
                    .trade(
                        coin: event.coin,
                        .object([
                            ("coin", .string(event.coin)), ("side", .string(trade.aggressorIsBuy ? "B" : "A")),
                            ("px", .decimal(trade.px)), ("sz", .decimal(trade.sz)), ("time", .ms(now)),
                            ("hash", .string(Wire.hash(nextTid, salt: 1))), ("tid", .integer(nextTid)),
                            ("users", .array([.string(Address.zero.lowercased), .string(Address.zero.lowercased)])),
                        ])))
                nextTid += 1
                candles.record(asset: asset, px: trade.px, sz: trade.sz, now: now)
                fillThroughPrint(asset: asset, trade: trade, now: now)
            }
        }
        emit(.bookChanged(coin: event.coin))
        checkTriggers(asset: asset, now: now)
        liquidateUnderwater(asset: asset, now: now)
    }

    /// A print at `px` fills resting buys priced above it and sells priced below it, best price then
    /// time first, up to the printed size, each at its own limit price. At exactly `px` the print
    /// first eats the external queue ahead of each order there; only the rest of it fills them.
    mutating func fillThroughPrint(asset: Int, trade: ExternalTrade, now: UInt64) {
        for isBuy in [true, false] {
            var left = trade.sz
            // External size this print has eaten at its own price: it was ahead of every paper order there.
            var queueEaten: Amount = 0
            let atPrice = ((isBuy ? restingBids[asset] : restingAsks[asset]) ?? []).filter { orders[$0]?.limitPx == trade.px }
            let queues = atPrice.map { orders[$0]?.queueAhead ?? 0 }
            defer {
                // Orders at the price the print did not reach still lose the external size it ate.
                for (oid, queue) in zip(atPrice, queues) where orders[oid]?.status.isLive == true {
                    orders.updateUnsaved(oid) { $0.queueAhead = queue - Amount.min(queue, queueEaten) }
                }
            }
            var index = 0
            while left.isPositive {
                let side = (isBuy ? restingBids[asset] : restingAsks[asset]) ?? []
                guard index < side.count, let order = orders[side[index]] else { break }
                let oid = order.oid
                let through = isBuy ? order.limitPx > trade.px : order.limitPx < trade.px
                guard through || order.limitPx == trade.px else { break }
                if !through {
                    var queue = order.queueAhead - Amount.min(order.queueAhead, queueEaten)
                    let eat = Amount.min(queue, left)
                    queue -= eat
                    left -= eat
                    queueEaten += eat
                    orders.updateUnsaved(oid) { $0.queueAhead = queue }
                    if queue.isPositive || !left.isPositive {
                        index += 1
                        continue
                    }
                }
                var qty = Amount.min(order.sz, left)
                if order.reduceOnly {
                    qty = Amount.min(qty, reducibleSize(user: order.user, asset: asset, isBuy: isBuy))
                    if qty.isZero {
                        cancelOrder(oid, status: .reduceOnlyCanceled, now: now)
                        continue
                    }
                }
                fillMaker(oid, px: order.limitPx, sz: qty, counterparty: nil, takerIsBuy: !isBuy, now: now, publishTrade: false)
                left -= qty
                // A partly filled order stays first; the loop ends with the print used up.
                if orders[oid]?.status.isLive == true { index += 1 }
            }
        }
    }

    /// After a snapshot, the external queue ahead of a resting order is at most what the book now
    /// displays at its price on its side (orders ahead were filled or canceled; new ones joined behind).
    mutating func shortenQueues(asset: Int) {
        for isBuy in [true, false] {
            for oid in (isBuy ? restingBids[asset] : restingAsks[asset]) ?? [] {
                guard let order = orders[oid], order.queueAhead.isPositive else { continue }
                let shown = displayedSize(asset: asset, isBuy: isBuy, px: order.limitPx)
                if shown < order.queueAhead { orders.updateUnsaved(oid) { $0.queueAhead = shown } }
            }
        }
    }

    /// A new external snapshot that crosses resting paper orders fills them against the crossing
    /// external size, at the paper order's price. An external ask at a paper bid's price counts: the
    /// external bids there are gone (the book is not crossed), so no queue is left ahead of the bid.
    mutating func crossRestingOrders(asset: Int, now: UInt64) {
        for isBuy in [true, false] {
            while let oid = (isBuy ? restingBids[asset] : restingAsks[asset])?.first, let order = orders[oid],
                let level = isBuy ? markets[asset]?.asks.first : markets[asset]?.bids.first,
                isBuy ? level.px <= order.limitPx : level.px >= order.limitPx
            {
                var qty = Amount.min(order.sz, level.sz)
                if order.reduceOnly {
                    qty = Amount.min(qty, reducibleSize(user: order.user, asset: asset, isBuy: isBuy))
                    if qty.isZero {
                        cancelOrder(oid, status: .reduceOnlyCanceled, now: now)
                        continue
                    }
                }
                if isBuy {
                    markets[asset]!.asks[0].sz -= qty
                    if !markets[asset]!.asks[0].sz.isPositive { markets[asset]!.asks.removeFirst() }
                } else {
                    markets[asset]!.bids[0].sz -= qty
                    if !markets[asset]!.bids[0].sz.isPositive { markets[asset]!.bids.removeFirst() }
                }
                fillMaker(oid, px: order.limitPx, sz: qty, counterparty: nil, takerIsBuy: !isBuy, now: now)
            }
        }
    }

    // MARK: Triggers

    /// Fires armed trigger orders whose price the mark has reached: a market trigger becomes an Ioc
    /// 10 % through the mark (the exchange's market-order slippage), a limit trigger a Gtc at its
    /// limit price. Once one TP/SL child of a group fires, its siblings are canceled.
    mutating func checkTriggers(asset: Int, now: UInt64) {
        guard let mark = mark(asset), let spec = spec(asset) else { return }
        var fired: [UInt64] = []
        for oid in triggers[asset] ?? [] {
            guard let order = orders[oid], order.status == .open, order.parentOid == nil,
                case .trigger(_, let triggerPx, let tpsl) = order.kind
            else { continue }
            let hit = order.triggersAbove(tpsl: tpsl) ? mark >= triggerPx : mark <= triggerPx
            if hit { fired.append(oid) }
        }
        for oid in fired {
            guard var order = orders[oid], order.status == .open, case .trigger(let isMarket, _, _) = order.kind else { continue }
            removeLive(order)
            let reducible = reducibleSize(user: order.user, asset: asset, isBuy: order.isBuy)
            if order.reduceOnly && reducible.isZero {
                order.status = .reduceOnlyCanceled
                order.statusTimestamp = now
                orders[oid] = order
                emitUpdate(oid)
                continue
            }
            // A position TP/SL placed with size 0 closes the position as it is now; one with a size
            // closes up to that size (take() caps any reduce-only order at the position).
            if order.isPositionTpsl && order.origSz.isZero { order.sz = reducible }
            order.status = .triggered
            order.statusTimestamp = now
            orders[oid] = order
            emitUpdate(oid)
            if let group = order.ocoGroup {
                for sibling in (triggers[asset] ?? []) where sibling != oid && orders[sibling]?.ocoGroup == group {
                    cancelOrder(sibling, status: .siblingFilledCanceled, now: now)
                }
            }
            // Now a limit order with a fresh place in time.
            order.status = .open
            if isMarket {
                let slipped = order.isBuy ? mark * Amount("1.1") : mark * Amount("0.9")
                order.limitPx = AssetRules.roundPrice(slipped, spec: spec, down: !order.isBuy)
                order.kind = .limit(.ioc)
            } else {
                order.kind = .limit(.gtc)
            }
            order.sequence = nextSequence
            nextSequence += 1
            orders[oid] = order
            _ = executeLimit(oid, now: now, reportErrors: false)
        }
    }

    // MARK: Time

    /// Everything driven by the clock: hourly funding and scheduled cancels.
    public mutating func tick(now: UInt64) {
        let hour = now / 3_600_000
        if let last = lastFundingHour {
            if hour > last {
                payFunding(now: hour * 3_600_000)
                lastFundingHour = hour
                liquidateUnderwater(asset: nil, now: now)
            }
        } else {
            lastFundingHour = hour
        }
        fireScheduledCancels(now: now)
    }

    /// Funding at one hour boundary: a position pays −szi × mark × rate (longs pay a positive rate).
    public mutating func payFunding(now: UInt64) {
        let rate = config.fundingRatePerHour
        for address in accounts.keys.sorted(by: { $0.lowercased < $1.lowercased }) {
            guard var account = accounts[address] else { continue }
            for asset in account.positions.keys.sorted() {
                guard var position = account.positions[asset], !position.szi.isZero else { continue }
                let px = mark(asset) ?? position.entryPx
                let payment = (-position.szi * px * rate).rounded(scale: 6, .plain)
                account.usdc += payment
                // An isolated position pays (or receives) funding out of its own margin.
                if isIsolated(account, asset) { position.isolatedMargin += payment }
                position.cumFundingAllTime -= payment
                position.cumFundingSinceOpen -= payment
                position.cumFundingSinceChange -= payment
                account.positions[asset] = position
                account.fundings.append(
                    FundingRecord(
                        time: now, coin: assets[asset].name, usdc: payment, szi: position.szi, fundingRate: rate,
                        hash: Wire.hash(now &+ UInt64(asset), salt: 2)))
            }
            accounts[address] = account
        }
    }

    /// The dead man's switch: at its time every open order of the account is canceled.
    mutating func fireScheduledCancels(now: UInt64) {
        for address in accounts.keys.sorted(by: { $0.lowercased < $1.lowercased }) {
            guard let time = accounts[address]?.scheduledCancel, time <= now else { continue }
            for oid in (liveOrders[address] ?? []).sorted() {
                cancelOrder(oid, status: .scheduledCancel, now: now)
            }
            let day = now / 86_400_000
            if accounts[address]!.scheduledCancelDay != day {
                accounts[address]!.scheduledCancelDay = day
                accounts[address]!.scheduledCancelFired = 0
            }
            accounts[address]!.scheduledCancelFired += 1
            accounts[address]!.scheduledCancel = nil
        }
    }
}

/// One-minute candles built from what the venue saw (external prints, mids, paper fills).
struct CandleHistory: Sendable {
    struct Bar: Sendable, Equatable {
        var start: UInt64
        var open: Amount
        var high: Amount
        var low: Amount
        var close: Amount
        var volume: Amount
        var trades: Int
    }

    static let keep = 10_000
    private(set) var bars: [Int: [Bar]] = [:]

    mutating func record(asset: Int, px: Amount, sz: Amount, now: UInt64) {
        guard asset >= 0 else { return }
        // In place: a copy of the asset's list per print was most of a replay's time.
        Self.record(&bars[asset, default: []], px: px, sz: sz, start: now / 60_000 * 60_000)
    }

    private static func record(_ list: inout [Bar], px: Amount, sz: Amount, start: UInt64) {
        if var last = list.last, last.start == start {
            last.high = Amount.max(last.high, px)
            last.low = Amount.min(last.low, px)
            last.close = px
            last.volume += sz
            if sz.isPositive { last.trades += 1 }
            list[list.count - 1] = last
        } else {
            list.append(Bar(start: start, open: px, high: px, low: px, close: px, volume: sz, trades: sz.isPositive ? 1 : 0))
            // Trimmed an eighth at a time: dropping one bar a minute moved the whole list each time.
            if list.count > Self.keep + Self.keep / 8 { list.removeFirst(list.count - Self.keep) }
        }
    }

    static let intervals: [String: UInt64] = [
        "1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000, "1h": 3_600_000,
        "2h": 7_200_000, "4h": 14_400_000, "8h": 28_800_000, "12h": 43_200_000, "1d": 86_400_000,
        "3d": 259_200_000, "1w": 604_800_000,
    ]

    /// Bars of `interval` whose open time is in [start, end].
    func snapshot(asset: Int, interval: UInt64, start: UInt64, end: UInt64) -> [Bar] {
        var out: [Bar] = []
        for bar in bars[asset] ?? [] {
            let bucket = bar.start / interval * interval
            guard bucket >= start / interval * interval, bucket <= end else { continue }
            if var last = out.last, last.start == bucket {
                last.high = Amount.max(last.high, bar.high)
                last.low = Amount.min(last.low, bar.low)
                last.close = bar.close
                last.volume += bar.volume
                last.trades += bar.trades
                out[out.count - 1] = last
            } else {
                out.append(Bar(start: bucket, open: bar.open, high: bar.high, low: bar.low, close: bar.close, volume: bar.volume, trades: bar.trades))
            }
        }
        return out
    }
}
