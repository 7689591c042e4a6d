/// The mean of the last `period` values. Matches `ta.trend.SMAIndicator`.
public struct SimpleMovingAverage: Sendable, Equatable {
    public let period: Int
    /// The latest average; nil while warming up.
    public private(set) var value: Double?
    private var window: RollingWindow
    private var sum = CompensatedSum()

    public init(period: Int) {
        precondition(period > 0, "SMA period must be positive")
        self.period = period
        self.window = RollingWindow(capacity: period)
    }

    /// Adds a value; returns the average once `period` values have been seen.
    public mutating func update(_ input: Double) -> Double? {
        if let evicted = window.push(input) { sum.add(-evicted) }
        sum.add(input)
        guard window.isFull else { return nil }
        value = sum.value / Double(period)
        return value
    }
}

/// An exponential moving average with alpha = 2 / (period + 1).
///
/// Two seeds are in use and they differ for hundreds of values, so the choice is
/// explicit:
/// - `.simpleAverage` (default): the first value is the SMA of the first `period`
///   inputs, as TA-Lib's `EMA` does.
/// - `.firstValue`: starts at the first input and reports from the `period`-th on,
///   as `ta.trend.EMAIndicator` (pandas `ewm(span:, adjust: false)`) does.
public struct ExponentialMovingAverage: Sendable, Equatable {
    public enum Seed: String, Sendable, Codable, Equatable {
        case simpleAverage, firstValue
    }

    public let period: Int
    public let seed: Seed
    public let alpha: Double
    public private(set) var value: Double?
    private var average = 0.0
    private var count = 0

    public init(period: Int, seed: Seed = .simpleAverage) {
        precondition(period > 0, "EMA period must be positive")
        self.period = period
        self.seed = seed
        self.alpha = 2.0 / Double(period + 1)
    }

    public mutating func update(_ input: Double) -> Double? {
        count += 1
        switch seed {
        case .simpleAverage:
            if count < period {
                average += input
                return nil
            }
            average = count == period ? (average + input) / Double(period) : average + alpha * (input - average)
        case .firstValue:
            average = count == 1 ? input : average + alpha * (input - average)
            guard count >= period else { return nil }
        }
        value = average
        return average
    }
}
