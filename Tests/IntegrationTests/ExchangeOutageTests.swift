import Foundation
import Schema
import Storage
import Testing

extension SystemTests {
    @Test("exchange-sim stalls, then answers 5xx: the executor's breaker opens, the risk gate goes REDUCING; both recover")
    func exchangeOutage() async throws {
        let system = try await withSystem([
            "risk": looseRisk,
            "executor": ["pollMs": 300],
            "exchange": ["deadlineMs": 800, "breaker": ["openMs": 1_500]],
        ]) { system in
            try await system.waitHealthy()
            try await system.waitUntil("trading active", timeout: .seconds(60)) {
                try system.trace().messages(RiskStateChange.self).last?.body.state == .active
            }
            let before = wallNanos()

            // Stalled: every call runs into its deadline.
            try await system.simFaults(#"{"stall": {"seconds": 6}}"#)
            try await system.waitUntil("the executor's breaker to open", timeout: .seconds(20)) {
                try breakerTransitions(system, after: before).contains { $0.to == .open }
            }
            try await system.waitUntil("the risk gate to stop new entries", timeout: .seconds(10)) {
                try system.trace().messages(RiskStateChange.self).contains {
                    $0.body.state == .reducing && $0.body.reasons.contains { $0.code == .venueUnavailable }
                }
            }
            try await system.waitUntil("the executor to say it is degraded", timeout: .seconds(5)) {
                await system.entry("executor")?["health"] as? String == "degraded"
            }

            // Then errors: trial calls fail and the breaker opens again.
            try await system.simFaults(#"{"error5xx": {"rate": 1, "seconds": 60}}"#)
            let errorsFrom = wallNanos()
            try await system.waitUntil("a failed trial under 5xx", timeout: .seconds(30)) {
                try breakerTransitions(system, after: errorsFrom).contains { $0.from == .halfOpen && $0.to == .open }
            }
            let stillReducing = try system.trace().messages(RiskStateChange.self).last?.body.state
            #expect(stillReducing == .reducing)

            // The simulator recovers; so do the breaker and the trading state.
            try await system.simFaults(nil)
            let recoveredFrom = wallNanos()
            try await system.waitUntil("the breakers to close", timeout: .seconds(30)) {
                let closed = try breakerTransitions(system, after: recoveredFrom).filter { $0.to == .closed }
                return Set(closed.map(\.dependency)) == Set(try breakerTransitions(system, after: before).map(\.dependency))
            }
            try await system.waitUntil("trading active again", timeout: .seconds(15)) {
                try system.trace().messages(RiskStateChange.self).last?.body.state == .active
            }
            try await system.waitUntil("the executor healthy again", timeout: .seconds(15)) {
                await system.entry("executor")?["health"] as? String == "ok"
            }
            try await system.expectLedgerMatchesExchange()
        }
        let trace = try TraceDatabase(path: system.traceDatabase)
        #expect(try trace.scalar("SELECT COUNT(*) FROM gap") == 0)
    }
}

/// The executor's breaker transitions published after `time`.
func breakerTransitions(_ system: RunningSystem, after time: EpochNanos) throws -> [BreakerTransition] {
    try system.trace().messages(BreakerTransition.self, source: "executor").filter { $0.header.publishTime > time }
        .map(\.body)
}

