import Risk
import Schema
import Testing

@Suite("Venue watch")
struct VenueWatchTests {
    let second: Int64 = 1_000_000_000

    func beat(_ breakers: [String: BreakerState]) -> Heartbeat {
        Heartbeat(
            service: "executor", health: .ok, uptimeMs: 1,
            breakers: breakers.map { BreakerStatus(dependency: $0.key, state: $0.value) }, facts: [:])
    }

    @Test("available until a breaker leaves closed; half-open is not yet available; closed again is")
    func breakers() {
        var watch = VenueWatch(silenceNanos: 5 * second)
        #expect(watch.unavailability(now: 0) == nil)
        watch.breaker("hyperliquid.info", .open, now: 1)
        #expect(watch.unavailability(now: 1) == "executor breaker hyperliquid.info open")
        watch.breaker("hyperliquid.info", .halfOpen, now: 2)
        #expect(watch.unavailability(now: 2) != nil)
        watch.breaker("hyperliquid.info", .closed, now: 3)
        #expect(watch.unavailability(now: 3) == nil)
    }

    @Test("a heartbeat restates the breakers: a missed transition is corrected within a second")
    func heartbeatRestates() {
        var watch = VenueWatch(silenceNanos: 5 * second)
        watch.heartbeat(beat(["hyperliquid.exchange": .open, "hyperliquid.info": .closed]), now: 0)
        #expect(watch.unavailability(now: 0) == "executor breaker hyperliquid.exchange open")
        watch.heartbeat(beat(["hyperliquid.exchange": .closed, "hyperliquid.info": .closed]), now: second)
        #expect(watch.unavailability(now: second) == nil)
    }

    @Test("an executor silent past the limit makes the venue unavailable; hearing it again clears it")
    func silence() {
        var watch = VenueWatch(silenceNanos: 5 * second)
        watch.heartbeat(beat(["hyperliquid.info": .closed]), now: 0)
        #expect(watch.unavailability(now: 5 * second) == nil)
        #expect(watch.unavailability(now: 6 * second) == "executor silent for 6000 ms")
        watch.heartbeat(beat(["hyperliquid.info": .closed]), now: 6 * second)
        #expect(watch.unavailability(now: 6 * second) == nil)
    }
}
