import Hyperliquid
import Schema
import Testing
import VenueTestSupport

@testable import Venue

@Suite struct VenueRulesTests {
    // MARK: Tick, lot and minimum value

    @Test(arguments: [
        ("105056", "0.001", nil),  // integer prices are always valid
        ("123456", "0.001", nil),
        ("105056.5", "0.001", "Order has invalid price."),  // 7 significant figures
        ("1234.5", "0.01", nil),
        ("12.345", "1", "Price must be divisible by tick size. asset=0"),  // 3 decimals > 6 − 5
        ("0", "1", "Order has invalid price."),
        ("100", "0.000001", "Order has invalid size."),  // 6 decimals > szDecimals 5
        ("100", "0", "Order has zero size."),
        ("100", "0.09", "Order must have minimum value of $10."),
    ] as [(String, String, String?)])
    func tickLotAndMinimumValue(px: String, sz: String, expected: String?) {
        var h = Harness()
        h.book(bids: [(1, 1)], asks: [(200_000, 1)])
        let status = h.order(true, px, sz)
        #expect(status.error == expected)
    }

    @Test func ethAllowsTwoPriceDecimals() {
        var h = Harness()
        h.book("ETH", bids: [(1, 1)], asks: [(9_000, 1)])
        #expect(h.order(true, "330.55", "0.1", asset: 1).error == nil)
        #expect(h.order(true, "3300.55", "0.01", asset: 1).error == "Order has invalid price.")  // 6 significant figures
        #expect(h.order(true, "33.555", "1", asset: 1).error == "Price must be divisible by tick size. asset=1")
        #expect(h.order(true, "3300.5", "0.00001", asset: 1).error == "Order has invalid size.")
    }

    @Test func significantFigureHelpers() {
        #expect(AssetRules.significantFigures("105056.5") == 7)
        #expect(AssetRules.significantFigures("0.0012345") == 5)
        #expect(AssetRules.decimals("100.50") == 1)
        #expect(AssetRules.roundSignificant("105056", figures: 2, down: true) == 100_000)
        #expect(AssetRules.roundSignificant("105056", figures: 3, down: false) == 106_000)
    }

    // MARK: Authentication and nonces

    @Test func unknownSignerGetsTheExchangeError() {
        var h = Harness()
        let wire = OrderWire(asset: 0, isBuy: true, limitPx: "100", size: "1", orderType: .limit(.gtc))
        let answer = h.send(.order([wire]), by: Harness.stranger)
        #expect(
            answer.jsonString()
                == "{\"status\":\"err\",\"response\":\"User or API Wallet \(Harness.stranger.address.lowercased) does not exist.\"}")
    }

    @Test func duplicateAndOutOfWindowNonces() {
        var h = Harness()
        h.book(bids: [(1, 1)], asks: [(200_000, 1)])
        let action = Action.scheduleCancel(time: nil)
        #expect(h.send(action, nonce: h.now)["status"]?.stringValue == "ok")
        #expect(h.send(action, nonce: h.now)["response"]?.stringValue == "Invalid nonce: duplicate nonce \(h.now)")
        let twoDays: UInt64 = 2 * 86_400_000
        #expect(
            h.send(action, nonce: h.now - twoDays)["response"]?.stringValue
                == "Invalid nonce: nonce too low \(h.now - twoDays) < \(h.now - twoDays)")
        #expect(h.send(action, nonce: h.now - twoDays + 1)["status"]?.stringValue == "ok")
        #expect(h.send(action, nonce: h.now + 86_400_000)["response"]?.stringValue?.hasPrefix("Invalid nonce: nonce too high") == true)
        // Nonces are per signer: bob may use alice's.
        #expect(h.send(action, by: Harness.bob, nonce: h.now)["status"]?.stringValue == "ok")
    }

    @Test func onlyTheLatestHundredNoncesAreKept() {
        var h = Harness()
        for i in 0..<100 { h.send(.scheduleCancel(time: nil), nonce: h.now + 1_000 + UInt64(i)) }
        #expect(
            h.send(.scheduleCancel(time: nil), nonce: h.now + 500)["response"]?.stringValue
                == "Invalid nonce: nonce too low \(h.now + 500) < \(h.now + 1_000)")
    }

    @Test func expiredActionsAreRefused() {
        var h = Harness()
        #expect(h.send(.scheduleCancel(time: nil), expiresAfter: h.now - 1)["response"]?.stringValue == "Action already expired.")
        #expect(h.send(.scheduleCancel(time: nil), expiresAfter: h.now + 60_000)["status"]?.stringValue == "ok")
    }

    @Test func mainnetSignaturesAreAcceptedUnlessTestnetOnly() {
        var any = Harness()
        #expect(any.send(.scheduleCancel(time: nil), network: .mainnet)["status"]?.stringValue == "ok")
        var testnetOnly = Harness { $0.network = .testnet }
        #expect(testnetOnly.send(.scheduleCancel(time: nil), network: .mainnet)["status"]?.stringValue == "err")
        #expect(testnetOnly.send(.scheduleCancel(time: nil), network: .testnet)["status"]?.stringValue == "ok")
    }

    @Test func theActionIsHashedInCanonicalOrderNotAsSent() throws {
        var h = Harness()
        let action = Action.updateLeverage(asset: 0, isCross: true, leverage: 5)
        let request = try Harness.alice.exchangeRequest(action, nonce: h.nextNonce(), network: .testnet)
        // Same action, keys shuffled on the wire: the exchange deserialises, so the signature still holds.
        let shuffled = WireValue.object([
            ("leverage", .int(5)), ("type", .string("updateLeverage")), ("isCross", .bool(true)), ("asset", .int(0)),
        ])
        let body = ExchangeRequest(action: shuffled, nonce: request.nonce, signature: request.signature)
        #expect(h.sendRaw(body.jsonBytes())["status"]?.stringValue == "ok")
        #expect(h.core.leverage(Harness.alice.address, 0).leverage == 5)
    }

    @Test func approvedAgentsTradeForTheirOwner() {
        var h = Harness {
            $0.accounts.append(AccountSpec(address: "0x" + String(repeating: "ab", count: 20), usdc: 0))
            $0.accounts[0].agents = [Harness.stranger.address.lowercased]
        }
        h.book(bids: [(99, 1)], asks: [(101, 1)])
        let status = h.order(true, "95", "1", by: Harness.stranger)
        #expect(status.restingOid != nil)
        #expect(h.openOids(Harness.alice).count == 1)
    }

    @Test func vaultAddressTradesForTheVaultItsLeaderRuns() {
        let vault = try! Address(hex: "0x" + String(repeating: "cd", count: 20))
        var h = Harness {
            $0.accounts.append(AccountSpec(address: vault.lowercased, usdc: 50_000, leader: Harness.alice.address.lowercased))
        }
        h.book(bids: [(99, 1)], asks: [(101, 1)])
        let wire = OrderWire(asset: 0, isBuy: true, limitPx: "95", size: "1", orderType: .limit(.gtc))
        #expect(h.statuses(h.send(.order([wire]), vault: vault))[0].restingOid != nil)
        #expect(h.core.liveOrders[vault]?.count == 1)
        #expect(h.send(.order([wire]), by: Harness.bob, vault: vault)["response"]?.stringValue == "Vault not registered: \(vault.lowercased)")
    }

    @Test func addressBudgetRefusesPastItsCap() {
        var h = Harness { $0.initialRequestBudget = 2 }
        h.book(bids: [(99, 1)], asks: [(101, 1)])
        h.order(true, "90", "1")
        h.order(true, "90", "1")
        let refused = h.send(.order([OrderWire(asset: 0, isBuy: true, limitPx: "90", size: "1", orderType: .limit(.gtc))]))
        #expect(
            refused["response"]?.stringValue
                == "Too many cumulative requests sent (3 > 2) for cumulative volume traded $0. Place taker orders to free up 1 request per USDC traded.")
        // Cancels have more room.
        let oid = h.openOids(Harness.alice)[0]
        #expect(h.statuses(h.send(.cancel([CancelWire(asset: 0, oid: oid)]))) == [.string("success")])
    }

    // MARK: Leverage

    @Test func updateLeverageChecksTheAssetLimit() {
        var h = Harness()
        #expect(h.send(.updateLeverage(asset: 0, isCross: false, leverage: 40)).jsonString() == "{\"status\":\"ok\",\"response\":{\"type\":\"default\"}}")
        #expect(h.core.leverage(Harness.alice.address, 0) == LeverageSetting(isCross: false, leverage: 40))
        #expect(h.send(.updateLeverage(asset: 0, isCross: true, leverage: 41))["response"]?.stringValue == "Invalid leverage value")
        #expect(h.send(.updateLeverage(asset: 1, isCross: true, leverage: 26))["response"]?.stringValue == "Invalid leverage value")
    }

    @Test func leverageShowsInClearinghouseState() {
        var h = Harness()
        h.book(bids: [(99_000, 1)], asks: [(100_000, 1)])
        h.send(.updateLeverage(asset: 0, isCross: true, leverage: 10))
        h.order(true, "100000", "0.1", tif: .ioc)
        let state = h.info("{\"type\":\"clearinghouseState\",\"user\":\"\(Harness.alice.address.lowercased)\"}")
        let position = state["assetPositions"]?[0]?["position"]
        #expect(position?["leverage"]?.jsonString() == "{\"type\":\"cross\",\"value\":10}")
        #expect(position?["szi"]?.stringValue == "0.1")
        #expect(position?["entryPx"]?.stringValue == "100000.0")
        // mark = mid 99,500: value 9,950, margin 995, unrealised −50.
        #expect(position?["positionValue"]?.stringValue == "9950.0")
        #expect(position?["marginUsed"]?.stringValue == "995.0")
        #expect(position?["unrealizedPnl"]?.stringValue == "-50.0")
        #expect(state["marginSummary"]?["accountValue"]?.stringValue == "99946.5")
    }
}

extension WireValue {
    subscript(index: Int) -> WireValue? {
        guard let items = arrayValue, items.indices.contains(index) else { return nil }
        return items[index]
    }
}
