import Foundation
import Hyperliquid
import Schema
import Testing

@testable import ExchangeSim
@testable import Venue

@Suite struct ServiceTests {
    @Test func infoWeightsFollowTheDocs() {
        #expect(VenueCore.infoWeight(type: "l2Book", items: 0) == 2)
        #expect(VenueCore.infoWeight(type: "clearinghouseState", items: 0) == 2)
        #expect(VenueCore.infoWeight(type: "meta", items: 0) == 20)
        #expect(VenueCore.infoWeight(type: "userRole", items: 0) == 60)
        #expect(VenueCore.infoWeight(type: "userFills", items: 45) == 22)
        #expect(VenueCore.infoWeight(type: "candleSnapshot", items: 120) == 22)
    }

    @Test func exchangeWeightCountsTheBatch() {
        let orders = (0..<79).map { _ in OrderWire(asset: 0, isBuy: true, limitPx: "1", size: "1", orderType: .limit(.gtc)) }
        let body = ExchangeRequest(
            action: Action.order(orders).wireValue, nonce: 1, signature: Signature(r: [UInt8](repeating: 1, count: 32), s: [UInt8](repeating: 1, count: 32), v: 27))
        #expect(HTTPServer.exchangeWeight(body.jsonBytes()) == 2)
        #expect(HTTPServer.exchangeWeight(Array("{}".utf8)) == 1)
    }

    @Test func batchModifyWeighsOnePlusOneFortiethOfTheBatchAgainstTheIP() {
        let wire = OrderWire(asset: 0, isBuy: true, limitPx: "1", size: "1", orderType: .limit(.alo))
        func weight(_ n: Int) -> Int {
            let action = Action.batchModify((0..<n).map { ModifyWire(oid: .oid(UInt64($0)), order: wire) })
            let request = ExchangeRequest(
                action: action.wireValue, nonce: 1,
                signature: Signature(r: [UInt8](repeating: 1, count: 32), s: [UInt8](repeating: 1, count: 32), v: 27))
            return HTTPServer.exchangeWeight(request.jsonBytes())
        }
        #expect(weight(24) == 1 && weight(39) == 1 && weight(40) == 2 && weight(80) == 3)
        #expect(HTTPServer.tooManyRequests.status == 429)
    }

    @Test func ipLimitRefusesPastTwelveHundredAMinute() {
        let limits = IPRateLimits()
        #expect(limits.admit(ip: "a", weight: 1_200))
        #expect(!limits.admit(ip: "a", weight: 20))
        #expect(limits.admit(ip: "b", weight: 20))
    }

    @Test func faultsApplyUntilTheirEnd() throws {
        let faults = FaultInjector()
        let t0 = Date(timeIntervalSince1970: 1_000)
        try faults.apply(try WireValue(json: "{\"rateLimitStorm\":{\"seconds\":10}}"), now: t0)
        #expect(faults.verdict(now: t0.addingTimeInterval(5), random: 0.5) == .rateLimited)
        #expect(faults.verdict(now: t0.addingTimeInterval(10), random: 0.5) == .proceed(delay: .zero))
        faults.clear()
        try faults.apply(try WireValue(json: "{\"error5xx\":{\"rate\":0.5,\"seconds\":10},\"slow\":{\"milliseconds\":300,\"seconds\":10}}"), now: t0)
        #expect(faults.verdict(now: t0, random: 0.4) == .serverError(status: 500))
        #expect(faults.verdict(now: t0, random: 0.6) == .proceed(delay: .milliseconds(300)))
        try faults.apply(try WireValue(json: "{\"stall\":{\"seconds\":2}}"), now: t0)
        #expect(faults.verdict(now: t0.addingTimeInterval(1), random: 0.9) == .proceed(delay: .milliseconds(1_300)))
        #expect(faults.current.active(at: t0).keys.sorted() == ["error5xx", "slow", "stall"])
        #expect(throws: FaultError.self) { try faults.apply(try WireValue(json: "{\"stall\":{}}"), now: t0) }
        faults.clear()
        #expect(faults.current.active(at: t0).isEmpty)
    }

    @Test func configFilesAreValidated() throws {
        let json = """
            {"accounts":[{"address":"0x1111111111111111111111111111111111111111","usdc":"2500.5"}],
             "takerFee":0.0005,"market":{"source":"synthetic","seed":9},"network":"testnet"}
            """
        let config = try JSONDecoder().decode(VenueConfig.self, from: Data(json.utf8))
        #expect(config.accounts[0].usdc == "2500.5" && config.takerFee == "0.0005" && config.makerFee == "0.0001")
        #expect(config.market.source == .synthetic && config.market.seed == 9 && config.network == .testnet)
        #expect(Array(config.assets.map(\.name).prefix(3)) == ["BTC", "ETH", "SOL"] && config.validate().isEmpty)
        var bad = config
        bad.accounts.append(AccountSpec(address: "0x12", usdc: 1))
        bad.assets.append(AccountSpecFree.duplicateBTC)
        #expect(bad.validate().count == 2)
    }

    @Test func syntheticIsTheDefaultWithoutData() throws {
        var settings = VenueConfig()
        settings.market.dataDir = nil
        settings.market.source = .synthetic
        let setup = try MarketSetup.build(settings: settings, now: 0)
        #expect(setup.players.count == settings.assets.count && setup.description.hasPrefix("synthetic seed 42"))
        settings.market.dataDir = "/nonexistent/folder"
        #expect(throws: SetupError.self) { try MarketSetup.build(settings: settings, now: 0) }
    }
}

enum AccountSpecFree {
    static let duplicateBTC = AssetSpec(name: "BTC", szDecimals: 5, maxLeverage: 40)
}
