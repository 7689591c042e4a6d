import Foundation
import Synchronization

/// Issues unique, strictly increasing millisecond nonces per signer.
///
/// Exchange rule: a nonce must lie in (T − 2 days, T + 1 day) of the server time T, must be
/// unused, and must exceed the smallest of the signer's 100 highest nonces seen so far.
/// Several calls in one millisecond (or a clock that steps back) get `last + 1`; the lead
/// over the clock is capped at `maxLeadMs` so a restart, which restarts from the clock,
/// does not fall behind nonces already spent.
public final class NonceManager: Sendable {
    public static let exchangeWindowPastMs: UInt64 = 2 * 24 * 3_600_000
    public static let exchangeWindowFutureMs: UInt64 = 1 * 24 * 3_600_000

    /// Whether the exchange would accept `nonce` at server time `serverTimeMs` (bounds exclusive).
    public static func isWithinExchangeWindow(nonce: UInt64, serverTimeMs: UInt64) -> Bool {
        let low = serverTimeMs > exchangeWindowPastMs ? serverTimeMs - exchangeWindowPastMs : 0
        return nonce > low && nonce < serverTimeMs + exchangeWindowFutureMs
    }

    /// Wall clock in Unix milliseconds.
    @Sendable public static func systemClockMs() -> UInt64 {
        UInt64(Date().timeIntervalSince1970 * 1000)
    }

    private let clock: @Sendable () -> UInt64
    public let maxLeadMs: UInt64
    private let last: Mutex<UInt64>

    /// - Parameters:
    ///   - clock: Unix milliseconds; injected so tests can freeze or rewind it.
    ///   - maxLeadMs: how far ahead of the clock issued nonces may run before `next()` throws.
    ///   - lastIssued: resume strictly above a nonce already used (e.g. persisted).
    public init(
        clock: @escaping @Sendable () -> UInt64 = NonceManager.systemClockMs, maxLeadMs: UInt64 = 60_000,
        lastIssued: UInt64 = 0
    ) {
        self.clock = clock
        self.maxLeadMs = maxLeadMs
        self.last = Mutex(lastIssued)
    }

    public var lastIssued: UInt64 { last.withLock { $0 } }

    /// max(clock, last + 1). Throws instead of running more than `maxLeadMs` ahead of the clock
    /// (a burst far beyond 1 per ms, or the clock stepped back further than that).
    public func next() throws(HyperliquidError) -> UInt64 {
        let now = clock()
        return try last.withLock { (last: inout UInt64) throws(HyperliquidError) -> UInt64 in
            let candidate = max(now, last + 1)
            guard candidate - now <= maxLeadMs else { throw .nonceTooFarAhead(nonce: candidate, clock: now) }
            last = candidate
            return candidate
        }
    }
}
