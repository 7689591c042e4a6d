import Resilience
import Testing

@Suite(.timeLimit(.minutes(1)))
struct DeadlineTests {
    let clock = ManualClock()

    @Test func neverAnsweringOperationThatIgnoresCancellationTimesOutAndIsCancelled() async throws {
        let dependency = Gate()
        let finished = Gate()
        let sawCancellation = Box(false)
        let call = Task {
            try await withDeadline(.seconds(2), clock: clock) {
                await dependency.wait()  // deaf to cancellation
                sawCancellation.update { $0 = Task.isCancelled }
                finished.open()
                return 42
            }
        }
        await clock.waitForSleepers(count: 1)
        clock.advance(by: .seconds(2))
        await #expect(throws: DeadlineExceeded(timeout: .seconds(2))) { try await call.value }

        // Let the abandoned operation run to its end to see that it had been cancelled.
        dependency.open()
        await finished.wait()
        #expect(sawCancellation.current)
    }

    @Test func answerJustBeforeTheDeadlineIsReturned() async throws {
        let dependency = Gate()
        let call = Task {
            try await withDeadline(.seconds(2), clock: clock) {
                await dependency.wait()
                return "filled"
            }
        }
        await clock.waitForSleepers(count: 1)
        clock.advance(by: .milliseconds(1999))
        dependency.open()
        #expect(try await call.value == "filled")
        // The deadline's timer is gone, not left sleeping.
        #expect(clock.sleeperCount == 0)
    }

    @Test func operationErrorsPassThrough() async {
        await #expect(throws: Boom()) {
            try await withDeadline(.seconds(1), clock: clock) { () async throws -> Int in throw Boom() }
        }
        #expect(clock.sleeperCount == 0)
    }

    @Test func callerCancellationReturnsAtOnceAndCancelsTheOperation() async {
        let dependency = Gate()
        let finished = Gate()
        let sawCancellation = Box(false)
        let call = Task {
            try await withDeadline(.seconds(30), clock: clock) {
                await dependency.wait()
                sawCancellation.update { $0 = Task.isCancelled }
                finished.open()
            }
        }
        await clock.waitForSleepers(count: 1)
        call.cancel()
        await #expect(throws: CancellationError.self) { try await call.value }
        dependency.open()
        await finished.wait()
        #expect(sawCancellation.current)
        #expect(clock.sleeperCount == 0)
    }

    @Test func zeroTimeoutFailsWithoutRunningTheOperation() async {
        let ran = Box(false)
        await #expect(throws: DeadlineExceeded.self) {
            try await withDeadline(.zero, clock: clock) { ran.update { $0 = true } }
        }
        #expect(!ran.current)
    }
}
