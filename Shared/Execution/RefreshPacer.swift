import Schema

/// How often quote reconciliation may run on one symbol. A reject storm or a rate-limit warning
/// slows the refresh instead of retrying harder: the interval doubles (up to a maximum) after a pass
/// with more ALO rejects than a threshold, a reject storm, or a venue rate-limit refusal (HTTP 429 or
/// "Too many cumulative requests sent …"), and halves (down to the minimum) after enough clean passes
/// in a row. Every change comes with a `refreshSlowed` reason and its numbers.
public struct RefreshPacer: Sendable, Equatable {
    public struct Settings: Sendable, Equatable {
        public var minimumIntervalMs: Int
        public var maximumIntervalMs: Int
        /// A pass with more ALO rejects than this slows the refresh (a few at the touch are normal).
        public var aloRejectThreshold: Int
        /// A pass with at least this many other refusals is a reject storm.
        public var rejectStormThreshold: Int
        /// Clean passes in a row before the interval halves.
        public var cleanPassesToRelax: Int

        /// Defaults: 250 ms to 30 s (past its address cap Hyperliquid allows one request per 10 s);
        /// slow after more than 4 ALO rejects or 3 other refusals in a pass; relax after 3 clean passes.
        public init(
            minimumIntervalMs: Int = 250, maximumIntervalMs: Int = 30_000, aloRejectThreshold: Int = 4,
            rejectStormThreshold: Int = 3, cleanPassesToRelax: Int = 3
        ) {
            self.minimumIntervalMs = minimumIntervalMs
            self.maximumIntervalMs = maximumIntervalMs
            self.aloRejectThreshold = aloRejectThreshold
            self.rejectStormThreshold = rejectStormThreshold
            self.cleanPassesToRelax = cleanPassesToRelax
        }

        /// Why these settings cannot pace, nil when sound.
        public var problem: String? {
            if minimumIntervalMs < 1 { return "minimumIntervalMs \(minimumIntervalMs) must be at least 1" }
            if maximumIntervalMs < minimumIntervalMs {
                return "maximumIntervalMs \(maximumIntervalMs) must not be below minimumIntervalMs \(minimumIntervalMs)"
            }
            if aloRejectThreshold < 0 { return "aloRejectThreshold must not be negative" }
            if rejectStormThreshold < 1 { return "rejectStormThreshold must be at least 1" }
            if cleanPassesToRelax < 1 { return "cleanPassesToRelax must be at least 1" }
            return nil
        }
    }

    public let settings: Settings
    public private(set) var intervalMs: Int
    /// When the last pass was sent; nil before the first.
    public private(set) var lastPassAt: EpochNanos?
    public private(set) var cleanStreak = 0

    /// Unsound settings (see `Settings.problem`) are brought to the nearest sound values.
    public init(settings: Settings = Settings()) {
        var settings = settings
        // A day at most, so that the nanoseconds fit.
        settings.minimumIntervalMs = min(86_400_000, max(1, settings.minimumIntervalMs))
        settings.maximumIntervalMs = min(86_400_000, settings.maximumIntervalMs)
        settings.maximumIntervalMs = max(settings.minimumIntervalMs, settings.maximumIntervalMs)
        settings.aloRejectThreshold = max(0, settings.aloRejectThreshold)
        settings.rejectStormThreshold = max(1, settings.rejectStormThreshold)
        settings.cleanPassesToRelax = max(1, settings.cleanPassesToRelax)
        self.settings = settings
        self.intervalMs = settings.minimumIntervalMs
    }

    /// The earliest time of the next pass.
    public var nextPassAt: EpochNanos? { lastPassAt.map { $0.saturatingPlus(Int64(intervalMs) * 1_000_000) } }

    public func isDue(now: EpochNanos) -> Bool { nextPassAt.map { now >= $0 } ?? true }

    /// A pass was sent at `now`.
    public mutating func passSent(at now: EpochNanos) {
        lastPassAt = now
    }

    /// What the venue answered to a pass: slows or relaxes the refresh. Returns the reason when the
    /// interval changed.
    @discardableResult
    public mutating func record(_ outcome: QuoteOutcome) -> Reason? {
        var causes: [String] = []
        if outcome.rateLimited {
            causes.append(
                outcome.cumulativeLimitMessage != nil
                    ? "address request budget exhausted" : "venue rate limit (HTTP 429)")
        }
        if outcome.aloRejected > settings.aloRejectThreshold {
            causes.append("\(outcome.aloRejected) ALO rejects in a pass (threshold \(settings.aloRejectThreshold))")
        }
        if outcome.failed >= settings.rejectStormThreshold {
            causes.append("\(outcome.failed) refusals in a pass (storm at \(settings.rejectStormThreshold))")
        }
        let before = intervalMs
        if !causes.isEmpty {
            cleanStreak = 0
            intervalMs = intervalMs > settings.maximumIntervalMs / 2 ? settings.maximumIntervalMs : intervalMs * 2
            guard intervalMs != before else { return nil }
            return Reason(.refreshSlowed, "refresh \(before) → \(intervalMs) ms: " + causes.joined(separator: "; "))
        }
        // ALO rejects within the threshold are normal at the touch; any other refusal is not clean.
        guard outcome.failed == 0 else {
            cleanStreak = 0
            return nil
        }
        cleanStreak += 1
        guard cleanStreak >= settings.cleanPassesToRelax, intervalMs > settings.minimumIntervalMs else { return nil }
        cleanStreak = 0
        intervalMs = max(settings.minimumIntervalMs, intervalMs / 2)
        return Reason(
            .refreshSlowed,
            "refresh \(before) → \(intervalMs) ms: \(settings.cleanPassesToRelax) clean passes in a row")
    }
}
