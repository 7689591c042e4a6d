import Foundation
import Storage
import Synchronization
import Testing

@Suite("CheckpointThread")
struct CheckpointThreadTests {
    struct DiskFull: Error {}

    @Test("checkpoints run on their own thread until stopped; a run of failures is told once, and its end once")
    func runsUntilStopped() {
        let calls = Mutex(0)
        let told = Mutex<[String]>([])
        let sixth = DispatchSemaphore(value: 0)
        let thread = CheckpointThread(
            name: "test-checkpoint", every: .zero,
            checkpoint: {
                let call = calls.withLock { calls in
                    calls += 1
                    return calls
                }
                if call == 6 { sixth.signal() }
                if (2...4).contains(call) { throw DiskFull() }
            },
            failed: { _ in told.withLock { $0.append("failed") } },
            recovered: { told.withLock { $0.append("recovered") } })
        #expect(sixth.wait(timeout: .now() + 30) == .success)
        thread.stop()
        let made = calls.withLock { $0 }
        #expect(told.withLock { $0 } == ["failed", "recovered"])
        thread.stop()
        #expect(calls.withLock { $0 } == made, "none after stop")
    }

    @Test("stop does not wait for the interval")
    func stopsPromptly() {
        let thread = CheckpointThread(name: "test-checkpoint", every: .seconds(3_600), checkpoint: {})
        let began = ContinuousClock.now
        thread.stop()
        #expect(ContinuousClock.now - began < .seconds(60))
    }
}
