import Ledger
import Schema
import Testing

@Suite("Statistics refresh")
struct StatisticsRefreshTests {
    let second: Int64 = 1_000_000_000

    @Test("computed at start, after a close at once when quiet, a burst within the interval once more at its end")
    func boundedRecomputation() {
        var refresh = StatisticsRefresh(intervalNanos: 5 * second)
        func due(_ now: Int64) -> Bool { refresh.due(now: now) }
        #expect(due(0), "at start: nothing computed yet")
        #expect(!due(10 * second), "nothing closed since")
        refresh.tradeClosed()
        #expect(due(10 * second), "the first close after a quiet interval is computed at once")
        for i in 1...50 {
            refresh.tradeClosed()
            #expect(!due(10 * second + Int64(i) * 50_000_000), "closes within 5 s wait")
        }
        #expect(due(15 * second), "the burst is computed once the interval has passed")
        #expect(!due(30 * second))
        // A clock that stepped back does not hold the figures back for good.
        refresh.tradeClosed()
        #expect(due(second))
    }
}
