import Foundation
import Schema

/// A seeded synthetic market of one-minute bars that moves through the four regimes,
/// so the system runs for someone who has only the repository. Same seed, same bars.
public struct SyntheticMarket: Sendable {
    public enum Phase: String, Sendable, CaseIterable {
        case trendingUp, trendingDown, ranging, highVolatility
    }

    public struct Settings: Sendable, Equatable {
        public var seed: UInt64
        public var startPrice: Double
        public var startTime: EpochNanos
        public var intervalSeconds: Int
        /// Mean bars a regime lasts.
        public var meanRegimeBars: Double
        /// Volatility per bar (fraction of price) in calm regimes.
        public var barVolatility: Double
        public var tick: Amount

        public init(
            seed: UInt64 = 42, startPrice: Double = 50_000, startTime: EpochNanos = 1_704_067_200_000_000_000,
            intervalSeconds: Int = 60, meanRegimeBars: Double = 240, barVolatility: Double = 0.0012,
            tick: Amount = "0.1"
        ) {
            self.seed = seed
            self.startPrice = startPrice
            self.startTime = startTime
            self.intervalSeconds = intervalSeconds
            self.meanRegimeBars = meanRegimeBars
            self.barVolatility = barVolatility
            self.tick = tick
        }
    }

    public let settings: Settings
    public private(set) var phase: Phase = .ranging
    private var random: SplitMix64
    private var price: Double
    private var anchor: Double
    private var index: Int64 = 0

    public init(settings: Settings = Settings()) {
        self.settings = settings
        self.random = SplitMix64(seed: settings.seed)
        self.price = settings.startPrice
        self.anchor = settings.startPrice
    }

    /// The next bar; its price path is 60 sub-steps of the current regime.
    public mutating func nextCandle() -> Candle {
        if random.nextUnit() < 1 / settings.meanRegimeBars {
            phase = Phase.allCases[Int(random.next() % UInt64(Phase.allCases.count))]
            anchor = price
        }
        let steps = 60
        let (drift, volatility): (Double, Double) =
            switch phase {
            case .trendingUp: (0.25, 1.0)
            case .trendingDown: (-0.25, 1.0)
            case .ranging: (0, 0.7)
            case .highVolatility: (0, 3.0)
            }
        let stepVolatility = settings.barVolatility * volatility / Double(steps).squareRoot()
        let open = price
        var high = price, low = price
        for _ in 0..<steps {
            var move = drift * stepVolatility + stepVolatility * random.nextGaussian()
            if phase == .ranging {
                move += 0.02 * (anchor - price) / price  // pull back towards where the range began
            }
            price = max(price * (1 + move), settings.startPrice * 0.01)
            high = max(high, price)
            low = min(low, price)
        }
        let time = settings.startTime + index * Int64(settings.intervalSeconds) * 1_000_000_000
        index += 1
        let volume = (1 + 3 * volatility * random.nextUnit()) * 1_000_000
        return Candle(
            openTime: time, open: quantise(open), high: quantise(high), low: quantise(low), close: quantise(price),
            volume: Amount(volume.rounded()))
    }

    private func quantise(_ value: Double) -> Amount {
        let ticks = (value / settings.tick.doubleValue).rounded()
        return Amount(Decimal(Int64(ticks))) * settings.tick
    }
}
