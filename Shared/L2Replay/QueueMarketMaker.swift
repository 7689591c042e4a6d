/// How the market maker quotes. Prices in ticks, sizes in lots, the fee in millionths of notional.
public struct QuotingParameters: Sendable, Equatable {
    /// Ticks between the mid and each quote.
    public var halfSpreadTicks: Int64
    public var orderLots: Int64
    /// No quote that would take the position beyond this, either way.
    public var maxPositionLots: Int64
    /// Maker fee per fill, in millionths of the notional (Binance USD-M VIP 0: 200, i.e. 0.02 %); negative is a rebate.
    public var makerFeeMicros: Int64

    public init(halfSpreadTicks: Int64, orderLots: Int64, maxPositionLots: Int64, makerFeeMicros: Int64) {
        precondition(halfSpreadTicks >= 0 && orderLots > 0 && maxPositionLots >= orderLots, "bad quoting parameters")
        self.halfSpreadTicks = halfSpreadTicks
        self.orderLots = orderLots
        self.maxPositionLots = maxPositionLots
        self.makerFeeMicros = makerFeeMicros
    }
}

/// One resting quote and the size estimated ahead of it at its price.
public struct RestingQuote: Sendable, Equatable {
    public var price: Int64
    public var lots: Int64
    /// Lots ahead of the quote in the level's queue.
    public var queueAhead: Int64

    public init(price: Int64, lots: Int64, queueAhead: Int64) {
        self.price = price
        self.lots = lots
        self.queueAhead = queueAhead
    }
}

/// Position, cash and fees of the market maker, in integers: cash in tick·lots (price ticks × lots),
/// fees in millionths of tick·lots, so no fill is ever rounded. `L2Instrument` turns them into exact
/// decimals for the ledger.
public struct MarketMakerAccount: Sendable, Equatable {
    public var positionLots: Int64 = 0
    /// Sells minus buys, in tick·lots.
    public var cashTickLots: Int64 = 0
    public var feeMicroTickLots: Int64 = 0
    public var fills = 0
    public var volumeLots: Int64 = 0

    public init() {}

    /// Cash minus fees plus the position marked at `markTicks`, in millionths of tick·lots.
    public func equityMicroTickLots(markTicks: Int64) -> Int64 {
        (cashTickLots + positionLots * markTicks) * 1_000_000 - feeMicroTickLots
    }
}

/// A market maker on a replayed L2 book: one bid and one ask `halfSpreadTicks` either side of the mid,
/// moved whenever the mid moves, post-only (never through the touch).
///
/// Fills follow hftbacktest's `RiskAdverseQueueModel` with its no-partial-fill exchange: a new quote
/// joins the back of its level (everything resting there is ahead of it); trades at its price eat
/// the queue ahead; a level that shrinks moves the quote up only as far as the new size (a
/// cancellation is assumed to be behind it, the cautious reading). It fills in full once a trade at
/// its price exceeds the queue ahead, a trade prints through its price, or the other side of the
/// book reaches it.
public struct QueueMarketMaker: Sendable {
    public let parameters: QuotingParameters
    public private(set) var book = FixedPointBook()
    public private(set) var account = MarketMakerAccount()
    public private(set) var bid: RestingQuote?
    public private(set) var ask: RestingQuote?
    /// Quotes placed (each requote is a cancel and a place).
    public private(set) var quotesPlaced = 0

    public init(parameters: QuotingParameters) {
        self.parameters = parameters
    }

    /// The book's best bid + best ask (twice the mid, an integer), or nil without both sides.
    public var doubleMidTicks: Int64? {
        book.hasBid && book.hasAsk ? book.bestBidTick + book.bestAskTick : nil
    }

    @inline(__always)
    public mutating func handle(_ event: L2Event) {
        book.apply(event)
        switch event.kind {
        case .bid:
            if let quote = bid, quote.price == event.price, event.quantity < quote.queueAhead {
                bid!.queueAhead = event.quantity
            }
        case .ask:
            if let quote = ask, quote.price == event.price, event.quantity < quote.queueAhead {
                ask!.queueAhead = event.quantity
            }
        case .sellTrade:
            if let quote = bid, event.price <= quote.price {
                if event.price < quote.price || quote.queueAhead - event.quantity < 0 {
                    fill(quote, buy: true)
                } else {
                    bid!.queueAhead -= event.quantity
                }
            }
        case .buyTrade:
            if let quote = ask, event.price >= quote.price {
                if event.price > quote.price || quote.queueAhead - event.quantity < 0 {
                    fill(quote, buy: false)
                } else {
                    ask!.queueAhead -= event.quantity
                }
            }
        case .clear:
            // No book, no quotes, until the snapshot's levels have all arrived.
            bid = nil
            ask = nil
        }
        if event.endsUpdate { settleAndRequote() }
    }

    /// After a whole venue message: fills by the book reaching a quote, then quotes around the new mid.
    @inline(__always)
    mutating func settleAndRequote() {
        if let quote = bid, book.hasAsk, book.bestAskTick <= quote.price { fill(quote, buy: true) }
        if let quote = ask, book.hasBid, book.bestBidTick >= quote.price { fill(quote, buy: false) }
        guard let doubleMid = doubleMidTicks else {
            bid = nil
            ask = nil
            return
        }
        // Floor and ceiling of the mid, so a one-tick spread quotes symmetrically; post-only, never
        // at or through the other side.
        let bidPrice = min(doubleMid >> 1 - parameters.halfSpreadTicks, book.bestAskTick - 1)
        let askPrice = max((doubleMid + 1) >> 1 + parameters.halfSpreadTicks, book.bestBidTick + 1)
        let size = parameters.orderLots
        let position = account.positionLots
        if position + size <= parameters.maxPositionLots {
            if bid?.price != bidPrice {
                bid = RestingQuote(price: bidPrice, lots: size, queueAhead: book.lots(bid: true, at: bidPrice))
                quotesPlaced += 1
            }
        } else {
            bid = nil
        }
        if position - size >= -parameters.maxPositionLots {
            if ask?.price != askPrice {
                ask = RestingQuote(price: askPrice, lots: size, queueAhead: book.lots(bid: false, at: askPrice))
                quotesPlaced += 1
            }
        } else {
            ask = nil
        }
    }

    @inline(__always)
    mutating func fill(_ quote: RestingQuote, buy: Bool) {
        let notional = quote.price * quote.lots
        account.positionLots += buy ? quote.lots : -quote.lots
        account.cashTickLots += buy ? -notional : notional
        account.feeMicroTickLots += notional * parameters.makerFeeMicros
        account.fills += 1
        account.volumeLots += quote.lots
        if buy { bid = nil } else { ask = nil }
    }

    /// Runs every event through the market maker.
    public mutating func replay(_ events: [L2Event]) {
        for event in events { handle(event) }
    }
}
