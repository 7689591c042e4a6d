import Schema
import Synchronization

/// A seeded generator, so that jitter is reproducible in tests and replays.
public typealias SeededRandom = SplitMix64

/// Shares one generator between concurrent calls (a `Dependency` retries many calls at once).
public final class SharedRandom: RandomNumberGenerator, Sendable {
    private let generator: Mutex<any RandomNumberGenerator & Sendable>

    public init(_ generator: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()) {
        self.generator = Mutex(generator)
    }

    public func next() -> UInt64 {
        generator.withLock { $0.next() }
    }
}
