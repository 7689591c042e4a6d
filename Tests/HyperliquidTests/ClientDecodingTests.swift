import Foundation
import Hyperliquid
import Market
import Schema
import Testing

/// Decoding of `/info`, `/exchange` and `/ws` answers from the exact shapes in Hyperliquid's docs
/// (comments stripped: the docs annotate their JSON), and of malformed bodies: always a typed error.
struct ClientDecodingTests {
    static func bytes(_ json: String) -> [UInt8] { Array(json.utf8) }

    // MARK: /info, docs examples

    @Test func metaFromDocs() throws {
        let meta = try InfoDecoding.meta(
            Self.bytes(
                #"""
                {"universe":[{"name":"BTC","szDecimals":5,"maxLeverage":50},{"name":"ETH","szDecimals":4,"maxLeverage":50},
                {"name":"HPOS","szDecimals":0,"maxLeverage":3,"onlyIsolated":true},
                {"name":"LOOM","szDecimals":1,"maxLeverage":3,"isDelisted":true,"marginMode":"strictIsolated","onlyIsolated":true}],
                "marginTables":[[50,{"description":"","marginTiers":[{"lowerBound":"0.0","maxLeverage":50}]}]]}
                """#))
        #expect(meta.universe.map(\.name) == ["BTC", "ETH", "HPOS", "LOOM"])
        #expect(meta.universe[2].onlyIsolated && !meta.universe[2].isDelisted)
        #expect(meta.universe[3].isDelisted)
        let assets = AssetDirectory(meta: meta)
        #expect(assets.index(of: "ETH") == 1)
        #expect(assets.coin(at: 2) == "HPOS")
        #expect(assets.index(of: "DOGE") == nil)
        #expect(assets.coin(at: 9) == nil)
        #expect(assets.instrument("BTC") == Instrument(symbol: "BTC", szDecimals: 5, maxLeverage: 50))
        #expect(assets.instrument("BTC")?.maxPriceDecimals == 1)
    }

    @Test func metaAndAssetCtxsFromDocs() throws {
        let (meta, contexts) = try InfoDecoding.metaAndAssetCtxs(
            Self.bytes(
                #"""
                [{"universe":[{"name":"BTC","szDecimals":5,"maxLeverage":50},{"name":"ETH","szDecimals":4,"maxLeverage":50},
                {"name":"HPOS","szDecimals":0,"maxLeverage":3,"onlyIsolated":true}],
                "marginTables":[[50,{"description":"","marginTiers":[{"lowerBound":"0.0","maxLeverage":50}]}]],"collateralToken":0},
                [{"dayNtlVlm":"1169046.29406","funding":"0.0000125","impactPxs":["14.3047","14.3444"],"markPx":"14.3161",
                  "midPx":"14.314","openInterest":"688.11","oraclePx":"14.32","premium":"0.00031774","prevDayPx":"15.322"},
                 {"dayNtlVlm":"1426126.295175","funding":"0.0000125","impactPxs":["6.0386","6.0562"],"markPx":"6.0436",
                  "midPx":"6.0431","openInterest":"1882.55","oraclePx":"6.0457","premium":"0.00028119","prevDayPx":"6.3611"},
                 {"funding":"0.0","openInterest":"9.43","prevDayPx":"177.0","dayNtlVlm":"2192.853","premium":null,
                  "oraclePx":"188.15","markPx":"177.06","midPx":null,"impactPxs":null,"dayBaseVlm":"12.389"}]]
                """#))
        #expect(meta.universe.count == 3)
        #expect(contexts[0].markPx == "14.3161")
        #expect(contexts[0].impactPxs == ["14.3047", "14.3444"])
        #expect(contexts[0].funding == "0.0000125")
        #expect(contexts[2].premium == nil && contexts[2].midPx == nil && contexts[2].impactPxs == nil)
        #expect(contexts[2].dayBaseVlm == "12.389")
    }

    @Test func allMidsFromDocs() throws {
        let mids = try InfoDecoding.allMids(Self.bytes(#"{"APE": "4.33245", "ARB": "1.21695"}"#))
        #expect(mids == ["APE": "4.33245", "ARB": "1.21695"])
    }

    @Test func l2BookFromDocs() throws {
        let book = try #require(
            try InfoDecoding.l2Book(
                Self.bytes(
                    #"""
                    {"coin":"BTC","time":1754450974231,"levels":[[{"px":"113377.0","sz":"7.6699","n":17},
                    {"px":"113376.0","sz":"4.13714","n":8}],[{"px":"113397.0","sz":"0.11543","n":3}]]}
                    """#)))
        #expect(book.coin == "BTC")
        #expect(book.time == 1_754_450_974_231 * 1_000_000)
        #expect(book.bids.map(\.price) == ["113377.0", "113376.0"])
        #expect(book.bids[1].size == "4.13714" && book.bids[1].orderCount == 8)
        #expect(book.asks.first?.price == "113397.0")
        #expect(try InfoDecoding.l2Book(Self.bytes("null")) == nil)
    }

    @Test func clearinghouseStateFromDocs() throws {
        let state = try InfoDecoding.clearinghouseState(
            Self.bytes(
                #"""
                {"assetPositions":[{"position":{"coin":"ETH","cumFunding":{"allTime":"514.085417","sinceChange":"0.0","sinceOpen":"0.0"},
                "entryPx":"2986.3","leverage":{"rawUsd":"-95.059824","type":"isolated","value":20},"liquidationPx":"2866.26936529",
                "marginUsed":"4.967826","maxLeverage":50,"positionValue":"100.02765","returnOnEquity":"-0.0026789","szi":"0.0335",
                "unrealizedPnl":"-0.0134"},"type":"oneWay"}],"crossMaintenanceMarginUsed":"0.0",
                "crossMarginSummary":{"accountValue":"13104.514502","totalMarginUsed":"0.0","totalNtlPos":"0.0","totalRawUsd":"13104.514502"},
                "marginSummary":{"accountValue":"13109.482328","totalMarginUsed":"4.967826","totalNtlPos":"100.02765","totalRawUsd":"13009.454678"},
                "time":1708622398623,"withdrawable":"13104.514502"}
                """#))
        #expect(state.marginSummary.accountValue == "13109.482328")
        #expect(state.crossMarginSummary.totalRawUsd == "13104.514502")
        #expect(state.withdrawable == "13104.514502")
        #expect(state.time == 1_708_622_398_623)
        let eth = try #require(state.position("ETH"))
        #expect(eth.szi == "0.0335" && eth.entryPx == "2986.3")
        #expect(eth.leverage == PositionLeverage(type: "isolated", value: 20, rawUsd: "-95.059824"))
        #expect(!eth.leverage.isCross)
        #expect(eth.liquidationPx == "2866.26936529" && eth.maxLeverage == 50)
        #expect(eth.cumFunding?.allTime == "514.085417")
        #expect(eth.positionType == "oneWay")
        // The docs' own identity: positionValue − szi × entryPx = unrealizedPnl, exactly.
        #expect(eth.positionValue - eth.szi * eth.entryPx! == eth.unrealizedPnl)
    }

    @Test func openOrdersFromDocs() throws {
        let orders = try InfoDecoding.openOrders(
            Self.bytes(
                #"[{"coin":"BTC","limitPx":"29792.0","oid":91490942,"side":"A","sz":"0.0","timestamp":1681247412573}]"#)
        )
        #expect(
            orders == [
                OpenOrderInfo(
                    coin: "BTC", side: .sell, limitPx: "29792.0", sz: "0.0", oid: 91_490_942,
                    timestamp: 1_681_247_412_573,
                    origSz: nil, cloid: nil)
            ])
    }

    @Test func userFundingFromDocsAndTheSimulator() throws {
        let payments = try InfoDecoding.userFunding(
            Self.bytes(
                #"""
                [{"delta":{"coin":"ETH","fundingRate":"0.0000417","szi":"49.1477","type":"funding","usdc":"-3.625312"},
                  "hash":"0xa166e3fa63c25663024b03f2e0da011a00307e4017465df020210d3d432e7cb8","time":1681222254710},
                 {"time":1681225854710,"hash":"0x01","delta":{"type":"accountClassTransfer","usdc":"5.0","toPerp":true}},
                 {"time":1681225854710,"hash":"0x02","delta":{"type":"funding","coin":"BTC","usdc":"0.5","szi":"-0.1",
                  "fundingRate":"0.0000125","nSamples":null}}]
                """#))
        #expect(payments.count == 2)
        #expect(
            payments[0]
                == UserFunding(
                    time: 1_681_222_254_710, hash: "0xa166e3fa63c25663024b03f2e0da011a00307e4017465df020210d3d432e7cb8",
                    coin: "ETH", usdc: "-3.625312", szi: "49.1477", fundingRate: "0.0000417", nSamples: nil))
        #expect(payments[1].coin == "BTC" && payments[1].usdc == "0.5" && payments[1].szi == "-0.1")
        #expect(throws: HyperliquidClientError.self) {
            try InfoDecoding.userFunding(Self.bytes(#"[{"time":1,"hash":"0x","delta":{"type":"funding","coin":"BTC"}}]"#))
        }
    }

    @Test func rejectionStatusesAreNamedAndNeverLive() {
        #expect(OrderState(rawValue: "badAloPxRejected") == .badAloPxRejected)
        #expect(OrderState.reduceOnlyRejected.isRejected && OrderState.rejected.isRejected)
        #expect(!OrderState.badAloPxRejected.isLive && !OrderState.reduceOnlyCanceled.isRejected)
    }

    @Test func userFillsFromDocs() throws {
        let fills = try InfoDecoding.userFills(
            Self.bytes(
                #"""
                [{"closedPnl":"0.0","coin":"AVAX","crossed":false,"dir":"Open Long",
                  "hash":"0xa166e3fa63c25663024b03f2e0da011a00307e4017465df020210d3d432e7cb8","oid":90542681,"px":"18.435",
                  "side":"B","startPosition":"26.86","sz":"93.53","time":1681222254710,"fee":"0.01","feeToken":"USDC",
                  "builderFee":"0.01","tid":118906512037719},
                 {"coin":"@107","px":"18.62041381","sz":"43.84","side":"A","time":1735969713869,"startPosition":"10659.65434798",
                  "dir":"Sell","closedPnl":"8722.988077","hash":"0x2222138cc516e3fe746c0411dd733f02e60086f43205af2ae37c93f6a792430b",
                  "oid":59071663721,"crossed":true,"fee":"0.304521","tid":907359904431134,"feeToken":"USDC"}]
                """#))
        #expect(fills.count == 2)
        #expect(fills[0].coin == "AVAX" && fills[0].side == .buy && fills[0].px == "18.435" && fills[0].sz == "93.53")
        #expect(fills[0].builderFee == "0.01" && fills[0].tid == 118_906_512_037_719 && !fills[0].crossed)
        #expect(fills[1].side == .sell && fills[1].builderFee == nil && fills[1].closedPnl == "8722.988077")
        #expect(fills[1].px == "18.62041381")
    }

    @Test func aLiquidationFillSaysWhoseAccountAndAtWhatMark() throws {
        let fills = try InfoDecoding.userFills(
            Self.bytes(
                #"""
                [{"coin":"BTC","px":"91100","sz":"0.1","side":"A","time":1737900000000,"startPosition":"0.1",
                  "dir":"Close Long","closedPnl":"-890.0","hash":"0x01","oid":1000000007,"crossed":true,"fee":"4.0995",
                  "tid":42,"feeToken":"USDC",
                  "liquidation":{"liquidatedUser":"0x19e7e376e7c213b7e7e7e46cc70a5dd086daff2a","markPx":"91104.3","method":"market"}}]
                """#))
        let liquidation = try #require(fills.first?.liquidation)
        #expect(liquidation.markPx == "91104.3" && liquidation.method == "market")
        #expect(liquidation.liquidatedUser?.lowercased == "0x19e7e376e7c213b7e7e7e46cc70a5dd086daff2a")
        #expect(throws: HyperliquidClientError.self) {
            try InfoDecoding.userFills(
                Self.bytes(
                    #"[{"coin":"BTC","px":"1","sz":"1","side":"A","time":1,"startPosition":"1","dir":"Close Long","closedPnl":"0","hash":"0x","oid":1,"crossed":true,"fee":"0","tid":1,"liquidation":{"method":"market"}}]"#
                ))
        }
    }

    @Test func orderStatusFromDocs() throws {
        let found = try InfoDecoding.orderStatus(
            Self.bytes(
                #"""
                {"status":"order","order":{"order":{"coin":"ETH","side":"A","limitPx":"2412.7","sz":"0.0","oid":1,
                "timestamp":1724361546645,"triggerCondition":"N/A","isTrigger":false,"triggerPx":"0.0","children":[],
                "isPositionTpsl":false,"reduceOnly":true,"orderType":"Market","origSz":"0.0076","tif":"FrontendMarket","cloid":null},
                "status":"filled","statusTimestamp":1724361546645}}
                """#))
        guard case .order(let order, let status, let timestamp) = found else {
            Issue.record("expected an order, got \(found)")
            return
        }
        #expect(status == .filled && !status.isLive)
        #expect(timestamp == 1_724_361_546_645)
        #expect(order.coin == "ETH" && order.side == .sell && order.origSz == "0.0076" && order.reduceOnly)
        #expect(order.tif == "FrontendMarket" && order.cloid == nil && order.orderType == "Market")
        #expect(try InfoDecoding.orderStatus(Self.bytes(#"{"status": "unknownOid"}"#)) == .unknownOid)
    }

    @Test func candleSnapshotFromDocs() throws {
        let candles = try InfoDecoding.candles(
            Self.bytes(
                #"""
                [{"T":1681924499999,"c":"29258.0","h":"29309.0","i":"15m","l":"29250.0","n":189,"o":"29295.0","s":"BTC",
                  "t":1681923600000,"v":"0.98639"}]
                """#))
        #expect(
            candles == [
                ExchangeCandle(
                    openTime: 1_681_923_600_000, closeTime: 1_681_924_499_999, coin: "BTC", interval: "15m",
                    open: "29295.0",
                    close: "29258.0", high: "29309.0", low: "29250.0", volume: "0.98639", trades: 189)
            ])
    }

    // MARK: /exchange, docs examples

    @Test func orderStatusesFromDocs() throws {
        let resting = try ExchangeDecoding.orderStatuses(
            Self.bytes(
                #"{"status":"ok","response":{"type":"order","data":{"statuses":[{"resting":{"oid":77738308}}]}}}"#))
        #expect(resting == [.resting(oid: 77_738_308, cloid: nil)])
        #expect(resting[0].oid == 77_738_308)

        let error = try ExchangeDecoding.orderStatuses(
            Self.bytes(
                #"{"status":"ok","response":{"type":"order","data":{"statuses":[{"error":"Order must have minimum value of $10."}]}}}"#
            ))
        #expect(error == [.error("Order must have minimum value of $10.")])
        #expect(error[0].errorMessage == "Order must have minimum value of $10." && error[0].oid == nil)

        let filled = try ExchangeDecoding.orderStatuses(
            Self.bytes(
                #"{"status":"ok","response":{"type":"order","data":{"statuses":[{"filled":{"totalSz":"0.02","avgPx":"1891.4","oid":77747314}}]}}}"#
            ))
        #expect(filled == [.filled(totalSz: "0.02", avgPx: "1891.4", oid: 77_747_314, cloid: nil)])

        let cloid = Cloid(0x1234)
        let mixed = try ExchangeDecoding.orderStatuses(
            Self.bytes(
                #"""
                {"status":"ok","response":{"type":"order","data":{"statuses":[{"resting":{"oid":5,"cloid":"\#(cloid.rawValue)"}},
                "waitingForFill","waitingForTrigger"]}}}
                """#), expected: 3)
        #expect(mixed == [.resting(oid: 5, cloid: cloid), .waitingForFill, .waitingForTrigger])
    }

    @Test func cancelStatusesFromDocs() throws {
        #expect(
            try ExchangeDecoding.cancelStatuses(
                Self.bytes(#"{"status":"ok","response":{"type":"cancel","data":{"statuses":["success"]}}}"#)) == [
                    .success
                ])
        let error = try ExchangeDecoding.cancelStatuses(
            Self.bytes(
                #"{"status":"ok","response":{"type":"cancel","data":{"statuses":[{"error":"Order was never placed, already canceled, or filled."}]}}}"#
            ))
        #expect(error == [.error("Order was never placed, already canceled, or filled.")])
    }

    @Test func acknowledgementsAndWholeRequestErrors() throws {
        try ExchangeDecoding.acknowledgement(
            Self.bytes(#"{"status":"ok","response":{"type":"default"}}"#), what: "modify")
        #expect(throws: HyperliquidClientError.exchangeRejected("Invalid leverage value")) {
            try ExchangeDecoding.acknowledgement(
                Self.bytes(#"{"status":"err","response":"Invalid leverage value"}"#), what: "updateLeverage")
        }
        #expect(throws: HyperliquidClientError.exchangeRejected("User or API Wallet 0xabc does not exist.")) {
            try ExchangeDecoding.orderStatuses(
                Self.bytes(#"{"status":"err","response":"User or API Wallet 0xabc does not exist."}"#))
        }
        #expect(throws: HyperliquidClientError.exchangeRejected("Cannot modify canceled or filled order.")) {
            try ExchangeDecoding.acknowledgement(
                Self.bytes(
                    #"{"status":"ok","response":{"type":"order","data":{"statuses":[{"error":"Cannot modify canceled or filled order."}]}}}"#
                ), what: "modify")
        }
    }

    // MARK: Malformed bodies: a typed error, never a crash

    static let malformedInfo: [(String, String)] = [
        ("meta", ""), ("meta", "<html>502 Bad Gateway</html>"), ("meta", #"{"universe": 5}"#),
        ("meta", #"{"universe":[{"name":"BTC","szDecimals":"5","maxLeverage":50}]}"#),
        ("meta", #"{"universe":[{"name":"BTC","szDecimals":42,"maxLeverage":50}]}"#),
        ("metaAndAssetCtxs", #"[{"universe":[]}]"#),
        ("metaAndAssetCtxs", #"[{"universe":[{"name":"BTC","szDecimals":5,"maxLeverage":50}]},[]]"#),
        ("allMids", #"{"BTC": 105000.5}"#), ("allMids", #"{"BTC": "1e5"}"#), ("allMids", "[]"),
        ("l2Book", #"{"coin":"BTC","time":1,"levels":[[]]}"#),
        ("l2Book", #"{"coin":"BTC","time":1,"levels":[[{"px":"x","sz":"1","n":1}],[]]}"#),
        ("clearinghouseState", "{}"), ("clearinghouseState", #"{"marginSummary": null}"#),
        ("openOrders", #"[{"coin":"BTC","limitPx":"1","oid":-4,"side":"A","sz":"1","timestamp":1}]"#),
        ("openOrders", #"[{"coin":"BTC","limitPx":"1","oid":4,"side":"S","sz":"1","timestamp":1}]"#),
        ("userFills", #"[{"coin":"BTC"}]"#), ("userFills", #"{"fills": []}"#),
        ("orderStatus", #"{"status":"somethingElse"}"#), ("orderStatus", #"{"status":"order"}"#),
        ("candles", #"[{"t":1}]"#), ("candles", "[1,2,3"), ("candles", "\u{0}\u{1}\u{2}"),
        ("allMids", String(repeating: "[", count: 100_000)),
    ]

    @Test(arguments: malformedInfo)
    func malformedInfoBodiesAreTypedErrors(_ kind: String, _ body: String) {
        let bytes = Self.bytes(body)
        do throws(HyperliquidClientError) {
            switch kind {
            case "meta": _ = try InfoDecoding.meta(bytes)
            case "metaAndAssetCtxs": _ = try InfoDecoding.metaAndAssetCtxs(bytes)
            case "allMids": _ = try InfoDecoding.allMids(bytes)
            case "l2Book": _ = try InfoDecoding.l2Book(bytes)
            case "clearinghouseState": _ = try InfoDecoding.clearinghouseState(bytes)
            case "openOrders": _ = try InfoDecoding.openOrders(bytes)
            case "userFills": _ = try InfoDecoding.userFills(bytes)
            case "orderStatus": _ = try InfoDecoding.orderStatus(bytes)
            default: _ = try InfoDecoding.candles(bytes)
            }
            Issue.record("\(kind) accepted a malformed body: \(body.prefix(80))")
        } catch {
            guard case .malformedResponse = error else {
                Issue.record("expected malformedResponse, got \(error)")
                return
            }
            #expect(error.isDependencyFailure)
        }
    }

    static let malformedExchange: [String] = [
        "", "null", "{}", #"{"status":"ok"}"#, #"{"status":"weird","response":"x"}"#,
        #"{"status":"ok","response":{"type":"order","data":{"statuses":[{"resting":{"oid":"7"}}]}}}"#,
        #"{"status":"ok","response":{"type":"order","data":{"statuses":[{"filled":{"totalSz":"0.1","oid":7}}]}}}"#,
        #"{"status":"ok","response":{"type":"order","data":{"statuses":["partying"]}}}"#,
        #"{"status":"ok","response":{"type":"order","data":{"statuses":[{}]}}}"#,
        #"{"status":"ok","response":{"type":"order","data":{"statuses":[{"resting":{"oid":1,"cloid":"0x12"}}]}}}"#,
    ]

    @Test(arguments: malformedExchange)
    func malformedExchangeBodiesAreTypedErrors(_ body: String) {
        #expect(throws: HyperliquidClientError.self) { try ExchangeDecoding.orderStatuses(Self.bytes(body)) }
        do throws(HyperliquidClientError) {
            _ = try ExchangeDecoding.orderStatuses(Self.bytes(body))
        } catch {
            guard case .malformedResponse = error else {
                Issue.record("expected malformedResponse, got \(error)")
                return
            }
        }
    }

    @Test func statusCountMustMatchTheBatch() {
        let body = Self.bytes(
            #"{"status":"ok","response":{"type":"order","data":{"statuses":[{"resting":{"oid":1}}]}}}"#)
        #expect(throws: HyperliquidClientError.malformedResponse("order: 1 statuses for 2 orders")) {
            try ExchangeDecoding.orderStatuses(body, expected: 2)
        }
        #expect(throws: HyperliquidClientError.malformedResponse("cancel: 1 statuses for 3 cancels")) {
            try ExchangeDecoding.cancelStatuses(
                Self.bytes(#"{"status":"ok","response":{"type":"cancel","data":{"statuses":["success"]}}}"#),
                expected: 3)
        }
    }

    // MARK: Order wire: rounding by the asset's rules, floatToWire-exact strings

    @Test func orderWireIsRoundedAndExact() throws {
        let btc = Instrument(symbol: "BTC", szDecimals: 5)
        let buy = OrderRequest.limit("BTC", isBuy: true, size: "0.0012345", price: "105055.55", tif: .gtc)
        let wire = try buy.wire(asset: 0, instrument: btc)
        #expect(wire.limitPx == "105056")  // 5 significant figures; an integer price is always valid
        #expect(wire.size == "0.00123")  // sizes round down to szDecimals
        #expect(wire.orderType == .limit(.gtc) && wire.asset == 0 && wire.isBuy)

        let passive = try buy.wire(asset: 0, instrument: btc, rounding: .passive)
        #expect(passive.limitPx == "105055")

        let sol = Instrument(symbol: "SOL", szDecimals: 2)
        let sell = OrderRequest.limit("SOL", isBuy: false, size: "1.50", price: "201.2349", tif: .alo, reduceOnly: true)
        let solWire = try sell.wire(asset: 2, instrument: sol, rounding: .passive)
        #expect(solWire.limitPx == "201.24" && solWire.size == "1.5" && solWire.reduceOnly)

        let eth = Instrument(symbol: "ETH", szDecimals: 4)
        let stop = OrderRequest.trigger(
            "ETH", isBuy: false, size: "0.25", limitPrice: "3000.05", triggerPrice: "3100.04", isMarket: true, tpsl: .sl
        )
        let stopWire = try stop.wire(asset: 1, instrument: eth)
        #expect(stopWire.orderType == .trigger(isMarket: true, triggerPx: "3100", tpsl: .sl))
        #expect(stopWire.limitPx == "3000.1" && stopWire.reduceOnly)

        #expect(throws: HyperliquidClientError.self) {
            try OrderRequest.limit("BTC", isBuy: true, size: "0.000001", price: "100000").wire(
                asset: 0, instrument: btc)
        }
        #expect(throws: HyperliquidClientError.self) {
            try OrderRequest.limit("BTC", isBuy: true, size: "1", price: "-5").wire(asset: 0, instrument: btc)
        }
    }

    @Test func endpointsAndWeights() {
        #expect(HyperliquidEndpoint.mainnet.baseURL == "https://api.hyperliquid.xyz")
        #expect(HyperliquidEndpoint.testnet.baseURL == "https://api.hyperliquid-testnet.xyz")
        #expect(HyperliquidEndpoint.mainnet.webSocketURL == "wss://api.hyperliquid.xyz/ws")
        #expect(HyperliquidEndpoint.paper(baseURL: "http://127.0.0.1:3001/").webSocketURL == "ws://127.0.0.1:3001/ws")
        #expect(HyperliquidEndpoint.mainnet.signingNetwork == .mainnet)
        #expect(HyperliquidEndpoint.testnet.signingNetwork == .testnet)
        #expect(HyperliquidEndpoint.defaultPaper.signingNetwork == .testnet)
        for type in [
            "l2Book", "allMids", "clearinghouseState", "orderStatus", "spotClearinghouseState", "exchangeStatus",
        ] {
            #expect(HyperliquidClient<ContinuousClock>.infoWeight(type: type) == 2)
        }
        #expect(HyperliquidClient<ContinuousClock>.infoWeight(type: "userRole") == 60)
        for type in ["meta", "metaAndAssetCtxs", "openOrders", "userFills", "candleSnapshot"] {
            #expect(HyperliquidClient<ContinuousClock>.infoWeight(type: type) == 20)
        }
    }

    @Test func errorClassification() {
        let failures: [HyperliquidClientError] = [
            .transport("reset"), .rateLimited(status: 429), .serverError(status: 502, body: ""),
            .malformedResponse("x"),
            .deadlineExceeded(.seconds(1)),
        ]
        let business: [HyperliquidClientError] = [
            .badRequest(status: 422, body: "Failed to deserialize"), .exchangeRejected("Invalid leverage value"),
            .invalidRequest("x"), .noWallet, .circuitOpen(dependency: "d"), .cancelled,
        ]
        for error in failures { #expect(HyperliquidClientError.isDependencyFailure(error), "\(error)") }
        for error in business { #expect(!HyperliquidClientError.isDependencyFailure(error), "\(error)") }
        #expect(!HyperliquidClientError.isDependencyFailure(CancellationError()))
        #expect(HyperliquidClientError.isRetryable(HyperliquidClientError.serverError(status: 500, body: "")))
        #expect(!HyperliquidClientError.isRetryable(HyperliquidClientError.rateLimited(status: 429)))
        #expect(!HyperliquidClientError.isRetryable(HyperliquidClientError.exchangeRejected("x")))
    }
}
