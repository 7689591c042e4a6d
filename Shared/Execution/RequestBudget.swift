import Foundation
import Schema

/// The address-based request budget of one account, and a pacing bucket in front of it.
///
/// Hyperliquid allows an address 10,000 requests plus one per USDC of cumulative traded volume;
/// every order, modify and cancel in a batch counts one. Past the cap it allows one request per
/// 10 s; cancels may go on up to min(cap + 100,000, 2 × cap). A market maker that re-quotes a ladder
/// on every book update would burn the starting 10,000 in minutes, so:
///
/// - the last `userRateLimit` reading (`nRequestsUsed`, `nRequestsCap`, taken at t) plus what was
///   spent since is the estimate of what is used;
/// - a reserve below the cap is kept for cancels: once the estimate is within it, only cancels go;
/// - a token bucket (sustained rate and burst) paces every request, so the budget is spent at a rate
///   volume can earn back. Cancels are never held back by it, but they drain it.
///
/// Before the first reading only the pacing bucket limits: the executor should read
/// `userRateLimit` at start and after every rate-limit refusal.
public struct RequestBudget: Sendable, Equatable {
    public struct Settings: Sendable, Equatable {
        /// The reserve is the larger of this fraction of the cap and `minimumReserve`.
        public var reserveFraction: Double
        public var minimumReserve: Int
        /// Requests per second the pacing bucket refills with.
        public var sustainedPerSecond: Double
        /// What the bucket holds when full: the most requests one moment may send.
        public var burst: Int
        /// Spends this long before a reading are counted on top of it: a request in flight when the
        /// venue took the reading may be missing from it (counted twice is the safe side).
        public var inFlightGraceNanos: Int64

        /// Defaults: reserve max(10 % of cap, 500); 2 requests/s sustained (7,200 an hour, so the
        /// starting 10,000 lasts well over an hour without volume) with a burst of 48 (a 12-tier ladder a
        /// side placed twice); readings trusted after a 2 s grace.
        public init(
            reserveFraction: Double = 0.10, minimumReserve: Int = 500, sustainedPerSecond: Double = 2,
            burst: Int = 48, inFlightGraceNanos: Int64 = 2_000_000_000
        ) {
            self.reserveFraction = reserveFraction
            self.minimumReserve = minimumReserve
            self.sustainedPerSecond = sustainedPerSecond
            self.burst = burst
            self.inFlightGraceNanos = inFlightGraceNanos
        }

        /// Why these settings cannot pace anything, nil when sound.
        public var problem: String? {
            if !(reserveFraction.isFinite && reserveFraction >= 0 && reserveFraction < 1) {
                return "reserveFraction \(reserveFraction) must be in [0, 1)"
            }
            if minimumReserve < 0 { return "minimumReserve \(minimumReserve) must not be negative" }
            if !(sustainedPerSecond.isFinite && sustainedPerSecond > 0) {
                return "sustainedPerSecond \(sustainedPerSecond) must be positive"
            }
            if burst < 1 { return "burst \(burst) must be at least 1" }
            if inFlightGraceNanos < 0 { return "inFlightGraceNanos must not be negative" }
            return nil
        }
    }

    /// What may be sent now.
    public struct Allowance: Sendable, Equatable {
        /// Orders and modifies that may be sent now.
        public var nonCancel: Int
        /// Cancels the venue still takes by the estimate (nil before the first reading). Cancels are
        /// sent regardless; this is for the report.
        public var cancels: Int?
        /// What holds `nonCancel` back (reserve or pacing), nil when nothing does.
        public var reason: Reason?

        public init(nonCancel: Int, cancels: Int?, reason: Reason?) {
            self.nonCancel = nonCancel
            self.cancels = cancels
            self.reason = reason
        }
    }

    struct Spend: Sendable, Equatable {
        var at: EpochNanos
        var count: Int
    }

    public let settings: Settings
    /// The last reading: used and cap at `observedAt`; nil before the first.
    public private(set) var readingUsed: Int?
    public private(set) var readingCap: Int?
    public private(set) var observedAt: EpochNanos?
    /// Recent spends, at most `spendMemoryNanos` old, so a later reading can tell which it covers.
    var spends: [Spend] = []
    /// Spends dropped from `spends` for their age, all still counted on top of the reading, and the
    /// latest time among them.
    var forgottenCount = 0
    var forgottenThrough: EpochNanos?
    /// How long spends are remembered one by one.
    static let spendMemoryNanos: Int64 = 600_000_000_000
    var tokens: Double
    var tokensAt: EpochNanos?

    /// Unsound settings (see `Settings.problem`, to refuse them at configuration time) are brought
    /// field by field to the nearest sound value or the default, so a budget always paces.
    public init(settings: Settings = Settings()) {
        var settings = settings
        let defaults = Settings()
        if !(settings.reserveFraction.isFinite && settings.reserveFraction >= 0 && settings.reserveFraction < 1) {
            settings.reserveFraction = defaults.reserveFraction
        }
        settings.minimumReserve = min(max(0, settings.minimumReserve), 1_000_000_000)
        if !(settings.sustainedPerSecond.isFinite && settings.sustainedPerSecond > 0) {
            settings.sustainedPerSecond = defaults.sustainedPerSecond
        }
        settings.burst = min(max(1, settings.burst), 1_000_000)
        settings.inFlightGraceNanos = max(0, settings.inFlightGraceNanos)
        self.settings = settings
        self.tokens = Double(settings.burst)
    }

    /// The requests kept back for cancels under `cap`.
    public func reserve(cap: Int) -> Int {
        max(Int((Double(max(0, cap)) * settings.reserveFraction).rounded(.up)), settings.minimumReserve)
    }

    /// Requests spent and not yet in the last reading (all of them before the first).
    public var spentSinceReading: Int {
        guard let observedAt else { return forgottenCount + spends.reduce(0) { $0 + $1.count } }
        let from = observedAt.saturatingMinus(settings.inFlightGraceNanos)
        return forgottenCount + spends.filter { $0.at > from }.reduce(0) { $0 + $1.count }
    }

    /// The estimate of requests used now: the reading plus what was spent since; nil before a reading.
    public var estimatedUsed: Int? { readingUsed.map { $0 + spentSinceReading } }

    /// A `userRateLimit` reading taken at `at`. One older than the reading held, or with numbers
    /// negative or beyond 10^12, is ignored (false).
    @discardableResult
    public mutating func observe(used: Int, cap: Int, at: EpochNanos) -> Bool {
        let sane = 0...1_000_000_000_000
        guard sane.contains(used), sane.contains(cap) else { return false }
        if let observedAt, at < observedAt { return false }
        readingUsed = used
        readingCap = cap
        observedAt = at
        let keepFrom = at.saturatingMinus(settings.inFlightGraceNanos)
        spends.removeAll { $0.at <= keepFrom }
        // Forgotten spends are covered only by a reading taken after them; otherwise they stay
        // counted (too many rather than too few).
        if let through = forgottenThrough, through <= keepFrom {
            forgottenCount = 0
            forgottenThrough = nil
        }
        return true
    }

    /// The venue's "Too many cumulative requests sent (used > limit) …" refusal, read as a reading at
    /// `at`. For a cancel the limit printed is the cancel limit min(cap + 100,000, 2 × cap), from which
    /// the cap is worked back. False when `message` is not that refusal.
    @discardableResult
    public mutating func observe(venueMessage message: String, wasCancel: Bool, at: EpochNanos) -> Bool {
        guard let limit = Self.cumulativeLimit(in: message)?.limit else { return false }
        let cap = wasCancel ? (limit < 200_000 ? limit / 2 : limit - 100_000) : limit
        // The refused request was not counted, so the venue's count lies in (used − its size, limit]:
        // at the limit is exact enough and on the safe side.
        return observe(used: limit, cap: cap, at: at)
    }

    /// (used, limit) from "Too many cumulative requests sent (used > limit) …", nil for any other text.
    public static func cumulativeLimit(in message: String) -> (used: Int, limit: Int)? {
        let prefix = "Too many cumulative requests sent ("
        guard message.hasPrefix(prefix) else { return nil }
        let rest = message.dropFirst(prefix.count)
        guard let close = rest.firstIndex(of: ")") else { return nil }
        let parts = rest[..<close].split(separator: ">").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let used = Int(parts[0]), let limit = Int(parts[1]), used >= 0, limit >= 0 else {
            return nil
        }
        return (used, limit)
    }

    /// The pacing bucket's level at `now` (full before first use; a clock going back adds nothing).
    func tokens(at now: EpochNanos) -> Double {
        guard let tokensAt else { return Double(settings.burst) }
        let elapsed = Double(max(0, now.saturatingMinus(tokensAt))) / 1e9
        return min(Double(settings.burst), tokens + elapsed * settings.sustainedPerSecond)
    }

    /// What may be sent at `now`.
    public func allowance(now: EpochNanos) -> Allowance {
        let paced = max(0, Int(tokens(at: now).rounded(.down)))
        guard let used = estimatedUsed, let cap = readingCap else {
            return Allowance(
                nonCancel: paced, cancels: nil,
                reason: paced < settings.burst
                    ? Reason(
                        .requestBudget,
                        "paced: \(paced) of \(settings.burst) at \(settings.sustainedPerSecond)/s; no userRateLimit reading yet"
                    )
                    : nil)
        }
        let reserve = reserve(cap: cap)
        let room = max(0, cap - reserve - used)
        let cancelLimit = min(cap + 100_000, 2 * cap)
        let cancels = max(0, cancelLimit - used)
        if room < paced {
            let detail =
                room == 0
                ? "only cancels: \(used) of \(cap) requests used, \(reserve) kept in reserve"
                : "\(room) requests left above the reserve of \(reserve) (\(used) of \(cap) used)"
            return Allowance(nonCancel: room, cancels: cancels, reason: Reason(.requestBudget, detail))
        }
        let reason =
            paced < settings.burst
            ? Reason(
                .requestBudget,
                "paced: \(paced) of \(settings.burst) at \(settings.sustainedPerSecond)/s (\(used) of \(cap) used)")
            : nil
        return Allowance(nonCancel: paced, cancels: cancels, reason: reason)
    }

    /// Requests sent at `now`: orders and modifies, and cancels. Both drain the bucket (down to
    /// −burst, so a large cancel wave delays the next placements but not for ever) and count against
    /// the address budget.
    public mutating func spend(nonCancel: Int, cancels: Int, at now: EpochNanos) {
        let count = max(0, nonCancel) + max(0, cancels)
        guard count > 0 else { return }
        let level = tokens(at: now)
        tokens = max(-Double(settings.burst), level - Double(count))
        tokensAt = max(now, tokensAt ?? now)
        spends.append(Spend(at: now, count: count))
        let forgetBefore = now.saturatingMinus(Self.spendMemoryNanos)
        while let first = spends.first, first.at < forgetBefore {
            forgottenCount += first.count
            forgottenThrough = max(forgottenThrough ?? first.at, first.at)
            spends.removeFirst()
        }
    }
}
