import Foundation
import Market
import Schema

/// Keeps the indicators behind `SetupFeatures.Inputs` up to date bar by bar, so the signal
/// generator has a feature vector for every signal once enough bars have passed.
public struct SetupFeatureTracker: Sendable {
    private var rsi = RelativeStrengthIndex(period: 14)
    private var sma = SimpleMovingAverage(period: 20)
    private var atr = AverageTrueRange(period: 14)
    private var volatility = RealisedVolatility(period: 20)
    private var volumes = SimpleMovingAverage(period: 60)
    private var volumeSquares = SimpleMovingAverage(period: 60)
    private var closes: [Double] = []
    private var previousRSI: Double?

    public init() {}

    /// Bars needed before the first vector: the 60-bar return and volume window.
    public static let warmUpBars = 61

    /// Updates with a closed bar; the inputs once every indicator is warm.
    public mutating func update(_ bar: Bar) -> SetupFeatures.Inputs? {
        let close = bar.close.doubleValue
        let high = bar.high.doubleValue
        let low = bar.low.doubleValue
        let volume = bar.volume.doubleValue
        let rsiValue = rsi.update(close)
        let smaValue = sma.update(close)
        let atrValue = atr.update(high: high, low: low, close: close)
        let sigma = volatility.update(close)
        let meanVolume = volumes.update(volume)
        let meanSquare = volumeSquares.update(volume * volume)
        closes.append(close)
        if closes.count > Self.warmUpBars { closes.removeFirst(closes.count - Self.warmUpBars) }
        defer { previousRSI = rsiValue }
        guard let rsiValue, let smaValue, let atrValue, let sigma, let meanVolume, let meanSquare,
            closes.count == Self.warmUpBars
        else { return nil }
        func logReturn(_ bars: Int) -> Double { log(close / closes[closes.count - 1 - bars]) }
        let variance = max(meanSquare - meanVolume * meanVolume, 0)
        let zScore = variance > 0 ? (volume - meanVolume) / variance.squareRoot() : 0
        return SetupFeatures.Inputs(
            rsi: rsiValue, rsiSlope: previousRSI.map { rsiValue - $0 } ?? 0, return5: logReturn(5),
            return15: logReturn(15), return60: logReturn(60), volatility: sigma, close: close, sma: smaValue,
            atr: atrValue, high: high, low: low, volumeZScore: zScore, barTime: bar.openTime)
    }
}
