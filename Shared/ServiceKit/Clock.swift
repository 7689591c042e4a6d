import Foundation
import Schema

/// Wall-clock time in ns since the epoch, for envelopes and the ledger. Injected so
/// that cores and tests never read the clock themselves.
public struct WallClock: Sendable {
    public let now: @Sendable () -> EpochNanos

    public init(now: @escaping @Sendable () -> EpochNanos) { self.now = now }

    public static let system = WallClock {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return EpochNanos(spec.tv_sec) * 1_000_000_000 + EpochNanos(spec.tv_nsec)
    }
}
