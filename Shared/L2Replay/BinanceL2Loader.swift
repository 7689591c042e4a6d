import Market
import Schema

/// A capture turned into replay events once, with what the load found.
public struct L2Capture: Sendable {
    public var instrument: L2Instrument
    public var events: [L2Event]
    public var report: L2LoadReport

    public init(instrument: L2Instrument, events: [L2Event], report: L2LoadReport) {
        self.instrument = instrument
        self.events = events
        self.report = report
    }
}

/// Reads a Binance USD-M capture (`<receive ns> <json>` a line: `depthUpdate` diffs, `trade`,
/// `bookTicker` and REST depth snapshots, decoded by `BinanceMessageDecoder`) into fixed-point
/// replay events, keeping the book in sync as `BinanceDepthSync` does: diffs before a snapshot wait
/// for it, the first diff after it must span its id, every later diff's `pu` must be the previous
/// `u`. Every line is checked as it is read; a bad one is thrown (`.stop`) or left out and counted
/// (`.skip`), with its line number.
public enum BinanceL2Loader {
    public static func load(
        _ text: String, instrument: L2Instrument = .binanceBTCUSDT, policy: DataProblemPolicy = .stop
    ) throws(DataProblem) -> L2Capture {
        var loader = Loading(instrument: instrument, policy: policy)
        var number = 0
        for bytes in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            guard !bytes.isEmpty else { continue }
            try loader.read(Substring(bytes), line: number)
        }
        loader.finish()
        return L2Capture(instrument: instrument, events: loader.events, report: loader.report)
    }
}

/// The state of one load.
private struct Loading {
    enum Sync {
        case awaitingSnapshot
        case awaitingBridge(snapshotId: Int64)
        case synced(lastUpdateId: Int64)
    }

    struct PendingDiff {
        var line: Int
        var diff: BinanceDepthDiff
    }

    /// Diffs kept for the next snapshot, as `BinanceDepthSync` keeps them.
    static let maxPendingDiffs = 10_000

    let instrument: L2Instrument
    let policy: DataProblemPolicy
    let decoder = BinanceMessageDecoder()
    var book = FixedPointBook()
    var events: [L2Event] = []
    var report = L2LoadReport()
    var sync = Sync.awaitingSnapshot
    var pending: [PendingDiff] = []
    var lastTime = Int64.min
    var lastTradeId: Int64?
    /// The sizes a diff replaced, to take it back when it crosses the book.
    var undo: [(bid: Bool, tick: Int64, lots: Int64)] = []

    init(instrument: L2Instrument, policy: DataProblemPolicy) {
        self.instrument = instrument
        self.policy = policy
    }

    mutating func read(_ text: Substring, line: Int) throws(DataProblem) {
        report.lines += 1
        guard let (time, json) = CaptureFile.line(text) else {
            return try fault(line, .malformed, "not `<receive ns> <json>`")
        }
        guard time >= lastTime else {
            return try fault(line, .outOfOrder, "receive time \(time) is before \(lastTime) on an earlier line")
        }
        let message: BinanceMessage
        do {
            message = try decoder.decode(json.utf8)
        } catch {
            return try fault(line, .malformed, "\(error)")
        }
        lastTime = time
        switch message {
        case .depthSnapshot(let snapshot): try applySnapshot(snapshot, line: line, time: time)
        case .depthUpdate(let diff): try receive(diff, line: line, time: time)
        case .trade(let trade): try receive(trade, line: line, time: time)
        case .bookTicker(let ticker):
            guard ticker.symbol == instrument.symbol else { return try fault(line, .malformed, "symbol \(ticker.symbol)") }
            report.bookTickers += 1
        case .other: report.otherEvents += 1
        }
    }

    /// Diffs still waiting for a snapshot at the end were never applied.
    mutating func finish() {
        report.diffsWhileUnsynced += pending.count
        pending.removeAll()
    }

    // MARK: Book

    mutating func applySnapshot(_ snapshot: BinanceDepthSnapshot, line: Int, time: Int64) throws(DataProblem) {
        guard let bids = levels(snapshot.bids), let asks = levels(snapshot.asks) else {
            return try fault(line, .malformed, "a snapshot level off the \(instrument.tickSize) / \(instrument.lotSize) grid")
        }
        report.snapshots += 1
        book.removeAll()
        let start = events.count
        events.append(L2Event(time: time, price: 0, quantity: 0, kind: .clear, endsUpdate: false))
        for (isBid, side) in [(true, bids), (false, asks)] {
            for (tick, lots) in side where lots > 0 {
                guard isBid ? book.setBid(tick, lots: lots) : book.setAsk(tick, lots: lots) else {
                    loseSync(time: time, keepingFrom: start)
                    return try fault(line, .malformed, "snapshot level \(instrument.price(ticks: tick)) with a negative size")
                }
                events.append(L2Event(time: time, price: tick, quantity: lots, kind: isBid ? .bid : .ask, endsUpdate: false))
            }
        }
        events[events.count - 1].endsUpdate = true
        if book.isCrossed {
            let detail = crossing()
            loseSync(time: time, keepingFrom: start)
            return try fault(line, .crossedBook, "snapshot \(snapshot.lastUpdateId): \(detail)")
        }
        sync = .awaitingBridge(snapshotId: snapshot.lastUpdateId)
        // Diffs received before the snapshot, applied now (at its time); the stale ones drop out.
        let waiting = pending
        pending.removeAll()
        for entry in waiting { try receive(entry.diff, line: entry.line, time: time) }
    }

    mutating func receive(_ diff: BinanceDepthDiff, line: Int, time: Int64) throws(DataProblem) {
        guard diff.symbol == instrument.symbol else { return try fault(line, .malformed, "symbol \(diff.symbol)") }
        switch sync {
        case .awaitingSnapshot:
            pending.append(PendingDiff(line: line, diff: diff))
            if pending.count > Self.maxPendingDiffs {
                pending.removeFirst()
                report.diffsWhileUnsynced += 1
            }
        case .awaitingBridge(let snapshotId):
            if diff.finalUpdateId < snapshotId {
                report.staleDiffs += 1
                return
            }
            guard diff.firstUpdateId <= snapshotId else {
                loseSync(time: time, keepingFrom: events.count)
                pending.append(PendingDiff(line: line, diff: diff))
                return try fault(
                    line, .gap, "snapshot \(snapshotId) is older than the first diff after it (U \(diff.firstUpdateId))")
            }
            try apply(diff, line: line, time: time)
        case .synced(let lastUpdateId):
            if diff.finalUpdateId <= lastUpdateId {
                report.staleDiffs += 1
                return
            }
            guard diff.previousFinalUpdateId == lastUpdateId else {
                loseSync(time: time, keepingFrom: events.count)
                pending.append(PendingDiff(line: line, diff: diff))
                return try fault(
                    line, .brokenDiffChain, "pu \(diff.previousFinalUpdateId), but the previous diff ended at u \(lastUpdateId)")
            }
            try apply(diff, line: line, time: time)
        }
    }

    /// Applies a diff that continues the chain; takes it back if it is malformed or crosses the book.
    mutating func apply(_ diff: BinanceDepthDiff, line: Int, time: Int64) throws(DataProblem) {
        // Its ids are consumed either way: a diff left out is one loss, not a broken chain after it.
        sync = .synced(lastUpdateId: diff.finalUpdateId)
        guard let bids = levels(diff.bids), let asks = levels(diff.asks) else {
            return try fault(line, .malformed, "a level off the \(instrument.tickSize) / \(instrument.lotSize) grid")
        }
        let start = events.count
        undo.removeAll(keepingCapacity: true)
        for (isBid, side) in [(true, bids), (false, asks)] {
            for (tick, lots) in side {
                undo.append((isBid, tick, book.lots(bid: isBid, at: tick)))
                guard isBid ? book.setBid(tick, lots: lots) : book.setAsk(tick, lots: lots) else {
                    takeBack(from: start)
                    return try fault(line, .malformed, "level \(instrument.price(ticks: tick)) with a negative size")
                }
                events.append(L2Event(time: time, price: tick, quantity: lots, kind: isBid ? .bid : .ask, endsUpdate: false))
            }
        }
        if book.isCrossed {
            let detail = crossing()
            takeBack(from: start)
            return try fault(line, .crossedBook, "after diff u \(diff.finalUpdateId): \(detail)")
        }
        if events.count > start { events[events.count - 1].endsUpdate = true }
        report.diffsApplied += 1
    }

    mutating func takeBack(from start: Int) {
        for (isBid, tick, lots) in undo.reversed() {
            if isBid { book.setBid(tick, lots: lots) } else { book.setAsk(tick, lots: lots) }
        }
        events.removeSubrange(start...)
    }

    /// Drops the events from `start` on, empties the book (a `.clear` tells the replay) and waits for a snapshot.
    mutating func loseSync(time: Int64, keepingFrom start: Int) {
        events.removeSubrange(start...)
        book.removeAll()
        events.append(L2Event(time: time, price: 0, quantity: 0, kind: .clear, endsUpdate: true))
        sync = .awaitingSnapshot
    }

    func crossing() -> String {
        "bid \(instrument.price(ticks: book.bestBidTick)) >= ask \(instrument.price(ticks: book.bestAskTick))"
    }

    // MARK: Trades

    mutating func receive(_ trade: BinanceTrade, line: Int, time: Int64) throws(DataProblem) {
        guard trade.symbol == instrument.symbol else { return try fault(line, .malformed, "symbol \(trade.symbol)") }
        guard let tick = instrument.ticks(trade.price), let lots = instrument.lots(trade.quantity) else {
            return try fault(line, .malformed, "trade \(trade.tradeId) off the \(instrument.tickSize) / \(instrument.lotSize) grid")
        }
        let previous = lastTradeId
        lastTradeId = trade.tradeId
        // Liquidation fills are not the open market (hftbacktest's converter drops them too).
        guard trade.kind == "MARKET" else {
            report.otherEvents += 1
            return
        }
        events.append(
            L2Event(time: time, price: tick, quantity: lots, kind: trade.buyerIsMaker ? .sellTrade : .buyTrade, endsUpdate: true))
        report.trades += 1
        // The trade itself is sound; the fault is the ones missing before it, counted with `.skip`.
        if let previous, trade.tradeId != previous + 1 {
            try fault(line, .gap, "trade id \(trade.tradeId) after \(previous)")
        }
    }

    // MARK: Helpers

    func levels(_ levels: [BookLevel]) -> [(tick: Int64, lots: Int64)]? {
        var result: [(tick: Int64, lots: Int64)] = []
        result.reserveCapacity(levels.count)
        for level in levels {
            guard let tick = instrument.ticks(level.price), let lots = instrument.lots(level.size) else { return nil }
            result.append((tick, lots))
        }
        return result
    }

    mutating func fault(_ line: Int, _ kind: DataProblem.Kind, _ detail: String) throws(DataProblem) {
        let fault = DataProblem(line: line, kind: kind, detail: detail)
        switch policy {
        case .stop: throw fault
        case .skip: report.record(fault)
        }
    }
}
