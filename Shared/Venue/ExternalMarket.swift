import Schema

/// One level of the external (replayed or synthetic) book.
public struct ExternalLevel: Sendable, Equatable {
    public var px: Amount
    public var sz: Amount
    public var n: Int = 1

    public init(px: Amount, sz: Amount, n: Int = 1) {
        self.px = px
        self.sz = sz
        self.n = n
    }
}

/// A print of the external market; `aggressorIsBuy` is the taker's side.
public struct ExternalTrade: Sendable, Equatable {
    public var px: Amount
    public var sz: Amount
    public var aggressorIsBuy: Bool

    public init(px: Amount, sz: Amount, aggressorIsBuy: Bool) {
        self.px = px
        self.sz = sz
        self.aggressorIsBuy = aggressorIsBuy
    }
}

/// What drives the market: a full book snapshot of the external liquidity, or its trades.
public enum MarketEvent: Sendable, Equatable {
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
