import Risk
import Schema
import Testing

@Suite("Trigger orders and time in force through the risk book")
struct TriggerIntentTests {
    func book() -> RiskBook {
        activeBook(positions: [Position(symbol: "S0", size: 2, entryPrice: 100, unrealizedPnl: 0)])
    }

    @Test("a stop the market is already through is refused before it is signed, with the figures")
    func impossibleTriggerRefused() throws {
        var book = book()
        var stop = exitIntent("stop", "S0", .sell, size: 2, price: 90)
        stop.trigger = OrderTrigger(kind: .stopLoss, triggerPrice: 101, isMarket: true)
        let verdict = book.evaluate(stop, now: t0 + 1)
        #expect(verdict.order == nil)
        #expect(verdict.decision.outcome == .rejected)
        let reason = try #require(verdict.decision.reasons.first)
        #expect(reason.code == .invalidTrigger)
        #expect(reason.detail == "sell stop at 101 with the mark at 100: the trigger must be below the mark")
    }

    @Test("a plausible stop passes as a reduce-only trigger order; the intent's time in force is kept")
    func plausibleTriggerPasses() throws {
        var book = book()
        var stop = exitIntent("stop", "S0", .sell, size: 2, price: 90)
        stop.trigger = OrderTrigger(kind: .stopLoss, triggerPrice: "97.0004", isMarket: true)
        let order = try #require(book.evaluate(stop, now: t0 + 1).order)
        #expect(order.trigger == OrderTrigger(kind: .stopLoss, triggerPrice: 97, isMarket: true))
        #expect(order.reduceOnly)

        var post = intent("alo", "S1", .buy, size: 1, price: 99)
        post.timeInForce = .alo
        #expect(book.evaluate(post, now: t0 + 2).order?.timeInForce == .alo)
        #expect(book.evaluate(intent("gtc", "S2", .buy, size: 1, price: 99), now: t0 + 3).order?.timeInForce == .gtc)
        #expect(book.evaluate(intent("ioc", "S3", .buy, size: 1, price: 99, type: .market), now: t0 + 4).order?.timeInForce == .ioc)
    }
}
