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

    public init(engine: ExitEngine, instruments: [String: Instrument]) {
        self.engine = engine
        self.instruments = instruments
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
            positions[symbol] = ExitPosition(
                symbol: symbol, size: size, entryPrice: entryPrice, entryTime: time, strategy: strategy)
        }
    }

    /// The exit, if one fires, for the bar's symbol.
    public mutating func onBar(_ bar: Bar, now: EpochNanos) -> ExitOrder? {
        guard let symbol = bar.symbol else { return nil }
        var range = ranges[symbol] ?? AverageTrueRange(period: 14)
        if let value = range.update(high: bar.high.doubleValue, low: bar.low.doubleValue, close: bar.close.doubleValue) {
            atr[symbol] = value
        }
        ranges[symbol] = range
        guard var position = positions[symbol], let instrument = instruments[symbol] else { return nil }
        let market = ExitMarket(mark: bar.close, barClose: bar.close, atr: atr[symbol], signal: signals[symbol], now: now)
        let exit = engine.evaluate(&position, market: market, instrument: instrument)
        positions[symbol] = position
        return exit
    }
}
