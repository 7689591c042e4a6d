import Foundation
import Schema
import L2Replay

/// One named piece of work timed over the loaded capture. The bench runs each in turn; another
/// (candles, say) is one more entry in `BenchWorkload.all`.
struct BenchWorkload {
    var name: String
    /// Events one run processes, for events per second.
    var events: Int
    /// hftbacktest's counterpart (its key in the script's JSON), or nil when it has none.
    var baseline: String?
    /// One run. Its result depends on all the work, so that none is optimised away; `summary` describes it.
    var run: () -> WorkloadResult
}

struct WorkloadResult {
    var checksum: Int64
    var summary: String
}

extension BenchWorkload {
    static func all(capture: L2Capture, quoting: QuotingParameters) -> [BenchWorkload] {
        let events = capture.events
        let instrument = capture.instrument
        return [
            BenchWorkload(name: "L2 replay, book maintenance", events: events.count, baseline: "book") {
                let replay = BookReplay.run(events)
                let touch =
                    replay.bestBidTick == FixedPointBook.noBid || replay.bestAskTick == FixedPointBook.noAsk
                    ? "an empty side (the book lost sync)"
                    : "\(instrument.price(ticks: replay.bestBidTick)) / \(instrument.price(ticks: replay.bestAskTick))"
                return WorkloadResult(checksum: replay.touchChecksum, summary: "final touch " + touch)
            },
            BenchWorkload(name: "L2 replay, market maker (queue fills)", events: events.count, baseline: "market_maker") {
                var maker = QueueMarketMaker(parameters: quoting)
                maker.replay(events)
                let account = maker.account
                // Exact: integer tick·lots (fees in millionths of them) times tick and lot size; the
                // position marked at the mid, half a tick included.
                let unit = instrument.price(ticks: 1) * instrument.size(lots: 1)
                let fees = unit * Amount(Decimal(account.feeMicroTickLots)) / Amount(1_000_000)
                let cash = unit * Amount(Decimal(account.cashTickLots)) - fees
                let pnl = maker.doubleMidTicks.map { doubleMid in
                    "P&L at the mid \(cash + unit * Amount(Decimal(account.positionLots * doubleMid)) / Amount(2)) USDT"
                } ?? "no mid at the end to mark the position"
                return WorkloadResult(
                    checksum: account.cashTickLots &+ Int64(account.fills),
                    summary: "\(maker.quotesPlaced) quotes, \(account.fills) fills, position "
                        + "\(instrument.size(lots: account.positionLots)), fees \(fees), \(pnl)")
            },
        ]
    }
}
