import Risk
import Schema
import Testing

@Suite("An intent is judged after the bar it was decided on")
struct BarOrderingTests {
    func bar(_ symbol: String, _ second: Int64) -> Bar {
        Bar(symbol: symbol, intervalSeconds: 1, openTime: t0 + seconds(second), open: 100, high: 100, low: 100, close: 100, volume: 1)
    }

    func signal(_ id: String, _ symbol: String, bar second: Int64) -> Signal {
        Signal(
            signalId: id, symbol: symbol, strategy: "test", direction: .long, confidence: 1, referencePrice: 100,
            barTime: t0 + seconds(second), indicators: [:], decision: .approved, reasons: [])
    }

    func decidedIntent(_ id: String, _ symbol: String = "S0", signal: String) -> OrderIntent {
        var made = intent(id, symbol, type: .market)
        made.origin = signal
        return made
    }

    @Test("an intent whose bar was heard goes at once")
    func barFirst() {
        var ordering = BarOrdering()
        #expect(ordering.heard(bar("S0", 5), now: t0).isEmpty)
        ordering.heard(signal("s1", "S0", bar: 5))
        let now = t0 + seconds(6)
        #expect(ordering.admit(decidedIntent("i1", signal: "s1"), traceId: "t1", now: now).map(\.intent.intentId) == ["i1"])
        #expect(ordering.waitingCount == 0)
    }

    @Test("an intent read before its bar waits for it, then goes after it")
    func intentFirst() {
        var ordering = BarOrdering()
        _ = ordering.heard(bar("S0", 4), now: t0)
        ordering.heard(signal("s1", "S0", bar: 5))
        let now = t0 + seconds(6)
        #expect(ordering.admit(decidedIntent("i1", signal: "s1"), traceId: "t1", now: now).isEmpty)
        #expect(ordering.waitingCount == 1)
        #expect(ordering.nextDeadline == now + BarOrdering.defaultMaxWaitNanos)
        // Another symbol's bar releases nothing.
        #expect(ordering.heard(bar("S1", 5), now: now).isEmpty)
        let released = ordering.heard(bar("S0", 5), now: now + 1_000)
        #expect(released.map(\.intent.intentId) == ["i1"])
        #expect(released.map(\.traceId) == ["t1"])
        #expect(released.allSatisfy { !$0.overdue })
        #expect(ordering.waitingCount == 0 && ordering.nextDeadline == nil)
    }

    @Test("a bar that never comes: the intent goes when its wait runs out, marked overdue")
    func lostBar() {
        var ordering = BarOrdering(maxWaitNanos: 250_000_000)
        ordering.heard(signal("s1", "S0", bar: 5))
        let now = t0 + seconds(6)
        #expect(ordering.admit(decidedIntent("i1", signal: "s1"), traceId: "t1", now: now).isEmpty)
        #expect(ordering.due(now: now + 249_999_999).isEmpty)
        let released = ordering.due(now: now + 250_000_000)
        #expect(released.map(\.intent.intentId) == ["i1"])
        #expect(released.map(\.overdue) == [true])
        #expect(ordering.waitingCount == 0)
    }

    @Test("later intents for the symbol wait behind a waiting one; other symbols do not")
    func orderKept() {
        var ordering = BarOrdering()
        _ = ordering.heard(bar("S1", 5), now: t0)
        ordering.heard(signal("s1", "S0", bar: 5))
        ordering.heard(signal("s2", "S1", bar: 5))
        let now = t0 + seconds(6)
        #expect(ordering.admit(decidedIntent("i1", signal: "s1"), traceId: "t1", now: now).isEmpty)
        // Not from a signal (an operator's or another sender's): it still keeps its place behind i1.
        #expect(ordering.admit(intent("i2", "S0"), traceId: "t2", now: now + 1).isEmpty)
        #expect(ordering.admit(decidedIntent("i3", "S1", signal: "s2"), traceId: "t3", now: now + 2).map(\.intent.intentId) == ["i3"])
        #expect(ordering.heard(bar("S0", 5), now: now + 3).map(\.intent.intentId) == ["i1", "i2"])
    }

    @Test("an intent not from a known signal, or of a bar already heard, never waits")
    func noWait() {
        var ordering = BarOrdering()
        let now = t0 + seconds(6)
        #expect(ordering.admit(intent("i1", "S0"), traceId: "t1", now: now).count == 1)
        _ = ordering.heard(bar("S0", 5), now: now)
        ordering.heard(signal("s1", "S0", bar: 4))
        #expect(ordering.admit(decidedIntent("i2", signal: "s1"), traceId: "t2", now: now).count == 1)
        // A signal whose intent never came is forgotten once its bar is heard.
        ordering.heard(signal("s3", "S0", bar: 6))
        _ = ordering.heard(bar("S0", 6), now: now)
        #expect(ordering.admit(decidedIntent("i3", signal: "s3"), traceId: "t3", now: now).count == 1)
    }

    @Test("a later bar releases an intent waiting for an earlier one (its bar was skipped)")
    func laterBar() {
        var ordering = BarOrdering()
        ordering.heard(signal("s1", "S0", bar: 5))
        let now = t0 + seconds(6)
        #expect(ordering.admit(decidedIntent("i1", signal: "s1"), traceId: "t1", now: now).isEmpty)
        let released = ordering.heard(bar("S0", 6), now: now)
        #expect(released.map(\.intent.intentId) == ["i1"] && released.allSatisfy { !$0.overdue })
    }
}
