import Execution
import Hyperliquid
import Schema
import Testing

private let routing = OrderRouting(marketSlippage: "0.005")
private let marks: [String: Amount] = ["BTC": "60000"]

private func cloid(_ id: String) -> String { Identifier.clientOrderId(forIntent: id) }

/// A reduce-only trigger order (a stop or a take-profit) for a long of 0.01 BTC.
private func protective(_ path: String, kind: OrderTrigger.Kind, trigger: Amount, price: Amount, isMarket: Bool)
    -> ProtectiveOrder
{
    ProtectiveOrder(
        clientOrderId: cloid(path), side: .sell, size: "0.01", price: price,
        trigger: OrderTrigger(kind: kind, triggerPrice: trigger, isMarket: isMarket), exitPath: path)
}

/// A command of any action, for BTC unless told.
private func order(
    _ intent: String, action: OrderCommand.Action = .place, symbol: String = "BTC", type: Schema.OrderType = .limit,
    price: Amount = "48000", trigger: OrderTrigger? = nil, grouping: OrderGrouping? = nil,
    protective: [ProtectiveOrder]? = nil
) -> OrderCommand {
    var result = command(intent, type: type, price: price, reduceOnly: trigger != nil)
    result.action = action
    result.symbol = symbol
    result.trigger = trigger
    result.grouping = grouping
    result.protectiveOrders = protective
    return result
}

private func plan(_ commands: [OrderCommand], traded: Set<String> = ["BTC"]) -> ActionPlan {
    ActionPlan.plan(
        commands.enumerated().map { (command: $0.element, traceId: "t\($0.offset)") }, routing: routing, marks: marks,
        traded: traded)
}

/// Each action as "kind grouping: intent ids".
private func shape(_ plan: ActionPlan) -> [String] {
    plan.actions.map { action in
        switch action {
        case .place(let orders, let grouping): "place \(grouping.rawValue): \(orders.map(\.command.intentId))"
        case .modify(let orders): "modify: \(orders.map(\.command.intentId))"
        case .cancel(let cancels): "cancel: \(cancels.map(\.command.intentId))"
        }
    }
}

private func placed(_ action: ActionPlan.Action?) -> [ActionPlan.PlannedOrder] {
    if case .place(let orders, _) = action { orders } else { [] }
}

@Suite("Action plan")
struct ActionPlanTests {
    @Test("plain places share one order action grouped na, in arrival order, with their trace ids")
    func plainPlaces() throws {
        let result = plan([order("a", type: .market), order("b")])
        #expect(shape(result) == ["place na: [\"a\", \"b\"]"])
        #expect(result.refused.isEmpty)
        let orders = placed(result.actions.first)
        #expect(orders.map(\.traceId) == ["t0", "t1"])
        #expect(orders.map(\.parent) == [nil, nil])
        #expect(orders[0].request.kind == .limit(.ioc) && orders[0].request.limitPrice == Amount("60300"))
        #expect(orders[1].request.kind == .limit(.gtc) && orders[1].request.limitPrice == 48_000)
        #expect(orders[1].request.cloid?.rawValue == cloid("b"))
    }

    @Test("an entry with protective orders is its own normalTpsl action: entry first, then each exit")
    func entryWithProtection() throws {
        let stop = protective("hard_stop", kind: .stopLoss, trigger: "47500", price: "47000", isMarket: true)
        let target = protective("take_profit", kind: .takeProfit, trigger: "55000", price: "55000", isMarket: false)
        let entry = order("e", type: .market, protective: [stop, target])
        let result = plan([order("p"), entry])
        #expect(shape(result) == ["place na: [\"p\"]", "place normalTpsl: [\"e\", \"e:hard_stop\", \"e:take_profit\"]"])
        let orders = placed(result.actions.last)
        try #require(orders.count == 3)
        #expect(orders[0].command == entry && orders[0].parent == nil && orders[0].traceId == "t1")
        #expect(orders[0].request.kind == .limit(.ioc))

        let stopCommand = orders[1].command
        #expect(stopCommand.action == .place && stopCommand.clientOrderId == cloid("hard_stop"))
        #expect(stopCommand.intentId == "e:hard_stop" && stopCommand.symbol == "BTC")
        #expect(stopCommand.side == .sell && stopCommand.size == Amount("0.01") && stopCommand.price == 47_000)
        #expect(stopCommand.orderType == .market && stopCommand.reduceOnly && stopCommand.purpose == .exit)
        #expect(stopCommand.trigger == stop.trigger && stopCommand.grouping == .normalTpsl)
        #expect(stopCommand.strategy == entry.strategy && stopCommand.ackDeadline == entry.ackDeadline)
        #expect(stopCommand.protectiveOrders == nil)
        #expect(orders[1].parent == entry.clientOrderId && orders[1].traceId == "t1")
        #expect(orders[1].request.kind == .trigger(triggerPrice: 47_500, isMarket: true, tpsl: .sl))
        #expect(orders[1].request.limitPrice == 47_000 && orders[1].request.reduceOnly && !orders[1].request.isBuy)
        #expect(orders[1].request.cloid?.rawValue == cloid("hard_stop"))

        let targetCommand = orders[2].command
        #expect(targetCommand.intentId == "e:take_profit" && targetCommand.orderType == .limit)
        #expect(targetCommand.clientOrderId == cloid("take_profit") && targetCommand.reduceOnly)
        #expect(orders[2].request.kind == .trigger(triggerPrice: 55_000, isMarket: false, tpsl: .tp))
        #expect(orders[2].request.size == Amount("0.01") && orders[2].parent == entry.clientOrderId)
    }

    @Test("two protected entries are two actions")
    func twoProtectedEntries() {
        let first = order("e1", protective: [protective("s1", kind: .stopLoss, trigger: "47000", price: "46900", isMarket: true)])
        let second = order("e2", protective: [protective("s2", kind: .stopLoss, trigger: "47000", price: "46900", isMarket: true)])
        #expect(
            shape(plan([first, second])) == [
                "place normalTpsl: [\"e1\", \"e1:s1\"]", "place normalTpsl: [\"e2\", \"e2:s2\"]",
            ])
    }

    @Test("a positionTpsl trigger is its own action; a trigger without grouping joins the plain places")
    func positionTpsl() throws {
        let trigger = OrderTrigger(kind: .stopLoss, triggerPrice: "47500", isMarket: true)
        let result = plan([
            order("plain"), order("pos", price: "47000", trigger: trigger, grouping: .positionTpsl),
            order("loose", price: "47000", trigger: trigger),
        ])
        #expect(shape(result) == ["place na: [\"plain\", \"loose\"]", "place positionTpsl: [\"pos\"]"])
        let request = try #require(placed(result.actions.last).first?.request)
        #expect(request.kind == .trigger(triggerPrice: 47_500, isMarket: true, tpsl: .sl) && request.limitPrice == 47_000)
    }

    @Test("cancels come first, modifies share one action last")
    func ordering() {
        let result = plan([
            order("p1"), order("m1", action: .modify, price: "47000"), order("c1", action: .cancel),
            order("p2"), order("c2", action: .cancel), order("m2", action: .modify, price: "46000"),
        ])
        #expect(
            shape(result) == [
                "cancel: [\"c1\", \"c2\"]", "place na: [\"p1\", \"p2\"]", "modify: [\"m1\", \"m2\"]",
            ])
        if case .modify(let orders) = result.actions.last {
            #expect(orders.map(\.request.limitPrice) == [47_000, 46_000])
            #expect(orders.map(\.traceId) == ["t1", "t5"])
        } else {
            Issue.record("the last action is not the modify")
        }
        if case .cancel(let cancels) = result.actions.first {
            #expect(cancels.map(\.traceId) == ["t2", "t4"])
        }
    }

    @Test("a command for a symbol not traded, or one that cannot be routed, is refused and nothing of it sent")
    func refusals() {
        var anonymous = order("none")
        anonymous.symbol = nil
        var badStop = protective("bad", kind: .stopLoss, trigger: "47000", price: "46900", isMarket: true)
        badStop.clientOrderId = "not-a-cloid"
        let result = plan([
            order("eth", symbol: "ETH"), order("eth-cancel", action: .cancel, symbol: "ETH"), anonymous,
            order("zero", price: 0), order("guarded", protective: [badStop]), order("ok"),
        ])
        #expect(shape(result) == ["place na: [\"ok\"]"])
        #expect(result.refused.map(\.command.intentId) == ["eth", "eth-cancel", "none", "zero", "guarded"])
        #expect(result.refused.allSatisfy { $0.reason.code == .invalidIntent })
        #expect(result.refused.map(\.traceId) == ["t0", "t1", "t2", "t3", "t4"])
        #expect(result.refused[0].reason.detail == "ETH is not among the traded symbols")
        #expect(result.refused[2].reason.detail == "no symbol is not among the traded symbols")
        #expect(result.refused[3].reason.detail == OrderRouting.RoutingError.noPrice.description)
        #expect(result.refused[4].reason.detail == OrderRouting.RoutingError.invalidClientOrderId("not-a-cloid").description)
    }
}

@Suite("Trigger routing")
struct TriggerRoutingTests {
    @Test("a trigger command becomes a trigger order with the command's price as its limit, not the mark's")
    func triggerRequest() throws {
        let stop = order(
            "s", type: .market, price: "47000", trigger: OrderTrigger(kind: .stopLoss, triggerPrice: "47500", isMarket: true))
        var sell = stop
        sell.side = .sell
        let request = try routing.request(for: sell, mark: "60000")
        #expect(
            request
                == OrderRequest(
                    coin: "BTC", isBuy: false, size: "0.01", limitPrice: 47_000,
                    kind: .trigger(triggerPrice: 47_500, isMarket: true, tpsl: .sl), reduceOnly: true,
                    cloid: try Cloid(hex: cloid("s"))))

        let target = order(
            "t", price: "52000", trigger: OrderTrigger(kind: .takeProfit, triggerPrice: "51000", isMarket: false))
        let tp = try routing.request(for: target, mark: nil)
        #expect(tp.kind == .trigger(triggerPrice: 51_000, isMarket: false, tpsl: .tp))
        #expect(tp.limitPrice == 52_000 && tp.isBuy)
    }

    @Test("a trigger without a price or a trigger price is refused")
    func triggerRefusals() {
        let trigger = OrderTrigger(kind: .stopLoss, triggerPrice: "47500", isMarket: true)
        #expect(throws: OrderRouting.RoutingError.noPrice) {
            try routing.request(for: order("a", price: 0, trigger: trigger), mark: "60000")
        }
        var zeroTrigger = trigger
        zeroTrigger.triggerPrice = 0
        #expect(throws: OrderRouting.RoutingError.noPrice) {
            try routing.request(for: order("b", price: "47000", trigger: zeroTrigger), mark: "60000")
        }
    }
}

@Suite("Placement outcome")
struct PlacementOutcomeTests {
    /// The planned order of one command.
    func planned(_ command: OrderCommand) throws -> ActionPlan.PlannedOrder {
        try #require(placed(plan([command]).actions.first).first)
    }

    @Test("resting is accepted with its oid; a child waiting for its parent or its trigger, without")
    func accepted() throws {
        let limit = try planned(order("r"))
        #expect(PlacementOutcome.of(.resting(oid: 41, cloid: nil), order: limit) == .accepted(oid: 41))
        #expect(PlacementOutcome.of(.waitingForFill, order: limit) == .accepted(oid: nil))
        #expect(PlacementOutcome.of(.waitingForTrigger, order: limit) == .accepted(oid: nil))
    }

    @Test("an IOC filled in part reports the remainder; a full fill or a GTC fill does not")
    func filled() throws {
        let ioc = try planned(order("i", type: .market))
        #expect(
            PlacementOutcome.of(.filled(totalSz: "0.004", avgPx: "60010", oid: 9, cloid: nil), order: ioc)
                == .filled(oid: 9, iocRemainder: Amount("0.006")))
        #expect(
            PlacementOutcome.of(.filled(totalSz: "0.01", avgPx: "60010", oid: 9, cloid: nil), order: ioc)
                == .filled(oid: 9, iocRemainder: nil))
        let gtc = try planned(order("g"))
        #expect(
            PlacementOutcome.of(.filled(totalSz: "0.004", avgPx: "48000", oid: 10, cloid: nil), order: gtc)
                == .filled(oid: 10, iocRemainder: nil))
    }

    @Test("an error is rejected as venue_rejected with the exchange's text")
    func rejected() throws {
        let text = "Order must have minimum value of $10. asset=0"
        #expect(
            PlacementOutcome.of(.error(text), order: try planned(order("x")))
                == .rejected(Reason(.venueRejected, text)))
    }
}
