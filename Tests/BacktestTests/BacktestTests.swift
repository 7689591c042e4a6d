import Backtest
import Execution
import Ledger
import Market
import Risk
import Schema
import Strategy
import Testing
import Venue

@Suite("Backtest: the services' rules in one process against the venue")
struct BacktestTests {
    static let symbols = ["BTC", "SOL"]
    static let startMs: UInt64 = 1_640_995_200_000

    static func markets(candles: Int, seed: UInt64 = 7) throws -> [BacktestMarket] {
        try symbols.enumerated().map { index, symbol in
            let listing = PaperListing.listing(symbol)
            var market = listing.market(marketSeed: seed, ownSeed: seed &+ UInt64(index) &+ 1, startPrice: nil)
            let series = (0..<candles).map { _ in market.nextCandle() }
            return BacktestMarket(
                symbol: symbol, spec: listing.spec,
                script: try MarketScripts.candles(series, coin: symbol, spec: listing.spec, candleMs: 60_000))
        }
    }

    static func run(candles: Int = 600, limits: RiskLimits = RiskLimits(), hardStop: Double = 0.01) throws -> Backtest {
        let setup = BacktestSetup(
            markets: try markets(candles: candles), startMs: startMs, startingCapital: 10_000,
            routing: OrderRouting(marketSlippage: "0.005"), barSeconds: 60)
        var backtest = try Backtest(
            setup: setup,
            makeGate: { instruments in
                var book = RiskBook(
                    limits: limits, instruments: instruments, startingCapital: 10_000, now: Int64(startMs) * 1_000_000)
                book.margin = MarginRules()
                return RiskGateCore(
                    book: book,
                    exits: ExitDesk(engine: ExitEngine(policy: ExitPolicy(hardStop: hardStop)), instruments: instruments),
                    protection: PositionProtection(instruments: instruments))
            },
            makeStrategies: { instruments in
                StrategyPortfolio(
                    desks: symbols.map {
                        StrategyDesk(
                            presets: [.smaFast, .rsiStandard],
                            settings: .init(instrument: instruments[$0]!, tradeNotional: 500))
                    }, settleNanos: 10 * Nanos.second)
            })
        backtest.run()
        return backtest
    }

    @Test("every candle is one bar; every fill is of an order sent and booked once; nothing refused or unknown")
    func bookkeeping() throws {
        let backtest = try Self.run()
        let record = backtest.record
        #expect(record.bars == 2 * 600)
        #expect(record.signals == 2 * record.bars)
        #expect(record.unknownFills == 0 && record.faults.isEmpty)
        #expect(record.rejects.isEmpty, "\(record.rejects.prefix(3))")
        #expect(record.fills.count > 20)
        #expect(Set(record.fills.map(\.fillId)).count == record.fills.count)
        let sent = Set(record.orders.map(\.clientOrderId))
        // A fill is of an order sent, or of an entry's protective child (its id derives from the entry's intent).
        let children = Set(record.orders.filter { $0.purpose == "entry" }.flatMap {
            [Identifier.clientOrderId(forIntent: $0.intentId + ":sl"), Identifier.clientOrderId(forIntent: $0.intentId + ":tp")]
        })
        for fill in record.fills { #expect(sent.contains(fill.clientOrderId) || children.contains(fill.clientOrderId)) }
        // The ledger's account is the report's, by the FIFO rules over the same fills.
        let report = try BacktestReport(backtest)
        #expect(report.performance.realizedEquity == backtest.ledger.account.realizedEquity)
        #expect(report.trades.count == backtest.ledger.closedTrades.count)
        #expect(!report.trades.contains { $0.exitReason == "unknown" })
    }

    @Test("the same markets and rules give the same orders and fills")
    func deterministic() throws {
        let first = try Self.run(candles: 300).record
        let second = try Self.run(candles: 300).record
        #expect(first.orders == second.orders)
        #expect(first.fills == second.fills)
    }

    @Test("the risk gate's limits bind in the backtest as live: never more positions than allowed")
    func limitsBind() throws {
        var limits = RiskLimits()
        limits.maxOpenPositions = 1
        let backtest = try Self.run(candles: 400, limits: limits)
        #expect(backtest.record.rejected["max_open_positions", default: 0] > 0)
        // Replay the fills: at no point two symbols open at once.
        var ledger = FifoLedger(startingCapital: 10_000)
        for fill in backtest.record.fills {
            _ = try ledger.apply(fill)
            #expect(ledger.positions.count <= 1)
        }
    }

    @Test("a tight hard stop closes trades by the exit engine or the stop resting on the exchange")
    func exitsClose() throws {
        let backtest = try Self.run(candles: 600, hardStop: 0.002)
        let trades = try BacktestReport(backtest).trades
        let reasons = Set(trades.map(\.exitReason))
        #expect(reasons.contains("hard_stop") || reasons.contains("protectionStop"), "\(reasons)")
    }
}
