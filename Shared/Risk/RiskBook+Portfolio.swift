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
