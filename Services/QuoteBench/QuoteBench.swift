import ArgumentParser
import Execution
import BenchKit
import Foundation
import Histogram
import Hyperliquid
import Market
import Risk
import Schema
import Strategy

/// The market maker's in-process path for one book update, timed per stage against decoding the
/// update's envelope (what every subscriber pays per message), in one run: a 12-tier ladder on
/// BTC, ETH and SOL, a synthetic seeded book whose mid walks so that most passes modify.
@main
struct QuoteBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quote-bench",
        abstract: "Time book update → desired quotes → order commands → signed request bodies.")

    @Option(help: "Book updates timed (round robin over BTC, ETH, SOL).")
    var updates = 20_000

    @Option(help: "Book updates run before timing starts.")
    var warmup = 2_000

    @Option(help: "Seed of the synthetic books.")
    var seed: UInt64 = 7

    func validate() throws {
        guard updates > 0 else { throw ValidationError("--updates must be positive") }
        guard warmup >= 0 else { throw ValidationError("--warmup must not be negative") }
    }

    func run() throws {
        var market = SyntheticMarket(seed: seed)
        let books = (0..<(warmup + updates)).map { market.next(index: $0) }
        let envelopes = try books.map { book in
            EnvelopeCodec.encode(
                header: EnvelopeHeader(
                    type: BookUpdate.messageType.rawValue, source: "feed-handler",
                    instance: String(repeating: "a", count: 32), sequence: 1, publishTime: book.exchangeTime,
                    traceId: String(repeating: "b", count: 32), symbol: book.symbol),
                body: try EnvelopeCodec.encodeBody(book))
        }
        var pipeline = try QuotePipeline()

        var decode = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
        var quotes = decode
        var commands = decode
        var wire = decode
        var totals = PipelineTotals()
        for (index, book) in books.enumerated() {
            let topic = book.topic
            let start = monotonicNanos()
            let raw = try RawEnvelope(topic: topic, bytes: envelopes[index])
            let decoded = try raw.decode(BookUpdate.self)
            let decodedAt = monotonicNanos()
            precondition(decoded.symbol == book.symbol)
            let timing = try pipeline.run(book)
            guard index >= warmup else { continue }
            decode.record(UInt64(max(decodedAt - start, 0)))
            quotes.record(UInt64(max(timing.quotes, 0)))
            commands.record(UInt64(max(timing.commands, 0)))
            wire.record(UInt64(max(timing.wire, 0)))
            totals.add(timing)
        }

        let baseline = Percentiles(decode)
        let rows: [(String, Percentiles)] = [
            ("baseline: envelope bytes → BookUpdate", baseline),
            ("(a) book → desired quotes", Percentiles(quotes)),
            ("(b) book → order commands", Percentiles(commands)),
            ("(c) book → modify on the wire (signed)", Percentiles(wire)),
        ]
        print(
            "quote-bench: \(updates) updates (+\(warmup) warm-up), seed \(seed), 12 tiers a side on BTC ETH SOL, "
                + "\(ProcessInfo.processInfo.activeProcessorCount) cores")
        print(pad("stage", 40) + pad("count", 9, left: true) + pad("p50 µs", 11, left: true) + pad("p99 µs", 11, left: true)
            + pad("p50 ×base", 11, left: true))
        for (name, p) in rows {
            print(
                pad(name, 40) + pad("\(decode.totalCount)", 9, left: true) + pad(String(format: "%.1f", p.p50), 11, left: true)
                    + pad(String(format: "%.1f", p.p99), 11, left: true)
                    + pad(String(format: "%.1f", p.p50 / max(baseline.p50, 0.001)), 11, left: true))
        }
        print(
            "per update: \(format(totals.targets, of: updates)) targets, \(format(totals.modifyPasses, of: updates)) passes "
                + "with modifies; requests \(totals.modifies) modify, \(totals.places) place, \(totals.cancels) cancel, "
                + "\(totals.keeps) kept; \(totals.actions) signed actions, \(totals.bodyBytes / max(totals.actions, 1)) bytes each")
        let target = Percentiles(commands).p50
        print(
            String(format: "target: (b) book → order command p50 %.1f µs < 200 µs: %@", target, target < 200 ? "MET" : "NOT MET"))
    }

    func format(_ count: Int, of total: Int) -> String {
        String(format: "%.0f%%", 100 * Double(count) / Double(max(total, 1)))
    }

    func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return left ? fill + text : text + fill
    }
}

// MARK: The market

/// One symbol of the synthetic market: its instrument, where its mid starts and its tick.
struct SymbolSpec {
    var symbol: String
    var szDecimals: Int
    var startMid: Double
    /// Price step of the book's levels, as a power of ten.
    var tickExponent: Int
}

/// Seeded 10-level books whose mid walks (σ 4 bps an update, more than the 1 bps refresh
/// tolerance most of the time) with random level sizes, round robin over the symbols.
struct SyntheticMarket {
    static let specs = [
        SymbolSpec(symbol: "BTC", szDecimals: 5, startMid: 100_000, tickExponent: 0),
        SymbolSpec(symbol: "ETH", szDecimals: 4, startMid: 3_500, tickExponent: -1),
        SymbolSpec(symbol: "SOL", szDecimals: 2, startMid: 150, tickExponent: -2),
    ]
    static let levels = 10
    static let stepBps = 4.0
    /// The book's clock: one update every 50 ms per symbol.
    static let start: EpochNanos = 1_735_689_600 * 1_000_000_000
    static let interval: EpochNanos = 50_000_000

    var random: SplitMix64
    var mids: [Double]

    init(seed: UInt64) {
        random = SplitMix64(seed: seed)
        mids = Self.specs.map(\.startMid)
    }

    func time(index: Int) -> EpochNanos { Self.start + EpochNanos(index) * Self.interval }

    mutating func next(index: Int) -> BookUpdate {
        let which = index % Self.specs.count
        let spec = Self.specs[which]
        mids[which] *= 1 + random.nextGaussian() * Self.stepBps / 10_000
        let tick = pow(10, Double(spec.tickExponent))
        let midTicks = Int64((mids[which] / tick).rounded())
        // One or two ticks either side of the mid, then a level every tick or two.
        var bidTicks = midTicks - 1 - Int64(random.next() % 2)
        var askTicks = midTicks + 1 + Int64(random.next() % 2)
        var bids: [BookLevel] = []
        var asks: [BookLevel] = []
        for _ in 0..<Self.levels {
            bids.append(BookLevel(price: price(bidTicks, spec), size: size(spec)))
            asks.append(BookLevel(price: price(askTicks, spec), size: size(spec)))
            bidTicks -= 1 + Int64(random.next() % 2)
            askTicks += 1 + Int64(random.next() % 2)
        }
        return BookUpdate(symbol: spec.symbol, bids: bids, asks: asks, exchangeTime: time(index: index))
    }

    func price(_ ticks: Int64, _ spec: SymbolSpec) -> Amount {
        Amount(Decimal(sign: .plus, exponent: spec.tickExponent, significand: Decimal(ticks)))
    }

    /// 1 000 to 50 000 of notional, on the size grid.
    mutating func size(_ spec: SymbolSpec) -> Amount {
        let notional = 1_000 + random.nextUnit() * 49_000
        let units = max(1, Int64((notional / spec.startMid * pow(10, Double(spec.szDecimals))).rounded()))
        return Amount(Decimal(sign: .plus, exponent: -spec.szDecimals, significand: Decimal(units)))
    }
}

// MARK: The path

/// Nanoseconds from the start of one update to the end of each stage.
struct StageTiming {
    var quotes: Int64
    var commands: Int64
    var wire: Int64
    var published = false
    var keeps = 0
    var modifies = 0
    var places = 0
    var cancels = 0
    var actions = 0
    var bodyBytes = 0
}

struct PipelineTotals {
    var targets = 0
    var modifyPasses = 0
    var keeps = 0
    var modifies = 0
    var places = 0
    var cancels = 0
    var actions = 0
    var bodyBytes = 0

    mutating func add(_ timing: StageTiming) {
        if timing.published { targets += 1 }
        if timing.modifies > 0 { modifyPasses += 1 }
        keeps += timing.keeps
        modifies += timing.modifies
        places += timing.places
        cancels += timing.cancels
        actions += timing.actions
        bodyBytes += timing.bodyBytes
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
}

/// Strategy, risk gate and executor for the three symbols, in one process: what runs in the
/// signal generator, the risk gate and the executor for one book update, without the bus between.
struct QuotePipeline {
    var makers: [String: MarketMaker] = [:]
    var risk: RiskBook
    var reconciler = QuoteReconciliation(instance: "quote-bench")
    /// What rests per symbol: whatever the previous passes made.
    var resting: [String: [RestingQuote]] = [:]
    let assets: AssetDirectory
    let wallet: Wallet
    let routing = OrderRouting(marketSlippage: "0.005")
    let traded: Set<String>
    var nonce: UInt64 = 1_735_689_600_000

    init() throws {
        let specs = SyntheticMarket.specs
        let now = SyntheticMarket.start
        var instruments: [String: Instrument] = [:]
        for spec in specs {
            let instrument = Instrument(symbol: spec.symbol, szDecimals: spec.szDecimals, minOrderValue: 10)
            instruments[spec.symbol] = instrument
            let settings = MarketMakingSettings(
                tiers: 12, baseNotional: 100, sizeDecay: "0.9", maxInventoryNotional: 5_000, filledOrderDelayMs: 0)
            var maker = try MarketMaker(
                symbol: spec.symbol, instrument: instrument, settings: settings, idPrefix: "bench")
            // Enough closed bars that the spread comes from realised volatility, as in steady state.
            var random = SplitMix64(seed: 99)
            var close = spec.startMid
            for bar in 0...settings.volatilityBars {
                close *= 1 + random.nextGaussian() * 0.0015
                let price = Amount(Decimal(sign: .plus, exponent: spec.tickExponent,
                    significand: Decimal(Int64((close / pow(10, Double(spec.tickExponent))).rounded()))))
                maker.onBar(
                    Bar(
                        symbol: spec.symbol, intervalSeconds: 60,
                        openTime: now - EpochNanos(settings.volatilityBars + 1 - bar) * 60_000_000_000, open: price,
                        high: price, low: price, close: price, volume: 1))
            }
            makers[spec.symbol] = maker
        }
        // Synced: a fresh, flat account snapshot and a mark for every symbol (the risk tests' `activeBook`).
        let limits = RiskLimits(
            maxOrderNotional: 1_000, maxSymbolNotional: 20_000, maxGrossExposure: 100_000, maxQuoteInventory: 5_000)
        risk = RiskBook(limits: limits, instruments: instruments, startingCapital: 100_000, now: now)
        for spec in specs {
            _ = risk.updateMark(symbol: spec.symbol, price: Amount(spec.startMid), now: now)
        }
        _ = risk.apply(
            AccountSnapshot(
                asOf: now, startingCapital: 100_000, realizedPnl: 0, fees: 0, funding: 0, unrealizedPnl: 0,
                equity: 100_000, positions: [], openOrders: [], lastFillId: nil),
            now: now)
        guard risk.state == .active else { throw BenchError(description: "risk book is \(risk.state), not active") }
        assets = AssetDirectory(
            meta: PerpMeta(
                universe: specs.map { PerpAssetInfo(name: $0.symbol, szDecimals: $0.szDecimals, maxLeverage: 20) }))
        wallet = try Wallet(privateKeyHex: String(repeating: "11", count: 32))
        traded = Set(specs.map(\.symbol))
    }

    /// One book update through every stage; `now` is the book's own time.
    mutating func run(_ book: BookUpdate) throws -> StageTiming {
        let symbol = book.symbol ?? ""
        let now = book.exchangeTime
        let start = monotonicNanos()

        // (a) the strategy: the quotes wanted.
        let target = makers[symbol]!.onBook(book, now: now)
        let quotedAt = monotonicNanos()
        guard let target else {
            return StageTiming(quotes: quotedAt - start, commands: quotedAt - start, wire: quotedAt - start)
        }

        // (b) the risk gate clips them, the executor reconciles against what rests.
        let approved = risk.approve(target, now: now)
        let pass = reconciler.pass(symbol: symbol, approved: approved, resting: resting[symbol] ?? [], now: now)
        let commands = pass.orderCommands(approval: approved, now: now)
        let commandedAt = monotonicNanos()

        // (c) the exchange session's plan and the client's signed bodies.
        let plan = ActionPlan.plan(commands.map { ($0, "trace") }, routing: routing, marks: [:], traded: traded)
        guard plan.refused.isEmpty else {
            throw BenchError(description: "refused: \(plan.refused.map { "\($0.command.clientOrderId) \($0.reason)" })")
        }
        var bodyBytes = 0
        for action in plan.actions {
            bodyBytes += try sign(try wireAction(action)).count
        }
        let signedAt = monotonicNanos()

        // Untimed: what now rests, and the gate's mark (in the gate a bar close: a price on the
        // tick, not the microprice).
        apply(pass, symbol: symbol, now: now)
        if let bid = book.bids.first?.price { _ = risk.updateMark(symbol: symbol, price: bid, now: now) }

        return StageTiming(
            quotes: quotedAt - start, commands: commandedAt - start, wire: signedAt - start, published: true,
            keeps: pass.keeps.count, modifies: pass.modifies.count, places: pass.places.count,
            cancels: pass.cancels.count, actions: plan.actions.count, bodyBytes: bodyBytes)
    }

    /// The action as `HyperliquidClient` builds it: orders rounded and written by the asset's rules,
    /// modifies and cancels by cloid.
    func wireAction(_ action: ActionPlan.Action) throws -> Hyperliquid.Action {
        func resolve(_ coin: String) throws -> (Int, Instrument) {
            guard let index = assets.index(of: coin), let instrument = assets.instrument(coin) else {
                throw BenchError(description: "unknown coin \(coin)")
            }
            return (index, instrument)
        }
        switch action {
        case .place(let orders, let grouping):
            let wires = try orders.map { order in
                let (index, instrument) = try resolve(order.request.coin)
                return try order.request.wire(asset: index, instrument: instrument)
            }
            return .order(wires, grouping: grouping)
        case .modify(let orders):
            return .batchModify(
                try orders.map { order in
                    let (index, instrument) = try resolve(order.request.coin)
                    guard let cloid = order.request.cloid else { throw BenchError(description: "modify without cloid") }
                    return ModifyWire(oid: .cloid(cloid), order: try order.request.wire(asset: index, instrument: instrument))
                })
        case .cancel(let cancels):
            return .cancelByCloid(
                try cancels.map { cancel in
                    let (index, _) = try resolve(cancel.command.symbol ?? "")
                    return CancelByCloidWire(asset: index, cloid: try OrderRouting.cloid(cancel.command.clientOrderId))
                })
        }
    }

    /// The signed POST /exchange body, with a fresh nonce.
    mutating func sign(_ action: Hyperliquid.Action) throws -> [UInt8] {
        nonce += 1
        return try wallet.exchangeRequest(action, nonce: nonce, network: .mainnet).jsonBytes()
    }

    /// What rests after the pass went through: kept orders, modified ones at their new price and
    /// size (a modify is a new order on the venue, so its age restarts), and the new ones.
    mutating func apply(_ pass: QuotePass, symbol: String, now: EpochNanos) {
        var next = pass.keeps
        for modify in pass.modifies {
            next.append(
                RestingQuote(
                    clientOrderId: modify.clientOrderId, side: modify.to.side, tier: modify.to.tier,
                    price: modify.to.price, size: modify.to.size, placedAt: now))
        }
        for place in pass.places {
            next.append(
                RestingQuote(
                    clientOrderId: place.clientOrderId, side: place.quote.side, tier: place.quote.tier,
                    price: place.quote.price, size: place.quote.size, placedAt: now))
        }
        resting[symbol] = next
    }
}
