import Foundation
import Schema
import Storage
import Testing

/// Many symbols end to end: every service trades the portfolio on one exchange session, and the
/// risk gate's limits act across all of it.
@Suite(.serialized) struct PortfolioTests {
    static let nine = ["BTC", "ETH", "SOL", "BNB", "XRP", "DOGE", "AVAX", "LINK", "SUI"]

    @Test("9 simultaneous entries on 9 symbols with maxOpenPositions 8: exactly 8 positions, the ninth refused with its reason")
    func maxOpenPositionsAcrossSymbols() async throws {
        try await withSystem([
            "symbols": Self.nine,
            "account": ["startingCapital": "100000"],
            // RSI(2) with bands at 50: every warm bar of every symbol has a view, so all nine desks ask to
            // enter on the same bar; the long cooldown keeps each desk on its first position.
            "signal": [
                "tradeNotional": "100", "cooldownBars": 10_000,
                "rsi": ["period": 2, "oversold": 49.999, "overbought": 50.001],
            ],
            "risk": [
                "maxOpenPositions": 8, "maxGrossExposure": "100000", "maxSymbolNotional": "1000",
                "maxOrderNotional": "1000", "maxDirectionShare": 1, "maxOrdersPerMinute": 1_000,
                "exits": ["enabled": false],
            ],
        ]) { system in try await Self.eightOfNine(system) }
    }

    static func eightOfNine(_ system: RunningSystem) async throws {
        try await system.waitHealthy()

        try await system.waitUntil("8 positions on the exchange and a max_open_positions rejection", timeout: .seconds(120)) {
            let refused = try system.trace().messages(RiskDecision.self).contains {
                $0.body.reasons.contains { $0.code == .maxOpenPositions }
            }
            return try await system.exchangePositions().count == 8 && refused
        }
        // The limit holds while the ninth desk keeps asking, bar after bar.
        for _ in 0..<10 {
            let positions = try await system.exchangePositions()
            #expect(positions.count == 8, "open positions \(positions.keys.sorted())")
            try await Task.sleep(for: .milliseconds(500))
        }

        let trace = try system.trace()
        let decisions = try trace.messages(RiskDecision.self).map(\.body)
        let intents = try trace.messages(OrderIntent.self).map(\.body)
        let entries = intents.filter { $0.purpose == .entry }
        // Nine entries on nine symbols, asked for within two one-second bars of each other (a symbol
        // whose first bar was partial warms up one bar later).
        let firstPerSymbol = Dictionary(grouping: entries, by: { $0.symbol ?? "" }).compactMapValues {
            $0.map(\.createdAt).min()
        }
        #expect(Set(firstPerSymbol.keys) == Set(Self.nine))
        let times = firstPerSymbol.values.sorted()
        #expect(times.last! - times.first! < 2_000_000_000, "the nine entries came within two bars")

        let approvedEntries = decisions.filter { $0.outcome != .rejected && $0.clientOrderId != nil }
        #expect(Set(approvedEntries.map(\.symbol)).count == 8)
        let refused = decisions.filter { $0.reasons.contains { $0.code == .maxOpenPositions } }
        let refusedSymbols = Set(refused.compactMap(\.symbol))
        #expect(refusedSymbols.count == 1, "one symbol is the ninth: \(refusedSymbols)")
        let held = try await system.exchangePositions()
        #expect(refusedSymbols.isDisjoint(with: held.keys))
        let detail = try #require(refused.first?.reasons.first { $0.code == .maxOpenPositions }?.detail)
        #expect(detail.contains("limit 8"), "\(detail)")

        // Every symbol has its own bars, signals and instrument rules from the exchange.
        let bars = try trace.messages(Bar.self).map(\.body)
        #expect(Set(bars.compactMap(\.symbol)).isSuperset(of: Self.nine))
        try await system.expectLedgerMatchesExchange()
        // Sizes follow each coin's rules from the exchange's meta (XRP and DOGE trade whole coins).
        let client = system.exchangeClient()
        defer { Task { try? await client.shutdown() } }
        let assets = try await client.assets()
        for order in try trace.messages(OrderCommand.self).map(\.body) {
            let instrument = try #require(assets.instrument(order.symbol ?? ""))
            #expect(instrument.isValidSize(order.size), "\(order.symbol ?? "") size \(order.size)")
        }
    }
}
