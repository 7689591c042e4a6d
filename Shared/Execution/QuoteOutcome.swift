import Hyperliquid
import Schema

/// What the venue answered to one `QuoteRequest`.
public enum QuoteAnswer: Sendable, Equatable {
    /// An `order` or `batchModify` answer: one status per entry.
    case orders([OrderStatus])
    /// A `cancelByCloid` answer: one status per entry.
    case cancels([CancelStatus])
    /// The request failed as a whole.
    case failed(HyperliquidClientError)
}

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

/// The quote orders live on one symbol, as the executor believes them, kept up to date from the
/// venue's answers.
///
/// How each answer changes the live set:
/// - place `resting` → live at the price and size sent; `filled` in full → not live; an ALO reject
///   ("Post only order would have immediately matched…") → not live, counted `aloRejected`, no error;
///   another error → not live, counted `failed`;
/// - modify `resting` → live at its new price and size, its age restarting; an ALO reject or "Cannot
///   modify canceled or filled order." → the original is gone (the venue cancels before it places the
///   new order, or the original had already ended); another error → unknown, the original is kept
///   and looked up;
/// - cancel `success` or "Order was never placed, already canceled, or filled." → not live; another
///   error → kept and looked up;
/// - a request refused before it was sent (breaker open, local rate limit, no wallet, signing, an
///   invalid request), a 4xx other than 429, or the venue refusing the whole action → nothing changed;
/// - any other failure (timeout, transport, 5xx, 429, a malformed answer) → unknown: every order of
///   the request is looked up, and a place is held as possibly live (an order we do not know of must
///   never rest unseen) until the lookup says otherwise.
public struct LiveQuotes: Sendable, Equatable {
    public private(set) var byClientOrderId: [String: RestingQuote]

    public init(_ resting: [RestingQuote] = []) {
        var live: [String: RestingQuote] = [:]
        for quote in resting where live[quote.clientOrderId] == nil { live[quote.clientOrderId] = quote }
        byClientOrderId = live
    }

    /// Bids best first, then asks best first.
    public var resting: [RestingQuote] {
        let all = Array(byClientOrderId.values)
        let bids = all.filter { $0.side == .buy }.sorted { ($0.price, $1.clientOrderId) > ($1.price, $0.clientOrderId) }
        let asks = all.filter { $0.side == .sell }.sorted {
            ($0.price, $0.clientOrderId) < ($1.price, $1.clientOrderId)
        }
        return bids + asks
    }

    /// The prefix of Hyperliquid's BadAloPx error ("…, bbo was {bid}@{ask}. asset=N").
    public static let aloRejectPrefix = "Post only order would have immediately matched"
    /// Hyperliquid's cancel error for an order that is not live.
    public static let missingOrderPrefix = "Order was never placed, already canceled, or filled."
    /// Hyperliquid's modify error for an order that is not live.
    public static let cannotModifyPrefix = "Cannot modify canceled or filled order."
    /// Hyperliquid's address-budget refusal.
    public static let cumulativeLimitPrefix = "Too many cumulative requests sent"

    /// A lookup's verdict on an uncertain order: live as given, or not live (nil).
    public mutating func settle(_ clientOrderId: String, as quote: RestingQuote?) {
        byClientOrderId[clientOrderId] = quote
    }

    /// Applies the venue's `answer` to `request`, sent at `now`.
    public mutating func apply(_ answer: QuoteAnswer, to request: QuoteRequest, now: EpochNanos) -> QuoteOutcome {
        var outcome = QuoteOutcome()
        switch (request.kind, answer) {
        case (.cancel, .cancels(let statuses)):
            for (index, id) in request.clientOrderIds.enumerated() {
                guard index < statuses.count else {
                    unknown(id, in: request, index: index, &outcome, "no status for cancel of \(id)")
                    continue
                }
                switch statuses[index] {
                case .success:
                    byClientOrderId[id] = nil
                    outcome.canceled += 1
                case .error(let message) where message.hasPrefix(Self.missingOrderPrefix):
                    byClientOrderId[id] = nil
                    outcome.missing += 1
                case .error(let message):
                    outcome.failed += 1
                    noteRateLimit(message, &outcome)
                    unknown(id, in: request, index: index, &outcome, "cancel of \(id) refused: \(message)")
                }
            }
        case (.place, .orders(let statuses)), (.modify, .orders(let statuses)):
            for (index, id) in request.clientOrderIds.enumerated() {
                guard index < statuses.count else {
                    unknown(id, in: request, index: index, &outcome, "no status for \(request.kind.rawValue) of \(id)")
                    continue
                }
                order(statuses[index], id: id, index: index, request: request, now: now, &outcome)
            }
        case (_, .failed(let error)):
            failed(error, request: request, &outcome)
        default:
            // An answer of the wrong shape for the request: nothing can be read from it.
            for (index, id) in request.clientOrderIds.enumerated() {
                unknown(id, in: request, index: index, &outcome, "answer does not fit a \(request.kind.rawValue)")
            }
            outcome.failed += request.clientOrderIds.count
        }
        return outcome
    }

    private mutating func order(
        _ status: OrderStatus, id: String, index: Int, request: QuoteRequest, now: EpochNanos,
        _ outcome: inout QuoteOutcome
    ) {
        let isModify = request.kind == .modify
        guard index < request.quotes.count else {
            unknown(id, in: request, index: index, &outcome, "\(id): no quote recorded for the order")
            return
        }
        let quote = request.quotes[index]
        switch status {
        case .resting:
            byClientOrderId[id] = RestingQuote(
                clientOrderId: id, side: quote.side, tier: quote.tier, price: quote.price, size: quote.size,
                placedAt: now)
            if isModify { outcome.modified += 1 } else { outcome.placed += 1 }
        case .filled(let total, _, _, _):
            outcome.filled += 1
            if total >= quote.size {
                byClientOrderId[id] = nil
            } else {
                // Part filled: the rest may rest. Held at what is left until the lookup says.
                byClientOrderId[id] = RestingQuote(
                    clientOrderId: id, side: quote.side, tier: quote.tier, price: quote.price,
                    size: quote.size - total, placedAt: now)
                outcome.uncertain.append(id)
            }
        case .error(let message) where message.hasPrefix(Self.aloRejectPrefix):
            // Not an error: the book moved through the quote; the next pass reprices it. A modify's
            // original was canceled by the venue before the new order was refused.
            byClientOrderId[id] = nil
            outcome.aloRejected += 1
        case .error(let message) where isModify && message.hasPrefix(Self.cannotModifyPrefix):
            byClientOrderId[id] = nil
            outcome.missing += 1
        case .error(let message):
            outcome.failed += 1
            noteRateLimit(message, &outcome)
            outcome.reasons.append(Reason(.venueRejected, "\(request.kind.rawValue) \(id): \(message)"))
            if isModify {
                // Whether the venue canceled the original before refusing is not said: look it up.
                outcome.uncertain.append(id)
            } else {
                byClientOrderId[id] = nil
            }
        case .waitingForFill, .waitingForTrigger:
            unknown(id, in: request, index: index, &outcome, "\(id): unexpected status \(status) for a quote")
        }
    }

    private mutating func failed(_ error: HyperliquidClientError, request: QuoteRequest, _ outcome: inout QuoteOutcome)
    {
        let count = request.clientOrderIds.count
        outcome.failed += count
        let unchanged: Bool
        switch error {
        case .circuitOpen, .rateLimitedLocally, .noWallet, .signing, .invalidRequest:
            unchanged = true
            outcome.reasons.append(Reason(.venueUnavailable, "\(request.kind.rawValue) of \(count) not sent: \(error)"))
        case .exchangeRejected(let message):
            unchanged = true
            noteRateLimit(message, &outcome)
            outcome.reasons.append(Reason(.venueRejected, "\(request.kind.rawValue) of \(count) refused: \(message)"))
        case .badRequest:
            unchanged = true
            outcome.reasons.append(Reason(.venueRejected, "\(request.kind.rawValue) of \(count) refused: \(error)"))
        case .rateLimited:
            unchanged = false
            outcome.rateLimited = true
        default:
            unchanged = false
        }
        guard !unchanged else { return }
        outcome.reasons.append(
            Reason(.venueUnavailable, "\(request.kind.rawValue) of \(count) unanswered, looked up: \(error)"))
        for (index, id) in request.clientOrderIds.enumerated() { unknown(id, in: request, index: index, &outcome, nil) }
    }

    /// Marks `id` for a lookup; a place is held as possibly live meanwhile, anything else keeps its state.
    private mutating func unknown(
        _ id: String, in request: QuoteRequest, index: Int, _ outcome: inout QuoteOutcome, _ detail: String?
    ) {
        outcome.uncertain.append(id)
        if let detail { outcome.reasons.append(Reason(.venueUnavailable, detail)) }
        if request.kind == .place, index < request.quotes.count, byClientOrderId[id] == nil {
            let quote = request.quotes[index]
            // placedAt 0: if it is live, it is old enough to be replaced first.
            byClientOrderId[id] = RestingQuote(
                clientOrderId: id, side: quote.side, tier: quote.tier, price: quote.price, size: quote.size, placedAt: 0
            )
        }
    }

    private func noteRateLimit(_ message: String, _ outcome: inout QuoteOutcome) {
        guard message.hasPrefix(Self.cumulativeLimitPrefix) else { return }
        outcome.rateLimited = true
        outcome.cumulativeLimitMessage = message
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
