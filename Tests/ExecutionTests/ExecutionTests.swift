import Execution
import Hyperliquid
import Schema
import Testing

func command(
    _ intent: String, side: Side = .buy, size: Amount = "0.01", type: Schema.OrderType = .market, price: Amount = "50000",
    tif: TimeInForce = .gtc, reduceOnly: Bool = false
) -> OrderCommand {
    OrderCommand(
        action: .place, clientOrderId: Identifier.clientOrderId(forIntent: intent), intentId: intent, symbol: "BTC",
        side: side, size: size, orderType: type, price: price, timeInForce: tif, reduceOnly: reduceOnly,
        purpose: .entry, strategy: "rsi", ackDeadline: 0)
}

func userFill(_ order: OrderCommand?, tid: UInt64, size: Amount = "0.01", time: UInt64 = 1_000, oid: UInt64 = 7)
    -> UserFill
{
    UserFill(
        coin: "BTC", px: "50010", sz: size, side: order?.side ?? .buy, time: time, startPosition: 0, dir: "Open Long",
        closedPnl: 0, hash: "0xabc", oid: oid, crossed: true, fee: "0.17", tid: tid,
        cloid: order.flatMap { try? Cloid(hex: $0.clientOrderId) })
}

@Suite("Order routing")
struct OrderRoutingTests {
    let routing = OrderRouting(marketSlippage: "0.005")

    @Test("a market buy is an IOC limit the slippage above the mark, with the intent's cloid")
    func marketBuy() throws {
        let order = command("a")
        let request = try routing.request(for: order, mark: "60000")
        #expect(request.kind == .limit(.ioc))
        #expect(request.isBuy)
        #expect(request.limitPrice == Amount("60300"))
        #expect(request.cloid?.rawValue == order.clientOrderId)
    }

    @Test("a market sell without a mark uses the command's price, below it")
    func marketSellWithoutMark() throws {
        let request = try routing.request(for: command("b", side: .sell), mark: nil)
        #expect(!request.isBuy)
        #expect(request.limitPrice == Amount("49750"))
    }

    @Test("a limit order keeps its price, time in force and reduce-only")
    func limit() throws {
        let request = try routing.request(
            for: command("c", type: .limit, price: "48000", tif: .alo, reduceOnly: true), mark: "60000")
        #expect(request.kind == .limit(.alo))
        #expect(request.limitPrice == Amount("48000"))
        #expect(request.reduceOnly)
    }

    @Test("bad commands are refused with a reason")
    func refusals() {
        #expect(throws: OrderRouting.RoutingError.nonPositiveSize) { try routing.request(for: command("d", size: 0), mark: nil) }
        #expect(throws: OrderRouting.RoutingError.noPrice) { try routing.request(for: command("e", price: 0), mark: nil) }
        var bad = command("f")
        bad.clientOrderId = "not-a-cloid"
        #expect(throws: OrderRouting.RoutingError.invalidClientOrderId("not-a-cloid")) {
            try routing.request(for: bad, mark: "1")
        }
    }
}

@Suite("Reconciliation")
struct ReconciliationTests {
    func known(_ orders: [(OrderCommand, Bool, Amount)]) -> [String: Reconciliation.KnownOrder] {
        Dictionary(
            uniqueKeysWithValues: orders.map {
                ($0.0.clientOrderId, Reconciliation.KnownOrder(command: $0.0, isLive: $0.1, filledSize: $0.2))
            })
    }

    func open(_ order: OrderCommand?, oid: UInt64) -> OpenOrderInfo {
        OpenOrderInfo(
            coin: "BTC", side: .buy, limitPx: "40000", sz: "0.01", oid: oid, timestamp: 1,
            cloid: order.flatMap { try? Cloid(hex: $0.clientOrderId) })
    }

    @Test("a resting order stays, a lost answer is adopted, a foreign order is an orphan")
    func openOrders() {
        let resting = command("resting", type: .limit)
        let lost = command("lost", type: .limit)
        let plan = Reconciliation.plan(
            known: known([(resting, true, 0), (lost, true, 0)]), recordedFillIds: [],
            openOrders: [open(resting, oid: 1), open(lost, oid: 2), open(nil, oid: 3)], fills: [], symbols: ["BTC"])
        #expect(plan.open.map(\.clientOrderId).sorted() == [resting.clientOrderId, lost.clientOrderId].sorted())
        #expect(plan.orphans.map(\.oid) == [3])
        #expect(plan.ended.isEmpty && plan.missingFills.isEmpty)
    }

    @Test("an order the ledger gave up (rejected after a lost answer) but the exchange holds is canceled")
    func givenUp() {
        let late = command("late", type: .limit)
        let plan = Reconciliation.plan(
            known: known([(late, false, 0)]), recordedFillIds: [], openOrders: [open(late, oid: 5)], fills: [],
            symbols: ["BTC"])
        #expect(plan.orphans.map(\.oid) == [5])
        #expect(plan.open.isEmpty && plan.ended.isEmpty)
    }

    @Test("fills the ledger lacks are recorded once, oldest first; recorded ones are not repeated")
    func missingFills() {
        let order = command("filled-while-down", size: "0.02")
        let first = userFill(order, tid: 1, time: 5)
        let second = userFill(order, tid: 2, time: 9)
        let plan = Reconciliation.plan(
            known: known([(order, true, 0)]), recordedFillIds: [FillMapping.fillId(first)], openOrders: [],
            fills: [second, first], symbols: ["BTC"])
        #expect(plan.missingFills.map(\.fillId) == [FillMapping.fillId(second)])
        #expect(plan.missingFills.first?.strategy == "rsi")
        // 0 recorded in the ledger's filled size + 0.01 missing < 0.02: the rest was canceled.
        #expect(plan.ended == [order.clientOrderId])
    }

    @Test("a live order neither open nor fully filled ended; a fully filled one did not")
    func ended() {
        let gone = command("gone")
        let done = command("done")
        let plan = Reconciliation.plan(
            known: known([(gone, true, 0), (done, true, 0)]), recordedFillIds: [], openOrders: [],
            fills: [userFill(done, tid: 4)], symbols: ["BTC"])
        #expect(plan.ended == [gone.clientOrderId])
        #expect(plan.missingFills.count == 1)
    }

    @Test("a normalTpsl stop waiting for its resting entry is live, not ended; once the entry is gone, it ended")
    func waitingChildren() {
        var entry = command("e1", type: .limit, price: "49000")
        entry.grouping = .normalTpsl
        var stop = command("e1:hard_stop", side: .sell, reduceOnly: true)
        stop.clientOrderId = Identifier.clientOrderId(forIntent: "e1:sl")
        stop.trigger = OrderTrigger(kind: .stopLoss, triggerPrice: "47000", isMarket: true)
        stop.grouping = .normalTpsl
        let orders = known([(entry, true, 0), (stop, true, 0)])
        // The exchange lists the resting entry, not its waiting stop.
        let waiting = Reconciliation.plan(
            known: orders, recordedFillIds: [], openOrders: [open(entry, oid: 1)], fills: [], symbols: ["BTC"])
        #expect(waiting.ended.isEmpty && waiting.orphans.isEmpty)
        // The entry is no longer open and never filled: its stop went with it.
        let gone = Reconciliation.plan(known: orders, recordedFillIds: [], openOrders: [], fills: [], symbols: ["BTC"])
        #expect(Set(gone.ended) == [entry.clientOrderId, stop.clientOrderId])
    }

    @Test("fills of orders nobody here placed are reported, never booked; other coins are ignored")
    func foreign() {
        var eth = userFill(nil, tid: 9)
        eth.coin = "ETH"
        let plan = Reconciliation.plan(
            known: [:], recordedFillIds: [], openOrders: [], fills: [userFill(nil, tid: 8), eth], symbols: ["BTC"])
        #expect(plan.foreignFills.map(\.tid) == [8])
        #expect(plan.missingFills.isEmpty)
        #expect(!plan.isClean)
    }

    @Test("the venue's liquidation fills are booked as exits by liquidation, not reported as foreign")
    func liquidation() throws {
        var fill = userFill(nil, tid: 11, size: "0.2", oid: 99)
        fill.side = .sell
        fill.dir = "Close Long"
        fill.liquidation = .init(liquidatedUser: nil, markPx: "45000", method: "market")
        let plan = Reconciliation.plan(known: [:], recordedFillIds: [], openOrders: [], fills: [fill], symbols: ["BTC"])
        #expect(plan.liquidationFills.map(\.tid) == [11])
        #expect(plan.foreignFills.isEmpty && !plan.isClean)
        let booked = Reconciliation.plan(
            known: [:], recordedFillIds: [FillMapping.fillId(fill)], openOrders: [], fills: [fill], symbols: ["BTC"])
        #expect(booked.isClean)

        let order = FillMapping.liquidationOrder(fill, at: 5)
        #expect(order.purpose == .exit && order.reduceOnly && order.strategy == "liquidation")
        #expect(order.side == .sell && order.size == Amount("0.2") && order.symbol == "BTC")
        let mapped = FillMapping.fill(fill, order: order)
        #expect(mapped.clientOrderId == "liquidation-99-11")
        #expect(mapped.purpose == .exit && mapped.liquidity == .taker)
    }

    @Test("a fill maps to the bus fill with the order's purpose, taker when it crossed, ns time")
    func mapping() {
        let order = command("m", side: .sell)
        let fill = FillMapping.fill(userFill(order, tid: 11, time: 1_700_000_000_123), order: order)
        #expect(fill.fillId == "hl-11-7")
        #expect(fill.clientOrderId == order.clientOrderId)
        #expect(fill.liquidity == .taker)
        #expect(fill.time == 1_700_000_000_123_000_000)
        #expect(fill.fee == Amount("0.17"))
    }
}
