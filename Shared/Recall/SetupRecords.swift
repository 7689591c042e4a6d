import Schema

/// How a trade taken on a set-up ended; written back when the trade closes.
public struct SetupOutcome: Sendable, Equatable, Hashable, Codable {
    /// Realised P&L as a fraction of the entry notional, fees included (0.012 is +1.2 %).
    public var pnlFraction: Double
    /// Bars between entry and exit.
    public var holdingBars: Int
    /// Whether the trade counts as a win; by default, a positive P&L.
    public var isWin: Bool

    public init(pnlFraction: Double, holdingBars: Int, isWin: Bool? = nil) {
        self.pnlFraction = pnlFraction
        self.holdingBars = holdingBars
        self.isWin = isWin ?? (pnlFraction > 0)
    }
}

/// What a set-up was, besides its features: stored as metadata and used to filter neighbours.
public struct SetupContext: Sendable, Equatable, Hashable, Codable {
    public var symbol: String
    public var strategy: String
    public var direction: Direction
    /// Open time of the bar the set-up was seen on, ns since the epoch.
    public var time: EpochNanos

    public init(symbol: String, strategy: String, direction: Direction, time: EpochNanos) {
        self.symbol = symbol
        self.strategy = strategy
        self.direction = direction
        self.time = time
    }
}

/// One stored set-up: its id (the signal id), its feature vector, its context and, once the trade has
/// closed, its outcome.
public struct SetupRecord: Sendable, Equatable {
    public var id: String
    public var features: [Double]
    public var context: SetupContext
    public var outcome: SetupOutcome?

    public init(id: String, features: [Double], context: SetupContext, outcome: SetupOutcome? = nil) {
        self.id = id
        self.features = features
        self.context = context
        self.outcome = outcome
    }
}

/// A neighbour found by recall. `context` and `outcome` are nil when the stored metadata lacks them.
public struct RecalledSetup: Sendable, Equatable {
    public var id: String
    /// In the collection's space: squared Euclidean for `.l2`, `1 − cosine similarity` for `.cosine`.
    public var distance: Double
    public var context: SetupContext?
    public var outcome: SetupOutcome?

    public init(id: String, distance: Double, context: SetupContext? = nil, outcome: SetupOutcome? = nil) {
        self.id = id
        self.distance = distance
        self.context = context
        self.outcome = outcome
    }
}

/// Which stored set-ups a recall may return. nil fields do not filter.
public struct RecallFilter: Sendable, Equatable, Hashable {
    public var symbol: String?
    public var direction: Direction?
    public var strategy: String?
    /// Only set-ups whose outcome is known (the only ones that say anything about the future).
    public var onlyWithOutcome: Bool

    public init(
        symbol: String? = nil, direction: Direction? = nil, strategy: String? = nil, onlyWithOutcome: Bool = false
    ) {
        self.symbol = symbol
        self.direction = direction
        self.strategy = strategy
        self.onlyWithOutcome = onlyWithOutcome
    }

    public static let none = RecallFilter()

    /// Whether a stored set-up passes the filter (the local fallback's version of Chroma's `where`).
    public func admits(context: SetupContext, outcome: SetupOutcome?) -> Bool {
        if let symbol, context.symbol != symbol { return false }
        if let direction, context.direction != direction { return false }
        if let strategy, context.strategy != strategy { return false }
        if onlyWithOutcome && outcome == nil { return false }
        return true
    }
}

/// The distance a collection uses. Both recall paths compute the same one, so their answers compare.
public enum DistanceSpace: String, Sendable, Codable, CaseIterable {
    /// Squared Euclidean distance (what Chroma's hnswlib calls `l2`: no square root). The default: the
    /// features are centred and scaled alike, so each weighs the same, and an extreme set-up stays far
    /// from a mild one pointing the same way.
    case l2
    /// `1 − cos(a, b)`, 0…2; ignores the vectors' lengths. A zero vector is at distance 1 from everything.
    case cosine

    /// The distance between two vectors of equal length.
    public func distance(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count, "vectors of different lengths")
        return a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in distance(x, y) }
        }
    }

    func distance(_ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>) -> Double {
        switch self {
        case .l2:
            var sum = 0.0
            for i in 0..<x.count {
                let d = x[i] - y[i]
                sum += d * d
            }
            return sum
        case .cosine:
            var dot = 0.0
            var xx = 0.0
            var yy = 0.0
            for i in 0..<x.count {
                dot += x[i] * y[i]
                xx += x[i] * x[i]
                yy += y[i] * y[i]
            }
            guard xx > 0, yy > 0 else { return 1 }
            return 1 - dot / (xx.squareRoot() * yy.squareRoot())
        }
    }
}
