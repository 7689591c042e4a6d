import Execution
import Ledger
import Risk
import Schema
import Strategy
import Venue

/// The market maker in a backtest, configured as `breakwater up` runs it: the quoted symbols and
/// the strategy's settings (signal generator), the executor's quote keeping, and how many book
/// levels the feed publishes.
public struct BacktestQuoting: Sendable {
    public var symbols: [String]
    public var settings: MarketMakingSettings
    public var keeper: QuoteKeeper.Settings
    /// `feed.bookLevels`: the levels a side the feed passes on.
    public var bookLevels: Int
    /// How often the executor reads the address budget from the venue (`executor.quotes.budgetPollMs`).
    public var budgetPollNanos: Int64
    /// How often the signal generator's makers hear the clock (staleness, keepalives, delays).
    public var tickNanos: Int64

    public init(
        symbols: [String], settings: MarketMakingSettings, keeper: QuoteKeeper.Settings = QuoteKeeper.Settings(),
        bookLevels: Int = 10, budgetPollNanos: Int64 = 10 * Nanos.second, tickNanos: Int64 = 250_000_000
    ) {
        self.symbols = symbols
        self.settings = settings
        self.keeper = keeper
        self.bookLevels = bookLevels
        self.budgetPollNanos = budgetPollNanos
        self.tickNanos = tickNanos
    }
}

/// What the market maker's side of a backtest holds between events: the makers, the executor's
/// quote keeping with the quote orders it believes rest, and what a market maker watches.
struct QuotingState: Sendable {
    var makers: [String: MarketMaker]
    var keeper: QuoteKeeper
    var stats: MarketMakingStats
    let quoting: BacktestQuoting
    /// Our quote orders on the venue's book, by client order id, as the executor's ledger holds them
    /// (a modify keeps the order's first time; its size is what rests after it).
    var resting: [String: RestingQuote] = [:]
    var lastTick: EpochNanos
    var lastBudgetPoll: EpochNanos?
    var lastReport: [String: EpochNanos] = [:]

    init(
        quoting: BacktestQuoting, instruments: [String: Instrument], startingCapital: Amount, now: EpochNanos) throws {
        var makers: [String: MarketMaker] = [:]
        for symbol in quoting.symbols {
            guard let instrument = instruments[symbol] else { throw Backtest.SetupError.meta("no instrument for quoted \(symbol)") }
            makers[symbol] = try MarketMaker(symbol: symbol, instrument: instrument, settings: quoting.settings, idPrefix: "bt")
        }
        self.makers = makers
        self.quoting = quoting
        keeper = QuoteKeeper(settings: quoting.keeper, instance: "backtest")
        // Every fill and funding payment of the account, as the executor's figures; the quoted symbols first.
        stats = MarketMakingStats(startingCapital: startingCapital, symbols: quoting.symbols)
        lastTick = now
    }

    func quotes(_ symbol: String) -> Bool { makers[symbol] != nil }

    /// The first time after `time` at which a maker's or the executor's clock alone changes
    /// something (the executor looks at its quotes every 100 ms; its budget poll is its own timer).
    func nextWake(after time: EpochNanos) -> EpochNanos? {
        var times = makers.values.compactMap { $0.nextWake(after: time) }
        if let keeper = keeper.nextWake(after: time, checkNanos: 100_000_000) { times.append(keeper) }
        return times.min()
    }

    func resting(of symbol: String, commands: [String: OrderCommand]) -> [RestingQuote] {
        resting.values.filter { commands[$0.clientOrderId]?.symbol == symbol }.sorted { $0.clientOrderId < $1.clientOrderId }
    }

    /// The venue's answer to one quote command, applied to what rests.
    mutating func answered(_ command: OrderCommand, _ outcome: OrderOutcome?, now: EpochNanos) {
        let id = command.clientOrderId
        switch outcome {
        case .resting?:
            resting[id] = RestingQuote(
                clientOrderId: id, side: command.side, tier: command.quoteTier ?? -1, price: command.price, size: command.size,
                placedAt: now)
        case .modified?:
            guard let before = resting[id] else { return }
            resting[id] = RestingQuote(
                clientOrderId: id, side: command.side, tier: command.quoteTier ?? before.tier, price: command.price,
                size: command.size, placedAt: before.placedAt)
        case .canceled?:
            ended(id)
        case .rejected(let reason)?:
            // A cancel or modify of an order the venue no longer has, or a modify refused as crossing
            // (the original is gone with it): nothing rests under that id any more.
            if command.action != .place, VenueAnswers.isMissingOrder(reason.detail) || VenueAnswers.isPostOnlyCross(reason.detail) {
                ended(id)
            }
        case nil:
            break
        }
    }

    /// Part or all of a resting quote filled.
    mutating func filled(_ fill: Fill) {
        guard let quote = resting[fill.clientOrderId] else { return }
        let remaining = quote.size - fill.size
        if remaining.isPositive {
            resting[fill.clientOrderId]?.size = remaining
        } else {
            resting[fill.clientOrderId] = nil
        }
    }

    mutating func ended(_ clientOrderId: String) { resting[clientOrderId] = nil }

    /// The merged book as the feed publishes exchange-sim's `l2Book`: `bookLevels` a side, best
    /// first, stamped with the venue's millisecond clock.
    func book(_ venue: VenueCore, asset: Int, symbol: String, now: EpochNanos) -> BookUpdate {
        let merged = venue.mergedBook(asset: asset, depth: quoting.bookLevels)
        return BookUpdate(
            symbol: symbol, bids: merged.bids.map { BookLevel(price: $0.px, size: $0.sz) },
            asks: merged.asks.map { BookLevel(price: $0.px, size: $0.sz) }, exchangeTime: now / 1_000_000 * 1_000_000)
    }
}
