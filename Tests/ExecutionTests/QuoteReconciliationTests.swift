import Execution
import Hyperliquid
import Schema
import Testing

let ms: EpochNanos = 1_000_000
let t0: EpochNanos = 1_700_000_000_000 * ms

func bid(_ tier: Int, _ price: Amount, _ size: Amount = "1") -> QuoteLevel {
    QuoteLevel(side: .buy, tier: tier, price: price, size: size)
}

func ask(_ tier: Int, _ price: Amount, _ size: Amount = "1") -> QuoteLevel {
    QuoteLevel(side: .sell, tier: tier, price: price, size: size)
}

/// A resting quote named `name` (its client order id derived from the name).
func resting(_ name: String, _ quote: QuoteLevel, placedAt: EpochNanos = t0) -> RestingQuote {
    RestingQuote(
        clientOrderId: Identifier.clientOrderId(forIntent: name), side: quote.side, tier: quote.tier,
        price: quote.price, size: quote.size, placedAt: placedAt)
}

func approval(
    _ quotes: [QuoteLevel], symbol: String = "ETH", toleranceBps: Double = 5, maxOrderAgeMs: Int = 0,
    allowModify: Bool = true, expiresAt: EpochNanos = t0 + 10_000 * ms, reasons: [Reason] = []
) -> ApprovedQuotes {
    ApprovedQuotes(
        targetId: "target-1", symbol: symbol, strategy: "mm", sequence: 7, quotes: quotes, clipped: [],
        reasons: reasons, tradingState: .active,
        refresh: QuoteRefresh(toleranceBps: toleranceBps, maxOrderAgeMs: maxOrderAgeMs, allowModify: allowModify),
        createdAt: t0, expiresAt: expiresAt)
}

private func isClientOrderId(_ id: String) -> Bool {
    id.hasPrefix("0x") && id.count == 34 && id.dropFirst(2).allSatisfy { $0.isHexDigit }
}

@Suite("Quote reconciliation")
struct QuoteReconciliationTests {
    @Test("a resting quote of the wanted size within the tolerance is kept; nothing is sent")
    func keepWithinTolerance() {
        var reconciler = QuoteReconciliation(instance: "exec-1")
        // 5 bps of 3000 is 1.5: 2998.6 is within, for the bid; 3001.4 for the ask.
        let live = [resting("b0", bid(0, "2998.6")), resting("a0", ask(0, "3001.4"))]
        let pass = reconciler.pass(
            symbol: "ETH", approved: approval([bid(0, "2999.9"), ask(0, "3000.1")]), resting: live, now: t0 + ms)
        #expect(pass.keeps.map(\.clientOrderId) == live.map(\.clientOrderId))
        #expect(pass.isEmpty)
        #expect(pass.deferred == 0)
        #expect(reconciler.issued == 0)
    }

    @Test("outside the tolerance, or of another size, a resting quote is modified in place and keeps its id")
    func modifyOutsideTolerance() {
        var reconciler = QuoteReconciliation(instance: "exec-1")
        let far = resting("b0", bid(0, "2998.4"))  // 1.6 away from 3000: beyond 5 bps
        let resized = resting("a0", ask(0, "3001", "2"))
        let pass = reconciler.pass(
            symbol: "ETH", approved: approval([bid(0, "2999.9"), ask(0, "3001")]), resting: [far, resized], now: t0)
        #expect(pass.keeps.isEmpty)
        #expect(pass.cancels.isEmpty)
        #expect(pass.places.isEmpty)
        #expect(pass.modifies.map(\.clientOrderId) == [far.clientOrderId, resized.clientOrderId])
        #expect(pass.modifies.map(\.to) == [bid(0, "2999.9"), ask(0, "3001")])
        #expect(pass.modifies.map(\.from) == [far, resized])
    }

    @Test("without modify, a quote outside the tolerance is canceled and a new one placed")
    func cancelAndPlaceWithoutModify() {
        var reconciler = QuoteReconciliation(instance: "exec-1")
        let far = resting("b0", bid(0, "2990"))
        let pass = reconciler.pass(
            symbol: "ETH", approved: approval([bid(0, "3000")], allowModify: false), resting: [far], now: t0)
        #expect(pass.modifies.isEmpty)
        #expect(pass.cancels == [far.clientOrderId])
        #expect(pass.places.map(\.quote) == [bid(0, "3000")])
        #expect(pass.places[0].clientOrderId != far.clientOrderId)
        #expect(isClientOrderId(pass.places[0].clientOrderId))
    }

    @Test("the matching keeps as many as possible, not the nearest first")
    func maximalMatching() {
        var reconciler = QuoteReconciliation(instance: "exec-1")
        // 10 bps of 100 is 0.1. Wanted 100.09's nearest resting is 100.08, the only one 100.00 can keep;
        // a nearest-first matching keeps one, the maximal one keeps both.
        let x = resting("x", ask(0, "100.08"))
        let y = resting("y", ask(1, "100.18"))
        let pass = reconciler.pass(
            symbol: "ETH", approved: approval([ask(0, "100"), ask(1, "100.09")], toleranceBps: 10), resting: [y, x],
            now: t0)
        #expect(Set(pass.keeps.map(\.clientOrderId)) == [x.clientOrderId, y.clientOrderId])
        #expect(pass.isEmpty)
    }

    @Test("a quote older than the maximum order age is replaced even within the tolerance")
    func maxOrderAgeReplaces() {
        var reconciler = QuoteReconciliation(instance: "exec-1")
        let old = resting("old", bid(0, "3000"), placedAt: t0)
        let young = resting("young", ask(0, "3001"), placedAt: t0 + 30_000 * ms)
        let wanted = approval([bid(0, "3000"), ask(0, "3001")], maxOrderAgeMs: 60_000, expiresAt: t0 + 100_000 * ms)
        let now = t0 + 60_001 * ms
        let pass = reconciler.pass(symbol: "ETH", approved: wanted, resting: [old, young], now: now)
        #expect(pass.keeps == [young])
        #expect(pass.modifies.map(\.clientOrderId) == [old.clientOrderId])
        #expect(pass.aged == 1)

        // Exactly at the age it is still kept; without modify the old one is canceled and replaced.
        var other = QuoteReconciliation(instance: "exec-1")
        #expect(
            step { other.pass(symbol: "ETH", approved: wanted, resting: [old, young], now: t0 + 60_000 * ms) }.isEmpty)
        var noModify = wanted
        noModify.refresh.allowModify = false
        let replaced = other.pass(symbol: "ETH", approved: noModify, resting: [old, young], now: now)
        #expect(replaced.cancels == [old.clientOrderId])
        #expect(replaced.places.map(\.quote) == [bid(0, "3000")])
    }

    @Test("an expired approval, a missing one, an empty one and one for another symbol cancel every quote")
    func withdrawals() {
        var reconciler = QuoteReconciliation(instance: "exec-1")
        let live = [resting("b0", bid(0, "3000")), resting("a0", ask(0, "3001"))]
        let ids = live.map(\.clientOrderId)
        let wanted = [bid(0, "3000"), ask(0, "3001")]

        let expired = reconciler.pass(
            symbol: "ETH", approved: approval(wanted, expiresAt: t0), resting: live, now: t0 + 1)
        #expect(expired.cancels == ids)
        #expect(expired.keeps.isEmpty && expired.places.isEmpty && expired.modifies.isEmpty)
        #expect(expired.reasons.map(\.code) == [.quotesExpired])

        let atExpiry = reconciler.pass(symbol: "ETH", approved: approval(wanted, expiresAt: t0), resting: live, now: t0)
        #expect(atExpiry.cancels.isEmpty)

        let none = reconciler.pass(symbol: "ETH", approved: nil, resting: live, now: t0)
        #expect(none.cancels == ids)

        let halted = reconciler.pass(
            symbol: "ETH", approved: approval([], reasons: [Reason(.stateHalted, "kill switch")]), resting: live,
            now: t0)
        #expect(halted.cancels == ids)
        #expect(halted.reasons == [Reason(.stateHalted, "kill switch")])

        let wrong = reconciler.pass(symbol: "ETH", approved: approval(wanted, symbol: "BTC"), resting: live, now: t0)
        #expect(wrong.cancels == ids)
        #expect(wrong.reasons.map(\.code) == [.invalidIntent])
    }

    @Test("cancels come first, then modifies and places nearest the touch, bid and ask alternating")
    func orderOfWork() {
        var reconciler = QuoteReconciliation(instance: "exec-1")
        let stale = resting("stale", bid(3, "2900"))
        let bid1 = resting("bid1", bid(1, "2990", "2"))
        let wanted = [bid(0, "2999"), bid(1, "2998"), ask(0, "3001"), ask(1, "3002")]
        let pass = reconciler.pass(symbol: "ETH", approved: approval(wanted), resting: [stale, bid1], now: t0)
        // The two resting bids are modified into the two wanted bids, nearest first.
        #expect(pass.modifies.map(\.clientOrderId) == [bid1.clientOrderId, stale.clientOrderId])
        #expect(pass.modifies.map(\.to) == [bid(0, "2999"), bid(1, "2998")])
        #expect(pass.places.map(\.quote) == [ask(0, "3001"), ask(1, "3002")])
        #expect(pass.cancels.isEmpty)
    }

    @Test("below the allowance, every cancel goes and the quotes nearest the touch go first; the rest is deferred")
    func budgetTrims() {
        var reconciler = QuoteReconciliation(instance: "exec-1")
        let stray = resting("stray", ask(5, "3100", "3"))
        let wanted = [bid(0, "2999"), bid(1, "2998"), bid(2, "2997"), ask(0, "3001"), ask(1, "3002")]
        let pass = reconciler.pass(
            symbol: "ETH", approved: approval(wanted, allowModify: false), resting: [stray], now: t0,
            nonCancelAllowance: 3)
        #expect(pass.cancels == [stray.clientOrderId])
        #expect(pass.places.map(\.quote) == [bid(0, "2999"), ask(0, "3001"), bid(1, "2998")])
        #expect(pass.deferred == 2)
        let reason = pass.reasons.first { $0.code == .requestBudget }
        #expect(reason?.detail == "5 modifies and places wanted, 3 allowed now: 2 deferred (1 cancels sent)")

        let onlyCancels = reconciler.pass(
            symbol: "ETH", approved: approval(wanted, allowModify: false), resting: [stray], now: t0,
            nonCancelAllowance: 0)
        #expect(onlyCancels.requestCount == 1)
        #expect(onlyCancels.deferred == 5)
    }

    @Test("new client order ids are derived: the same for the same instance and count, unique within an instance")
    func deterministicIds() {
        let wanted = approval([bid(0, "2999"), ask(0, "3001")])
        var a = QuoteReconciliation(instance: "exec-1")
        var b = QuoteReconciliation(instance: "exec-1")
        var c = QuoteReconciliation(instance: "exec-2")
        let first = a.pass(symbol: "ETH", approved: wanted, resting: [], now: t0).places.map(\.clientOrderId)
        #expect(
            first == step { b.pass(symbol: "ETH", approved: wanted, resting: [], now: t0) }.places.map(\.clientOrderId))
        #expect(first.allSatisfy(isClientOrderId))
        #expect(
            first[0]
                == Identifier.clientOrderId(forIntent: "quote|ETH|exec-1|7|buy|0|1"))
        let again = a.pass(symbol: "ETH", approved: wanted, resting: [], now: t0).places.map(\.clientOrderId)
        let other = c.pass(symbol: "ETH", approved: wanted, resting: [], now: t0).places.map(\.clientOrderId)
        #expect(Set(first + again + other).count == 6)
        #expect(a.issued == 4)
    }

    @Test("quotes that cannot be orders are dropped with a reason; duplicate resting ids count once")
    func badInput() {
        var reconciler = QuoteReconciliation(instance: "exec-1")
        let wanted = [bid(0, "2999"), bid(0, "2998"), ask(0, "0"), ask(1, "3002", "0")]
        let twice = resting("b", bid(0, "2999"))
        let pass = reconciler.pass(
            symbol: "ETH", approved: approval(wanted), resting: [twice, twice], now: t0, nonCancelAllowance: -3)
        #expect(pass.keeps == [twice])
        #expect(pass.isEmpty)
        #expect(pass.reasons.filter { $0.code == .invalidIntent }.count == 3)

        let infinite = reconciler.pass(
            symbol: "ETH", approved: approval([bid(0, "2999")], toleranceBps: .infinity),
            resting: [resting("x", bid(0, "2000"))], now: t0)
        #expect(infinite.modifies.count == 1)
    }
}

/// Runs a mutating call outside `#expect`, which cannot capture a variable it mutates.
func step<T>(_ body: () -> T) -> T { body() }
