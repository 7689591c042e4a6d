import Execution
import Schema
import Testing

extension SplitMix64 {
    fileprivate mutating func double(in range: ClosedRange<Double>) -> Double { Double.random(in: range, using: &self) }
    fileprivate mutating func int(in range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    fileprivate mutating func chance(_ probability: Double) -> Bool { double(in: 0...1) < probability }
}

/// Random resting quotes and approvals from a seeded SplitMix64, against a brute-force reference:
/// every failure replays from its seed.
@Suite("Quote recycling properties")
struct QuoteRecyclingPropertyTests {
    /// Largest number of keeps, by augmenting paths (Kuhn): the reference for the greedy matching.
    static func maximumKeeps(_ wanted: [QuoteLevel], _ resting: [RestingQuote], toleranceBps: Double) -> Int {
        func compatible(_ w: QuoteLevel, _ r: RestingQuote) -> Bool {
            w.side == r.side && w.size == r.size
                && (r.price - w.price).magnitude * 10_000 <= w.price * Amount(toleranceBps)
        }
        var owner = [Int?](repeating: nil, count: resting.count)
        func augment(_ w: Int, _ seen: inout [Bool]) -> Bool {
            for r in resting.indices where !seen[r] && compatible(wanted[w], resting[r]) {
                seen[r] = true
                if owner[r] == nil || augment(owner[r]!, &seen) {
                    owner[r] = w
                    return true
                }
            }
            return false
        }
        var count = 0
        for w in wanted.indices {
            var seen = [Bool](repeating: false, count: resting.count)
            if augment(w, &seen) { count += 1 }
        }
        return count
    }

    /// What rests once every request of `pass` succeeded.
    static func applied(_ pass: QuotePass, now: EpochNanos) -> [RestingQuote] {
        func order(_ id: String, _ quote: QuoteLevel) -> RestingQuote {
            RestingQuote(
                clientOrderId: id, side: quote.side, tier: quote.tier, price: quote.price, size: quote.size,
                placedAt: now)
        }
        return pass.keeps + pass.modifies.map { order($0.clientOrderId, $0.to) }
            + pass.places.map { order($0.clientOrderId, $0.quote) }
    }

    @Test(
        "recycling keeps orders within tolerance, replaces the rest, with the fewest requests",
        arguments: [10, 11, 12] as [UInt64])
    func recycling(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let sizes: [Amount] = ["0.1", "0.2"]
        var keeps = 0
        var modifies = 0
        var greedyChoices = 0
        for round in 0..<400 {
            let tolerance = random.double(in: 0.5...5)
            let allowModify = random.chance(0.7)
            // Prices bunched closely so tolerance windows overlap and matching is a real choice.
            func price() -> Amount { Amount(100 + Double(random.int(in: 0...8)) * 0.01) }
            func side() -> Side { random.chance(0.5) ? .buy : .sell }
            // One tier per quote, so none is dropped as a repeated tier.
            var wanted: [QuoteLevel] = []
            for tier in 0..<random.int(in: 0...6) {
                wanted.append(QuoteLevel(side: side(), tier: tier, price: price(), size: sizes[random.int(in: 0...1)]))
            }
            var live: [RestingQuote] = []
            for index in 0..<random.int(in: 0...6) {
                live.append(
                    resting(
                        "r\(round)-\(index)",
                        QuoteLevel(side: side(), tier: index, price: price(), size: sizes[random.int(in: 0...1)])))
            }
            var reconciler = QuoteReconciliation(instance: "exec-1")
            let approved = approval(wanted, toleranceBps: tolerance, allowModify: allowModify)
            let pass = reconciler.pass(symbol: "ETH", approved: approved, resting: live, now: t0)
            #expect(pass.deferred == 0)
            #expect(pass.modifies.isEmpty || allowModify)
            #expect(pass.modifies.allSatisfy { $0.from.side == $0.to.side && $0.from.clientOrderId == $0.clientOrderId })

            // Every resting order is acted on exactly once; every wanted quote is reached once.
            let kept = pass.keeps
            let touched = kept.map(\.clientOrderId) + pass.cancels + pass.modifies.map(\.clientOrderId)
            #expect(touched.sorted() == live.map(\.clientOrderId).sorted())
            let targets = pass.modifies.map(\.to) + pass.places.map(\.quote)
            #expect(kept.count + targets.count == wanted.count)
            #expect(Set(targets).isSubset(of: Set(wanted)))
            // New orders get new ids, never one that rests.
            let newIds = Set(pass.places.map(\.clientOrderId))
            #expect(newIds.count == pass.places.count && newIds.isDisjoint(with: live.map(\.clientOrderId)))
            // A kept order is within tolerance of a wanted quote of its size that nothing else reaches.
            var unreached = wanted
            for quote in targets {
                if let index = unreached.firstIndex(of: quote) { unreached.remove(at: index) }
            }
            #expect(Self.maximumKeeps(unreached, kept, toleranceBps: tolerance) == kept.count)
            // As many keeps as possible, and no more replacing requests than needed.
            #expect(kept.count == Self.maximumKeeps(wanted, live, toleranceBps: tolerance))
            keeps += kept.count
            modifies += pass.modifies.count
            // Cases where some wanted quote had two resting candidates.
            if wanted.contains(where: { w in
                live.filter { Self.maximumKeeps([w], [$0], toleranceBps: tolerance) == 1 }.count > 1
            }) {
                greedyChoices += 1
            }
            let sideOf = Dictionary(uniqueKeysWithValues: live.map { ($0.clientOrderId, $0.side) })
            for side in Side.allCases {
                let keptSide = kept.count { $0.side == side }
                let wantedSide = wanted.count { $0.side == side }
                let restingSide = live.count { $0.side == side }
                let changes =
                    pass.cancels.count { sideOf[$0] == side } + pass.modifies.count { $0.to.side == side }
                    + pass.places.count { $0.quote.side == side }
                let minimum =
                    allowModify
                    ? max(wantedSide, restingSide) - keptSide : wantedSide + restingSide - 2 * keptSide
                #expect(changes == minimum)
            }

            // The pass reaches the approval: once it is done, the next pass keeps everything.
            let after = Self.applied(pass, now: t0 + ms)
            let again = reconciler.pass(symbol: "ETH", approved: approved, resting: after, now: t0 + 2 * ms)
            #expect(again.isEmpty)
            #expect(again.keeps.count == wanted.count)
        }
        #expect(keeps > 100 && modifies > 100 && greedyChoices > 20, "\(keeps) \(modifies) \(greedyChoices)")
    }

    @Test(
        "a resting order nudged within tolerance stays; one nudged beyond is replaced",
        arguments: [13, 14] as [UInt64])
    func nudges(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var outcomes = [0, 0, 0, 0]
        for _ in 0..<200 {
            let tolerance = random.double(in: 0.5...5)
            // Quotes 1 % apart: far beyond any tolerance of each other.
            let wanted = (0..<random.int(in: 1...8)).map { tier in bid(tier, Amount(100 - Double(tier)), "0.5") }
            var live: [RestingQuote] = []
            var expectKept = Set<String>()
            for quote in wanted {
                let name = "o\(quote.tier)"
                let kind = random.int(in: 0...3)
                outcomes[kind] += 1
                switch kind {
                case 0:  // within tolerance
                    let bps = random.double(in: -0.9...0.9) * tolerance
                    let order = resting(name, bid(quote.tier, quote.price * Amount(1 + bps / 10_000), "0.5"))
                    live.append(order)
                    expectKept.insert(order.clientOrderId)
                case 1:  // beyond it
                    let bps = random.double(in: 1.5...3) * tolerance * (random.chance(0.5) ? 1 : -1)
                    live.append(resting(name, bid(quote.tier, quote.price * Amount(1 + bps / 10_000), "0.5")))
                case 2:  // right price, wrong size
                    live.append(resting(name, bid(quote.tier, quote.price, "0.4")))
                default:  // missing
                    break
                }
            }
            var reconciler = QuoteReconciliation(instance: "exec-1")
            let pass = reconciler.pass(
                symbol: "ETH", approved: approval(wanted, toleranceBps: tolerance), resting: live, now: t0)
            #expect(Set(pass.keeps.map(\.clientOrderId)) == expectKept)
            #expect(pass.cancels.isEmpty)
            #expect(pass.requestCount == wanted.count - expectKept.count)
        }
        #expect(outcomes.allSatisfy { $0 > 50 }, "\(outcomes)")
    }
}
