import Schema

/// Keeps a local Binance USD-M futures book in step with the exchange, following the
/// documented procedure ("How to manage a local order book correctly"):
///
/// 1. buffer the `depthUpdate` events while a REST snapshot is fetched;
/// 2. drop every event with `u` < the snapshot's `lastUpdateId`;
/// 3. the first event applied must have `U` <= lastUpdateId AND `u` >= lastUpdateId;
/// 4. every later event's `pu` must equal the previous event's `u`.
///
/// Any break is reported as a `DepthGap`, the book is cleared and the sync goes back to
/// step 1: it never carries on from a book it cannot vouch for. The caller fetches a new
/// snapshot whenever `needsSnapshot` is true and hands it to `applySnapshot(_:)`.
public struct BinanceDepthSync: Sendable {
    public enum State: Sendable, Equatable {
        /// Buffering diffs until a snapshot arrives.
        case awaitingSnapshot
        /// The book is the snapshot as of `snapshotId`; no diff spanning it has come yet.
        case awaitingBridge(snapshotId: Int64)
        /// The book is exact as of update id `lastUpdateId` (the last applied diff's `u`).
        case synced(lastUpdateId: Int64)
    }

    public enum IgnoredReason: Sendable, Equatable {
        /// A diff entirely older than the book (`u` below the book's update id).
        case staleDiff
        /// A diff for another symbol: a wiring mistake upstream, not a gap.
        case otherSymbol(String)
        /// A snapshot arrived while none was needed.
        case unexpectedSnapshot
    }

    public enum Outcome: Sendable, Equatable {
        /// Kept for the next snapshot.
        case buffered
        /// The book changed: a snapshot loaded (count 0 when no buffered diff applied yet)
        /// or `count` diffs applied.
        case applied(count: Int)
        case ignored(IgnoredReason)
        /// The chain broke; the book is cleared and a new snapshot is needed.
        case gap(DepthGap)
    }

    public private(set) var state: State = .awaitingSnapshot
    /// The local book; empty while awaiting a snapshot.
    public private(set) var book: OrderBook
    public private(set) var gapCount = 0
    /// Diffs kept while awaiting a snapshot; beyond it the oldest go first (a snapshot
    /// that needed them is then reported as too old, and another one is fetched).
    public let maxBufferedDiffs: Int
    private var buffer: [BinanceDepthDiff] = []

    public init(symbol: String, maxBufferedDiffs: Int = 10_000) {
        precondition(maxBufferedDiffs > 0, "the buffer must hold at least one diff")
        self.book = OrderBook(symbol: symbol)
        self.maxBufferedDiffs = maxBufferedDiffs
    }

    public var symbol: String { book.symbol }
    public var needsSnapshot: Bool { state == .awaitingSnapshot }
    public var isSynced: Bool {
        if case .synced = state { return true }
        return false
    }
    public var bufferedDiffCount: Int { buffer.count }

    /// The update id the book is exact as of, or nil while awaiting a snapshot.
    public var bookUpdateId: Int64? {
        switch state {
        case .awaitingSnapshot: nil
        case .awaitingBridge(let snapshotId): snapshotId
        case .synced(let lastUpdateId): lastUpdateId
        }
    }

    /// Handles one `depthUpdate` event, in the order the stream delivered it.
    public mutating func receive(_ diff: BinanceDepthDiff) -> Outcome {
        guard diff.symbol == symbol else { return .ignored(.otherSymbol(diff.symbol)) }
        switch state {
        case .awaitingSnapshot:
            buffer.append(diff)
            if buffer.count > maxBufferedDiffs { buffer.removeFirst(buffer.count - maxBufferedDiffs) }
            return .buffered

        case .awaitingBridge(let snapshotId):
            if diff.finalUpdateId < snapshotId { return .ignored(.staleDiff) }
            guard diff.firstUpdateId <= snapshotId else {
                return resync(
                    DepthGap(.snapshotTooOld(snapshotId: snapshotId, firstUpdateId: diff.firstUpdateId)),
                    keeping: [diff])
            }
            return applyChained(diff)

        case .synced(let lastUpdateId):
            // Already contained in the book; re-delivery loses nothing.
            if diff.finalUpdateId <= lastUpdateId { return .ignored(.staleDiff) }
            guard diff.previousFinalUpdateId == lastUpdateId else {
                return resync(
                    DepthGap(
                        .brokenChain(
                            expectedPreviousUpdateId: lastUpdateId, receivedPreviousUpdateId: diff.previousFinalUpdateId
                        )),
                    keeping: [diff])
            }
            return applyChained(diff)
        }
    }

    /// Loads a REST snapshot and replays the buffered diffs that follow it.
    public mutating func applySnapshot(_ snapshot: BinanceDepthSnapshot) -> Outcome {
        guard state == .awaitingSnapshot else { return .ignored(.unexpectedSnapshot) }
        let snapshotId = snapshot.lastUpdateId
        let pending = buffer.drop(while: { $0.finalUpdateId < snapshotId })
        buffer.removeAll()
        if let first = pending.first, first.firstUpdateId > snapshotId {
            // Updates between the snapshot and the first buffered diff are lost.
            return resync(
                DepthGap(.snapshotTooOld(snapshotId: snapshotId, firstUpdateId: first.firstUpdateId)),
                keeping: Array(pending))
        }
        book.applySnapshot(bids: snapshot.bids, asks: snapshot.asks)
        state = .awaitingBridge(snapshotId: snapshotId)
        if book.isCrossed { return resync(crossedGap(), keeping: Array(pending)) }

        var applied = 0
        for (offset, diff) in pending.enumerated() {
            if case .synced(let lastUpdateId) = state, diff.previousFinalUpdateId != lastUpdateId {
                return resync(
                    DepthGap(
                        .brokenChain(
                            expectedPreviousUpdateId: lastUpdateId, receivedPreviousUpdateId: diff.previousFinalUpdateId
                        )),
                    keeping: Array(pending.dropFirst(offset)))
            }
            if case .gap(let gap) = applyChained(diff) {
                // The book crossed: keep what follows for the next snapshot.
                buffer = Array(pending.dropFirst(offset + 1))
                return .gap(gap)
            }
            applied += 1
        }
        return .applied(count: applied)
    }

    /// Drops the book and starts over, e.g. after a reconnect.
    public mutating func reset() {
        state = .awaitingSnapshot
        book.removeAll()
        buffer.removeAll()
    }

    // MARK: Private

    /// Applies a diff already known to continue the chain.
    private mutating func applyChained(_ diff: BinanceDepthDiff) -> Outcome {
        book.applyDiff(bids: diff.bids, asks: diff.asks)
        state = .synced(lastUpdateId: diff.finalUpdateId)
        if book.isCrossed { return resync(crossedGap(), keeping: []) }
        return .applied(count: 1)
    }

    private func crossedGap() -> DepthGap {
        DepthGap(
            .crossedBook(
                bestBid: book.bestBid?.price ?? .zero, bestAsk: book.bestAsk?.price ?? .zero,
                updateId: bookUpdateId ?? 0))
    }

    private mutating func resync(_ gap: DepthGap, keeping diffs: [BinanceDepthDiff]) -> Outcome {
        gapCount += 1
        state = .awaitingSnapshot
        book.removeAll()
        buffer = Array(diffs.suffix(maxBufferedDiffs))
        return .gap(gap)
    }
}

/// Why a Binance book lost sync.
public struct DepthGap: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A diff's `pu` is not the previous diff's `u`: events were missed.
        case brokenChain(expectedPreviousUpdateId: Int64, receivedPreviousUpdateId: Int64)
        /// The first diff after the snapshot starts after it (`U` > lastUpdateId).
        case snapshotTooOld(snapshotId: Int64, firstUpdateId: Int64)
        /// The book crossed after an update: impossible on one venue, so it is wrong.
        case crossedBook(bestBid: Amount, bestAsk: Amount, updateId: Int64)
    }

    public var kind: Kind

    public init(_ kind: Kind) { self.kind = kind }

    public var description: String {
        switch kind {
        case .brokenChain(let expected, let received):
            "depth chain broken: expected pu \(expected), got \(received)"
        case .snapshotTooOld(let snapshotId, let firstUpdateId):
            "snapshot \(snapshotId) is older than the first buffered diff (U \(firstUpdateId))"
        case .crossedBook(let bid, let ask, let updateId):
            "book crossed at update \(updateId): bid \(bid) >= ask \(ask)"
        }
    }
}
