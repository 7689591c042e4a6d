import Hyperliquid
import Schema
import Testing
import VenueTestSupport

@testable import Venue

/// Hyperliquid's order model as the venue answers it: rejections kept with their status, triggers on
/// the mark, TP/SL groupings, modify, the open-order views and funding history.
@Suite struct OrderModelTests {
    static let alice = Harness.alice.address.lowercased

    static func trigger(
        _ isBuy: Bool, _ px: String, trigger: String, _ tpsl: Tpsl, market: Bool = true, sz: String = "0.1",
        reduceOnly: Bool = true, cloid: Cloid? = nil
    ) -> OrderWire {
        OrderWire(
            asset: 0, isBuy: isBuy, limitPx: px, size: sz, reduceOnly: reduceOnly,
            orderType: .trigger(isMarket: market, triggerPx: trigger, tpsl: tpsl), cloid: cloid)
    }

    static func cloid(_ n: Int) -> Cloid { try! Cloid(hex: "0x" + String(repeating: "0", count: 30) + String(format: "%02x", n)) }

    func statusByCloid(_ h: Harness, _ cloid: Cloid) -> String? {
        h.info("{\"type\":\"orderStatus\",\"user\":\"\(Self.alice)\",\"oid\":\"\(cloid.rawValue)\"}")["order"]?["status"]?
            .stringValue
    }

    func frontend(_ h: Harness) -> [WireValue] {
        h.info("{\"type\":\"frontendOpenOrders\",\"user\":\"\(Self.alice)\"}").arrayValue ?? []
    }

    /// A long of 0.1 BTC bought at 100,000 with the mark at 99,950.
    func longHarness() -> Harness {
        var h = Harness()
        h.book(bids: [(99_900, 1)], asks: [(100_000, 1)])
        h.order(true, "100000", "0.1", tif: .ioc)
        h.book(bids: [(99_900, 1)], asks: [(100_000, 1)])
        return h
    }

    // MARK: Rejections

    @Test func aloCrossingIsRejectedWithTheBboAndKeptAsBadAloPxRejected() {
        var h = Harness()
        h.book(bids: [(99_900, 1)], asks: [(100_000, 1)])
        let id = Self.cloid(1)
        let status = h.order(true, "100000", "0.001", tif: .alo, cloid: id)
        #expect(status.error == "Post only order would have immediately matched, bbo was 99900@100000. asset=0")
        #expect(statusByCloid(h, id) == "badAloPxRejected")
        let history = h.info("{\"type\":\"historicalOrders\",\"user\":\"\(Self.alice)\"}")
        #expect(history[0]?["status"]?.stringValue == "badAloPxRejected")
        #expect(history[0]?["order"]?["cloid"]?.stringValue == id.rawValue)
        #expect(h.openOids(Harness.alice).isEmpty)
        // One tick inside the spread rests.
        #expect(h.order(true, "99950", "0.001", tif: .alo).restingOid != nil)
    }

    @Test func reduceOnlyThatWouldIncreaseIsRejected() {
        var h = longHarness()
        let id = Self.cloid(2)
        let status = h.order(true, "99000", "0.01", reduceOnly: true, cloid: id)
        #expect(status.error == "Reduce only order would increase position. asset=0")
        #expect(statusByCloid(h, id) == "reduceOnlyRejected")
        #expect(h.position(Harness.alice) == "0.1")
    }

    @Test func otherRejectionsKeepTheirStatusNames() {
        var h = Harness { $0.accounts[0].usdc = 1_000 }
        h.book(bids: [(99_900, 1)], asks: [(100_000, 1)])
        h.order(true, "90000", "0.0001", cloid: Self.cloid(3))
        h.order(true, "90000.55", "0.001", cloid: Self.cloid(4))
        h.order(true, "90000", "1", cloid: Self.cloid(5))
        h.order(true, "90000", "0.001", tif: .ioc, cloid: Self.cloid(6))
        #expect(statusByCloid(h, Self.cloid(3)) == "minTradeNtlRejected")
        #expect(statusByCloid(h, Self.cloid(4)) == "tickRejected")
        #expect(statusByCloid(h, Self.cloid(5)) == "perpMarginRejected")
        #expect(statusByCloid(h, Self.cloid(6)) == "iocCancelRejected")
        #expect(h.info("{\"type\":\"orderStatus\",\"user\":\"\(Self.alice)\",\"oid\":1}") == .object([("status", .string("unknownOid"))]))
    }

    // MARK: Triggers

    @Test func aTriggerAlreadyReachedByTheMarkIsAnInvalidTpslPrice() {
        var h = Harness()
        h.book(bids: [(99_900, 1)], asks: [(100_000, 1)])
        // A stop buy (closing a short) triggers when the mark rises to it: below the mark it is impossible.
        let id = Self.cloid(7)
        let stop = Self.trigger(true, "99000", trigger: "99000", .sl, reduceOnly: false, cloid: id)
        #expect(h.statuses(h.send(.order([stop])))[0].error == "Invalid TP/SL price.")
        #expect(statusByCloid(h, id) == "badTriggerPxRejected")
        let fine = Self.trigger(true, "101000", trigger: "101000", .sl, reduceOnly: false)
        #expect(h.statuses(h.send(.order([fine])))[0].restingOid != nil)
    }

    @Test func triggersFollowTheMarkNotTheLastTrade() {
        var h = longHarness()
        let oid = h.statuses(h.send(.order([Self.trigger(false, "95000", trigger: "95000", .sl)])))[0].restingOid!
        h.print(px: 94_000, sz: "0.01", buyer: false)  // a print through the trigger: the mark is still the mid
        #expect(h.status(of: oid) == "open")
        _ = h.core.drainEvents()
        h.core.setMark(asset: 0, px: 94_990, now: h.now)
        #expect(h.status(of: oid) == "filled")
        #expect(h.position(Harness.alice) == 0)
        let updates = h.core.drainEvents().compactMap { event -> String? in
            if case .orderUpdate(_, let v) = event, v["order"]?["oid"]?.uint64Value == oid { return v["status"]?.stringValue }
            return nil
        }
        #expect(updates == ["triggered", "filled"])
    }

    @Test func aMarketTriggerFillsWithinTenPercentOfTheMark() {
        var h = longHarness()
        let oid = h.statuses(h.send(.order([Self.trigger(false, "95000", trigger: "95000", .sl)])))[0].restingOid!
        // The only bid is 20 % under the mark: beyond the 10 % tolerance, so nothing fills.
        h.core.markets[0]?.bids = [ExternalLevel(px: 76_000, sz: 1)]
        h.core.setMark(asset: 0, px: 95_000, now: h.now)
        #expect(h.status(of: oid) == "canceled")
        #expect(h.position(Harness.alice) == "0.1")
        #expect(h.core.orders[oid]!.limitPx == 85_500)
    }

    @Test func normalTpslChildrenMustBeReduceOnlyAndShowUnderTheirParent() {
        var h = Harness()
        h.book(bids: [(99_900, 1)], asks: [(100_000, 1)])
        let entry = OrderWire(asset: 0, isBuy: true, limitPx: "99000", size: "0.1", orderType: .limit(.gtc))
        let tp = Self.trigger(false, "110000", trigger: "110000", .tp)
        let sl = Self.trigger(false, "90000", trigger: "90000", .sl)
        let loose = Self.trigger(false, "90000", trigger: "90000", .sl, reduceOnly: false)
        let refused = h.statuses(h.send(.order([entry, tp, loose], grouping: .normalTpsl)))
        #expect(refused[2].error == VenueError.tpslNotReduceOnly)

        let statuses = h.statuses(h.send(.order([entry, tp, sl], grouping: .normalTpsl)))
        let parent = statuses[0].restingOid!
        let orders = frontend(h)
        #expect(!orders.contains { $0["isTrigger"]?.boolValue == true }, "waiting children are not on the book")
        let listed = orders.first { $0["oid"]?.uint64Value == parent }
        let children = listed?["children"]?.arrayValue ?? []
        #expect(children.map { $0["orderType"]?.stringValue } == ["Take Profit Market", "Stop Market"])
        #expect(children.allSatisfy { $0["reduceOnly"]?.boolValue == true && $0["isTrigger"]?.boolValue == true })
        #expect(h.openOids(Harness.alice).sorted() == [refused[0].restingOid!, parent].sorted())
    }

    @Test func childrenOfAPartlyFilledIocParentAreCanceled() {
        var h = Harness()
        h.book(bids: [(99_900, 1)], asks: [(100_000, "0.05")])
        let entry = OrderWire(asset: 0, isBuy: true, limitPx: "100000", size: "0.1", orderType: .limit(.ioc))
        let statuses = h.statuses(h.send(.order([entry, Self.trigger(false, "90000", trigger: "90000", .sl)], grouping: .normalTpsl)))
        #expect(statuses[0].filledSize == "0.05" && statuses[1] == .string("waitingForFill"), "\(statuses)")
        let child = h.core.orders.values.first { $0.kind.isTrigger }!
        #expect(child.status == .canceled)
        #expect(h.core.liveOrders[Harness.alice.address, default: []].isEmpty)
    }

    @Test func modifyingAParentKeepsItsChildrenWaiting() {
        var h = Harness()
        h.book(bids: [(99_900, 1)], asks: [(100_000, 1)])
        let id = Self.cloid(8)
        let entry = OrderWire(asset: 0, isBuy: true, limitPx: "99000", size: "0.1", orderType: .limit(.gtc), cloid: id)
        let sl = Self.trigger(false, "90000", trigger: "90000", .sl)
        let parent = h.statuses(h.send(.order([entry, sl], grouping: .normalTpsl)))[0].restingOid!
        let moved = OrderWire(asset: 0, isBuy: true, limitPx: "99500", size: "0.1", orderType: .limit(.gtc))
        let answer = h.statuses(h.send(.batchModify([ModifyWire(oid: .cloid(id), order: moved)])))[0]
        let newOid = answer.restingOid!
        #expect(answer["resting"]?["cloid"]?.stringValue == id.rawValue, "the modified order keeps its cloid")
        #expect(h.status(of: parent) == "canceled" && statusByCloid(h, id) == "open")
        let child = h.core.orders.values.first { $0.kind.isTrigger }!
        #expect(child.parentOid == newOid && child.status == .open)
        // A modify of the canceled original errors with the exchange's text.
        let stale = h.statuses(h.send(.batchModify([ModifyWire(oid: .oid(parent), order: moved)])))[0]
        #expect(stale.error == "Cannot modify canceled or filled order.")
    }

    @Test func positionTpslClosesTheWholePositionAndCancelsItsSibling() {
        var h = longHarness()
        let tp = Self.trigger(false, "110000", trigger: "110000", .tp, sz: "0")
        let sl = Self.trigger(false, "95000", trigger: "95000", .sl, sz: "0")
        let statuses = h.statuses(h.send(.order([tp, sl], grouping: .positionTpsl)))
        let (tpOid, slOid) = (statuses[0].restingOid!, statuses[1].restingOid!)
        #expect(frontend(h).filter { $0["isPositionTpsl"]?.boolValue == true }.count == 2)
        // The position grows after the TP/SL was placed; the stop closes all of it.
        h.order(true, "100000", "0.05", tif: .ioc)
        #expect(h.position(Harness.alice) == "0.15")
        h.book(bids: [(94_900, 1)], asks: [(95_000, 1)])
        #expect(h.position(Harness.alice) == 0)
        #expect(h.status(of: slOid) == "filled")
        #expect(h.status(of: tpOid) == "siblingFilledCanceled")
    }

    @Test func aTpslLeftWhenThePositionClosesIsReduceOnlyCanceled() {
        var h = longHarness()
        let oid = h.statuses(h.send(.order([Self.trigger(false, "95000", trigger: "95000", .sl)])))[0].restingOid!
        h.order(false, "99900", "0.1", tif: .ioc)
        #expect(h.position(Harness.alice) == 0)
        #expect(h.status(of: oid) == "reduceOnlyCanceled")
    }

    @Test func scheduleCancelAlsoCancelsTriggerOrders() {
        var h = longHarness()
        let oid = h.statuses(h.send(.order([Self.trigger(false, "95000", trigger: "95000", .sl)])))[0].restingOid!
        h.send(.scheduleCancel(time: h.now + 5_000))
        h.core.tick(now: h.now + 5_000)
        #expect(h.status(of: oid) == "scheduledCancel")
    }

    @Test func frontendOpenOrdersDescribeTriggerOrders() {
        var h = longHarness()
        let id = Self.cloid(9)
        let tp = Self.trigger(false, "104000", trigger: "105000", .tp, market: false, sz: "0.05", cloid: id)
        let oid = h.statuses(h.send(.order([tp])))[0].restingOid!
        let order = frontend(h).first { $0["oid"]?.uint64Value == oid }
        #expect(order?["orderType"]?.stringValue == "Take Profit Limit")
        #expect(order?["triggerCondition"]?.stringValue == "Price above 105000")
        #expect(order?["triggerPx"]?.stringValue == "105000.0")
        #expect(order?["isTrigger"]?.boolValue == true && order?["reduceOnly"]?.boolValue == true)
        #expect(order?["isPositionTpsl"]?.boolValue == false && order?["tif"] == .null)
        #expect(order?["cloid"]?.stringValue == id.rawValue && order?["origSz"]?.stringValue == "0.05")
        // openOrders lists it too, in the plain shape.
        #expect(h.openOids(Harness.alice) == [oid])
    }

    // MARK: Funding

    @Test func userFundingMatchesTheBalanceChangeAndDecodes() throws {
        var h = Harness { $0.fundingRatePerHour = "0.0001" }
        h.core.tick(now: h.now)
        h.book(bids: [(99_900, 5)], asks: [(100_100, 5)])
        h.order(true, "100100", "0.5", tif: .ioc)
        h.order(false, "99900", "0.2", tif: .ioc, by: Harness.bob)
        let alice = h.usdc(Harness.alice)
        let bob = h.usdc(Harness.bob)
        h.now += 3_600_000
        h.core.tick(now: h.now)
        h.now += 3_600_000
        h.core.tick(now: h.now)
        let body = h.core.handleInfo(
            body: Array("{\"type\":\"userFunding\",\"user\":\"\(Self.alice)\",\"startTime\":0}".utf8), now: h.now
        ).0.body
        let payments = try InfoDecoding.userFunding(Array(body.utf8))
        #expect(payments.count == 2)
        #expect(payments.allSatisfy { $0.coin == "BTC" && $0.szi == "0.5" && $0.fundingRate == "0.0001" && $0.usdc == -5 })
        #expect(h.usdc(Harness.alice) - alice == payments.reduce(0) { $0 + $1.usdc })
        // The short receives a positive rate.
        let bobPayments = h.info("{\"type\":\"userFunding\",\"user\":\"\(Harness.bob.address.lowercased)\"}").arrayValue ?? []
        #expect(bobPayments.compactMap { $0["delta"]?["usdc"]?.stringValue } == ["2.0", "2.0"])
        #expect(h.usdc(Harness.bob) - bob == 4)
    }
}
