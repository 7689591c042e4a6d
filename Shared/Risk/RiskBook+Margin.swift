import Market
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
                maxLeverage: maxLeverage, mode: margin.mode(name),
                entryPrice: name == symbol ? entryAfter(name, adding: size, at: price) : positions[name]?.entryPrice)
        }
        return MarginAccount(equity: equity, positions: entries)
    }

    /// The average entry price once `size` more at `price` fills: the old one while the position
    /// shrinks, the new price once it flips or opens.
    private func entryAfter(_ symbol: String, adding size: Amount, at price: Amount?) -> Amount? {
        let old = positions[symbol]?.size ?? .zero
        let entry = positions[symbol]?.entryPrice
        guard let price, !size.isZero else { return entry }
        guard let entry, !old.isZero else { return price }
        let new = old + size
        if old.signum == size.signum { return (old * entry + size * price) / new }
        return new.isZero || new.signum == old.signum ? entry : price
    }

    /// An entry may not bring the margin used above `maxMarginUsage` of equity, nor leave its
    /// symbol's liquidation price closer to the mark than `minLiquidationDistance` of it or
    /// `minLiquidationDistanceAtr` average true ranges. An ATR not yet known (fewer than 14 bars) is
    /// stated in the decision and only the share of the mark applies.
    func checkMargin(_ sizing: inout Sizing, symbol: String, side: Side) -> Reason? {
        let signed = side == .buy ? sizing.size : -sizing.size
        let after = marginAccount(adding: signed, of: symbol, at: sizing.reference)
        guard let usage = after.usage else {
            return Reason(.marginUsage, "equity \(Format.money(after.equity)) is not positive: no entry has margin")
        }
        let leverage = margin.leverage(symbol, maxLeverage: instruments[symbol]?.maxLeverage)
        let terms = "\(symbol) at \(leverage)× \(margin.mode(symbol).rawValue)"
        if usage > margin.maxMarginUsage {
            return Reason(
                .marginUsage,
                "post-trade margin used \(Format.money(after.marginUsed)) = \(Format.percent(usage)) of equity \(Format.money(after.equity)) > limit \(Format.percent(margin.maxMarginUsage)) (\(terms))"
            )
        }
        guard margin.minLiquidationDistance > 0 || margin.minLiquidationDistanceAtr > 0,
            let position = after.positions.first(where: { $0.symbol == symbol }), position.mark.isPositive,
            let price = after.liquidationPrice(symbol), let distance = after.liquidationDistance(symbol)
        else { return nil }
        var limit = margin.minLiquidationDistance
        var limitText = Format.percent(limit)
        if margin.minLiquidationDistanceAtr > 0 {
            if let atr = averageTrueRanges[symbol]?.value {
                let share = margin.minLiquidationDistanceAtr * atr / position.mark.doubleValue
                if share > limit {
                    limit = share
                    limitText = "\(compact(margin.minLiquidationDistanceAtr)) ATR (\(Format.money(Amount(atr).rounded(scale: 8)))) = \(Format.percent(share))"
                }
            } else {
                sizing.reasons.append(
                    Reason(
                        .insufficientHistory,
                        "\(symbol): ATR not yet known (\(averageTrueRanges[symbol]?.bars ?? 0) of 14 bars): liquidation distance checked against \(Format.percent(margin.minLiquidationDistance)) of the mark only"))
            }
        }
        guard distance < limit else { return nil }
        return Reason(
            .liquidationDistance,
            "post-trade liquidation price \(Format.money(price)) is \(Format.percent(distance)) from the mark \(Format.money(position.mark)) < limit \(limitText) (\(symbol) \(position.size) at \(leverage)× \(margin.mode(symbol).rawValue), equity \(Format.money(after.equity)), maintenance margin \(Format.money(after.maintenanceMargin)))"
        )
    }
}
