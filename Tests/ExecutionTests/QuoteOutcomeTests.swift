import Execution
import Schema
import Testing

/// A quote command as the executor sends it.
private func quoteCommand(_ action: OrderCommand.Action, _ id: String) -> OrderCommand {
    OrderCommand(
        action: action, clientOrderId: id, intentId: "target-1", symbol: "ETH", side: .buy, size: 1, orderType: .limit,
        price: 3_000, timeInForce: .alo, reduceOnly: false, purpose: .entry, strategy: "market_making",
        ackDeadline: t0, quoteTier: 0)
}

@Suite("Quote outcomes: what the venue's answers mean for a pass")
struct QuoteOutcomeTests {
    @Test("accepted, modified and canceled orders are counted; a missing answer leaves the order uncertain")
    func counts() {
        let commands = [
            quoteCommand(.place, "p"), quoteCommand(.modify, "m"), quoteCommand(.cancel, "c"),
            quoteCommand(.place, "lost"),
        ]
        let outcome = QuoteOutcome(commands, answers: ["p": .resting, "m": .modified, "c": .canceled, "lost": OrderOutcome?.none])
        #expect(outcome.placed == 1 && outcome.modified == 1 && outcome.canceled == 1)
        #expect(outcome.uncertain == ["lost"])
        #expect(outcome.failed == 0 && outcome.aloRejected == 0)
    }

    @Test("Hyperliquid's post-only cross is an ALO reject, not a failure; an ended order is missing")
    func aloAndMissing() {
        let commands = [
            quoteCommand(.place, "a"), quoteCommand(.cancel, "gone"), quoteCommand(.modify, "ended"),
            quoteCommand(.cancel, "ledger"),
        ]
        let outcome = QuoteOutcome(
            commands,
            answers: [
                "a": .rejected(
                    Reason(.venueRejected, "Post only order would have immediately matched, bbo was 2999@3000. asset=1")),
                "gone": .rejected(Reason(.venueRejected, "Order was never placed, already canceled, or filled.")),
                "ended": .rejected(Reason(.venueRejected, "Cannot modify canceled or filled order.")),
                "ledger": .rejected(Reason(.venueRejected, OrderOutcome.notLive)),
            ])
        #expect(outcome.aloRejected == 1)
        #expect(outcome.missing == 3)
        #expect(outcome.failed == 0 && !outcome.rateLimited)
    }

    @Test("the address budget's refusal and a 429 are rate limits; other refusals fail with their reason")
    func rateLimits() {
        let budget = "Too many cumulative requests sent (10013 > 10012) for cumulative volume traded $12.00."
        let outcome = QuoteOutcome(
            [quoteCommand(.place, "b"), quoteCommand(.place, "margin")],
            answers: [
                "b": .rejected(Reason(.venueRejected, budget)),
                "margin": .rejected(Reason(.venueRejected, "Insufficient margin to place order.")),
            ])
        #expect(outcome.rateLimited)
        #expect(outcome.cumulativeLimitMessage == budget)
        #expect(outcome.failed == 2)
        #expect(outcome.reasons.map(\.detail).contains("Insufficient margin to place order."))

        let throttled = QuoteOutcome(
            [quoteCommand(.place, "t")], answers: ["t": .rejected(Reason(.venueUnavailable, "HTTP 429 Too Many Requests"))])
        #expect(throttled.rateLimited && throttled.cumulativeLimitMessage == nil)
    }

    @Test("an ALO storm slows the refresh; clean passes bring it back")
    func stormSlows() {
        var pacer = RefreshPacer()
        let storm = QuoteOutcome(
            (0..<6).map { quoteCommand(.place, "s\($0)") },
            answers: Dictionary(
                uniqueKeysWithValues: (0..<6).map {
                    ("s\($0)", .rejected(Reason(.venueRejected, "Post only order would have immediately matched, bbo was 1@2.")))
                }))
        let before = pacer.intervalMs
        #expect(pacer.record(storm)?.code == .refreshSlowed)
        #expect(pacer.intervalMs == before * 2)
    }
}
