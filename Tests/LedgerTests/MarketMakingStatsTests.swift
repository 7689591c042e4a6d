import Foundation
import Ledger
import Schema
import Testing

private let second: EpochNanos = 1_000_000_000

/// A report with `bids` bids and `asks` asks resting, and the given pass counts.
private func report(
    _ symbol: String? = "BTC", at seconds: Double, bids: Int = 0, asks: Int = 0, placed: Int = 0, modified: Int = 0,
    aloRejected: Int = 0, failed: Int = 0, deferred: Int = 0, used: Int? = nil, cap: Int? = nil
) -> QuoteReport {
    let time = EpochNanos(seconds * Double(second))
    let resting =
        (0..<bids).map { RestingQuote(clientOrderId: "b\($0)", side: .buy, tier: $0, price: 99, size: 1, placedAt: time) }
        + (0..<asks).map { RestingQuote(clientOrderId: "a\($0)", side: .sell, tier: $0, price: 101, size: 1, placedAt: time) }
    var report = QuoteReport(
        symbol: symbol ?? "", targetId: "t", sequence: 1, resting: resting, kept: 0, modified: modified,
        placed: placed, canceled: 0, aloRejected: aloRejected, failed: failed, deferred: deferred, requestsUsed: used,
        requestsCap: cap, refreshIntervalMs: 100, reasons: [], time: time)
    report.symbol = symbol
    return report
}

/// A fill of a quote (maker) or of another order.
private func mmFill(
    _ id: String, _ side: Side, _ size: Amount, at price: Amount, symbol: String = "BTC", fee: Amount = 0,
    liquidity: Liquidity = .maker, quote: Bool = true, time: EpochNanos = 0
) -> Fill {
    Fill(
        fillId: id, clientOrderId: "cl-\(id)", symbol: symbol, side: side, price: price, size: size, fee: fee,
        liquidity: liquidity, purpose: quote ? .entry : .exit, strategy: "mm", time: time, quoteTier: quote ? 0 : nil)
}

private func row(_ stats: MarketMakingStats, _ symbol: String, now: EpochNanos = 0) throws -> SymbolSummary {
    try #require(stats.summary(now: now).first { $0.symbol == symbol })
}

@Suite("MarketMakingStats: what a market maker watches")
struct MarketMakingStatsTests {
    // MARK: Uptime

    @Test("uptime: two-sided and any-side shares over one-sided and empty periods")
    func uptimeOneSided() throws {
        var stats = MarketMakingStats(startingCapital: 10_000, symbols: ["BTC"])
        stats.apply(report(at: 0, bids: 2, asks: 2))  // 0–10 s both sides
        stats.apply(report(at: 10, bids: 1, asks: 0))  // 10–20 s bids only
        stats.apply(report(at: 20))  // 20–30 s nothing
        stats.apply(report(at: 30, bids: 1, asks: 3))  // 30–40 s both sides
        let summary = try row(stats, "BTC", now: 40 * second)
        #expect(summary.twoSidedUptime == 0.5)
        #expect(summary.anySideUptime == 0.75)
        #expect(summary.restingBids == 1 && summary.restingAsks == 3)
        #expect(summary.firstReportAt == 0 && summary.lastReportAt == 30 * second)
    }

    @Test("uptime: a silence longer than the horizon counts as not quoting")
    func uptimeGap() throws {
        var stats = MarketMakingStats(startingCapital: 10_000, symbols: ["BTC"], reportHorizon: 5 * second)
        stats.apply(report(at: 0, bids: 1, asks: 1))
        stats.apply(report(at: 20, bids: 1, asks: 1))  // 15 s of the 20 are past the horizon
        let summary = try row(stats, "BTC", now: 30 * second)  // and 5 of the last 10
        #expect(summary.twoSidedUptime == 10.0 / 30.0)
        #expect(summary.anySideUptime == 10.0 / 30.0)
    }

    @Test("uptime: nil before any report and at the first report's instant; an older report moves no timeline")
    func uptimeEdges() throws {
        var stats = MarketMakingStats(startingCapital: 10_000, symbols: ["BTC"])
        #expect(try row(stats, "BTC", now: 5 * second).twoSidedUptime == nil)
        stats.apply(report(at: 10, bids: 1, asks: 1))
        #expect(try row(stats, "BTC", now: 10 * second).twoSidedUptime == nil)
        #expect(try row(stats, "BTC", now: 20 * second).twoSidedUptime == 1)
        stats.apply(report(at: 5, placed: 4))  // late: its actions count, its empty set does not
        let summary = try row(stats, "BTC", now: 20 * second)
        #expect(summary.twoSidedUptime == 1)
        #expect(summary.quotePlacements == 4)
        #expect(summary.restingBids == 1)
        #expect(summary.reports == 2)
    }

    // MARK: Fill rate and maker share

    @Test("fill rate = quote fills / (placed + modified); maker share by count and by notional")
    func fillRateAndMakerShare() throws {
        var stats = MarketMakingStats(startingCapital: 10_000, symbols: ["BTC"])
        stats.apply(report(at: 0, bids: 1, asks: 1, placed: 6, modified: 2, aloRejected: 3, failed: 1, deferred: 2))
        stats.apply(report(at: 1, bids: 1, asks: 1, placed: 0, modified: 2, used: 40, cap: 1200))
        try stats.apply(mmFill("f1", .buy, 1, at: 100))
        try stats.apply(mmFill("f2", .sell, 1, at: 102))
        // A taker exit: a fill, but not a quote fill, of notional 300.
        try stats.apply(mmFill("f3", .buy, 3, at: 100, liquidity: .taker, quote: false))
        let summary = try row(stats, "BTC")
        #expect(summary.quotePlacements == 10)
        #expect(summary.placed == 6 && summary.modified == 4)
        #expect(summary.quoteFills == 2 && summary.fills == 3 && summary.makerFills == 2)
        #expect(summary.fillRate == 0.2)
        #expect(summary.makerShareByCount == 2.0 / 3.0)
        #expect(summary.makerShareByNotional == 202.0 / 502.0)
        #expect(summary.aloRejected == 3 && summary.failed == 1 && summary.deferred == 2)
        #expect(summary.requestsUsed == 40 && summary.requestsCap == 1200)
        #expect(stats.account().requestsUsed == 40)
    }

    @Test("no placements and no fills: rates are nil, not zero or NaN")
    func ratesWithoutData() throws {
        let stats = MarketMakingStats(startingCapital: 10_000, symbols: ["BTC"])
        let summary = try row(stats, "BTC")
        #expect(summary.fillRate == nil)
        #expect(summary.makerShareByCount == nil && summary.makerShareByNotional == nil)
        #expect(summary.spreadCapturedBps == nil)
    }

    // MARK: Spread captured

    @Test("spread captured: a buy below and a sell above the mid are positive; notional-weighted bps")
    func spreadCapturedFavourable() throws {
        var stats = MarketMakingStats(startingCapital: 10_000, symbols: ["BTC"])
        stats.observeMid(symbol: "BTC", mid: 100, time: 1)
        try stats.apply(mmFill("b", .buy, 1, at: "99.9", time: 2))  // 10 bps, 0.1 $
        try stats.apply(mmFill("s", .sell, 2, at: "100.05", time: 3))  // 5 bps, 0.1 $
        let summary = try row(stats, "BTC")
        #expect(summary.spreadCapturedUsd == Amount("0.2"))
        let expected = (10 * 99.9 + 5 * 200.1) / 300.0
        #expect(abs(try #require(summary.spreadCapturedBps) - expected) < 1e-9)
        #expect(summary.spreadMeasuredFills == 2)
    }

    @Test("spread captured: a buy above and a sell below the mid are negative")
    func spreadCapturedAdverse() throws {
        var stats = MarketMakingStats(startingCapital: 10_000, symbols: ["BTC"])
        stats.observeMid(symbol: "BTC", mid: 100, time: 1)
        try stats.apply(mmFill("b", .buy, 1, at: "100.1", time: 2))
        try stats.apply(mmFill("s", .sell, 1, at: "99.9", time: 3))
        let summary = try row(stats, "BTC")
        #expect(summary.spreadCapturedUsd == Amount("-0.2"))
        #expect(abs(try #require(summary.spreadCapturedBps) + 10) < 1e-9)
    }

    @Test("spread captured uses the mid at or before the fill's time, not a later one already observed")
    func spreadUsesMidAtFillTime() throws {
        var stats = MarketMakingStats(startingCapital: 10_000, symbols: ["BTC"])
        stats.observeMid(symbol: "BTC", mid: 100, time: 10)
        stats.observeMid(symbol: "BTC", mid: 200, time: 30)
        try stats.apply(mmFill("b", .buy, 1, at: 99, time: 20))
        #expect(try row(stats, "BTC").spreadCapturedUsd == 1)
        // An older mid after a newer one is refused, so the history stays in time order.
        stats.observeMid(symbol: "BTC", mid: 150, time: 25)
        #expect(stats.account().ignored.mids == 1)
        #expect(try row(stats, "BTC").lastMid == 200)
    }

    @Test("fills before any mid: counted, left out of spread; unrealised and equity unknown until a mid")
    func fillsBeforeAnyMid() throws {
        var stats = MarketMakingStats(startingCapital: 1_000, symbols: ["BTC"])
        try stats.apply(mmFill("b", .buy, 2, at: 100, fee: "0.02", time: 5))
        var summary = try row(stats, "BTC")
        #expect(summary.fillsWithoutMid == 1 && summary.spreadMeasuredFills == 0)
        #expect(summary.spreadCapturedBps == nil && summary.spreadCapturedUsd == 0)
        #expect(summary.unrealizedPnl == nil && summary.netPnl == nil)
        #expect(summary.inventory == 2)
        var account = stats.account()
        #expect(account.unrealizedPnl == nil && account.equity == nil)
        #expect(account.symbolsWithoutMid == ["BTC"])
        #expect(account.realizedEquity == Amount("999.98"))

        stats.observeMid(symbol: "BTC", mid: 101, time: 6)
        summary = try row(stats, "BTC")
        #expect(summary.unrealizedPnl == 2)
        #expect(summary.fillsWithoutMid == 1)  // the mid came later: the fill stays unmeasured
        account = stats.account()
        #expect(account.equity == Amount("1001.98"))
        #expect(account.symbolsWithoutMid.isEmpty)
    }

    // MARK: P&L, equity and the ledger

    @Test("equity = starting capital + realised − fees + funding + unrealised, never anything else")
    func equityIdentity() throws {
        var stats = MarketMakingStats(startingCapital: 5_000, symbols: ["BTC", "ETH"])
        stats.observeMid(symbol: "BTC", mid: 100, time: 0)
        stats.observeMid(symbol: "ETH", mid: 10, time: 0)
        try stats.apply(mmFill("1", .buy, 2, at: 99, fee: "0.05", time: 1))
        try stats.apply(mmFill("2", .sell, 1, at: 101, fee: "-0.01", time: 2))  // a maker rebate
        try stats.apply(mmFill("3", .sell, 5, at: 10, symbol: "ETH", fee: "0.03", time: 3))
        try stats.apply(
            FundingSettlement(fundingId: "fu1", symbol: "BTC", amount: "-0.4", rate: "0.0001", positionSize: 1, time: 4))
        stats.observeMid(symbol: "BTC", mid: 103, time: 5)
        stats.observeMid(symbol: "ETH", mid: 9, time: 5)

        let account = stats.account()
        #expect(account.realizedPnl == 2)  // 1 BTC bought at 99, sold at 101
        #expect(account.fees == Amount("0.07"))
        #expect(account.funding == Amount("-0.4"))
        #expect(account.unrealizedPnl == Amount(9))  // 1 BTC long from 99 at 103; 5 ETH short from 10 at 9
        let equity = try #require(account.equity)
        #expect(equity == account.startingCapital + account.realizedPnl - account.fees + account.funding + 9)
        #expect(equity == Amount("5010.53"))

        let btc = try row(stats, "BTC")
        #expect(btc.realizedPnl == 2 && btc.fees == Amount("0.04") && btc.funding == Amount("-0.4"))
        #expect(btc.unrealizedPnl == 4 && btc.netPnl == Amount("5.56"))
        let rows = stats.summary(now: 0)
        let netSum = try rows.map { try #require($0.netPnl) }.sum()
        #expect(account.startingCapital + netSum == equity)
    }

    @Test("P&L agrees with a FifoLedger fed the same fills and funding", arguments: 0..<40 as Range<UInt64>)
    func agreesWithFifoLedger(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let symbols = ["BTC", "ETH"]
        var stats = MarketMakingStats(startingCapital: 10_000, symbols: symbols)
        var ledger = FifoLedger(startingCapital: 10_000)
        var marks: [String: Amount] = [:]
        var maxAbs: [String: Amount] = [:]
        for step in 0..<60 {
            let symbol = symbols.randomElement(using: &random)!
            let time = EpochNanos(step)
            let mid = random.amount(9_000...11_000, decimals: 2)
            stats.observeMid(symbol: symbol, mid: mid, time: time)
            marks[symbol] = mid
            if random.chance(0.1) {
                let payment = FundingSettlement(
                    fundingId: "fu\(step)", symbol: symbol, amount: random.amount(-500...500, decimals: 3), rate: 0,
                    positionSize: 0, time: time)
                try stats.apply(payment)
                try ledger.applyFunding(symbol: symbol, amount: payment.amount, time: time)
                continue
            }
            let fill = mmFill(
                "f\(step)", random.chance(0.5) ? .buy : .sell, random.amount(1...300, decimals: 2),
                at: random.amount(9_000...11_000, decimals: 2), symbol: symbol,
                fee: random.amount(-20...50, decimals: 3), liquidity: random.chance(0.9) ? .maker : .taker,
                quote: random.chance(0.8), time: time)
            try stats.apply(fill)
            try ledger.apply(fill)
            maxAbs[symbol] = max(maxAbs[symbol] ?? 0, ledger.positionSize(symbol).magnitude)
        }
        let account = stats.account()
        let figures = try ledger.account(marks: marks.filter { ledger.positionSize($0.key) != 0 })
        #expect(account.realizedPnl == figures.realizedPnl)
        #expect(account.fees == figures.fees)
        #expect(account.funding == figures.funding)
        #expect(account.unrealizedPnl == figures.unrealizedPnl)
        #expect(account.equity == figures.equity)
        for summary in stats.summary(now: 0) {
            let totals = ledger.totals(summary.symbol)
            #expect(summary.realizedPnl == totals.realizedPnl)
            #expect(summary.fees == totals.fees)
            #expect(summary.funding == totals.funding)
            #expect(summary.inventory == ledger.positionSize(summary.symbol))
            #expect(summary.maxAbsInventory == maxAbs[summary.symbol] ?? 0)
        }
    }

    @Test("a repeated fill or funding payment is counted once; a refused fill changes nothing")
    func duplicatesAndRefusals() throws {
        var stats = MarketMakingStats(startingCapital: 1_000, symbols: ["BTC"])
        try stats.apply(mmFill("f", .buy, 1, at: 100))
        let again = try stats.apply(mmFill("f", .buy, 1, at: 100))
        #expect(again.isDuplicate)
        let payment = FundingSettlement(fundingId: "x", symbol: "BTC", amount: 1, rate: 0, positionSize: 1, time: 1)
        let first = try stats.apply(payment)
        let second = try stats.apply(payment)
        #expect(first && !second)
        var refused = false
        do { try stats.apply(mmFill("bad", .buy, 0, at: 100)) } catch { refused = true }
        #expect(refused)
        let summary = try row(stats, "BTC")
        #expect(summary.fills == 1 && summary.inventory == 1 && summary.funding == 1)
        #expect(stats.account().ignored.duplicateFills == 1 && stats.account().ignored.duplicateFunding == 1)
    }

    // MARK: Symbols and bad input

    @Test("a symbol not configured gets its own row, marked; a report without a symbol is ignored and counted")
    func unknownSymbols() throws {
        var stats = MarketMakingStats(startingCapital: 1_000, symbols: ["ETH", "BTC", "ETH", ""])
        try stats.apply(mmFill("d", .sell, 10, at: "0.2", symbol: "DOGE"))
        stats.apply(report("AVAX", at: 0, bids: 1, asks: 1))
        stats.apply(report(nil, at: 0, bids: 1))
        stats.apply(report("", at: 0, bids: 1))
        stats.apply(report("BTC", at: 0, placed: -1))
        stats.observeMid(symbol: "BTC", mid: 0, time: 0)
        stats.observeMid(symbol: "SOL", mid: 20, time: 0)  // a mid alone makes no row
        let rows = stats.summary(now: second)
        #expect(rows.map(\.symbol) == ["ETH", "BTC", "AVAX", "DOGE"])
        #expect(rows.map(\.configured) == [true, true, false, false])
        #expect(rows[3].inventory == -10 && rows[3].fills == 1)
        #expect(rows[1].reports == 0)
        #expect(stats.account().ignored.reports == 3)
        #expect(stats.account().ignored.mids == 1)
        #expect(stats.account().realizedEquity == 1_000)
    }

    @Test("the inventory limit comes from the strategy's target")
    func inventoryLimit() throws {
        var stats = MarketMakingStats(startingCapital: 1_000, symbols: ["BTC"])
        #expect(try row(stats, "BTC").inventoryLimit == nil)
        stats.apply(
            QuoteTarget(
                targetId: "t", symbol: "BTC", strategy: "mm", sequence: 1, quotes: [], referencePrice: nil,
                reservationPrice: nil, spreadBps: 0, bidHalfSpreadBps: 0, askHalfSpreadBps: 0, inventory: 0,
                maxInventory: "0.5", refresh: QuoteRefresh(toleranceBps: 1, maxOrderAgeMs: 0, allowModify: true),
                reasons: [], createdAt: 0, expiresAt: 1))
        #expect(try row(stats, "BTC").inventoryLimit == Amount("0.5"))
    }

    @Test("the mid of a book: one-sided, crossed and locked books have none")
    func bookMid() {
        func book(_ bid: Amount?, _ ask: Amount?) -> BookUpdate {
            BookUpdate(
                symbol: "BTC", bids: bid.map { [BookLevel(price: $0, size: 1)] } ?? [],
                asks: ask.map { [BookLevel(price: $0, size: 1)] } ?? [], exchangeTime: 7)
        }
        #expect(MarketMakingStats.mid(of: book(99, 101)) == 100)
        #expect(MarketMakingStats.mid(of: book(99, nil)) == nil)
        #expect(MarketMakingStats.mid(of: book(101, 99)) == nil)
        #expect(MarketMakingStats.mid(of: book(100, 100)) == nil)
        var stats = MarketMakingStats(startingCapital: 1_000, symbols: ["BTC"])
        stats.observe(book(99, 101))
        stats.observe(book(101, 99))
        #expect(stats.summary(now: 0).first?.lastMid == 100)
        #expect(stats.summary(now: 0).first?.lastMidAt == 7)
        #expect(stats.account().ignored.mids == 1)
    }

    // MARK: Output

    @Test("the snapshot round-trips through JSON and the table names its units")
    func output() throws {
        var stats = MarketMakingStats(startingCapital: 1_000, symbols: ["BTC"])
        stats.apply(report(at: 0, bids: 2, asks: 1, placed: 3))
        stats.observeMid(symbol: "BTC", mid: 100, time: 0)
        try stats.apply(mmFill("f", .buy, 1, at: 99, time: 1))
        try stats.apply(mmFill("g", .buy, 1, at: 99, symbol: "ETH", time: 1))
        let snapshot = stats.snapshot(now: 10 * second)
        let data = try JSONEncoder().encode(snapshot)
        #expect(try JSONDecoder().decode(MarketMakingSummary.self, from: data) == snapshot)
        let table = snapshot.table()
        for header in ["SYMBOL", "UP 2-SIDE %", "FILL RATE %", "SPREAD bps", "SPREAD $", "REAL $", "UNREAL $"] {
            #expect(table.contains(header))
        }
        #expect(table.contains("2/1"))
        #expect(table.contains("ETH*"))
        #expect(table.contains("no mid for ETH"))
    }
}
