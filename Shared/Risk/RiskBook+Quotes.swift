import Schema

/// A market maker's quotes: the strategy's whole wanted set is checked at once and clipped to what
/// may rest. The approved set is the symbol's reservation: its worst case (every bid, or every
/// ask, filled) counts in the symbol's and the book's exposure until a newer set or its expiry
/// replaces it.
extension RiskBook {
    /// Clips `target` to the limits and the trading state and remembers it as the symbol's
    /// approved quotes. Rules, in order: SYNCING, HALTED and the kill switch rest nothing; an
    /// expired target or unknown symbol rests nothing; REDUCING keeps only the side that shrinks
    /// the position, at most its size; then per quote, nearest the touch first on each side:
    /// order notional (shrunk), the quote inventory (the side that would grow a position already
    /// at `maxQuoteInventory` is removed), the symbol's worst case (position plus the side's
    /// quotes ≤ `maxSymbolNotional`), gross exposure, and the minimum order value.
    public mutating func approve(_ target: QuoteTarget, now: EpochNanos) -> ApprovedQuotes {
        advanceClock(now)
        let symbol = target.symbol ?? ""
        quoteTargets[symbol] = target
        let approved = clip(target, now: now)
        approvedQuotes[symbol] = approved.quotes.isEmpty ? nil : approved
        refreshExposure(symbol)
        return approved
    }

    /// After a change of trading state, kill switch or position: every remembered target judged
    /// again; the approvals that changed are returned for the gate to publish (HALTED: all empty).
    public mutating func reapproveQuotes(now: EpochNanos) -> [ApprovedQuotes] {
        advanceClock(now)
        var changed: [ApprovedQuotes] = []
        for symbol in quoteTargets.keys.sorted() {
            guard let target = quoteTargets[symbol] else { continue }
            let before = approvedQuotes[symbol]?.quotes ?? []
            let approved = clip(target, now: now)
            guard approved.quotes != before else { continue }
            approvedQuotes[symbol] = approved.quotes.isEmpty ? nil : approved
            refreshExposure(symbol)
            changed.append(approved)
        }
        return changed
    }

    /// Quotes approved and not expired, per symbol.
    public func restingQuotes(_ symbol: String, now: EpochNanos) -> [QuoteLevel] {
        guard let approved = approvedQuotes[symbol], approved.expiresAt >= now else { return [] }
        return approved.quotes
    }

    /// Symbols a market maker quotes (a target within the last `quotingMemoryNanos`): the exit
    /// engine leaves their inventory to the quote limits.
    public func isQuoted(_ symbol: String, now: EpochNanos) -> Bool {
        guard let target = quoteTargets[symbol] else { return false }
        return now - target.createdAt <= Self.quotingMemoryNanos
    }

    static var quotingMemoryNanos: Int64 { 5 * Nanos.minute }

    // MARK: Clipping

    private mutating func clip(_ target: QuoteTarget, now: EpochNanos) -> ApprovedQuotes {
        quoteSequence += 1
        let symbol = target.symbol ?? ""
        var result = ApprovedQuotes(
            targetId: target.targetId, symbol: symbol, strategy: target.strategy, sequence: quoteSequence, quotes: [],
            clipped: [], reasons: [], tradingState: state, refresh: target.refresh, createdAt: now,
            expiresAt: target.expiresAt)
        func none(_ code: ReasonCode, _ detail: String) -> ApprovedQuotes {
            result.reasons.append(Reason(code, detail))
            return result
        }
        if target.quotes.isEmpty { return none(.quotesExpired, "the strategy withdrew its quotes") }
        if now > target.expiresAt {
            return none(.quotesExpired, "target \(target.targetId) expired \(Format.seconds(now - target.expiresAt)) ago")
        }
        guard let instrument = instruments[symbol] else { return none(.unknownInstrument, "no rules for \(symbol)") }
        switch state {
        case .syncing: return none(.stateSyncing, "no quotes until the account is synced")
        case .halted: return none(.stateHalted, "every quote withdrawn")
        case .active, .reducing: break
        }
        if killSwitchEngaged { return none(.killSwitch, "every quote withdrawn: \(killSwitchReason)") }

        let position = self.position(symbol)
        let mark = marks[symbol] ?? target.referencePrice
        // The book without this symbol's quotes: they are being replaced.
        var exposure = computeExposure(symbol, includingQuotes: false)
        let others = exposures.gross - exposures.symbol(symbol).gross

        for side in Side.allCases {
            let wanted = target.quotes.filter { $0.side == side }
                .sorted { side == .buy ? $0.price > $1.price : $0.price < $1.price }
            guard !wanted.isEmpty else { continue }
            let grows = !shrinks(position, side: side)
            if state == .reducing && grows {
                result.reasons.append(
                    Reason(.stateReducing, "\(sideName(side)) side removed: only quotes that shrink position \(position) rest"))
                for quote in wanted { result.clipped.append(QuoteClip(quote: quote, allowedSize: .zero, reason: Reason(.stateReducing))) }
                continue
            }
            // The inventory this side would leave if every quote on it filled, valued at the worse
            // of its price and the mark; it starts at the position signed towards this side.
            var inventory = (side == .buy ? position : -position) * (mark ?? .zero)
            // Size this side may still add: REDUCING caps it at the position.
            var reducible = state == .reducing ? position.magnitude : nil
            for quote in wanted {
                var size = quote.size
                var reason: Reason?
                let price = referencePrice(quote.price, mark: mark)
                // size × price, kept with the size: decimal products are dear.
                var notional = size * price
                func cap(_ room: Amount, _ why: Reason) {
                    let allowed = room.isPositive ? instrument.roundSize(room / price, .down) : .zero
                    if allowed < size {
                        size = allowed
                        notional = size * price
                        reason = why
                    }
                }
                if notional > limits.maxOrderNotional {
                    cap(limits.maxOrderNotional, Reason(.maxOrderNotional, "\(Format.money(quote.notional)) > \(Format.money(limits.maxOrderNotional))"))
                }
                if let left = reducible, size > left {
                    size = left
                    notional = size * price
                    reason = Reason(.stateReducing, "capped at the position left to reduce, \(left)")
                }
                let filled = inventory + notional
                if filled > limits.maxQuoteInventory {
                    cap(
                        limits.maxQuoteInventory - inventory,
                        Reason(
                            .maxInventory,
                            "inventory would reach \(Format.money(filled)) > \(Format.money(limits.maxQuoteInventory)) (position \(position))"))
                }
                let worst = exposure.side(side) + notional
                if worst > limits.maxSymbolNotional {
                    cap(
                        limits.maxSymbolNotional - exposure.side(side),
                        Reason(.maxSymbolNotional, "\(symbol) worst case \(Format.money(worst)) > \(Format.money(limits.maxSymbolNotional))"))
                }
                var after = exposure
                after.add(notional, on: side)
                if others + after.gross > limits.maxGrossExposure, after.gross > exposure.gross {
                    cap(
                        limits.maxGrossExposure - others - exposure.side(side),
                        Reason(.maxGrossExposure, "gross \(Format.money(others + after.gross)) > \(Format.money(limits.maxGrossExposure))"))
                }
                if size.isPositive && size * quote.price < instrument.minOrderValue {
                    reason = Reason(
                        .minOrderValue, "\(Format.money(size * quote.price)) < \(Format.money(instrument.minOrderValue))")
                    size = .zero
                }
                if let reason { result.clipped.append(QuoteClip(quote: quote, allowedSize: size, reason: reason)) }
                guard size.isPositive else { continue }
                var approved = quote
                approved.size = size
                result.quotes.append(approved)
                exposure.add(notional, on: side)
                inventory += notional
                if let left = reducible { reducible = left - size }
            }
            if grows, result.quotes.allSatisfy({ $0.side != side }) {
                let codes = Set(result.clipped.filter { $0.quote.side == side }.map(\.reason.code.rawValue)).sorted()
                result.reasons.append(Reason(.maxInventory, "\(sideName(side)) side empty after limits: \(codes.joined(separator: ", "))"))
            }
        }
        // The wire order: bids best first, then asks best first.
        result.quotes.sort { a, b in
            if a.side != b.side { return a.side == .buy }
            return a.side == .buy ? a.price > b.price : a.price < b.price
        }
        return result
    }

    private func sideName(_ side: Side) -> String { side == .buy ? "bid" : "ask" }
}
