import Recall
import Resilience
import Schema
import Testing

@Suite struct LocalRecallTests {
    @Test func nearestAreSortedAndLimitedToK() {
        var local = LocalRecall(capacity: 10)
        for (index, x) in [0.9, 0.1, 0.5, 0.3, 0.7].enumerated() {
            local.remember(SetupRecord(id: "s\(index)", features: vector(x), context: context()))
        }
        let found = local.nearest(to: vector(0.32), k: 3)
        #expect(found.map(\.id) == ["s3", "s2", "s1"])
        // l2 is squared Euclidean, as Chroma's.
        #expect(abs(found[0].distance - 0.02 * 0.02) < 1e-15)
        #expect(abs(found[1].distance - 0.18 * 0.18) < 1e-15)
        #expect(local.nearest(to: vector(0), k: 0).isEmpty)
        #expect(local.nearest(to: [0, 1], k: 3).isEmpty)  // wrong dimension
        #expect(local.nearest(to: vector(0), k: 100).count == 5)
    }

    @Test func cosineDistanceIgnoresLength() {
        var local = LocalRecall(capacity: 10, space: .cosine)
        local.remember(SetupRecord(id: "same-way", features: vector(3, 3), context: context()))
        local.remember(SetupRecord(id: "orthogonal", features: vector(1, -1), context: context()))
        local.remember(SetupRecord(id: "opposite", features: vector(-1, -1), context: context()))
        local.remember(SetupRecord(id: "zero", features: vector(0, 0), context: context()))
        let found = local.nearest(to: vector(0.5, 0.5), k: 4)
        #expect(found.map(\.id) == ["same-way", "orthogonal", "zero", "opposite"])
        #expect(abs(found[0].distance) < 1e-12)
        #expect(abs(found[1].distance - 1) < 1e-12)
        #expect(abs(found[3].distance - 2) < 1e-12)
        #expect(DistanceSpace.cosine.distance(vector(0), vector(0)) == 1)
    }

    @Test func filterBySymbolDirectionStrategyAndOutcome() {
        var local = LocalRecall(capacity: 10)
        let win = SetupOutcome(pnlFraction: 0.01, holdingBars: 3)
        local.remember(SetupRecord(id: "btc-long", features: vector(0.1), context: context("BTC", .long), outcome: win))
        local.remember(SetupRecord(id: "btc-long-open", features: vector(0.0), context: context("BTC", .long)))
        local.remember(
            SetupRecord(id: "btc-short", features: vector(0.0), context: context("BTC", .short), outcome: win))
        local.remember(SetupRecord(id: "eth-long", features: vector(0.0), context: context("ETH", .long), outcome: win))
        let filter = RecallFilter(symbol: "BTC", direction: .long, onlyWithOutcome: true)
        #expect(local.nearest(to: vector(0), k: 10, filter: filter).map(\.id) == ["btc-long"])
        #expect(
            local.nearest(to: vector(0), k: 10, filter: RecallFilter(symbol: "BTC", direction: .long)).map(\.id) == [
                "btc-long-open", "btc-long",
            ])
        #expect(local.nearest(to: vector(0), k: 10, filter: RecallFilter(strategy: "other")).isEmpty)
        #expect(local.nearest(to: vector(0), k: 10).count == 4)
    }

    @Test func ringBufferEvictsTheOldest() {
        var local = LocalRecall(capacity: 3)
        for index in 0..<5 {
            local.remember(SetupRecord(id: "s\(index)", features: vector(Double(index)), context: context()))
        }
        #expect(local.count == 3)
        #expect(local.record(id: "s0") == nil && local.record(id: "s1") == nil)
        #expect(Set(local.nearest(to: vector(0), k: 10).map(\.id)) == ["s2", "s3", "s4"])
        let evicted = local.recordOutcome(setupId: "s0", outcome: SetupOutcome(pnlFraction: 0.01, holdingBars: 1))
        let held = local.recordOutcome(setupId: "s3", outcome: SetupOutcome(pnlFraction: 0.01, holdingBars: 1))
        #expect(!evicted && held)
        #expect(local.countWithOutcome == 1)
    }

    @Test func rememberingAgainReplacesInPlaceAndKeepsTheOutcome() {
        var local = LocalRecall(capacity: 2)
        let outcome = SetupOutcome(pnlFraction: -0.02, holdingBars: 7)
        local.remember(SetupRecord(id: "a", features: vector(0.1), context: context()))
        local.recordOutcome(setupId: "a", outcome: outcome)
        local.remember(SetupRecord(id: "a", features: vector(0.2), context: context()))
        #expect(local.count == 1)
        #expect(local.record(id: "a")?.features == vector(0.2))
        #expect(local.record(id: "a")?.outcome == outcome)
        local.remember(SetupRecord(id: "b", features: vector(0.3), context: context()))
        #expect(local.count == 2)  // "a" kept its slot: nothing evicted
    }

    @Test func invalidVectorsAreRefused() {
        var local = LocalRecall(capacity: 2)
        let short = local.remember(SetupRecord(id: "short", features: [1, 2], context: context()))
        #expect(!short)
        var nan = vector(0)
        nan[4] = .nan
        let withNaN = local.remember(SetupRecord(id: "nan", features: nan, context: context()))
        #expect(!withNaN)
        #expect(local.count == 0)
    }

    @Test(arguments: DistanceSpace.allCases)
    func agreesWithBruteForce(space: DistanceSpace) {
        var random = SeededRandom(seed: 42)
        var local = LocalRecall(capacity: 500, space: space)
        var all: [(String, [Double])] = []
        for index in 0..<800 {  // more than the capacity: only the last 500 count
            let features = randomVector(using: &random)
            local.remember(SetupRecord(id: "s\(index)", features: features, context: context()))
            all.append(("s\(index)", features))
        }
        let window = all.suffix(500)
        for _ in 0..<20 {
            let query = randomVector(using: &random)
            let expected = window.map { ($0.0, space.distance(query, $0.1)) }.sorted { $0.1 < $1.1 }.prefix(7)
            let found = local.nearest(to: query, k: 7)
            #expect(found.map(\.id) == expected.map(\.0))
            #expect(zip(found, expected).allSatisfy { abs($0.distance - $1.1) < 1e-12 })
        }
    }
}
