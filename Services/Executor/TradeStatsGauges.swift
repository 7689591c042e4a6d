import Ledger
import Metrics
import Schema

/// The headline trading statistics over every closed trade, as Prometheus gauges (definitions: the
/// README's `breakwater report` table). A ratio that does not exist yet (no loss to divide by, fewer
/// than two days) is not recorded: the gauge stays absent, or at its last value, rather than NaN.
struct TradeStatsGauges: Sendable {
    let factory: any MetricsFactory

    init(factory: any MetricsFactory) { self.factory = factory }

    /// Over `trades`, from the first entry to `now`: days since the last close carry equity forward.
    func record(trades: [ClosedTrade], startingCapital: Amount, now: EpochNanos) {
        let span = PerformanceFigures.span(of: trades).map { $0.lowerBound...max($0.upperBound, now) }
        let figures = PerformanceFigures(trades: trades, startingCapital: startingCapital, span: span)
        func gauge(_ name: String, _ value: Double?) {
            guard let value, value.isFinite else { return }
            Gauge(label: "breakwater_stats_\(name)", dimensions: [], factory: factory).record(value)
        }
        gauge("trades", Double(figures.trades.tradeCount))
        gauge("win_rate", figures.trades.winRate)
        gauge("profit_factor", figures.trades.profitFactor)
        gauge("reward_to_risk", figures.trades.payoffRatio)
        gauge("expectancy", figures.trades.expectancy.doubleValue)
        gauge("net_pnl", figures.trades.totalNetPnl.doubleValue)
        gauge("max_drawdown_ratio", figures.maxDrawdown)
        gauge("sharpe", figures.sharpe)
        gauge("sortino", figures.sortino)
        gauge("exposure_ratio", figures.exposure.share)
    }
}
