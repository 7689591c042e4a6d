import Market
import Schema

extension ReasonCode {
    /// Post-trade historical-simulation VaR over its limit.
    public static let portfolioVaR: ReasonCode = "portfolio_var"
    /// Post-trade expected shortfall over its limit.
    public static let portfolioExpectedShortfall: ReasonCode = "portfolio_expected_shortfall"
    /// Post-trade worst stress loss over its limit.
    public static let stressLoss: ReasonCode = "stress_loss"
    /// Too little history for VaR or correlation: the configured conservative fallback applied.
    public static let insufficientHistory: ReasonCode = "insufficient_history"
    /// Correlated same-direction positions together over the one-position limit.
    public static let correlatedExposure: ReasonCode = "correlated_exposure"
    /// A limit scaled by the market regime.
    public static let regimeScaled: ReasonCode = "regime_scaled"
    /// Portfolio figures within their limits (the figures in the detail).
    public static let portfolioRiskWithinLimits: ReasonCode = "portfolio_risk_within_limits"
}

/// Portfolio-level limits (VaR, ES, stress) and how their figures are computed.
public struct PortfolioRiskLimits: Codable, Sendable, Equatable {
    public var maxValueAtRisk: Amount
    public var maxExpectedShortfall: Amount
    public var maxStressLoss: Amount
    /// VaR/ES confidence, e.g. 0.99.
    public var confidence: Double
    /// Return horizon in bars: 1,440 one-minute bars = 1 day.
    public var horizonBars: Int
    /// Bars between scenario end times: = `horizonBars` for non-overlapping days, 1 for overlapping.
    public var stepBars: Int
    /// Most recent scenarios used.
    public var historyWindow: Int
    /// Fewer scenarios → `insufficient_history` and the fallback.
    public var minimumScenarios: Int
    /// VaR and ES under insufficient history: this fraction of gross notional.
    public var fallbackLossFraction: Double
    /// |correlation| at or above which same-direction positions count as one.
    public var correlationThreshold: Double
    /// One-bar returns in the rolling correlation window.
    public var correlationWindow: Int
    /// Fewer one-bar samples → `insufficient_history` for correlation.
    public var minimumCorrelationSamples: Int
    /// Correlation assumed where it is unknown; 1 merges all same-direction positions (conservative).
    public var fallbackCorrelation: Double
    /// Same-direction positions correlated at or above the threshold share the one-position limit
    /// (`maxSymbolNotional`), so correlated bets are not counted as diversified.
    public var countCorrelatedAsOne: Bool
    public var stress: StressConfig

    public init(
        maxValueAtRisk: Amount = 1_000, maxExpectedShortfall: Amount = 1_500, maxStressLoss: Amount = 3_000,
        confidence: Double = 0.99, horizonBars: Int = 1_440, stepBars: Int = 1_440, historyWindow: Int = 250,
        minimumScenarios: Int = 20, fallbackLossFraction: Double = 0.30, correlationThreshold: Double = 0.7,
        correlationWindow: Int = 1_440, minimumCorrelationSamples: Int = 240, fallbackCorrelation: Double = 1,
        countCorrelatedAsOne: Bool = true, stress: StressConfig = StressConfig()
    ) {
        self.maxValueAtRisk = maxValueAtRisk
        self.maxExpectedShortfall = maxExpectedShortfall
        self.maxStressLoss = maxStressLoss
        self.confidence = confidence
        self.horizonBars = horizonBars
        self.stepBars = stepBars
        self.historyWindow = historyWindow
        self.minimumScenarios = minimumScenarios
        self.fallbackLossFraction = fallbackLossFraction
        self.correlationThreshold = correlationThreshold
        self.correlationWindow = correlationWindow
        self.minimumCorrelationSamples = minimumCorrelationSamples
        self.fallbackCorrelation = fallbackCorrelation
        self.countCorrelatedAsOne = countCorrelatedAsOne
        self.stress = stress
    }

    /// Problems that must stop the risk gate from starting; empty when usable.
    public func validationErrors() -> [String] {
        var errors: [String] = []
        if !maxValueAtRisk.isPositive { errors.append("maxValueAtRisk \(maxValueAtRisk) must be > 0") }
        if !maxExpectedShortfall.isPositive { errors.append("maxExpectedShortfall \(maxExpectedShortfall) must be > 0") }
        if !maxStressLoss.isPositive { errors.append("maxStressLoss \(maxStressLoss) must be > 0") }
        if !(confidence > 0.5 && confidence < 1) { errors.append("confidence \(confidence) must be within (0.5, 1)") }
        if horizonBars < 1 { errors.append("horizonBars \(horizonBars) must be ≥ 1") }
        if stepBars < 1 { errors.append("stepBars \(stepBars) must be ≥ 1") }
        if historyWindow < 1 { errors.append("historyWindow \(historyWindow) must be ≥ 1") }
        if minimumScenarios < 1 || minimumScenarios > historyWindow {
            errors.append("minimumScenarios \(minimumScenarios) must be within 1…historyWindow (\(historyWindow))")
        }
        if !(fallbackLossFraction > 0 && fallbackLossFraction <= 1) {
            errors.append("fallbackLossFraction \(fallbackLossFraction) must be within (0, 1]: never a silent zero")
        }
        if !(correlationThreshold > 0 && correlationThreshold <= 1) {
            errors.append("correlationThreshold \(correlationThreshold) must be within (0, 1]")
        }
        if correlationWindow < 2 { errors.append("correlationWindow \(correlationWindow) must be ≥ 2") }
        if minimumCorrelationSamples < 2 || minimumCorrelationSamples > correlationWindow {
            errors.append(
                "minimumCorrelationSamples \(minimumCorrelationSamples) must be within 2…correlationWindow (\(correlationWindow))")
        }
        if !(-1...1).contains(fallbackCorrelation) {
            errors.append("fallbackCorrelation \(fallbackCorrelation) must be within [-1, 1]")
        }
        errors += stress.validationErrors()
        return errors
    }

    enum CodingKeys: String, CodingKey {
        case maxValueAtRisk, maxExpectedShortfall, maxStressLoss, confidence, horizonBars, stepBars, historyWindow
        case minimumScenarios, fallbackLossFraction, correlationThreshold, correlationWindow
        case minimumCorrelationSamples, fallbackCorrelation, countCorrelatedAsOne, stress
    }

    /// A config file may name only what it changes.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = PortfolioRiskLimits()
        self.init(
            maxValueAtRisk: try c.decodeIfPresent(Amount.self, forKey: .maxValueAtRisk) ?? d.maxValueAtRisk,
            maxExpectedShortfall: try c.decodeIfPresent(Amount.self, forKey: .maxExpectedShortfall)
                ?? d.maxExpectedShortfall,
            maxStressLoss: try c.decodeIfPresent(Amount.self, forKey: .maxStressLoss) ?? d.maxStressLoss,
            confidence: try c.decodeIfPresent(Double.self, forKey: .confidence) ?? d.confidence,
            horizonBars: try c.decodeIfPresent(Int.self, forKey: .horizonBars) ?? d.horizonBars,
            stepBars: try c.decodeIfPresent(Int.self, forKey: .stepBars) ?? d.stepBars,
            historyWindow: try c.decodeIfPresent(Int.self, forKey: .historyWindow) ?? d.historyWindow,
            minimumScenarios: try c.decodeIfPresent(Int.self, forKey: .minimumScenarios) ?? d.minimumScenarios,
            fallbackLossFraction: try c.decodeIfPresent(Double.self, forKey: .fallbackLossFraction)
                ?? d.fallbackLossFraction,
            correlationThreshold: try c.decodeIfPresent(Double.self, forKey: .correlationThreshold)
                ?? d.correlationThreshold,
            correlationWindow: try c.decodeIfPresent(Int.self, forKey: .correlationWindow) ?? d.correlationWindow,
            minimumCorrelationSamples: try c.decodeIfPresent(Int.self, forKey: .minimumCorrelationSamples)
                ?? d.minimumCorrelationSamples,
            fallbackCorrelation: try c.decodeIfPresent(Double.self, forKey: .fallbackCorrelation)
                ?? d.fallbackCorrelation,
            countCorrelatedAsOne: try c.decodeIfPresent(Bool.self, forKey: .countCorrelatedAsOne)
                ?? d.countCorrelatedAsOne,
            stress: try c.decodeIfPresent(StressConfig.self, forKey: .stress) ?? d.stress)
    }
}

/// The portfolio figures for one exposure.
public struct PortfolioRiskAssessment: Sendable, Equatable {
    public var exposure: ExposureVector
    public var valueAtRisk: ValueAtRiskFigures
    public var stress: StressReport
}

/// Whether a proposed change keeps the portfolio within its VaR, ES and stress limits.
public struct PortfolioRiskVerdict: Sendable, Equatable {
    public var accepted: Bool
    public var before: PortfolioRiskAssessment
    public var after: PortfolioRiskAssessment
    /// Refusals first (`portfolio_var`, `portfolio_expected_shortfall`, `stress_loss`), then
    /// `insufficient_history` when a fallback applied, then `portfolio_risk_within_limits` when accepted.
    public var reasons: [Reason]
}

extension PortfolioRiskLimits {
    /// VaR, ES and stress for one exposure, from the history's joint returns over the configured window.
    public func assess(_ exposure: ExposureVector, history: ReturnHistory) -> PortfolioRiskAssessment {
        let symbols = exposure.symbols.filter { history.barCount($0) > 0 }
        let returns = history.jointReturns(
            symbols: symbols, horizonBars: horizonBars, stepBars: stepBars, window: historyWindow)
        // A symbol without bars is absent from `returns`: the figures state it as insufficient history.
        let figures = ValueAtRisk.figures(
            exposure: exposure, returns: returns, confidence: confidence, minimumScenarios: minimumScenarios,
            fallbackLossFraction: fallbackLossFraction)
        // Per-symbol worst days come from the same joint scenarios the VaR used.
        let stressReport = StressScenarios.run(exposure: exposure, history: symbols.isEmpty ? nil : returns, config: stress)
        return PortfolioRiskAssessment(exposure: exposure, valueAtRisk: figures, stress: stressReport)
    }

    /// Checks `change` (signed notional on `symbol`) against the limits.
    ///
    /// A figure refuses the change when it is over its limit after the trade and the trade raises it:
    /// a change that lowers a figure already over its limit (a hedge, a reduction) is not refused for it.
    public func check(
        current: ExposureVector, change: Double, on symbol: String, history: ReturnHistory
    ) -> PortfolioRiskVerdict {
        let before = assess(current, history: history)
        let after = assess(current.adding(change, on: symbol), history: history)
        var refusals: [Reason] = []
        let v = after.valueAtRisk
        let basis = describe(v, intervalSeconds: history.intervalSeconds)
        func exceeds(_ post: Double, _ pre: Double, _ limit: Amount) -> Bool {
            post > limit.doubleValue && post > pre
        }
        if exceeds(v.valueAtRisk, before.valueAtRisk.valueAtRisk, maxValueAtRisk) {
            refusals.append(
                Reason(
                    .portfolioVaR,
                    "post-trade VaR \(formatted(v.valueAtRisk)) > limit \(formatted(maxValueAtRisk.doubleValue)) (\(basis))"))
        }
        if exceeds(v.expectedShortfall, before.valueAtRisk.expectedShortfall, maxExpectedShortfall) {
            refusals.append(
                Reason(
                    .portfolioExpectedShortfall,
                    "post-trade ES \(formatted(v.expectedShortfall)) > limit "
                        + "\(formatted(maxExpectedShortfall.doubleValue)) (\(basis))"))
        }
        if exceeds(after.stress.worstLoss, before.stress.worstLoss, maxStressLoss) {
            refusals.append(
                Reason(
                    .stressLoss,
                    "post-trade worst stress loss \(formatted(after.stress.worstLoss)) > limit "
                        + "\(formatted(maxStressLoss.doubleValue)) (\(after.stress.worst?.name ?? "-"))"))
        }
        var reasons = refusals
        if v.basis == .insufficientHistory {
            reasons.append(
                Reason(
                    .insufficientHistory,
                    "VaR/ES fallback \(compact(fallbackLossFraction * 100))% of gross \(formatted(v.gross)): "
                        + "\(v.scenarios) of \(v.requiredScenarios) scenarios"
                        + (v.symbolsShort.isEmpty ? "" : ", short: \(v.symbolsShort.joined(separator: ","))")))
        }
        if refusals.isEmpty {
            reasons.append(
                Reason(
                    .portfolioRiskWithinLimits,
                    "post-trade VaR \(formatted(v.valueAtRisk)) ≤ \(formatted(maxValueAtRisk.doubleValue)), "
                        + "ES \(formatted(v.expectedShortfall)) ≤ \(formatted(maxExpectedShortfall.doubleValue)), "
                        + "worst stress \(formatted(after.stress.worstLoss)) ≤ \(formatted(maxStressLoss.doubleValue)) "
                        + "(\(basis))"))
        }
        return PortfolioRiskVerdict(accepted: refusals.isEmpty, before: before, after: after, reasons: reasons)
    }

    /// The same check from positions (signed sizes), a proposed signed size and the marks.
    public func check(
        positions: [Position], proposedSize: Amount, on symbol: String, marks: [String: Amount], history: ReturnHistory
    ) throws(ExposureVector.MissingMark) -> PortfolioRiskVerdict {
        let current = try ExposureVector(positions: positions, marks: marks)
        guard let mark = marks[symbol] else { throw .noMark(symbol: symbol) }
        return check(current: current, change: (proposedSize * mark).doubleValue, on: symbol, history: history)
    }

    /// "99 %, 1 day, 30 scenarios" or "99 %, 1 day, insufficient_history 12 of 20 scenarios".
    func describe(_ v: ValueAtRiskFigures, intervalSeconds: Int) -> String {
        let seconds = v.horizonBars * intervalSeconds
        let horizon =
            seconds % 86_400 == 0
            ? "\(seconds / 86_400) day\(seconds == 86_400 ? "" : "s")"
            : seconds % 3_600 == 0 ? "\(seconds / 3_600) h" : "\(seconds) s"
        let scenarios =
            v.basis == .historical
            ? "\(v.scenarios) scenarios" : "insufficient_history \(v.scenarios) of \(v.requiredScenarios) scenarios"
        return "\(compact(confidence * 100)) %, \(horizon), \(scenarios)"
    }
}

/// Limits that shrink (or grow) with the regime classifier's state; every scaling is stated.
public struct RegimeLimitScaling: Codable, Sendable, Equatable {
    /// Factor per regime (by `Regime.rawValue`); a regime not named keeps factor 1.
    public var factors: [String: Double]

    public init(factors: [Regime: Double] = [.highVolatility: 0.5]) {
        self.factors = Dictionary(uniqueKeysWithValues: factors.map { ($0.key.rawValue, $0.value) })
    }

    public func validationErrors() -> [String] {
        var errors: [String] = []
        for (name, factor) in factors.sorted(by: { $0.key < $1.key }) {
            if Regime(rawValue: name) == nil { errors.append("regime scaling names unknown regime \(name)") }
            if !(factor > 0 && factor <= 10) { errors.append("regime scaling \(name) \(factor) must be within (0, 10]") }
        }
        return errors
    }

    public func factor(for regime: Regime?) -> Double { regime.flatMap { factors[$0.rawValue] } ?? 1 }

    /// `limit` scaled for the regime, and the reason stating it (nil when the factor is 1).
    public func scale(_ limit: Amount, named name: String, regime: Regime?) -> (limit: Amount, reason: Reason?) {
        let f = factor(for: regime)
        guard f != 1, let regime else { return (limit, nil) }
        let scaled = Amount(limit.doubleValue * f).rounded(scale: 2)
        return (
            scaled,
            Reason(
                .regimeScaled,
                "\(name) \(formatted(limit.doubleValue)) × \(compact(f)) = \(formatted(scaled.doubleValue)) "
                    + "(regime \(regime.rawValue))")
        )
    }

    /// The VaR, ES and stress limits scaled for the regime, with one reason per scaled limit.
    public func scaled(_ limits: PortfolioRiskLimits, regime: Regime?) -> (limits: PortfolioRiskLimits, reasons: [Reason]) {
        var result = limits
        var reasons: [Reason] = []
        let v = scale(limits.maxValueAtRisk, named: "maxValueAtRisk", regime: regime)
        let e = scale(limits.maxExpectedShortfall, named: "maxExpectedShortfall", regime: regime)
        let s = scale(limits.maxStressLoss, named: "maxStressLoss", regime: regime)
        result.maxValueAtRisk = v.limit
        result.maxExpectedShortfall = e.limit
        result.maxStressLoss = s.limit
        reasons += [v.reason, e.reason, s.reason].compactMap { $0 }
        return (result, reasons)
    }
}
