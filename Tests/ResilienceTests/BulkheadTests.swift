import Resilience
import Testing

@Suite(.timeLimit(.minutes(1)))
struct BulkheadTests {
    /// Starts a call that holds its slot until `release` opens, recording when it got in.
    func startCall(
        _ bulkhead: Bulkhead, id: Int, entered: Box<[Int]>, release: Gate
    ) -> Task<Void, any Error> {
        Task {
            try await bulkhead.run {
                entered.update { $0.append(id) }
                await release.wait()
            }
        }
    }

    @Test func callsBeyondTheQueueAreRejectedAtOnce() async throws {
        let bulkhead = Bulkhead(maxConcurrentCalls: 1, maxQueuedCalls: 2)
        let entered = Box<[Int]>([])
        let release = Gate()
        let running = startCall(bulkhead, id: 0, entered: entered, release: release)
        #expect(await eventually { bulkhead.runningCalls == 1 })
        let queued = [startCall(bulkhead, id: 1, entered: entered, release: release)]
        #expect(await eventually { bulkhead.queuedCalls == 1 })
        let queuedToo = startCall(bulkhead, id: 2, entered: entered, release: release)
        #expect(await eventually { bulkhead.queuedCalls == 2 })

        await #expect(throws: BulkheadFull(maxConcurrentCalls: 1, maxQueuedCalls: 2)) {
            try await bulkhead.run { entered.update { $0.append(3) } }
        }
        release.open()
        for call in [running, queuedToo] + queued { try await call.value }
        #expect(!entered.current.contains(3))
        #expect(bulkhead.runningCalls == 0)
    }

    @Test func queuedCallsGetSlotsInArrivalOrder() async throws {
        let bulkhead = Bulkhead(maxConcurrentCalls: 1, maxQueuedCalls: 10)
        let entered = Box<[Int]>([])
        var releases: [Gate] = []
        var calls: [Task<Void, any Error>] = []
        for id in 0..<6 {
            let release = Gate()
            releases.append(release)
            calls.append(startCall(bulkhead, id: id, entered: entered, release: release))
            // One at a time, so that arrival order is known.
            #expect(await eventually { bulkhead.runningCalls + bulkhead.queuedCalls == id + 1 })
        }
        for id in 0..<6 {
            #expect(await eventually { entered.current.count == id + 1 })
            releases[id].open()
        }
        for call in calls { try await call.value }
        #expect(entered.current == [0, 1, 2, 3, 4, 5])
    }

    @Test func concurrentCallsUpToTheLimitRunTogether() async throws {
        let bulkhead = Bulkhead(maxConcurrentCalls: 3, maxQueuedCalls: 0)
        let entered = Box<[Int]>([])
        let release = Gate()
        let calls = (0..<3).map { startCall(bulkhead, id: $0, entered: entered, release: release) }
        #expect(await eventually { entered.current.count == 3 })
        #expect(bulkhead.runningCalls == 3)
        await #expect(throws: BulkheadFull.self) { try await bulkhead.run {} }
        release.open()
        for call in calls { try await call.value }
    }

    @Test func cancellingAQueuedCallRemovesIt() async throws {
        let bulkhead = Bulkhead(maxConcurrentCalls: 1, maxQueuedCalls: 1)
        let entered = Box<[Int]>([])
        let release = Gate()
        let running = startCall(bulkhead, id: 0, entered: entered, release: release)
        #expect(await eventually { bulkhead.runningCalls == 1 })
        let abandoned = startCall(bulkhead, id: 1, entered: entered, release: release)
        #expect(await eventually { bulkhead.queuedCalls == 1 })

        abandoned.cancel()
        await #expect(throws: CancellationError.self) { try await abandoned.value }
        #expect(bulkhead.queuedCalls == 0)
        // Its place in the queue is free again.
        let next = startCall(bulkhead, id: 2, entered: entered, release: release)
        #expect(await eventually { bulkhead.queuedCalls == 1 })
        release.open()
        try await running.value
        try await next.value
        #expect(entered.current == [0, 2])
        #expect(bulkhead.runningCalls == 0)
    }

    @Test func failingCallGivesItsSlotBack() async {
        let bulkhead = Bulkhead(maxConcurrentCalls: 1, maxQueuedCalls: 0)
        await #expect(throws: Boom()) { try await bulkhead.run { throw Boom() } }
        #expect(bulkhead.runningCalls == 0)
        await #expect(throws: Never.self) { try await bulkhead.run {} }
    }
}
