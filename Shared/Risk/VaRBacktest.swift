import Schema

/// Back-test of the VaR model: each day's realised loss against the VaR forecast made before it.
///
/// An exception is a day whose loss exceeded its forecast. Over the last `window` days (250 by the
/// regulatory convention) at 99 % the expected count is 2.5; the Basel traffic light calls 0–4
/// exceptions green, 5–9 yellow and 10 or more red (shared/REFERENCES.md §8). The zone is only
/// meaningful for 250 days at 99 %.
public struct VaRBacktest: Sendable, Equatable {
    public struct Observation: Codable, Sendable, Equatable {
        public var day: EpochNanos
        public var forecastVaR: Double
        public var realisedPnl: Double
        public var isException: Bool { -realisedPnl > forecastVaR }

        public init(day: EpochNanos, forecastVaR: Double, realisedPnl: Double) {
            self.day = day
            self.forecastVaR = forecastVaR
            self.realisedPnl = realisedPnl
        }
    }

    /// The bus message carries the same zone (`PortfolioRiskReport`).
    public typealias Zone = VaRZone

    public let window: Int
    /// Oldest first, at most `window`.
    public private(set) var observations: [Observation] = []

    public init(window: Int = 250) { self.window = max(1, window) }

    /// A back-test restored from saved observations: kept in day order, one per day, the newest `window`.
    public init(window: Int = 250, observations: [Observation]) {
        self.init(window: window)
        for observation in observations.sorted(by: { $0.day < $1.day }) {
            record(day: observation.day, forecastVaR: observation.forecastVaR, realisedPnl: observation.realisedPnl)
        }
    }

    /// Records one day; a repeated or older day is ignored (returns false) so a replay cannot double count.
    /// Returns whether the day was an exception.
    @discardableResult
    public mutating func record(day: EpochNanos, forecastVaR: Double, realisedPnl: Double) -> Bool {
        guard forecastVaR.isFinite, realisedPnl.isFinite else { return false }
        if let last = observations.last, day <= last.day { return false }
        let observation = Observation(day: day, forecastVaR: forecastVaR, realisedPnl: realisedPnl)
        observations.append(observation)
        if observations.count > window { observations.removeFirst(observations.count - window) }
        return observation.isException
    }

    public var days: Int { observations.count }
    public var exceptions: Int { observations.filter(\.isException).count }
    public var exceptionDays: [EpochNanos] { observations.filter(\.isException).map(\.day) }
    /// Exceptions per day observed; nil before the first day.
    public var exceptionRate: Double? { days == 0 ? nil : Double(exceptions) / Double(days) }

    /// Basel traffic light (green 0–4, yellow 5–9, red ≥ 10 exceptions), defined for 250 days at 99 %:
    /// nil until 250 days are observed, because the bounds mean nothing over fewer.
    public var zone: Zone? {
        guard days >= 250 else { return nil }
        let count = observations.suffix(250).filter(\.isException).count
        return count >= 10 ? .red : count >= 5 ? .yellow : .green
    }
}

/// The VaR forecast for one UTC day: the first VaR the risk book assessed that day with positions held.
public struct VaRForecast: Codable, Sendable, Equatable {
    /// Days since the epoch (UTC).
    public var day: Int64
    public var valueAtRisk: Double

    public init(day: Int64, valueAtRisk: Double) {
        self.day = day
        self.valueAtRisk = valueAtRisk
    }
}
