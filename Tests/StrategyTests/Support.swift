import Schema
import Strategy

/// SplitMix64: a tiny seeded generator so property tests replay exactly.
extension SplitMix64 {
    mutating func double(in range: ClosedRange<Double>) -> Double { Double.random(in: range, using: &self) }
    mutating func int(in range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func chance(_ probability: Double) -> Bool { double(in: 0...1) < probability }
}

/// Closes from a start price and a list of changes.
func closes(from start: Double = 100, changes: [Double]) -> [Double] {
    var result = [start]
    for change in changes { result.append(result.last! + change) }
    return result
}

/// A strategy whose views are written down in advance: one entry per bar, nil for no
/// view; the first `warmUp` bars are warming up.
struct ScriptedStrategy: ClosingPriceStrategy {
    let name: String
    let style: StrategyStyle
    var script: [Direction?]
    var warmUpBars: Int
    private var bar = 0

    init(name: String, style: StrategyStyle, script: [Direction?], warmUp: Int = 0) {
        self.name = name
        self.style = style
        self.script = script
        self.warmUpBars = warmUp
    }

    mutating func update(close: Double) -> StrategyView {
        defer { bar += 1 }
        if bar < warmUpBars {
            return StrategyView(direction: nil, confidence: 0, indicators: [:], reason: Reason(.warmingUp, "scripted"))
        }
        let direction = bar < script.count ? script[bar] : nil
        guard let direction else {
            return StrategyView(
                direction: nil, confidence: 0, indicators: ["bar": Double(bar)],
                reason: Reason(.belowThreshold, "scripted"))
        }
        return StrategyView(
            direction: direction, confidence: 0.5, indicators: ["bar": Double(bar)],
            reason: Reason(.approved, "scripted \(direction.rawValue)"))
    }
}

/// A counter of identifiers: "id1", "id2", …
final class IdentifierSource {
    private var count = 0
    func next() -> String {
        count += 1
        return "id\(count)"
    }
}

extension StrategyDesk {
    /// Feeds every bar; returns every output.
    mutating func run(_ bars: [Bar], now: EpochNanos = 0, ids: IdentifierSource = IdentifierSource()) -> [Output] {
        bars.map { onBar($0, now: now, newIdentifier: ids.next) }
    }
}

extension StrategyDesk.Output {
    var codes: [ReasonCode] { signals.map { $0.reasons.first?.code ?? "none" } }
}

/// One strategy on a desk, one evaluation per bar, with the ids the test chooses: the
/// shape these tests were written in (the service drives `StrategyDesk` directly).
struct SignalEngine {
    struct Output: Equatable {
        var signal: Signal
        var intent: OrderIntent?
    }

    private var desk: StrategyDesk

    init(strategy: some BarStrategy, settings: StrategyDesk.Settings) {
        desk = StrategyDesk(strategies: [strategy], settings: settings)
    }

    var intendedPosition: Amount { desk.intendedPosition }
    var strategyName: String { desk.strategyNames[0] }

    /// The desk asks for the signal's id first, then the intent's when there is one.
    mutating func onBar(_ bar: Bar, signalId: String, intentId: String, now: EpochNanos) -> Output {
        var ids = [signalId, intentId].makeIterator()
        let evaluation = desk.onBar(bar, now: now) { ids.next() ?? intentId }.evaluations[0]
        return Output(signal: evaluation.signal, intent: evaluation.intent)
    }

    mutating func onDecision(_ decision: RiskDecision) { desk.onDecision(decision) }
    mutating func onTradingState(_ state: TradingState) { desk.onTradingState(state) }
    mutating func onFeedStatus(_ status: FeedStatus) { desk.onFeedStatus(status) }
}
