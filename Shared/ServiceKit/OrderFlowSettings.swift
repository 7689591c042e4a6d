import Execution
import Schema

/// The executor's and the feed's settings the backtester replays with: read here once, for the
/// services and `breakwater backtest`.
extension Settings {
    /// `executor.marketSlippageBps` as a fraction: how far past the mark a market order's IOC limit reaches.
    public mutating func marketSlippage() -> Amount {
        amount("executor.marketSlippageBps", default: 50, minimum: 1) / 10_000
    }

    /// `executor.snapshotIntervalMs`: how often the executor publishes the account.
    public mutating func accountSnapshotIntervalMs() -> Int {
        int("executor.snapshotIntervalMs", default: 1_000, in: 50...60_000)
    }

    /// `feed.barGraceMs`: how long past its interval a bar waits for a late trade before it closes.
    public mutating func barGraceMs() -> Int {
        int("feed.barGraceMs", default: 1_000, in: 0...60_000)
    }

    /// `feed.bookLevels`: the levels a side the feed publishes of each book.
    public mutating func bookLevels() -> Int {
        int("feed.bookLevels", default: 10, in: 1...20)
    }

    /// `executor.quotes.*`: how the executor keeps a market maker's quotes resting (the address
    /// budget's reserve and pacing, the refresh pacer, the sweep).
    public mutating func quoteKeeping() -> QuoteKeeper.Settings {
        let budget = RequestBudget.Settings()
        let pacer = RefreshPacer.Settings()
        let read = QuoteKeeper.Settings(
            budget: RequestBudget.Settings(
                reserveFraction: double("executor.quotes.reserveFraction", default: budget.reserveFraction, in: 0...0.9),
                minimumReserve: int("executor.quotes.minimumReserve", default: budget.minimumReserve, in: 0...1_000_000),
                sustainedPerSecond: double(
                    "executor.quotes.requestsPerSecond", default: budget.sustainedPerSecond, in: 0.01...1_000),
                burst: int("executor.quotes.burst", default: budget.burst, in: 1...10_000)),
            pacer: RefreshPacer.Settings(
                minimumIntervalMs: int("executor.quotes.minRefreshMs", default: pacer.minimumIntervalMs, in: 0...600_000),
                maximumIntervalMs: int("executor.quotes.maxRefreshMs", default: pacer.maximumIntervalMs, in: 1...3_600_000)),
            sweepNanos: Int64(int("executor.quotes.sweepMs", default: 5_000, in: 100...600_000)) * 1_000_000)
        if let problem = read.budget.problem { self.problem("executor.quotes: \(problem)") }
        if let problem = read.pacer.problem { self.problem("executor.quotes: \(problem)") }
        return read
    }

    /// `executor.quotes.budgetPollMs`: how often the executor reads the address budget.
    public mutating func quoteBudgetPollMs() -> Int {
        int("executor.quotes.budgetPollMs", default: 10_000, in: 1_000...600_000)
    }
}
