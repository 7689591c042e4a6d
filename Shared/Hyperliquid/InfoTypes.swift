import Market
import Schema

// Decoded `/info` answers. Prices, sizes and money are exact decimals (`Amount`), times are Unix
// milliseconds as the exchange sends them. Unknown fields are ignored; missing documented ones are a
// `HyperliquidClientError.malformedResponse`.

/// One perpetual of `meta.universe`; its position there is its asset index.
public struct PerpAssetInfo: Sendable, Hashable {
    public var name: String
    public var szDecimals: Int
    public var maxLeverage: Int
    public var onlyIsolated: Bool
    public var isDelisted: Bool

    public init(name: String, szDecimals: Int, maxLeverage: Int, onlyIsolated: Bool = false, isDelisted: Bool = false) {
        self.name = name
        self.szDecimals = szDecimals
        self.maxLeverage = maxLeverage
        self.onlyIsolated = onlyIsolated
        self.isDelisted = isDelisted
    }

    /// The venue's price and size rules for this asset.
    public var instrument: Instrument {
        Instrument(symbol: name, szDecimals: szDecimals, isPerp: true, maxLeverage: maxLeverage)
    }
}

/// `meta`: the perpetuals universe.
public struct PerpMeta: Sendable, Hashable {
    public var universe: [PerpAssetInfo]
    public init(universe: [PerpAssetInfo]) { self.universe = universe }
}

/// One entry of the second element of `metaAndAssetCtxs`, in universe order.
public struct PerpAssetContext: Sendable, Hashable {
    public var funding: Amount
    public var openInterest: Amount
    public var prevDayPx: Amount?
    public var dayNtlVlm: Amount?
    public var premium: Amount?
    public var oraclePx: Amount?
    public var markPx: Amount?
    public var midPx: Amount?
    /// [impact bid, impact ask] when the book is deep enough.
    public var impactPxs: [Amount]?
    public var dayBaseVlm: Amount?

    public init(
        funding: Amount, openInterest: Amount, prevDayPx: Amount? = nil, dayNtlVlm: Amount? = nil,
        premium: Amount? = nil, oraclePx: Amount? = nil, markPx: Amount? = nil, midPx: Amount? = nil,
        impactPxs: [Amount]? = nil, dayBaseVlm: Amount? = nil
    ) {
        self.funding = funding
        self.openInterest = openInterest
        self.prevDayPx = prevDayPx
        self.dayNtlVlm = dayNtlVlm
        self.premium = premium
        self.oraclePx = oraclePx
        self.markPx = markPx
        self.midPx = midPx
        self.impactPxs = impactPxs
        self.dayBaseVlm = dayBaseVlm
    }
}

/// `marginSummary` / `crossMarginSummary`.
public struct MarginSummary: Sendable, Hashable {
    public var accountValue: Amount
    public var totalNtlPos: Amount
    public var totalRawUsd: Amount
    public var totalMarginUsed: Amount

    public init(
        accountValue: Amount, totalNtlPos: Amount, totalRawUsd: Amount, totalMarginUsed: Amount
    ) {
        self.accountValue = accountValue
        self.totalNtlPos = totalNtlPos
        self.totalRawUsd = totalRawUsd
        self.totalMarginUsed = totalMarginUsed
    }
}

public struct PositionLeverage: Sendable, Hashable {
    /// "cross" or "isolated".
    public var type: String
    public var value: Int
    /// Isolated positions only.
    public var rawUsd: Amount?

    public var isCross: Bool { type == "cross" }

    public init(
        type: String, value: Int, rawUsd: Amount? = nil
    ) {
        self.type = type
        self.value = value
        self.rawUsd = rawUsd
    }
}

public struct CumulativeFunding: Sendable, Hashable {
    public var allTime: Amount
    public var sinceOpen: Amount
    public var sinceChange: Amount

    public init(
        allTime: Amount, sinceOpen: Amount, sinceChange: Amount
    ) {
        self.allTime = allTime
        self.sinceOpen = sinceOpen
        self.sinceChange = sinceChange
    }
}

/// One `assetPositions[].position` (its `type`, "oneWay", in `positionType`).
public struct PerpPosition: Sendable, Hashable {
    public var coin: String
    /// Signed size: positive long, negative short.
    public var szi: Amount
    public var leverage: PositionLeverage
    public var entryPx: Amount?
    public var positionValue: Amount
    public var unrealizedPnl: Amount
    public var returnOnEquity: Amount
    public var liquidationPx: Amount?
    public var marginUsed: Amount
    public var maxLeverage: Int?
    public var cumFunding: CumulativeFunding?
    public var positionType: String

    public init(
        coin: String, szi: Amount, leverage: PositionLeverage, entryPx: Amount? = nil, positionValue: Amount,
        unrealizedPnl: Amount, returnOnEquity: Amount, liquidationPx: Amount? = nil, marginUsed: Amount,
        maxLeverage: Int? = nil, cumFunding: CumulativeFunding? = nil, positionType: String
    ) {
        self.coin = coin
        self.szi = szi
        self.leverage = leverage
        self.entryPx = entryPx
        self.positionValue = positionValue
        self.unrealizedPnl = unrealizedPnl
        self.returnOnEquity = returnOnEquity
        self.liquidationPx = liquidationPx
        self.marginUsed = marginUsed
        self.maxLeverage = maxLeverage
        self.cumFunding = cumFunding
        self.positionType = positionType
    }
}

/// `clearinghouseState`: a user's perp account.
public struct ClearinghouseState: Sendable, Hashable {
    public var marginSummary: MarginSummary
    public var crossMarginSummary: MarginSummary
    public var crossMaintenanceMarginUsed: Amount
    public var withdrawable: Amount
    public var assetPositions: [PerpPosition]
    public var time: UInt64

    public init(
        marginSummary: MarginSummary, crossMarginSummary: MarginSummary, crossMaintenanceMarginUsed: Amount,
        withdrawable: Amount, assetPositions: [PerpPosition], time: UInt64
    ) {
        self.marginSummary = marginSummary
        self.crossMarginSummary = crossMarginSummary
        self.crossMaintenanceMarginUsed = crossMaintenanceMarginUsed
        self.withdrawable = withdrawable
        self.assetPositions = assetPositions
        self.time = time
    }

    public func position(_ coin: String) -> PerpPosition? { assetPositions.first { $0.coin == coin } }
}

/// One `openOrders` entry; also the `order` of an `orderUpdates` event.
public struct OpenOrderInfo: Sendable, Hashable {
    public var coin: String
    public var side: Side
    public var limitPx: Amount
    /// What remains.
    public var sz: Amount
    public var oid: UInt64
    public var timestamp: UInt64
    public var origSz: Amount?
    public var cloid: Cloid?

    public init(
        coin: String, side: Side, limitPx: Amount, sz: Amount, oid: UInt64, timestamp: UInt64, origSz: Amount? = nil,
        cloid: Cloid? = nil
    ) {
        self.coin = coin
        self.side = side
        self.limitPx = limitPx
        self.sz = sz
        self.oid = oid
        self.timestamp = timestamp
        self.origSz = origSz
        self.cloid = cloid
    }
}

/// A `frontendOpenOrders` entry, and the order inside an `orderStatus` answer.
public struct FrontendOrder: Sendable, Hashable {
    public var coin: String
    public var side: Side
    public var limitPx: Amount
    public var sz: Amount
    public var oid: UInt64
    public var timestamp: UInt64
    public var triggerCondition: String
    public var isTrigger: Bool
    public var triggerPx: Amount
    public var isPositionTpsl: Bool
    public var reduceOnly: Bool
    /// "Limit", "Stop Market", "Take Profit Limit", …
    public var orderType: String
    public var origSz: Amount
    /// "Gtc", "Ioc", "Alo"; nil for triggers.
    public var tif: String?
    public var cloid: Cloid?

    public init(
        coin: String, side: Side, limitPx: Amount, sz: Amount, oid: UInt64, timestamp: UInt64, triggerCondition: String,
        isTrigger: Bool, triggerPx: Amount, isPositionTpsl: Bool, reduceOnly: Bool, orderType: String, origSz: Amount,
        tif: String? = nil, cloid: Cloid? = nil
    ) {
        self.coin = coin
        self.side = side
        self.limitPx = limitPx
        self.sz = sz
        self.oid = oid
        self.timestamp = timestamp
        self.triggerCondition = triggerCondition
        self.isTrigger = isTrigger
        self.triggerPx = triggerPx
        self.isPositionTpsl = isPositionTpsl
        self.reduceOnly = reduceOnly
        self.orderType = orderType
        self.origSz = origSz
        self.tif = tif
        self.cloid = cloid
    }
}

/// An order's lifecycle state as `orderStatus` and `orderUpdates` name it. An open set: unknown names
/// are kept.
public struct OrderState: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let open = OrderState(rawValue: "open")
    public static let filled = OrderState(rawValue: "filled")
    public static let canceled = OrderState(rawValue: "canceled")
    public static let triggered = OrderState(rawValue: "triggered")
    public static let rejected = OrderState(rawValue: "rejected")
    public static let marginCanceled = OrderState(rawValue: "marginCanceled")
    public static let reduceOnlyCanceled = OrderState(rawValue: "reduceOnlyCanceled")
    public static let selfTradeCanceled = OrderState(rawValue: "selfTradeCanceled")
    public static let scheduledCancel = OrderState(rawValue: "scheduledCancel")
    public static let siblingFilledCanceled = OrderState(rawValue: "siblingFilledCanceled")
    public static let liquidatedCanceled = OrderState(rawValue: "liquidatedCanceled")
    // Refused at placement (the order's `{"error": …}` status names the reason in words).
    public static let tickRejected = OrderState(rawValue: "tickRejected")
    public static let minTradeNtlRejected = OrderState(rawValue: "minTradeNtlRejected")
    public static let perpMarginRejected = OrderState(rawValue: "perpMarginRejected")
    public static let reduceOnlyRejected = OrderState(rawValue: "reduceOnlyRejected")
    public static let badAloPxRejected = OrderState(rawValue: "badAloPxRejected")
    public static let iocCancelRejected = OrderState(rawValue: "iocCancelRejected")
    public static let badTriggerPxRejected = OrderState(rawValue: "badTriggerPxRejected")
    public static let marketOrderNoLiquidityRejected = OrderState(rawValue: "marketOrderNoLiquidityRejected")

    /// Still on the book (or waiting for its trigger).
    public var isLive: Bool { self == .open || self == .triggered }

    /// Never got on the book: `rejected` or a `…Rejected` reason.
    public var isRejected: Bool { self == .rejected || rawValue.hasSuffix("Rejected") }
}

/// `orderStatus` by oid or cloid.
public enum OrderStatusResponse: Sendable, Hashable {
    case order(FrontendOrder, status: OrderState, statusTimestamp: UInt64)
    /// The exchange knows no such order for this user.
    case unknownOid

    public var order: FrontendOrder? { if case .order(let o, _, _) = self { o } else { nil } }
    public var status: OrderState? { if case .order(_, let s, _) = self { s } else { nil } }
}

/// One fill of `userFills` / `userFillsByTime` and of the `userFills` stream.
public struct UserFill: Sendable, Hashable {
    public var coin: String
    public var px: Amount
    public var sz: Amount
    public var side: Side
    public var time: UInt64
    public var startPosition: Amount
    /// "Open Long", "Close Short", "Long > Short", …
    public var dir: String
    public var closedPnl: Amount
    public var hash: String
    public var oid: UInt64
    /// true when this fill took liquidity.
    public var crossed: Bool
    public var fee: Amount
    public var tid: UInt64
    public var feeToken: String?
    public var cloid: Cloid?
    public var builderFee: Amount?
    /// Present when the venue closed the position because the account fell below maintenance margin.
    public var liquidation: Liquidation?

    /// `liquidation` of a fill: whose account, at what mark, by which method ("market" or "backstop").
    public struct Liquidation: Sendable, Hashable {
        public var liquidatedUser: Address?
        public var markPx: Amount
        public var method: String

        public init(liquidatedUser: Address?, markPx: Amount, method: String) {
            self.liquidatedUser = liquidatedUser
            self.markPx = markPx
            self.method = method
        }
    }

    public init(
        coin: String, px: Amount, sz: Amount, side: Side, time: UInt64, startPosition: Amount, dir: String,
        closedPnl: Amount, hash: String, oid: UInt64, crossed: Bool, fee: Amount, tid: UInt64, feeToken: String? = nil,
        cloid: Cloid? = nil, builderFee: Amount? = nil, liquidation: Liquidation? = nil
    ) {
        self.liquidation = liquidation
        self.coin = coin
        self.px = px
        self.sz = sz
        self.side = side
        self.time = time
        self.startPosition = startPosition
        self.dir = dir
        self.closedPnl = closedPnl
        self.hash = hash
        self.oid = oid
        self.crossed = crossed
        self.fee = fee
        self.tid = tid
        self.feeToken = feeToken
        self.cloid = cloid
        self.builderFee = builderFee
    }
}

/// One funding payment of `userFunding`: `usdc` is what the account received (negative: it paid;
/// longs pay when `fundingRate` is positive).
public struct UserFunding: Sendable, Hashable {
    public var time: UInt64
    public var hash: String
    public var coin: String
    public var usdc: Amount
    /// The signed position the payment was computed on.
    public var szi: Amount
    public var fundingRate: Amount
    public var nSamples: Int?

    public init(
        time: UInt64, hash: String, coin: String, usdc: Amount, szi: Amount, fundingRate: Amount, nSamples: Int? = nil
    ) {
        self.time = time
        self.hash = hash
        self.coin = coin
        self.usdc = usdc
        self.szi = szi
        self.fundingRate = fundingRate
        self.nSamples = nSamples
    }
}

/// One `candleSnapshot` bar.
public struct ExchangeCandle: Sendable, Hashable {
    /// Open and close time (`t`, `T`).
    public var openTime: UInt64
    public var closeTime: UInt64
    public var coin: String
    public var interval: String
    public var open: Amount
    public var close: Amount
    public var high: Amount
    public var low: Amount
    /// Base volume (`v`).
    public var volume: Amount
    /// Number of trades (`n`).
    public var trades: Int

    public init(
        openTime: UInt64, closeTime: UInt64, coin: String, interval: String, open: Amount, close: Amount, high: Amount,
        low: Amount, volume: Amount, trades: Int
    ) {
        self.openTime = openTime
        self.closeTime = closeTime
        self.coin = coin
        self.interval = interval
        self.open = open
        self.close = close
        self.high = high
        self.low = low
        self.volume = volume
        self.trades = trades
    }
}

/// Candle intervals `candleSnapshot` accepts.
public enum CandleInterval: String, Sendable, CaseIterable {
    case m1 = "1m"
    case m3 = "3m"
    case m5 = "5m"
    case m15 = "15m"
    case m30 = "30m"
    case h1 = "1h"
    case h2 = "2h"
    case h4 = "4h"
    case h8 = "8h"
    case h12 = "12h"
    case d1 = "1d"
    case d3 = "3d"
    case w1 = "1w"
    case month1 = "1M"
}

// MARK: Decoding

/// Decoders of each `/info` answer from its body bytes; public so callers (and tests) can decode
/// captured responses without a client.
/// The address-based request budget (`userRateLimit`): requests allowed are 10,000 plus one per USDC
/// traded; past the cap the exchange allows one request per 10 s.
public struct UserRateLimit: Sendable, Hashable {
    public var cumulativeVolume: Amount
    public var requestsUsed: Int
    public var requestsCap: Int
    /// Requests the exchange allows past the cap (`nRequestsSurplus`), nil when it does not say.
    public var requestsSurplus: Int?

    public init(cumulativeVolume: Amount, requestsUsed: Int, requestsCap: Int, requestsSurplus: Int? = nil) {
        self.cumulativeVolume = cumulativeVolume
        self.requestsUsed = requestsUsed
        self.requestsCap = requestsCap
        self.requestsSurplus = requestsSurplus
    }
}

public enum InfoDecoding {
    public static func userRateLimit(_ body: some Collection<UInt8>) throws(HyperliquidClientError) -> UserRateLimit {
        let r = try ResponseReader(json: body, what: "userRateLimit")
        return UserRateLimit(
            cumulativeVolume: try r.amount("cumVlm"), requestsUsed: try r.int("nRequestsUsed"),
            requestsCap: try r.int("nRequestsCap"), requestsSurplus: try r.optionalField("nRequestsSurplus")?.int())
    }

    public static func meta(_ body: some Collection<UInt8>) throws(HyperliquidClientError) -> PerpMeta {
        try meta(ResponseReader(json: body, what: "meta"))
    }

    static func meta(_ r: ResponseReader) throws(HyperliquidClientError) -> PerpMeta {
        var universe: [PerpAssetInfo] = []
        for a in try r.field("universe").array() {
            universe.append(
                PerpAssetInfo(
                    name: try a.string("name"), szDecimals: try a.int("szDecimals"),
                    maxLeverage: try a.int("maxLeverage"),
                    onlyIsolated: try a.optionalBool("onlyIsolated") ?? false,
                    isDelisted: try a.optionalBool("isDelisted") ?? false))
        }
        for asset in universe where !(0...8).contains(asset.szDecimals) {
            throw .malformedResponse("meta: \(asset.name) has szDecimals \(asset.szDecimals)")
        }
        return PerpMeta(universe: universe)
    }

    public static func metaAndAssetCtxs(_ body: some Collection<UInt8>) throws(HyperliquidClientError) -> (
        PerpMeta, [PerpAssetContext]
    ) {
        let r = try ResponseReader(json: body, what: "metaAndAssetCtxs")
        let parts = try r.array()
        guard parts.count == 2 else { throw r.fail("expected [meta, contexts], got \(parts.count) elements") }
        let meta = try meta(parts[0])
        var contexts: [PerpAssetContext] = []
        for c in try parts[1].array() {
            contexts.append(
                PerpAssetContext(
                    funding: try c.amount("funding"), openInterest: try c.amount("openInterest"),
                    prevDayPx: try c.optionalAmount("prevDayPx"), dayNtlVlm: try c.optionalAmount("dayNtlVlm"),
                    premium: try c.optionalAmount("premium"), oraclePx: try c.optionalAmount("oraclePx"),
                    markPx: try c.optionalAmount("markPx"), midPx: try c.optionalAmount("midPx"),
                    impactPxs: try c.optionalField("impactPxs").map { (list) throws(HyperliquidClientError) in
                        var out: [Amount] = []
                        for p in try list.array() { out.append(try p.amount()) }
                        return out
                    },
                    dayBaseVlm: try c.optionalAmount("dayBaseVlm")))
        }
        guard contexts.count == meta.universe.count else {
            throw .malformedResponse(
                "metaAndAssetCtxs: \(contexts.count) contexts for \(meta.universe.count) assets")
        }
        return (meta, contexts)
    }

    public static func allMids(_ body: some Collection<UInt8>) throws(HyperliquidClientError) -> [String: Amount] {
        try mids(ResponseReader(json: body, what: "allMids"))
    }

    static func mids(_ r: ResponseReader) throws(HyperliquidClientError) -> [String: Amount] {
        var out: [String: Amount] = [:]
        for (coin, px) in try r.members() { out[coin] = try px.amount() }
        return out
    }

    /// `l2Book`: the same shape as the websocket channel's data, read by the Market library's decoder.
    /// `null` (unknown coin) is nil.
    public static func l2Book(_ body: some Collection<UInt8>) throws(HyperliquidClientError) -> HyperliquidBook? {
        let r = try ResponseReader(json: body, what: "l2Book")
        if r.isNull { return nil }
        var frame = Array("{\"channel\":\"l2Book\",\"data\":".utf8)
        frame += body
        frame.append(UInt8(ascii: "}"))
        do {
            guard case .l2Book(let book) = try HyperliquidMessageDecoder().decode(frame) else {
                throw HyperliquidClientError.malformedResponse("l2Book: not a book")
            }
            return book
        } catch let error as HyperliquidClientError {
            throw error
        } catch {
            throw .malformedResponse("l2Book: \(error)")
        }
    }

    public static func clearinghouseState(_ body: some Collection<UInt8>) throws(HyperliquidClientError)
        -> ClearinghouseState
    {
        let r = try ResponseReader(json: body, what: "clearinghouseState")
        func summary(_ s: ResponseReader) throws(HyperliquidClientError) -> MarginSummary {
            MarginSummary(
                accountValue: try s.amount("accountValue"), totalNtlPos: try s.amount("totalNtlPos"),
                totalRawUsd: try s.amount("totalRawUsd"), totalMarginUsed: try s.amount("totalMarginUsed"))
        }
        var positions: [PerpPosition] = []
        for entry in try r.field("assetPositions").array() {
            let p = try entry.field("position")
            let lev = try p.field("leverage")
            let funding = try p.optionalField("cumFunding").map { (f) throws(HyperliquidClientError) in
                CumulativeFunding(
                    allTime: try f.amount("allTime"), sinceOpen: try f.amount("sinceOpen"),
                    sinceChange: try f.amount("sinceChange"))
            }
            positions.append(
                PerpPosition(
                    coin: try p.string("coin"), szi: try p.amount("szi"),
                    leverage: PositionLeverage(
                        type: try lev.string("type"), value: try lev.int("value"),
                        rawUsd: try lev.optionalAmount("rawUsd")),
                    entryPx: try p.optionalAmount("entryPx"), positionValue: try p.amount("positionValue"),
                    unrealizedPnl: try p.amount("unrealizedPnl"), returnOnEquity: try p.amount("returnOnEquity"),
                    liquidationPx: try p.optionalAmount("liquidationPx"), marginUsed: try p.amount("marginUsed"),
                    maxLeverage: try p.optionalInt("maxLeverage"), cumFunding: funding,
                    positionType: try entry.optionalString("type") ?? "oneWay"))
        }
        return ClearinghouseState(
            marginSummary: try summary(r.field("marginSummary")),
            crossMarginSummary: try summary(r.field("crossMarginSummary")),
            crossMaintenanceMarginUsed: try r.optionalAmount("crossMaintenanceMarginUsed") ?? .zero,
            withdrawable: try r.amount("withdrawable"), assetPositions: positions,
            time: try r.optionalField("time")?.uint64() ?? 0)
    }

    public static func openOrders(_ body: some Collection<UInt8>) throws(HyperliquidClientError) -> [OpenOrderInfo] {
        var out: [OpenOrderInfo] = []
        for o in try ResponseReader(json: body, what: "openOrders").array() { out.append(try openOrder(o)) }
        return out
    }

    static func openOrder(_ o: ResponseReader) throws(HyperliquidClientError) -> OpenOrderInfo {
        OpenOrderInfo(
            coin: try o.string("coin"), side: try o.side("side"), limitPx: try o.amount("limitPx"),
            sz: try o.amount("sz"),
            oid: try o.uint64("oid"), timestamp: try o.uint64("timestamp"), origSz: try o.optionalAmount("origSz"),
            cloid: try o.optionalCloid("cloid"))
    }

    static func frontendOrder(_ o: ResponseReader) throws(HyperliquidClientError) -> FrontendOrder {
        let sz = try o.amount("sz")
        return FrontendOrder(
            coin: try o.string("coin"), side: try o.side("side"), limitPx: try o.amount("limitPx"), sz: sz,
            oid: try o.uint64("oid"), timestamp: try o.uint64("timestamp"),
            triggerCondition: try o.optionalString("triggerCondition") ?? "N/A",
            isTrigger: try o.optionalBool("isTrigger") ?? false, triggerPx: try o.optionalAmount("triggerPx") ?? .zero,
            isPositionTpsl: try o.optionalBool("isPositionTpsl") ?? false,
            reduceOnly: try o.optionalBool("reduceOnly") ?? false,
            orderType: try o.optionalString("orderType") ?? "Limit",
            origSz: try o.optionalAmount("origSz") ?? sz, tif: try o.optionalString("tif"),
            cloid: try o.optionalCloid("cloid"))
    }

    public static func orderStatus(_ body: some Collection<UInt8>) throws(HyperliquidClientError)
        -> OrderStatusResponse
    {
        let r = try ResponseReader(json: body, what: "orderStatus")
        switch try r.string("status") {
        case "unknownOid":
            return .unknownOid
        case "order":
            let entry = try r.field("order")
            return .order(
                try frontendOrder(entry.field("order")), status: OrderState(rawValue: try entry.string("status")),
                statusTimestamp: try entry.uint64("statusTimestamp"))
        case let other:
            throw r.fail("unknown status \"\(other.prefix(40))\"")
        }
    }

    public static func userFills(_ body: some Collection<UInt8>) throws(HyperliquidClientError) -> [UserFill] {
        try fills(ResponseReader(json: body, what: "userFills"))
    }

    static func fills(_ r: ResponseReader) throws(HyperliquidClientError) -> [UserFill] {
        var out: [UserFill] = []
        for f in try r.array() {
            out.append(
                UserFill(
                    coin: try f.string("coin"), px: try f.amount("px"), sz: try f.amount("sz"),
                    side: try f.side("side"),
                    time: try f.uint64("time"), startPosition: try f.amount("startPosition"), dir: try f.string("dir"),
                    closedPnl: try f.amount("closedPnl"), hash: try f.string("hash"), oid: try f.uint64("oid"),
                    crossed: try f.bool("crossed"), fee: try f.amount("fee"), tid: try f.uint64("tid"),
                    feeToken: try f.optionalString("feeToken"), cloid: try f.optionalCloid("cloid"),
                    builderFee: try f.optionalAmount("builderFee"),
                    liquidation: try f.optionalField("liquidation").map { l throws(HyperliquidClientError) in
                        UserFill.Liquidation(
                            liquidatedUser: try l.optionalField("liquidatedUser")?.address(),
                            markPx: try l.amount("markPx"), method: try l.string("method"))
                    }))
        }
        return out
    }

    /// `[{"time","hash","delta":{"type":"funding","coin","usdc","szi","fundingRate","nSamples"}}]`; other
    /// delta types are skipped.
    public static func userFunding(_ body: some Collection<UInt8>) throws(HyperliquidClientError) -> [UserFunding] {
        var out: [UserFunding] = []
        for entry in try ResponseReader(json: body, what: "userFunding").array() {
            let delta = try entry.field("delta")
            guard try delta.string("type") == "funding" else { continue }
            out.append(
                UserFunding(
                    time: try entry.uint64("time"), hash: try entry.string("hash"), coin: try delta.string("coin"),
                    usdc: try delta.amount("usdc"), szi: try delta.amount("szi"),
                    fundingRate: try delta.amount("fundingRate"), nSamples: try delta.optionalInt("nSamples")))
        }
        return out
    }

    public static func candles(_ body: some Collection<UInt8>) throws(HyperliquidClientError) -> [ExchangeCandle] {
        var out: [ExchangeCandle] = []
        for c in try ResponseReader(json: body, what: "candleSnapshot").array() {
            out.append(
                ExchangeCandle(
                    openTime: try c.uint64("t"), closeTime: try c.uint64("T"), coin: try c.string("s"),
                    interval: try c.string("i"), open: try c.amount("o"), close: try c.amount("c"),
                    high: try c.amount("h"),
                    low: try c.amount("l"), volume: try c.amount("v"), trades: try c.int("n")))
        }
        return out
    }
}
