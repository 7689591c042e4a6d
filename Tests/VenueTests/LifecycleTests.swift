import Hyperliquid
import Schema
import Testing
import VenueTestSupport

@testable import Venue

@Suite struct LifecycleTests {
    // MARK: Triggers

    @Test func stopLossMarketTriggersWhenTheMarkFallsToIt() {
        var h = Harness()
        h.book(bids: [(99_900, 1)], asks: [(100_000, 1)])
        h.order(true, "100000", "0.1", tif: .ioc)
        let stop = OrderWire(
            asset: 0, isBuy: false, limitPx: "95000", size: "0.1", reduceOnly: true,
            orderType: .trigger(isMarket: true, triggerPx: "95000", tpsl: .sl))
        let oid = h.statuses(h.send(.order([stop])))[0].restingOid!
        let frontend = h.info("{\"type\":\"frontendOpenOrders\",\"user\":\"\(Harness.alice.address.lowercased)\"}")[0]
        #expect(frontend?["orderType"]?.stringValue == "Stop Market")
        #expect(frontend?["triggerCondition"]?.stringValue == "Price below 95000")
        #expect(frontend?["isTrigger"]?.boolValue == true)

        h.book(bids: [(96_000, 1)], asks: [(96_100, 1)])
        #expect(h.status(of: oid) == "open")
        h.book(bids: [(94_900, 1)], asks: [(95_000, 1)])  // mid 94,950 ≤ 95,000
        #expect(h.position(Harness.alice) == 0)
        #expect(h.status(of: oid) == "filled")
        #expect(h.core.accounts[Harness.alice.address]!.fills.last!.px == 94_900)
    }

    @Test func takeProfitLimitRestsAfterTriggering() {
        var h = Harness()
        h.book(bids: [(99_900, 1)], asks: [(100_000, 1)])
        h.order(true, "100000", "0.1", tif: .ioc)
        let tp = OrderWire(
            asset: 0, isBuy: false, limitPx: "110000", size: "0.1", reduceOnly: true,
            orderType: .trigger(isMarket: false, triggerPx: "105000", tpsl: .tp))
        let oid = h.statuses(h.send(.order([tp])))[0].restingOid!
        h.book(bids: [(105_000, 1)], asks: [(105_100, 1)])
        #expect(h.core.orders[oid]!.kind == .limit(.gtc))
        #expect(h.status(of: oid) == "open")
        #expect(h.position(Harness.alice) == "0.1")
        h.print(px: 110_000, sz: 1)
        #expect(h.position(Harness.alice) == 0)
    }

    @Test func normalTpslChildrenWaitForTheirParentThenCancelEachOther() {
        var h = Harness()
        h.book(bids: [(99_900, 1)], asks: [(100_000, 1)])
        let entry = OrderWire(asset: 0, isBuy: true, limitPx: "99000", size: "0.1", orderType: .limit(.gtc))
        let tp = OrderWire(
            asset: 0, isBuy: false, limitPx: "110000", size: "0.1", reduceOnly: true,
            orderType: .trigger(isMarket: true, triggerPx: "110000", tpsl: .tp))
        let sl = OrderWire(
            asset: 0, isBuy: false, limitPx: "90000", size: "0.1", reduceOnly: true,
            orderType: .trigger(isMarket: true, triggerPx: "90000", tpsl: .sl))
        let statuses = h.statuses(h.send(.order([entry, tp, sl], grouping: .normalTpsl)))
        #expect(statuses.count == 3 && statuses[0].restingOid != nil, "\(statuses)")
        #expect(statuses[1] == .string("waitingForFill") && statuses[2] == .string("waitingForFill"), "\(statuses)")

        h.book(bids: [(89_000, 1)], asks: [(89_500, 1)])  // entry fills by the cross, then the SL fires
        #expect(h.position(Harness.alice) == 0)
        let children = h.core.orders.values.filter { $0.ocoGroup != nil }.sorted { $0.oid < $1.oid }
        #expect(children.map(\.status) == [.siblingFilledCanceled, .filled])
    }

    // MARK: Funding

    @Test func fundingIsPaidHourlyFromTheConfiguredRate() {
        var h = Harness { $0.fundingRatePerHour = "0.0001"; $0.takerFee = 0 }
        h.core.tick(now: h.now)
        h.book(bids: [(99_900, 5)], asks: [(100_100, 5)])
        h.order(true, "100100", "1", tif: .ioc)
        h.order(false, "99900", "0.5", tif: .ioc, by: Harness.bob)
        let aliceBefore = h.usdc(Harness.alice)
        h.core.tick(now: h.now + 3_599_999)
        #expect(h.usdc(Harness.alice) == aliceBefore)
        h.core.tick(now: h.now + 3_600_000)
        // mark = mid 100,000; the long pays 1 × 100,000 × 0.0001, the short receives half that.
        #expect(h.usdc(Harness.alice) == aliceBefore - 10)
        #expect(h.usdc(Harness.bob) == Amount(100_000) + 5)
        h.now += 3_600_000
        let funding = h.info("{\"type\":\"userFunding\",\"user\":\"\(Harness.alice.address.lowercased)\",\"startTime\":0}")[0]
        #expect(funding?["delta"]?["usdc"]?.stringValue == "-10.0")
        #expect(funding?["delta"]?["fundingRate"]?.stringValue == "0.0001")
        let state = h.info("{\"type\":\"clearinghouseState\",\"user\":\"\(Harness.alice.address.lowercased)\"}")
        #expect(state["assetPositions"]?[0]?["position"]?["cumFunding"]?["allTime"]?.stringValue == "10.0")
    }

    // MARK: The dead man's switch

    @Test func scheduleCancelFiresAtItsTime() {
        var h = Harness()
        h.book(bids: [(99, 1)], asks: [(101, 1)])
        let oid = h.order(true, "95", "1").restingOid!
        #expect(
            h.send(.scheduleCancel(time: h.now + 4_999))["response"]?.stringValue
                == "Scheduled cancel time too early, must be at least 5 seconds from now.")
        #expect(h.send(.scheduleCancel(time: h.now + 10_000))["status"]?.stringValue == "ok")
        h.core.tick(now: h.now + 9_999)
        #expect(h.status(of: oid) == "open")
        h.core.tick(now: h.now + 10_000)
        #expect(h.status(of: oid) == "scheduledCancel")
        #expect(h.core.accounts[Harness.alice.address]!.scheduledCancel == nil)
    }

    @Test func scheduleCancelCanBeRemovedAndNeedsTheConfiguredVolume() {
        var h = Harness()
        h.book(bids: [(99, 1)], asks: [(101, 1)])
        let oid = h.order(true, "95", "1").restingOid!
        h.send(.scheduleCancel(time: h.now + 10_000))
        h.send(.scheduleCancel(time: nil))
        h.core.tick(now: h.now + 20_000)
        #expect(h.status(of: oid) == "open")

        var strict = Harness { $0.scheduleCancelMinVolume = 1_000_000 }
        #expect(
            strict.send(.scheduleCancel(time: strict.now + 10_000))["response"]?.stringValue
                == "Cannot set scheduled cancel time until enough volume traded. Required: $1000000.")
    }

    @Test func scheduleCancelFiresAtMostTenTimesADay() {
        var h = Harness()
        for i in 0..<10 {
            #expect(h.send(.scheduleCancel(time: h.now + 5_000))["status"]?.stringValue == "ok", "arm \(i)")
            h.now += 5_000
            h.core.tick(now: h.now)
        }
        #expect(h.send(.scheduleCancel(time: h.now + 5_000))["response"]?.stringValue == "Too many scheduled cancel triggers today.")
    }

    // MARK: Events for the WebSocket side

    @Test func fillsAndOrderUpdatesAreEmitted() {
        var h = Harness()
        h.book(bids: [(99, 1)], asks: [(101, 1)])
        _ = h.core.drainEvents()
        h.order(true, "101", "0.5", tif: .ioc)
        let events = h.core.drainEvents()
        let fills = events.compactMap { if case .fill(let user, let v) = $0 { (user, v) } else { nil } }
        #expect(fills.count == 1 && fills[0].0 == Harness.alice.address)
        #expect(fills[0].1["px"]?.stringValue == "101.0" && fills[0].1["side"]?.stringValue == "B")
        let updates = events.compactMap { if case .orderUpdate(_, let v) = $0 { v["status"]?.stringValue } else { nil } }
        #expect(updates == ["filled"])
        #expect(events.contains { if case .trade(let coin, _) = $0 { coin == "BTC" } else { false } })
    }
}
