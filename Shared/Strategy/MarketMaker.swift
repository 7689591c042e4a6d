import Foundation
import Market
import Schema

/// What a market maker is doing on one symbol, for `/status` and the metrics.
public struct MarketMakerStatus: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable {
        /// Nothing evaluated yet.
        case waiting
        /// At least one quote wanted.
        case quoting
        /// No quote wanted; `reasons` say why.
        case withdrawn
    }

    public var symbol: String
    public var state: State
    /// The reasons of the latest evaluation (published or not).
    public var reasons: [Reason]
    public var bidsWanted: Int
    public var asksWanted: Int
    /// The microprice of the latest sound book.
    public var referencePrice: Amount?
    public var spreadBps: Double
    /// Realised volatility per bar; nil until enough bars closed.
    public var volatility: Double?
    /// Signed position in the base asset.
    public var inventory: Amount
    /// In base units, fixed at the first sound book; nil before it.
    public var inventoryTarget: Amount?
    public var maxInventory: Amount?
    public var tierSizes: [Amount]
    public var adverseSelectionDetections: Int
    public var fillsSeen: Int
    /// Book updates, fills and bars that were not used (other symbol, malformed, out of order, repeated).
    public var inputsIgnored: Int
    public var targetsPublished: UInt64
    public var lastTargetId: String?
    public var lastPublishedAt: EpochNanos?
    /// A side waiting out `filledOrderDelayMs` until then.
    public var bidWaitsUntil: EpochNanos?
    public var askWaitsUntil: EpochNanos?
}

/// Pure market making on one symbol (Hummingbot's `pure_market_making`, with the `Quoter`'s
/// ladder): every input may produce the whole set of quotes wanted resting now, as a
/// `QuoteTarget` with the reasons behind it. Deterministic and pure; time comes in as `now`.
///
/// - Reference price: the microprice of the best `microLevels` levels (`BookUpdate.microprice`,
///   the mid weighted by the opposite side's size, within the touch), to a hundredth of the
///   instrument's finest price step; the imbalance is read over the same levels.
/// - Sizes: at the first sound book the ladder is sized once in base units: tier 0 is
///   `baseNotional` / reference, tier i = tier 0 × sizeDecay^i on the instrument's size grid
///   (the `Quoter`'s ladder); the maximum inventory is `maxInventoryNotional` / reference and
///   the inventory target `inventoryTargetNotional` / reference, on the size grid. They are kept
///   afterwards, whatever the price does, so that resting orders keep their sizes and can be
///   recycled; a restart sizes again.
/// - Spread: the `Quoter`'s min · (max/min)^t on the realised volatility of the bar closes
///   (`volatilityBars` returns, per bar); until enough bars closed, the widest spread. A spread
///   above the minimum carries reason `volatility_spread`.
/// - Inventory: skew, size shrink and limits act on inventory − target (the `Quoter`'s rules),
///   so inventory stays within target ± maxInventory. Fills move the inventory; `onPosition`
///   (the account snapshot) overrides it.
/// - Withdrawal: an empty target with reason `book_unsound` when the feed says stale or ended,
///   no book came for `staleBookMs`, the book is malformed, a side has fewer than
///   `minBookLevels` levels or less than `minDepthNotional` within `microLevels`, or the book
///   is crossed or locked. The next sound book resumes quoting.
/// - Filled-order delay: a fill of one of our quotes (a fill with a `quoteTier`) on side S stops
///   side S until fill time + `filledOrderDelayMs` (reason `filled_order_delay`).
/// - Price band: quotes further than `priceBandBps` from the reference, bids above
///   `priceCeiling` and asks below `priceFloor` are dropped (reason `price_band`).
/// - Publishing: a target is published when the wanted quotes change, when the reasons
///   change (by code and by their detail with the numbers taken out: a new cause publishes, a
///   moving number alone does not), or when `keepaliveMs` passed since the last one. Each
///   one has the next sequence (from 1), id "\(idPrefix)-\(symbol)-\(sequence)", createdAt =
///   now and expiresAt = now + `quoteLifetimeMs`.
public struct MarketMaker: Sendable {
    public let symbol: String
    public let instrument: Instrument
    public let settings: MarketMakingSettings
    public let strategy: String
    public let idPrefix: String

    /// The ladder and its adverse-selection memory; nil until the first sound book sized it.
    public private(set) var quoter: Quoter?
    /// Signed position in the base asset.
    public private(set) var inventory: Amount = .zero
    /// In base units; nil until sized.
    public private(set) var inventoryTarget: Amount?
    public private(set) var sequence: UInt64 = 0

    private var volatility: RealisedVolatility
    private var barsSeen = 0
    private var lastBarOpen: EpochNanos?
    private var lastBook: BookUpdate?
    private var lastBookAt: EpochNanos?
    private var feedFault: String?
    private var bidWaitsUntil: EpochNanos?
    private var askWaitsUntil: EpochNanos?
    private var recentFillIds: [String] = []
    private var fillsSeen = 0
    private var inputsIgnored = 0
    private var current: Evaluation?
    private var published: Fingerprint?
    private var lastPublishedAt: EpochNanos?
    private var lastTargetId: String?

    /// Fill ids remembered to ignore a repeated fill.
    static let rememberedFills = 256

    public init(
        symbol: String, instrument: Instrument, settings: MarketMakingSettings, strategy: String = "market_making",
        idPrefix: String
    ) throws(StrategyConfigError) {
        var problems: [String] = []
        do { try settings.validate() } catch { problems += error.problems }
        if symbol.isEmpty { problems.append("symbol must not be empty") }
        if instrument.symbol != symbol {
            problems.append("instrument \(instrument.symbol) is not the symbol \(symbol)")
        }
        if !(0...18).contains(instrument.szDecimals) {
            problems.append("instrument szDecimals \(instrument.szDecimals) must be in [0, 18]")
        }
        if strategy.isEmpty { problems.append("strategy must not be empty") }
        if idPrefix.isEmpty { problems.append("idPrefix must not be empty") }
        try StrategyConfigError.check(problems)
        self.symbol = symbol
        self.instrument = instrument
        self.settings = settings
        self.strategy = strategy
        self.idPrefix = idPrefix
        self.volatility = RealisedVolatility(period: settings.volatilityBars)
    }

    // MARK: Inputs

    /// A new target when the wanted quotes or their reasons changed, or the keepalive is due;
    /// nil otherwise. A book for another symbol or older (by exchange time) than the last one
    /// is ignored.
    public mutating func onBook(_ book: BookUpdate, now: EpochNanos) -> QuoteTarget? {
        guard book.symbol == symbol else {
            inputsIgnored += 1
            return nil
        }
        if let last = lastBook, book.exchangeTime < last.exchangeTime {
            inputsIgnored += 1
            return nil
        }
        lastBook = book
        lastBookAt = now
        // Books flowing mean the feed is live again, as the feed handler itself decides.
        feedFault = nil
        return publishIfDue(evaluate(now: now, observe: true), now: now)
    }

    /// A closed bar: its close feeds the realised volatility behind the spread. Bars of another
    /// symbol or interval, not after the previous one, or without a positive close are ignored.
    public mutating func onBar(_ bar: Bar) {
        let close = bar.close.doubleValue
        guard bar.symbol == symbol, close > 0, close.isFinite,
            settings.volatilityIntervalSeconds.map({ $0 == bar.intervalSeconds }) ?? true,
            lastBarOpen.map({ bar.openTime > $0 }) ?? true
        else {
            inputsIgnored += 1
            return
        }
        lastBarOpen = bar.openTime
        barsSeen += 1
        _ = volatility.update(close)
    }

    /// A fill on this symbol: it moves the inventory; a fill of one of our quotes also feeds
    /// the adverse-selection monitor and starts the filled side's delay. A repeated fill id,
    /// another symbol or a size or price that is not positive is ignored.
    public mutating func onFill(_ fill: Fill) {
        guard fill.symbol == symbol, fill.size.isPositive, fill.price.isPositive,
            !recentFillIds.contains(fill.fillId)
        else {
            inputsIgnored += 1
            return
        }
        if recentFillIds.count >= Self.rememberedFills { recentFillIds.removeFirst() }
        recentFillIds.append(fill.fillId)
        fillsSeen += 1
        inventory += fill.side == .buy ? fill.size : -fill.size
        guard fill.isQuote else { return }
        quoter?.onFill(fill)
        guard settings.filledOrderDelayMs > 0 else { return }
        let until = later(fill.time, by: Int64(settings.filledOrderDelayMs) * 1_000_000)
        switch fill.side {
        case .buy: bidWaitsUntil = max(bidWaitsUntil ?? until, until)
        case .sell: askWaitsUntil = max(askWaitsUntil ?? until, until)
        }
    }

    /// The position from the account snapshot: authoritative, it replaces the inventory
    /// counted from fills.
    public mutating func onPosition(_ size: Amount) {
        guard !size.isNaN else {
            inputsIgnored += 1
            return
        }
        inventory = size
    }

    /// The feed's word on this symbol (or on every symbol, when it names none): stale or ended
    /// withdraws every quote and forgets the book; live (or the next book) lets the next
    /// sound book resume.
    public mutating func onFeedStatus(_ status: FeedStatus, now: EpochNanos) -> QuoteTarget? {
        guard status.symbol == nil || status.symbol == symbol else { return nil }
        switch status.state {
        case .live:
            guard feedFault != nil else { return nil }
            feedFault = nil
        case .stale, .ended:
            let detail = status.detail.isEmpty ? "" : ": \(status.detail)"
            feedFault = "feed \(status.state.rawValue) from \(status.source)\(detail)"
            lastBook = nil
            lastBookAt = nil
        }
        return publishIfDue(evaluate(now: now, observe: false), now: now)
    }

    /// The clock moved: a book older than `staleBookMs` withdraws, a filled-order delay that
    /// ended brings its side back, and an unchanged target is republished when the keepalive
    /// is due. Before any book it publishes an empty target (which also clears whatever an
    /// earlier run left resting).
    public mutating func tick(now: EpochNanos) -> QuoteTarget? {
        publishIfDue(evaluate(now: now, observe: false), now: now)
    }

    /// The first time after `time` at which the clock alone can change what `tick` returns: the
    /// keepalive, the book going stale, a filled side's delay ending; nil when only news can. A
    /// backtest ticks then instead of at every tick of a quiet stretch.
    public func nextWake(after time: EpochNanos) -> EpochNanos? {
        var times: [EpochNanos] = []
        if let lastPublishedAt { times.append(later(lastPublishedAt, by: Int64(settings.keepaliveMs) * 1_000_000)) }
        if let lastBookAt, feedFault == nil { times.append(later(lastBookAt, by: Int64(settings.staleBookMs) * 1_000_000 + 1)) }
        if let bidWaitsUntil { times.append(bidWaitsUntil) }
        if let askWaitsUntil { times.append(askWaitsUntil) }
        return times.filter { $0 > time }.min()
    }

    public var status: MarketMakerStatus {
        let state: MarketMakerStatus.State =
            current.map { $0.quotes.isEmpty ? .withdrawn : .quoting } ?? .waiting
        return MarketMakerStatus(
            symbol: symbol, state: state, reasons: current?.reasons ?? [],
            bidsWanted: current?.quotes.count { $0.side == .buy } ?? 0,
            asksWanted: current?.quotes.count { $0.side == .sell } ?? 0,
            referencePrice: current?.referencePrice, spreadBps: current?.spreadBps ?? 0,
            volatility: volatility.value, inventory: inventory, inventoryTarget: inventoryTarget,
            maxInventory: quoter?.settings.maxInventory, tierSizes: quoter?.tierSizes ?? [],
            adverseSelectionDetections: quoter?.adverseSelection.detections ?? 0, fillsSeen: fillsSeen,
            inputsIgnored: inputsIgnored, targetsPublished: sequence, lastTargetId: lastTargetId,
            lastPublishedAt: lastPublishedAt, bidWaitsUntil: bidWaitsUntil, askWaitsUntil: askWaitsUntil)
    }

    // MARK: Evaluation

    /// The quotes wanted now and why.
    struct Evaluation: Sendable, Equatable {
        var quotes: [QuoteLevel]
        var reasons: [Reason]
        var referencePrice: Amount?
        var reservationPrice: Amount?
        var spreadBps: Double = 0
        var bidHalfSpreadBps: Double = 0
        var askHalfSpreadBps: Double = 0

        static func withdrawn(_ reason: Reason) -> Evaluation {
            Evaluation(quotes: [], reasons: [reason], referencePrice: nil, reservationPrice: nil)
        }
    }

    /// What decides whether a target is new: the quotes, and the reasons without their numbers.
    struct Fingerprint: Sendable, Equatable {
        var quotes: [QuoteLevel]
        var reasons: [String]

        init(_ evaluation: Evaluation) {
            quotes = evaluation.quotes
            reasons = evaluation.reasons.map { reason in
                reason.code.rawValue + ":" + String(reason.detail.unicodeScalars.filter { !("0"..."9").contains($0) })
            }
        }
    }

    private mutating func evaluate(now: EpochNanos, observe: Bool) -> Evaluation {
        if let problem = unsoundness(now: now) { return .withdrawn(Reason(.bookUnsound, problem)) }
        guard let book = lastBook else { return .withdrawn(Reason(.bookUnsound, "no book")) }
        // A hundredth of the finest price step is all the precision a quote can use; the raw
        // microprice carries 38 digits, and every decimal operation after it pays for them.
        guard
            let reference = book.microprice(levels: settings.microLevels)?
                .rounded(scale: instrument.maxPriceDecimals + 2), reference.isPositive
        else {
            return .withdrawn(
                Reason(.noReferencePrice, "no microprice from the top \(settings.microLevels) levels"))
        }
        if quoter == nil, let problem = sizeLadder(at: reference) {
            return .withdrawn(Reason(.ladderTooSmall, problem))
        }
        guard quoter != nil else { return .withdrawn(Reason(.ladderTooSmall, "ladder not sized")) }

        let input = QuoteInput(
            referencePrice: reference, bestBid: book.bids.first?.price, bestAsk: book.asks.first?.price,
            volatility: volatility.value ?? .nan, imbalance: book.imbalance(levels: settings.microLevels) ?? 0,
            inventory: inventory - (inventoryTarget ?? .zero), now: now)
        let plan = observe ? quoter!.quote(input) : quoter!.plan(input)

        var reasons: [Reason] = []
        if volatility.value == nil {
            reasons.append(
                Reason(
                    .volatilitySpread,
                    "volatility not known yet (\(barsSeen) of \(settings.volatilityBars + 1) bars): widest spread "
                        + "\(formatted(plan.spreadBps)) bps"))
        } else if plan.spreadBps > settings.minSpreadBps * (1 + 1e-9) {
            reasons.append(
                Reason(
                    .volatilitySpread,
                    "spread \(formatted(plan.spreadBps)) bps from realised volatility "
                        + String(format: "%.6f", volatility.value ?? 0) + " per bar (minimum "
                        + "\(formatted(settings.minSpreadBps)) bps)"))
        }
        reasons += plan.reasons

        var bids = plan.bids
        var asks = plan.asks
        for (side, waitsUntil) in [(Side.buy, bidWaitsUntil), (.sell, askWaitsUntil)] {
            guard let waitsUntil, now < waitsUntil else { continue }
            let name = side == .buy ? "bid" : "ask"
            let leftMs = elapsed(from: now, to: waitsUntil) / 1_000_000
            reasons.append(
                Reason(
                    .filledOrderDelay,
                    "\(name) side waits \(leftMs) ms more after a fill (filled order delay "
                        + "\(settings.filledOrderDelayMs) ms)"))
            if side == .buy { bids = [] } else { asks = [] }
        }

        let band = (reference * Amount(settings.priceBandBps)).scaled(byPowerOfTen: -4)
        func drop(_ quotes: inout [Quote], _ name: String, _ outside: (Amount) -> Bool, _ why: String) {
            let kept = quotes.filter { !outside($0.price) }
            let dropped = quotes.count - kept.count
            guard dropped > 0 else { return }
            quotes = kept
            reasons.append(Reason(.priceBand, "\(name): \(dropped) tiers \(why) dropped"))
        }
        drop(&bids, "bid", { $0 < reference - band }, "beyond \(formatted(settings.priceBandBps)) bps of \(reference)")
        drop(&asks, "ask", { $0 > reference + band }, "beyond \(formatted(settings.priceBandBps)) bps of \(reference)")
        if let ceiling = settings.priceCeiling {
            drop(&bids, "bid", { $0 > ceiling }, "above the price ceiling \(ceiling)")
        }
        if let floor = settings.priceFloor {
            drop(&asks, "ask", { $0 < floor }, "below the price floor \(floor)")
        }

        // A side the quoter left empty with no inventory reason: every tier too small to quote.
        for (side, planned) in [(Side.buy, plan.bids), (.sell, plan.asks)] where planned.isEmpty {
            let name = side == .buy ? "bid" : "ask"
            let explained = plan.reasons.contains { $0.code == .inventoryLimit && $0.detail.hasPrefix(name) }
            guard !explained else { continue }
            reasons.append(
                Reason(
                    .ladderTooSmall,
                    "\(name) side empty: every tier is below the minimum lot \(settings.minimumLot) or the "
                        + "minimum order value \(instrument.minOrderValue)"))
        }

        let level = { (quote: Quote) in
            QuoteLevel(side: quote.side, tier: quote.tier, price: quote.price, size: quote.size)
        }
        return Evaluation(
            quotes: bids.map(level) + asks.map(level), reasons: reasons, referencePrice: reference,
            reservationPrice: plan.reservationPrice, spreadBps: plan.spreadBps,
            bidHalfSpreadBps: plan.bidHalfSpreadBps, askHalfSpreadBps: plan.askHalfSpreadBps)
    }

    /// Why the book must not be quoted on now, or nil when it is sound.
    private func unsoundness(now: EpochNanos) -> String? {
        if let feedFault { return feedFault }
        guard let book = lastBook, let receivedAt = lastBookAt else { return "no book received yet" }
        let age = elapsed(from: receivedAt, to: now)
        if age > Int64(settings.staleBookMs) * 1_000_000 {
            return "no book for \(age / 1_000_000) ms (stale after \(settings.staleBookMs) ms)"
        }
        if let malformation = book.malformation { return "malformed book: \(malformation)" }
        var thin: [String] = []
        if book.bids.count < settings.minBookLevels { thin.append("bid side has \(book.bids.count) levels") }
        if book.asks.count < settings.minBookLevels { thin.append("ask side has \(book.asks.count) levels") }
        if !thin.isEmpty {
            return thin.joined(separator: ", ") + "; \(settings.minBookLevels) required"
        }
        if book.isCrossedOrLocked, let bid = book.bids.first?.price, let ask = book.asks.first?.price {
            return bid == ask
                ? "locked book: best bid = best ask = \(bid)" : "crossed book: best bid \(bid) > best ask \(ask)"
        }
        if settings.minDepthNotional.isPositive {
            var shallow: [String] = []
            for side in [BookSide.bid, .ask] {
                let depth = book.depthNotional(side, levels: settings.microLevels)
                if depth < settings.minDepthNotional {
                    shallow.append("\(side.rawValue) depth \(depth.rounded(scale: 2))")
                }
            }
            if !shallow.isEmpty {
                return shallow.joined(separator: ", ")
                    + " in the top \(settings.microLevels) levels; \(settings.minDepthNotional) required"
            }
        }
        return nil
    }

    /// Fixes the ladder, the inventory limit and target in base units at `reference`; the
    /// problem when they cannot be (then the next sound book tries again).
    private mutating func sizeLadder(at reference: Amount) -> String? {
        let maxInventory = instrument.roundSize(settings.maxInventoryNotional / reference, .down)
        let quoterSettings = QuoterSettings(
            tiersPerSide: settings.tiers, baseSize: settings.baseNotional / reference, sizeDecay: settings.sizeDecay,
            minimumLot: settings.minimumLot, tierSizeRounding: settings.tierSizeRounding,
            tierSpacingBps: settings.tierSpacingBps, minSpreadBps: settings.minSpreadBps,
            maxSpreadBps: settings.maxSpreadBps, volatilityLow: settings.volatilityLow,
            volatilityHigh: settings.volatilityHigh, imbalanceWidening: settings.imbalanceWidening,
            maxSideWidening: settings.maxSideWidening, adverseSelection: settings.adverseSelection,
            maxInventory: maxInventory, inventorySkewBps: settings.inventorySkewBps,
            inventorySizeShrink: settings.inventorySizeShrink)
        do {
            try quoterSettings.validate()
        } catch {
            return "ladder cannot be sized at reference \(reference): " + error.problems.joined(separator: "; ")
        }
        quoter = Quoter(instrument: instrument, settings: quoterSettings)
        inventoryTarget = instrument.roundSize(settings.inventoryTargetNotional / reference, .plain)
        return nil
    }

    // MARK: Publishing

    private mutating func publishIfDue(_ evaluation: Evaluation, now: EpochNanos) -> QuoteTarget? {
        current = evaluation
        let fingerprint = Fingerprint(evaluation)
        let keepaliveDue = lastPublishedAt.map {
            elapsed(from: $0, to: now) >= Int64(settings.keepaliveMs) * 1_000_000
        } ?? true
        guard fingerprint != published || keepaliveDue else { return nil }
        sequence += 1
        published = fingerprint
        lastPublishedAt = now
        let targetId = "\(idPrefix)-\(symbol)-\(sequence)"
        lastTargetId = targetId
        return QuoteTarget(
            targetId: targetId, symbol: symbol, strategy: strategy, sequence: sequence, quotes: evaluation.quotes,
            referencePrice: evaluation.referencePrice, reservationPrice: evaluation.reservationPrice,
            spreadBps: evaluation.spreadBps, bidHalfSpreadBps: evaluation.bidHalfSpreadBps,
            askHalfSpreadBps: evaluation.askHalfSpreadBps, inventory: inventory,
            maxInventory: quoter?.settings.maxInventory ?? .zero, refresh: settings.refresh,
            reasons: evaluation.reasons, createdAt: now,
            expiresAt: later(now, by: Int64(settings.quoteLifetimeMs) * 1_000_000))
    }
}

/// to − from, saturated instead of trapping on absurd times.
func elapsed(from: EpochNanos, to: EpochNanos) -> Int64 {
    let (difference, overflow) = to.subtractingReportingOverflow(from)
    return overflow ? (to > from ? .max : .min) : difference
}

/// time + duration, saturated.
func later(_ time: EpochNanos, by duration: Int64) -> EpochNanos {
    let (sum, overflow) = time.addingReportingOverflow(duration)
    return overflow ? (duration > 0 ? .max : .min) : sum
}
