import Foundation
import Risk
import Schema
import Testing

/// What the risk gate saves and restores across a restart (Breakwater issue #9, item 4).
@Suite("Risk memory")
struct RiskMemoryTests {
    /// A book as the gate builds it at start, before it hears anything.
    func freshBook(_ limits: RiskLimits = roomyLimits(), capital: Amount = 10_000, now: EpochNanos) -> RiskBook {
        RiskBook(limits: limits, instruments: testInstruments(), startingCapital: capital, now: now)
    }

    /// Through JSON, as the store keeps it: written by the bus's encoder, read by Foundation's; a file
    /// Foundation's encoder wrote (before) reads back the same.
    func throughJSON(_ memory: RiskMemory) throws -> RiskMemory {
        let stored = try JSONDecoder().decode(RiskMemory.self, from: Data(BodyEncoder().encode(memory)))
        #expect(try JSONDecoder().decode(RiskMemory.self, from: JSONEncoder().encode(memory)) == stored)
        return stored
    }

    @Test("the kill switch and HALTED latch survive: same causes, a fresh snapshot does not leave HALTED, resume refused while engaged")
    func killSwitchSurvives() throws {
        var book = activeBook()
        let engagedAt = t0 + seconds(5)
        let changes = book.setKillSwitch(true, reason: "drill", by: "alice", from: "127.0.0.1:5000", now: engagedAt)
        #expect(changes.map(\.state) == [.halted])
        let saved = try throughJSON(book.memory)
        #expect(saved.state == .halted)
        #expect(saved.killSwitch == .init(engaged: true, reason: "drill", by: "alice", from: "127.0.0.1:5000", since: engagedAt))
        #expect(saved.haltCauses == [Reason(.killSwitch, "engaged: drill")])

        let restart = t0 + seconds(60)
        var restored = freshBook(now: restart)
        let restated = restored.restore(saved, now: restart)
        #expect(restated.state == .halted)
        #expect(restated.killSwitch)
        #expect(restated.reasons.first?.code == .riskStateRestored)
        #expect(restated.reasons.contains(Reason(.killSwitch, "engaged: drill")))
        #expect(restored.state == .halted)
        #expect(restored.killSwitch == saved.killSwitch)
        #expect(restored.haltCausesLatched == saved.haltCauses)
        #expect(restored.memory == saved)

        // The first fresh snapshot syncs the account but HALTED is latched.
        #expect(restored.apply(snapshot(at: restart + 1), now: restart + 2).isEmpty)
        #expect(restored.state == .halted)
        #expect(restored.accountSynced)
        #expect(restored.evaluate(intent("after", at: restart + 3), now: restart + 3).outcome == .rejected)
        guard case .refused(let causes) = restored.resume(now: restart + 4) else {
            Issue.record("resume must be refused while the kill switch is engaged")
            return
        }
        #expect(causes.map(\.code) == [.killSwitch])

        // Released, then resumed: trading again.
        _ = restored.setKillSwitch(false, reason: "drill over", by: "alice", now: restart + 5)
        guard case .resumed(let change) = restored.resume(now: restart + 6) else {
            Issue.record("resume should succeed once the kill switch is released")
            return
        }
        #expect(change.state == .active)
        #expect(restored.memory.haltCauses.isEmpty)
    }

    @Test("a saved state other than HALTED restarts in SYNCING, and an engaged kill switch halts at the first settle")
    func nonHaltedStatesRestartSyncing() throws {
        var book = activeBook()
        _ = book.updateMark(symbol: "S0", price: 100, now: t0 + 1)
        var saved = book.memory
        #expect(saved.state == .active)
        var restored = freshBook(now: t0 + seconds(10))
        #expect(restored.restore(saved, now: t0 + seconds(10)).state == .syncing)
        #expect(restored.state == .syncing)
        let synced = restored.apply(snapshot(at: t0 + seconds(11)), now: t0 + seconds(11))
        #expect(synced.map(\.state) == [.active])

        // A kill switch saved without the halt (it cannot be, but a hand-edited file could say so).
        saved.killSwitch = .init(engaged: true, reason: "hand", by: "bob")
        var odd = freshBook(now: t0 + seconds(20))
        _ = odd.restore(saved, now: t0 + seconds(20))
        let changes = odd.apply(snapshot(at: t0 + seconds(21)), now: t0 + seconds(21))
        #expect(changes.map(\.state) == [.halted])
        #expect(changes.first?.reasons.map(\.code).contains(.killSwitch) == true)
    }

    @Test("a drawdown lock survives: the peak is restored, so the restart does not forget the loss; rebase then resume")
    func drawdownLockSurvives() throws {
        // 100 units at 100 on 10 000: a mark of 110 makes an 11 000 peak; 100 is 9.1 % below it.
        var book = activeBook(positions: [position("S0", 100)])
        _ = book.updateMark(symbol: "S0", price: 110, now: t0 + 1)
        #expect(book.peakEquity == 11_000)
        let halt = book.updateMark(symbol: "S0", price: 100, now: t0 + 2)
        #expect(halt.first?.state == .halted)
        #expect(halt.first?.reasons.first?.code == .drawdownLock)
        let saved = try throughJSON(book.memory)
        #expect(saved.peakEquity == 11_000)

        let restart = t0 + seconds(30)
        var restored = freshBook(now: restart)
        _ = restored.restore(saved, now: restart)
        #expect(restored.peakEquity == 11_000)
        #expect(restored.haltCausesLatched.map(\.code) == [.drawdownLock])
        _ = restored.updateMark(symbol: "S0", price: 100, now: restart + 1)
        _ = restored.apply(snapshot(at: restart + 1, positions: [position("S0", 100)]), now: restart + 2)
        #expect(restored.state == .halted)
        #expect(restored.drawdown > 0.09)
        guard case .refused(let causes) = restored.resume(now: restart + 3) else {
            Issue.record("resume must be refused while the drawdown lock holds")
            return
        }
        #expect(causes.map(\.code) == [.drawdownLock])

        // The operator's acknowledgement: the peak restarts at current equity.
        restored.rebaseEquityPeak(now: restart + 4)
        #expect(restored.peakEquity == 10_000)
        #expect(restored.memory.peakEquity == 10_000)
        #expect(restored.state == .halted)  // rebasing does not resume by itself
        guard case .resumed(let change) = restored.resume(now: restart + 5) else {
            Issue.record("resume should succeed after the rebase")
            return
        }
        #expect(change.state == .active)
    }

    @Test("the day's start equity survives within its UTC day, and a new UTC day still rolls")
    func dayStartEquitySurvives() throws {
        // Daily loss limit 300; 100 units of S0.
        let limits = roomyLimits(dailyLossLimit: 300, drawdownLock: 0.5, reduceAtDrawdown: 0.4)
        var book = activeBook(limits, positions: [position("S0", 100)])
        _ = book.updateMark(symbol: "S0", price: 98, now: t0 + seconds(10))  // −200 today
        let saved = try throughJSON(book.memory)
        #expect(saved.dayStartEquity == 10_000)
        #expect(saved.day == t0 / Nanos.day)

        // Same day: the loss so far still counts, so −150 more halts.
        let sameDay = t0 + seconds(60)
        var restored = freshBook(limits, now: sameDay)
        _ = restored.restore(saved, now: sameDay)
        _ = restored.updateMark(symbol: "S0", price: 98, now: sameDay)
        _ = restored.apply(snapshot(at: sameDay, positions: [position("S0", 100, entry: 100, unrealized: -200)]), now: sameDay)
        #expect(restored.state == .active)
        #expect(restored.dailyLoss == 200)
        let changes = restored.updateMark(symbol: "S0", price: "96.5", now: sameDay + 1)
        #expect(changes.first?.state == .halted)
        #expect(changes.first?.reasons.first?.code == .dailyLossLimit)

        // Next UTC day: the day starts from the equity at the restart, not from yesterday's.
        let nextDay = t0 + Nanos.day + seconds(5)
        var rolled = freshBook(limits, now: nextDay)
        _ = rolled.restore(saved, now: nextDay)
        _ = rolled.updateMark(symbol: "S0", price: 97, now: nextDay)
        _ = rolled.apply(snapshot(at: nextDay, positions: [position("S0", 100, entry: 100, unrealized: -300)]), now: nextDay)
        #expect(rolled.state == .active)  // −300 since yesterday's start is not today's loss
        #expect(rolled.dailyLoss == 0)
        #expect(rolled.memory.dayStartEquity == 9_700)
        #expect(rolled.memory.day == nextDay / Nanos.day)
    }

    @Test("reservations count against the limits after a restart until a snapshot shows them not live")
    func reservationsSurvive() throws {
        let limits = roomyLimits(maxGrossExposure: 1_500)
        var book = activeBook(limits)
        let first = try #require(book.evaluate(intent("i1", "S0", size: 10), now: t0).order)  // 1 000 reserved
        let saved = try throughJSON(book.memory)
        #expect(saved.reservations.map(\.clientOrderId) == [first.clientOrderId])
        #expect(saved.reservations.first?.remaining == 10)

        let restart = t0 + seconds(2)
        var restored = freshBook(limits, now: restart)
        _ = restored.restore(saved, now: restart)
        #expect(restored.reservedOrderIds == [first.clientOrderId])
        #expect(restored.grossExposure == 1_000)
        for symbol in ["S0", "S1"] { _ = restored.updateMark(symbol: symbol, price: 100, now: restart) }
        // A snapshot taken before the order's ack deadline cannot prove it dead: it stays.
        _ = restored.apply(snapshot(at: restart), now: restart)
        #expect(restored.state == .active)
        #expect(restored.reservedOrderIds == [first.clientOrderId])
        // Only 500 of gross room is left: a 1 000 entry is cut to 5.
        let second = restored.evaluate(intent("i2", "S1", size: 10, at: restart + 1), now: restart + 1)
        #expect(second.outcome == .resized)
        #expect(second.order?.size == 5)
        // The same intent again is a duplicate: its order is remembered.
        #expect(restored.evaluate(intent("i1", "S0", size: 1, at: restart + 1), now: restart + 1).codes == [.duplicateIntent])

        // A snapshot past the deadline without the order releases it.
        let later = first.ackDeadline + seconds(1)
        _ = restored.apply(
            snapshot(at: later, openOrders: [OpenOrder(clientOrderId: second.order!.clientOrderId, symbol: "S1", side: .buy, size: 5, price: 100)]),
            now: later)
        #expect(restored.reservedOrderIds == [second.order!.clientOrderId])
        #expect(!restored.memory.reservations.contains { $0.clientOrderId == first.clientOrderId })
    }

    @Test("an approved order is for the process, a new peak for the disk soon, a halt or the kill switch for the disk before it is published")
    func persistenceByChange() throws {
        var book = activeBook(positions: [position("S0", 10)])
        #expect(book.memory.persistence(since: nil) == .beforePublishing)
        let before = book.memory
        _ = try #require(book.evaluate(intent("i1", "S0", size: 1), now: t0).order)
        #expect(book.memory.changesOnlyReservations(since: before))
        #expect(book.memory.persistence(since: before) == .forTheProcess)
        let reserved = book.memory
        _ = book.updateMark(symbol: "S0", price: 130, now: t0 + 1)
        #expect(book.memory.peakEquity > reserved.peakEquity)
        #expect(book.memory.persistence(since: reserved) == .soon)
        let peaked = book.memory
        _ = book.setKillSwitch(true, reason: "test", by: "operator", from: "127.0.0.1", now: t0 + 2)
        #expect(!book.memory.changesOnlyReservations(since: peaked))
        #expect(book.memory.persistence(since: peaked) == .beforePublishing)
        #expect(book.memory.persistence(since: reserved) == .beforePublishing)
    }

    @Test("the memory changes with the peak, not with every mark, so the gate writes only when it must")
    func memoryMovesOnlyWhenItMatters() {
        var book = activeBook(positions: [position("S0", 10)])
        let start = book.memory
        _ = book.updateMark(symbol: "S0", price: 99, now: t0 + 1)
        _ = book.updateMark(symbol: "S0", price: "99.5", now: t0 + 2)
        #expect(book.memory == start)
        _ = book.updateMark(symbol: "S0", price: 101, now: t0 + 3)
        #expect(book.memory != start)
        #expect(book.memory.peakEquity == 10_010)
    }

    @Test("an unreadable saved state holds SYNCING: snapshots do not end it, resume does not either")
    func unreadableStateHoldsSyncing() {
        var book = freshBook(now: t0)
        #expect(book.holdSyncing(unreadableState: "risk-state.db: corrupt", now: t0).isEmpty)
        let changes = book.apply(snapshot(at: t0 + 1), now: t0 + 1)
        #expect(changes.isEmpty)
        #expect(book.state == .syncing)
        #expect(book.accountSynced)
        let verdict = book.evaluate(intent("e1", at: t0 + 2), now: t0 + 2)
        #expect(verdict.codes == [.stateSyncing])
        #expect(verdict.decision.reasons.first?.detail.contains("unreadable") == true)

        // The kill switch still halts; resuming from it goes back to SYNCING, never ACTIVE.
        #expect(book.setKillSwitch(true, reason: "x", now: t0 + 3).map(\.state) == [.halted])
        _ = book.setKillSwitch(false, reason: "x", now: t0 + 4)
        guard case .resumed(let change) = book.resume(now: t0 + 5) else {
            Issue.record("resume should leave HALTED")
            return
        }
        #expect(change.state == .syncing)
        #expect(book.tick(now: t0 + 6).isEmpty)
        #expect(book.state == .syncing)

        // From ACTIVE too: a book told later goes back to SYNCING.
        var active = activeBook()
        let back = active.holdSyncing(unreadableState: "bad row", now: t0 + 1)
        #expect(back.map(\.state) == [.syncing])
        #expect(back.first?.reasons.first?.code == .riskStateUnreadable)
    }

    @Test("a failed save halts with its cause; entries are refused, closes pass; resume once saving works again")
    func failedWriteHalts() throws {
        var book = activeBook(positions: [position("S0", 10)])
        let changes = book.setStateWriteFailed("disk full", now: t0 + 1)
        #expect(changes.map(\.state) == [.halted])
        #expect(changes.first?.reasons == [Reason(.riskStateWriteFailed, "disk full")])
        #expect(book.memory.haltCauses.map(\.code) == [.riskStateWriteFailed])
        #expect(book.evaluate(intent("e1", "S1", at: t0 + 2), now: t0 + 2).outcome == .rejected)
        #expect(book.evaluate(exitIntent("x1", "S0", .sell, size: 10, at: t0 + 2), now: t0 + 2).order?.reduceOnly == true)
        guard case .refused(let causes) = book.resume(now: t0 + 3) else {
            Issue.record("resume must be refused while saving fails")
            return
        }
        #expect(causes.map(\.code) == [.riskStateWriteFailed])
        #expect(book.setStateWriteFailed(nil, now: t0 + 4).isEmpty)  // latched
        #expect(book.state == .halted)
        guard case .resumed = book.resume(now: t0 + 5) else {
            Issue.record("resume should succeed once saving works")
            return
        }
    }

    @Test("a withdrawn reservation no longer counts, and its intent stays decided")
    func withdraw() throws {
        var book = activeBook()
        let order = try #require(book.evaluate(intent("i1", size: 5), now: t0).order)
        book.withdraw(order.clientOrderId, now: t0 + 1)
        #expect(book.reservedOrderIds.isEmpty)
        #expect(book.grossExposure == 0)
        #expect(book.evaluate(intent("i1", size: 5, at: t0 + 2), now: t0 + 2).codes == [.duplicateIntent])
    }

    @Test("open positions read out sorted, valued at the marks")
    func openPositions() {
        var book = activeBook(positions: [position("S1", -2, entry: 100), position("S0", 3, entry: 90)])
        _ = book.updateMark(symbol: "S0", price: 100, now: t0 + 1)
        #expect(book.openPositions.map(\.symbol) == ["S0", "S1"])
        #expect(book.openPositions.first?.unrealizedPnl == 30)
        #expect(book.openPositions.last?.size == -2)
    }
}
