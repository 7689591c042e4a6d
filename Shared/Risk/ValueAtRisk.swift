import Schema

/// Signed notional per symbol (long positive, short negative) at the marks: what the
/// portfolio-risk figures revalue.
public struct ExposureVector: Sendable, Equatable {
    public var notional: [String: Double]

    public init(_ notional: [String: Double] = [:]) { self.notional = notional.filter { $0.value != 0 } }

    public enum MissingMark: Error, Sendable, Equatable, CustomStringConvertible {
        case noMark(symbol: String)
        public var description: String {
            switch self { case .noMark(let symbol): "no mark for \(symbol): its exposure cannot be valued" }
        }
    }

    /// Positions (signed sizes) valued at the marks; a position without a mark is an error, not a zero.
    public init(positions: [Position], marks: [String: Amount]) throws(MissingMark) {
        var notional: [String: Double] = [:]
        for position in positions where !position.size.isZero {
            guard let mark = marks[position.symbol] else { throw .noMark(symbol: position.symbol) }
            notional[position.symbol, default: 0] += (position.size * mark).doubleValue
        }
        self.init(notional)
    }

    /// Symbols with a non-zero exposure, sorted (a deterministic order for every figure).
    public var symbols: [String] { notional.keys.sorted() }
    public var gross: Double { notional.values.reduce(0) { $0 + abs($1) } }
    public var long: Double { notional.values.filter { $0 > 0 }.reduce(0, +) }
    public var short: Double { -notional.values.filter { $0 < 0 }.reduce(0, +) }
    public var isFlat: Bool { notional.isEmpty }

    /// This exposure after adding `change` (signed notional) on `symbol`.
    public func adding(_ change: Double, on symbol: String) -> ExposureVector {
        var next = notional
        next[symbol, default: 0] += change
        return ExposureVector(next)
    }
}

/// Historical-simulation VaR and expected shortfall, or the stated fallback when history is short.
public struct ValueAtRiskFigures: Sendable, Equatable {
    /// Historical, or insufficient history (the fallback applies); the bus message carries the same.
    public typealias Basis = VaRBasis

    public var basis: Basis
    /// Loss (positive) not exceeded with probability `confidence` over the horizon.
    public var valueAtRisk: Double
    /// Mean loss of the scenarios at or beyond the VaR scenario.
    public var expectedShortfall: Double
    public var confidence: Double
    public var horizonBars: Int
    /// Scenarios used (historical) or available (insufficient history).
    public var scenarios: Int
    public var requiredScenarios: Int
    /// Scenarios at or beyond VaR, whose mean is the ES.
    public var tailScenarios: Int
    /// End time of the worst historical scenario, when there was one.
    public var worstScenarioEnd: EpochNanos?
    /// Exposed symbols with too little history (insufficient history only).
    public var symbolsShort: [String]
    public var gross: Double
}

/// Historical simulation: the position's P&L under each joint historical return vector.
///
/// Scenario k's P&L is Σᵢ notionalᵢ × returnₖᵢ and its loss the negative of that. With n losses sorted
/// ascending L₍₁₎ ≤ … ≤ L₍ₙ₎ and confidence c, VaR = L₍ₘ₎ with m = ⌈n·c⌉: the smallest loss whose
/// empirical distribution function reaches c (the lower c-quantile, numpy's `inverted_cdf`). ES is the
/// mean of L₍ₘ₎ … L₍ₙ₎, the n − m + 1 losses at or beyond VaR. With 30 daily scenarios at 99 % both
/// are the worst day; with 250, VaR is the third-worst day and ES the mean of the three worst.
public enum ValueAtRisk {
    /// Conservative stand-in when history is short: `fallbackLossFraction` of gross notional for both
    /// VaR and ES, stated as `insufficient_history`; never a silent zero.
    public static func figures(
        exposure: ExposureVector, returns: JointReturns, confidence: Double = 0.99, minimumScenarios: Int,
        fallbackLossFraction: Double
    ) -> ValueAtRiskFigures {
        let symbols = exposure.symbols
        let gross = exposure.gross
        var figures = ValueAtRiskFigures(
            basis: .historical, valueAtRisk: 0, expectedShortfall: 0, confidence: confidence,
            horizonBars: returns.horizonBars, scenarios: returns.count, requiredScenarios: minimumScenarios,
            tailScenarios: 0, worstScenarioEnd: nil, symbolsShort: [], gross: gross)
        // A flat book risks nothing: a true zero, from no exposure, not from missing data.
        if symbols.isEmpty { return figures }
        let indices = symbols.map { returns.symbols.firstIndex(of: $0) }
        let short = zip(symbols, indices).filter { $0.1 == nil }.map { $0.0 }
        if !short.isEmpty || returns.count < max(1, minimumScenarios) {
            figures.basis = .insufficientHistory
            figures.symbolsShort = short.isEmpty ? symbols : short
            if !short.isEmpty { figures.scenarios = 0 }
            figures.valueAtRisk = fallbackLossFraction * gross
            figures.expectedShortfall = figures.valueAtRisk
            return figures
        }
        let weights = symbols.map { exposure.notional[$0]! }
        let columns = indices.map { $0! }
        var losses: [(loss: Double, end: EpochNanos)] = []
        losses.reserveCapacity(returns.count)
        for (k, vector) in returns.returns.enumerated() {
            var pnl = 0.0
            for (w, c) in zip(weights, columns) { pnl += w * vector[c] }
            losses.append((-pnl, returns.endTimes[k]))
        }
        let sorted = losses.sorted { $0.loss < $1.loss || ($0.loss == $1.loss && $0.end < $1.end) }
        let (m, tail) = tailStart(count: sorted.count, confidence: confidence)
        figures.valueAtRisk = sorted[m].loss
        figures.expectedShortfall = sorted[m...].reduce(0) { $0 + $1.loss } / Double(tail)
        figures.tailScenarios = tail
        figures.worstScenarioEnd = sorted.last?.end
        return figures
    }

    /// Zero-based index of the VaR loss in ascending order, and the number of tail losses.
    static func tailStart(count n: Int, confidence: Double) -> (index: Int, tail: Int) {
        let m = min(n, max(1, Int((Double(n) * confidence).rounded(.up))))
        return (m - 1, n - m + 1)
    }

    /// The loss quantile of a plain list of losses, by the same convention (for the back-test and checks).
    public static func lossQuantile(_ losses: [Double], confidence: Double) -> (valueAtRisk: Double, expectedShortfall: Double)? {
        guard !losses.isEmpty else { return nil }
        let sorted = losses.sorted()
        let (m, tail) = tailStart(count: sorted.count, confidence: confidence)
        return (sorted[m], sorted[m...].reduce(0, +) / Double(tail))
    }
}
