import Foundation
import Market
import Schema

/// A recorded market as events at offsets from its start; played in a loop.
public struct MarketScript: Sendable {
    public struct Step: Sendable {
        public var offsetMs: UInt64
        public var event: MarketEvent
    }

    public internal(set) var steps: [Step]
    /// Length of one loop; the next loop starts after it.
    public internal(set) var durationMs: UInt64
}

enum MarketScriptError: Error, CustomStringConvertible {
    case empty(String)
    case parse(String)

    var description: String {
        switch self {
        case .empty(let what): "no market events in \(what)"
        case .parse(let detail): "cannot read market data: \(detail)"
        }
    }
}

/// Builds market scripts from the recorded files' text (no file access here) and synthetic books.
public enum MarketScripts {
    /// The Hyperliquid `/ws` capture: lines of `<receive ns> <json>`; l2Book snapshots become the
    /// external book, trades its prints. Pacing follows the receive times.
    public static func hyperliquidCapture(_ text: String, coin: String) throws -> MarketScript {
        let decoder = HyperliquidMessageDecoder()
        var steps: [MarketScript.Step] = []
        var first: Int64?
        for line in text.split(whereSeparator: \.isNewline) {
            guard let (ns, json) = CaptureFile.line(line) else { continue }
            let message: HyperliquidMessage
            do { message = try decoder.decode(Array(json.utf8)) } catch { throw MarketScriptError.parse("\(error)") }
            let start = first ?? ns
            first = start
            let offset = CaptureFile.offsetMilliseconds(from: start, to: ns, unitsPerMillisecond: 1_000_000)
            switch message {
            case .l2Book(let book):
                steps.append(
                    .init(
                        offsetMs: offset,
                        event: .book(
                            coin: coin,
                            bids: book.bids.map { ExternalLevel(px: $0.price, sz: $0.size, n: $0.orderCount) },
                            asks: book.asks.map { ExternalLevel(px: $0.price, sz: $0.size, n: $0.orderCount) })))
            case .trades(let trades):
                steps.append(
                    .init(
                        offsetMs: offset,
                        event: .trades(
                            coin: coin,
                            trades.map { ExternalTrade(px: $0.price, sz: $0.size, aggressorIsBuy: $0.side == .buy) })))
            case .other:
                continue
            }
        }
        guard let last = steps.last else { throw MarketScriptError.empty("the Hyperliquid capture") }
        return MarketScript(steps: steps, durationMs: last.offsetMs + 500)
    }

    /// Binance futures trades CSV (`exchange,symbol,timestamp,local_timestamp,id,side,price,amount`,
    /// microseconds): each trade is a print, with a synthesised book around it.
    public static func binanceTrades(_ text: String, coin: String, spec: AssetSpec) throws -> MarketScript {
        var steps: [MarketScript.Step] = []
        var first: Int64?
        for line in text.split(whereSeparator: \.isNewline) {
            let row: BinanceTradeRow
            do {
                guard let parsed = try BinanceTradeRow.parse(line) else { continue }
                row = parsed
            } catch {
                throw MarketScriptError.parse("\(error)")
            }
            let start = first ?? row.microseconds
            first = start
            let offset = CaptureFile.offsetMilliseconds(from: start, to: row.microseconds, unitsPerMillisecond: 1_000)
            let (bids, asks) = syntheticBook(around: row.price, spec: spec)
            steps.append(.init(offsetMs: offset, event: .book(coin: coin, bids: bids, asks: asks)))
            steps.append(
                .init(
                    offsetMs: offset,
                    event: .trades(coin: coin, [ExternalTrade(px: row.price, sz: row.amount, aggressorIsBuy: row.aggressorIsBuy)])))
        }
        guard let last = steps.last else { throw MarketScriptError.empty("the Binance trades file") }
        return MarketScript(steps: steps, durationMs: last.offsetMs + 500)
    }

    /// The Binance USD-M depth capture (lines of `<receive ns> <json>`: depthUpdate diffs with
    /// U/u/pu, one REST depth snapshot, bookTicker, trade), kept in step with `BinanceDepthSync`.
    /// Binance quotes BTC in 0.1 steps, finer than the listing's tick, so the book is gathered onto
    /// the listing's grid (bids down, asks up to a tick) and published 20 levels a side, at most
    /// every `bookEveryMs` of capture time; a print is put at the grid level it traded through
    /// (a buy's up, a sell's down), so it meets the queue displayed there. A gap in the diffs
    /// empties the book until the capture's next snapshot; prints go on.
    public static func binanceL2(_ text: String, coin: String, spec: AssetSpec, bookEveryMs: UInt64 = 100) throws -> MarketScript {
        let decoder = BinanceMessageDecoder()
        var sync: BinanceDepthSync?
        var steps: [MarketScript.Step] = []
        var first: Int64?
        var lastBookAt: UInt64?
        var bookDirty = false
        var lineNumber = 0
        func publishBook(_ sync: BinanceDepthSync, at offset: UInt64) {
            guard sync.isSynced, let mid = sync.book.mid else { return }
            let tick = Self.tick(at: mid, spec: spec)
            let bids = gather(sync.book.levels(.bid, limit: 400), tick: tick, down: true)
            let asks = gather(sync.book.levels(.ask, limit: 400), tick: tick, down: false)
            guard !bids.isEmpty, !asks.isEmpty else { return }
            steps.append(.init(offsetMs: offset, event: .book(coin: coin, bids: bids, asks: asks)))
            lastBookAt = offset
            bookDirty = false
        }
        for line in text.split(whereSeparator: \.isNewline) {
            lineNumber += 1
            guard let (ns, json) = CaptureFile.line(line) else {
                throw MarketScriptError.parse("Binance capture line \(lineNumber): no `<ns> <json>`")
            }
            let message: BinanceMessage
            do {
                message = try decoder.decode(Array(json.utf8))
            } catch {
                throw MarketScriptError.parse("Binance capture line \(lineNumber): \(error)")
            }
            let start = first ?? ns
            first = start
            let offset = CaptureFile.offsetMilliseconds(from: start, to: ns, unitsPerMillisecond: 1_000_000)
            switch message {
            case .depthUpdate(let diff):
                if sync == nil { sync = BinanceDepthSync(symbol: diff.symbol) }
                switch sync!.receive(diff) {
                case .applied: bookDirty = true
                case .gap:
                    // No book to trade on until the next snapshot: the last one is not the market any more.
                    steps.append(.init(offsetMs: offset, event: .book(coin: coin, bids: [], asks: [])))
                default: break
                }
            case .depthSnapshot(let snapshot):
                if sync == nil { sync = BinanceDepthSync(symbol: "BTCUSDT") }
                if sync!.needsSnapshot, case .applied = sync!.applySnapshot(snapshot) { bookDirty = true }
            case .trade(let trade):
                // The book as it stood when the print came, so the print meets the queue shown.
                if bookDirty, let sync { publishBook(sync, at: offset) }
                let tick = Self.tick(at: trade.price, spec: spec)
                let px = (trade.price / tick).rounded(scale: 0, trade.aggressorSide == .buy ? .up : .down) * tick
                let sz = trade.quantity.rounded(scale: spec.szDecimals, .down)
                guard sz.isPositive else { continue }
                steps.append(
                    .init(offsetMs: offset, event: .trades(coin: coin, [ExternalTrade(px: px, sz: sz, aggressorIsBuy: trade.aggressorSide == .buy)])))
            case .bookTicker, .other:
                continue
            }
            if bookDirty, let sync, lastBookAt.map({ offset >= $0 + bookEveryMs }) ?? true { publishBook(sync, at: offset) }
        }
        guard steps.contains(where: { if case .book = $0.event { true } else { false } }), let last = steps.last else {
            throw MarketScriptError.empty("the Binance depth capture (no synced book)")
        }
        return MarketScript(steps: steps, durationMs: last.offsetMs + 500)
    }

    /// Levels (best first) summed onto a coarser price grid: bids rounded down, asks up; 20 kept.
    static func gather(_ levels: [BookLevel], tick: Amount, down: Bool) -> [ExternalLevel] {
        var out: [ExternalLevel] = []
        for level in levels {
            let px = (level.price / tick).rounded(scale: 0, down ? .down : .up) * tick
            if let lastPx = out.last?.px, lastPx == px {
                out[out.count - 1].sz += level.size
                out[out.count - 1].n += 1
            } else {
                if out.count == 20 { break }
                out.append(ExternalLevel(px: px, sz: level.size, n: 1))
            }
        }
        return out
    }

    /// Candles (FTX file): each plays O → H/L → L/H → C over `candleMs`, at its place in time (the
    /// first two candles' spacing is one interval, so a gap in the file stays a gap).
    public static func candles(_ candles: [Candle], coin: String, spec: AssetSpec, candleMs: UInt64) throws -> MarketScript {
        var steps: [MarketScript.Step] = []
        let interval = candles.count > 1 ? max(1, candles[1].openTime - candles[0].openTime) : 1
        var end: UInt64 = 0
        for candle in candles {
            let start = UInt64(max(0, (candle.openTime - candles[0].openTime) / interval)) * candleMs
            for (j, event) in candleEvents(candle, coin: coin, spec: spec).enumerated() {
                steps.append(.init(offsetMs: start + UInt64(j / 2) * candleMs / 4, event: event))
            }
            end = start + candleMs
        }
        guard !steps.isEmpty else { throw MarketScriptError.empty("the candle file") }
        return MarketScript(steps: steps, durationMs: end)
    }

    /// Book and print at each of the candle's four path points (8 events).
    ///
    /// Each print is a taker meeting the touch on its side at the path point (a buy at the ask, a
    /// sell at the bid),
    /// sized from the candle's volume but no bigger than 0.4 to 1.4 times the touch's displayed
    /// size (the share drawn per print from the candle itself, so a seed replays the same): a
    /// maker quoting at the touch behind that queue fills only on some prints, one through it on
    /// every one, and quotes further out only when the path moves through them.
    static func candleEvents(_ candle: Candle, coin: String, spec: AssetSpec) -> [MarketEvent] {
        let bullish = candle.close >= candle.open
        let path = bullish ? [candle.open, candle.low, candle.high, candle.close] : [candle.open, candle.high, candle.low, candle.close]
        var events: [MarketEvent] = []
        let lot = lotSize(spec)
        var random = SplitMix64(seed: UInt64(truncatingIfNeeded: Int64((candle.close * 1_000_000 + candle.volume).doubleValue)))
        for (i, raw) in path.enumerated() {
            let px = AssetRules.roundPrice(raw, spec: spec, down: true)
            let aggressorIsBuy = i % 2 == 0 ? bullish : !bullish
            // The path point is the traded price: the ask is there for a buyer, the bid for a seller.
            let (bids, asks) = syntheticBook(around: aggressorIsBuy ? px : px + tick(at: px, spec: spec), spec: spec)
            events.append(.book(coin: coin, bids: bids, asks: asks))
            guard let touch = aggressorIsBuy ? asks.first : bids.first else { continue }
            let share = Amount(0.4 + random.nextUnit()).rounded(scale: 2, .down)
            var size = Amount.min(
                candle.volume.quotient(dividingBy: px * 4, roundedDownTo: spec.szDecimals),
                (touch.sz * share).rounded(scale: spec.szDecimals, .down))
            if size < lot { size = lot }
            events.append(.trades(coin: coin, [ExternalTrade(px: touch.px, sz: size, aggressorIsBuy: aggressorIsBuy)]))
        }
        return events
    }

    static func lotSize(_ spec: AssetSpec) -> Amount {
        var lot: Amount = 1
        for _ in 0..<spec.szDecimals { lot = lot / 10 }
        return lot
    }

    /// The price step where `price` lives: 5 significant figures, at most 6 − szDecimals decimals.
    static func tick(at price: Amount, spec: AssetSpec) -> Amount {
        var tick: Amount = 1
        if price >= 1 {
            // Digits of the whole part, by powers of ten (a decimal's text is slow to make).
            var digits = 1
            var power: Amount = 10
            while price >= power, digits < 38 {
                digits += 1
                power = power.scaled(byPowerOfTen: 1)
            }
            tick = tick.scaled(byPowerOfTen: digits - AssetRules.maxSignificantFigures)
        } else {
            tick = Amount("0.00001")
        }
        var minimum: Amount = 1
        for _ in 0..<(AssetRules.perpMaxDecimals - spec.szDecimals) { minimum = minimum / 10 }
        return Amount.max(tick, minimum)
    }

    /// 20 levels a side, one tick apart, about $50,000 per level growing outwards.
    static func syntheticBook(around price: Amount, spec: AssetSpec) -> ([ExternalLevel], [ExternalLevel]) {
        let tick = tick(at: price, spec: spec)
        let bid0 = ((price - tick / 2) / tick).rounded(scale: 0, .down) * tick
        let ask0 = bid0 + tick
        var bids: [ExternalLevel] = []
        var asks: [ExternalLevel] = []
        let lot = lotSize(spec)
        var ask = ask0
        var askTick = Self.tick(at: ask, spec: spec)
        // Where the ask's tick next coarsens: the next power of ten above it.
        var coarsensAt: Amount = 1
        while coarsensAt <= ask { coarsensAt = coarsensAt.scaled(byPowerOfTen: 1) }
        var bid = bid0
        for i in 0..<20 {
            let notional = Amount(50_000 + 12_500 * i)
            var size = notional.quotient(dividingBy: price, roundedDownTo: spec.szDecimals)
            if size < lot { size = lot }
            if bid.isPositive { bids.append(ExternalLevel(px: bid, sz: size, n: 1 + i % 4)) }
            asks.append(ExternalLevel(px: ask, sz: size, n: 1 + (i + 1) % 4))
            bid -= tick
            // The step is the tick where the ask is: past a power of ten (9.9999 → 10) it coarsens.
            ask += askTick
            if ask >= coarsensAt {
                askTick = Self.tick(at: ask, spec: spec)
                coarsensAt = coarsensAt.scaled(byPowerOfTen: 1)
            }
        }
        return (bids, asks)
    }
}

/// Plays one coin's market: a recorded script in a loop, or an endless seeded synthetic walk.
public struct MarketPlayer: Sendable {
    public enum Source: Sendable {
        case script(MarketScript)
        case synthetic(SyntheticMarket, candleMs: UInt64)
    }

    let coin: String
    let spec: AssetSpec
    var source: Source
    let startMs: UInt64
    /// Replay speed (2 = twice as fast) for scripts.
    let speed: Double
    private var loop: UInt64 = 0
    private var index = 0
    /// Synthetic: events of the current candle not yet due, and when its candle started.
    private var pending: [(UInt64, MarketEvent)] = []
    private var nextCandleAt: UInt64

    public init(coin: String, spec: AssetSpec, source: Source, startMs: UInt64, speed: Double = 1) {
        self.coin = coin
        self.spec = spec
        self.source = source
        self.startMs = startMs
        self.speed = speed
        self.nextCandleAt = startMs
    }

    /// Events due at or before `now`, in order, each with the time it was due (at most `limit`, so a long
    /// pause does not flood).
    public mutating func events(upTo now: UInt64, limit: Int = 2_000) -> [(at: UInt64, event: MarketEvent)] {
        var out: [(at: UInt64, event: MarketEvent)] = []
        switch source {
        case .script(let script):
            guard !script.steps.isEmpty, script.durationMs > 0 else { return [] }
            let elapsed = UInt64(Double(now &- startMs) * speed)
            while out.count < limit {
                let step = script.steps[index]
                let due = loop * script.durationMs + step.offsetMs
                guard due <= elapsed else { break }
                out.append((startMs + UInt64(Double(due) / speed), step.event))
                index += 1
                if index == script.steps.count {
                    index = 0
                    loop += 1
                }
            }
        case .synthetic(var market, let candleMs):
            while out.count < limit {
                if pending.isEmpty {
                    guard nextCandleAt <= now else { break }
                    let candle = market.nextCandle()
                    let events = MarketScripts.candleEvents(candle, coin: coin, spec: spec)
                    pending = events.enumerated().map { (nextCandleAt + UInt64($0.offset / 2) * candleMs / 4, $0.element) }
                    nextCandleAt += candleMs
                }
                guard let first = pending.first, first.0 <= now else { break }
                out.append(first)
                pending.removeFirst()
            }
            source = .synthetic(market, candleMs: candleMs)
        }
        return out
    }
}

/// The venue's clock for what it stamps (market events, requests, its own rules): never behind a time
/// already stamped.
public struct VenueClock: Sendable {
    public private(set) var lastStamp: UInt64 = 0

    public init() {}

    /// `time`, or the last stamp if that is later.
    public mutating func stamp(_ time: UInt64) -> UInt64 {
        lastStamp = max(lastStamp, time)
        return lastStamp
    }
}

extension VenueCore {
    /// Applies the players' events due by `now`, in time order, each at the time it was due: one played
    /// late (the process was off the CPU) still falls in its own second's trades and candle, as the file
    /// has it. Whether there was any.
    public mutating func play(_ players: inout [MarketPlayer], upTo now: UInt64, clock: inout VenueClock) -> Bool {
        var due: [(at: UInt64, event: MarketEvent)] = []
        for i in players.indices { due += players[i].events(upTo: now) }
        // Stable: a player's own events keep their order at equal times.
        for (at, event) in due.sorted(by: { $0.at < $1.at }) { applyMarket(event, now: clock.stamp(at)) }
        return !due.isEmpty
    }
}

/// How a perpetual is listed and moves on the default paper market: its venue rules (size decimals,
/// leverage) and its synthetic behaviour (start price, loading on the market's common shock,
/// volatility relative to BTC). Prices and decimals follow the real listings' scale.
public struct PaperListing: Sendable, Equatable {
    public var spec: AssetSpec
    var startPrice: Double
    var beta: Double
    var volatility: Double

    static let defaults: [PaperListing] = [
        .init(spec: AssetSpec(name: "BTC", szDecimals: 5, maxLeverage: 40), startPrice: 100_000, beta: 0.9, volatility: 1),
        .init(spec: AssetSpec(name: "ETH", szDecimals: 4, maxLeverage: 25), startPrice: 3_300, beta: 0.85, volatility: 1.2),
        .init(spec: AssetSpec(name: "SOL", szDecimals: 2, maxLeverage: 20), startPrice: 200, beta: 0.75, volatility: 1.6),
        .init(spec: AssetSpec(name: "BNB", szDecimals: 3, maxLeverage: 10), startPrice: 650, beta: 0.7, volatility: 1.1),
        .init(spec: AssetSpec(name: "XRP", szDecimals: 0, maxLeverage: 20), startPrice: 2.2, beta: 0.6, volatility: 1.7),
        .init(spec: AssetSpec(name: "DOGE", szDecimals: 0, maxLeverage: 20), startPrice: 0.32, beta: 0.65, volatility: 2),
        .init(spec: AssetSpec(name: "AVAX", szDecimals: 2, maxLeverage: 10), startPrice: 35, beta: 0.7, volatility: 1.8),
        .init(spec: AssetSpec(name: "LINK", szDecimals: 1, maxLeverage: 10), startPrice: 20, beta: 0.7, volatility: 1.7),
        .init(spec: AssetSpec(name: "SUI", szDecimals: 1, maxLeverage: 10), startPrice: 4.1, beta: 0.6, volatility: 2.1),
        .init(spec: AssetSpec(name: "ARB", szDecimals: 1, maxLeverage: 10), startPrice: 0.8, beta: 0.65, volatility: 2),
    ]

    /// The default listing of a known coin; any other name gets rules and behaviour derived from
    /// its name alone, so a paper market can list as many coins as a config names, the same each run.
    public static func listing(_ coin: String) -> PaperListing {
        if let known = defaults.first(where: { $0.spec.name == coin }) { return known }
        var random = SplitMix64(seed: coin.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 })
        let startPrice = pow(10, -1 + 4 * random.nextUnit())  // 0.1 … 1,000
        // Finer sizes for dearer coins, as on the real venue: one lot is worth cents to dollars.
        let szDecimals = max(0, min(5, Int((log10(startPrice) + 1).rounded(.up))))
        let significant = Double(String(format: "%.4g", startPrice)) ?? startPrice
        return PaperListing(
            spec: AssetSpec(name: coin, szDecimals: szDecimals, maxLeverage: [3, 5, 10, 20][Int(random.next() % 4)]),
            startPrice: significant, beta: 0.4 + 0.4 * random.nextUnit(), volatility: 1 + random.nextUnit())
    }

    /// The coin's synthetic market: the common seed gives every coin the same regimes and common shocks.
    public func market(marketSeed: UInt64, ownSeed: UInt64, startPrice: Double?) -> SyntheticMarket {
        let start = startPrice ?? self.startPrice
        return SyntheticMarket(
            settings: .init(
                seed: ownSeed, startPrice: start, intervalSeconds: 60, barVolatility: 0.0012 * volatility,
                tick: MarketScripts.tick(at: Amount(start), spec: spec), marketSeed: marketSeed, beta: beta))
    }
}
