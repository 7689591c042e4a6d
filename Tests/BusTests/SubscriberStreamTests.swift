import Bus
import Foundation
import Schema
import Synchronization
import Testing
import TestSupport

final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}

@Suite("Subscriber.stream")
struct SubscriberStreamTests {
    @Test("events beyond the buffer limit are dropped and counted, the oldest kept")
    func dropsBeyondBuffer() async throws {
        let endpoint = freeEndpoint()
        let context = BusContext()
        defer { context.terminate() }
        let raw = try RawPublisher(endpoint: endpoint)
        defer { raw.close() }
        let counters = BusCounters(factory: RecordingMetricsFactory(), role: "sub")
        let (subscriber, stream) = try Subscriber.stream(
            context: context, endpoints: [endpoint], counters: counters, logger: quietLogger, bufferLimit: 1)
        defer { subscriber.close() }

        try await raw.join { counters.snapshot.received > 0 }
        var events = stream.makeAsyncIterator()
        // Something was received, so this returns: the first probe that got through.
        guard case .envelope(let first)? = await events.next() else {
            Issue.record("the first event is not an envelope")
            return
        }
        let probesReceived = raw.lastSequence - first.header.sequence + 1
        let last = raw.lastSequence
        for index in UInt64(1)...50 {
            try raw.sendEnvelope(sequence: last + index, trace: "m\(index)")
        }
        // One consumed, one waiting in the buffer of one, every other one dropped.
        let total = probesReceived + 50
        #expect(
            await eventually {
                let snapshot = counters.snapshot
                return snapshot.received == total && snapshot.dropped == total - 2
            }, "\(counters.snapshot) for \(total) events")
        guard case .envelope(let kept)? = await events.next() else {
            Issue.record("the buffered event is not an envelope")
            return
        }
        #expect(kept.header.sequence > first.header.sequence)
        #expect(counters.snapshot.gaps == 0)
    }

    @Test(
        "closing the subscriber finishes its stream, so a consuming loop ends")
    func streamFinishesOnClose() async throws {
        let endpoint = freeEndpoint()
        let context = BusContext()
        defer { context.terminate() }
        let (subscriber, stream) = try Subscriber.stream(
            context: context, endpoints: [endpoint],
            counters: BusCounters(factory: RecordingMetricsFactory(), role: "sub"), logger: quietLogger)
        let finished = Flag()
        let consumer = Task {
            for await _ in stream {}
            finished.set()
        }
        defer { consumer.cancel() }
        subscriber.close()
        #expect(await eventually(within: .seconds(5)) { finished.isSet })
    }
}
