import Foundation
import Market
import Risk
import Schema
import Testing

private let minute: Int64 = 60 * Nanos.second
private let day0: EpochNanos = 1_735_689_600 * Nanos.second

/// A history of one-minute closes, one list per symbol starting at `day0`; nil leaves a gap.
private func history(_ closes: [String: [Double?]], capacity: Int = 64_800) throws -> ReturnHistory {
    var h = ReturnHistory(intervalSeconds: 60, capacity: capacity)
    for symbol in closes.keys.sorted() {
        for (i, close) in closes[symbol]!.enumerated() {
            if let close { try h.record(symbol: symbol, openTime: day0 + Int64(i) * minute, close: close) }
        }
    }
    return h
}

/// Joint returns built by hand: `losses` of a 1-unit long position on "A".
private func returns(_ rows: [[Double]], symbols: [String]) -> JointReturns {
    JointReturns(
        symbols: symbols, endTimes: rows.indices.map { day0 + Int64($0) * minute }, returns: rows, horizonBars: 1,
        stepBars: 1)
}

@Suite struct ReturnHistoryTests {
    @Test func jointReturnsAlignOnOpenTimeAndDropGaps() throws {
        // B misses bar 3: the scenarios ending at 3 and at 4 (start 3) both drop out.
        let h = try history(["A": [100, 110, 121, 133.1, 146.41, 161.051], "B": [50, 50, 55, nil, 44, 44]])
        let joint = h.jointReturns(symbols: ["A", "B"], horizonBars: 1, stepBars: 1, window: 100)
        #expect(joint.endTimes == [1, 2, 5].map { day0 + $0 * minute })
        #expect(joint.count == 3)
        for row in joint.returns { #expect(abs(row[0] - 0.1) < 1e-12) }
        #expect(zip(joint.returns.map { $0[1] }, [0, 0.1, 0]).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    @Test func nonOverlappingStepsBackFromTheLatestCommonBar() throws {
        let closes: [Double?] = (0..<10).map { 100 + Double($0) }
        let h = try history(["A": closes, "B": closes + [200, 300]])
        // Anchor = bar 9 (B's bars 10 and 11 have no A); 3-bar returns at ends 9, 6, 3.
        let joint = h.jointReturns(symbols: ["A", "B"], horizonBars: 3, stepBars: 3, window: 100)
        #expect(joint.endTimes == [3, 6, 9].map { day0 + $0 * minute })
        #expect(abs(joint.returns[2][0] - (109.0 / 106 - 1)) < 1e-15)
        // Overlapping: one per bar from 3 to 9; the window keeps the most recent.
        let overlapping = h.jointReturns(symbols: ["A", "B"], horizonBars: 3, stepBars: 1, window: 4)
        #expect(overlapping.endTimes == [6, 7, 8, 9].map { day0 + $0 * minute })
        #expect(h.jointReturns(symbols: ["A", "C"], horizonBars: 1, stepBars: 1, window: 5).count == 0)
    }

    @Test func badBarsAreRefusedWithAReason() throws {
        var h = ReturnHistory(intervalSeconds: 60)
        try h.record(symbol: "A", openTime: day0 + minute, close: 100)
        #expect(throws: ReturnHistory.RecordError.outOfOrder(symbol: "A", openTime: day0, latest: day0 + minute)) {
            try h.record(symbol: "A", openTime: day0, close: 100)
        }
        #expect(throws: ReturnHistory.RecordError.invalidClose(symbol: "A", openTime: day0 + 2 * minute, close: 0)) {
            try h.record(symbol: "A", openTime: day0 + 2 * minute, close: 0)
        }
        #expect(throws: ReturnHistory.RecordError.self) { try h.record(symbol: "A", openTime: day0 + 90 * Nanos.second, close: 1) }
        let bar = Bar(
            symbol: "A", intervalSeconds: 300, openTime: day0 + 5 * minute, open: 1, high: 1, low: 1, close: 1, volume: 1)
        #expect(throws: ReturnHistory.RecordError.wrongInterval(symbol: "A", expected: 60, got: 300)) {
            try h.record(bar)
        }
        // The latest bar again is a revision, not an error.
        try h.record(symbol: "A", openTime: day0 + minute, close: 101)
        #expect(h.close("A", at: day0 + minute) == 101)
        #expect(h.barCount("A") == 1)
    }

    @Test func capacityDropsTheOldestBars() throws {
        let h = try history(["A": (0..<100).map { Double(100 + $0) }], capacity: 40)
        #expect(h.barCount("A") <= 40)
        #expect(h.barCount("A") >= 35)
        #expect(h.latestOpenTime("A") == day0 + 99 * minute)
        #expect(h.close("A", at: day0) == nil)
    }
}

@Suite struct ValueAtRiskTests {
    /// Ten scenarios whose returns on A are -1 %…-10 %: a long 1,000 loses 10…100.
    let tenDays = returns((1...10).map { [-Double($0) / 100, 0] }, symbols: ["A", "B"])

    @Test func quantileAndShortfallByHand() {
        let exposure = ExposureVector(["A": 1_000])
        // c = 0.9: m = ⌈10 × 0.9⌉ = 9 → VaR = 9th smallest loss = 90; ES = mean(90, 100) = 95.
        let f = ValueAtRisk.figures(
            exposure: exposure, returns: tenDays, confidence: 0.9, minimumScenarios: 5, fallbackLossFraction: 0.3)
        #expect(f.basis == .historical)
        #expect(abs(f.valueAtRisk - 90) < 1e-9)
        #expect(abs(f.expectedShortfall - 95) < 1e-9)
        #expect(f.tailScenarios == 2)
        #expect(f.worstScenarioEnd == day0 + 9 * minute)
        // c = 0.75: m = ⌈7.5⌉ = 8 → VaR 80, ES mean(80, 90, 100) = 90.
        let g = ValueAtRisk.figures(
            exposure: exposure, returns: tenDays, confidence: 0.75, minimumScenarios: 5, fallbackLossFraction: 0.3)
        #expect(abs(g.valueAtRisk - 80) < 1e-9)
        #expect(abs(g.expectedShortfall - 90) < 1e-9)
        // 99 % of 10 scenarios: the worst one.
        let h = ValueAtRisk.figures(
            exposure: exposure, returns: tenDays, confidence: 0.99, minimumScenarios: 5, fallbackLossFraction: 0.3)
        #expect(abs(h.valueAtRisk - 100) < 1e-9)
        // A short gains in every scenario: its VaR is the smallest gain, negative, and says so.
        let short = ValueAtRisk.figures(
            exposure: ExposureVector(["A": -1_000]), returns: tenDays, confidence: 0.9, minimumScenarios: 5,
            fallbackLossFraction: 0.3)
        #expect(abs(short.valueAtRisk - -20) < 1e-9)
    }

    @Test func scenarioPnlSumsNotionalTimesReturn() throws {
        let joint = returns([[0.01, -0.02], [-0.05, 0.01], [0.02, 0.02]], symbols: ["A", "B"])
        // P&L: 1000×0.01 − 500×(−0.02) = 20; −50 − 5 = −55; 20 − 10 = 10 → losses −20, 55, −10.
        let f = ValueAtRisk.figures(
            exposure: ExposureVector(["A": 1_000, "B": -500]), returns: joint, confidence: 0.99, minimumScenarios: 1,
            fallbackLossFraction: 0.3)
        #expect(abs(f.valueAtRisk - 55) < 1e-9)
        #expect(abs(f.expectedShortfall - 55) < 1e-9)
        let q = try #require(ValueAtRisk.lossQuantile([-20, 55, -10], confidence: 0.5))
        #expect(q.valueAtRisk == -10)
        #expect(q.expectedShortfall == 22.5)
    }

    @Test func insufficientHistoryIsAStatedFallbackNeverZero() {
        let exposure = ExposureVector(["A": 1_000, "B": -500])
        let f = ValueAtRisk.figures(
            exposure: exposure, returns: tenDays, confidence: 0.99, minimumScenarios: 20, fallbackLossFraction: 0.3)
        #expect(f.basis == .insufficientHistory)
        #expect(f.valueAtRisk == 450)
        #expect(f.expectedShortfall == 450)
        #expect(f.scenarios == 10)
        #expect(f.requiredScenarios == 20)
        // A symbol with no history at all.
        let g = ValueAtRisk.figures(
            exposure: ExposureVector(["A": 1_000, "C": 1_000]), returns: tenDays, confidence: 0.99,
            minimumScenarios: 5, fallbackLossFraction: 0.25)
        #expect(g.basis == .insufficientHistory)
        #expect(g.symbolsShort == ["C"])
        #expect(g.valueAtRisk == 500)
        // A flat book: zero, from no exposure.
        let flat = ValueAtRisk.figures(
            exposure: ExposureVector(), returns: tenDays, confidence: 0.99, minimumScenarios: 20,
            fallbackLossFraction: 0.3)
        #expect(flat.basis == .historical)
        #expect(flat.valueAtRisk == 0)
    }

    @Test func exposureFromPositionsNeedsEveryMark() throws {
        let positions = [Position(symbol: "A", size: 2, entryPrice: 90, unrealizedPnl: 0),
                         Position(symbol: "B", size: -3, entryPrice: 10, unrealizedPnl: 0)]
        let e = try ExposureVector(positions: positions, marks: ["A": 100, "B": "12.5"])
        #expect(e.notional == ["A": 200, "B": -37.5])
        #expect(e.gross == 237.5)
        #expect(e.long == 200)
        #expect(e.short == 37.5)
        #expect(throws: ExposureVector.MissingMark.noMark(symbol: "B")) {
            try ExposureVector(positions: positions, marks: ["A": 100])
        }
    }
}

@Suite struct StressScenarioTests {
    @Test func shocksAllTogetherAndFunding() throws {
        let exposure = ExposureVector(["A": 1_000, "B": -500])
        let report = StressScenarios.run(exposure: exposure, history: nil)
        func loss(_ name: String) -> Double? { report.results.first { $0.name == name }?.loss }
        #expect(loss("A -10%") == 100)
        #expect(loss("A +30%") == -300)
        #expect(loss("B +20%") == 100)
        #expect(loss("all -30%") == 150)
        #expect(loss("all +30%") == -150)
        // 4 %/h cap × 1 h × gross 1,500.
        #expect(loss("funding 4%/h against every position for 1 h") == 60)
        #expect(report.worst?.name == "A -30%")
        #expect(report.worstLoss == 300)
        #expect(report.symbolsWithoutHistory == ["A", "B"])
        #expect(report.results.count == 3 * (2 * 2 + 2) + 1)
    }

    @Test func historicalDayHurtsEachPositionItsOwnWay() throws {
        let joint = returns([[-0.12, 0.05], [0.03, 0.40], [0.08, -0.02]], symbols: ["A", "B"])
        let report = StressScenarios.run(
            exposure: ExposureVector(["A": 1_000, "B": -500]), history: joint,
            config: StressConfig(priceShocks: [0.1], fundingCapPerHour: 0.04, fundingSpikeHours: 8))
        let days = report.results.filter { $0.kind == .historicalDay }
        // Long A: its worst fall, −12 % → 120; short B: its largest rise, +40 % → 200.
        #expect(days.map(\.loss) == [120, 200])
        #expect(days[1].name.hasPrefix("B worst day +40%"))
        #expect(report.results.first { $0.kind == .allHistoricalDays }?.loss == 320)
        // Together, day by day: losses 145, 170 and −90; the worst is the second day.
        let together = try #require(report.results.first { $0.kind == .worstJointDay })
        #expect(abs(together.loss - 170) < 1e-9)
        #expect(together.name == "worst joint day (ending \(day0 + minute))")
        // 4 %/h × 8 h × 1,500 = 480: the worst.
        #expect(report.worst?.kind == .fundingSpike)
        #expect(abs(report.worstLoss - 480) < 1e-9)
        #expect(report.symbolsWithoutHistory.isEmpty)
    }

    @Test func flatBookHasNoStress() {
        let report = StressScenarios.run(exposure: ExposureVector(), history: nil)
        #expect(report.results.isEmpty)
        #expect(report.worstLoss == 0)
        #expect(StressConfig(priceShocks: [0, 1.5], fundingCapPerHour: -1).validationErrors().count == 3)
    }
}

@Suite struct CorrelationTests {
    /// A, B = 2A (ρ 1), C = −A (ρ −1), D unrelated (ρ 0 with A by construction).
    let joint = returns(
        [[0.01, 0.02, -0.01, 0.01], [-0.01, -0.02, 0.01, 0.01], [0.01, 0.02, -0.01, -0.01], [-0.01, -0.02, 0.01, -0.01]],
        symbols: ["A", "B", "C", "D"])

    @Test func pearsonByHand() throws {
        let m = CorrelationMatrix(returns: joint, minimumSamples: 4)
        #expect(m.basis == .historical)
        #expect(abs(m.correlation("A", "B")! - 1) < 1e-12)
        #expect(abs(m.correlation("A", "C")! + 1) < 1e-12)
        #expect(abs(m.correlation("A", "D")!) < 1e-12)
        #expect(m.correlation("D", "D") == 1)
        #expect(m.clusters(threshold: 0.7) == [["A", "B"], ["C"], ["D"]])
    }

    @Test func singleLinkageChainsPairs() {
        // x, y share a third of their moves, y, z another third: ρ(x,y) = ρ(y,z) = 0.5, ρ(x,z) = −0.5.
        let rows: [[Double]] = [[1, 1, 0], [-1, -1, 0], [0, 1, 1], [0, -1, -1], [1, 0, -1], [-1, 0, 1]]
        let m = CorrelationMatrix(returns: returns(rows, symbols: ["x", "y", "z"]), minimumSamples: 2)
        #expect(m.correlation("x", "z")! < 0.7)
        #expect(m.clusters(threshold: 0.5) == [["x", "y", "z"]])
        #expect(m.clusters(threshold: 0.9) == [["x"], ["y"], ["z"]])
    }

    @Test func tooFewSamplesFallBackToMovingTogether() {
        let m = CorrelationMatrix(returns: joint, minimumSamples: 30, fallbackCorrelation: 1)
        #expect(m.basis == .insufficientHistory)
        #expect(m.clusters(threshold: 0.7) == [["A", "B", "C", "D"]])
        #expect(m.correlation("A", "C") == 1)
    }

    @Test func constantSeriesHasNoCorrelation() {
        let m = CorrelationMatrix(
            returns: returns([[0.01, 0], [-0.02, 0], [0.03, 0]], symbols: ["A", "F"]), minimumSamples: 2,
            fallbackCorrelation: 1)
        #expect(m.undefinedPairs == ["A/F"])
        #expect(m.correlation("A", "F") == 1)
    }
}

@Suite struct PortfolioRiskLimitTests {
    /// 30 days of A falling 0.1 %…3 % and B rising the same: one-day (1,440-bar) returns.
    func thirtyDays() throws -> ReturnHistory {
        var h = ReturnHistory(intervalSeconds: 60)
        var a = 100.0
        var b = 100.0
        try h.record(symbol: "A", openTime: day0, close: a)
        try h.record(symbol: "B", openTime: day0, close: b)
        for d in 1...30 {
            a *= 1 - Double(d) / 1_000
            b *= 1 + Double(d) / 1_000
            let t = day0 + Int64(d) * Nanos.day
            try h.record(symbol: "A", openTime: t, close: a)
            try h.record(symbol: "B", openTime: t, close: b)
        }
        return h
    }

    @Test func refusesWithTheFiguresInTheReason() throws {
        let limits = PortfolioRiskLimits(
            maxValueAtRisk: 1_000, maxExpectedShortfall: 1_000, maxStressLoss: 100_000, minimumScenarios: 20)
        let h = try thirtyDays()
        // Long 40,000 A: the worst day is −3 % → 1,200 loss; 30 scenarios at 99 % → VaR = ES = 1,200.
        let verdict = limits.check(current: ExposureVector(), change: 40_000, on: "A", history: h)
        #expect(!verdict.accepted)
        #expect(verdict.reasons.map(\.code) == [.portfolioVaR, .portfolioExpectedShortfall])
        #expect(verdict.reasons[0].detail == "post-trade VaR 1,200.00 > limit 1,000.00 (99 %, 1 day, 30 scenarios)")
        #expect(abs(verdict.after.valueAtRisk.valueAtRisk - 1_200) < 1e-6)
        // Adding a long B offsets it exactly (B rises as A falls): accepted.
        let hedge = limits.check(current: ExposureVector(["A": 40_000]), change: 40_000, on: "B", history: h)
        #expect(hedge.accepted)
        #expect(hedge.reasons.map(\.code) == [.portfolioRiskWithinLimits])
        #expect(abs(hedge.after.valueAtRisk.valueAtRisk) < 1e-6)
    }

    @Test func stressLimitNamesTheWorstScenario() throws {
        let limits = PortfolioRiskLimits(
            maxValueAtRisk: 1_000_000, maxExpectedShortfall: 1_000_000, maxStressLoss: 2_000)
        let verdict = limits.check(current: ExposureVector(["A": 5_000]), change: 5_000, on: "B", history: try thirtyDays())
        #expect(!verdict.accepted)
        #expect(verdict.reasons.map(\.code) == [.stressLoss])
        #expect(verdict.reasons[0].detail == "post-trade worst stress loss 3,000.00 > limit 2,000.00 (all -30%)")
    }

    @Test func reducingAFigureAlreadyOverItsLimitIsNotRefused() throws {
        let limits = PortfolioRiskLimits(maxValueAtRisk: 100, maxExpectedShortfall: 100, maxStressLoss: 100)
        let verdict = limits.check(current: ExposureVector(["A": 40_000]), change: -10_000, on: "A", history: try thirtyDays())
        #expect(verdict.accepted)
        #expect(verdict.after.valueAtRisk.valueAtRisk > 100)
    }

    @Test func insufficientHistoryAppliesTheFallbackAndSaysSo() throws {
        let limits = PortfolioRiskLimits(maxValueAtRisk: 1_000, minimumScenarios: 20, fallbackLossFraction: 0.3)
        // C has no bars: 0.3 × 5,000 = 1,500 > 1,000.
        let verdict = limits.check(current: ExposureVector(), change: 5_000, on: "C", history: try thirtyDays())
        #expect(!verdict.accepted)
        #expect(verdict.reasons.map(\.code) == [.portfolioVaR, .insufficientHistory])
        #expect(
            verdict.reasons[0].detail
                == "post-trade VaR 1,500.00 > limit 1,000.00 (99 %, 1 day, insufficient_history 0 of 20 scenarios)")
        #expect(verdict.reasons[1].detail == "VaR/ES fallback 30% of gross 5,000.00: 0 of 20 scenarios, short: C")
    }

    @Test func checkFromPositionsAndMarks() throws {
        let limits = PortfolioRiskLimits(maxValueAtRisk: 1_000)
        let positions = [Position(symbol: "A", size: 200, entryPrice: 100, unrealizedPnl: 0)]
        let verdict = try limits.check(
            positions: positions, proposedSize: 200, on: "A", marks: ["A": 100], history: try thirtyDays())
        #expect(verdict.after.exposure.notional == ["A": 40_000])
        #expect(!verdict.accepted)
        #expect(throws: ExposureVector.MissingMark.noMark(symbol: "B")) {
            try limits.check(positions: positions, proposedSize: 1, on: "B", marks: ["A": 100], history: ReturnHistory())
        }
    }

    @Test func validationAndPartialConfig() throws {
        #expect(PortfolioRiskLimits().validationErrors().isEmpty)
        let bad = PortfolioRiskLimits(
            maxValueAtRisk: 0, confidence: 1, historyWindow: 10, minimumScenarios: 11, fallbackLossFraction: 0,
            correlationThreshold: 0)
        #expect(bad.validationErrors().count == 5)
        #expect(bad.validationErrors().contains { $0.hasPrefix("fallbackLossFraction 0.0 must be within (0, 1]") })
        let decoded = try JSONDecoder().decode(
            PortfolioRiskLimits.self, from: Data(#"{"maxValueAtRisk":"250","stress":{"priceShocks":[0.5],"fundingCapPerHour":0.04,"fundingSpikeHours":2}}"#.utf8))
        #expect(decoded.maxValueAtRisk == 250)
        #expect(decoded.stress.fundingSpikeHours == 2)
        #expect(decoded.confidence == 0.99)
    }

    @Test func regimeScalingIsStated() {
        let scaling = RegimeLimitScaling(factors: [.highVolatility: 0.5])
        let (limits, reasons) = scaling.scaled(PortfolioRiskLimits(maxValueAtRisk: 1_000), regime: .highVolatility)
        #expect(limits.maxValueAtRisk == 500)
        #expect(reasons.map(\.code) == [.regimeScaled, .regimeScaled, .regimeScaled])
        #expect(reasons[0].detail == "maxValueAtRisk 1,000.00 × 0.5 = 500.00 (regime highVolatility)")
        #expect(scaling.scaled(PortfolioRiskLimits(), regime: .ranging).reasons.isEmpty)
        #expect(scaling.scaled(PortfolioRiskLimits(), regime: nil).limits == PortfolioRiskLimits())
        #expect(RegimeLimitScaling(factors: [.ranging: 0]).validationErrors().count == 1)
    }
}

@Suite struct VaRBacktestTests {
    @Test func countsDaysWhoseLossExceededTheForecast() {
        var backtest = VaRBacktest(window: 5)
        #expect(backtest.exceptionRate == nil)
        let outcomes = [
            backtest.record(day: 1, forecastVaR: 100, realisedPnl: -150),
            backtest.record(day: 2, forecastVaR: 100, realisedPnl: -100),  // equal is not beyond
            backtest.record(day: 3, forecastVaR: 100, realisedPnl: 50),
            backtest.record(day: 3, forecastVaR: 100, realisedPnl: -500),  // a repeated day is ignored
            backtest.record(day: 4, forecastVaR: 80, realisedPnl: -81),
        ]
        #expect(outcomes == [true, false, false, false, true])
        #expect(backtest.days == 4)
        #expect(backtest.exceptions == 2)
        #expect(backtest.exceptionDays == [1, 4])
        #expect(backtest.exceptionRate == 0.5)
        for d in 5...8 { backtest.record(day: EpochNanos(d), forecastVaR: 100, realisedPnl: 0) }
        // Only day 4 of the two exceptions is still inside the 5-day window.
        #expect(backtest.days == 5)
        #expect(backtest.exceptions == 1)
        #expect(backtest.zone == nil)
    }

    @Test func trafficLightOver250Days() {
        var backtest = VaRBacktest()
        for d in 0..<250 { backtest.record(day: EpochNanos(d), forecastVaR: 10, realisedPnl: d % 25 == 0 ? -11 : 0) }
        #expect(backtest.exceptions == 10)
        #expect(backtest.zone == .red)
        var calm = VaRBacktest()
        for d in 0..<250 { calm.record(day: EpochNanos(d), forecastVaR: 10, realisedPnl: d < 5 ? -11 : 0) }
        #expect(calm.zone == .yellow)
    }
}
