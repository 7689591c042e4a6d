import Schema

/// The deterministic stress shocks and how large they are.
public struct StressConfig: Codable, Sendable, Equatable {
    /// Price moves applied to each symbol alone and to all together, both ways (0.1 = 10 %).
    public var priceShocks: [Double]
    /// The venue's funding cap per hour. Hyperliquid caps funding at 4 % per hour
    /// (Hyperliquid docs, `trading/funding.md`, quoted in shared/REFERENCES.md §3).
    public var fundingCapPerHour: Double
    /// Hours of funding at the cap the spike lasts (Hyperliquid pays funding hourly).
    public var fundingSpikeHours: Double

    public init(priceShocks: [Double] = [0.10, 0.20, 0.30], fundingCapPerHour: Double = 0.04, fundingSpikeHours: Double = 1) {
        self.priceShocks = priceShocks
        self.fundingCapPerHour = fundingCapPerHour
        self.fundingSpikeHours = fundingSpikeHours
    }

    public func validationErrors() -> [String] {
        var errors: [String] = []
        if priceShocks.isEmpty { errors.append("stress.priceShocks must name at least one shock") }
        for shock in priceShocks where !(shock > 0 && shock < 1) {
            errors.append("stress.priceShocks \(shock) must be within (0, 1)")
        }
        if !(fundingCapPerHour >= 0 && fundingCapPerHour < 1) {
            errors.append("stress.fundingCapPerHour \(fundingCapPerHour) must be within [0, 1)")
        }
        if !(fundingSpikeHours >= 0 && fundingSpikeHours.isFinite) {
            errors.append("stress.fundingSpikeHours \(fundingSpikeHours) must be ≥ 0")
        }
        return errors
    }
}

/// One stress scenario's outcome for the portfolio.
public struct StressResult: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case symbolShock = "symbol_shock"
        case allShock = "all_shock"
        case historicalDay = "historical_day"
        case allHistoricalDays = "all_historical_days"
        /// The portfolio's worst joint historical day (every symbol as it moved that day).
        case worstJointDay = "worst_joint_day"
        case fundingSpike = "funding_spike"
    }
    /// Human-readable and stable, e.g. "BTC -20%", "all +10%", "BTC worst day -12.3% (ending …)".
    public var name: String
    public var kind: Kind
    /// Positive is a loss.
    public var loss: Double
}

public struct StressReport: Sendable, Equatable {
    /// Every scenario, in a fixed order.
    public var results: [StressResult]
    /// Symbols exposed but without a historical day to replay (their historical scenario is skipped).
    public var symbolsWithoutHistory: [String]

    /// The largest loss (the first in order among equals); nil for a flat book.
    public var worst: StressResult? {
        results.reduce(nil as StressResult?) { best, r in best.map { r.loss > $0.loss ? r : $0 } ?? r }
    }
    /// Never negative: a book that gains in every scenario has a worst loss of zero.
    public var worstLoss: Double { max(0, worst?.loss ?? 0) }
}

/// Deterministic shocks to the current exposure.
public enum StressScenarios {
    /// - Parameter history: per-symbol 1-day returns (any horizon the caller calls a day); each symbol's
    ///   largest up and down move is replayed in the direction that hurts the position.
    public static func run(exposure: ExposureVector, history: JointReturns?, config: StressConfig = StressConfig())
        -> StressReport
    {
        let symbols = exposure.symbols
        var results: [StressResult] = []
        guard !symbols.isEmpty else { return StressReport(results: [], symbolsWithoutHistory: []) }
        for shock in config.priceShocks {
            for symbol in symbols {
                let n = exposure.notional[symbol]!
                results.append(.init(name: "\(symbol) +\(percent(shock))", kind: .symbolShock, loss: -n * shock))
                results.append(.init(name: "\(symbol) -\(percent(shock))", kind: .symbolShock, loss: n * shock))
            }
            let net = symbols.reduce(0) { $0 + exposure.notional[$1]! }
            results.append(.init(name: "all +\(percent(shock))", kind: .allShock, loss: -net * shock))
            results.append(.init(name: "all -\(percent(shock))", kind: .allShock, loss: net * shock))
        }

        var missing: [String] = []
        var allDays = 0.0
        var anyDay = false
        for symbol in symbols {
            let n = exposure.notional[symbol]!
            guard let column = history?.column(symbol), let index = history?.symbols.firstIndex(of: symbol),
                !column.isEmpty, let history
            else {
                missing.append(symbol)
                continue
            }
            // The move that hurts: the largest fall for a long, the largest rise for a short.
            var worstK = 0
            for k in column.indices where -n * column[k] > -n * column[worstK] { worstK = k }
            let move = history.returns[worstK][index]
            let loss = -n * move
            allDays += loss
            anyDay = true
            results.append(
                .init(
                    name: "\(symbol) worst day \(signedPercent(move)) (ending \(history.endTimes[worstK]))",
                    kind: .historicalDay, loss: loss))
        }
        if anyDay, symbols.count > 1 {
            results.append(.init(name: "all symbols at their worst day", kind: .allHistoricalDays, loss: allDays))
        }
        if let history, missing.isEmpty, history.count > 0 {
            let columns = symbols.map { history.symbols.firstIndex(of: $0)! }
            var worst: (loss: Double, end: EpochNanos)?
            for (k, vector) in history.returns.enumerated() {
                let loss = -zip(symbols, columns).reduce(0) { $0 + exposure.notional[$1.0]! * vector[$1.1] }
                if worst == nil || loss > worst!.loss { worst = (loss, history.endTimes[k]) }
            }
            if let worst {
                results.append(
                    .init(name: "worst joint day (ending \(worst.end))", kind: .worstJointDay, loss: worst.loss))
            }
        }
        // Funding's sign is per symbol and can go against every position at once: each pays the cap.
        let funding = exposure.gross * config.fundingCapPerHour * config.fundingSpikeHours
        results.append(
            .init(
                name: "funding \(percent(config.fundingCapPerHour))/h against every position for "
                    + "\(compact(config.fundingSpikeHours)) h",
                kind: .fundingSpike, loss: funding))
        return StressReport(results: results, symbolsWithoutHistory: missing)
    }

    static func percent(_ fraction: Double) -> String { "\(compact(fraction * 100))%" }
    static func signedPercent(_ fraction: Double) -> String {
        (fraction >= 0 ? "+" : "-") + "\(compact(abs(fraction) * 100))%"
    }
}
