import Risk
import Schema
import Testing

@Suite("Risk gate core: the book, the exits and the exchange's stops moved by the same events")
struct RiskGateCoreTests {
    func core() -> RiskGateCore {
        let instruments = testInstruments(["S0"])
        return RiskGateCore(
            book: activeBook(instruments: instruments),
            exits: ExitDesk(engine: ExitEngine(policy: ExitPolicy(hardStop: 0.02)), instruments: instruments),
            protection: PositionProtection(instruments: instruments))
    }

    func bar(_ close: Amount, minute: Int64) -> Bar {
        Bar(
            symbol: "S0", intervalSeconds: 60, openTime: t0 + minute * 60 * Nanos.second, open: close, high: close, low: close,
            close: close, volume: 1_000)
    }

    /// A long of 2 opened by a market entry whose stop (its child) the venue acknowledged.
    func longOfTwoWithItsStop() throws -> (RiskGateCore, ProtectiveOrder) {
        var gate = core()
        var order = try #require(gate.evaluate(intent("open", size: 2, type: .market), now: t0).order)
        gate.protect(&order, now: t0)
        let child = try #require(order.protectiveOrders?.first)
        gate.apply(OrderAck(clientOrderId: child.clientOrderId, venueOrderId: "", symbol: "S0", action: .place), now: t0)
        _ = gate.apply(fill(order, id: "f1"), now: t0)
        return (gate, child)
    }

    @Test("an entry from flat carries its stop in the same action; an entry against the position carries none")
    func entriesAgainstThePositionAreNotProtected() throws {
        var gate = core()
        var opening = try #require(gate.evaluate(intent("open", size: 2, type: .market), now: t0).order)
        gate.protect(&opening, now: t0)
        #expect(opening.grouping == .normalTpsl)
        #expect(opening.protectiveOrders?.first?.side == .sell)
        _ = gate.apply(fill(opening, id: "f1"), now: t0)
        #expect(gate.book.position("S0") == 2)

        // Closing (nearly) all of it with an entry: a reduce-only sell stop would be refused by the venue.
        var closing = try #require(gate.evaluate(intent("close", "S0", .sell, size: "1.9", type: .market), now: t0 + 1).order)
        gate.protect(&closing, now: t0 + 1)
        #expect(closing.protectiveOrders == nil)
        #expect(closing.grouping == nil || closing.grouping == .na)
    }

    @Test("a bar past the hard stop fires one exit, judged like any intent; the stop's upkeep follows the fills")
    func barFiresTheExitAndStopsFollow() throws {
        var (gate, child) = try longOfTwoWithItsStop()
        // The entry's own stop rests: nothing more to place.
        #expect(gate.stopCommands(now: t0 + seconds(1)).isEmpty)

        let quiet = gate.onBar(bar(99, minute: 1), now: t0 + seconds(60))
        #expect(quiet.exit == nil)
        let outcome = gate.onBar(bar(97, minute: 2), now: t0 + seconds(120))
        let exit = try #require(outcome.exit)
        #expect(exit.path == .hardStop && exit.intent.side == .sell && exit.intent.size == 2)
        let verdict = gate.evaluate(exit.intent, now: t0 + seconds(120))
        let closing = try #require(verdict.order)
        #expect(closing.reduceOnly)

        _ = gate.apply(fill(closing, price: 97, id: "f2", at: t0 + seconds(120)), now: t0 + seconds(120))
        #expect(gate.book.position("S0") == 0)
        // Flat by a fill: the venue cancels the reduce-only stop itself; no cancel races it.
        #expect(gate.stopCommands(now: t0 + seconds(121)).isEmpty)
        // Its word did not come within the answer timeout: the stop left behind is canceled here.
        let upkeep = gate.stopCommands(now: t0 + seconds(131))
        #expect(upkeep.map(\.action) == [.cancel])
        #expect(upkeep.first?.clientOrderId == child.clientOrderId)
    }

    @Test("a fill that flips the position leaves the old stop to the venue's reduce-only cancel; the new direction is protected at once")
    func flipLeavesTheOldStopToTheVenue() throws {
        var (gate, child) = try longOfTwoWithItsStop()
        let flipping = try #require(gate.evaluate(intent("flip", "S0", .sell, size: 3, type: .market), now: t0 + 1).order)
        _ = gate.apply(fill(flipping, id: "f2", at: t0 + 1), now: t0 + 1)
        #expect(gate.book.position("S0") == -1)
        let upkeep = gate.stopCommands(now: t0 + seconds(1))
        #expect(upkeep.map(\.action) == [.place])
        #expect(upkeep.first?.side == .buy && upkeep.first?.size == 1)
        #expect(!upkeep.contains { $0.clientOrderId == child.clientOrderId })
    }

    @Test("no stop is planned before the account is known")
    func nothingBeforeTheFirstSnapshot() {
        let instruments = testInstruments(["S0"])
        var gate = RiskGateCore(
            book: RiskBook(limits: roomyLimits(), instruments: instruments, startingCapital: 10_000, now: t0),
            exits: ExitDesk(engine: ExitEngine(policy: ExitPolicy(hardStop: 0.02)), instruments: instruments),
            protection: PositionProtection(instruments: instruments))
        #expect(gate.stopCommands(now: t0).isEmpty)
        _ = gate.apply(snapshot(at: t0, positions: [position("S0", 3)]), now: t0)
        _ = gate.onBar(bar(100, minute: 0), now: t0)
        let placed = gate.stopCommands(now: t0 + 1)
        #expect(placed.count == 1)
        #expect(placed.first?.side == .sell && placed.first?.size == 3 && placed.first?.reduceOnly == true)
    }
}
