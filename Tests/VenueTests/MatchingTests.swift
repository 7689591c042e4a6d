import Hyperliquid
import Schema
import Testing
import VenueTestSupport

@testable import Venue

@Suite struct MatchingTests {
    @Test func paperMakersFillInPriceThenTimePriority() {
        var h = Harness()
        h.book(bids: [(90, 5)], asks: [(110, 5)])
        let bobFirst = h.order(true, "100", "1", by: Harness.bob).restingOid!
        let carolLater = h.order(true, "100", "1", by: Harness.carol).restingOid!
        let carolBetter = h.order(true, "101", "1", by: Harness.carol).restingOid!

        // Alice sells 2.5: the better price first, then the earlier order at 100, then the later one.
        let sold = h.order(false, "100", "2.5", tif: .ioc)
        #expect(sold.filledSize == "2.5")
        #expect(h.status(of: carolBetter, Harness.carol) == "filled")
        #expect(h.status(of: bobFirst, Harness.bob) == "filled")
        #expect(h.status(of: carolLater, Harness.carol) == "open")
        #expect(h.position(Harness.bob) == 1)
        #expect(h.position(Harness.carol) == "1.5")
        #expect(h.position(Harness.alice) == "-2.5")
        // Each maker filled at its own price: avg = (101 + 100 + 0.5 × 100) / 2.5.
        #expect(sold["filled"]?["avgPx"]?.stringValue == "100.4")
    }

    @Test func externalLiquidityGoesFirstAtOnePriceAndIsConsumed() {
        var h = Harness()
        h.book(bids: [(99, 1)], asks: [(100, 1), (102, 5)])
        let bobAsk = h.order(false, "100", "1", by: Harness.bob).restingOid!
        let first = h.order(true, "100", "1.5", tif: .ioc)
        #expect(first.filledSize == "1.5")
        #expect(h.core.markets[0]!.asks.first!.px == 102)  // the external 100 level is used up
        #expect(h.core.orders[bobAsk]!.sz == "0.5")  // bob's order filled behind it
    }

    @Test func restingOrderFillsPartiallyWhenTheMarketTradesThroughIt() {
        var h = Harness()
        h.book(bids: [(99, 1)], asks: [(101, 1)])
        let oid = h.order(true, "100", "1").restingOid!
        h.print(px: 101, sz: 3)  // above the bid: nothing
        #expect(h.core.orders[oid]!.sz == 1)
        h.print(px: 100, sz: "0.4", buyer: false)  // at the bid: 0.4 fills at 100
        #expect(h.core.orders[oid]!.sz == "0.6")
        #expect(h.status(of: oid) == "open")
        let open = h.info("{\"type\":\"openOrders\",\"user\":\"\(Harness.alice.address.lowercased)\"}").arrayValue!
        #expect(open[0]["sz"]?.stringValue == "0.6" && open[0]["origSz"]?.stringValue == "1.0")
        h.print(px: 99, sz: 5, buyer: false)  // through it: the rest fills at our price
        #expect(h.status(of: oid) == "filled")
        let fills = h.core.accounts[Harness.alice.address]!.fills
        #expect(fills.map(\.px) == [100, 100] && fills.allSatisfy { !$0.crossed })
        #expect(h.position(Harness.alice) == 1)
    }

    @Test func aSnapshotCrossingARestingOrderFillsIt() {
        var h = Harness()
        h.book(bids: [(99, 1)], asks: [(101, 1)])
        let oid = h.order(false, "100", "2").restingOid!
        h.book(bids: [(100, "0.5"), (99, 1)], asks: [(101, 1)])
        #expect(h.core.orders[oid]!.sz == "1.5")
        #expect(h.core.markets[0]!.bids.first!.px == 99)
    }

    @Test func aloRestsOrRefusesToTake() {
        var h = Harness()
        h.book(bids: [(99, 1)], asks: [(101, 1)])
        #expect(h.order(true, "100", "1", tif: .alo).restingOid != nil)
        #expect(
            h.order(true, "101", "1", tif: .alo).error
                == "Post only order would have immediately matched, bbo was 100@101. asset=0")
        #expect(h.position(Harness.alice) == 0)
    }

    @Test func iocFillsWhatItCanAndCancelsTheRest() {
        var h = Harness()
        h.book(bids: [(99, 1)], asks: [(101, "0.3")])
        #expect(h.order(true, "100", "1", tif: .ioc).error == "Order could not immediately match against any resting orders. asset=0")
        let partial = h.order(true, "101", "1", tif: .ioc)
        #expect(partial.filledSize == "0.3")
        #expect(h.openOids(Harness.alice).isEmpty)
        #expect(h.position(Harness.alice) == "0.3")
    }

    @Test func gtcTakesThenRests() {
        var h = Harness()
        h.book(bids: [(99, 1)], asks: [(100, "0.4"), (105, 1)])
        let status = h.order(true, "101", "1")
        let oid = status.restingOid!
        #expect(h.position(Harness.alice) == "0.4")
        #expect(h.core.orders[oid]!.sz == "0.6")
        let book = h.info("{\"type\":\"l2Book\",\"coin\":\"BTC\"}")
        #expect(book["levels"]?[0]?.arrayValue?.first?["px"]?.stringValue == "101.0")
    }

    @Test func selfTradeCancelsTheRestingOrder() {
        var h = Harness()
        h.book(bids: [(90, 1)], asks: [(110, 1)])
        let mine = h.order(false, "100", "1").restingOid!
        #expect(h.order(true, "100", "1", tif: .ioc).error != nil)
        #expect(h.status(of: mine) == "selfTradeCanceled")
    }

    @Test func reduceOnlyNeverIncreasesAPosition() {
        var h = Harness()
        h.book(bids: [(99, 10)], asks: [(101, 10)])
        #expect(h.order(false, "99", "1", tif: .ioc, reduceOnly: true).error == "Reduce only order would increase position. asset=0")
        h.order(true, "101", "1", tif: .ioc)
        #expect(h.order(true, "101", "1", tif: .ioc, reduceOnly: true).error == "Reduce only order would increase position. asset=0")
        let close = h.order(false, "99", "2", tif: .ioc, reduceOnly: true)
        #expect(close.filledSize == "1.0")
        #expect(h.position(Harness.alice) == 0)
    }

    @Test func restingReduceOnlyIsCanceledWhenThePositionCloses() {
        var h = Harness()
        h.book(bids: [(99, 10)], asks: [(101, 10)])
        h.order(true, "101", "1", tif: .ioc)
        let takeProfit = h.order(false, "120", "1", reduceOnly: true).restingOid!
        h.order(false, "99", "1", tif: .ioc)
        #expect(h.status(of: takeProfit) == "reduceOnlyCanceled")
    }

    @Test func cancelByCloidModifyAndOrderStatusByCloid() {
        var h = Harness()
        h.book(bids: [(99, 1)], asks: [(101, 1)])
        let cloid = Cloid(7)
        let oid = h.order(true, "95", "1", cloid: cloid).restingOid!
        let byCloid = h.info("{\"type\":\"orderStatus\",\"user\":\"\(Harness.alice.address.lowercased)\",\"oid\":\"\(cloid.rawValue)\"}")
        #expect(byCloid["order"]?["order"]?["oid"]?.uint64Value == oid)
        #expect(byCloid["order"]?["order"]?["cloid"]?.stringValue == cloid.rawValue)

        let newOrder = OrderWire(asset: 0, isBuy: true, limitPx: "96", size: "2", orderType: .limit(.gtc), cloid: cloid)
        let modified = h.send(.modify(ModifyWire(oid: .oid(oid), order: newOrder)))
        #expect(modified.jsonString() == "{\"status\":\"ok\",\"response\":{\"type\":\"default\"}}")
        #expect(h.status(of: oid) == "canceled")
        let replacement = h.openOids(Harness.alice)
        #expect(replacement.count == 1 && h.core.orders[replacement[0]]!.limitPx == 96)

        let canceled = h.send(.cancelByCloid([CancelByCloidWire(asset: 0, cloid: cloid)]))
        #expect(h.statuses(canceled) == [.string("success")])
        #expect(h.openOids(Harness.alice).isEmpty)
        let missing = h.send(.modify(ModifyWire(oid: .oid(oid), order: newOrder)))
        #expect(missing["response"]?.stringValue == "Cannot modify canceled or filled order.")
    }

    @Test func batchModifyAnswersPerOrder() {
        var h = Harness()
        h.book(bids: [(99, 1)], asks: [(101, 1)])
        let oid = h.order(true, "95", "1").restingOid!
        let new = OrderWire(asset: 0, isBuy: true, limitPx: "94", size: "1", orderType: .limit(.gtc))
        let answer = h.send(.batchModify([ModifyWire(oid: .oid(oid), order: new), ModifyWire(oid: .oid(42), order: new)]))
        let statuses = h.statuses(answer)
        #expect(statuses.count == 2 && statuses[0].restingOid != nil)
        #expect(statuses[1].error == "Cannot modify canceled or filled order.")
    }

    @Test func marginIsCheckedBeforeAnOrderIsAccepted() {
        var h = Harness {
            $0.accounts = [AccountSpec(address: Harness.alice.address.lowercased, usdc: 100)]
        }
        h.book(bids: [(99_000, 1)], asks: [(101_000, 1)])
        // 20x on $100 carries $2,000 of notional: 0.05 BTC at 50,000 = $2,500 is too much.
        #expect(h.order(true, "50000", "0.05").error == "Insufficient margin to place order. asset=0")
        #expect(h.order(true, "50000", "0.03").restingOid != nil)
        // The resting order's margin ($1,500 / 20 = $75) is held: another $1,000 does not fit.
        #expect(h.order(true, "50000", "0.02").error == "Insufficient margin to place order. asset=0")
        // Reduce-only orders need no margin; neither does lowering exposure.
        #expect(h.order(false, "99000", "0.001", reduceOnly: true).error == "Reduce only order would increase position. asset=0")
    }

    @Test func feesAreTakerOrMakerRatesOfNotional() {
        var h = Harness()
        h.book(bids: [(99_000, 1)], asks: [(100_000, 1)])
        h.order(true, "100000", "0.1", tif: .ioc)  // taker: 10,000 × 0.035 % = 3.5
        #expect(h.usdc(Harness.alice) == Amount(100_000) - Amount("3.5"))
        let fill = h.core.accounts[Harness.alice.address]!.fills[0]
        #expect(fill.fee == "3.5" && fill.crossed && fill.dir == "Open Long")

        h.order(false, "100500", "0.1", by: Harness.bob)
        h.print(px: 100_500, sz: 1)  // maker: 10,050 × 0.01 % = 1.005
        #expect(h.usdc(Harness.bob) == Amount(100_000) - Amount("1.005"))
        #expect(h.core.accounts[Harness.bob.address]!.fills[0].dir == "Open Short")
    }

    @Test func realisedPnlAndDirections() {
        var h = Harness { $0.takerFee = 0; $0.makerFee = 0 }
        h.book(bids: [(99, 10)], asks: [(100, 10)])
        h.order(true, "100", "2", tif: .ioc)
        h.book(bids: [(110, 10)], asks: [(111, 10)])
        h.order(false, "110", "3", tif: .ioc)  // closes 2 (+20), opens 1 short
        let fills = h.core.accounts[Harness.alice.address]!.fills
        #expect(fills.last!.dir == "Long > Short" && fills.last!.closedPnl == 20)
        #expect(h.position(Harness.alice) == -1)
        #expect(h.core.accounts[Harness.alice.address]!.positions[0]!.entryPx == 110)
        #expect(h.usdc(Harness.alice) == 100_020)
    }
}
