import Schema

/// The account's books: FIFO lots per symbol, realised P&L, fees and funding, closed trades.
///
/// The one place P&L is computed. Pure and synchronous: it knows nothing of files, sockets
/// or the clock; every time comes in with the fill or the funding payment. Feed it every
/// fill once, in the order the venue reported them (a repeated fill id is ignored), and
/// every funding payment.
///
/// Sign conventions: a fill's size is positive and its side gives the sign; a fee is paid
/// (positive; negative is a rebate); funding is received (positive; negative is paid).
///
/// equity = startingCapital + realised P&L − fees + funding (+ unrealised P&L at marks).
///
/// Equatable so that a caller can check a refused input left the books as they were.
public struct FifoLedger: Sendable, Equatable {
    /// The equity baseline: configured, never inferred from the first trade.
    public let startingCapital: Amount
    /// Every closed trade, in the order the ledger closed them.
    public private(set) var closedTrades: [ClosedTrade] = []
    /// Every funding payment, in the order applied.
    public private(set) var fundingPayments: [FundingPayment] = []
    /// The last fill applied, so a reader can tell a snapshot is current.
    public private(set) var lastFillId: String?
    /// Account totals, kept as fills arrive so account figures cost nothing to read.
    public private(set) var realizedPnl = Amount.zero
    public private(set) var fees = Amount.zero
    public private(set) var funding = Amount.zero
    /// Funding booked while its symbol was flat: in equity, but in no trade.
    public private(set) var unattributedFunding = Amount.zero

    private var books: [String: SymbolBook] = [:]
    private var appliedFillIds: Set<String> = []
    private var nextRoundTrip = 1

    public init(startingCapital: Amount) {
        self.startingCapital = startingCapital
    }

    /// A ledger that starts where a snapshot left off: these account totals and these open lots
    /// (oldest first per symbol), so later fills match FIFO exactly as the snapshot's ledger would.
    /// Per-symbol totals, closed trades and fill ids are not carried: they start empty, and each
    /// symbol's open lots start one round trip.
    ///
    /// - Throws: `LedgerError.invalidLot` for a lot with an empty symbol, a size or price that is not
    ///   positive, or lots of one symbol facing both ways.
    public init(
        startingCapital: Amount, realizedPnl: Amount, fees: Amount, funding: Amount, openLots: [String: [OpenLot]]
    ) throws(LedgerError) {
        self.startingCapital = startingCapital
        self.realizedPnl = realizedPnl
        self.fees = fees
        self.funding = funding
        for symbol in openLots.keys.sorted() {
            let lots = openLots[symbol] ?? []
            guard let direction = lots.first?.direction else { continue }
            guard !symbol.isEmpty else { throw .invalidLot(symbol: symbol, detail: "empty symbol") }
            for lot in lots {
                // `isPositive` is false for NaN too.
                guard lot.size.isPositive, lot.entryPrice.isPositive else {
                    throw .invalidLot(
                        symbol: symbol, detail: "lot \(lot.fillId) size \(lot.size) at \(lot.entryPrice); both must be positive")
                }
                guard lot.direction == direction else {
                    throw .invalidLot(symbol: symbol, detail: "lots face both ways; a position has one direction")
                }
            }
            var trip = newRoundTrip(direction)
            for lot in lots { trip.recordEntry(of: lot, fee: .zero) }
            books[symbol] = SymbolBook(lots: lots, roundTrip: trip)
        }
    }

    // MARK: Fills

    /// Books a fill: it closes against the oldest open lots first when it faces against the
    /// position, and opens (or adds) a lot otherwise; a fill larger than the position closes
    /// it and opens the remainder on the other side. The fill's `purpose` is not consulted:
    /// the ledger books what happened, and the position decides what a fill does. Likewise
    /// a closing fill's `strategy` is not used: P&L goes to the strategy that opened the lot.
    ///
    /// - Returns: `.duplicate` if this fill id was applied before (nothing changes).
    /// - Throws: `LedgerError` for an empty fill id or symbol, a size or price that is not
    ///   positive, or a fee that is not a number; the ledger is then unchanged.
    @discardableResult
    public mutating func apply(_ fill: Fill) throws(LedgerError) -> FillApplication {
        guard !appliedFillIds.contains(fill.fillId) else { return .duplicate(fillId: fill.fillId) }
        let symbol = try Self.validate(fill)
        // Nothing below throws: from here the fill is booked completely.

        var book = books[symbol] ?? SymbolBook()
        var remaining = fill.size
        var openingFee = fill.fee
        var matches: [LotMatch] = []
        var closedTrades: [ClosedTrade] = []

        if var trip = book.roundTrip, trip.direction.openingSide != fill.side {
            let closingSize = min(remaining, book.openSize)
            // A flip pays one fee for two jobs: split it by the size of each.
            let feeShares = ProRata.split(fill.fee, weights: [closingSize, fill.size - closingSize])
            openingFee = feeShares[1]

            while remaining.isPositive, let lot = book.lots.first {
                let size = min(remaining, lot.size)
                matches.append(
                    LotMatch(
                        symbol: symbol, strategy: lot.strategy, direction: lot.direction,
                        entryFillId: lot.fillId, exitFillId: fill.fillId, entryTime: lot.entryTime,
                        exitTime: fill.time, entryPrice: lot.entryPrice, exitPrice: fill.price, size: size,
                        realizedPnl: (fill.price - lot.entryPrice) * size * Amount(lot.direction.sign)))
                remaining -= size
                if size == lot.size {
                    book.lots.removeFirst()
                } else {
                    book.lots[0].size -= size
                }
            }

            let matchFees = ProRata.split(feeShares[0], weights: matches.map(\.size))
            for (match, fee) in zip(matches, matchFees) {
                trip.recordExit(of: match, fee: fee)
                book.totals.realizedPnl += match.realizedPnl
            }
            if book.lots.isEmpty {
                closedTrades = trip.closedTrades(symbol: symbol)
                book.roundTrip = nil
            } else {
                book.roundTrip = trip
            }
        }

        if remaining.isPositive {
            let direction = TradeDirection(opening: fill.side)
            let lot = OpenLot(
                fillId: fill.fillId, strategy: fill.strategy, direction: direction, entryTime: fill.time,
                entryPrice: fill.price, size: remaining)
            var trip = book.roundTrip ?? newRoundTrip(direction)
            trip.recordEntry(of: lot, fee: openingFee)
            book.roundTrip = trip
            book.lots.append(lot)
        }

        book.totals.fees += fill.fee
        let report = FillReport(
            fillId: fill.fillId, symbol: symbol, matches: matches, openedSize: remaining,
            closedTrades: closedTrades, positionAfter: book.signedSize)

        books[symbol] = book
        appliedFillIds.insert(fill.fillId)
        lastFillId = fill.fillId
        realizedPnl += report.realizedPnl
        fees += fill.fee
        self.closedTrades += closedTrades
        return .applied(report)
    }

    /// Whether a fill with this id has been applied.
    public func contains(fillId: String) -> Bool { appliedFillIds.contains(fillId) }

    // MARK: Funding

    /// Books a funding payment on a symbol (positive = received). While a position is open the
    /// payment belongs to its round trip, split between strategies by open size; while flat it
    /// is counted in equity only (`unattributedFunding`).
    ///
    /// The ledger cannot tell a repeated payment from a second one: apply each payment once.
    @discardableResult
    public mutating func applyFunding(symbol: String, amount: Amount, time: EpochNanos) throws(LedgerError)
        -> FundingPayment
    {
        guard !symbol.isEmpty, !amount.decimal.isNaN else {
            throw .invalidFunding(symbol: symbol, amount: amount)
        }
        var book = books[symbol] ?? SymbolBook()
        let payment = FundingPayment(symbol: symbol, amount: amount, time: time, roundTrip: book.roundTrip?.id)

        if var trip = book.roundTrip {
            let strategies = trip.legs.map(\.strategy)
            let openSizes = strategies.map { strategy in
                book.lots.filter { $0.strategy == strategy }.map(\.size).sum()
            }
            for (strategy, share) in zip(strategies, ProRata.split(amount, weights: openSizes)) {
                trip.recordFunding(share, strategy: strategy)
            }
            book.roundTrip = trip
        } else {
            unattributedFunding += amount
        }
        book.totals.funding += amount

        books[symbol] = book
        funding += amount
        fundingPayments.append(payment)
        return payment
    }

    // MARK: Positions

    /// Symbols the ledger has seen a fill or a funding payment for, sorted.
    public var symbols: [String] { books.keys.sorted() }

    /// The open position in `symbol`; nil when flat.
    public func position(_ symbol: String) -> PositionSummary? {
        guard let book = books[symbol], let first = book.lots.first else { return nil }
        let size = book.openSize
        return PositionSummary(
            symbol: symbol, size: book.signedSize, direction: first.direction,
            averageEntryPrice: book.lots.map { $0.entryPrice * $0.size }.sum() / size, lots: book.lots)
    }

    /// Every open position, by symbol.
    public var positions: [PositionSummary] { symbols.compactMap(position) }

    /// Signed open size in `symbol`; zero when flat or unknown.
    public func positionSize(_ symbol: String) -> Amount { books[symbol]?.signedSize ?? .zero }

    /// Realised P&L, fees and funding of one symbol; zeros for a symbol never seen.
    public func totals(_ symbol: String) -> SymbolTotals { books[symbol]?.totals ?? SymbolTotals() }

    // MARK: Unrealised P&L and the account

    /// Unrealised P&L of the open lots in `symbol` at `mark`: Σ (mark − entry) × size × direction.
    public func unrealizedPnl(_ symbol: String, mark: Amount) throws(LedgerError) -> Amount {
        guard mark.isPositive else { throw .nonPositiveMark(symbol: symbol, mark: mark) }
        guard let book = books[symbol] else { return .zero }
        return book.lots.map { (mark - $0.entryPrice) * $0.size * Amount($0.direction.sign) }.sum()
    }

    /// Unrealised P&L over every open position. Needs a mark for each; marks of flat symbols are ignored.
    public func unrealizedPnl(marks: [String: Amount]) throws(LedgerError) -> Amount {
        var total = Amount.zero
        for position in positions {
            guard let mark = marks[position.symbol] else { throw .missingMark(symbol: position.symbol) }
            total += try unrealizedPnl(position.symbol, mark: mark)
        }
        return total
    }

    /// Account figures from what is realised (no marks: `unrealizedPnl` and `equity` are nil).
    public var account: AccountFigures {
        AccountFigures(
            startingCapital: startingCapital, realizedPnl: realizedPnl, fees: fees, funding: funding,
            unrealizedPnl: nil)
    }

    /// Account figures with open positions valued at `marks`.
    public func account(marks: [String: Amount]) throws(LedgerError) -> AccountFigures {
        var figures = account
        figures.unrealizedPnl = try unrealizedPnl(marks: marks)
        return figures
    }

    /// The executor's `acct.snapshot` message, positions valued at `marks`.
    public func snapshot(asOf: EpochNanos, marks: [String: Amount], openOrders: [OpenOrder] = [])
        throws(LedgerError) -> AccountSnapshot
    {
        var positions: [Position] = []
        var unrealized = Amount.zero
        for open in self.positions {
            guard let mark = marks[open.symbol] else { throw .missingMark(symbol: open.symbol) }
            let pnl = try unrealizedPnl(open.symbol, mark: mark)
            unrealized += pnl
            positions.append(
                Position(
                    symbol: open.symbol, size: open.size, entryPrice: open.averageEntryPrice, unrealizedPnl: pnl,
                    lots: open.lots.map {
                        PositionLot(
                            fillId: $0.fillId, strategy: $0.strategy, size: $0.size * Amount($0.direction.sign),
                            entryPrice: $0.entryPrice, entryTime: $0.entryTime)
                    }))
        }
        return AccountSnapshot(
            asOf: asOf, startingCapital: startingCapital, realizedPnl: realizedPnl, fees: fees, funding: funding,
            unrealizedPnl: unrealized, equity: account.realizedEquity + unrealized, positions: positions,
            openOrders: openOrders, lastFillId: lastFillId)
    }

    /// Performance over the closed trades, equity measured from the starting capital.
    public func performance() -> Performance {
        Performance(trades: closedTrades, startingCapital: startingCapital)
    }

    // MARK: Internals

    private mutating func newRoundTrip(_ direction: TradeDirection) -> RoundTripInProgress {
        defer { nextRoundTrip += 1 }
        return RoundTripInProgress(id: nextRoundTrip, direction: direction)
    }

    /// Every check a fill must pass before it may change anything; returns its symbol.
    private static func validate(_ fill: Fill) throws(LedgerError) -> String {
        guard !fill.fillId.isEmpty else { throw .missingFillId(clientOrderId: fill.clientOrderId) }
        guard let symbol = fill.symbol, !symbol.isEmpty else { throw .missingSymbol(fillId: fill.fillId) }
        // `isPositive` is false for NaN too, so a NaN size or price is refused here.
        guard fill.size.isPositive else { throw .nonPositiveSize(fillId: fill.fillId, size: fill.size) }
        guard fill.price.isPositive else { throw .nonPositivePrice(fillId: fill.fillId, price: fill.price) }
        guard !fill.fee.decimal.isNaN else { throw .invalidFee(fillId: fill.fillId, fee: fill.fee) }
        return symbol
    }
}

/// One symbol's lots and running totals.
struct SymbolBook: Sendable, Equatable {
    /// Oldest first; all face the same way. Non-empty exactly when `roundTrip` is set.
    var lots: [OpenLot] = []
    var roundTrip: RoundTripInProgress?
    var totals = SymbolTotals()

    var openSize: Amount { lots.map(\.size).sum() }
    var signedSize: Amount {
        guard let direction = lots.first?.direction else { return .zero }
        return openSize * Amount(direction.sign)
    }
}
