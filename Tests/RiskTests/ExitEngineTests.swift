import Foundation
import Risk
import Schema
import Testing

@Suite("Exit engine")
struct ExitEngineTests {
    let instrument = Instrument(symbol: "S0", szDecimals: 2, minOrderValue: 10)

    func long(_ size: Amount = 10, entry: Amount = 100) -> ExitPosition {
        ExitPosition(symbol: "S0", size: size, entryPrice: entry, entryTime: t0, strategy: "trend")
    }

    func short(_ size: Amount = 10, entry: Amount = 100) -> ExitPosition { long(-size, entry: entry) }

    func market(
        _ mark: Amount, at now: EpochNanos = t0 + seconds(1), atr: Double? = nil, close: Amount? = nil,
        signal: ExitSignal? = nil, equity: Amount? = nil
    ) -> ExitMarket {
        ExitMarket(mark: mark, barClose: close, atr: atr, signal: signal, equity: equity, now: now)
    }

    /// Evaluates the marks in turn and returns the index of the first that fired, with the exit.
    func firstExit(_ engine: ExitEngine, _ position: inout ExitPosition, _ markets: [ExitMarket]) -> (Int, ExitOrder)? {
        for (index, market) in markets.enumerated() {
            if let exit = engine.evaluate(&position, market: market, instrument: instrument) { return (index, exit) }
        }
        return nil
    }

    @Test func priorityOrderIsDocumentedWithEmergencyAndHardStopFirst() {
        #expect(
            ExitPath.allCases == [
                .emergencyLoss, .hardStop, .atrStop, .softStop, .trailingStop, .forceStop, .maxHoldingTime, .signal,
                .takeProfit,
            ])
        #expect(ExitPath.emergencyLoss < .hardStop)
        #expect(ExitPath.trailingStop < .forceStop)
        #expect(ExitPath.hardStop.rawValue == "hard_stop")
        #expect(ExitPath.forceStop.rawValue == "force_stop")
    }

    @Test func emergencyLossFiresAtItsShareOfEquity() throws {
        // One tier at 0.5 % of an equity of 10 000: a loss of 50.
        let engine = ExitEngine(policy: ExitPolicy(emergencyTiers: [.init(loss: 0.005, fraction: 1)]))
        var position = long()
        #expect(engine.evaluate(&position, market: market("95.01", equity: 10_000), instrument: instrument) == nil)
        let exit = try #require(engine.evaluate(&position, market: market(95, equity: 10_000), instrument: instrument))
        #expect(exit.path == .emergencyLoss)
        #expect(exit.intent.origin == "exit:emergency_loss")
        #expect(exit.intent.purpose == .exit)
        #expect(exit.intent.reduceOnly)
        #expect(exit.intent.side == .sell)
        #expect(exit.intent.size == 10)
        #expect(exit.intent.price == 95)
        #expect(exit.intent.strategy == "trend")
        #expect(exit.intent.expiresAt == t0 + seconds(1) + seconds(5))
        #expect(!exit.isPartial)
    }

    @Test func hardStopFiresAtItsLevelForLongsAndShorts() throws {
        let engine = ExitEngine(policy: ExitPolicy(hardStop: 0.05))
        var longPosition = long()
        #expect(engine.evaluate(&longPosition, market: market("95.01"), instrument: instrument) == nil)
        #expect(engine.evaluate(&longPosition, market: market(95), instrument: instrument)?.path == .hardStop)

        var shortPosition = short()
        #expect(engine.evaluate(&shortPosition, market: market("104.99"), instrument: instrument) == nil)
        let exit = try #require(engine.evaluate(&shortPosition, market: market(105), instrument: instrument))
        #expect(exit.path == .hardStop)
        #expect(exit.intent.side == .buy)
        #expect(exit.intent.size == 10)
    }

    @Test func atrStopNeedsAnAtrAndFiresAtEntryMinusKAtr() {
        let engine = ExitEngine(policy: ExitPolicy(atrStop: .init(multiple: 2)))
        var position = long()
        #expect(engine.evaluate(&position, market: market(50), instrument: instrument) == nil)
        #expect(engine.evaluate(&position, market: market("97.01", atr: 1.5), instrument: instrument) == nil)
        #expect(engine.evaluate(&position, market: market(97, atr: 1.5), instrument: instrument)?.path == .atrStop)
    }

    @Test func softStopNeedsConfirmationsInARow() {
        let engine = ExitEngine(policy: ExitPolicy(softStop: .init(loss: 0.03, confirmations: 3)))
        var position = long()
        let marks: [Amount] = [97, 97, 98, 97, 97, 97]
        let fired = firstExit(engine, &position, marks.map { market($0) })
        #expect(fired?.0 == 5)  // the run of two was broken by 98
        #expect(fired?.1.path == .softStop)
    }

    @Test func softStopFiresAtOnceOnABarCloseBeyondIt() {
        let engine = ExitEngine(policy: ExitPolicy(softStop: .init(loss: 0.03, confirmations: 3)))
        var position = long()
        #expect(engine.evaluate(&position, market: market(98, close: "97.01"), instrument: instrument) == nil)
        #expect(engine.evaluate(&position, market: market(98, close: "96.9"), instrument: instrument)?.path == .softStop)
    }

    let trailing = ExitPolicy.TrailingStop(activationProfit: 0.05, atrMultiple: 2, minDistance: 0.02, maxDistance: 0.04)

    @Test func trailingStopWaitsForActivation() {
        let engine = ExitEngine(policy: ExitPolicy(trailingStop: trailing))
        var position = long()
        // 4 % up then back to entry: never activated, never fires.
        #expect(firstExit(engine, &position, [market(104, atr: 1), market(100, atr: 1)]) == nil)
        #expect(!position.trailingActive)
        #expect(engine.evaluate(&position, market: market(105, atr: 1), instrument: instrument) == nil)
        #expect(position.trailingActive)
    }

    @Test func trailingDistanceIsClampedToTheBand() {
        let engine = ExitEngine(policy: ExitPolicy(trailingStop: trailing))
        // 2 × ATR 1 = 2 is below 2 % of 105 (2.1): stop at 102.9.
        var narrow = long()
        #expect(firstExit(engine, &narrow, [market(105, atr: 1), market("102.91", atr: 1)]) == nil)
        #expect(engine.evaluate(&narrow, market: market("102.9", atr: 1), instrument: instrument)?.path == .trailingStop)

        // 2 × ATR 5 = 10 is above 4 % of 105 (4.2): stop at 100.8.
        var wide = long()
        #expect(firstExit(engine, &wide, [market(105, atr: 5), market("100.81", atr: 5)]) == nil)
        #expect(engine.evaluate(&wide, market: market("100.8", atr: 5), instrument: instrument)?.path == .trailingStop)

        // Within the band: 2 × 1.5 = 3 from the high-water mark of 110.
        var inside = long()
        #expect(firstExit(engine, &inside, [market(105, atr: 1.5), market(110, atr: 1.5), market("107.01", atr: 1.5)]) == nil)
        #expect(inside.highWater == 110)
        #expect(engine.evaluate(&inside, market: market(107, atr: 1.5), instrument: instrument)?.path == .trailingStop)

        // No ATR: the widest distance.
        var blind = long()
        #expect(firstExit(engine, &blind, [market(105), market("100.81")]) == nil)
        #expect(engine.evaluate(&blind, market: market("100.8"), instrument: instrument)?.path == .trailingStop)
    }

    @Test func trailingStopFollowsTheLowForShorts() {
        let engine = ExitEngine(policy: ExitPolicy(trailingStop: trailing))
        var position = short()
        // Low-water 95, 2 % of it = 1.9: stop at 96.9.
        #expect(firstExit(engine, &position, [market(95, atr: 0.5), market("96.89", atr: 0.5)]) == nil)
        let exit = engine.evaluate(&position, market: market("96.9", atr: 0.5), instrument: instrument)
        #expect(exit?.path == .trailingStop)
        #expect(exit?.intent.side == .buy)
    }

    @Test func takeProfitLevelsFireOnceEach() throws {
        let engine = ExitEngine(policy: ExitPolicy(takeProfits: [.init(profit: 0.04, fraction: 0.25), .init(profit: 0.02, fraction: 0.25)]))
        var position = long(8)
        #expect(engine.evaluate(&position, market: market("101.99"), instrument: instrument) == nil)
        let first = try #require(engine.evaluate(&position, market: market(102), instrument: instrument))
        #expect(first.path == .takeProfit)
        #expect(first.isPartial)
        #expect(first.intent.size == 2)
        #expect(first.intent.origin == "exit:take_profit")
        position.size = 6  // the partial filled
        #expect(engine.evaluate(&position, market: market("103.5"), instrument: instrument) == nil)
        // The second level: a quarter of the largest size, 8, not of 6.
        let second = try #require(engine.evaluate(&position, market: market(104), instrument: instrument))
        #expect(second.intent.size == 2)
        position.size = 4
        #expect(engine.evaluate(&position, market: market(110), instrument: instrument) == nil)
        #expect(position.takeProfitsFired == [0.02, 0.04])
    }

    @Test func aGapThroughTwoLevelsFiresBothInOneExit() {
        let engine = ExitEngine(policy: ExitPolicy(takeProfits: [.init(profit: 0.02, fraction: 0.25), .init(profit: 0.04, fraction: 0.25)]))
        var position = long(8)
        let exit = engine.evaluate(&position, market: market(105), instrument: instrument)
        #expect(exit?.intent.size == 4)
        #expect(position.takeProfitsFired == [0.02, 0.04])
    }

    @Test func aPartialThatWouldLeaveDustClosesEverything() {
        let engine = ExitEngine(policy: ExitPolicy(takeProfits: [.init(profit: 0.02, fraction: 0.6)]))
        var position = long("0.2")  // 0.12 would leave 0.08 × 102 = 8.16 < 10
        let exit = engine.evaluate(&position, market: market(102), instrument: instrument)
        #expect(exit?.intent.size == "0.2")
        #expect(exit?.isPartial == false)

        let half = ExitEngine(policy: ExitPolicy(takeProfits: [.init(profit: 0.02, fraction: 0.5)]))
        var other = long("0.2")  // 0.1 leaves 10.2
        #expect(half.evaluate(&other, market: market(102), instrument: instrument)?.intent.size == "0.1")
    }

    @Test func signalExitWaitsForCooldownConfirmationsAndProfit() {
        let rule = ExitPolicy.SignalExit(minProfit: 0.01, confirmations: 2, cooldownNanos: seconds(60))
        let engine = ExitEngine(policy: ExitPolicy(signalExit: rule))
        var position = long()
        func bearish(_ at: Int64) -> ExitSignal { ExitSignal(direction: .short, time: t0 + seconds(at)) }

        // Two opposite signals inside the cooldown do not count.
        #expect(engine.evaluate(&position, market: market(102, at: t0 + seconds(10), signal: bearish(10)), instrument: instrument) == nil)
        #expect(engine.evaluate(&position, market: market(102, at: t0 + seconds(20), signal: bearish(20)), instrument: instrument) == nil)
        #expect(engine.evaluate(&position, market: market(102, at: t0 + seconds(61)), instrument: instrument) == nil)
        #expect(position.oppositeSignals == 0)

        #expect(engine.evaluate(&position, market: market(102, at: t0 + seconds(70), signal: bearish(70)), instrument: instrument) == nil)
        // The same signal passed again is one signal.
        #expect(engine.evaluate(&position, market: market(102, at: t0 + seconds(75), signal: bearish(70)), instrument: instrument) == nil)
        #expect(position.oppositeSignals == 1)
        // Confirmed, but profit 0.5 % is below the 1 % minimum.
        #expect(engine.evaluate(&position, market: market("100.5", at: t0 + seconds(80), signal: bearish(80)), instrument: instrument) == nil)
        #expect(position.oppositeSignals == 2)
        let exit = engine.evaluate(&position, market: market(101, at: t0 + seconds(81)), instrument: instrument)
        #expect(exit?.path == .signal)
        #expect(exit?.intent.origin == "exit:signal")
    }

    @Test func aSignalThatIsNotOppositeResetsTheCount() {
        let rule = ExitPolicy.SignalExit(minProfit: 0, confirmations: 2, cooldownNanos: 0)
        let engine = ExitEngine(policy: ExitPolicy(signalExit: rule))
        var position = long()
        let signals: [(Direction, Int64)] = [(.short, 1), (.long, 2), (.short, 3), (.short, 4)]
        let markets = signals.map { market(101, at: t0 + seconds($0.1), signal: ExitSignal(direction: $0.0, time: t0 + seconds($0.1))) }
        #expect(firstExit(engine, &position, markets)?.0 == 3)
    }

    @Test func maxHoldingTimeFiresWhenHeldLongEnough() {
        let engine = ExitEngine(policy: ExitPolicy(maxHoldingNanos: Nanos.hour))
        var position = long()
        #expect(engine.evaluate(&position, market: market(100, at: t0 + Nanos.hour - 1), instrument: instrument) == nil)
        #expect(engine.evaluate(&position, market: market(100, at: t0 + Nanos.hour), instrument: instrument)?.path == .maxHoldingTime)
    }

    @Test func higherPriorityWinsAndOnlyOneExitFires() {
        let all = ExitPolicy(
            emergencyTiers: [.init(loss: 0.005, fraction: 1)], hardStop: 0.05, softStop: .init(loss: 0.03, confirmations: 1), atrStop: .init(multiple: 1),
            takeProfits: [.init(profit: 0.02, fraction: 0.5)],
            signalExit: .init(minProfit: 0, confirmations: 1, cooldownNanos: 0), maxHoldingNanos: seconds(1))
        let crash = market(90, atr: 1, equity: 10_000)
        var position = long()
        #expect(ExitEngine(policy: all).evaluate(&position, market: crash, instrument: instrument)?.path == .emergencyLoss)
        var withoutEmergency = all
        withoutEmergency.emergencyTiers = []
        position = long()
        #expect(ExitEngine(policy: withoutEmergency).evaluate(&position, market: crash, instrument: instrument)?.path == .hardStop)
        withoutEmergency.hardStop = nil
        position = long()
        #expect(ExitEngine(policy: withoutEmergency).evaluate(&position, market: crash, instrument: instrument)?.path == .atrStop)
        withoutEmergency.atrStop = nil
        position = long()
        #expect(ExitEngine(policy: withoutEmergency).evaluate(&position, market: crash, instrument: instrument)?.path == .softStop)

        // In profit with a signal, an expired holding time and a take-profit all due: the full
        // time exit wins, and the take-profit level stays unfired.
        position = long()
        let rally = market(103, signal: ExitSignal(direction: .short, time: t0 + seconds(1)))
        #expect(ExitEngine(policy: all).evaluate(&position, market: rally, instrument: instrument)?.path == .maxHoldingTime)
        #expect(position.takeProfitsFired.isEmpty)
        var noTimeLimit = all
        noTimeLimit.maxHoldingNanos = nil
        position = long()
        #expect(ExitEngine(policy: noTimeLimit).evaluate(&position, market: rally, instrument: instrument)?.path == .signal)
    }

    @Test func exitIntentsPassTheRiskBookWhileHalted() throws {
        var book = activeBook(positions: [position("S0", 10)])
        _ = book.setKillSwitch(true, reason: "test", now: t0)
        let engine = ExitEngine(policy: ExitPolicy(hardStop: 0.05))
        var tracked = long()
        let exit = try #require(engine.evaluate(&tracked, market: market(95), instrument: instrument))
        let verdict = book.evaluate(exit.intent, now: t0 + seconds(1))
        #expect(verdict.outcome == .approved)
        #expect(verdict.order?.reduceOnly == true)
        // The engine fires again on the next mark; the working exit already covers the position.
        let again = try #require(engine.evaluate(&tracked, market: market(94, at: t0 + seconds(2)), instrument: instrument))
        #expect(book.evaluate(again.intent, now: t0 + seconds(2)).code == .nothingToReduce)
    }

    @Test func policyDecodesWithDefaultsAndValidates() throws {
        let json = #"{"hardStop": 0.05, "takeProfits": [{"profit": 0.04, "fraction": 0.5}, {"profit": 0.02, "fraction": 0.25}]}"#
        let policy = try JSONDecoder().decode(ExitPolicy.self, from: Data(json.utf8))
        #expect(policy.hardStop == 0.05)
        #expect(policy.takeProfits.map(\.profit) == [0.02, 0.04])
        #expect(policy.intentTimeToLiveNanos == seconds(5))
        #expect(policy.validationErrors().isEmpty)
        #expect(ExitPolicy(hardStop: 1.5).validationErrors().count == 1)
    }
}
