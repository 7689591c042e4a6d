import Foundation
import Risk
import Schema
import Testing

@Suite("Pre-trade rules")
struct PreTradeRuleTests {
    @Test func syncingRefusesUntilAFreshSnapshot() {
        var book = RiskBook(limits: roomyLimits(), instruments: testInstruments(), startingCapital: 10_000, now: t0)
        #expect(book.state == .syncing)
        let early = book.evaluate(intent("a"), now: t0)
        #expect(early.outcome == .rejected)
        #expect(early.code == .stateSyncing)
        #expect(early.order == nil)

        // 11 s old at arrival: older than the 10 s freshness limit.
        #expect(book.apply(snapshot(at: t0), now: t0 + seconds(11)).isEmpty)
        #expect(book.state == .syncing)

        let changes = book.apply(snapshot(at: t0 + seconds(12)), now: t0 + seconds(13))
        #expect(changes.count == 1)
        #expect(changes.first?.previous == .syncing)
        #expect(changes.first?.state == .active)
        #expect(changes.first?.reasons.first?.code == .accountSynced)
        #expect(book.state == .active)
        #expect(book.evaluate(intent("b", at: t0 + seconds(13)), now: t0 + seconds(13)).outcome == .approved)
    }

    @Test func expiredIntentIsRejected() {
        var book = activeBook()
        let late = book.evaluate(intent("a", ttl: seconds(5)), now: t0 + seconds(5) + 1)
        #expect(late.code == .intentExpired)
        #expect(late.order == nil)
        let onTime = book.evaluate(intent("b", ttl: seconds(5)), now: t0 + seconds(5))
        #expect(onTime.outcome == .approved)
    }

    @Test func duplicateIntentNeverBecomesASecondOrder() {
        var book = activeBook()
        let first = book.evaluate(intent("a"), now: t0)
        #expect(first.outcome == .approved)
        #expect(first.order?.clientOrderId == Identifier.clientOrderId(forIntent: "a"))
        #expect(first.decision.clientOrderId == Identifier.clientOrderId(forIntent: "a"))

        let again = book.evaluate(intent("a", "S1"), now: t0 + 1)
        #expect(again.code == .duplicateIntent)
        #expect(again.order == nil)

        // A rejected intent is decided too: resending it cannot turn it into an order.
        #expect(book.evaluate(intent("b", size: 0), now: t0).code == .invalidIntent)
        #expect(book.evaluate(intent("b"), now: t0).code == .duplicateIntent)
    }

    @Test func invalidIntentsAreRejected() {
        var book = activeBook()
        #expect(book.evaluate(intent("zero", size: 0), now: t0).code == .invalidIntent)
        #expect(book.evaluate(intent("negative", size: -1), now: t0).code == .invalidIntent)
        #expect(book.evaluate(intent("price", price: 0), now: t0).code == .invalidIntent)
        var noSymbol = intent("nosymbol")
        noSymbol.symbol = nil
        #expect(book.evaluate(noSymbol, now: t0).code == .invalidIntent)
        #expect(book.evaluate(intent("unknown", "XYZ"), now: t0).code == .unknownInstrument)
        #expect(book.reservedOrderIds.isEmpty)
    }

    @Test func approvedOrderIsRoundedByTheInstrumentAndReserved() throws {
        var book = activeBook()
        let buy = book.evaluate(intent("buy", "S1", .buy, size: "1.239", price: "100.456"), now: t0)
        let order = try #require(buy.order)
        #expect(buy.outcome == .approved)
        #expect(buy.code == .withinLimits)
        #expect(order.price == "100.45")  // buyers round down
        #expect(order.size == "1.23")  // sizes round down
        #expect(buy.decision.requestedSize == "1.239")
        #expect(buy.decision.approvedSize == "1.23")
        #expect(order.timeInForce == .gtc)
        #expect(order.ackDeadline == t0 + seconds(5))
        #expect(order.reduceOnly == false)
        #expect(book.reservedSize(clientOrderId: order.clientOrderId) == "1.23")

        let sell = book.evaluate(intent("sell", "S2", .sell, size: 2, price: "100.456", type: .market), now: t0)
        #expect(sell.order?.price == "100.46")  // sellers round up
        #expect(sell.order?.timeInForce == .ioc)

        let btc = book.evaluate(intent("btc", "BTC", .buy, size: "0.0123456", price: "105055.55"), now: t0)
        #expect(btc.order?.price == "105055")
        #expect(btc.order?.size == "0.01234")
    }

    /// The field failure: 9 positions opened against a limit of 8.
    @Test func nineSimultaneousIntentsAgainstALimitOfEight() {
        var book = activeBook(roomyLimits(maxOpenPositions: 8))
        let verdicts = (0..<9).map { book.evaluate(intent("i\($0)", "S\($0)"), now: t0) }
        #expect(verdicts.prefix(8).allSatisfy { $0.outcome == .approved && $0.order != nil })
        let ninth = verdicts[8]
        #expect(ninth.outcome == .rejected)
        #expect(ninth.code == .maxOpenPositions)
        #expect(ninth.decision.reasons.first?.detail == "open 0 + reserved 8 ≥ limit 8")
        #expect(ninth.order == nil)
        #expect(book.occupiedPositionSlots == 8)

        // A fill turns a reservation into a position: the count stays.
        _ = book.apply(fill(verdicts[0].order!, id: "f0"), now: t0 + 1)
        #expect(book.openPositionCount == 1)
        let tenth = book.evaluate(intent("i9", "S9"), now: t0 + 2)
        #expect(tenth.decision.reasons.first?.detail == "open 1 + reserved 7 ≥ limit 8")
        // Adding to a symbol already held takes no new slot.
        #expect(book.evaluate(intent("add", "S0"), now: t0 + 3).outcome == .approved)
        // A reject releases its slot.
        book.apply(OrderReject(clientOrderId: verdicts[1].order!.clientOrderId, symbol: "S1", reason: Reason(.venueRejected)), now: t0 + 4)
        #expect(book.evaluate(intent("i10", "S10"), now: t0 + 5).outcome == .approved)
        #expect(book.evaluate(intent("i11", "S11"), now: t0 + 6).code == .maxOpenPositions)
    }

    @Test func openPositionsFromTheSnapshotCount() {
        let held = (0..<8).map { position("S\($0)", 1) }
        var book = activeBook(roomyLimits(maxOpenPositions: 8), positions: held)
        let verdict = book.evaluate(intent("x", "S8"), now: t0)
        #expect(verdict.code == .maxOpenPositions)
        #expect(verdict.decision.reasons.first?.detail == "open 8 + reserved 0 ≥ limit 8")
    }

    @Test func orderNotionalResizesDownOrRejects() throws {
        var book = activeBook(roomyLimits(maxOrderNotional: 1_000))
        let within = book.evaluate(intent("ok", size: 10), now: t0)
        #expect(within.outcome == .approved)

        let big = book.evaluate(intent("big", "S1", size: 15), now: t0)
        #expect(big.outcome == .resized)
        #expect(big.code == .maxOrderNotional)
        #expect(big.order?.size == 10)
        #expect(big.decision.approvedSize == 10)
        #expect(big.decision.reasons.first?.detail == "order notional 1500 > limit 1000; size 15 → 10")

        // Valued at the mark when the mark is worse than the order's price.
        _ = book.updateMark(symbol: "S2", price: 120, now: t0)
        let marked = book.evaluate(intent("marked", "S2", size: 15), now: t0)
        #expect(marked.order?.size == "8.33")

        // A cut below the venue's minimum order value is a rejection.
        var strict = activeBook(
            roomyLimits(maxOrderNotional: 1_000), instruments: testInstruments(minOrderValue: 1_500))
        let refused = strict.evaluate(intent("big", size: 20), now: t0)
        #expect(refused.outcome == .rejected)
        #expect(refused.code == .maxOrderNotional)
    }

    @Test func symbolNotionalResizesDownOrRejects() {
        var book = activeBook(roomyLimits(maxSymbolNotional: 2_500), positions: [position("S0", 20)])
        let first = book.evaluate(intent("a", "S0", size: 10), now: t0)
        #expect(first.outcome == .resized)
        #expect(first.code == .maxSymbolNotional)
        #expect(first.order?.size == 5)
        #expect(book.symbolExposure("S0") == 2_500)

        let full = book.evaluate(intent("b", "S0", size: 1), now: t0)
        #expect(full.outcome == .rejected)
        #expect(full.code == .maxSymbolNotional)

        // Selling from a long may go as far short as the limit allows: 2000 + 2500 = 45 units.
        let flip = book.evaluate(intent("c", "S0", .sell, size: 60), now: t0)
        #expect(flip.code == .maxSymbolNotional)
        #expect(flip.order?.size == 45)
        #expect(book.evaluate(intent("d", "S1", size: 10), now: t0).outcome == .approved)
    }

    @Test func grossExposureResizesDownOrRejects() {
        var book = activeBook(
            roomyLimits(maxGrossExposure: 3_000), positions: [position("S0", 10), position("S1", -15)])
        #expect(book.grossExposure == 2_500)
        let cut = book.evaluate(intent("a", "S2", size: 10), now: t0)
        #expect(cut.outcome == .resized)
        #expect(cut.code == .maxGrossExposure)
        #expect(cut.order?.size == 5)
        #expect(book.grossExposure == 3_000)
        let refused = book.evaluate(intent("b", "S3", .sell, size: 1), now: t0)
        #expect(refused.code == .maxGrossExposure)
        #expect(refused.order == nil)
    }

    @Test func directionShareResizesDownOrRejects() {
        // 60 % of a 10 000 gross limit: 6000 per direction.
        var book = activeBook(
            roomyLimits(maxGrossExposure: 10_000, maxDirectionShare: 0.6), positions: [position("S0", 50)])
        let cut = book.evaluate(intent("a", "S1", size: 20), now: t0)
        #expect(cut.outcome == .resized)
        #expect(cut.code == .maxDirectionShare)
        #expect(cut.order?.size == 10)
        #expect(book.evaluate(intent("b", "S2", .sell, size: 20), now: t0).outcome == .approved)
        let refused = book.evaluate(intent("c", "S3", size: 1), now: t0)
        #expect(refused.code == .maxDirectionShare)
    }

    @Test func orderRateIsASlidingMinute() {
        var book = activeBook(roomyLimits(maxOrdersPerMinute: 3), positions: [position("S5", 10)])
        for second in 0..<3 {
            let now = t0 + seconds(Int64(second))
            #expect(book.evaluate(intent("e\(second)", "S\(second)", at: now), now: now).outcome == .approved)
        }
        let fourth = book.evaluate(intent("e3", "S3", at: t0 + seconds(3)), now: t0 + seconds(3))
        #expect(fourth.code == .orderRate)
        #expect(fourth.decision.reasons.first?.detail == "3 entry orders in the last 60 s ≥ limit 3")
        // Exits are bounded by the position, not by the rate.
        let exit = book.evaluate(exitIntent("x", "S5", .sell, size: 5, at: t0 + seconds(3)), now: t0 + seconds(3))
        #expect(exit.outcome == .approved)
        // The first order leaves the window 60 s after it was approved.
        let later = t0 + seconds(60)
        #expect(book.evaluate(intent("e4", "S3", at: later), now: later).outcome == .approved)
        #expect(book.evaluate(intent("e5", "S4", at: later), now: later).code == .orderRate)
    }

    @Test func minimumOrderValue() {
        var book = activeBook()
        let small = book.evaluate(intent("a", size: "0.05"), now: t0)
        #expect(small.code == .minOrderValue)
        #expect(small.decision.reasons.first?.detail == "order value 5 < minimum 10")
        #expect(book.evaluate(intent("b", size: "0.001"), now: t0).code == .minOrderValue)
        #expect(book.evaluate(intent("c", size: "0.1"), now: t0).outcome == .approved)
    }

    @Test func exitsAreNotBlockedByExposureLimitsButNeverFlip() throws {
        // The position alone is above every exposure limit (a mark move did it).
        var book = activeBook(
            roomyLimits(maxSymbolNotional: 2_500, maxGrossExposure: 2_500), positions: [position("S0", 30)])
        #expect(book.evaluate(intent("add", "S0", size: 1), now: t0).code == .maxSymbolNotional)

        let exit = book.evaluate(exitIntent("x1", "S0", .sell, size: 10), now: t0)
        #expect(exit.outcome == .approved)
        #expect(exit.order?.reduceOnly == true)
        #expect(exit.order?.purpose == .exit)

        // Clipped to what is not already being closed: 30 − 10.
        let big = book.evaluate(exitIntent("x2", "S0", .sell, size: 50), now: t0)
        #expect(big.outcome == .resized)
        #expect(big.code == .exceedsPosition)
        #expect(big.order?.size == 20)

        #expect(book.evaluate(exitIntent("x3", "S0", .sell, size: 1), now: t0).code == .nothingToReduce)
        #expect(book.evaluate(exitIntent("x4", "S1", .sell, size: 1), now: t0).code == .nothingToReduce)
        #expect(book.evaluate(exitIntent("x5", "S0", .buy, size: 1), now: t0).code == .nothingToReduce)
    }

    @Test func exitsStillRespectTheOrderNotional() {
        var book = activeBook(roomyLimits(maxOrderNotional: 1_000), positions: [position("S0", 30)])
        let exit = book.evaluate(exitIntent("x", "S0", .sell, size: 30), now: t0)
        #expect(exit.outcome == .resized)
        #expect(exit.code == .maxOrderNotional)
        #expect(exit.order?.size == 10)
    }

    @Test func dustExitClosesBelowTheMinimumButAPartialDoesNot() {
        var book = activeBook(positions: [position("S0", "0.05"), position("S1", 1)])
        #expect(book.evaluate(exitIntent("dust", "S0", .sell, size: "0.05"), now: t0).outcome == .approved)
        #expect(book.evaluate(exitIntent("part", "S1", .sell, size: "0.05"), now: t0).code == .minOrderValue)
    }

    @Test func limitsValidateAndDecodeWithDefaults() throws {
        #expect(RiskLimits().validationErrors().isEmpty)
        var bad = RiskLimits()
        bad.maxDirectionShare = 0.4
        bad.reduceAtDrawdown = 0.1
        #expect(bad.validationErrors().count == 2)

        let json = #"{"maxOpenPositions": 3, "maxOrderNotional": "250.5"}"#
        let decoded = try JSONDecoder().decode(RiskLimits.self, from: Data(json.utf8))
        #expect(decoded.maxOpenPositions == 3)
        #expect(decoded.maxOrderNotional == "250.5")
        #expect(decoded.drawdownLock == RiskLimits().drawdownLock)
        let roundTrip = try JSONDecoder().decode(RiskLimits.self, from: JSONEncoder().encode(decoded))
        #expect(roundTrip == decoded)
    }
}
