import Schema
import Storage
import Testing

@Suite("TraceQueue")
struct TraceQueueTests {
    func envelope(_ sequence: UInt64) throws -> RawEnvelope {
        try received(bar(), sequence: sequence, at: EpochNanos(sequence), trace: "t\(sequence)")
    }

    @Test("items wait in arrival order; beyond the backlog one is refused; next takes them all")
    func backlog() throws {
        let queue = TraceQueue(maxBatch: 3, maxBacklog: 4)
        for sequence in UInt64(1)...3 { #expect(queue.add(try envelope(sequence), receivedAt: 10)) }
        #expect(queue.add(SequenceGap(source: "feed-handler", instance: "i", after: 3, received: 5), at: 11))
        #expect(!queue.add(try envelope(6), receivedAt: 12))
        #expect(queue.count == 4)
        let (batch, finished) = queue.next(within: .zero)
        #expect(!finished)
        #expect(batch.envelopes.map(\.envelope.header.sequence) == [1, 2, 3])
        #expect(batch.gaps.map(\.at) == [11])
        #expect(queue.count == 0)
        #expect(queue.next(within: .zero).batch.isEmpty)
    }

    @Test("a batch put back goes in front of what came since, past the backlog; finish ends the queue")
    func putBackAndFinish() throws {
        let queue = TraceQueue(maxBatch: 10, maxBacklog: 2)
        #expect(queue.add(try envelope(1), receivedAt: 1))
        #expect(queue.add(try envelope(2), receivedAt: 2))
        let failed = queue.next(within: .zero).batch
        #expect(queue.add(try envelope(3), receivedAt: 3))
        #expect(queue.putBack(failed) == 3)
        #expect(queue.contains { $0.envelope.header.sequence == 2 })
        #expect(!queue.contains { $0.envelope.header.sequence == 4 })
        queue.finish()
        // Finished: `next` does not wait out its interval.
        let (batch, finished) = queue.next(within: .seconds(3_600))
        #expect(finished)
        #expect(batch.envelopes.map(\.envelope.header.sequence) == [1, 2, 3])
    }
}
