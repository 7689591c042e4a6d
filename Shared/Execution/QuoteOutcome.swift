import Hyperliquid
import Schema

/// What one or more answered requests did, for the pass report and the refresh pacer.
public struct QuoteOutcome: Sendable, Equatable {
    public var placed = 0
    public var modified = 0
    public var canceled = 0
    /// Post-only orders refused for crossing: normal, repriced on the next pass.
    public var aloRejected = 0
    /// Orders filled at once (not expected of post-only orders).
    public var filled = 0
    /// Orders the venue no longer had when told to cancel or modify them (filled or canceled before).
    public var missing = 0
    /// Other refusals, and entries of requests that failed as a whole.
    public var failed = 0
    /// The venue refused for its rate limits (HTTP 429, or the address budget's "Too many cumulative
    /// requests sent …").
    public var rateLimited = false
    /// The venue's address-budget refusal, to feed `RequestBudget.observe(venueMessage:…)`.
    public var cumulativeLimitMessage: String?
    /// Orders whose state is unknown (a lost answer, an unexpected status): to be looked up by
    /// client order id before anything is sent for them again.
    public var uncertain: [String] = []
    public var reasons: [Reason] = []

    public init() {}

    /// Every order the venue refused (ALO rejects included), and whole-request failures.
    public var refusals: Int { aloRejected + failed }

    public static func + (lhs: QuoteOutcome, rhs: QuoteOutcome) -> QuoteOutcome {
        var out = lhs
        out.placed += rhs.placed
        out.modified += rhs.modified
        out.canceled += rhs.canceled
        out.aloRejected += rhs.aloRejected
        out.filled += rhs.filled
        out.missing += rhs.missing
        out.failed += rhs.failed
        out.rateLimited = lhs.rateLimited || rhs.rateLimited
        out.cumulativeLimitMessage = rhs.cumulativeLimitMessage ?? lhs.cumulativeLimitMessage
        out.uncertain += rhs.uncertain
        out.reasons += rhs.reasons
        return out
    }
}

/// Hyperliquid's answers that matter to a market maker, by their documented text.
public enum VenueAnswers {
    /// BadAloPx, "Post only order would have immediately matched, bbo was {bid}@{ask}. asset=N": a quote
    /// that crossed a moving book, repriced on the next pass. On a modify the original is gone too.
    public static let aloRejectPrefix = "Post only order would have immediately matched"
    /// A cancel of an order the venue no longer has (filled or canceled before).
    public static let missingOrderPrefix = "Order was never placed, already canceled, or filled."
    /// A modify of an order the venue no longer has.
    public static let cannotModifyPrefix = "Cannot modify canceled or filled order."
    /// The address budget's refusal: "Too many cumulative requests sent (used > limit) …".
    public static let cumulativeLimitPrefix = "Too many cumulative requests sent"

    public static func isPostOnlyCross(_ message: String) -> Bool { message.hasPrefix(aloRejectPrefix) }
    /// The order had already ended when it was canceled or modified.
    public static func isMissingOrder(_ message: String) -> Bool {
        message.hasPrefix(missingOrderPrefix) || message.hasPrefix(cannotModifyPrefix)
    }
}

extension QuoteOutcome {
    /// What became of a pass's orders, from the session's answer to each (nil: none was handled,
    /// so the order's state is not known until the next reconciliation).
    public init(_ commands: [OrderCommand], answers: [String: OrderOutcome?]) {
        self.init()
        for command in commands {
            switch answers[command.clientOrderId] ?? nil {
            case .resting?:
                placed += 1
            case .modified?:
                modified += 1
            case .canceled?:
                canceled += 1
            case .rejected(let reason)?:
                let message = reason.detail
                if VenueAnswers.isPostOnlyCross(message) {
                    aloRejected += 1
                } else if VenueAnswers.isMissingOrder(message) || message == OrderOutcome.notLive {
                    missing += 1
                } else {
                    failed += 1
                    if message.hasPrefix(VenueAnswers.cumulativeLimitPrefix) {
                        rateLimited = true
                        cumulativeLimitMessage = message
                    } else if message.contains("429") {
                        rateLimited = true
                    }
                    if reasons.count < 5 { reasons.append(reason) }
                }
            case nil:
                uncertain.append(command.clientOrderId)
            }
        }
    }
}

extension QuoteReport {
    /// The report of one pass: what it planned, what the venue answered, what rests after it, the
    /// address budget as estimated and the refresh interval now.
    public init(
        pass: QuotePass, outcome: QuoteOutcome, refused: Int = 0, resting: [RestingQuote], budget: RequestBudget,
        refreshIntervalMs: Int, reasons: [Reason] = [], time: EpochNanos
    ) {
        self.init(
            symbol: pass.symbol, targetId: pass.targetId ?? "", sequence: pass.sequence ?? 0, resting: resting,
            kept: pass.keeps.count, modified: outcome.modified, placed: outcome.placed, canceled: outcome.canceled,
            aloRejected: outcome.aloRejected, failed: outcome.failed + refused, deferred: pass.deferred,
            requestsUsed: budget.estimatedUsed, requestsCap: budget.readingCap, refreshIntervalMs: refreshIntervalMs,
            reasons: pass.reasons + outcome.reasons + reasons, time: time)
    }
}
