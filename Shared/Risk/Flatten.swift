import Schema

extension RiskBook {
    /// The operator's flatten command: a reduce-only market order for the part of every position
    /// not already being closed. Each goes through `evaluate`, so it is reserved like any other
    /// order, passes in HALTED and REDUCING, and is capped at the order notional (flatten again
    /// for the rest).
    public mutating func flatten(now: EpochNanos, slippage: Double = 0.01, reason: String = "operator") -> [RiskVerdict] {
        var verdicts: [RiskVerdict] = []
        for symbol in positions.keys.sorted() {
            guard let position = positions[symbol], !position.size.isZero else { continue }
            let side: Side = position.size.isPositive ? .sell : .buy
            let closing = pendingOrders(symbol, side: side).reduce(Amount.zero) { $0 + $1.remaining }
            guard position.size.magnitude > closing else { continue }
            // Priced through the mark so the IOC order fills.
            let reference = marks[symbol] ?? position.entryPrice
            let factor = Amount(side == .buy ? 1 + slippage : 1 - slippage)
            let intent = OrderIntent(
                intentId: "flatten-\(symbol)-\(now)", symbol: symbol, side: side, size: position.size.magnitude,
                orderType: .market, price: reference * factor, purpose: .exit, reduceOnly: true, strategy: "flatten",
                origin: "flatten:\(reason)", createdAt: now, expiresAt: now + limits.ackTimeoutNanos)
            verdicts.append(evaluate(intent, now: now))
        }
        return verdicts
    }
}
