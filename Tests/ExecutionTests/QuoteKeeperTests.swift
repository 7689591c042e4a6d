import Execution
import Schema
import Testing

@Suite("Quote keeper: the executor's market-making rules")
struct QuoteKeeperTests {
    func quoteFill(_ side: Side, price: Amount, size: Amount, symbol: String = "ETH") -> Fill {
        Fill(
            fillId: "f-\(price)-\(size)", clientOrderId: "q", symbol: symbol, side: side, price: price, size: size, fee: 0,
            liquidity: .maker, purpose: .entry, strategy: "mm", time: t0, quoteTier: 0)
    }

    @Test("an approval makes its symbol due at once; a planned pass clears it until news")
    func approvalMakesDue() {
        var keeper = QuoteKeeper(instance: "exec-1")
        #expect(keeper.due(now: t0).isEmpty)
        keeper.approved(approval([bid(0, "2999"), ask(0, "3001")]))
        #expect(keeper.due(now: t0) == ["ETH"])
        let pass = keeper.plan(symbol: "ETH", resting: [], now: t0)
        #expect(pass.places.map(\.quote) == [bid(0, "2999"), ask(0, "3001")])
        _ = keeper.record(pass, outcome: QuoteOutcome(), sentAt: t0)
        #expect(keeper.due(now: t0 + ms).isEmpty)
    }

    @Test("news within the pacer's interval waits for it; a withdrawal does not")
    func pacerHoldsNewsNotWithdrawals() {
        var keeper = QuoteKeeper(instance: "exec-1")
        keeper.approved(approval([bid(0, "2999")]))
        let pass = keeper.plan(symbol: "ETH", resting: [], now: t0)
        _ = keeper.record(pass, outcome: QuoteOutcome(), sentAt: t0)
        keeper.approved(approval([bid(0, "2998")]))
        // The default pacer allows a pass every 250 ms.
        #expect(keeper.due(now: t0 + 100 * ms).isEmpty)
        #expect(keeper.due(now: t0 + 250 * ms) == ["ETH"])
        keeper.approved(approval([]))
        #expect(keeper.due(now: t0 + 260 * ms) == ["ETH"])
    }

    @Test("a quote's fill uses up its approval: the filled size is never placed again")
    func fillConsumesApproval() {
        var keeper = QuoteKeeper(instance: "exec-1")
        keeper.approved(approval([bid(0, "2999", "3"), ask(0, "3001")]))
        keeper.filled(quoteFill(.buy, price: "2999", size: "1"))
        #expect(keeper.approvals["ETH"]?.quotes == [bid(0, "2999", "2"), ask(0, "3001")])
        keeper.filled(quoteFill(.buy, price: "2999", size: "2"))
        #expect(keeper.approvals["ETH"]?.quotes == [ask(0, "3001")])
        let pass = keeper.plan(symbol: "ETH", resting: [], now: t0)
        #expect(pass.places.map(\.quote) == [ask(0, "3001")])
    }

    @Test("every symbol with an approval gets a pass once per sweep, without news")
    func sweep() {
        var keeper = QuoteKeeper(settings: QuoteKeeper.Settings(sweepNanos: 5_000 * ms), instance: "exec-1")
        keeper.approved(approval([bid(0, "2999")], expiresAt: t0 + 60_000 * ms))
        #expect(keeper.due(now: t0) == ["ETH"])
        _ = keeper.record(keeper.plan(symbol: "ETH", resting: [], now: t0), outcome: QuoteOutcome(), sentAt: t0)
        #expect(keeper.due(now: t0 + 4_000 * ms).isEmpty)
        #expect(keeper.due(now: t0 + 5_001 * ms) == ["ETH"])
    }

    @Test("an expired approval is due at once and withdraws what rests")
    func expiry() {
        var keeper = QuoteKeeper(instance: "exec-1")
        keeper.approved(approval([bid(0, "2999")], expiresAt: t0 + 1_000 * ms))
        let first = keeper.plan(symbol: "ETH", resting: [], now: t0)
        _ = keeper.record(first, outcome: QuoteOutcome(), sentAt: t0)
        let live = resting("b0", bid(0, "2999"))
        #expect(keeper.due(now: t0 + 1_001 * ms) == ["ETH"])
        let pass = keeper.plan(symbol: "ETH", resting: [live], now: t0 + 1_001 * ms)
        #expect(pass.cancels == [live.clientOrderId])
    }

    @Test("past the address budget's reserve only cancels go; the deferred work stays due")
    func budgetDefers() {
        var keeper = QuoteKeeper(instance: "exec-1")
        // 9,950 of 10,000 used: inside the reserve of max(10 %, 500).
        keeper.observeBudget(used: 9_950, cap: 10_000, at: t0)
        keeper.approved(approval([bid(0, "2999"), ask(0, "3001")]))
        let pass = keeper.plan(symbol: "ETH", resting: [], now: t0 + 3_000 * ms)
        #expect(pass.places.isEmpty)
        #expect(pass.deferred == 2)
        #expect(pass.reasons.contains { $0.code == .requestBudget })
        #expect(keeper.due(now: t0 + 3_000 * ms) == ["ETH"])
    }

    @Test("an ALO storm slows the symbol's refresh, with the reason")
    func stormSlows() {
        var keeper = QuoteKeeper(instance: "exec-1")
        keeper.approved(approval([bid(0, "2999")]))
        let pass = keeper.plan(symbol: "ETH", resting: [], now: t0)
        var outcome = QuoteOutcome()
        outcome.aloRejected = 5
        let reason = keeper.record(pass, outcome: outcome, sentAt: t0)
        #expect(reason?.code == .refreshSlowed)
        #expect(keeper.pacer("ETH").intervalMs == 500)
    }
}
