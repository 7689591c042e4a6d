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
}
