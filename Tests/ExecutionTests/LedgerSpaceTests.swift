import Execution
import Schema
import Testing

@Suite("The ledger's free-space reserve")
struct LedgerSpaceTests {
    let rule = LedgerSpace(reserveBytes: 64 * 1_048_576)

    @Test("above the reserve every order goes")
    func roomy() {
        #expect(rule.refusal(command("a"), freeBytes: 65 * 1_048_576) == nil)
        #expect(rule.refusal(command("b", reduceOnly: true), freeBytes: 65 * 1_048_576) == nil)
    }

    @Test("below the reserve a new entry is refused, with the free space and the reserve in its reason")
    func entryRefused() throws {
        let reason = try #require(rule.refusal(command("a"), freeBytes: 3 * 1_048_576 + 1_048_576 / 2))
        #expect(reason.code == .ledgerWriteFailed)
        #expect(reason.detail.contains("3.5 MB free"), "\(reason.detail)")
        #expect(reason.detail.contains("64.0 MB"), "\(reason.detail)")
        #expect(rule.refusal(command("b"), freeBytes: 0) != nil)
    }

    @Test("below the reserve exits, stops and cancels still go: the reserve is for their fills")
    func reducingAllowed() {
        #expect(rule.refusal(command("a", side: .sell, reduceOnly: true), freeBytes: 0) == nil)
        var cancel = command("b")
        cancel.action = .cancel
        #expect(rule.refusal(cancel, freeBytes: 0) == nil)
    }

    @Test("an unmeasurable volume leaves the decision to the write itself")
    func unknownSpace() {
        #expect(rule.refusal(command("a"), freeBytes: nil) == nil)
    }

    @Test("a zero reserve refuses nothing, a negative one is zero")
    func zeroReserve() {
        #expect(LedgerSpace(reserveBytes: 0).refusal(command("a"), freeBytes: 0) == nil)
        #expect(LedgerSpace(reserveBytes: -5).reserveBytes == 0)
    }

    @Test("one alert when the ledger goes bad, one when it is well again, none in between")
    func alertEdges() {
        var watch = LedgerHealthWatch()
        #expect(watch.observeSpace(freeBytes: 100 * 1_048_576, rule: rule) == nil)
        guard case .failing(let detail) = watch.observeSpace(freeBytes: 1_048_576, rule: rule) else {
            Issue.record("no alert when space ran low")
            return
        }
        #expect(detail.contains("free-space reserve"))
        #expect(watch.observeSpace(freeBytes: 0, rule: rule) == nil)
        // A write failure while already failing: no second alert.
        #expect(watch.observeWrite(error: "disk I/O error") == nil)
        // Space back, but the last write failed: still failing until a write succeeds.
        #expect(watch.observeSpace(freeBytes: 100 * 1_048_576, rule: rule) == nil)
        #expect(watch.isFailing)
        #expect(watch.observeWrite(error: nil) == .recovered)
        #expect(!watch.isFailing)
        #expect(watch.observeWrite(error: nil) == nil)
    }

    @Test("a write failure alone alerts, and an unmeasured volume changes nothing")
    func writeFailureAlone() {
        var watch = LedgerHealthWatch()
        #expect(watch.observeWrite(error: "database or disk is full") == .failing("ledger write failed: database or disk is full"))
        #expect(watch.observeSpace(freeBytes: nil, rule: rule) == nil)
        #expect(watch.observeWrite(error: nil) == .recovered)
    }
}
