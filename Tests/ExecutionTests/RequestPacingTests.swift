import Execution
import Hyperliquid
import Schema
import Testing

private let second: EpochNanos = 1_000_000_000

@Suite("Request budget")
struct RequestBudgetTests {
    @Test("the reserve is the larger of 10 % of the cap and 500")
    func reserve() {
        let budget = RequestBudget()
        #expect(budget.reserve(cap: 10_000) == 1_000)
        #expect(budget.reserve(cap: 3_000) == 500)
        #expect(budget.reserve(cap: 25_001) == 2_501)
        #expect(budget.reserve(cap: -5) == 500)
    }

    @Test("within the reserve only cancels go: the non-cancel allowance is zero, with the numbers")
    func reserveLeavesOnlyCancels() {
        var budget = RequestBudget()
        budget.observe(used: 8_990, cap: 10_000, at: t0)
        let near = budget.allowance(now: t0)
        #expect(near.nonCancel == 10)
        #expect(near.reason?.code == .requestBudget)

        budget.observe(used: 9_000, cap: 10_000, at: t0 + second)
        let at = budget.allowance(now: t0 + second)
        #expect(at.nonCancel == 0)
        #expect(at.cancels == 11_000)
        #expect(at.reason == Reason(.requestBudget, "only cancels: 9000 of 10000 requests used, 1000 kept in reserve"))

        // A pass over that allowance sends its cancels and defers the rest.
        var reconciler = QuoteReconciliation(instance: "exec-1")
        let stray = resting("stray", bid(4, "2900"))
        let pass = reconciler.pass(
            symbol: "ETH", approved: approval([bid(0, "2999"), ask(0, "3001")], allowModify: false), resting: [stray],
            now: t0 + second, nonCancelAllowance: at.nonCancel)
        #expect(pass.cancels == [stray.clientOrderId])
        #expect(pass.nonCancelCount == 0)
        #expect(pass.deferred == 2)
    }

    @Test("what was spent since the reading counts on top of it until a later reading covers it")
    func spendsSinceReading() {
        var budget = RequestBudget()
        budget.observe(used: 8_000, cap: 10_000, at: t0)
        budget.spend(nonCancel: 24, cancels: 6, at: t0 + 5 * second)
        #expect(budget.estimatedUsed == 8_030)
        // A reading taken 1 s after the spend might miss it (in flight): still counted.
        budget.observe(used: 8_030, cap: 10_000, at: t0 + 6 * second)
        #expect(budget.estimatedUsed == 8_060)
        // One taken past the grace includes it.
        budget.observe(used: 8_030, cap: 10_000, at: t0 + 8 * second)
        #expect(budget.estimatedUsed == 8_030)
        // An older reading and a negative one are ignored.
        #expect(!step { budget.observe(used: 1, cap: 10_000, at: t0) })
        #expect(!step { budget.observe(used: -1, cap: 10_000, at: t0 + 9 * second) })
        #expect(budget.estimatedUsed == 8_030)
    }

    @Test("the pacing bucket lets a burst through, then the sustained rate")
    func tokenBucketPaces() {
        var budget = RequestBudget(settings: .init(sustainedPerSecond: 2, burst: 48))
        budget.observe(used: 0, cap: 10_000, at: t0)
        #expect(budget.allowance(now: t0).nonCancel == 48)
        #expect(budget.allowance(now: t0).reason == nil)
        budget.spend(nonCancel: 48, cancels: 0, at: t0)
        #expect(budget.allowance(now: t0).nonCancel == 0)
        #expect(budget.allowance(now: t0 + 5 * second).nonCancel == 10)
        #expect(budget.allowance(now: t0 + 5 * second).reason?.code == .requestBudget)
        #expect(budget.allowance(now: t0 + 3_600 * second).nonCancel == 48)
        // A clock going back adds nothing.
        #expect(budget.allowance(now: t0 - second).nonCancel == 0)
        // Cancels are never held back but drain the bucket, not below −burst.
        budget.spend(nonCancel: 0, cancels: 500, at: t0 + 24 * second)
        #expect(budget.allowance(now: t0 + 24 * second).nonCancel == 0)
        #expect(budget.allowance(now: t0 + 48 * second).nonCancel == 0)
        #expect(budget.allowance(now: t0 + 49 * second).nonCancel == 2)
        // One minute of a 24-quote ladder re-quoted every second would be 1,440 requests; paced it is
        // the burst and 2 a second after it.
        var paced = RequestBudget()
        var sent = 0
        for tick in 0..<60 {
            let now = t0 + EpochNanos(tick) * second
            let n = min(24, paced.allowance(now: now).nonCancel)
            paced.spend(nonCancel: n, cancels: 0, at: now)
            sent += n
        }
        #expect(sent == 48 + 2 * 59)
    }

    @Test("before the first reading only the bucket limits; unsound settings still pace")
    func noReadingAndBadSettings() {
        let fresh = RequestBudget()
        #expect(fresh.allowance(now: t0) == RequestBudget.Allowance(nonCancel: 48, cancels: nil, reason: nil))
        #expect(RequestBudget.Settings(burst: 0).problem == "burst 0 must be at least 1")
        #expect(RequestBudget.Settings(sustainedPerSecond: .nan).problem != nil)
        #expect(RequestBudget.Settings().problem == nil)
        let repaired = RequestBudget(settings: .init(reserveFraction: 2, sustainedPerSecond: -1, burst: 0))
        #expect(repaired.settings.burst == 1)
        #expect(repaired.settings.sustainedPerSecond == 2)
        #expect(repaired.settings.reserveFraction == 0.10)
        #expect(repaired.allowance(now: t0).nonCancel == 1)
    }

    @Test("the venue's address-budget refusal is read as a reading; for a cancel the cap is worked back")
    func cumulativeRefusal() {
        let message =
            "Too many cumulative requests sent (14295 > 14294) for cumulative volume traded $4294.52. Place taker orders to free up 1 request per USDC traded."
        #expect(RequestBudget.cumulativeLimit(in: message).map { [$0.used, $0.limit] } == [14_295, 14_294])
        #expect(RequestBudget.cumulativeLimit(in: "Order must have minimum value of $10.") == nil)
        #expect(RequestBudget.cumulativeLimit(in: "Too many cumulative requests sent (x > 1)") == nil)
        var budget = RequestBudget()
        #expect(step { budget.observe(venueMessage: message, wasCancel: false, at: t0) })
        #expect(budget.readingCap == 14_294)
        #expect(budget.allowance(now: t0).nonCancel == 0)
        var cancels = RequestBudget()
        cancels.observe(
            venueMessage: "Too many cumulative requests sent (20001 > 20000) for cumulative volume traded $0.",
            wasCancel: true, at: t0)
        #expect(cancels.readingCap == 10_000)
        cancels.observe(
            venueMessage: "Too many cumulative requests sent (250001 > 250000) for cumulative volume traded $0.",
            wasCancel: true, at: t0 + 1)
        #expect(cancels.readingCap == 150_000)
        #expect(
            !step { cancels.observe(venueMessage: "Insufficient margin to place order.", wasCancel: false, at: t0 + 2) }
        )
    }
}

@Suite("Refresh pacer")
struct RefreshPacerTests {
    private func outcome(alo: Int = 0, failed: Int = 0, rateLimited: Bool = false, cumulative: Bool = false)
        -> QuoteOutcome
    {
        var outcome = QuoteOutcome()
        outcome.aloRejected = alo
        outcome.failed = failed
        outcome.rateLimited = rateLimited
        if cumulative { outcome.cumulativeLimitMessage = "Too many cumulative requests sent (3 > 2)" }
        return outcome
    }

    @Test("more ALO rejects than the threshold in a pass double the interval, with the numbers")
    func aloStormDoubles() {
        var pacer = RefreshPacer()
        #expect(pacer.intervalMs == 250)
        #expect(step { pacer.record(outcome(alo: 4)) } == nil)
        #expect(pacer.intervalMs == 250)
        let reason = pacer.record(outcome(alo: 5))
        #expect(reason == Reason(.refreshSlowed, "refresh 250 → 500 ms: 5 ALO rejects in a pass (threshold 4)"))
        #expect(pacer.intervalMs == 500)
    }

    @Test("a 429, the address budget's refusal and a reject storm double it, up to the maximum")
    func rateLimitDoubles() {
        var pacer = RefreshPacer(settings: .init(minimumIntervalMs: 250, maximumIntervalMs: 1_500))
        #expect(
            step { pacer.record(outcome(rateLimited: true)) }?.detail
                == "refresh 250 → 500 ms: venue rate limit (HTTP 429)")
        #expect(
            step { pacer.record(outcome(rateLimited: true, cumulative: true)) }?.detail
                == "refresh 500 → 1000 ms: address request budget exhausted")
        #expect(
            step { pacer.record(outcome(failed: 3)) }?.detail
                == "refresh 1000 → 1500 ms: 3 refusals in a pass (storm at 3)")
        #expect(step { pacer.record(outcome(failed: 9)) } == nil)
        #expect(pacer.intervalMs == 1_500)
    }

    @Test("clean passes in a row halve it back to the minimum; a refusal restarts the count")
    func relaxes() {
        var pacer = RefreshPacer()
        pacer.record(outcome(rateLimited: true))
        pacer.record(outcome(rateLimited: true))
        #expect(pacer.intervalMs == 1_000)
        #expect(step { pacer.record(outcome()) } == nil)
        #expect(step { pacer.record(outcome(alo: 2)) } == nil)  // a few ALO rejects at the touch are normal
        #expect(step { pacer.record(outcome()) }?.detail == "refresh 1000 → 500 ms: 3 clean passes in a row")
        #expect(step { pacer.record(outcome()) } == nil)
        #expect(step { pacer.record(outcome(failed: 1)) } == nil)
        #expect(step { pacer.record(outcome()) } == nil)
        #expect(step { pacer.record(outcome()) } == nil)
        #expect(pacer.intervalMs == 500)
        #expect(step { pacer.record(outcome()) } != nil)
        #expect(pacer.intervalMs == 250)
        for _ in 0..<6 { #expect(step { pacer.record(outcome()) } == nil) }
        #expect(pacer.intervalMs == 250)
    }

    @Test("a pass is due once the interval has passed since the last one")
    func due() {
        var pacer = RefreshPacer()
        #expect(pacer.isDue(now: t0))
        pacer.passSent(at: t0)
        #expect(!pacer.isDue(now: t0 + 249 * ms))
        #expect(pacer.isDue(now: t0 + 250 * ms))
        pacer.record(outcome(alo: 10))
        #expect(!pacer.isDue(now: t0 + 499 * ms))
        #expect(pacer.nextPassAt == t0 + 500 * ms)
        #expect(RefreshPacer.Settings(minimumIntervalMs: 0).problem != nil)
        #expect(RefreshPacer(settings: .init(minimumIntervalMs: 0, maximumIntervalMs: -1)).intervalMs == 1)
    }
}

@Suite("Request budget memory")
struct RequestBudgetMemoryTests {
    @Test("hours of spends without a reading are all counted; a reading after them clears them")
    func longRun() {
        var budget = RequestBudget(settings: .init(sustainedPerSecond: 1_000, burst: 1_000))
        for tick in 0..<7_200 { budget.spend(nonCancel: 1, cancels: 0, at: t0 + EpochNanos(tick) * 1_000_000_000) }
        #expect(budget.spentSinceReading == 7_200)
        budget.observe(used: 7_000, cap: 20_000, at: t0 + 7_000 * 1_000_000_000)
        // Spends less than 2 s before the reading, and after it, stay counted: 6_999 … 7_199.
        #expect(budget.spentSinceReading == 201)
        #expect(budget.estimatedUsed == 7_201)
        // A reading far in the past covers none of what it did not see: the forgotten ones stay counted.
        var stale = RequestBudget()
        for tick in 0..<700 { stale.spend(nonCancel: 1, cancels: 0, at: t0 + EpochNanos(tick) * 1_000_000_000) }
        stale.observe(used: 0, cap: 20_000, at: t0 - 1)
        #expect(stale.spentSinceReading == 700)
    }
}

@Suite("Quote report")
struct QuoteReportTests {
    @Test("a pass and its outcome become the exec.quotes report")
    func report() {
        var budget = RequestBudget()
        budget.observe(used: 120, cap: 10_000, at: t0)
        budget.spend(nonCancel: 3, cancels: 1, at: t0 + 1)
        var outcome = QuoteOutcome()
        outcome.placed = 2
        outcome.aloRejected = 1
        outcome.canceled = 1
        let kept = resting("k", bid(1, "2990"))
        let pass = QuotePass(
            symbol: "ETH", targetId: "target-1", sequence: 7, keeps: [kept], cancels: ["0x000000000000000000000000000000c0"], modifies: [],
            places: [], deferred: 2, reasons: [Reason(.requestBudget, "x")])
        let report = QuoteReport(
            pass: pass, outcome: outcome, refused: 1, resting: [kept], budget: budget, refreshIntervalMs: 500,
            time: t0 + 2)
        #expect(report.topic == "exec.quotes.ETH")
        #expect(report.kept == 1 && report.placed == 2 && report.canceled == 1 && report.aloRejected == 1)
        #expect(report.failed == 1 && report.deferred == 2)
        #expect(report.requestsUsed == 124 && report.requestsCap == 10_000)
        #expect(report.refreshIntervalMs == 500)
        #expect(report.restingBids == 1)
    }
}

@Suite("Reconciliation within the budget")
struct BudgetedPassTests {
    @Test("a pass given the budget sends what it allows and says why the rest waits")
    func budgetedPass() {
        var budget = RequestBudget()
        budget.observe(used: 8_998, cap: 10_000, at: t0)
        var reconciler = QuoteReconciliation(instance: "exec-1")
        let wanted = approval([bid(0, "2999"), ask(0, "3001"), bid(1, "2998"), ask(1, "3002")])
        let pass = reconciler.pass(symbol: "ETH", approved: wanted, resting: [], now: t0, budget: budget)
        #expect(pass.places.map(\.quote) == [bid(0, "2999"), ask(0, "3001")])
        #expect(pass.deferred == 2)
        #expect(
            pass.reasons.last
                == Reason(.requestBudget, "2 requests left above the reserve of 1000 (8998 of 10000 used)"))

        let roomy = RequestBudget()
        let full = reconciler.pass(symbol: "ETH", approved: wanted, resting: [], now: t0, budget: roomy)
        #expect(full.places.count == 4)
        #expect(full.reasons.isEmpty)
    }
}
