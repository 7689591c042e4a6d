import Schema

/// What became of one order the executor sent, as a quote pass counts it.
public enum OrderOutcome: Sendable, Equatable {
    /// Placed and resting (or filled at once).
    case resting
    /// A modify the exchange accepted.
    case modified
    /// No longer live: canceled on request or by the venue.
    case canceled
    case rejected(Reason)

    /// The executor's own refusal of a cancel or modify whose order the ledger holds as ended.
    public static let notLive = "order is not live"
}
