import Hyperliquid
import Schema
import Testing
import VenueTestSupport

@testable import Venue

/// Hyperliquid's liquidation rule on a paper account: maintenance margin is half the initial margin at
/// the asset's max leverage (BTC 40×: 1.25 %); below it, every position is closed and every order canceled.
@Suite struct LiquidationTests {
    /// Alice with 1,000 USDC, 20× cross on BTC, long (or short) 0.1 BTC at 100,000.
    func leveraged(long: Bool) -> Harness {
        var h = Harness { $0.accounts[0].usdc = 1_000 }
        h.send(.updateLeverage(asset: 0, isCross: true, leverage: 20))
        h.book(bids: [(99_990, 1)], asks: [(100_000, 1)])
        h.order(long, long ? "100000" : "99990", "0.1", tif: .ioc)
        // A resting order, to be canceled by the liquidation.
        h.order(!long, long ? "120000" : "80000", "0.01")
        h.book(bids: [(99_990, 1)], asks: [(100_000, 1)])
        return h
    }

    func state(_ h: Harness) -> WireValue {
        h.info("{\"type\":\"clearinghouseState\",\"user\":\"\(Harness.alice.address.lowercased)\"}")
    }

    func liquidationPx(_ h: Harness) throws -> Amount {
        let text = try #require(state(h)["assetPositions"]?.arrayValue?.first?["position"]?["liquidationPx"]?.stringValue)
        return try #require(Amount(text))
    }

    @Test("the liquidation price is where account value meets maintenance margin", arguments: [true, false])
    func liquidationPrice(long: Bool) throws {
        var h = leveraged(long: long)
        #expect(h.core.assets[0].maxLeverage == 40)
        let px = try liquidationPx(h)
        // At that mark the account's value equals its maintenance margin (to the price's rounding).
        h.core.markOverrides[0] = px
        let account = h.core.accounts[Harness.alice.address]!
        let gap = (h.core.accountValue(account) - h.core.maintenanceMargin(account)).magnitude
        #expect(gap < Amount("0.1"), "value − maintenance at the liquidation price: \(gap)")
        // Solved by hand: cash + size·(x − entry) = size·x·l, with l = 1/80 and cash after the fee.
        let cash = account.usdc.doubleValue
        let entry = long ? 100_000.0 : 99_990.0
        let expected = long ? (0.1 * entry - cash) / (0.1 * (1 - 1.0 / 80)) : (cash + 0.1 * entry) / (0.1 * (1 + 1.0 / 80))
        #expect(abs(px.doubleValue - expected) < 10, "\(px) vs \(expected)")
        // Reported in clearinghouseState with the maintenance margin used.
        #expect(state(h)["crossMaintenanceMarginUsed"]?.stringValue != "0.0")
    }

    @Test("a mark short of the liquidation price leaves the account alone", arguments: [true, false])
    func aboveIsQuiet(long: Bool) throws {
        var h = leveraged(long: long)
        let px = try liquidationPx(h)
        h.core.setMark(asset: 0, px: long ? px + 20 : px - 20, now: h.now)
        #expect(h.position(Harness.alice) == (long ? Amount("0.1") : Amount("-0.1")))
        #expect(h.core.liquidations == 0)
        #expect(h.openOids(Harness.alice).count == 1)
    }

    @Test("past it: the position is closed at the mark with a liquidation fill, orders liquidatedCanceled", arguments: [true, false])
    func liquidates(long: Bool) throws {
        var h = leveraged(long: long)
        let px = try liquidationPx(h)
        let resting = try #require(h.openOids(Harness.alice).first)
        let mark = long ? px - 50 : px + 50
        _ = h.core.drainEvents()
        h.core.setMark(asset: 0, px: mark, now: h.now)
        #expect(h.position(Harness.alice) == 0)
        #expect(h.core.liquidations == 1)
        #expect(h.openOids(Harness.alice).isEmpty)
        #expect(h.status(of: resting) == "liquidatedCanceled")
        let fills = h.info("{\"type\":\"userFills\",\"user\":\"\(Harness.alice.address.lowercased)\"}").arrayValue ?? []
        let last = try #require(fills.first { $0["liquidation"] != nil })
        #expect(last["liquidation"]?["liquidatedUser"]?.stringValue == Harness.alice.address.lowercased)
        #expect(last["liquidation"]?["method"]?.stringValue == "market")
        #expect(last["dir"]?.stringValue == (long ? "Close Long" : "Close Short"))
        #expect(last["sz"]?.stringValue == "0.1")
        // The websocket's userFills carries the same fill.
        let events = h.core.drainEvents()
        #expect(events.contains { if case .fill(_, let wire) = $0 { wire["liquidation"] != nil } else { false } })
        // What is left is the cash: value and maintenance after the close.
        let account = h.core.accounts[Harness.alice.address]!
        #expect(h.core.maintenanceMargin(account) == 0)
        #expect(account.usdc < Amount(200))
    }

    @Test("another account holding the same coin with room to spare is untouched")
    func othersUntouched() throws {
        var h = leveraged(long: true)
        h.order(true, "100000", "0.1", tif: .ioc, by: Harness.bob)  // 100,000 USDC behind it
        let px = try liquidationPx(h)
        h.core.setMark(asset: 0, px: px - 50, now: h.now)
        #expect(h.position(Harness.alice) == 0)
        #expect(h.position(Harness.bob) == Amount("0.1"))
    }
}
