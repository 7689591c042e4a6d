import Market
import Risk
import Schema
import Testing

/// Leverage, margin used and liquidation distance against Hyperliquid's rules, worked by hand.
@Suite("Margin and liquidation")
struct MarginTests {
    /// S0 (mark 100) with a venue max leverage of 10: maintenance margin is notional / 20.
    func book(_ margin: MarginRules, positions: [Position] = []) -> RiskBook {
        var instruments = testInstruments()
        instruments["S0"]!.maxLeverage = 10
        var book = activeBook(instruments: instruments)
        book.margin = margin
        if !positions.isEmpty {
            _ = book.apply(snapshot(at: t0 + 1, positions: positions), now: t0 + 1)
        }
        return book
    }

    @Test("the liquidation price is where equity meets maintenance margin (Hyperliquid's formula)")
    func liquidationPrice() throws {
        // Long 100 S0 at 100 on 10,000 equity: maintenance 10,000 / 20 = 500.
        // 10,000 + 100 (x − 100) = 100 x / 20 → x = 0 / 95 … floor at 0 → here: 100 x − 5 x = 0 → x = 0.
        let flat = MarginAccount(
            equity: 10_000, positions: [MarginPosition(symbol: "S0", size: 100, mark: 100, leverage: 5, maxLeverage: 10)])
        #expect(flat.marginUsed == 2_000)
        #expect(flat.maintenanceMargin == 500)
        #expect(flat.liquidationPrice("S0") == 0)
        // Long 1,000 S0 (notional 100,000) on 10,000: 10,000 + 1,000 (x − 100) = 1,000 x / 20
        // → 950 x = 90,000 → x = 94.7368…; 5.26 % below the mark.
        let long = MarginAccount(
            equity: 10_000, positions: [MarginPosition(symbol: "S0", size: 1_000, mark: 100, leverage: 10, maxLeverage: 10)])
        let price = try #require(long.liquidationPrice("S0"))
        #expect(abs(price.doubleValue - 90_000.0 / 950) < 1e-9)
        #expect(abs(try #require(long.liquidationDistance("S0")) - (1 - 90.0 / 95)) < 1e-9)
        // Short the same: 10,000 + 1,000 (100 − x) = 1,000 x / 20 → 1,050 x = 110,000.
        let short = MarginAccount(
            equity: 10_000, positions: [MarginPosition(symbol: "S0", size: -1_000, mark: 100, leverage: 10, maxLeverage: 10)])
        #expect(abs(try #require(short.liquidationPrice("S0")).doubleValue - 110_000.0 / 1_050) < 1e-9)
        #expect(long.usage == 1)
    }

    @Test("an entry that would use more margin than the limit is refused with its figures")
    func marginUsage() {
        var book = book(MarginRules(defaultLeverage: 5, maxMarginUsage: 0.5))
        // 200 S0 = 20,000 notional at 5× = 4,000 margin: 40 % of 10,000.
        #expect(book.evaluate(intent("a", size: 200), now: t0).outcome == .approved)
        // A second 200 on S1 would be 8,000 = 80 % > 50 %… once the first has filled.
        var filled = self.book(MarginRules(defaultLeverage: 5, maxMarginUsage: 0.5), positions: [position("S0", 200)])
        let refused = filled.evaluate(intent("b", "S1", size: 200, at: t0 + 1), now: t0 + 1)
        #expect(refused.outcome == .rejected)
        #expect(refused.codes == [.marginUsage])
        let detail = refused.decision.reasons.first?.detail ?? ""
        #expect(detail.contains("8000") && detail.contains("80 %") && detail.contains("50 %"), "\(detail)")
    }

    @Test("an entry that would bring its liquidation price within the set distance is refused with the price")
    func liquidationDistance() {
        var book = book(MarginRules(defaultLeverage: 10, minLiquidationDistance: 0.06))
        // 1,000 S0 at 10×: liquidation 94.74, 5.26 % from the mark < 6 %.
        let refused = book.evaluate(intent("a", size: 1_000), now: t0)
        #expect(refused.codes == [.liquidationDistance])
        let detail = refused.decision.reasons.first?.detail ?? ""
        #expect(detail.contains("94.74") && detail.contains("5.26 %") && detail.contains("limit 6 %"), "\(detail)")
        // 500 S0: 10,000 + 500 (x − 100) = 500 x / 20 → 475 x = 40,000 → 84.21, 15.8 % away.
        #expect(book.evaluate(intent("b", size: 500), now: t0).outcome == .approved)
    }

    @Test("an isolated position's liquidation price follows from its own margin; cross positions exclude it")
    func isolatedLiquidationPrice() throws {
        // Isolated long 100 S0 entered at 100, 10× (max 10): margin 1,000, maintenance 100 x / 20.
        // 1,000 + 100 (x − 100) = 5 x → 95 x = 9,000 → 94.7368…, whatever the account's equity.
        let isolated = MarginPosition(symbol: "S0", size: 100, mark: 100, leverage: 10, maxLeverage: 10, mode: .isolated)
        #expect(isolated.isolatedMargin == 1_000)
        for equity: Amount in [2_000, 50_000] {
            let account = MarginAccount(equity: equity, positions: [isolated])
            #expect(abs(try #require(account.liquidationPrice("S0")).doubleValue - 9_000.0 / 95) < 1e-9)
        }
        // At a mark of 98 with the entry at 100 the margin has lost 200: same price (the formula is exact).
        let moved = MarginPosition(
            symbol: "S0", size: 100, mark: 98, leverage: 10, maxLeverage: 10, mode: .isolated, entryPrice: 100)
        let movedAccount = MarginAccount(equity: 10_000, positions: [moved])
        #expect(abs(try #require(movedAccount.liquidationPrice("S0")).doubleValue - 9_000.0 / 95) < 1e-9)
        // A cross long 1,000 S1 (max 10) beside it: the cross value is 10,000 − 1,000 isolated, so
        // 9,000 + 1,000 (x − 100) = 50 x → 950 x = 91,000 → 95.789…
        let cross = MarginPosition(symbol: "S1", size: 1_000, mark: 100, leverage: 10, maxLeverage: 10)
        let both = MarginAccount(equity: 10_000, positions: [isolated, cross])
        #expect(abs(try #require(both.liquidationPrice("S1")).doubleValue - 91_000.0 / 950) < 1e-9)
        #expect(abs(try #require(both.liquidationPrice("S0")).doubleValue - 9_000.0 / 95) < 1e-9)
    }

    @Test("the liquidation distance in ATRs refuses what the share of the mark alone would pass; an unknown ATR is stated")
    func liquidationDistanceInAverageTrueRanges() {
        func bars(range: Amount, count: Int) -> [Bar] {
            (0..<count).map {
                Bar(
                    symbol: "S0", intervalSeconds: 60, openTime: t0 + Int64($0) * Nanos.minute, open: 100,
                    high: 100 + range / 2, low: 100 - range / 2, close: 100, volume: 1)
            }
        }
        // 500 S0 at 10×: liquidation 84.21, 15.8 % away; 3 ATRs of 6 = 18 % > 15.8 %.
        var wide = book(MarginRules(defaultLeverage: 10, minLiquidationDistance: 0.06, minLiquidationDistanceAtr: 3))
        for bar in bars(range: 6, count: 14) { wide.recordBar(bar) }
        let refused = wide.evaluate(intent("a", size: 500), now: t0)
        #expect(refused.codes == [.liquidationDistance])
        let detail = refused.decision.reasons.first?.detail ?? ""
        #expect(detail.contains("84.21") && detail.contains("3 ATR (6) = 18 %"), "\(detail)")
        // ATRs of 2: 6 % < the 6 % share of the mark → only the share applies, and 500 passes.
        var narrow = book(MarginRules(defaultLeverage: 10, minLiquidationDistance: 0.06, minLiquidationDistanceAtr: 3))
        for bar in bars(range: 2, count: 14) { narrow.recordBar(bar) }
        #expect(narrow.evaluate(intent("b", size: 500), now: t0).outcome == .approved)
        // 13 bars: no ATR yet; the share of the mark applies and the decision says so.
        var young = book(MarginRules(defaultLeverage: 10, minLiquidationDistance: 0.06, minLiquidationDistanceAtr: 3))
        for bar in bars(range: 6, count: 13) { young.recordBar(bar) }
        let approved = young.evaluate(intent("c", size: 500), now: t0)
        #expect(approved.outcome == .approved)
        let note = approved.decision.reasons.first { $0.code == .insufficientHistory }?.detail ?? ""
        #expect(note.contains("ATR not yet known (13 of 14 bars)"), "\(note)")
    }

    @Test("the configured leverage is capped at the venue's maximum; exits never face margin limits")
    func capsAndExits() {
        let rules = MarginRules(defaultLeverage: 50, leverage: ["S1": 3])
        #expect(rules.leverage("S0", maxLeverage: 10) == 10)
        #expect(rules.leverage("S1", maxLeverage: 10) == 3)
        #expect(rules.leverage("S2", maxLeverage: nil) == 50)
        #expect(MarginRules(defaultLeverage: 0, maxMarginUsage: 2, minLiquidationDistance: 1).problems.count == 3)
        var book = book(MarginRules(defaultLeverage: 1, maxMarginUsage: 0.01, minLiquidationDistance: 0.9),
            positions: [position("S0", 500)])
        #expect(book.evaluate(exitIntent("x", "S0", .sell, size: 500, at: t0 + 1), now: t0 + 1).outcome == .approved)
    }
}

@Suite("Portfolio limits in the book")
struct PortfolioLimitTests {
    @Test("an entry over the VaR limit is refused with the figures; within it, the figures ride on the approval")
    func valueAtRisk() {
        var book = activeBook()
        book.portfolioLimits = PortfolioRiskLimits(maxValueAtRisk: 100)
        // 10 S0 at 100 = 1,000 of notional, no history: VaR is the fallback, 30 % of gross = 300.
        let refused = book.evaluate(intent("a", size: 10), now: t0)
        #expect(refused.codes == [.portfolioVaR])
        let detail = refused.decision.reasons.first?.detail ?? ""
        #expect(detail.contains("300") && detail.contains("100") && detail.contains("insufficient_history"), "\(detail)")
        var roomy = activeBook()
        roomy.portfolioLimits = PortfolioRiskLimits(maxValueAtRisk: 500, maxExpectedShortfall: 500, maxStressLoss: 1_000)
        let approved = roomy.evaluate(intent("b", size: 10), now: t0)
        #expect(approved.outcome == .approved)
        #expect(approved.codes.contains(.insufficientHistory))
    }
}
