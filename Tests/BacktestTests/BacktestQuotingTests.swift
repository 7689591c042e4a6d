import Backtest
import Execution
import Ledger
import Market
import Risk
import Schema
import Strategy
import Testing
import Venue

@Suite("Backtest: the market maker quoting against the venue")
struct BacktestQuotingTests {
    static let startMs: UInt64 = 1_640_995_200_000

    /// SOL quoted on the seeded synthetic market, a candle a second (four books a candle, so the
    /// book is never stale), BTC traded by the directional strategies alongside.
    static func run(
        candles: Int = 400, limits: RiskLimits = RiskLimits(maxQuoteInventory: 400), keeper: QuoteKeeper.Settings = QuoteKeeper.Settings(),
        settings: MarketMakingSettings = MarketMakingSettings(baseNotional: 50, maxInventoryNotional: 300, filledOrderDelayMs: 2_000)
    ) throws -> Backtest {
        let markets = try ["BTC", "SOL"].enumerated().map { index, symbol in
            let listing = PaperListing.listing(symbol)
            var market = listing.market(marketSeed: 11, ownSeed: 12 &+ UInt64(index), startPrice: nil)
            let series = (0..<candles).map { _ in market.nextCandle() }
            return BacktestMarket(
                symbol: symbol, spec: listing.spec,
                script: try MarketScripts.candles(series, coin: symbol, spec: listing.spec, candleMs: 1_000))
        }
        let start = Int64(startMs) * 1_000_000
        let setup = BacktestSetup(
            markets: markets, startMs: startMs, startingCapital: 10_000, routing: OrderRouting(marketSlippage: "0.005"),
            barSeconds: 5, quoting: BacktestQuoting(symbols: ["SOL"], settings: settings, keeper: keeper))
        var backtest = try Backtest(
            setup: setup,
            makeGate: { instruments in
                var book = RiskBook(limits: limits, instruments: instruments, startingCapital: 10_000, now: start)
                book.margin = MarginRules()
                return RiskGateCore(book: book, exits: nil, protection: nil)
            },
            makeStrategies: { instruments in
                StrategyPortfolio(
                    desks: [
                        StrategyDesk(presets: [.rsiStandard], settings: .init(instrument: instruments["BTC"]!, tradeNotional: 200))
                    ], settleNanos: 10 * Nanos.second)
            })
        backtest.run()
        return backtest
    }

    @Test("quotes rest post-only, are filled by the market, and every figure comes from the ledger's fills")
    func quotesFill() throws {
        let backtest = try Self.run()
        let record = backtest.record
        #expect(record.faults.isEmpty, "\(record.faults.prefix(3))")
        #expect(record.unknownFills == 0)
        let quoteFills = record.fills.filter(\.isQuote)
        #expect(quoteFills.count > 20)
        #expect(quoteFills.allSatisfy { $0.symbol == "SOL" && $0.liquidity == .maker })
        let solFills = record.fills.filter { $0.symbol == "SOL" }
        #expect(solFills.allSatisfy { $0.isQuote }, "only the maker trades SOL")
        #expect(record.quoteReports > 50)
        let summary = try #require(record.marketMaking)
        let sol = try #require(summary.symbols.first { $0.symbol == "SOL" })
        #expect(sol.quoteFills == quoteFills.count)
        #expect(sol.placed > 0)
        // Each fill holds its side back for 2 s: both sides rest less often than one does.
        #expect((sol.anySideUptime ?? 0) > 0.8)
        #expect((sol.twoSidedUptime ?? 0) > 0.1)
        // The stats' ledger and the backtest's book the same fills by the same FIFO rules.
        let position = backtest.ledger.positionSize("SOL")
        #expect(sol.inventory == position)
        // The report carries the market maker's figures, in its text and its JSON.
        let report = try BacktestReport(backtest)
        #expect(report.text(notes: []).contains("Market making (quoted: SOL;"))
        #expect(try report.json().contains("\"marketMaking\""))
        #expect(report.trades.filter { $0.symbol == "SOL" }.allSatisfy { $0.exitReason == "quote" })
    }

    @Test("the risk gate's quote inventory limit holds: the position never passes it by more than one quote")
    func inventoryBound() throws {
        var limits = RiskLimits(maxQuoteInventory: 100)
        limits.maxOrderNotional = 60
        let backtest = try Self.run(candles: 300, limits: limits)
        var ledger = FifoLedger(startingCapital: 10_000)
        var largest: Amount = 0
        for fill in backtest.record.fills where fill.symbol == "SOL" {
            _ = try ledger.apply(fill)
            let size = ledger.positionSize("SOL")
            largest = max(largest, (size * fill.price).magnitude)
        }
        #expect(largest > 0)
        #expect(largest <= 100 + 60, "largest SOL notional \(largest)")
    }

    @Test("every quote request goes through the venue's address budget; a tight pace defers work and reports it")
    func budgetPaces() throws {
        var keeper = QuoteKeeper.Settings()
        keeper.budget.sustainedPerSecond = 0.2
        keeper.budget.burst = 2
        let paced = try Self.run(candles: 200, keeper: keeper)
        let free = try Self.run(candles: 200)
        let pacedSol = try #require(paced.record.marketMaking?.symbols.first { $0.symbol == "SOL" })
        let freeSol = try #require(free.record.marketMaking?.symbols.first { $0.symbol == "SOL" })
        #expect(pacedSol.deferred > 0)
        #expect(pacedSol.quotePlacements < freeSol.quotePlacements)
        #expect(freeSol.requestsUsed.map { $0 > 0 } == true, "the venue's own count, read by userRateLimit")
    }

    @Test("the same market and settings quote and fill the same")
    func deterministic() throws {
        let first = try Self.run(candles: 150).record
        let second = try Self.run(candles: 150).record
        #expect(first.fills == second.fills)
        #expect(first.marketMaking == second.marketMaking)
    }

    @Test("a quoted symbol without a market is refused at setup, not silently left out")
    func quotedWithoutMarket() throws {
        let listing = PaperListing.listing("BTC")
        var market = listing.market(marketSeed: 1, ownSeed: 2, startPrice: nil)
        let series = (0..<10).map { _ in market.nextCandle() }
        let setup = BacktestSetup(
            markets: [
                BacktestMarket(
                    symbol: "BTC", spec: listing.spec,
                    script: try MarketScripts.candles(series, coin: "BTC", spec: listing.spec, candleMs: 1_000))
            ], startMs: Self.startMs, startingCapital: 10_000, routing: OrderRouting(marketSlippage: "0.005"), barSeconds: 5,
            quoting: BacktestQuoting(symbols: ["SOL"], settings: MarketMakingSettings(baseNotional: 50, maxInventoryNotional: 300)))
        #expect(throws: Backtest.SetupError.self) {
            _ = try Backtest(
                setup: setup,
                makeGate: { RiskGateCore(book: RiskBook(limits: RiskLimits(), instruments: $0, startingCapital: 10_000, now: 0), exits: nil, protection: nil) },
                makeStrategies: { _ in StrategyPortfolio(desks: [], settleNanos: Nanos.second) })
        }
    }
}
