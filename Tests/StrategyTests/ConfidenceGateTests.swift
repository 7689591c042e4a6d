import Schema
import Strategy
import Testing

/// Recall's multiplier moves a view's confidence before the desk decides, and
/// `minConfidence` keeps entries whose confidence (the strategy's, then recall's) is too low.
@Suite("Confidence gate")
struct ConfidenceGateTests {
    /// A scripted strategy (confidence 0.5) that wants long on the first bar.
    func desk(minConfidence: Double) -> StrategyDesk {
        var settings = deskSettings()
        settings.minConfidence = minConfidence
        return StrategyDesk(
            strategies: [ScriptedStrategy(name: "scripted", style: .meanReversion, script: [.long])],
            settings: settings)
    }

    func note(_ adjustment: Double) -> RecallNote {
        RecallNote(source: .chroma, latencyMicros: 800, neighbours: 12, adjustment: adjustment, fallbackReason: nil)
    }

    func decideFirstBar(minConfidence: Double, recall: RecallNote?) -> StrategyDesk.Evaluation {
        var desk = desk(minConfidence: minConfidence)
        let ids = IdentifierSource()
        let observation = desk.observe(flatBars([100])[0], now: 0)
        let output = desk.decide(
            observation, now: 0, recall: recall.map { [0: $0] } ?? [:], newIdentifier: ids.next)
        return output.evaluations[0]
    }

    @Test("a strategy's own confidence below the floor is low_confidence, naming the strategy")
    func strategyBelowFloor() throws {
        let evaluation = decideFirstBar(minConfidence: 0.6, recall: nil)
        #expect(evaluation.intent == nil)
        let reason = try #require(evaluation.signal.reasons.first)
        #expect(reason.code == .lowConfidence)
        #expect(reason.detail.contains("scripted confidence 0.5"))
        #expect(reason.detail.contains("0.6"))
    }

    @Test("recall that lowers confidence below the floor is named as the cause, with the figures")
    func recallLowers() throws {
        let evaluation = decideFirstBar(minConfidence: 0.45, recall: note(0.8))
        #expect(evaluation.intent == nil)
        let reason = try #require(evaluation.signal.reasons.first)
        #expect(reason.code == .lowConfidence)
        #expect(reason.detail.hasPrefix("recall ×0.8"))
        #expect(reason.detail.contains("0.5 → 0.4"))
        #expect(abs(evaluation.signal.confidence - 0.4) < 1e-12)
        #expect(evaluation.signal.recall == note(0.8))
    }

    @Test("recall can lift a view over the floor: the same view trades only with it")
    func recallLifts() {
        #expect(decideFirstBar(minConfidence: 0.55, recall: nil).intent == nil)
        let lifted = decideFirstBar(minConfidence: 0.55, recall: note(1.2))
        #expect(lifted.intent != nil)
        #expect(lifted.signal.decision == .approved)
        #expect(abs(lifted.signal.confidence - 0.6) < 1e-12)
    }

    @Test("without a floor, recall changes the confidence the signal carries but not the decision")
    func noFloor() {
        let evaluation = decideFirstBar(minConfidence: 0, recall: note(0.5))
        #expect(evaluation.intent != nil)
        #expect(abs(evaluation.signal.confidence - 0.25) < 1e-12)
    }

    @Test("onBar decides exactly as observe then decide without recall")
    func onBarIsBothHalves() {
        var whole = desk(minConfidence: 0)
        var halves = desk(minConfidence: 0)
        let bars = flatBars([100, 101, 99, 100])
        let wholeIds = IdentifierSource()
        let halvesIds = IdentifierSource()
        for bar in bars {
            let a = whole.onBar(bar, now: 0, newIdentifier: wholeIds.next)
            let b = halves.decide(halves.observe(bar, now: 0), now: 0, newIdentifier: halvesIds.next)
            #expect(a == b)
        }
    }

    @Test("a floor outside 0…1 is refused")
    func floorValidated() {
        var settings = deskSettings()
        settings.minConfidence = 1.5
        #expect(throws: StrategyConfigError.self) { try settings.validate() }
    }
}
