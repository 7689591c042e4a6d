import Foundation
import Schema

/// A seeded synthetic market of bars that moves through the four regimes, so the system runs for
/// someone who has only the repository. Same seeds, same bars.
///
/// Several coins move together when they share a `marketSeed`: the regime (trending up, trending
/// down, ranging, high volatility) and a common shock per sub-step come from that seed, so every
/// coin sees the same regime switches and the same market-wide moves; each coin's own `seed` drives
/// its idiosyncratic part. Coin i's shock is `beta_i · common + √(1 − beta_i²) · own`; the shared
/// regimes (their drifts) correlate the coins further, so two coins of one market move together even
/// at beta 0, and more than `beta_i · beta_j` at higher betas. No state is shared: each coin can be
/// generated on its own and still agree with the others.
public struct SyntheticMarket: Sendable {
    public enum Phase: String, Sendable, CaseIterable {
        case trendingUp, trendingDown, ranging, highVolatility
    }

    public struct Settings: Sendable, Equatable {
        /// The coin's own randomness.
        public var seed: UInt64
        public var startPrice: Double
        public var startTime: EpochNanos
        public var intervalSeconds: Int
        /// Mean bars a regime lasts.
        public var meanRegimeBars: Double
        /// Volatility per bar (fraction of price) in calm regimes.
        public var barVolatility: Double
        public var tick: Amount
        /// The market's randomness (regimes and the common shock); nil: the coin moves alone.
        public var marketSeed: UInt64?
        /// Loading on the common shock, 0…1 (only with a `marketSeed`).
        public var beta: Double

        public init(
            seed: UInt64 = 42, startPrice: Double = 50_000, startTime: EpochNanos = 1_704_067_200_000_000_000,
            intervalSeconds: Int = 60, meanRegimeBars: Double = 240, barVolatility: Double = 0.0012,
            tick: Amount = "0.1", marketSeed: UInt64? = nil, beta: Double = 0
        ) {
            self.seed = seed
            self.startPrice = startPrice
            self.startTime = startTime
            self.intervalSeconds = intervalSeconds
            self.meanRegimeBars = meanRegimeBars
            self.barVolatility = barVolatility
            self.tick = tick
            self.marketSeed = marketSeed
            self.beta = min(max(beta, 0), 1)
        }
    }

    public let settings: Settings
    public private(set) var phase: Phase = .ranging
    /// The coin's own draws; also the regime's and the common shock's when the coin moves alone.
    private var random: SplitMix64
    /// Regime draws and common shocks, identical for every coin with the same `marketSeed`.
    private var regimeRandom: SplitMix64?
    private var commonRandom: SplitMix64?
    private var price: Double
    private var anchor: Double
    private var index: Int64 = 0

    public init(settings: Settings = Settings()) {
        self.settings = settings
        self.random = SplitMix64(seed: settings.seed)
        if let marketSeed = settings.marketSeed {
            regimeRandom = SplitMix64(seed: marketSeed)
            commonRandom = SplitMix64(seed: marketSeed ^ 0x9E37_79B9_7F4A_7C15)
        }
        self.price = settings.startPrice
        self.anchor = settings.startPrice
    }

    /// The next bar; its price path is 60 sub-steps of the current regime.
    public mutating func nextCandle() -> Candle {
        if var regime = regimeRandom {
            if regime.nextUnit() < 1 / settings.meanRegimeBars {
                phase = Phase.allCases[Int(regime.next() % UInt64(Phase.allCases.count))]
                anchor = price
            }
            regimeRandom = regime
        } else if random.nextUnit() < 1 / settings.meanRegimeBars {
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
        let own = (1 - settings.beta * settings.beta).squareRoot()
        for _ in 0..<steps {
            var shock = random.nextGaussian()
            if var common = commonRandom {
                shock = settings.beta * common.nextGaussian() + own * shock
                commonRandom = common
            }
            var move = drift * stepVolatility + stepVolatility * shock
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
