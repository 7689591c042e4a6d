import Schema

/// One level of the external (replayed or synthetic) book.
struct ExternalLevel: Sendable, Equatable {
    var px: Amount
    var sz: Amount
    var n: Int = 1
}

/// A print of the external market; `aggressorIsBuy` is the taker's side.
struct ExternalTrade: Sendable, Equatable {
    var px: Amount
    var sz: Amount
    var aggressorIsBuy: Bool
}

/// What drives the market: a full book snapshot of the external liquidity, or its trades.
enum MarketEvent: Sendable, Equatable {
    case book(coin: String, bids: [ExternalLevel], asks: [ExternalLevel])
    case trades(coin: String, [ExternalTrade])

    var coin: String {
        switch self {
        case .book(let coin, _, _), .trades(let coin, _): coin
        }
    }
}

/// The external market of one coin: the liquidity our orders can take (consumed as they take it,
/// until the next snapshot replaces it) and the last trade.
struct ExternalBook: Sendable {
    var bids: [ExternalLevel] = []  // best first
    var asks: [ExternalLevel] = []  // best first
    var lastTradePx: Amount?
    var updatedAt: UInt64 = 0
    /// Mark price of the previous update, so triggers can tell a crossing.
    var previousMark: Amount?

    var bestBid: Amount? { bids.first?.px }
    var bestAsk: Amount? { asks.first?.px }

    var mid: Amount? {
        guard let bid = bestBid, let ask = bestAsk else { return nil }
        return (bid + ask) / 2
    }

    /// The simulator's mark: the external mid, else the last trade.
    var mark: Amount? { mid ?? lastTradePx ?? bestBid ?? bestAsk }
}
