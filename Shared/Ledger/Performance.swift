import Schema

/// Counts and money figures over a list of closed trades. Every figure is defined for an
/// empty list, and ratios that would divide by zero are nil, never NaN or infinity.
///
/// A trade is a win when its net P&L (realised − fees + funding) is above zero, a loss when
/// below, and breakeven at exactly zero (counted in `tradeCount`, in neither wins nor losses).
public struct TradeStatistics: Sendable, Hashable {
    public var tradeCount: Int
    public var wins: Int
    public var losses: Int
    /// Σ net P&L of the wins; ≥ 0.
    public var grossProfit: Amount
    /// Σ net P&L of the losses; ≤ 0 (signed, as booked).
    public var grossLoss: Amount
    /// Σ net P&L of every trade.
    public var totalNetPnl: Amount
    public var totalFees: Amount
    /// Received positive, paid negative (the ledger's convention).
    public var totalFunding: Amount
    /// The best trade's net P&L (> 0); nil with no wins.
    public var largestWin: Amount?
    /// The worst trade's net P&L (< 0, signed); nil with no losses.
    public var largestLoss: Amount?
    /// Σ (exit time − entry time) over the trades, in seconds (a Double: nanoseconds summed over
    /// many long trades would overflow Int64).
    public var totalHoldingSeconds: Double

    public init(trades: some Sequence<ClosedTrade>) {
        var count = 0, wins = 0, losses = 0
        var profit = Amount.zero, loss = Amount.zero, fees = Amount.zero, funding = Amount.zero
        var largestWin: Amount?, largestLoss: Amount?
        var holding = 0.0
        for trade in trades {
            count += 1
            let net = trade.netPnl
            if net.isPositive {
                wins += 1
                profit += net
                largestWin = max(largestWin ?? net, net)
            } else if net.isNegative {
                losses += 1
                loss += net
                largestLoss = min(largestLoss ?? net, net)
            }
            fees += trade.fees
            funding += trade.funding
            // In Double: a subtraction of absurd times must not trap.
            holding += max(Double(trade.exitTime) - Double(trade.entryTime), 0) / 1e9
        }
        self.largestWin = largestWin
        self.largestLoss = largestLoss
        totalHoldingSeconds = holding
        tradeCount = count
        self.wins = wins
        self.losses = losses
        grossProfit = profit
        grossLoss = loss
        totalNetPnl = profit + loss
        totalFees = fees
        totalFunding = funding
    }

    public var breakevens: Int { tradeCount - wins - losses }

    /// wins / trades, in 0…1; 0 with no trades.
    public var winRate: Double { tradeCount == 0 ? 0 : Double(wins) / Double(tradeCount) }

    /// grossProfit / |grossLoss|; nil when there is no loss (it would be +∞, or 0/0 with no trades).
    public var profitFactor: Double? {
        grossLoss.isNegative ? (grossProfit / grossLoss.magnitude).doubleValue : nil
    }

    /// grossProfit / wins; nil with no wins.
    public var averageWin: Amount? { wins == 0 ? nil : grossProfit / Amount(wins) }

    /// grossLoss / losses, ≤ 0; nil with no losses.
    public var averageLoss: Amount? { losses == 0 ? nil : grossLoss / Amount(losses) }

    /// averageWin / |averageLoss|; nil unless there are both wins and losses.
    public var payoffRatio: Double? {
        guard let win = averageWin, let loss = averageLoss else { return nil }
        return (win / loss.magnitude).doubleValue
    }

    /// Mean net P&L per trade; 0 with no trades. Equals winRate × averageWin + lossRate × averageLoss.
    public var expectancy: Amount { tradeCount == 0 ? .zero : totalNetPnl / Amount(tradeCount) }

    /// Mean of (exit time − entry time), in seconds; nil with no trades.
    public var averageHoldingSeconds: Double? { tradeCount == 0 ? nil : totalHoldingSeconds / Double(tradeCount) }
}

/// Equity at one moment.
public struct EquityPoint: Sendable, Hashable {
    public var time: EpochNanos
    public var equity: Amount

    public init(time: EpochNanos, equity: Amount) {
        self.time = time
        self.equity = equity
    }
}

/// Equity over time, starting from the configured starting capital (never from the first trade).
public struct EquityCurve: Sendable, Hashable {
    public var startingCapital: Amount
    /// After the starting capital, in time order.
    public var points: [EquityPoint]

    public init(startingCapital: Amount, points: [EquityPoint]) {
        self.startingCapital = startingCapital
        self.points = points
    }

    /// Starting capital + cumulative net P&L at each trade's exit, trades ordered by exit
    /// time (ties keep their order in `trades`).
    public init(startingCapital: Amount, trades: [ClosedTrade]) {
        let ordered = trades.enumerated().sorted {
            ($0.element.exitTime, $0.offset) < ($1.element.exitTime, $1.offset)
        }
        var equity = startingCapital
        var points: [EquityPoint] = []
        points.reserveCapacity(ordered.count)
        for (_, trade) in ordered {
            equity += trade.netPnl
            points.append(EquityPoint(time: trade.exitTime, equity: equity))
        }
        self.init(startingCapital: startingCapital, points: points)
    }

    /// The last equity; the starting capital when there are no points.
    public var finalEquity: Amount { points.last?.equity ?? startingCapital }

    /// Largest peak-to-trough fall as a fraction of the peak, in 0…1 (see `maxDrawdown(startingCapital:equities:)`).
    public var maxDrawdown: Double {
        Self.maxDrawdown(startingCapital: startingCapital, equities: points.map(\.equity))
    }

    /// Largest fall from a running peak, as a fraction of that peak: max over t of
    /// (peak(t) − equity(t)) / peak(t), where the peak starts at the starting capital.
    /// Always in 0…1: 0 when equity never falls; exactly 1 once equity (or the starting
    /// capital) is at or below zero, since everything is then lost.
    public static func maxDrawdown(startingCapital: Amount, equities: some Sequence<Amount>) -> Double {
        guard startingCapital.isPositive else { return 1 }
        var peak = startingCapital
        var worst = Amount.zero
        for equity in equities {
            guard equity.isPositive else { return 1 }
            if equity > peak { peak = equity }
            // peak ≥ equity > 0, so the fraction is in [0, 1).
            let drawdown = (peak - equity) / peak
            if drawdown > worst { worst = drawdown }
        }
        return min(max(worst.doubleValue, 0), 1)
    }
}

/// Performance over closed trades and the equity curve they make.
public struct Performance: Sendable, Hashable {
    /// Over every trade.
    public var overall: TradeStatistics
    /// Starting capital + cumulative net P&L at each trade close.
    public var equityCurve: EquityCurve
    /// Per strategy (the strategy that opened the lots). Their net P&L adds up to the overall.
    public var byStrategy: [String: TradeStatistics]

    public init(trades: [ClosedTrade], startingCapital: Amount) {
        overall = TradeStatistics(trades: trades)
        equityCurve = EquityCurve(startingCapital: startingCapital, trades: trades)
        byStrategy = Dictionary(grouping: trades, by: \.strategy).mapValues { TradeStatistics(trades: $0) }
    }

    /// Max drawdown of the equity curve, a fraction in 0…1.
    public var maxDrawdown: Double { equityCurve.maxDrawdown }
}
