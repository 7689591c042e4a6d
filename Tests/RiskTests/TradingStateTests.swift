import Risk
import Schema
import Testing

@Suite("Trading state")
struct TradingStateTests {
    /// 100 units at 100 on 10 000 of capital: each 1 off the mark is 1 % of equity.
    func exposedBook(_ limits: RiskLimits = roomyLimits()) -> RiskBook {
        activeBook(limits, capital: 10_000, positions: [position("S0", 100)])
    }

    /// The field failure: a 40 % drawdown ran past an 8 % lock.
    @Test func drawdownPastTheLockHaltsAtTheFirstStepPastIt() {
        var book = exposedBook()
        var now = t0
        var haltedAt: Amount?
        var states: [TradingState] = []
        for tenth in stride(from: 1_000, through: 600, by: -5) {
            now += seconds(1)
            let mark = Amount(tenth) / 10
            let changes = book.updateMark(symbol: "S0", price: mark, now: now)
            if haltedAt == nil, changes.contains(where: { $0.state == .halted }) { haltedAt = mark }
            states.append(book.state)
            // Never an entry once past the lock.
            if mark <= 92 {
                let entry = book.evaluate(intent("e\(tenth)", "S1", at: now), now: now)
                #expect(entry.outcome == .rejected)
            }
        }
        #expect(haltedAt == 92)  // equity 9200 = 8 % below the 10 000 peak
        #expect(book.state == .halted)
        #expect(states.contains(.reducing))
        #expect(book.drawdown == 0.4)
    }

    @Test func aJumpStraightToFortyPercentGoesStraightToHalted() {
        var book = exposedBook()
        let changes = book.updateMark(symbol: "S0", price: 60, now: t0 + 1)
        #expect(changes.count == 1)
        #expect(changes.first?.previous == .active)
        #expect(changes.first?.state == .halted)
        #expect(changes.first?.reasons.first?.code == .drawdownLock)
        #expect(changes.first?.reasons.first?.detail == "drawdown 40 % (equity 6000, peak 10000) ≥ lock 8 %")
    }

    @Test func drawdownIsFromThePeakAndNeverAboveOne() {
        var book = exposedBook()
        _ = book.updateMark(symbol: "S0", price: 110, now: t0 + 1)
        #expect(book.peakEquity == 11_000)
        // 10 450 is 5 % below the 11 000 peak, though above the starting capital.
        let changes = book.updateMark(symbol: "S0", price: "104.5", now: t0 + 2)
        #expect(changes.first?.state == .reducing)
        #expect(changes.first?.reasons.first?.code == .drawdownReduce)


        // 200 units on 10 000: a collapse to 0.01 leaves equity below zero.
        var wiped = activeBook(capital: 10_000, positions: [position("S0", 200)])
        _ = wiped.updateMark(symbol: "S0", price: "0.01", now: t0 + 3)
        #expect(wiped.equity == -9_998)
        #expect(wiped.drawdown == 1)
    }

    @Test func reducingAllowsOnlyShrinkingOrdersAndRecovers() throws {
        var book = exposedBook()
        let down = book.updateMark(symbol: "S0", price: 95, now: t0 + 1)
        #expect(down.first?.state == .reducing)
        #expect(book.evaluate(intent("entry", "S1", at: t0 + 1), now: t0 + 1).code == .stateReducing)
        #expect(book.evaluate(intent("add", "S0", at: t0 + 1), now: t0 + 1).code == .stateReducing)
        // An opposite entry shrinks the position: it passes, as reduce-only.
        let shrink = book.evaluate(intent("shrink", "S0", .sell, size: 10, price: 95, at: t0 + 1), now: t0 + 1)
        #expect(shrink.outcome == .approved)
        #expect(shrink.order?.reduceOnly == true)
        let flip = book.evaluate(intent("flip", "S0", .sell, size: 200, price: 95, at: t0 + 1), now: t0 + 1)
        #expect(flip.code == .exceedsPosition)
        #expect(flip.order?.size == 90)

        let up = book.updateMark(symbol: "S0", price: 99, now: t0 + 2)
        #expect(up.first?.previous == .reducing)
        #expect(up.first?.state == .active)
        #expect(up.first?.reasons.first?.code == .recovered)
        #expect(book.evaluate(intent("entry2", "S1", at: t0 + 2), now: t0 + 2).outcome == .approved)
    }

    @Test func haltedRefusesEntriesButLetsPositionsBeClosed() {
        var book = exposedBook()
        _ = book.updateMark(symbol: "S0", price: 92, now: t0 + 1)
        #expect(book.state == .halted)
        let entry = book.evaluate(intent("entry", "S1", at: t0 + 1), now: t0 + 1)
        #expect(entry.code == .stateHalted)
        let exit = book.evaluate(exitIntent("exit", "S0", .sell, size: 100, price: 92, at: t0 + 1), now: t0 + 1)
        #expect(exit.outcome == .approved)
        // Recovery does not leave HALTED by itself.
        #expect(book.updateMark(symbol: "S0", price: 100, now: t0 + 2).isEmpty)
        #expect(book.state == .halted)
    }

    @Test func resumeIsRefusedWhileTheCausePersists() {
        var book = exposedBook()
        _ = book.updateMark(symbol: "S0", price: 90, now: t0 + 1)
        guard case .refused(let causes) = book.resume(now: t0 + 2) else {
            Issue.record("resume should be refused at 10 % drawdown")
            return
        }
        #expect(causes.map(\.code) == [.drawdownLock])
        // The operator acknowledges the loss; the peak restarts at current equity.
        book.rebaseEquityPeak(now: t0 + 3)
        guard case .resumed(let change) = book.resume(now: t0 + 4) else {
            Issue.record("resume should pass after the peak is rebased")
            return
        }
        #expect(change.previous == .halted)
        #expect(change.state == .active)
        #expect(change.reasons.first?.code == .resumed)
        #expect(book.resume(now: t0 + 5) == .notHalted(.active))
    }

    @Test func dailyLossLimitHaltsAndANewDayClearsIt() {
        let limits = roomyLimits(dailyLossLimit: 300, drawdownLock: 0.5, reduceAtDrawdown: 0.4)
        var book = exposedBook(limits)
        // Day 1: −250, below the limit.
        #expect(book.updateMark(symbol: "S0", price: "97.5", now: t0 + seconds(3_600)).isEmpty)
        #expect(book.dailyLoss == 250)
        // Day 2 starts from 9750: another −250 is 250 for the day, not 500.
        let day2 = t0 + Nanos.day + seconds(10)
        #expect(book.tick(now: day2).isEmpty)
        #expect(book.updateMark(symbol: "S0", price: 95, now: day2 + 1).isEmpty)
        #expect(book.dailyLoss == 250)
        #expect(book.state == .active)
        // −60 more: 310 for the day.
        let changes = book.updateMark(symbol: "S0", price: "94.4", now: day2 + 2)
        #expect(changes.first?.state == .halted)
        #expect(changes.first?.reasons.map(\.code) == [.dailyLossLimit])
        #expect(changes.first?.reasons.first?.detail == "loss 310 since the day's start equity 9750 ≥ limit 300")
        guard case .refused = book.resume(now: day2 + 3) else {
            Issue.record("resume should be refused on the day of the loss")
            return
        }
        let day3 = t0 + 2 * Nanos.day + seconds(1)
        guard case .resumed(let change) = book.resume(now: day3) else {
            Issue.record("a new UTC day should clear the daily loss")
            return
        }
        #expect(change.state == .active)
    }

    @Test func venueOutageReducesThenHaltsAfterTheGrace() {
        var limits = roomyLimits()
        limits.venueOutageGraceNanos = seconds(60)
        var book = exposedBook(limits)
        let down = book.setVenueAvailable(false, reason: "502 from /info", now: t0)
        #expect(down.first?.state == .reducing)
        #expect(down.first?.reasons.first?.code == .venueUnavailable)
        // Still down later: the outage start is kept, not restarted.
        #expect(book.setVenueAvailable(false, reason: "timeout", now: t0 + seconds(30)).isEmpty)
        #expect(book.tick(now: t0 + seconds(60) - 1).isEmpty)
        let halted = book.tick(now: t0 + seconds(60))
        #expect(halted.first?.previous == .reducing)
        #expect(halted.first?.state == .halted)
        #expect(halted.first?.reasons.map(\.code) == [.venueOutage])

        #expect(book.setVenueAvailable(true, reason: "ok", now: t0 + seconds(70)).isEmpty)
        #expect(book.state == .halted)
        guard case .resumed(let change) = book.resume(now: t0 + seconds(71)) else {
            Issue.record("resume should pass once the venue is back")
            return
        }
        #expect(change.state == .active)
    }

    @Test func aShortOutageRecoversWithoutHalting() {
        var book = exposedBook()
        _ = book.setVenueAvailable(false, reason: "blip", now: t0)
        let back = book.setVenueAvailable(true, reason: "ok", now: t0 + seconds(5))
        #expect(back.first?.state == .active)
        #expect(back.first?.reasons.first?.code == .recovered)
    }

    @Test func killSwitchHaltsFromAnyStateAndNeedsAResume() {
        var book = exposedBook()
        let on = book.setKillSwitch(true, reason: "operator: runaway strategy", now: t0 + 1)
        #expect(on.first?.state == .halted)
        #expect(on.first?.killSwitch == true)
        #expect(on.first?.reasons.first?.code == .killSwitch)
        #expect(book.killSwitchEngaged)

        let entry = book.evaluate(intent("entry", "S1", at: t0 + 1), now: t0 + 1)
        #expect(entry.codes == [.killSwitch, .stateHalted])
        #expect(book.evaluate(exitIntent("exit", "S0", .sell, size: 50, at: t0 + 1), now: t0 + 1).outcome == .approved)

        guard case .refused(let causes) = book.resume(now: t0 + 2) else {
            Issue.record("resume must be refused while the kill switch is engaged")
            return
        }
        #expect(causes.map(\.code) == [.killSwitch])
        #expect(book.setKillSwitch(false, reason: "cleared", now: t0 + 3).isEmpty)
        #expect(book.state == .halted)
        guard case .resumed = book.resume(now: t0 + 4) else {
            Issue.record("resume should pass once the kill switch is released")
            return
        }
        #expect(book.state == .active)
    }

    @Test func drawdownLockEngagedWhileHaltedForItAndUntilResumed() {
        var book = exposedBook()
        _ = book.updateMark(symbol: "S0", price: 95, now: t0 + 1)
        #expect(book.state == .reducing)
        #expect(!book.drawdownLockEngaged)
        _ = book.updateMark(symbol: "S0", price: 90, now: t0 + 2)
        #expect(book.drawdownLockEngaged)
        // Latched: a recovery below the lock leaves it engaged until the operator resumes.
        _ = book.updateMark(symbol: "S0", price: 99, now: t0 + 3)
        #expect(book.state == .halted)
        #expect(book.drawdownLockEngaged)
        guard case .resumed = book.resume(now: t0 + 4) else {
            Issue.record("resume should pass at 1 % drawdown")
            return
        }
        #expect(!book.drawdownLockEngaged)

        // Halted by the kill switch first, then past the lock: engaged too, as resume would refuse it.
        var switched = exposedBook()
        _ = switched.setKillSwitch(true, reason: "drill", now: t0 + 1)
        #expect(!switched.drawdownLockEngaged)
        _ = switched.updateMark(symbol: "S0", price: 90, now: t0 + 2)
        #expect(switched.drawdownLockEngaged)
    }

    @Test func killSwitchWhileSyncingResumesToSyncing() {
        var book = RiskBook(limits: roomyLimits(), instruments: testInstruments(), startingCapital: 10_000, now: t0)
        #expect(book.setKillSwitch(true, reason: "test", now: t0).first?.state == .halted)
        _ = book.setKillSwitch(false, reason: "test", now: t0 + 1)
        guard case .resumed(let change) = book.resume(now: t0 + 2) else {
            Issue.record("resume should pass")
            return
        }
        #expect(change.state == .syncing)
    }

    @Test func flattenClosesEveryPositionOnce() {
        var book = activeBook(positions: [position("S0", 2), position("S1", -3)])
        _ = book.setKillSwitch(true, reason: "flatten", now: t0)
        let verdicts = book.flatten(now: t0 + 1)
        #expect(verdicts.map(\.outcome) == [.approved, .approved])
        #expect(verdicts.map { $0.order?.side } == [.sell, .buy])
        #expect(verdicts.map { $0.order?.size } == [2, 3])
        #expect(verdicts.allSatisfy { $0.order?.reduceOnly == true && $0.order?.timeInForce == .ioc })
        #expect(book.flatten(now: t0 + 2).isEmpty)  // already being closed
    }

    @Test func equityFollowsTheLedgerFormula() {
        var book = RiskBook(limits: roomyLimits(), instruments: testInstruments(), startingCapital: 10_000, now: t0)
        let snap = snapshot(
            at: t0, realized: 500, fees: 20, funding: -5, positions: [position("S0", 10, entry: 100, unrealized: 30)])
        _ = book.apply(snap, now: t0)
        #expect(book.equity == 10_505)  // 10 000 + 500 − 20 − 5 + 30
        _ = book.updateMark(symbol: "S0", price: 110, now: t0 + 1)
        #expect(book.equity == 10_575)  // unrealised now at the mark: 10 × 10
    }
}
