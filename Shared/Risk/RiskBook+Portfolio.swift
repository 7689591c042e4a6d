import Schema

extension RiskBook {
    /// Feeds a closed bar to the return history VaR, expected shortfall and stress scenarios read.
    /// The history takes the first bar's interval; a bar it cannot take (another interval, out of
    /// order) is counted, never guessed into it.
    public mutating func recordBar(_ bar: Bar) {
        if returnHistory == nil { returnHistory = ReturnHistory(intervalSeconds: bar.intervalSeconds) }
        do { try returnHistory!.record(bar) } catch { barsRefused += 1 }
    }

    /// The positions' notional at their marks (entry price until a mark is known), signed.
    public var exposureVector: ExposureVector {
        var notional: [String: Double] = [:]
        for (symbol, position) in positions where !position.size.isZero {
            let mark = marks[symbol] ?? position.entryPrice
            notional[symbol] = (position.size * mark).doubleValue
        }
        return ExposureVector(notional)
    }

    /// VaR, expected shortfall and stress of the positions now (for `/metrics` and the bus).
    public func portfolioAssessment() -> PortfolioRiskAssessment? {
        portfolioLimits.map { $0.assess(exposureVector, history: returnHistory ?? ReturnHistory()) }
    }

    // MARK: VaR back-test

    /// Takes the UTC day's VaR forecast at its first mark with positions held, once a day: the figure
    /// the day's equity change is tested against. A day flat throughout (or with the limits off) has none.
    mutating func forecastVaRIfDue(now: EpochNanos) {
        guard let portfolioLimits, synced, !positions.isEmpty else { return }
        let day = Self.utcDay(now)
        if let varForecast, varForecast.day >= day { return }
        let exposure = exposureVector
        guard !exposure.isFlat else { return }
        let figures = portfolioLimits.assess(exposure, history: returnHistory ?? ReturnHistory()).valueAtRisk
        varForecast = VaRForecast(day: day, valueAtRisk: figures.valueAtRisk)
    }

    /// At the close of the UTC `day` (the first step of `next`): the day's equity change, over the same
    /// baseline as the daily loss limit, against its forecast. A day without a forecast tests nothing;
    /// nor does a jump over several days (the gate was down), whose change spans more than one forecast.
    mutating func closeVaRBacktestDay(_ day: Int64, next: Int64) {
        defer { if let forecast = varForecast, forecast.day <= day { varForecast = nil } }
        guard let forecast = varForecast, forecast.day == day, next == day + 1, let dayStartEquity else { return }
        varBacktest.record(
            day: day * Nanos.day, forecastVaR: forecast.valueAtRisk, realisedPnl: (equity - dayStartEquity).doubleValue)
    }

    /// The portfolio limits an entry faces, after margin: post-trade VaR, expected shortfall and the
    /// worst stress loss, each against its limit (a trade that lowers a figure already over its limit
    /// passes). The figures go into the decision's reasons either way.
    func checkPortfolio(_ sizing: inout Sizing, symbol: String, side: Side) -> Reason? {
        guard let limits = portfolioLimits else { return nil }
        let change = ((side == .buy ? sizing.size : -sizing.size) * sizing.reference).doubleValue
        let verdict = limits.check(
            current: exposureVector, change: change, on: symbol, history: returnHistory ?? ReturnHistory())
        guard verdict.accepted else {
            let refusals = verdict.reasons.filter {
                [.portfolioVaR, .portfolioExpectedShortfall, .stressLoss].contains($0.code)
            }
            let notes = verdict.reasons.filter { $0.code == .insufficientHistory }.map(\.detail)
            guard var first = refusals.first else { return verdict.reasons.first }
            let more = (refusals.dropFirst().map(\.detail) + notes)
            if !more.isEmpty { first.detail += "; " + more.joined(separator: "; ") }
            return first
        }
        sizing.reasons += verdict.reasons
        return nil
    }
}

extension PortfolioRiskReport {
    /// The figures of one assessment and the back-test, for the bus; nil if a figure is not a finite
    /// number (nothing to publish that a reader could trust).
    public init?(assessment: PortfolioRiskAssessment, backtest: VaRBacktest, barSeconds: Int, time: EpochNanos) {
        func cents(_ value: Double) -> Amount? { value.isFinite ? Amount(value).rounded(scale: 2) : nil }
        let v = assessment.valueAtRisk
        let worst = assessment.stress.worst.flatMap { $0.loss > 0 ? $0 : nil }
        var exposures: [SymbolNotional] = []
        for symbol in assessment.exposure.symbols {
            guard let notional = cents(assessment.exposure.notional[symbol] ?? 0) else { return nil }
            exposures.append(SymbolNotional(symbol: symbol, notional: notional))
        }
        guard let valueAtRisk = cents(v.valueAtRisk), let expectedShortfall = cents(v.expectedShortfall),
            let gross = cents(assessment.exposure.gross), let stressLoss = cents(assessment.stress.worstLoss),
            v.confidence.isFinite
        else { return nil }
        self.init(
            valueAtRisk: valueAtRisk, expectedShortfall: expectedShortfall, confidence: v.confidence,
            horizonBars: v.horizonBars, barSeconds: barSeconds, basis: v.basis, scenarios: v.scenarios,
            requiredScenarios: v.requiredScenarios, grossExposure: gross, exposures: exposures,
            worstStress: worst?.name, worstStressLoss: stressLoss, backtestDays: backtest.days,
            backtestExceptions: backtest.exceptions, backtestZone: backtest.zone, time: time)
    }
}

extension RiskBook {
    /// VaR, ES, stress and the back-test of the positions now, for the bus (`risk.portfolio`) and
    /// `/metrics`; nil while the portfolio limits are off.
    public func portfolioReport(now: EpochNanos) -> (assessment: PortfolioRiskAssessment, report: PortfolioRiskReport?)? {
        guard let assessment = portfolioAssessment() else { return nil }
        let report = PortfolioRiskReport(
            assessment: assessment, backtest: varBacktest, barSeconds: returnHistory?.intervalSeconds ?? 0, time: now)
        return (assessment, report)
    }
}
