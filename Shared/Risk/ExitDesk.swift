import Market
import Schema

/// The exit engine at work in the risk gate: it follows each open position, the ATR of its
/// symbol and the latest signal, and on every bar asks the engine whether an exit fires.
public struct ExitDesk: Sendable {
    public let engine: ExitEngine
    private let instruments: [String: Instrument]
    private var positions: [String: ExitPosition] = [:]
    private var ranges: [String: AverageTrueRange] = [:]
    private var atr: [String: Double] = [:]
    private var signals: [String: ExitSignal] = [:]
    private var marks: [String: Amount] = [:]
    /// The first take-profit level rests on the exchange as a trigger order: the engine leaves it alone.
    public let takeProfitOnExchange: Bool

    public init(engine: ExitEngine, instruments: [String: Instrument], takeProfitOnExchange: Bool = false) {
        self.engine = engine
        self.instruments = instruments
        self.takeProfitOnExchange = takeProfitOnExchange
    }

    /// The take-profit an entry carries to the exchange, when configured: the first level's price
    /// and size for a position of `size` entered at `entryPrice`.
    public func exchangeTakeProfit(side: Side, size: Amount, entryPrice: Amount) -> (price: Amount, size: Amount)? {
        guard takeProfitOnExchange, let level = engine.policy.takeProfits.first else { return nil }
        let move = Amount(level.profit)
        return (entryPrice * (side == .buy ? 1 + move : 1 - move), size * Amount(level.fraction))
    }

    /// The stop a new position entered at `entryPrice` is protected by on the exchange from its first
    /// fill (the engine's protective stop of a fresh position, with the symbol's ATR).
    public func initialStop(symbol: String, side: Side, size: Amount, entryPrice: Amount, now: EpochNanos) -> Amount? {
        let fresh = ExitPosition(
            symbol: symbol, size: side == .buy ? size : -size, entryPrice: entryPrice, entryTime: now)
        return engine.protectiveStopPrice(fresh, market: ExitMarket(mark: entryPrice, atr: atr[symbol], now: now))
    }

    /// Where each tracked position's exchange stop should rest now: the engine's protective stop at
    /// the latest mark (the trailing stop moves it).
    public func protectiveStops(now: EpochNanos) -> [String: Amount] {
        var levels: [String: Amount] = [:]
        for (symbol, position) in positions {
            let mark = marks[symbol] ?? position.entryPrice
            let market = ExitMarket(mark: mark, atr: atr[symbol], now: now)
            if let level = engine.protectiveStopPrice(position, market: market) { levels[symbol] = level }
        }
        return levels
    }

    public var trackedPositions: Int { positions.count }

    public mutating func onSignal(_ signal: Signal) {
        guard let symbol = signal.symbol, signal.direction != .flat else { return }
        signals[symbol] = ExitSignal(direction: signal.direction, time: signal.barTime)
    }

    /// Follows the book's position after a fill: a new or flipped position starts afresh,
    /// a changed one keeps its high- and low-water marks.
    public mutating func sync(symbol: String, size: Amount, entryPrice: Amount?, time: EpochNanos, strategy: String) {
        guard !size.isZero, let entryPrice else {
            positions[symbol] = nil
            return
        }
        if var position = positions[symbol], position.size.signum == size.signum {
            position.size = size
            position.entryPrice = entryPrice
            positions[symbol] = position
        } else {
            var position = ExitPosition(
                symbol: symbol, size: size, entryPrice: entryPrice, entryTime: time, strategy: strategy)
            if takeProfitOnExchange, let first = engine.policy.takeProfits.first {
                position.takeProfitsFired.insert(first.profit)
            }
            positions[symbol] = position
        }
    }

    /// Follows every position of an account snapshot: a new one is tracked, one no longer held is
    /// dropped, one still held keeps its marks. After a restart this is how exits resume, since
    /// the fills that opened the positions came before it.
    public mutating func sync(positions held: [Position], time: EpochNanos, strategy: String = "snapshot") {
        let symbols = Set(held.filter { !$0.size.isZero }.map(\.symbol))
        for symbol in positions.keys where !symbols.contains(symbol) { positions[symbol] = nil }
        for position in held where !position.size.isZero {
            sync(
                symbol: position.symbol, size: position.size, entryPrice: position.entryPrice, time: time,
                strategy: positions[position.symbol]?.strategy ?? strategy)
        }
    }

    /// Symbols whose positions are followed, sorted.
    public var trackedSymbols: [String] { positions.keys.sorted() }

    /// The exit, if one fires, for the bar's symbol.
    public mutating func onBar(_ bar: Bar, equity: Amount? = nil, now: EpochNanos) -> ExitOrder? {
        guard let symbol = bar.symbol else { return nil }
        marks[symbol] = bar.close
        var range = ranges[symbol] ?? AverageTrueRange(period: 14)
        if let value = range.update(high: bar.high.doubleValue, low: bar.low.doubleValue, close: bar.close.doubleValue) {
            atr[symbol] = value
        }
        ranges[symbol] = range
        guard var position = positions[symbol], let instrument = instruments[symbol] else { return nil }
        let market = ExitMarket(
            mark: bar.close, barClose: bar.close, atr: atr[symbol], signal: signals[symbol], equity: equity, now: now)
        let exit = engine.evaluate(&position, market: market, instrument: instrument)
        positions[symbol] = position
        return exit
    }
}
