import Foundation
import Schema

/// What a market maker watches, per symbol and for the account (issue 10, part 4), from the messages on the bus:
/// the executor's `QuoteReport`s, `Fill`s, mids, `FundingSettlement`s and the strategy's `QuoteTarget`s.
///
/// One accumulator for the executor's `/status` and `/metrics` while it runs and for `breakwater report --quotes`
/// afterwards, so the figures are computed in one place. Pure and synchronous: every time comes in with its message.
///
/// P&L is not derived here: fills and funding go into a `FifoLedger`, and realised P&L, fees, funding, inventory and
/// unrealised P&L are read from it. equity = startingCapital + realised − fees + funding + unrealised at the last mid,
/// never the exchange's account value.
///
/// Definitions (per symbol):
/// - **Resting per side**: the bids and asks in the last report's `resting`.
/// - **Uptime**: the reports draw a timeline. Each report's resting set holds from its `time` until the next report,
///   but for at most `reportHorizon`: past that the executor has said nothing and the time counts as not quoting.
///   *Two-sided uptime* is the share of `[first report, now]` during which at least one bid and one ask rested;
///   *any-side uptime* the share during which at least one quote rested. Nil before the first report or when no time
///   has passed since it. A report older than the newest one applied counts its actions but does not move the timeline.
/// - **Quote placements** = Σ placed + Σ modified: a modify puts a quote at a new price.
/// - **Fill rate** = quote fills (those with a `quoteTier`) / quote placements; a quote filled in parts counts each part.
/// - **Maker share**: maker fills over all fills of the symbol (any purpose), by count and by notional.
/// - **Spread captured**, per quote fill: the fill price's distance from the mid, favourable positive (a buy below the
///   mid, a sell above it). The mid is the latest one observed for the symbol whose time is at or before the fill's.
///   In bps: the notional-weighted average of distance / mid × 10 000; in USD: Σ distance × size. A quote fill with no
///   earlier mid is counted in `fillsWithoutMid` and left out of both.
/// - **Inventory**: the ledger's signed position; `maxAbsInventory` the largest |position| after any fill.
public struct MarketMakingStats: Sendable {
    /// How long a report's resting set is believed without a newer report.
    public static let defaultReportHorizon: EpochNanos = 30_000_000_000
    /// Mids kept per symbol to find the one at or before a fill that arrives after later mids.
    static let midHistory = 64

    public let startingCapital: Amount
    public let reportHorizon: EpochNanos
    /// The books every figure of P&L comes from.
    public private(set) var ledger: FifoLedger
    /// Inputs that were dropped, so a reader can tell the figures are incomplete.
    public private(set) var ignored = IgnoredInputs()

    private let configuredSymbols: [String]
    private var books: [String: SymbolStats] = [:]
    private var fundingIds: Set<String> = []
    /// The address budget from the latest report (by time) on any symbol: it is one budget for the account.
    private var latestBudget: (time: EpochNanos, used: Int, cap: Int?)?

    public init(startingCapital: Amount, symbols: [String], reportHorizon: EpochNanos = defaultReportHorizon) {
        self.startingCapital = startingCapital
        self.reportHorizon = max(0, reportHorizon)
        ledger = FifoLedger(startingCapital: startingCapital)
        var seen: Set<String> = []
        configuredSymbols = symbols.filter { !$0.isEmpty && seen.insert($0).inserted }
        for symbol in configuredSymbols { books[symbol] = SymbolStats() }
    }

    // MARK: Inputs

    /// One reconciliation pass. A report without a symbol or with a negative count is ignored (and counted).
    public mutating func apply(_ report: QuoteReport) {
        guard let symbol = report.symbol, !symbol.isEmpty,
            [report.kept, report.modified, report.placed, report.canceled, report.aloRejected, report.failed,
             report.deferred].allSatisfy({ $0 >= 0 })
        else {
            ignored.reports += 1
            return
        }
        books[symbol, default: SymbolStats()].apply(report, horizon: reportHorizon)
        if let used = report.requestsUsed, report.time >= (latestBudget?.time ?? .min) {
            latestBudget = (report.time, used, report.requestsCap)
        }
    }

    /// A fill, booked into the FIFO ledger first; a repeated fill id changes nothing.
    ///
    /// - Throws: the ledger's `LedgerError` for a fill it refuses; the statistics are then unchanged.
    @discardableResult
    public mutating func apply(_ fill: Fill) throws(LedgerError) -> FillApplication {
        let outcome = try ledger.apply(fill)
        guard let booked = outcome.report else {
            ignored.duplicateFills += 1
            return outcome
        }
        books[booked.symbol, default: SymbolStats()].apply(fill, positionAfter: booked.positionAfter)
        return outcome
    }

    /// A funding payment, booked into the ledger. A repeated funding id is ignored (returns false).
    ///
    /// - Throws: the ledger's `LedgerError` for a payment without a symbol or with an amount that is not a number.
    @discardableResult
    public mutating func apply(_ funding: FundingSettlement) throws(LedgerError) -> Bool {
        guard funding.fundingId.isEmpty || !fundingIds.contains(funding.fundingId) else {
            ignored.duplicateFunding += 1
            return false
        }
        let symbol = funding.symbol ?? ""
        try ledger.applyFunding(symbol: symbol, amount: funding.amount, time: funding.time)
        if !funding.fundingId.isEmpty { fundingIds.insert(funding.fundingId) }
        books[symbol, default: SymbolStats()].active = true
        return true
    }

    /// The strategy's wanted quotes: only the inventory limit they were built for is kept.
    /// (`ApprovedQuotes` carries no limit, so the strategy's target is where it is read.)
    public mutating func apply(_ target: QuoteTarget) {
        guard let symbol = target.symbol, !symbol.isEmpty, !target.maxInventory.isNaN else {
            ignored.targets += 1
            return
        }
        books[symbol, default: SymbolStats()].inventoryLimit = target.maxInventory
        books[symbol, default: SymbolStats()].active = true
    }

    /// A mid price for spread captured and unrealised P&L. A mid that is not positive, or older than the newest one
    /// observed for the symbol, is ignored (and counted).
    public mutating func observeMid(symbol: String, mid: Amount, time: EpochNanos) {
        guard !symbol.isEmpty, mid.isPositive else {
            ignored.mids += 1
            return
        }
        if !books[symbol, default: SymbolStats()].observeMid(mid, time: time) { ignored.mids += 1 }
    }

    /// The mid of a book: (best bid + best ask) / 2; nil for a one-sided, crossed or locked book.
    public static func mid(of book: BookUpdate) -> Amount? {
        guard let bid = book.bids.first?.price, let ask = book.asks.first?.price, bid.isPositive, bid < ask else {
            return nil
        }
        return (bid + ask) / 2
    }

    /// Observes the mid of a book (see `mid(of:)`); a book without a sound mid is ignored (and counted).
    public mutating func observe(_ book: BookUpdate) {
        guard let symbol = book.symbol, let mid = Self.mid(of: book) else {
            ignored.mids += 1
            return
        }
        observeMid(symbol: symbol, mid: mid, time: book.exchangeTime)
    }

    // MARK: Outputs

    /// One row per symbol: the configured ones in the order given, then any other symbol with a report, fill,
    /// funding payment or target (a mid alone makes no row), sorted.
    public func summary(now: EpochNanos) -> [SymbolSummary] {
        let others = books.filter { !configuredSymbols.contains($0.key) && $0.value.active }.keys.sorted()
        return (configuredSymbols + others).map { symbol in
            summary(of: symbol, now: now)
        }
    }

    /// Account totals from the ledger, open positions valued at each symbol's last mid.
    public func account() -> AccountSummary {
        var unrealized: Amount? = .zero
        var unmarked: [String] = []
        for position in ledger.positions {
            if let mid = books[position.symbol]?.lastMid?.mid,
                let pnl = try? ledger.unrealizedPnl(position.symbol, mark: mid)
            {
                unrealized = unrealized.map { $0 + pnl }
            } else {
                unmarked.append(position.symbol)
                unrealized = nil
            }
        }
        let figures = ledger.account
        let all = books.values
        return AccountSummary(
            startingCapital: startingCapital, realizedPnl: figures.realizedPnl, fees: figures.fees,
            funding: figures.funding, unrealizedPnl: unrealized, realizedEquity: figures.realizedEquity,
            equity: unrealized.map { figures.realizedEquity + $0 }, symbolsWithoutMid: unmarked,
            fills: all.map(\.fills).reduce(0, +), quoteFills: all.map(\.quoteFills).reduce(0, +),
            makerFills: all.map(\.makerFills).reduce(0, +),
            spreadCapturedUsd: all.map(\.spreadCapturedUsd).sum(), requestsUsed: latestBudget?.used,
            requestsCap: latestBudget?.cap, ignored: ignored)
    }

    /// Everything at `now`, for JSON.
    public func snapshot(now: EpochNanos) -> MarketMakingSummary {
        MarketMakingSummary(asOf: now, account: account(), symbols: summary(now: now))
    }

    private func summary(of symbol: String, now: EpochNanos) -> SymbolSummary {
        let stats = books[symbol] ?? SymbolStats()
        let totals = ledger.totals(symbol)
        let inventory = ledger.positionSize(symbol)
        var unrealized: Amount? = .zero
        if !inventory.isZero {
            unrealized = stats.lastMid.flatMap { try? ledger.unrealizedPnl(symbol, mark: $0.mid) }
        }
        let uptime = stats.uptime(now: now, horizon: reportHorizon)
        func ratio(_ part: Int, _ whole: Int) -> Double? { whole > 0 ? Double(part) / Double(whole) : nil }
        func share(_ part: Amount, _ whole: Amount) -> Double? {
            whole.isPositive ? part.doubleValue / whole.doubleValue : nil
        }
        let placements = stats.placed + stats.modified
        return SymbolSummary(
            symbol: symbol, configured: configuredSymbols.contains(symbol), reports: stats.reports,
            firstReportAt: stats.firstReportTime, lastReportAt: stats.lastReportTime,
            restingBids: stats.restingBids, restingAsks: stats.restingAsks,
            twoSidedUptime: uptime?.twoSided, anySideUptime: uptime?.anySide, quotePlacements: placements,
            placed: stats.placed, modified: stats.modified, kept: stats.kept, canceled: stats.canceled,
            aloRejected: stats.aloRejected, failed: stats.failed, deferred: stats.deferred,
            requestsUsed: stats.requestsUsed, requestsCap: stats.requestsCap,
            refreshIntervalMs: stats.refreshIntervalMs, fills: stats.fills, quoteFills: stats.quoteFills,
            makerFills: stats.makerFills, fillNotional: stats.fillNotional, makerNotional: stats.makerNotional,
            fillRate: ratio(stats.quoteFills, placements), makerShareByCount: ratio(stats.makerFills, stats.fills),
            makerShareByNotional: share(stats.makerNotional, stats.fillNotional),
            spreadCapturedBps: stats.measuredNotional.isPositive
                ? (stats.weightedDistance / stats.measuredNotional * 10_000).doubleValue : nil,
            spreadCapturedUsd: stats.spreadCapturedUsd, spreadMeasuredFills: stats.measuredFills,
            fillsWithoutMid: stats.fillsWithoutMid, inventory: inventory, maxAbsInventory: stats.maxAbsInventory,
            inventoryLimit: stats.inventoryLimit, lastMid: stats.lastMid?.mid, lastMidAt: stats.lastMid?.time,
            realizedPnl: totals.realizedPnl, fees: totals.fees, funding: totals.funding, unrealizedPnl: unrealized,
            netPnl: unrealized.map { totals.realizedPnl - totals.fees + totals.funding + $0 })
    }
}

// MARK: - Output types

/// One symbol's market-making figures; see `MarketMakingStats` for each definition.
public struct SymbolSummary: Codable, Sendable, Equatable {
    public var symbol: String
    /// False for a symbol that was not in the configured list but turned up in a message.
    public var configured: Bool
    public var reports: Int
    public var firstReportAt: EpochNanos?
    public var lastReportAt: EpochNanos?
    /// From the last report.
    public var restingBids: Int
    public var restingAsks: Int
    /// 0…1; nil before the first report.
    public var twoSidedUptime: Double?
    public var anySideUptime: Double?
    /// placed + modified.
    public var quotePlacements: Int
    public var placed: Int
    public var modified: Int
    public var kept: Int
    public var canceled: Int
    public var aloRejected: Int
    public var failed: Int
    public var deferred: Int
    /// The address budget as last reported on this symbol.
    public var requestsUsed: Int?
    public var requestsCap: Int?
    public var refreshIntervalMs: Int?
    public var fills: Int
    public var quoteFills: Int
    public var makerFills: Int
    public var fillNotional: Amount
    public var makerNotional: Amount
    /// Quote fills per quote placement; nil with no placement.
    public var fillRate: Double?
    /// 0…1 over all fills; nil with no fill.
    public var makerShareByCount: Double?
    public var makerShareByNotional: Double?
    /// Notional-weighted, favourable positive; nil with no measured quote fill.
    public var spreadCapturedBps: Double?
    public var spreadCapturedUsd: Amount
    public var spreadMeasuredFills: Int
    /// Quote fills with no mid at or before them.
    public var fillsWithoutMid: Int
    /// Signed position in the base asset.
    public var inventory: Amount
    public var maxAbsInventory: Amount
    /// From the strategy's latest target; nil before one.
    public var inventoryLimit: Amount?
    public var lastMid: Amount?
    public var lastMidAt: EpochNanos?
    public var realizedPnl: Amount
    /// Paid, positive.
    public var fees: Amount
    /// Received, positive.
    public var funding: Amount
    /// At the last mid; zero when flat; nil with a position and no mid.
    public var unrealizedPnl: Amount?
    /// realised − fees + funding + unrealised; nil when unrealised is.
    public var netPnl: Amount?
}

/// Inputs the statistics dropped.
public struct IgnoredInputs: Codable, Sendable, Equatable {
    public var reports = 0
    public var mids = 0
    public var targets = 0
    public var duplicateFills = 0
    public var duplicateFunding = 0
    public init() {}
}

/// The account, from the ledger; equity from the configured starting capital.
public struct AccountSummary: Codable, Sendable, Equatable {
    public var startingCapital: Amount
    public var realizedPnl: Amount
    public var fees: Amount
    public var funding: Amount
    /// Open positions at their symbols' last mids; nil when a position has no mid.
    public var unrealizedPnl: Amount?
    /// startingCapital + realised − fees + funding.
    public var realizedEquity: Amount
    /// realizedEquity + unrealised; nil when unrealised is.
    public var equity: Amount?
    /// Symbols with a position but no mid yet.
    public var symbolsWithoutMid: [String]
    public var fills: Int
    public var quoteFills: Int
    public var makerFills: Int
    public var spreadCapturedUsd: Amount
    /// The address budget from the latest report on any symbol.
    public var requestsUsed: Int?
    public var requestsCap: Int?
    public var ignored: IgnoredInputs
}

/// The account and every symbol at one time.
public struct MarketMakingSummary: Codable, Sendable, Equatable {
    public var asOf: EpochNanos
    public var account: AccountSummary
    public var symbols: [SymbolSummary]

    public init(asOf: EpochNanos, account: AccountSummary, symbols: [SymbolSummary]) {
        self.asOf = asOf
        self.account = account
        self.symbols = symbols
    }

    /// The operator's table: one row per symbol, units in the headers, then the account.
    public func table() -> String {
        func cell(_ text: String, _ width: Int) -> String {
            text.count >= width ? text + " " : text.padding(toLength: width, withPad: " ", startingAt: 0)
        }
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f", $0 * 100) } ?? "n/a" }
        func number(_ value: Double?, _ format: String) -> String { value.map { String(format: format, $0) } ?? "n/a" }
        func usd(_ value: Amount?) -> String { value.map { $0.rounded(scale: 2).description } ?? "n/a" }
        func count(_ value: Int?) -> String { value.map { "\($0)" } ?? "-" }
        let columns: [(String, Int, (SymbolSummary) -> String)] = [
            ("SYMBOL", 10, { $0.symbol + ($0.configured ? "" : "*") }),
            ("BID/ASK", 9, { "\($0.restingBids)/\($0.restingAsks)" }),
            ("UP 2-SIDE %", 12, { percent($0.twoSidedUptime) }),
            ("UP ANY %", 9, { percent($0.anySideUptime) }),
            ("PLACED", 8, { "\($0.quotePlacements)" }),
            ("FILLS", 7, { "\($0.fills)" }),
            ("FILL RATE %", 12, { percent($0.fillRate) }),
            ("MAKER % N/$", 13, { "\(percent($0.makerShareByCount))/\(percent($0.makerShareByNotional))" }),
            ("SPREAD bps", 11, { number($0.spreadCapturedBps, "%.2f") }),
            ("SPREAD $", 10, { usd($0.spreadCapturedUsd) }),
            ("INV (MAX|LIM)", 22, {
                "\($0.inventory) (\($0.maxAbsInventory)|\($0.inventoryLimit.map(\.description) ?? "-"))"
            }),
            ("ALO REJ", 8, { "\($0.aloRejected)" }),
            ("FAIL/DEFER", 11, { "\($0.failed)/\($0.deferred)" }),
            ("REQ USED/CAP", 13, { "\(count($0.requestsUsed))/\(count($0.requestsCap))" }),
            ("REAL $", 11, { usd($0.realizedPnl) }),
            ("UNREAL $", 11, { usd($0.unrealizedPnl) }),
            ("FEES $", 9, { usd($0.fees) }),
            ("FUND $", 9, { usd($0.funding) }),
        ]
        var lines = [columns.map { cell($0.0, $0.1) }.joined()]
        for row in symbols { lines.append(columns.map { cell($0.2(row), $0.1) }.joined()) }
        if symbols.contains(where: { !$0.configured }) { lines.append("* not a configured symbol") }
        let a = account
        lines.append(
            "account: starting capital \(usd(a.startingCapital)) + realised \(usd(a.realizedPnl)) − fees \(usd(a.fees))"
                + " + funding \(usd(a.funding)) + unrealised \(usd(a.unrealizedPnl)) = equity \(usd(a.equity))"
                + (a.symbolsWithoutMid.isEmpty ? "" : " (no mid for \(a.symbolsWithoutMid.joined(separator: ", ")))"))
        lines.append(
            "\(a.fills) fills (\(a.quoteFills) quote, \(a.makerFills) maker); spread captured \(usd(a.spreadCapturedUsd)) $;"
                + " requests used/cap \(count(a.requestsUsed))/\(count(a.requestsCap))")
        let i = a.ignored
        if i != IgnoredInputs() {
            lines.append(
                "ignored: \(i.reports) reports, \(i.mids) mids, \(i.targets) targets, \(i.duplicateFills) repeated fills,"
                    + " \(i.duplicateFunding) repeated funding payments")
        }
        return lines.joined(separator: "\n")
    }
}

// MARK: - Per-symbol state

struct SymbolStats: Sendable {
    /// Seen in anything but a mid.
    var active = false
    var reports = 0
    var firstReportTime: EpochNanos?
    var lastReportTime: EpochNanos?
    var restingBids = 0
    var restingAsks = 0
    var twoSidedNanos: EpochNanos = 0
    var anySideNanos: EpochNanos = 0
    var placed = 0, modified = 0, kept = 0, canceled = 0, aloRejected = 0, failed = 0, deferred = 0
    var requestsUsed: Int?
    var requestsCap: Int?
    var refreshIntervalMs: Int?

    var fills = 0, quoteFills = 0, makerFills = 0
    var fillNotional = Amount.zero
    var makerNotional = Amount.zero
    var measuredFills = 0
    var fillsWithoutMid = 0
    /// Σ (distance / mid) × notional over measured quote fills, and Σ notional.
    var weightedDistance = Amount.zero
    var measuredNotional = Amount.zero
    var spreadCapturedUsd = Amount.zero
    var maxAbsInventory = Amount.zero
    var inventoryLimit: Amount?

    /// Oldest first, times never falling.
    var mids: [(time: EpochNanos, mid: Amount)] = []
    var lastMid: (time: EpochNanos, mid: Amount)? { mids.last }

    mutating func apply(_ report: QuoteReport, horizon: EpochNanos) {
        active = true
        reports += 1
        placed += report.placed
        modified += report.modified
        kept += report.kept
        canceled += report.canceled
        aloRejected += report.aloRejected
        failed += report.failed
        deferred += report.deferred
        if let last = lastReportTime, report.time < last { return }
        if let last = lastReportTime {
            credit(min(report.time - last, horizon))
        } else {
            firstReportTime = report.time
        }
        lastReportTime = report.time
        restingBids = report.restingBids
        restingAsks = report.restingAsks
        if report.requestsUsed != nil { requestsUsed = report.requestsUsed }
        if report.requestsCap != nil { requestsCap = report.requestsCap }
        refreshIntervalMs = report.refreshIntervalMs
    }

    /// Credits `nanos` of the current resting state to the uptime counters.
    private mutating func credit(_ nanos: EpochNanos) {
        guard nanos > 0 else { return }
        if restingBids > 0 && restingAsks > 0 { twoSidedNanos += nanos }
        if restingBids > 0 || restingAsks > 0 { anySideNanos += nanos }
    }

    func uptime(now: EpochNanos, horizon: EpochNanos) -> (twoSided: Double, anySide: Double)? {
        guard let first = firstReportTime, let last = lastReportTime, now > first else { return nil }
        var state = self
        // The last report's state runs on to `now`, within the horizon.
        state.credit(min(max(0, now - last), horizon))
        let span = Double(now - first)
        return (min(1, Double(state.twoSidedNanos) / span), min(1, Double(state.anySideNanos) / span))
    }

    mutating func apply(_ fill: Fill, positionAfter: Amount) {
        let notional = fill.price * fill.size
        active = true
        fills += 1
        fillNotional += notional
        if fill.liquidity == .maker {
            makerFills += 1
            makerNotional += notional
        }
        maxAbsInventory = max(maxAbsInventory, positionAfter.magnitude)
        guard fill.isQuote else { return }
        quoteFills += 1
        guard let mid = mids.last(where: { $0.time <= fill.time })?.mid else {
            fillsWithoutMid += 1
            return
        }
        let distance = fill.side == .buy ? mid - fill.price : fill.price - mid
        measuredFills += 1
        weightedDistance += distance / mid * notional
        measuredNotional += notional
        spreadCapturedUsd += distance * fill.size
    }

    /// False when the mid is older than the newest one kept.
    mutating func observeMid(_ mid: Amount, time: EpochNanos) -> Bool {
        if let last = mids.last {
            guard time >= last.time else { return false }
            if time == last.time { mids.removeLast() }
        }
        mids.append((time, mid))
        if mids.count > MarketMakingStats.midHistory { mids.removeFirst(mids.count - MarketMakingStats.midHistory) }
        return true
    }
}
