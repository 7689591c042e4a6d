import Schema
import Strategy
import Testing

@Suite("Strategy presets")
struct PresetTests {
    /// Fourteen changes whose first RSI(14) is 100 × gains / (gains + losses).
    struct RsiCase: Sendable, CustomTestStringConvertible {
        var label: String
        var changes: [Double]
        var rsi: Double
        /// Expected direction for tight (35/65), standard (30/70), loose (25/75).
        var expected: [Direction?]
        var testDescription: String { label }
    }

    static let rsiCases: [RsiCase] = [
        // 7 × +1, 7 × −2: 7 / 21
        RsiCase(
            label: "RSI 33.3", changes: Array(repeating: [1.0, -2.0], count: 7).flatMap { $0 }, rsi: 100.0 / 3,
            expected: [.long, nil, nil]),
        // 4 × +1, 10 × −1: 4 / 14
        RsiCase(
            label: "RSI 28.6", changes: Array(repeating: 1.0, count: 4) + Array(repeating: -1.0, count: 10),
            rsi: 400.0 / 14, expected: [.long, .long, nil]),
        // 3 × +1, 11 × −1: 3 / 14
        RsiCase(
            label: "RSI 21.4", changes: Array(repeating: 1.0, count: 3) + Array(repeating: -1.0, count: 11),
            rsi: 300.0 / 14, expected: [.long, .long, .long]),
        // The mirror images.
        RsiCase(
            label: "RSI 66.7", changes: Array(repeating: [-1.0, 2.0], count: 7).flatMap { $0 }, rsi: 200.0 / 3,
            expected: [.short, nil, nil]),
        RsiCase(
            label: "RSI 71.4", changes: Array(repeating: -1.0, count: 4) + Array(repeating: 1.0, count: 10),
            rsi: 1000.0 / 14, expected: [.short, .short, nil]),
        RsiCase(
            label: "RSI 78.6", changes: Array(repeating: -1.0, count: 3) + Array(repeating: 1.0, count: 11),
            rsi: 1100.0 / 14, expected: [.short, .short, .short]),
        // 7 × +1, 7 × −1: 50, nothing anywhere.
        RsiCase(
            label: "RSI 50", changes: Array(repeating: [1.0, -1.0], count: 7).flatMap { $0 }, rsi: 50,
            expected: [nil, nil, nil]),
    ]

    @Test("RSI presets: tight, standard and loose bands on hand-made series", arguments: rsiCases)
    func rsiPresets(_ example: RsiCase) throws {
        for (preset, expected) in zip(RsiMeanReversion.Preset.allCases, example.expected) {
            var strategy = RsiMeanReversion(preset: preset)
            #expect(strategy.name == "rsi_mean_reversion_\(preset.rawValue)")
            #expect(strategy.style == .meanReversion)
            let views = closes(changes: example.changes).map { strategy.update(close: $0) }
            #expect(views.count == 15)
            #expect(views.dropLast().allSatisfy { $0.reason.code == .warmingUp && $0.direction == nil })
            let last = views.last!
            let rsi = try #require(last.indicators["rsi"])
            #expect(abs(rsi - example.rsi) < 1e-9)
            #expect(last.direction == expected, "\(preset) at RSI \(rsi)")
            #expect(last.reason.code == (expected == nil ? .belowThreshold : .approved))
            if expected != nil { #expect(last.confidence > 0 && last.confidence <= 1) }
        }
    }

    @Test("RSI preset parameters are the documented bands")
    func rsiPresetParameters() {
        #expect(RsiMeanReversion.Parameters.tight == .init(period: 14, oversold: 35, overbought: 65))
        #expect(RsiMeanReversion.Parameters.standard == .init(period: 14, oversold: 30, overbought: 70))
        #expect(RsiMeanReversion.Parameters.loose == .init(period: 14, oversold: 25, overbought: 75))
        #expect(throws: StrategyConfigError.self) {
            try RsiMeanReversion.Parameters(period: 14, oversold: 70, overbought: 30).validate()
        }
    }

    @Test(
        "SMA trend presets: warming up, flat, long above the margin, short below, nothing inside it",
        arguments: SmaTrend.Preset.allCases)
    func smaPresets(_ preset: SmaTrend.Preset) {
        let parameters = preset.parameters
        let (fast, slow, margin) = (parameters.fastPeriod, parameters.slowPeriod, parameters.marginBps)
        let flat = Array(repeating: 100.0, count: slow)

        func lastView(_ series: [Double]) -> (views: [StrategyView], last: StrategyView) {
            var strategy = SmaTrend(preset: preset)
            let views = series.map { strategy.update(close: $0) }
            return (views, views.last!)
        }

        // Warming up until the slow average has its closes, then a flat market is no trend.
        let (views, last) = lastView(flat)
        #expect(views.dropLast().allSatisfy { $0.reason.code == .warmingUp })
        #expect(last.reason.code == .belowThreshold && last.direction == nil)
        #expect(last.indicators["sma_gap_bps"] == 0)

        // `fast` closes one step away: fast = 100 + step, slow = 100 + step × fast / slow.
        func gapBps(step: Double) -> Double {
            let fastAverage = 100 + step
            let slowAverage = 100 + step * Double(fast) / Double(slow)
            return (fastAverage - slowAverage) / slowAverage * 10_000
        }
        for (step, expected) in [(1.0, Direction.long), (-1.0, .short)] {
            let view = lastView(flat + Array(repeating: 100 + step, count: fast)).last
            #expect(view.direction == expected, "\(preset) step \(step)")
            #expect(view.reason.code == .approved)
            #expect(abs(view.indicators["sma_gap_bps"]! - gapBps(step: step)) < 1e-6)
            #expect(abs(view.indicators["sma_fast"]! - (100 + step)) < 1e-9)
        }
        // A step that makes a gap of half the margin is no view.
        let small = 0.5 * margin / 10_000 * 100 / (1 - Double(fast) / Double(slow))
        let inside = lastView(flat + Array(repeating: 100 + small, count: fast)).last
        #expect(abs(abs(inside.indicators["sma_gap_bps"]!) - margin / 2) < 0.01)
        #expect(inside.direction == nil)
        #expect(inside.reason.code == .belowThreshold)
    }

    @Test("SMA preset parameters are the documented pairs and margins")
    func smaPresetParameters() {
        #expect(SmaTrend.Parameters.fast == .init(fastPeriod: 5, slowPeriod: 20, marginBps: 5))
        #expect(SmaTrend.Parameters.standard == .init(fastPeriod: 10, slowPeriod: 50, marginBps: 10))
        #expect(SmaTrend.Parameters.slow == .init(fastPeriod: 20, slowPeriod: 100, marginBps: 20))
        #expect(SmaTrend(preset: .standard).name == "sma_trend_standard")
        #expect(SmaTrend(preset: .slow).warmUpBars == 100)
        #expect(throws: StrategyConfigError.self) {
            try SmaTrend.Parameters(fastPeriod: 20, slowPeriod: 10, marginBps: 5).validate()
        }
    }

    @Test("every preset by its config name builds a strategy of its style")
    func presetCatalogue() {
        let names = StrategyPreset.allCases.map { $0.makeStrategy().name }
        #expect(
            names == [
                "rsi_mean_reversion_tight", "rsi_mean_reversion_standard", "rsi_mean_reversion_loose",
                "sma_trend_fast", "sma_trend_standard", "sma_trend_slow",
            ])
        for preset in StrategyPreset.allCases {
            #expect(preset.makeStrategy().style == preset.style)
            #expect(StrategyPreset(rawValue: preset.rawValue) == preset)
        }
    }
}
