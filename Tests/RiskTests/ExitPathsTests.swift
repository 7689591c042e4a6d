import Foundation
import Risk
import Schema
import Testing

/// The standard policy, the emergency tiers against equity, the protective stop and the force-stop.
@Suite("Exit paths")
struct ExitPathsTests {
    let instrument = Instrument(symbol: "S0", szDecimals: 2, minOrderValue: 10)

    func long(_ size: Amount = 100, entry: Amount = 100) -> ExitPosition {
        ExitPosition(symbol: "S0", size: size, entryPrice: entry, entryTime: t0, strategy: "trend")
    }

    func short(_ size: Amount = 100, entry: Amount = 100) -> ExitPosition { long(-size, entry: entry) }

    func market(
        _ mark: Amount, at now: EpochNanos = t0 + seconds(1), atr: Double? = nil, signal: ExitSignal? = nil,
        equity: Amount? = 10_000
    ) -> ExitMarket {
        ExitMarket(mark: mark, atr: atr, signal: signal, equity: equity, now: now)
    }

    // MARK: The standard policy

    @Test func standardPolicyHoldsEveryDefault() {
        let standard = ExitPolicy.standard
        #expect(standard.emergencyTiers == [.init(loss: 0.02, fraction: 0.5), .init(loss: 0.05, fraction: 1)])
        #expect(standard.hardStop == 0.03)
        #expect(standard.softStop == nil)
        #expect(ExitPolicy.SoftStop.standard == .init(loss: 0.02, confirmations: 3))
        #expect(standard.atrStop == .init(multiple: 3))
        #expect(standard.trailingStop == .init(activationProfit: 0.01, atrMultiple: 3, minDistance: 0.003, maxDistance: 0.02))
        #expect(standard.takeProfits == [.init(profit: 0.03, fraction: 0.5)])
        #expect(standard.signalExit == .init(minProfit: 0.005, confirmations: 2, cooldownNanos: 5 * Nanos.minute))
        #expect(standard.maxHoldingNanos == nil)
        #expect(standard.forceStopDistance == 0.001)
        #expect(standard.intentTimeToLiveNanos == seconds(5))
        #expect(standard.orderType == .market)
        #expect(standard.validationErrors().isEmpty)
        // A policy built without arguments has every path off, so a test meets only its own rule.
        #expect(ExitPolicy().emergencyTiers.isEmpty && ExitPolicy().forceStopDistance == nil)
    }

    @Test func standardPolicyTakesHalfAtThreePercentAndTrailsTheRest() throws {
        let engine = ExitEngine(policy: .standard)
        var position = long(10)
        #expect(engine.evaluate(&position, market: market("102.99", equity: 100_000), instrument: instrument) == nil)
        let half = try #require(engine.evaluate(&position, market: market(103, equity: 100_000), instrument: instrument))
        #expect(half.path == .takeProfit)
        #expect(half.intent.size == 5)
        position.size = 5
        // No ATR: the trail is the widest, 2 % of 103 = 2.06, so 100.94; the force-stop acts 0.1 % before it.
        #expect(engine.protectiveStopPrice(position, market: market(103)) == Amount("100.94"))
        #expect(engine.evaluate(&position, market: market("101.05", equity: 100_000), instrument: instrument) == nil)
        let rest = try #require(engine.evaluate(&position, market: market("101.03", equity: 100_000), instrument: instrument))
        #expect(rest.path == .forceStop)
        #expect(rest.intent.size == 5)
        #expect(!rest.isPartial)
    }

    @Test func policyRoundTripsThroughJSONWithTiersAndForceStop() throws {
        let data = try JSONEncoder().encode(ExitPolicy.standard)
        #expect(try JSONDecoder().decode(ExitPolicy.self, from: data) == .standard)
        let json = #"{"emergencyTiers": [{"loss": 0.05, "fraction": 1}, {"loss": 0.02, "fraction": 0.5}], "forceStopDistance": 0.002}"#
        let policy = try JSONDecoder().decode(ExitPolicy.self, from: Data(json.utf8))
        #expect(policy.emergencyTiers.map(\.loss) == [0.02, 0.05])
        #expect(policy.forceStopDistance == 0.002)
        #expect(policy.hardStop == nil)
    }

    @Test func validationNamesBadTiersAndForceStop() {
        #expect(ExitPolicy(emergencyTiers: [.init(loss: 0, fraction: 0.5)]).validationErrors().count == 1)
        #expect(ExitPolicy(emergencyTiers: [.init(loss: 0.02, fraction: 1.5)]).validationErrors().count == 1)
        #expect(
            ExitPolicy(emergencyTiers: [.init(loss: 0.02, fraction: 0.5), .init(loss: 0.02, fraction: 1)]).validationErrors()
                == ["emergency tiers repeat a loss"])
        #expect(ExitPolicy(forceStopDistance: 1).validationErrors() == ["forceStopDistance must be within (0, 1)"])
        #expect(ExitPolicy(forceStopDistance: 0.001).validationErrors().isEmpty)
    }

    // MARK: Config text

    @Test func levelsParseFromConfigText() throws {
        #expect(
            try ExitPolicy.emergencyTiers(parsing: ["0.02:0.5,0.05:1"])
                == [.init(loss: 0.02, fraction: 0.5), .init(loss: 0.05, fraction: 1)])
        #expect(
            try ExitPolicy.emergencyTiers(parsing: ["0.02:0.5", " 0.05 : 1 "])
                == [.init(loss: 0.02, fraction: 0.5), .init(loss: 0.05, fraction: 1)])
        #expect(try ExitPolicy.takeProfits(parsing: ["0.03:0.5"]) == [.init(profit: 0.03, fraction: 0.5)])
        #expect(try ExitPolicy.takeProfits(parsing: ["off"]).isEmpty)
        #expect(try ExitPolicy.takeProfits(parsing: []).isEmpty)
        #expect(throws: ExitPolicy.ConfigError.self) { try ExitPolicy.takeProfits(parsing: ["0.03"]) }
        #expect(throws: ExitPolicy.ConfigError.self) { try ExitPolicy.emergencyTiers(parsing: ["0.02:half"]) }
        #expect(throws: ExitPolicy.ConfigError.self) { try ExitPolicy.emergencyTiers(parsing: ["0.02:0.5:1"]) }
        #expect(throws: ExitPolicy.ConfigError.self) { try ExitPolicy.emergencyTiers(parsing: ["off", "0.02:1"]) }
    }

    @Test func standardLevelsReadBackFromTheirConfigText() throws {
        let standard = ExitPolicy.standard
        #expect(ExitPolicy.configText(standard.emergencyTiers) == ["0.02:0.5", "0.05:1.0"])
        #expect(try ExitPolicy.emergencyTiers(parsing: ExitPolicy.configText(standard.emergencyTiers)) == standard.emergencyTiers)
        #expect(try ExitPolicy.takeProfits(parsing: ExitPolicy.configText(standard.takeProfits)) == standard.takeProfits)
        #expect(ExitPolicy.configText([ExitPolicy.TakeProfitLevel]()) == ["off"])
    }

    // MARK: Emergency tiers

    let tiers = ExitPolicy(emergencyTiers: [.init(loss: 0.05, fraction: 1), .init(loss: 0.02, fraction: 0.5)])

    @Test func firstTierClosesHalfOfThePeakOnce() throws {
        let engine = ExitEngine(policy: tiers)
        var position = long()  // 100 at 100: a point is 100 of money, 2 % of 10 000 is 2 points
        #expect(engine.evaluate(&position, market: market("98.01"), instrument: instrument) == nil)
        let half = try #require(engine.evaluate(&position, market: market(98), instrument: instrument))
        #expect(half.path == .emergencyLoss)
        #expect(half.intent.origin == "exit:emergency_loss")
        #expect(half.intent.side == .sell)
        #expect(half.intent.size == 50)
        #expect(half.isPartial)
        #expect(half.detail == "unrealised loss 200 is 2 % of equity 10000 ≥ emergency tier 1 of 2 (2 %): close 50 % of peak size 100")
        #expect(position.emergencyTiersFired == [0.02])
        position.size = 50  // the half filled
        // The remainder losing 2 % of equity again does not fire the tier a second time.
        #expect(engine.evaluate(&position, market: market(96), instrument: instrument) == nil)
        #expect(engine.evaluate(&position, market: market("90.01"), instrument: instrument) == nil)
        let all = try #require(engine.evaluate(&position, market: market(90), instrument: instrument))
        #expect(all.intent.size == 50)
        #expect(!all.isPartial)
        #expect(all.detail == "unrealised loss 500 is 5 % of equity 10000 ≥ emergency tier 2 of 2 (5 %): close all")
        // The last tier is a full exit: it repeats until the position is gone.
        #expect(engine.evaluate(&position, market: market(89, at: t0 + seconds(2)), instrument: instrument)?.path == .emergencyLoss)
    }

    @Test func aGapThroughEveryTierClosesAll() {
        let engine = ExitEngine(policy: tiers)
        var position = short()
        let exit = engine.evaluate(&position, market: market(106), instrument: instrument)
        #expect(exit?.path == .emergencyLoss)
        #expect(exit?.intent.side == .buy)
        #expect(exit?.intent.size == 100)
        #expect(exit?.isPartial == false)
        #expect(position.emergencyTiersFired == [0.02, 0.05])
    }

    @Test func lowerTiersReachedTogetherAddTheirFractions() {
        let engine = ExitEngine(
            policy: ExitPolicy(emergencyTiers: [.init(loss: 0.01, fraction: 0.25), .init(loss: 0.02, fraction: 0.25), .init(loss: 0.05, fraction: 1)]))
        var position = short()
        let exit = engine.evaluate(&position, market: market(102), instrument: instrument)
        #expect(exit?.intent.size == 50)
        #expect(exit?.intent.side == .buy)
        #expect(position.emergencyTiersFired == [0.01, 0.02])
    }

    @Test func theLastTierClosesEverythingWhateverItsFraction() {
        let engine = ExitEngine(policy: ExitPolicy(emergencyTiers: [.init(loss: 0.02, fraction: 0.5)]))
        var position = long()
        let exit = engine.evaluate(&position, market: market(98), instrument: instrument)
        #expect(exit?.intent.size == 100)
        #expect(exit?.isPartial == false)
    }

    @Test func tiersNeedAPositiveEquityAndALoss() {
        let engine = ExitEngine(policy: tiers)
        var position = long()
        #expect(engine.evaluate(&position, market: market(80, equity: nil), instrument: instrument) == nil)
        #expect(engine.evaluate(&position, market: market(80, equity: 0), instrument: instrument) == nil)
        #expect(engine.evaluate(&position, market: market(120, equity: 10_000), instrument: instrument) == nil)
        // A larger equity moves the tier: 2 % of 20 000 is 4 points.
        #expect(engine.evaluate(&position, market: market("96.01", equity: 20_000), instrument: instrument) == nil)
        #expect(engine.evaluate(&position, market: market(96, equity: 20_000), instrument: instrument)?.intent.size == 50)
    }

    // MARK: Protective stop and force-stop

    let stops = ExitPolicy(
        hardStop: 0.03, atrStop: .init(multiple: 3),
        trailingStop: .init(activationProfit: 0.01, atrMultiple: 3, minDistance: 0.003, maxDistance: 0.02))

    @Test func protectiveStopIsTheTightestOfHardAtrAndActiveTrailing() {
        let engine = ExitEngine(policy: stops)
        var position = long(10)
        #expect(engine.protectiveStopPrice(position, market: market(100)) == 97)
        // 3 × 0.5 = 1.5 from entry is tighter than 3 %.
        #expect(engine.protectiveStopPrice(position, market: market(100, atr: 0.5)) == Amount("98.5"))
        // 3 × 2 = 6 is wider: the hard stop stays.
        #expect(engine.protectiveStopPrice(position, market: market(100, atr: 2)) == 97)
        // At +2 % the trail is active: 102 − 3 × 0.5 = 100.5.
        #expect(engine.evaluate(&position, market: market(102, atr: 0.5), instrument: instrument) == nil)
        #expect(position.trailingActive)
        #expect(engine.protectiveStopPrice(position, market: market(102, atr: 0.5)) == Amount("100.5"))

        var shortPosition = short(10)
        #expect(engine.protectiveStopPrice(shortPosition, market: market(100)) == 103)
        #expect(engine.protectiveStopPrice(shortPosition, market: market(100, atr: 0.5)) == Amount("101.5"))
        shortPosition.size = 0
        #expect(engine.protectiveStopPrice(shortPosition, market: market(100)) == nil)
        #expect(ExitEngine(policy: ExitPolicy(softStop: .standard)).protectiveStopPrice(long(), market: market(100)) == nil)
    }

    @Test func forceStopExitsWithinItsDistanceOfTheStop() throws {
        let engine = ExitEngine(policy: ExitPolicy(hardStop: 0.03, forceStopDistance: 0.001))
        var position = long(10)
        // 0.1 / 97.1 = 0.103 %: not yet.
        #expect(engine.evaluate(&position, market: market("97.1"), instrument: instrument) == nil)
        let exit = try #require(engine.evaluate(&position, market: market("97.09"), instrument: instrument))
        #expect(exit.path == .forceStop)
        #expect(exit.intent.origin == "exit:force_stop")
        #expect(exit.intent.orderType == .market)
        #expect(exit.intent.size == 10)
        #expect(!exit.isPartial)
        #expect(exit.detail == "mark 97.09 within 0.09 % of protective stop 97 ≤ force-stop distance 0.1 %")
        // Through the stop, the stop's own path fires.
        #expect(engine.evaluate(&position, market: market(97), instrument: instrument)?.path == .hardStop)

        var shortPosition = short(10)
        #expect(engine.evaluate(&shortPosition, market: market("102.89"), instrument: instrument) == nil)
        let cover = engine.evaluate(&shortPosition, market: market("102.9"), instrument: instrument)
        #expect(cover?.path == .forceStop)
        #expect(cover?.intent.side == .buy)
    }

    @Test func forceStopFollowsTheTrailingStop() {
        var policy = stops
        policy.forceStopDistance = 0.001
        let engine = ExitEngine(policy: policy)
        var position = long(10)
        #expect(engine.evaluate(&position, market: market(102, atr: 0.5), instrument: instrument) == nil)
        // Trailing stop at 100.5: 100.61 is 0.109 % away, 100.6 is 0.099 %.
        #expect(engine.evaluate(&position, market: market("100.61", atr: 0.5), instrument: instrument) == nil)
        #expect(engine.evaluate(&position, market: market("100.6", atr: 0.5), instrument: instrument)?.path == .forceStop)
    }

    @Test func forceStopIsOffWithoutADistanceOrAStop() {
        var position = long(10)
        #expect(ExitEngine(policy: ExitPolicy(hardStop: 0.03)).evaluate(&position, market: market("97.01"), instrument: instrument) == nil)
        position = long(10)
        #expect(ExitEngine(policy: ExitPolicy(forceStopDistance: 0.5)).evaluate(&position, market: market(60), instrument: instrument) == nil)
    }
}
