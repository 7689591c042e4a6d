/// The share of each class among the last `capacity` predictions: the check that a model is not
/// saying "hold" 80 % of the time while everyone believes it trades.
public struct PredictionShares: Sendable, Equatable {
    public let capacity: Int
    private var recent: [TradeClass] = []
    private var next = 0
    private var counts = [0, 0, 0]

    public init(capacity: Int) {
        precondition(capacity > 0, "a share window needs a positive length")
        self.capacity = capacity
    }

    public var count: Int { recent.count }

    public mutating func record(_ prediction: TradeClass) {
        if recent.count < capacity {
            recent.append(prediction)
        } else {
            counts[recent[next].rawValue] -= 1
            recent[next] = prediction
            next = (next + 1) % capacity
        }
        counts[prediction.rawValue] += 1
    }

    /// 0 before any prediction.
    public func share(of prediction: TradeClass) -> Double {
        recent.isEmpty ? 0 : Double(counts[prediction.rawValue]) / Double(recent.count)
    }

    /// The class above `limit` of the window, if any.
    public func dominant(above limit: Double) -> (TradeClass, Double)? {
        TradeClass.allCases.map { ($0, share(of: $0)) }.first { $0.1 > limit }
    }
}
