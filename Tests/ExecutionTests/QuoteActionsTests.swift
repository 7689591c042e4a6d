import Execution
import Hyperliquid
import Schema
import Testing

let quoteAssets = AssetDirectory(
    meta: PerpMeta(universe: [
        PerpAssetInfo(name: "BTC", szDecimals: 5, maxLeverage: 40),
        PerpAssetInfo(name: "ETH", szDecimals: 4, maxLeverage: 25),
    ]))

func id(_ name: String) -> String { Identifier.clientOrderId(forIntent: name) }

func quotePass(
    cancels: [String] = [], modifies: [QuotePass.Modify] = [], places: [QuotePass.Place] = [], symbol: String = "ETH"
) -> QuotePass {
    QuotePass(
        symbol: symbol, targetId: "target-1", sequence: 7, keeps: [], cancels: cancels, modifies: modifies,
        places: places, deferred: 0, reasons: [])
}

func place(_ name: String, _ quote: QuoteLevel) -> QuotePass.Place {
    QuotePass.Place(clientOrderId: id(name), quote: quote)
}

@Suite("Quote actions")
struct QuoteActionsTests {
    @Test("cancels, then one batchModify of ALO orders keeping their cloids, then one order action grouped na")
    func shapes() throws {
        let old = resting("m", bid(1, "2990", "0.2"))
        let pass = quotePass(
            cancels: [id("c")],
            modifies: [
                QuotePass.Modify(clientOrderId: old.clientOrderId, from: old, to: bid(0, "2999.123", "0.123456"))
            ],
            places: [place("p", ask(0, "3000.123", "0.5"))])
        let planned = QuoteActions.plan(pass, assets: quoteAssets)
        #expect(planned.refused.isEmpty)
        #expect(planned.requests.map(\.kind) == [.cancel, .modify, .place])
        #expect(planned.requests.map(\.action.typeName) == ["cancelByCloid", "batchModify", "order"])
        #expect(planned.weight == 3)
        #expect(planned.addressRequests == 3)

        let cloid = { (name: String) in try Cloid(hex: id(name)) }
        #expect(planned.requests[0].action == .cancelByCloid([CancelByCloidWire(asset: 1, cloid: try cloid("c"))]))
        #expect(planned.requests[0].cancels == [CancelByCloidRequest(coin: "ETH", cloid: try cloid("c"))])

        // A bid rounds down and an ask up onto the grid (5 significant figures), sizes down to 4 decimals.
        let modified = OrderWire(
            asset: 1, isBuy: true, limitPx: "2999.1", size: "0.1234", reduceOnly: false, orderType: .limit(.alo),
            cloid: try cloid("m"))
        #expect(planned.requests[1].action == .batchModify([ModifyWire(oid: .cloid(try cloid("m")), order: modified)]))
        #expect(planned.requests[1].quotes == [bid(0, "2999.1", "0.1234")])
        #expect(planned.requests[1].modifies.map(\.target) == [.cloid(try cloid("m"))])
        #expect(planned.requests[1].modifies.map(\.order.kind) == [.limit(.alo)])

        let placed = OrderWire(
            asset: 1, isBuy: false, limitPx: "3000.2", size: "0.5", reduceOnly: false, orderType: .limit(.alo),
            cloid: try cloid("p"))
        #expect(planned.requests[2].action == .order([placed], grouping: .na, builder: nil))
        #expect(planned.requests[2].clientOrderIds == [id("p")])
        #expect(planned.requests[2].quotes == [ask(0, "3000.2", "0.5")])
        #expect(planned.requests[2].action.json.contains(#""t":{"limit":{"tif":"Alo"}}"#))
    }

    @Test("batches hold at most 39 orders by default, so each weighs 1; 40 would weigh 2")
    func batchingAndWeights() {
        let places = (0..<100).map { place("p\($0)", ask($0, Amount(3001 + $0), "0.01")) }
        let planned = QuoteActions.plan(quotePass(places: places), assets: quoteAssets)
        #expect(planned.requests.map(\.clientOrderIds.count) == [39, 39, 22])
        #expect(planned.requests.map(\.weight) == [1, 1, 1])
        #expect(planned.addressRequests == 100)
        #expect(planned.requests.flatMap(\.clientOrderIds) == places.map(\.clientOrderId))

        let forty = QuoteActions.plan(quotePass(places: places), assets: quoteAssets, maxBatch: 40)
        #expect(forty.requests.map(\.weight) == [2, 2, 1])

        let cancels = QuoteActions.plan(quotePass(cancels: (0..<80).map { id("c\($0)") }), assets: quoteAssets)
        #expect(cancels.requests.map(\.clientOrderIds.count) == [39, 39, 2])
        #expect(
            QuoteActions.plan(quotePass(places: Array(places.prefix(3))), assets: quoteAssets, maxBatch: 0).requests
                .count == 3)
    }

    @Test("what cannot be an order is refused before sending, with the reason; the rest goes")
    func refusals() {
        let pass = quotePass(
            cancels: ["abc", id("c")],
            places: [
                place("tiny", bid(0, "2999", "0.00001")), place("small", bid(1, "2998", "0.001")),
                place("ok", bid(2, "2997", "0.01")),
            ])
        let planned = QuoteActions.plan(pass, assets: quoteAssets)
        #expect(planned.refused.map(\.clientOrderId) == ["abc", id("tiny"), id("small")])
        #expect(
            planned.refused.map(\.reason.detail) == [
                "client order id abc is not 0x and 32 hex digits", "size 0.00001 rounds to zero at 4 decimals",
                "order value 2.998 is below the minimum 10",
            ])
        #expect(planned.requests.map(\.clientOrderIds) == [[id("c")], [id("ok")]])

        let unlisted = QuoteActions.plan(
            quotePass(cancels: [id("c")], places: [place("p", bid(0, "1", "100"))], symbol: "DOGE"), assets: quoteAssets
        )
        #expect(unlisted.requests.isEmpty)
        #expect(unlisted.refused.map(\.kind) == [.cancel, .place])
        #expect(
            unlisted.refused.allSatisfy { $0.reason == Reason(.invalidIntent, "DOGE is not listed by the exchange") })
    }
}

@Suite("Quote outcomes")
struct QuoteOutcomeTests {
    static let aloReject = "Post only order would have immediately matched, bbo was 2999.5@3000.5. asset=1"

    private func request(_ pass: QuotePass) -> QuoteRequest { QuoteActions.plan(pass, assets: quoteAssets).requests[0] }

    @Test("places: resting is live, an ALO reject is normal and not live, another error fails, a full fill ends")
    func placeStatuses() {
        let sent = request(
            quotePass(places: [
                place("r", bid(0, "2999")), place("alo", bid(1, "2998")), place("min", ask(0, "3001")),
                place("fill", ask(1, "3002")),
            ]))
        var live = LiveQuotes()
        let outcome = live.apply(
            .orders([
                .resting(oid: 11, cloid: nil), .error(Self.aloReject), .error("Order must have minimum value of $10."),
                .filled(totalSz: "1", avgPx: "3002", oid: 14, cloid: nil),
            ]), to: sent, now: t0)
        #expect(live.resting == [resting("r", bid(0, "2999"), placedAt: t0)])
        #expect(outcome.placed == 1)
        #expect(outcome.aloRejected == 1)
        #expect(outcome.failed == 1)
        #expect(outcome.filled == 1)
        #expect(outcome.uncertain.isEmpty)
        #expect(!outcome.rateLimited)
        #expect(
            outcome.reasons == [Reason(.venueRejected, "place \(id("min")): Order must have minimum value of $10.")])
    }

    @Test(
        "modifies: resting moves the order and restarts its age; an ALO reject or a gone order ends it; another error is looked up"
    )
    func modifyStatuses() {
        let before = [
            resting("ok", bid(0, "2990"), placedAt: t0), resting("alo", bid(1, "2980"), placedAt: t0),
            resting("gone", ask(0, "3010"), placedAt: t0), resting("margin", ask(1, "3020"), placedAt: t0),
        ]
        let targets = [bid(0, "2999"), bid(1, "2998"), ask(0, "3001"), ask(1, "3002")]
        let sent = request(
            quotePass(
                modifies: zip(before, targets).map {
                    QuotePass.Modify(clientOrderId: $0.0.clientOrderId, from: $0.0, to: $0.1)
                }))
        var live = LiveQuotes(before)
        let now = t0 + 5_000 * ms
        let outcome = live.apply(
            .orders([
                .resting(oid: 21, cloid: nil), .error(Self.aloReject),
                .error("Cannot modify canceled or filled order."),
                .error("Insufficient margin to place order. asset=1"),
            ]), to: sent, now: now)
        #expect(live.resting == [resting("ok", bid(0, "2999"), placedAt: now), before[3]])
        #expect(outcome.modified == 1)
        #expect(outcome.aloRejected == 1)
        #expect(outcome.missing == 1)
        #expect(outcome.failed == 1)
        #expect(outcome.uncertain == [id("margin")])
    }

    @Test("cancels: success and 'never placed, already canceled, or filled' end the order; another error is looked up")
    func cancelStatuses() {
        let before = [resting("a", bid(0, "2990")), resting("b", bid(1, "2980")), resting("c", ask(0, "3010"))]
        let sent = request(quotePass(cancels: before.map(\.clientOrderId)))
        var live = LiveQuotes(before)
        let outcome = live.apply(
            .cancels([
                .success, .error("Order was never placed, already canceled, or filled. asset=1"),
                .error("Something else"),
            ]), to: sent, now: t0)
        #expect(live.resting == [before[2]])
        #expect(outcome.canceled == 1)
        #expect(outcome.missing == 1)
        #expect(outcome.failed == 1)
        #expect(outcome.uncertain == [id("c")])
    }

    @Test("a lost answer leaves the orders uncertain; places are held as possibly live; a 429 is a rate limit")
    func lostAnswers() {
        let sent = request(quotePass(places: [place("x", bid(0, "2999")), place("y", ask(0, "3001"))]))
        var timedOut = LiveQuotes()
        let outcome = timedOut.apply(.failed(.deadlineExceeded(.seconds(5))), to: sent, now: t0)
        #expect(outcome.uncertain == [id("x"), id("y")])
        #expect(Set(timedOut.byClientOrderId.keys) == [id("x"), id("y")])
        #expect(outcome.failed == 2)
        #expect(!outcome.rateLimited)

        var limited = LiveQuotes()
        let refused = limited.apply(.failed(.rateLimited(status: 429)), to: sent, now: t0)
        #expect(refused.rateLimited)
        #expect(refused.uncertain.count == 2)

        // Fewer statuses than orders: the ones without are uncertain.
        var short = LiveQuotes()
        let partial = short.apply(.orders([.resting(oid: 1, cloid: nil)]), to: sent, now: t0)
        #expect(partial.placed == 1)
        #expect(partial.uncertain == [id("y")])

        // A lookup settles them.
        timedOut.settle(id("y"), as: nil)
        #expect(timedOut.byClientOrderId.keys.sorted() == [id("x")])
    }

    @Test("a request never sent, or refused as a whole, changes nothing; the address-budget refusal is read")
    func refusedWhole() {
        let before = [resting("a", bid(0, "2990"))]
        let sent = request(quotePass(cancels: [id("a")]))
        var live = LiveQuotes(before)
        let open = live.apply(.failed(.circuitOpen(dependency: "hyperliquid.exchange")), to: sent, now: t0)
        #expect(live.resting == before)
        #expect(open.uncertain.isEmpty)
        #expect(open.failed == 1)
        #expect(open.reasons.map(\.code) == [.venueUnavailable])

        let message =
            "Too many cumulative requests sent (10001 > 10000) for cumulative volume traded $0.00. Place taker orders to free up 1 request per USDC traded."
        let exhausted = live.apply(.failed(.exchangeRejected(message)), to: sent, now: t0)
        #expect(live.resting == before)
        #expect(exhausted.rateLimited)
        #expect(exhausted.cumulativeLimitMessage == message)
        #expect(exhausted.uncertain.isEmpty)

        var budget = RequestBudget()
        #expect(step { budget.observe(venueMessage: message, wasCancel: true, at: t0) })
        var pacer = RefreshPacer()
        #expect(step { pacer.record(open + exhausted) }?.code == .refreshSlowed)
    }

    @Test("an ALO storm across a pass slows the refresh")
    func aloStormSlows() {
        let places = (0..<6).map { place("p\($0)", bid($0, Amount(3000 - $0))) }
        let sent = request(quotePass(places: places))
        var live = LiveQuotes()
        let outcome = live.apply(.orders(Array(repeating: .error(Self.aloReject), count: 6)), to: sent, now: t0)
        #expect(live.resting.isEmpty)
        #expect(outcome.aloRejected == 6)
        #expect(outcome.failed == 0)
        var pacer = RefreshPacer()
        #expect(
            step { pacer.record(outcome) }
                == Reason(.refreshSlowed, "refresh 250 → 500 ms: 6 ALO rejects in a pass (threshold 4)"))
    }

    @Test("reconcile, send, answer, reconcile again: the second pass keeps everything")
    func roundTrip() {
        var reconciler = QuoteReconciliation(instance: "exec-1")
        let wanted = approval([bid(0, "2999.5"), bid(1, "2998"), ask(0, "3000.5"), ask(1, "3002")])
        var live = LiveQuotes([resting("stale", bid(0, "2950"))])
        let first = reconciler.pass(symbol: "ETH", approved: wanted, resting: live.resting, now: t0)
        #expect(first.modifies.count == 1 && first.places.count == 3)
        for request in QuoteActions.plan(first, assets: quoteAssets).requests {
            let answer: QuoteAnswer =
                request.kind == .cancel
                ? .cancels(request.clientOrderIds.map { _ in .success })
                : .orders(request.clientOrderIds.enumerated().map { .resting(oid: UInt64($0.offset), cloid: nil) })
            _ = live.apply(answer, to: request, now: t0)
        }
        #expect(live.resting.map(\.price) == ["2999.5", "2998", "3000.5", "3002"])
        let second = reconciler.pass(symbol: "ETH", approved: wanted, resting: live.resting, now: t0 + ms)
        #expect(second.isEmpty)
        #expect(second.keeps.count == 4)
    }
}
