import Foundation
import Schema

/// The feature vector of a trading set-up: what recall compares, in Chroma and in the local fallback.
///
/// No embedding model: the vector is built from numbers the signal generator already has, each mapped
/// into [-1, 1] so that every feature weighs about the same in a distance. Every feature is 0 for a
/// "neutral" value, and a non-finite input (a NaN from an indicator still warming up) also gives 0, so a
/// vector never carries a NaN or an infinity (which JSON cannot carry either).
///
/// | index | feature | from | mapping |
/// |---|---|---|---|
/// | 0 | RSI level | `rsi` (0…100) | `(rsi − 50) / 50`, clamped to [-1, 1] |
/// | 1 | RSI slope | `rsiSlope` (RSI points per bar) | `tanh(slope / 5)`: 5 points a bar is a steep move |
/// | 2 | return over 5 bars | `return5` (log return) | `tanh(z / 2)` with `z = r / (σ·√5)` |
/// | 3 | return over 15 bars | `return15` | same, `√15` |
/// | 4 | return over 60 bars | `return60` | same, `√60` |
/// | 5 | realised volatility | `volatility` σ (per bar) | `tanh(ln(σ / referenceVolatility))`; 0 at the reference |
/// | 6 | distance of close from its SMA | `close`, `sma`, `atr` | `tanh((close − sma) / atr / 3)` |
/// | 7 | bar range | `high − low`, `atr` | `tanh(ln(range / atr))`; 0 for a bar of one ATR, −1 for a flat bar |
/// | 8 | volume | `volumeZScore` | `tanh(z / 3)` |
/// | 9, 10 | hour of day (UTC) | `barTime` | `sin`, `cos` of `2π · hour / 24` (fractional hours) |
///
/// Returns are measured in units of the move the current volatility makes expected over the same number
/// of bars (`σ·√n`), so a 1 % move means more on a quiet market than on a wild one and set-ups compare
/// across symbols. With no usable volatility (σ ≤ 0 or not finite) the three return features are 0.
///
/// Bump `version` whenever the definition changes: records of different versions must not be compared
/// (the default Chroma collection name carries the version).
public enum SetupFeatures {
    /// The definition's version; stored with each record and in the collection's name.
    public static let version = 1
    /// Length of every vector.
    public static let dimension = 11

    /// Feature names in vector order, for logs and documentation.
    public static let names = [
        "rsi", "rsi_slope", "return_5", "return_15", "return_60", "volatility", "close_vs_sma_atr",
        "range_vs_atr", "volume_z", "hour_sin", "hour_cos",
    ]

    /// The raw numbers a signal generator has at the close of a bar.
    public struct Inputs: Sendable, Equatable {
        /// RSI, 0…100.
        public var rsi: Double
        /// Change of RSI per bar (e.g. `(rsi − rsi 3 bars ago) / 3`), in RSI points.
        public var rsiSlope: Double
        /// Log returns of the close over the last 5, 15 and 60 bars (fractions: 0.01 is about 1 %).
        public var return5: Double
        public var return15: Double
        public var return60: Double
        /// Realised volatility per bar: standard deviation of one-bar log returns, not annualised.
        public var volatility: Double
        public var close: Double
        /// The simple moving average the strategy uses (e.g. 20 bars).
        public var sma: Double
        /// Average true range, in price units.
        public var atr: Double
        /// The bar's high and low.
        public var high: Double
        public var low: Double
        /// The bar's volume as a z-score against recent bars.
        public var volumeZScore: Double
        /// Open time of the bar, ns since the epoch.
        public var barTime: EpochNanos

        public init(
            rsi: Double, rsiSlope: Double, return5: Double, return15: Double, return60: Double, volatility: Double,
            close: Double, sma: Double, atr: Double, high: Double, low: Double, volumeZScore: Double,
            barTime: EpochNanos
        ) {
            self.rsi = rsi
            self.rsiSlope = rsiSlope
            self.return5 = return5
            self.return15 = return15
            self.return60 = return60
            self.volatility = volatility
            self.close = close
            self.sma = sma
            self.atr = atr
            self.high = high
            self.low = low
            self.volumeZScore = volumeZScore
            self.barTime = barTime
        }
    }

    /// The one figure that depends on the market and bar interval.
    public struct Scaling: Sendable, Equatable {
        /// A typical per-bar volatility for the bar interval traded; the volatility feature is 0 there.
        /// 0.002 (0.2 % a bar) suits 5-minute crypto perpetuals.
        public var referenceVolatility: Double

        public init(referenceVolatility: Double = 0.002) {
            precondition(referenceVolatility > 0, "referenceVolatility must be positive")
            self.referenceVolatility = referenceVolatility
        }
    }

    /// Builds the vector; pure and total (never traps, never returns a non-finite value).
    public static func vector(_ inputs: Inputs, scaling: Scaling = Scaling()) -> [Double] {
        let sigma = inputs.volatility
        let hasSigma = sigma.isFinite && sigma > 0
        func returnFeature(_ logReturn: Double, bars: Double) -> Double {
            guard hasSigma, logReturn.isFinite else { return 0 }
            return tanh(logReturn / (sigma * bars.squareRoot()) / 2)
        }
        let atr = inputs.atr
        let hasATR = atr.isFinite && atr > 0
        let range = inputs.high - inputs.low

        let nanosPerDay: Int64 = 86_400_000_000_000
        let intoDay = ((inputs.barTime % nanosPerDay) + nanosPerDay) % nanosPerDay
        let hourAngle = 2 * Double.pi * Double(intoDay) / Double(nanosPerDay)

        let features: [Double] = [
            clamp((inputs.rsi - 50) / 50),
            finite(inputs.rsiSlope) { tanh($0 / 5) },
            returnFeature(inputs.return5, bars: 5),
            returnFeature(inputs.return15, bars: 15),
            returnFeature(inputs.return60, bars: 60),
            hasSigma ? tanh(log(sigma / scaling.referenceVolatility)) : 0,
            hasATR ? finite(inputs.close - inputs.sma) { tanh($0 / atr / 3) } : 0,
            hasATR && range.isFinite ? (range > 0 ? tanh(log(range / atr)) : -1) : 0,
            finite(inputs.volumeZScore) { tanh($0 / 3) },
            sin(hourAngle),
            cos(hourAngle),
        ]
        return features.map { $0.isFinite ? $0 : 0 }
    }

    /// Whether `vector` can be stored or queried: the right length and only finite numbers.
    public static func isValid(_ vector: [Double], dimension: Int = SetupFeatures.dimension) -> Bool {
        vector.count == dimension && vector.allSatisfy(\.isFinite)
    }

    private static func finite(_ value: Double, _ transform: (Double) -> Double) -> Double {
        value.isFinite ? transform(value) : 0
    }

    private static func clamp(_ value: Double) -> Double {
        guard value.isFinite else { return 0 }
        return min(1, max(-1, value))
    }
}
