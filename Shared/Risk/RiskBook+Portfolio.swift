import Market
import Schema

extension RiskBook {
    /// Feeds a closed bar to the return history VaR, expected shortfall and stress scenarios read.
    /// The history takes the first bar's interval; a bar it cannot take (another interval, out of
    /// order) is counted, never guessed into it.
    public mutating func recordBar(_ bar: Bar) {
        if returnHistory == nil { returnHistory = ReturnHistory(intervalSeconds: bar.intervalSeconds) }
        do { try returnHistory!.record(bar) } catch {
            barsRefused += 1
            return
        }
        if let symbol = bar.symbol {
            let (high, low, close) = (bar.high.doubleValue, bar.low.doubleValue, bar.close.doubleValue)
            _ = regimes[symbol, default: RegimeClassifier()].update(high: high, low: low, close: close)
            _ = averageTrueRanges[symbol, default: AverageTrueRange(period: 14)].update(high: high, low: low, close: close)
        }
    }

    /// Seeds the history from bars read at start (a candle file, the trace database), in any order and
    /// with repeats (a feed restart publishes a bar twice): each (symbol, open time) counts once, in time
    /// order. Returns the bars taken per symbol.
    @discardableResult
    public mutating func seedHistory(_ bars: [Bar]) -> [String: Int] {
        var seen = Set<String>()
        let ordered = bars.filter { seen.insert("\($0.symbol ?? "")|\($0.openTime)").inserted }
            .sorted { ($0.openTime, $0.symbol ?? "") < ($1.openTime, $1.symbol ?? "") }
        var taken: [String: Int] = [:]
        for bar in ordered {
            let refusedBefore = barsRefused
            recordBar(bar)
            if barsRefused == refusedBefore { taken[bar.symbol ?? "", default: 0] += 1 }
        }
        return taken
    }

    /// The symbol's market regime once its classifier has warmed up.
    public func regime(_ symbol: String) -> Regime? { regimes[symbol]?.regime }

    /// The entry limits for `symbol` in its regime, with one reason per limit the regime scaled.
    func regimeScaledLimits(for symbol: String) -> (limits: RiskLimits, reasons: [Reason]) {
        let regime = regime(symbol)
        guard regimeScaling.factor(for: regime) != 1 else { return (limits, []) }
        var scaled = limits
        var reasons: [Reason] = []
        for (name, path) in [
            ("maxOrderNotional", \RiskLimits.maxOrderNotional), ("maxSymbolNotional", \.maxSymbolNotional),
            ("maxGrossExposure", \.maxGrossExposure),
        ] as [(String, WritableKeyPath<RiskLimits, Amount>)] {
            let (limit, reason) = regimeScaling.scale(limits[keyPath: path], named: name, regime: regime)
            scaled[keyPath: path] = limit
            if let reason { reasons.append(Reason(reason.code, "\(symbol): " + reason.detail)) }
        }
        return (scaled, reasons)
    }

    /// Correlated positions counted as one: an entry joins the same-direction positions whose
    /// returns move with its symbol's (correlation at or above the threshold, chains included),
    /// and that group as a whole must fit the one-position limit. Without enough history the
    /// configured fallback correlation applies (1 by default: every same-direction position joins).
    func checkCorrelated(
        _ sizing: inout Sizing, symbol: String, side: Side, book: BookExposure, limit: Amount
    ) -> Reason? {
        guard let portfolio = portfolioLimits, portfolio.countCorrelatedAsOne else { return nil }
        let others = book.bySymbol.filter { $0.key != symbol && $0.value.side(side).isPositive }.keys.sorted()
        guard !others.isEmpty else { return nil }
        let symbols = [symbol] + others
        let returns = (returnHistory ?? ReturnHistory()).jointReturns(
            symbols: symbols, horizonBars: 1, stepBars: 1, window: portfolio.correlationWindow)
        let matrix = CorrelationMatrix(
            returns: returns, minimumSamples: portfolio.minimumCorrelationSamples,
            fallbackCorrelation: portfolio.fallbackCorrelation)
        guard let cluster = matrix.clusters(threshold: portfolio.correlationThreshold).first(where: { $0.contains(symbol) }),
            cluster.count > 1
        else { return nil }
        let joined = cluster.filter { $0 != symbol }
        let together = joined.reduce(Amount.zero) { $0 + book.symbol($1).side(side) }
        let sideNow = book.symbol(symbol).side(side)
        let direction = side == .buy ? "long" : "short"
        let basis =
            matrix.basis == .historical
            ? "correlation ≥ \(compact(portfolio.correlationThreshold)) over \(matrix.samples) bars"
            : "insufficient_history \(matrix.samples) of \(portfolio.minimumCorrelationSamples) bars: "
                + "fallback correlation \(compact(portfolio.fallbackCorrelation))"
        let group = joined.map { "\($0) \(Format.money(book.symbol($0).side(side)))" }.joined(separator: " + ")
        if let failure = sizing.cap(.correlatedExposure, maxNotional: Self.room(limit - together, sideNow), detail: {
            "\(symbol) moves with \(direction) \(group) (\(basis)): together with \(symbol) "
                + "\(Format.money(sideNow + $0)) > one-position limit \(Format.money(limit))"
        }) { return failure }
        sizing.reasons.append(
            Reason(
                .correlatedExposure,
                "\(direction) \(symbol) counted with \(group) (\(basis)): "
                    + "\(Format.money(together + sideNow + sizing.size * sizing.reference)) ≤ one-position limit \(Format.money(limit))"))
        return nil
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
        guard let configured = portfolioLimits else { return nil }
        let (limits, scaling) = regimeScaling.scaled(configured, regime: regime(symbol))
        sizing.reasons += scaling.map { Reason($0.code, "\(symbol): " + $0.detail) }
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
