import Hyperliquid
import Schema

/// POST /info: read-only queries in Hyperliquid's shapes, with their rate-limit weights.
extension VenueCore {
    /// Weight per the docs: 2 for l2Book, allMids, clearinghouseState, orderStatus, spotClearinghouseState,
    /// exchangeStatus; 60 for userRole; 20 for the rest; plus 1 per 20 items returned by the fill and funding
    /// histories and 1 per 60 candles.
    public static func infoWeight(type: String, items: Int) -> Int {
        switch type {
        case "l2Book", "allMids", "clearinghouseState", "orderStatus", "spotClearinghouseState", "exchangeStatus": 2
        case "userRole": 60
        case "userFills", "userFillsByTime", "userFunding", "historicalOrders", "fundingHistory", "recentTrades":
            20 + items / 20
        case "candleSnapshot": 20 + items / 60
        default: 20
        }
    }

    /// The answer and the request's weight.
    public func handleInfo(body: [UInt8], now: UInt64) -> (HTTPReply, weight: Int) {
        guard let request = try? WireValue(json: body), let type = request["type"]?.stringValue else {
            return (.text(VenueError.deserialize("missing field `type`"), status: 422), 20)
        }
        func user() -> Address? { request["user"]?.stringValue.flatMap(parseAddress) }
        func badUser() -> (HTTPReply, Int) {
            (.text(VenueError.deserialize("user: invalid address"), status: 422), Self.infoWeight(type: type, items: 0))
        }
        let weight = Self.infoWeight(type: type, items: 0)
        switch type {
        case "meta":
            return (.json(meta()), weight)
        case "metaAndAssetCtxs":
            return (.json(.array([meta(), .array(assets.indices.map { assetContext($0) })])), weight)
        case "spotMeta":
            return (.json(.object([("universe", .array([])), ("tokens", .array([]))])), weight)
        case "spotMetaAndAssetCtxs":
            return (.json(.array([.object([("universe", .array([])), ("tokens", .array([]))]), .array([])])), weight)
        case "spotClearinghouseState":
            return (.json(.object([("balances", .array([]))])), weight)
        case "perpDexs":
            return (.json(.array([.null])), weight)
        case "exchangeStatus":
            return (.json(.object([("time", .ms(now)), ("specialStatuses", .null)])), weight)
        case "allMids":
            return (.json(allMids()), weight)
        case "l2Book":
            guard let coin = request["coin"]?.stringValue, let asset = assetIndex[coin] else { return (.json(.null), weight) }
            let figures = request["nSigFigs"]?.int64Value.map(Int.init)
            return (.json(l2Book(asset: asset, nSigFigs: figures, now: now)), weight)
        case "clearinghouseState":
            guard let user = user() else { return badUser() }
            return (.json(clearinghouseState(user, now: now)), weight)
        case "openOrders":
            guard let user = user() else { return badUser() }
            return (.json(.array(liveOrderList(user).map(openOrderWire))), weight)
        case "frontendOpenOrders":
            guard let user = user() else { return badUser() }
            return (.json(.array(liveOrderList(user).map(frontendOrderWire))), weight)
        case "historicalOrders":
            guard let user = user() else { return badUser() }
            let list = historicalOrders(user).prefix(2000).map { o -> WireValue in
                .object([
                    ("order", frontendOrderWire(o)), ("status", .string(o.status.rawValue)),
                    ("statusTimestamp", .ms(o.statusTimestamp)),
                ])
            }
            return (.json(.array(Array(list))), Self.infoWeight(type: type, items: list.count))
        case "userFills", "userFillsByTime":
            guard let user = user() else { return badUser() }
            var fills = accounts[user]?.fills ?? []
            if type == "userFillsByTime" {
                let start = request["startTime"]?.uint64Value ?? 0
                let end = request["endTime"]?.uint64Value ?? UInt64.max
                fills = fills.filter { $0.time >= start && $0.time <= end }
            }
            let list = Array(fills.reversed().prefix(2000))
            return (.json(.array(list.map(\.wire))), Self.infoWeight(type: type, items: list.count))
        case "userFunding":
            guard let user = user() else { return badUser() }
            let start = request["startTime"]?.uint64Value ?? 0
            let end = request["endTime"]?.uint64Value ?? UInt64.max
            let list = (accounts[user]?.fundings ?? []).filter { $0.time >= start && $0.time <= end }.prefix(500)
            return (.json(.array(list.map(\.wire))), Self.infoWeight(type: type, items: list.count))
        case "orderStatus":
            guard let user = user() else { return badUser() }
            var oid: UInt64?
            if let number = request["oid"]?.uint64Value {
                oid = number
            } else if let text = request["oid"]?.stringValue, let cloid = try? Cloid(hex: text) {
                oid = cloids[user, cloid]
            }
            guard let oid, let order = orders[oid], order.user == user else {
                return (.json(.object([("status", .string("unknownOid"))])), weight)
            }
            let body: WireValue = .object([
                ("status", .string("order")),
                (
                    "order",
                    .object([
                        ("order", frontendOrderWire(order)), ("status", .string(order.status.rawValue)),
                        ("statusTimestamp", .ms(order.statusTimestamp)),
                    ])
                ),
            ])
            return (.json(body), weight)
        case "candleSnapshot":
            guard let req = request["req"], let coin = req["coin"]?.stringValue, let asset = assetIndex[coin],
                let intervalName = req["interval"]?.stringValue, let interval = CandleHistory.intervals[intervalName]
            else { return (.text(VenueError.deserialize("req"), status: 422), weight) }
            let start = req["startTime"]?.uint64Value ?? 0
            let end = req["endTime"]?.uint64Value ?? now
            let bars = candles.snapshot(asset: asset, interval: interval, start: start, end: end).suffix(5000)
            let list: [WireValue] = bars.map { bar in
                .object([
                    ("t", .ms(bar.start)), ("T", .ms(bar.start + interval - 1)), ("s", .string(coin)),
                    ("i", .string(intervalName)), ("o", .decimal(bar.open)), ("c", .decimal(bar.close)),
                    ("h", .decimal(bar.high)), ("l", .decimal(bar.low)), ("v", .decimal(bar.volume)),
                    ("n", .integer(bar.trades)),
                ])
            }
            return (.json(.array(list)), Self.infoWeight(type: type, items: list.count))
        case "userRateLimit":
            guard let user = user() else { return badUser() }
            // As documented: nRequestsUsed = max(0, used − reserved), nRequestsSurplus = max(0, reserved − used);
            // paper accounts reserve no request weight, so the surplus is 0.
            let account = accounts[user]
            return (
                .json(
                    .object([
                        ("cumVlm", .usd(account?.cumVolume ?? 0)), ("nRequestsUsed", .integer(account?.requestsUsed ?? 0)),
                        ("nRequestsCap", .integer(requestCap(account))), ("nRequestsSurplus", .integer(0)),
                    ])), weight
            )
        case "userRole":
            guard let user = user() else { return badUser() }
            let role = agentOwner[user] != nil ? "agent" : (accounts[user] != nil ? "user" : "missing")
            return (.json(.object([("role", .string(role))])), weight)
        default:
            return (.text(VenueError.deserialize("unknown variant `\(type)`"), status: 422), weight)
        }
    }

    // MARK: Shapes

    func meta() -> WireValue {
        .object([
            (
                "universe",
                .array(
                    assets.map { a in
                        var entries: [(String, WireValue)] = [
                            ("szDecimals", .integer(a.szDecimals)), ("name", .string(a.name)),
                            ("maxLeverage", .integer(a.maxLeverage)),
                        ]
                        if a.onlyIsolated { entries.append(("onlyIsolated", .bool(true))) }
                        return .object(entries)
                    })
            )
        ])
    }

    func assetContext(_ asset: Int) -> WireValue {
        let market = markets[asset] ?? ExternalBook()
        let mark = self.mark(asset)
        var openInterest: Amount = 0
        for account in accounts.values {
            if let p = account.positions[asset], p.szi.isPositive { openInterest += p.szi }
        }
        let impact: WireValue =
            if let bid = market.bestBid, let ask = market.bestAsk { .array([.decimal(bid), .decimal(ask)]) } else { .null }
        return .object([
            ("funding", .decimal(config.fundingRatePerHour)), ("openInterest", .decimal(openInterest)),
            ("prevDayPx", mark.map { .decimal($0) } ?? .null), ("dayNtlVlm", .string("0.0")), ("premium", .string("0.0")),
            ("oraclePx", mark.map { .decimal(roundedMark($0, asset)) } ?? .null),
            ("markPx", mark.map { .decimal(roundedMark($0, asset)) } ?? .null),
            ("midPx", market.mid.map { .decimal($0) } ?? .null), ("impactPxs", impact), ("dayBaseVlm", .string("0.0")),
        ])
    }

    func roundedMark(_ px: Amount, _ asset: Int) -> Amount { AssetRules.roundPrice(px, spec: assets[asset], down: true) }

    public func allMids() -> WireValue {
        var entries: [(String, WireValue)] = []
        for (i, a) in assets.enumerated() {
            let (bid, ask) = bbo(i)
            if let bid, let ask {
                entries.append((a.name, .decimal((bid + ask) / 2)))
            } else if let mark = mark(i) {
                entries.append((a.name, .decimal(mark)))
            }
        }
        return .object(entries)
    }

    /// The merged book: external liquidity plus resting paper orders, 20 levels a side.
    public func l2Book(asset: Int, nSigFigs: Int?, now: UInt64) -> WireValue {
        let book = mergedBook(asset: asset, nSigFigs: nSigFigs, depth: 20)
        func wire(_ levels: [ExternalLevel]) -> WireValue {
            .array(levels.map { .object([("px", .decimal($0.px)), ("sz", .decimal($0.sz)), ("n", .integer($0.n))]) })
        }
        return .object([
            ("coin", .string(assets[asset].name)), ("time", .ms(now)), ("levels", .array([wire(book.bids), wire(book.asks)])),
        ])
    }

    /// The merged book of `asset`, best first, at most `depth` prices a side: the external levels and
    /// our resting orders, each price once with its sizes and order counts summed. `nSigFigs` (2…5)
    /// aggregates prices to that many significant figures, bids down and asks up, as `l2Book` does.
    /// Both inputs are kept best first, so this is one merge, not a sort.
    public func mergedBook(asset: Int, nSigFigs: Int? = nil, depth: Int) -> (bids: [ExternalLevel], asks: [ExternalLevel]) {
        let market = markets[asset] ?? ExternalBook()
        func merge(_ external: [ExternalLevel], _ paper: [UInt64], isBid: Bool) -> [ExternalLevel] {
            func key(_ px: Amount) -> Amount {
                guard let figures = nSigFigs, (2...5).contains(figures) else { return px }
                return AssetRules.roundSignificant(px, figures: figures, down: isBid)
            }
            func better(_ a: Amount, _ b: Amount) -> Bool { isBid ? a > b : a < b }
            var out: [ExternalLevel] = []
            func add(_ px: Amount, _ sz: Amount, _ n: Int) {
                let price = key(px)
                if let last = out.last, last.px == price {
                    out[out.count - 1].sz += sz
                    out[out.count - 1].n += n
                } else {
                    out.append(ExternalLevel(px: price, sz: sz, n: n))
                }
            }
            var i = 0
            var j = 0
            // One level past `depth` is begun before stopping, so the last price kept is whole.
            while out.count <= depth {
                let own = j < paper.count ? orders[paper[j]] : nil
                if j < paper.count && own == nil {
                    j += 1
                    continue
                }
                if let own, i >= external.count || better(own.limitPx, external[i].px) || own.limitPx == external[i].px {
                    add(own.limitPx, own.sz, 1)
                    j += 1
                } else if i < external.count {
                    add(external[i].px, external[i].sz, external[i].n)
                    i += 1
                } else {
                    break
                }
            }
            return Array(out.prefix(depth))
        }
        return (
            merge(market.bids, restingBids[asset] ?? [], isBid: true), merge(market.asks, restingAsks[asset] ?? [], isBid: false)
        )
    }

    /// Live orders, newest first. normalTpsl children still waiting for their parent to fill are not
    /// on the book yet: they show only in their parent's `children`.
    func liveOrderList(_ user: Address) -> [SimOrder] {
        (liveOrders[user] ?? []).compactMap { orders[$0] }.filter { $0.parentOid == nil }.sorted { $0.oid > $1.oid }
    }

    /// Every order of `user` the venue remembers (live, finished and refused), latest change first.
    func historicalOrders(_ user: Address) -> [SimOrder] {
        orders.values.filter { $0.user == user }.sorted {
            $0.statusTimestamp != $1.statusTimestamp ? $0.statusTimestamp > $1.statusTimestamp : $0.oid > $1.oid
        }
    }

    func openOrderWire(_ o: SimOrder) -> WireValue {
        var entries: [(String, WireValue)] = [
            ("coin", .string(o.coin)), ("side", .string(o.side)), ("limitPx", .decimal(o.limitPx)), ("sz", .decimal(o.sz)),
            ("oid", .integer(o.oid)), ("timestamp", .ms(o.timestamp)), ("origSz", .decimal(o.origSz)),
        ]
        if let cloid = o.cloid { entries.append(("cloid", .string(cloid.rawValue))) }
        return .object(entries)
    }

    func frontendOrderWire(_ o: SimOrder) -> WireValue {
        let children = o.status.isLive ? childrenWaiting(on: o.oid).compactMap { orders[$0] } : []
        return .object([
            ("coin", .string(o.coin)), ("side", .string(o.side)), ("limitPx", .decimal(o.limitPx)), ("sz", .decimal(o.sz)),
            ("oid", .integer(o.oid)), ("timestamp", .ms(o.timestamp)), ("triggerCondition", .string(o.triggerCondition)),
            ("isTrigger", .bool(o.kind.isTrigger)), ("triggerPx", .decimal(o.triggerPx ?? 0)),
            ("children", .array(children.map(frontendOrderWire))),
            ("isPositionTpsl", .bool(o.isPositionTpsl)), ("reduceOnly", .bool(o.reduceOnly)),
            ("orderType", .string(o.orderTypeName)), ("origSz", .decimal(o.origSz)),
            ("tif", o.tif.map { .string($0) } ?? .null), ("cloid", o.cloid.map { .string($0.rawValue) } ?? .null),
        ])
    }

    /// clearinghouseState. Isolated positions are reported as isolated (with rawUsd), with their own
    /// margin and liquidation price, and left out of crossMarginSummary.
    func clearinghouseState(_ user: Address, now: UInt64) -> WireValue {
        guard let account = accounts[user] else {
            let zero: WireValue = .object([
                ("accountValue", .string("0.0")), ("totalNtlPos", .string("0.0")), ("totalRawUsd", .string("0.0")),
                ("totalMarginUsed", .string("0.0")),
            ])
            return .object([
                ("marginSummary", zero), ("crossMarginSummary", zero), ("crossMaintenanceMarginUsed", .string("0.0")),
                ("withdrawable", .string("0.0")), ("assetPositions", .array([])), ("time", .ms(now)),
            ])
        }
        var positions: [WireValue] = []
        var totalNtl: Amount = 0
        var totalMargin: Amount = 0
        var crossNtl: Amount = 0
        var crossMargin: Amount = 0
        var crossMaintenance: Amount = 0
        var signedNtl: Amount = 0
        var crossSignedNtl: Amount = 0
        for asset in account.positions.keys.sorted() {
            guard let p = account.positions[asset], !p.szi.isZero else { continue }
            let spec = assets[asset]
            let px = mark(asset) ?? p.entryPx
            let setting = leverage(user, asset)
            let lev = Amount(setting.leverage)
            let value = p.szi.magnitude * px
            let pnl = p.szi * (px - p.entryPx)
            // An isolated position holds its own margin (with its unrealised P&L); a cross one, notional ÷ leverage.
            let margin = setting.isCross ? value / lev : p.isolatedMargin + pnl
            let roe = p.entryPx.isZero ? Amount.zero : pnl / (p.szi.magnitude * p.entryPx / lev)
            totalNtl += value
            totalMargin += margin
            signedNtl += p.szi * px
            if setting.isCross {
                crossNtl += value
                crossMargin += margin
                crossMaintenance += value / Amount(2 * spec.maxLeverage)
                crossSignedNtl += p.szi * px
            }
            var leverageEntries: [(String, WireValue)] = [
                ("type", .string(setting.isCross ? "cross" : "isolated")), ("value", .integer(setting.leverage)),
            ]
            if !setting.isCross { leverageEntries.append(("rawUsd", .usd(p.isolatedMargin - p.szi * p.entryPx))) }
            positions.append(
                .object([
                    ("type", .string("oneWay")),
                    (
                        "position",
                        .object([
                            ("coin", .string(spec.name)), ("szi", .decimal(p.szi)), ("leverage", .object(leverageEntries)),
                            ("entryPx", .decimal(p.entryPx.rounded(scale: 8, .plain))), ("positionValue", .usd(value)),
                            ("unrealizedPnl", .usd(pnl)), ("returnOnEquity", .decimal(roe.rounded(scale: 8, .plain))),
                            ("liquidationPx", liquidationPrice(account, asset: asset).map { .decimal(roundedMark($0, asset)) } ?? .null),
                            ("marginUsed", .usd(margin)), ("maxLeverage", .integer(spec.maxLeverage)),
                            (
                                "cumFunding",
                                .object([
                                    ("allTime", .usd(p.cumFundingAllTime)), ("sinceOpen", .usd(p.cumFundingSinceOpen)),
                                    ("sinceChange", .usd(p.cumFundingSinceChange)),
                                ])
                            ),
                        ])
                    ),
                ]))
        }
        let value = accountValue(account)
        let crossValue = crossAccountValue(account)
        let withdrawable = Amount.max(availableMargin(account), 0)
        func summary(_ v: Amount, _ ntl: Amount, _ signed: Amount, _ margin: Amount) -> WireValue {
            .object([
                ("accountValue", .usd(v)), ("totalNtlPos", .usd(ntl)), ("totalRawUsd", .usd(v - signed)),
                ("totalMarginUsed", .usd(margin)),
            ])
        }
        return .object([
            ("marginSummary", summary(value, totalNtl, signedNtl, totalMargin)),
            ("crossMarginSummary", summary(crossValue, crossNtl, crossSignedNtl, crossMargin)),
            ("crossMaintenanceMarginUsed", .usd(crossMaintenance)), ("withdrawable", .usd(withdrawable)),
            ("assetPositions", .array(positions)), ("time", .ms(now)),
        ])
    }
}
