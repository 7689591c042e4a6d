import Schema

extension RiskBook {
    /// The account as the margin arithmetic sees it: every position at its mark (its entry price
    /// until a mark is known), with `size` more of `symbol` at `price` when given.
    public func marginAccount(adding size: Amount = .zero, of symbol: String? = nil, at price: Amount? = nil) -> MarginAccount {
        var sizes: [String: Amount] = [:]
        for (name, position) in positions where !position.size.isZero { sizes[name] = position.size }
        if let symbol { sizes[symbol, default: .zero] += size }
        let entries = sizes.keys.sorted().map { name -> MarginPosition in
            let maxLeverage = instruments[name]?.maxLeverage
            let mark = marks[name] ?? (name == symbol ? price : nil) ?? positions[name]?.entryPrice ?? .zero
            return MarginPosition(
                symbol: name, size: sizes[name]!, mark: mark, leverage: margin.leverage(name, maxLeverage: maxLeverage),
                maxLeverage: maxLeverage)
        }
        return MarginAccount(equity: equity, positions: entries)
    }

    /// An entry may not bring the margin used above `maxMarginUsage` of equity, nor leave its
    /// symbol's liquidation price closer to the mark than `minLiquidationDistance` of it.
    func checkMargin(_ sizing: Sizing, symbol: String, side: Side) -> Reason? {
        let signed = side == .buy ? sizing.size : -sizing.size
        let after = marginAccount(adding: signed, of: symbol, at: sizing.reference)
        guard let usage = after.usage else {
            return Reason(.marginUsage, "equity \(Format.money(after.equity)) is not positive: no entry has margin")
        }
        let leverage = margin.leverage(symbol, maxLeverage: instruments[symbol]?.maxLeverage)
        if usage > margin.maxMarginUsage {
            return Reason(
                .marginUsage,
                "post-trade margin used \(Format.money(after.marginUsed)) = \(Format.percent(usage)) of equity \(Format.money(after.equity)) > limit \(Format.percent(margin.maxMarginUsage)) (\(symbol) at \(leverage)×)"
            )
        }
        if margin.minLiquidationDistance > 0, let distance = after.liquidationDistance(symbol),
            distance < margin.minLiquidationDistance, let price = after.liquidationPrice(symbol)
        {
            let mark = after.positions.first { $0.symbol == symbol }?.mark ?? sizing.reference
            return Reason(
                .liquidationDistance,
                "post-trade liquidation price \(Format.money(price)) is \(Format.percent(distance)) from the mark \(Format.money(mark)) < limit \(Format.percent(margin.minLiquidationDistance)) (\(symbol) \(after.positions.first { $0.symbol == symbol }?.size ?? signed) at \(leverage)×, equity \(Format.money(after.equity)), maintenance margin \(Format.money(after.maintenanceMargin)))"
            )
        }
        return nil
    }
}
