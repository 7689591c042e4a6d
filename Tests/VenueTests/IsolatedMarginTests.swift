import Foundation
import Hyperliquid
import Schema
import Testing
import VenueTestSupport

@testable import Venue

/// Isolated margin, partial liquidation and the backstop, as Hyperliquid documents them: an isolated
/// position is backed by its own margin alone and liquidated alone; a position over 100,000 USDC is
/// liquidated 20 % at a time (whole positions for 30 s after a partial one); below ⅔ of the
/// maintenance margin the backstop vault takes the whole pool.
@Suite struct IsolatedMarginTests {
    static let l = 1.0 / 80  // BTC: 40× max leverage, maintenance 1.25 %

    func state(_ h: Harness) -> WireValue {
        h.info("{\"type\":\"clearinghouseState\",\"user\":\"\(Harness.alice.address.lowercased)\"}")
    }

    func reported(_ h: Harness, coin: String = "BTC") throws -> WireValue {
        let positions = state(h)["assetPositions"]?.arrayValue ?? []
        return try #require(positions.compactMap { $0["position"] }.first { $0["coin"]?.stringValue == coin })
    }

    func liquidationPx(_ h: Harness, coin: String = "BTC") throws -> Amount {
        let text = try reported(h, coin: coin)["liquidationPx"]?.stringValue
        return try #require(text.flatMap { Amount($0) })
    }

    func fills(_ h: Harness) -> [WireValue] {
        h.info("{\"type\":\"userFills\",\"user\":\"\(Harness.alice.address.lowercased)\"}").arrayValue ?? []
    }

    /// Alice with 10,000 USDC: 0.1 BTC isolated at 20× (margin 500), long at 100,000 or short at
    /// 99,990; 1 ETH cross long at 3,000; a resting order on each coin.
    func isolatedAndCross(long: Bool = true) -> (Harness, btcOrder: UInt64?, ethOrder: UInt64?) {
        var h = Harness { $0.accounts[0].usdc = 10_000 }
        #expect(h.send(.updateLeverage(asset: 0, isCross: false, leverage: 20))["status"]?.stringValue == "ok")
        h.send(.updateLeverage(asset: 1, isCross: true, leverage: 10))
        h.book(bids: [(99_990, 1)], asks: [(100_000, 1)])
        h.book("ETH", bids: [(2_999, 10)], asks: [(3_000, 10)])
        h.order(long, long ? "100000" : "99990", "0.1", tif: .ioc)
        h.order(true, "3000", "1", tif: .ioc, asset: 1)
        let btc = h.order(!long, long ? "120000" : "80000", "0.01").restingOid
        let eth = h.order(false, "4000", "0.1", asset: 1).restingOid
        h.book(bids: [(99_990, 1)], asks: [(100_000, 1)])
        return (h, btc, eth)
    }

    @Test("an isolated position holds notional ÷ leverage of its own, out of the cross balance")
    func isolatedMarginAllocated() throws {
        let (h, _, _) = isolatedAndCross()
        let account = h.core.accounts[Harness.alice.address]!
        #expect(account.positions[0]?.isolatedMargin == 500)
        #expect(account.positions[1]?.isolatedMargin == 0)
        // The cross balance no longer counts the 500 nor the BTC position's P&L.
        let btcPnl = h.core.unrealizedPnl(account.positions[0]!, asset: 0)
        #expect(h.core.crossAccountValue(account) == h.core.accountValue(account) - 500 - btcPnl)
        let btc = try reported(h)
        #expect(btc["leverage"]?["type"]?.stringValue == "isolated")
        #expect(btc["marginUsed"]?.stringValue.flatMap(Amount.init) == 500 + btcPnl)
        // rawUsd: the isolated margin less the entry notional of the long.
        #expect(btc["leverage"]?["rawUsd"]?.stringValue.flatMap(Amount.init) == -9_500)
    }

    @Test("the isolated liquidation price follows from its own margin", arguments: [true, false])
    func isolatedLiquidationPrice(long: Bool) throws {
        var (h, _, _) = isolatedAndCross(long: long)
        let px = try liquidationPx(h)
        // Solved by hand: margin + size·(x − entry) = |size|·x·l.
        let size = long ? 0.1 : -0.1
        let entry = long ? 100_000.0 : 99_990.0
        let margin = 0.1 * entry / 20
        let expected = (size * entry - margin) / (size - 0.1 * Self.l)
        #expect(abs(px.doubleValue - expected) < 2, "\(px) vs \(expected)")
        // At that mark the position's equity meets its maintenance margin, whatever the cross balance holds.
        h.core.markOverrides[0] = px
        let account = h.core.accounts[Harness.alice.address]!
        let position = account.positions[0]!
        let gap = h.core.isolatedEquity(position, asset: 0) - h.core.maintenanceMargin(position, asset: 0)
        #expect(gap.magnitude < Amount("0.2"), "equity − maintenance at the liquidation price: \(gap)")
    }

    @Test("an isolated position is liquidated alone: the cross position and its coin's orders survive")
    func isolatedLiquidatedAlone() throws {
        var (h, btcOrder, ethOrder) = isolatedAndCross()
        let px = try liquidationPx(h)
        // The account as a whole is far from its maintenance margin; the isolated position is not.
        h.core.setMark(asset: 0, px: px - 100, now: h.now)
        #expect(h.position(Harness.alice) == 0)
        #expect(h.position(Harness.alice, asset: 1) == 1)
        #expect(h.core.liquidations == 1)
        let btc = try #require(btcOrder)
        let eth = try #require(ethOrder)
        #expect(h.status(of: btc) == "liquidatedCanceled")
        #expect(h.status(of: eth) == "open")
        let liquidation = try #require(fills(h).first { $0["liquidation"] != nil })
        #expect(liquidation["coin"]?.stringValue == "BTC")
        #expect(liquidation["liquidation"]?["method"]?.stringValue == "market")
        // What the isolated margin had left came back to the cross balance: about 500 − 0.1·(100,000 − mark).
        let account = h.core.accounts[Harness.alice.address]!
        #expect(account.positions[0] == nil)
        #expect(h.core.crossAccountValue(account) > 9_400)
    }

    @Test("updateIsolatedMargin moves the liquidation price; removals keep max(initial margin, 10 % of notional)")
    func updateIsolatedMargin() throws {
        var (h, _, _) = isolatedAndCross()
        let before = try liquidationPx(h)
        let crossBefore = h.core.crossAccountValue(h.core.accounts[Harness.alice.address]!)
        // Add 1,000 USDC: margin 1,500.
        #expect(h.send(.updateIsolatedMargin(asset: 0, isBuy: true, ntli: 1_000_000_000))["status"]?.stringValue == "ok")
        #expect(h.core.accounts[Harness.alice.address]!.positions[0]?.isolatedMargin == 1_500)
        #expect(h.core.crossAccountValue(h.core.accounts[Harness.alice.address]!) == crossBefore - 1_000)
        let added = try liquidationPx(h)
        let expected = (0.1 * 100_000 - 1_500) / (0.1 - 0.1 * Self.l)
        #expect(abs(added.doubleValue - expected) < 2, "\(added) vs \(expected)")
        #expect(added < before - 9_000)
        // Take 400 back: 1,100 stays, above 10 % of the ~10,000 notional.
        #expect(h.send(.updateIsolatedMargin(asset: 0, isBuy: true, ntli: -400_000_000))["status"]?.stringValue == "ok")
        let removed = try liquidationPx(h)
        #expect(abs(removed.doubleValue - (0.1 * 100_000 - 1_100) / (0.1 - 0.1 * Self.l)) < 2)
        // Another 200 would leave less than 10 % of the notional.
        let refused = h.send(.updateIsolatedMargin(asset: 0, isBuy: true, ntli: -200_000_000))
        #expect(refused["response"]?.stringValue == VenueError.insufficientMarginToRemove)
        #expect(h.core.accounts[Harness.alice.address]!.positions[0]?.isolatedMargin == 1_100)
        // More than the cross balance has free.
        let tooMuch = h.send(.updateIsolatedMargin(asset: 0, isBuy: true, ntli: 1_000_000_000_000))
        #expect(tooMuch["response"]?.stringValue == VenueError.insufficientMarginToAdd)
        // A cross position has no isolated margin; the mode cannot change while a position is open.
        let cross = h.send(.updateIsolatedMargin(asset: 1, isBuy: true, ntli: 1_000_000))
        #expect(cross["response"]?.stringValue == "Position does not use isolated margin.")
        let switched = h.send(.updateLeverage(asset: 1, isCross: false, leverage: 10))
        #expect(switched["response"]?.stringValue == "Cannot switch leverage type with open position.")
        #expect(h.core.leverage(Harness.alice.address, 1).isCross)
    }

    @Test("closing an isolated position releases its margin with the realised P&L")
    func closingReleasesMargin() throws {
        var (h, _, _) = isolatedAndCross()
        let usdc = h.usdc(Harness.alice)
        h.book(bids: [(101_000, 1)], asks: [(101_010, 1)])
        h.order(false, "101000", "0.05", tif: .ioc)
        #expect(h.core.accounts[Harness.alice.address]!.positions[0]?.isolatedMargin == 250)
        h.order(false, "101000", "0.05", tif: .ioc)
        #expect(h.core.accounts[Harness.alice.address]!.positions[0] == nil)
        // +100 realised, less two taker fees on 5,050.
        #expect(h.usdc(Harness.alice) == usdc + 100 - 2 * Amount("1.7675"))
    }

    /// Alice with 12,000 USDC, long 2 BTC cross at 100,000 (200,000 of notional, 20×).
    func large() -> Harness {
        var h = Harness { $0.accounts[0].usdc = 12_000 }
        h.send(.updateLeverage(asset: 0, isCross: true, leverage: 20))
        h.book(bids: [(99_990, 3)], asks: [(100_000, 3)])
        h.order(true, "100000", "2", tif: .ioc)
        #expect(h.position(Harness.alice) == 2)
        return h
    }

    @Test("over 100,000 USDC: 20 % goes first; a new breach in the 30 s after takes the rest, after them 20 % again",
          arguments: [false, true])
    func partialLiquidation(afterCooldown: Bool) throws {
        var h = large()
        let px = try liquidationPx(h)
        h.core.setMark(asset: 0, px: px - 5, now: h.now)
        #expect(h.position(Harness.alice) == Amount("1.6"))
        var last = try #require(fills(h).first)
        #expect(last["sz"]?.stringValue == "0.4")
        #expect(last["liquidation"]?["method"]?.stringValue == "market")
        // One step a check: 20 % brought the account back above its maintenance margin.
        let account = h.core.accounts[Harness.alice.address]!
        #expect(h.core.crossAccountValue(account) >= h.core.maintenanceMargin(account))
        #expect(h.core.liquidations == 1)

        h.now += afterCooldown ? 31_000 : 10_000
        let again = try liquidationPx(h)
        h.core.setMark(asset: 0, px: again - 5, now: h.now)
        last = try #require(fills(h).first)
        #expect(last["liquidation"]?["method"]?.stringValue == "market")
        if afterCooldown {
            #expect(last["sz"]?.stringValue == "0.32")
            #expect(h.position(Harness.alice) == Amount("1.28"))
        } else {
            #expect(last["sz"]?.stringValue == "1.6")
            #expect(h.position(Harness.alice) == 0)
        }
    }

    @Test("below ⅔ of the maintenance margin the backstop takes the whole position and what is left of the margin")
    func backstop() throws {
        var h = large()
        let px = try liquidationPx(h)
        // 1,000 below the liquidation price: equity about 450 against a maintenance margin near 2,400.
        h.core.setMark(asset: 0, px: px - 1_000, now: h.now)
        #expect(h.position(Harness.alice) == 0)
        let liquidations = fills(h).filter { $0["liquidation"] != nil }
        #expect(liquidations.count == 1)
        let fill = try #require(liquidations.first)
        #expect(fill["liquidation"]?["method"]?.stringValue == "backstop")
        #expect(fill["sz"]?.stringValue == "2.0")
        #expect(fill["fee"]?.stringValue.flatMap(Amount.init) == 0)
        // The account's equity went to the vault through the fill price (to the tick, in its favour).
        let usdc = h.usdc(Harness.alice)
        #expect(!usdc.isNegative && usdc < 2, "left after the backstop: \(usdc)")
        let fillPx = try #require(fill["px"]?.stringValue.flatMap(Amount.init))
        #expect(fillPx < px - 1_000, "the vault pays less than the mark: \(fillPx)")
    }

    @Test("a backstop of an isolated position leaves the cross balance whole")
    func isolatedBackstop() throws {
        var (h, _, _) = isolatedAndCross()
        let crossBefore = h.core.crossAccountValue(h.core.accounts[Harness.alice.address]!)
        let px = try liquidationPx(h)
        h.core.setMark(asset: 0, px: px - 600, now: h.now)
        let fill = try #require(fills(h).first { $0["liquidation"] != nil })
        #expect(fill["liquidation"]?["method"]?.stringValue == "backstop")
        #expect(h.position(Harness.alice) == 0)
        #expect(h.position(Harness.alice, asset: 1) == 1)
        let crossAfter = h.core.crossAccountValue(h.core.accounts[Harness.alice.address]!)
        // Within a tick's worth (1 USD × 0.1 BTC) of the cross balance before.
        #expect((crossAfter - crossBefore).magnitude <= Amount("0.1"), "\(crossBefore) → \(crossAfter)")
    }
}
