import Schema

/// One pass of quote reconciliation on a symbol: what to keep, cancel, modify and place so that
/// what rests becomes what the risk gate approved. Sent in this order: cancels first (they free
/// margin and never wait for the budget), then modifies, then places.
public struct QuotePass: Sendable, Equatable {
    /// A resting quote re-priced or re-sized in place (`batchModify`): it keeps its client order id.
    public struct Modify: Sendable, Hashable {
        public var clientOrderId: String
        /// The order as it rests now.
        public var from: RestingQuote
        public var to: QuoteLevel

        public init(clientOrderId: String, from: RestingQuote, to: QuoteLevel) {
            self.clientOrderId = clientOrderId
            self.from = from
            self.to = to
        }
    }

    /// A new quote order under a new client order id.
    public struct Place: Sendable, Hashable {
        public var clientOrderId: String
        public var quote: QuoteLevel

        public init(clientOrderId: String, quote: QuoteLevel) {
            self.clientOrderId = clientOrderId
            self.quote = quote
        }
    }

    public var symbol: String
    /// The approval this pass works towards (nil: none known, everything is withdrawn).
    public var targetId: String?
    public var sequence: UInt64?
    public var keeps: [RestingQuote]
    /// Client order ids to cancel.
    public var cancels: [String]
    /// Nearest the touch first.
    public var modifies: [Modify]
    /// Nearest the touch first.
    public var places: [Place]
    /// Modifies and places wanted but left for a later pass (request budget).
    public var deferred: Int
    /// Resting quotes older than `maxOrderAgeMs`: never kept, so modified or canceled.
    public var aged: Int
    public var reasons: [Reason]

    public init(
        symbol: String, targetId: String?, sequence: UInt64?, keeps: [RestingQuote], cancels: [String],
        modifies: [Modify], places: [Place], deferred: Int, aged: Int = 0, reasons: [Reason]
    ) {
        self.symbol = symbol
        self.targetId = targetId
        self.sequence = sequence
        self.keeps = keeps
        self.cancels = cancels
        self.modifies = modifies
        self.places = places
        self.deferred = deferred
        self.aged = aged
        self.reasons = reasons
    }

    /// Address requests this pass sends: every cancel, modify and order counts one.
    public var requestCount: Int { cancels.count + modifies.count + places.count }
    /// Requests that are not cancels: what the request budget's non-cancel allowance must cover.
    public var nonCancelCount: Int { modifies.count + places.count }
    public var isEmpty: Bool { requestCount == 0 }
}

/// The executor's quote reconciliation rules (desired against live), pure and deterministic.
///
/// - No approval, an expired one (now > expiresAt) or an empty one: cancel every resting quote.
/// - A resting order whose size equals a wanted quote's and whose price is within
///   `refresh.toleranceBps` of it is kept (a maximal matching per side and size), unless it is older
///   than `refresh.maxOrderAgeMs` (> 0): then it is replaced.
/// - The remaining resting orders and wanted quotes are paired per side, nearest the touch first, and
///   modified in place when `refresh.allowModify`; otherwise (and for what is left unpaired) canceled
///   and placed.
/// - When the non-cancel allowance is smaller than the modifies and places, cancels still all go; the
///   modifies and places nearest the touch (lowest tier, bid and ask alternating) go first and the rest
///   is deferred with a `requestBudget` reason.
///
/// New client order ids are derived, never drawn: `Identifier.clientOrderId(forIntent:
/// "quote|symbol|instance|sequence|side|tier|n")` where `instance` is the executor instance and `n`
/// counts every id this reconciler has issued, so no two orders of one executor instance share one.
public struct QuoteReconciliation: Sendable, Equatable {
    /// The executor instance (random per process start).
    public let instance: String
    /// Client order ids issued so far.
    public private(set) var issued: UInt64

    public init(instance: String, issued: UInt64 = 0) {
        self.instance = instance
        self.issued = issued
    }

    /// The pass from `resting` towards `approved` at `now`, with at most `nonCancelAllowance`
    /// modifies and places (nil: unlimited).
    public mutating func pass(
        symbol: String, approved: ApprovedQuotes?, resting: [RestingQuote], now: EpochNanos,
        nonCancelAllowance: Int? = nil
    ) -> QuotePass {
        var reasons: [Reason] = []
        // Two resting records under one client order id cannot both be live: keep the first.
        var seen = Set<String>()
        let resting = resting.filter { seen.insert($0.clientOrderId).inserted }

        func withdrawAll(_ reason: Reason) -> QuotePass {
            QuotePass(
                symbol: symbol, targetId: approved?.targetId, sequence: approved?.sequence, keeps: [],
                cancels: resting.map(\.clientOrderId), modifies: [], places: [], deferred: 0,
                reasons: reasons + [reason])
        }
        guard let approved else {
            return withdrawAll(Reason(.quotesExpired, "no approved quotes for \(symbol): withdraw \(resting.count)"))
        }
        if let other = approved.symbol, other != symbol {
            return withdrawAll(Reason(.invalidIntent, "approval \(approved.targetId) is for \(other), not \(symbol)"))
        }
        if now > approved.expiresAt {
            let late = now.saturatingMinus(approved.expiresAt) / 1_000_000
            return withdrawAll(
                Reason(
                    .quotesExpired,
                    "approval \(approved.targetId) seq \(approved.sequence) expired \(late) ms ago: withdraw \(resting.count)"
                ))
        }
        let wanted = Self.sound(approved.quotes, reasons: &reasons)
        if wanted.isEmpty {
            // The risk gate's reasons say why (trading state, limits); the last one closes the pass.
            var why = approved.reasons
            let last = why.popLast() ?? Reason(.quotesExpired, "approval \(approved.targetId) is empty")
            reasons += why
            return withdrawAll(last)
        }

        let refresh = approved.refresh
        // At most 10^12 ms (30 years) so that the nanoseconds fit.
        let maxAge = Int64(min(max(0, refresh.maxOrderAgeMs), 1_000_000_000_000)) * 1_000_000
        let oldestKept = now.saturatingMinus(maxAge)
        var keeps: [RestingQuote] = []
        var cancels: [String] = []
        var modifies: [QuotePass.Modify] = []
        var wantedPlaces: [QuoteLevel] = []
        var aged = 0
        for side in Side.allCases {
            let sideWanted = wanted.filter { $0.side == side }
            let sideResting = resting.filter { $0.side == side }
            let fresh = sideResting.filter { maxAge == 0 || $0.placedAt >= oldestKept }
            aged += sideResting.count - fresh.count
            let (kept, freeWanted) = Self.keepMatching(
                wanted: sideWanted, resting: fresh, toleranceBps: refresh.toleranceBps)
            let keptIds = Set(kept.map(\.clientOrderId))
            let nearer: (Amount, Amount) -> Bool = side == .buy ? { $0 > $1 } : { $0 < $1 }
            keeps += kept.sorted { nearer($0.price, $1.price) }
            let freeResting = sideResting.filter { !keptIds.contains($0.clientOrderId) }
                .sorted { nearer($0.price, $1.price) }
            let wantedOrdered = freeWanted.sorted { nearer($0.price, $1.price) }
            let paired = refresh.allowModify ? min(wantedOrdered.count, freeResting.count) : 0
            for index in 0..<paired {
                modifies.append(
                    QuotePass.Modify(
                        clientOrderId: freeResting[index].clientOrderId, from: freeResting[index],
                        to: wantedOrdered[index]))
            }
            cancels += freeResting.dropFirst(paired).map(\.clientOrderId)
            wantedPlaces += wantedOrdered.dropFirst(paired)
        }

        // Nearest the touch first across both sides: tier 0 bid, tier 0 ask, tier 1 bid, …
        enum Work {
            case modify(QuotePass.Modify)
            case place(QuoteLevel)
        }
        func rank(_ work: Work) -> (Int, Int) {
            let quote: QuoteLevel
            switch work {
            case .modify(let m): quote = m.to
            case .place(let q): quote = q
            }
            return (quote.tier, quote.side == .buy ? 0 : 1)
        }
        var work = modifies.map(Work.modify) + wantedPlaces.map(Work.place)
        work = work.enumerated().sorted { lhs, rhs in
            let (a, b) = (rank(lhs.element), rank(rhs.element))
            return a != b ? a < b : lhs.offset < rhs.offset
        }.map(\.element)
        var deferred = 0
        if let allowance = nonCancelAllowance, work.count > max(0, allowance) {
            let allowed = max(0, allowance)
            deferred = work.count - allowed
            reasons.append(
                Reason(
                    .requestBudget,
                    "\(work.count) modifies and places wanted, \(allowed) allowed now: \(deferred) deferred (\(cancels.count) cancels sent)"
                ))
            work = Array(work.prefix(allowed))
        }
        var chosenModifies: [QuotePass.Modify] = []
        var places: [QuotePass.Place] = []
        for item in work {
            switch item {
            case .modify(let m): chosenModifies.append(m)
            case .place(let quote):
                places.append(
                    QuotePass.Place(
                        clientOrderId: nextClientOrderId(symbol: symbol, sequence: approved.sequence, quote: quote),
                        quote: quote))
            }
        }
        return QuotePass(
            symbol: symbol, targetId: approved.targetId, sequence: approved.sequence, keeps: keeps, cancels: cancels,
            modifies: chosenModifies, places: places, deferred: deferred, aged: aged, reasons: reasons)
    }

    /// The pass within what `budget` allows at `now`; when it defers work, the budget's own reason
    /// (reserve or pacing, with its numbers) follows the pass's.
    public mutating func pass(
        symbol: String, approved: ApprovedQuotes?, resting: [RestingQuote], now: EpochNanos, budget: RequestBudget
    ) -> QuotePass {
        let allowance = budget.allowance(now: now)
        var result = pass(
            symbol: symbol, approved: approved, resting: resting, now: now, nonCancelAllowance: allowance.nonCancel)
        if result.deferred > 0, let reason = allowance.reason { result.reasons.append(reason) }
        return result
    }

    /// The next client order id for a new quote order.
    mutating func nextClientOrderId(symbol: String, sequence: UInt64, quote: QuoteLevel) -> String {
        issued += 1
        return Identifier.clientOrderId(
            forIntent: "quote|\(symbol)|\(instance)|\(sequence)|\(quote.side.rawValue)|\(quote.tier)|\(issued)")
    }

    /// The wanted quotes that can be orders: positive price and size, one per side and tier.
    static func sound(_ quotes: [QuoteLevel], reasons: inout [Reason]) -> [QuoteLevel] {
        var seen = Set<String>()
        var out: [QuoteLevel] = []
        for quote in quotes {
            guard quote.price.isPositive, quote.size.isPositive, !quote.price.isNaN, !quote.size.isNaN else {
                reasons.append(
                    Reason(
                        .invalidIntent,
                        "\(quote.side.rawValue) tier \(quote.tier) dropped: price \(quote.price) size \(quote.size)"))
                continue
            }
            guard seen.insert("\(quote.side.rawValue)|\(quote.tier)").inserted else {
                reasons.append(
                    Reason(.invalidIntent, "\(quote.side.rawValue) tier \(quote.tier) dropped: tier repeated"))
                continue
            }
            out.append(quote)
        }
        return out
    }

    /// The most resting orders kept: per size, wanted prices ascending each take the lowest free resting
    /// price within their tolerance. The intervals [p(1 − tol), p(1 + tol)] have both ends rising with
    /// p, so this greedy matching is maximal. Returns the kept orders and the wanted quotes left free.
    static func keepMatching(
        wanted: [QuoteLevel], resting: [RestingQuote], toleranceBps: Double
    ) -> (kept: [RestingQuote], free: [QuoteLevel]) {
        let tolerance = Amount(max(0, toleranceBps.isFinite ? toleranceBps : 0))
        var kept: [RestingQuote] = []
        var keptWanted = Set<Int>()
        // Grouped by size in one sweep each (hashing), not by comparing every quote with every size.
        var wantedBySize: [Amount: [Int]] = [:]
        for index in wanted.indices { wantedBySize[wanted[index].size, default: []].append(index) }
        var restingBySize: [Amount: [RestingQuote]] = [:]
        for quote in resting where wantedBySize[quote.size] != nil {
            restingBySize[quote.size, default: []].append(quote)
        }
        for size in wantedBySize.keys.sorted() {
            let wantedIndices = (wantedBySize[size] ?? []).sorted { wanted[$0].price < wanted[$1].price }
            let candidates = (restingBySize[size] ?? []).sorted { $0.price < $1.price }
            var cursor = 0
            for w in wantedIndices {
                let price = wanted[w].price
                let slack = (price * tolerance).scaled(byPowerOfTen: -4)
                while cursor < candidates.count, candidates[cursor].price < price - slack { cursor += 1 }
                if cursor < candidates.count, candidates[cursor].price <= price + slack {
                    keptWanted.insert(w)
                    kept.append(candidates[cursor])
                    cursor += 1
                }
            }
        }
        return (kept, wanted.indices.filter { !keptWanted.contains($0) }.map { wanted[$0] })
    }
}

extension Int64 {
    /// self − other, held at the ends of the range instead of trapping (timestamps from the bus are
    /// not trusted to be sane).
    func saturatingMinus(_ other: Int64) -> Int64 {
        let (value, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other > 0 ? .min : .max) : value
    }

    func saturatingPlus(_ other: Int64) -> Int64 {
        let (value, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : value
    }
}

extension QuotePass {
    /// The pass as the executor's order commands: post-only limits, never reduce-only (a quote may
    /// open a position), each tagged with its tier; cancels first, then modifies, then places.
    public func orderCommands(approval: ApprovedQuotes?, now: EpochNanos) -> [OrderCommand] {
        let strategy = approval?.strategy ?? "market_making"
        let intent = approval?.targetId ?? "withdraw"
        func command(_ action: OrderCommand.Action, _ id: String, _ quote: QuoteLevel) -> OrderCommand {
            OrderCommand(
                action: action, clientOrderId: id, intentId: intent, symbol: symbol, side: quote.side, size: quote.size,
                orderType: .limit, price: quote.price, timeInForce: .alo, reduceOnly: false, purpose: .entry,
                strategy: strategy, ackDeadline: now + 5_000_000_000, quoteTier: quote.tier)
        }
        var out: [OrderCommand] = []
        for id in cancels {
            out.append(command(.cancel, id, QuoteLevel(side: .buy, tier: 0, price: .zero, size: .zero)))
        }
        for modify in modifies { out.append(command(.modify, modify.clientOrderId, modify.to)) }
        for place in places { out.append(command(.place, place.clientOrderId, place.quote)) }
        return out
    }
}
