import Foundation
import Schema

/// Watches the quoter's own fills: a fill followed, within the window, by a move of the
/// mid against it beyond the threshold means that side is being picked off. That side
/// then widens by `wideningFactor`, and the excess over 1 halves every `halfLifeNanos`.
/// A new detection re-arms the side at the full factor (detections do not stack).
public struct AdverseSelectionMonitor: Sendable, Equatable {
    public struct WatchedFill: Sendable, Equatable {
        public var side: Side
        public var price: Double
        public var time: EpochNanos
    }

    /// Fills kept at most; the oldest go first.
    public static let capacity = 512

    public let settings: AdverseSelectionSettings
    /// Fills still inside their window and not yet found adverse.
    public private(set) var watched: [WatchedFill] = []
    /// When each side was last found adversely selected.
    public private(set) var lastBidDetection: EpochNanos?
    public private(set) var lastAskDetection: EpochNanos?
    /// Adverse fills found so far.
    public private(set) var detections = 0

    public init(settings: AdverseSelectionSettings) {
        self.settings = settings
    }

    /// One of our fills: `side` is our order's side.
    public mutating func recordFill(side: Side, price: Amount, time: EpochNanos) {
        guard price.isPositive else { return }
        if watched.count >= Self.capacity { watched.removeFirst(watched.count - Self.capacity + 1) }
        watched.append(WatchedFill(side: side, price: price.doubleValue, time: time))
    }

    /// Checks every watched fill against the mid at `now`; returns the sides found
    /// adversely selected by this observation. Fills past their window are forgotten.
    @discardableResult
    public mutating func observe(mid: Amount, now: EpochNanos) -> Set<Side> {
        let midValue = mid.doubleValue
        guard midValue > 0, midValue.isFinite else { return [] }
        var found: Set<Side> = []
        watched.removeAll { fill in
            if now - fill.time > settings.windowNanos { return true }
            let move = (midValue - fill.price) / fill.price * 10_000
            let adverse = fill.side == .buy ? -move : move
            guard adverse >= settings.thresholdBps else { return false }
            found.insert(fill.side)
            return true
        }
        for side in found {
            detections += 1
            switch side {
            case .buy: lastBidDetection = max(lastBidDetection ?? now, now)
            case .sell: lastAskDetection = max(lastAskDetection ?? now, now)
            }
        }
        return found
    }

    /// The half-spread multiplier of the side that rests orders of `side` (≥ 1).
    public func wideningFactor(for side: Side, now: EpochNanos) -> Double {
        guard let detected = side == .buy ? lastBidDetection : lastAskDetection else { return 1 }
        let elapsed = Double(max(0, now - detected))
        let excess = (settings.wideningFactor - 1) * pow(0.5, elapsed / Double(settings.halfLifeNanos))
        return excess < 1e-9 ? 1 : 1 + excess
    }
}
