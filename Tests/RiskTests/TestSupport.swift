import Risk
import Schema

/// A tiny seeded PRNG (SplitMix64): property runs are reproducible from their seed.

/// A fixed start time: 2025-01-01T00:00:00Z.
let t0: EpochNanos = 1_735_689_600 * Nanos.second

func seconds(_ s: Int64) -> EpochNanos { s * Nanos.second }

/// Symbols priced around 100 with two size decimals: 1 unit ≈ 100 of notional.
func testInstruments(_ symbols: [String] = (0..<12).map { "S\($0)" }, minOrderValue: Amount = 10) -> [String: Instrument] {
    var instruments: [String: Instrument] = [:]
    for symbol in symbols { instruments[symbol] = Instrument(symbol: symbol, szDecimals: 2, minOrderValue: minOrderValue) }
    instruments["BTC"] = Instrument(symbol: "BTC", szDecimals: 5, minOrderValue: 10)
    return instruments
}

/// Limits roomy enough that each test only meets the one it is about.
func roomyLimits(
    maxOpenPositions: Int = 8, maxOrderNotional: Amount = 1_000_000, maxSymbolNotional: Amount = 1_000_000,
    maxGrossExposure: Amount = 1_000_000, maxDirectionShare: Double = 1, dailyLossLimit: Amount = 1_000_000,
    drawdownLock: Double = 0.08, reduceAtDrawdown: Double = 0.05, maxOrdersPerMinute: Int = 1_000
) -> RiskLimits {
    RiskLimits(
        maxOpenPositions: maxOpenPositions, maxOrderNotional: maxOrderNotional, maxSymbolNotional: maxSymbolNotional,
        maxGrossExposure: maxGrossExposure, maxDirectionShare: maxDirectionShare, dailyLossLimit: dailyLossLimit,
        drawdownLock: drawdownLock, reduceAtDrawdown: reduceAtDrawdown, maxOrdersPerMinute: maxOrdersPerMinute)
}

func snapshot(
    at time: EpochNanos, capital: Amount = 10_000, realized: Amount = 0, fees: Amount = 0, funding: Amount = 0,
    positions: [Position] = [], openOrders: [OpenOrder] = [], lastFillId: String? = nil
) -> AccountSnapshot {
    let unrealized = positions.map(\.unrealizedPnl).sum()
    return AccountSnapshot(
        asOf: time, startingCapital: capital, realizedPnl: realized, fees: fees, funding: funding,
        unrealizedPnl: unrealized, equity: capital + realized - fees + funding + unrealized, positions: positions,
        openOrders: openOrders, lastFillId: lastFillId)
}

/// A book that has seen a fresh, flat snapshot (ACTIVE) and a mark of 100 for every test symbol.
func activeBook(
    _ limits: RiskLimits = roomyLimits(), capital: Amount = 10_000, positions: [Position] = [],
    instruments: [String: Instrument] = testInstruments(), now: EpochNanos = t0
) -> RiskBook {
    var book = RiskBook(limits: limits, instruments: instruments, startingCapital: capital, now: now)
    for symbol in instruments.keys where symbol != "BTC" { _ = book.updateMark(symbol: symbol, price: 100, now: now) }
    _ = book.apply(snapshot(at: now, capital: capital, positions: positions), now: now)
    return book
}

func intent(
    _ id: String, _ symbol: String = "S0", _ side: Side = .buy, size: Amount = 1, price: Amount = 100,
    type: OrderType = .limit, purpose: OrderPurpose = .entry, reduceOnly: Bool = false, at now: EpochNanos = t0,
    ttl: Int64 = seconds(5)
) -> OrderIntent {
    OrderIntent(
        intentId: id, symbol: symbol, side: side, size: size, orderType: type, price: price, purpose: purpose,
        reduceOnly: reduceOnly, strategy: "test", origin: "test", createdAt: now, expiresAt: now + ttl)
}

func exitIntent(_ id: String, _ symbol: String, _ side: Side, size: Amount, price: Amount = 100, at now: EpochNanos = t0)
    -> OrderIntent
{
    intent(id, symbol, side, size: size, price: price, purpose: .exit, reduceOnly: true, at: now)
}

func fill(_ order: OrderCommand, size: Amount? = nil, price: Amount? = nil, id: String, at time: EpochNanos = t0, fee: Amount = 0)
    -> Fill
{
    Fill(
        fillId: id, clientOrderId: order.clientOrderId, symbol: order.symbol ?? "", side: order.side,
        price: price ?? order.price, size: size ?? order.size, fee: fee, liquidity: .taker, purpose: order.purpose,
        strategy: order.strategy, time: time)
}

func position(_ symbol: String, _ size: Amount, entry: Amount = 100, unrealized: Amount = 0) -> Position {
    Position(symbol: symbol, size: size, entryPrice: entry, unrealizedPnl: unrealized)
}

extension RiskVerdict {
    var outcome: RiskDecision.Outcome { decision.outcome }
    var codes: [ReasonCode] { decision.reasons.map(\.code) }
}
