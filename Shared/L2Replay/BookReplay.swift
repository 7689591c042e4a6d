/// Book maintenance alone: every event applied to a fixed-point book, the best bid and ask kept.
public enum BookReplay {
    /// What a replay ends with, so the work cannot be optimised away and two replays can be compared.
    public struct Summary: Sendable, Equatable {
        public var bestBidTick: Int64
        public var bestAskTick: Int64
        /// Σ of the best bid and ask over every venue message: the touch was tracked all along.
        public var touchChecksum: Int64
        /// Events the book refused (beyond its window): none for a loaded capture.
        public var refused: Int
    }

    public static func run(_ events: [L2Event]) -> Summary {
        var book = FixedPointBook()
        var checksum: Int64 = 0
        var refused = 0
        for event in events {
            if !book.apply(event) { refused += 1 }
            if event.endsUpdate, book.hasBid, book.hasAsk {
                checksum &+= book.bestBidTick &+ book.bestAskTick
            }
        }
        return Summary(bestBidTick: book.bestBidTick, bestAskTick: book.bestAskTick, touchChecksum: checksum, refused: refused)
    }
}
