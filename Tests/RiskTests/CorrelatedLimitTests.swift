import Foundation
import Market
import Risk
import Schema
import Testing

/// One-minute bars around 100 for each symbol: S0 and S1 take the same seeded steps (S1 with a
/// little noise of its own), S2 its own.
private func correlatedHistory(bars: Int) -> [Bar] {
    var random = SplitMix64(seed: 7)
    var closes = ["S0": 100.0, "S1": 100.0, "S2": 100.0]
    var result: [Bar] = []
    for minute in 0..<bars {
        let common = Double.random(in: -0.004...0.004, using: &random)
        let moves = [
            "S0": common, "S1": common + Double.random(in: -0.0005...0.0005, using: &random),
            "S2": Double.random(in: -0.004...0.004, using: &random),
        ]
        for symbol in ["S0", "S1", "S2"] {
            closes[symbol]! *= 1 + moves[symbol]!
            let close = Amount(closes[symbol]!).rounded(scale: 4)
            result.append(
                Bar(
                    symbol: symbol, intervalSeconds: 60, openTime: t0 + Int64(minute) * Nanos.minute, open: close,
                    high: close, low: close, close: close, volume: 1))
        }
    }
    return result
}

/// Limits that never refuse on VaR, ES or stress: these tests are about correlation and regimes.
private func portfolio(countCorrelatedAsOne: Bool = true) -> PortfolioRiskLimits {
    PortfolioRiskLimits(
        maxValueAtRisk: 1_000_000, maxExpectedShortfall: 1_000_000, maxStressLoss: 1_000_000,
        correlationThreshold: 0.7, correlationWindow: 300, minimumCorrelationSamples: 100,
        countCorrelatedAsOne: countCorrelatedAsOne)
}

@Suite("Correlated positions counted as one")
struct CorrelatedLimitTests {
    /// S0 long 2,000 and S2 long 1,000 under a one-position limit of 3,000.
    func book(history: Bool, countCorrelatedAsOne: Bool = true) -> RiskBook {
        var book = activeBook(
            roomyLimits(maxSymbolNotional: 3_000), positions: [position("S0", 20), position("S2", 10)])
        book.portfolioLimits = portfolio(countCorrelatedAsOne: countCorrelatedAsOne)
        if history { for bar in correlatedHistory(bars: 300) { book.recordBar(bar) } }
        return book
    }

    @Test("an entry in a symbol that moves with an open position shares that position's limit, with the figures")
    func correlatedEntryIsCutToTheGroupsRoom() {
        var book = book(history: true)
        // S1 moves with S0 (2,000 long): 2,000 + 1,500 > 3,000, so the 1,500 is cut to 1,000.
        let verdict = book.evaluate(intent("a", "S1", size: 15), now: t0)
        #expect(verdict.outcome == .resized)
        #expect(verdict.decision.approvedSize == 10)
        let reason = verdict.decision.reasons.first { $0.code == .correlatedExposure }?.detail ?? ""
        #expect(reason.contains("S1 moves with long S0 2000") && reason.contains("correlation ≥ 0.7 over 299 bars"), "\(reason)")
        #expect(!reason.contains("S2"), "S2 moves on its own: \(reason)")
        // Now S0 + S1 fill the limit: one more S1 is refused outright.
        let refused = book.evaluate(intent("b", "S1", size: 1), now: t0)
        #expect(refused.codes == [.correlatedExposure])
    }

    @Test("an uncorrelated symbol keeps its own limit; opposite directions and a disabled setting never merge")
    func uncorrelatedOppositeOrDisabled() {
        var independent = book(history: true)
        let s2 = independent.evaluate(intent("a", "S2", size: 20), now: t0)
        #expect(s2.outcome == .approved && !s2.codes.contains(.correlatedExposure), "\(s2.decision.reasons)")

        var short = book(history: true)
        let shortS1 = short.evaluate(intent("b", "S1", .sell, size: 25), now: t0)
        #expect(shortS1.outcome == .approved && !shortS1.codes.contains(.correlatedExposure))

        var off = book(history: true, countCorrelatedAsOne: false)
        #expect(off.evaluate(intent("c", "S1", size: 25), now: t0).outcome == .approved)
    }

    @Test("too little history: the fallback correlation (1) merges every same-direction position, and says so")
    func insufficientHistoryFallsBackToMovingTogether() {
        var book = book(history: false)
        let verdict = book.evaluate(intent("a", "S3", size: 5), now: t0)
        #expect(verdict.codes == [.correlatedExposure])
        let detail = verdict.decision.reasons.first?.detail ?? ""
        #expect(detail.contains("insufficient_history 0 of 100 bars") && detail.contains("fallback correlation 1"), "\(detail)")
        var independent = book
        independent.portfolioLimits?.fallbackCorrelation = 0
        #expect(independent.evaluate(intent("b", "S3", size: 5), now: t0).outcome == .approved)
    }
}

@Suite("Limits scaled by the market regime")
struct RegimeScaledLimitTests {
    /// Bars swinging ±3 % around 100: realised volatility far over the classifier's threshold.
    func volatileBars(_ symbol: String, count: Int = 60) -> [Bar] {
        (0..<count).map { minute in
            let close: Amount = minute % 2 == 0 ? 97 : 103
            return Bar(
                symbol: symbol, intervalSeconds: 60, openTime: t0 + Int64(minute) * Nanos.minute, open: close,
                high: close + 1, low: close - 1, close: close, volume: 1)
        }
    }

    @Test("in high volatility the order, symbol and gross limits shrink by the configured factor, stated per limit")
    func highVolatilityHalvesTheLimits() {
        var book = activeBook(roomyLimits(maxOrderNotional: 1_000, maxSymbolNotional: 800))
        book.regimeScaling = RegimeLimitScaling(factors: [.highVolatility: 0.5])
        for bar in volatileBars("S0") { book.recordBar(bar) }
        #expect(book.regime("S0") == .highVolatility)

        let verdict = book.evaluate(intent("a", "S0", size: 10), now: t0)
        #expect(verdict.outcome == .resized)
        #expect(verdict.decision.approvedSize == 4)  // symbol limit 800 × 0.5 = 400 at 100
        let scaled = verdict.decision.reasons.filter { $0.code == .regimeScaled }.map(\.detail)
        #expect(scaled.contains("S0: maxOrderNotional 1,000.00 × 0.5 = 500.00 (regime highVolatility)"), "\(scaled)")
        #expect(scaled.contains("S0: maxSymbolNotional 800.00 × 0.5 = 400.00 (regime highVolatility)"), "\(scaled)")

        // A symbol whose regime is unknown (no bars) or not named keeps its limits.
        let calm = book.evaluate(intent("b", "S1", size: 7), now: t0)
        #expect(calm.outcome == .approved && !calm.codes.contains(.regimeScaled))
    }

    @Test("the VaR, ES and stress limits scale with the entered symbol's regime too, and a refusal says so")
    func portfolioLimitsScale() {
        func book(volatile: Bool) -> RiskBook {
            var book = activeBook()
            // Too little history for a 1-day VaR: the fallback, 30 % of gross: 10 S0 = 1,000 → 300.
            book.portfolioLimits = PortfolioRiskLimits(
                maxValueAtRisk: 400, maxExpectedShortfall: 1_000, maxStressLoss: 1_000)
            book.regimeScaling = RegimeLimitScaling(factors: [.highVolatility: 0.5])
            if volatile { for bar in volatileBars("S0") { book.recordBar(bar) } }
            return book
        }
        var calm = book(volatile: false)
        #expect(calm.evaluate(intent("a", "S0", size: 10), now: t0).outcome == .approved)
        var volatile = book(volatile: true)
        let verdict = volatile.evaluate(intent("b", "S0", size: 10), now: t0)
        #expect(verdict.codes.first == .portfolioVaR, "\(verdict.decision.reasons)")
        let scaled = verdict.decision.reasons.filter { $0.code == .regimeScaled }.map(\.detail)
        #expect(scaled.contains("S0: maxValueAtRisk 400.00 × 0.5 = 200.00 (regime highVolatility)"), "\(scaled)")
    }
}

@Suite("Portfolio history seeded at start")
struct HistorySeedTests {
    @Test("bars from a file and the trace, in any order and with repeats, count once each in time order")
    func seedDedupesAndOrders() {
        let bars = correlatedHistory(bars: 30)
        var book = activeBook()
        // The trace holds the last 20 minutes, the file all 30: 10 overlap; both come shuffled.
        var random = SplitMix64(seed: 3)
        let mixed = (bars + bars.suffix(60)).shuffled(using: &random)
        let taken = book.seedHistory(mixed)
        #expect(taken == ["S0": 30, "S1": 30, "S2": 30])
        #expect(book.barsRefused == 0)
        #expect(book.returnHistory?.barCount("S1") == 30)
        // A bar of another interval is refused and not counted as taken.
        let odd = Bar(symbol: "S0", intervalSeconds: 300, openTime: t0 + 40 * Nanos.minute, open: 1, high: 1, low: 1, close: 1, volume: 1)
        #expect(book.seedHistory([odd]) == [:])
        #expect(book.barsRefused == 1)
    }
}
