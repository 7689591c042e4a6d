import Bus
import CoreMetrics
import Foundation
import Schema
import Testing
import TestSupport

/// A `Subscriber` facing a raw libzmq PUB socket that skips sequences and sends junk.
@Suite("Subscriber against a raw PUB socket")
struct HostilePeerTests {
    let topic = Array("md.bar.BTC".utf8)

    func subscribe(
        _ context: BusContext, _ endpoint: String, _ counters: BusCounters, _ log: EventLog
    ) throws -> Subscriber {
        try Subscriber(context: context, endpoints: [endpoint], counters: counters, logger: quietLogger) { event in
            log.append(event)
        }
    }

    /// Valid envelope bytes for a header the raw publisher would send.
    func envelope(_ raw: RawPublisher, sequence: UInt64, trace: String, version: Int = SchemaVersion.major) throws
        -> [UInt8]
    {
        let body = bar("BTC", 1)
        return EnvelopeCodec.encode(
            header: EnvelopeHeader(
                schemaVersion: version, type: Bar.messageType.rawValue, source: raw.source, instance: raw.instance,
                sequence: sequence, publishTime: 1, traceId: trace, symbol: "BTC"),
            body: try EnvelopeCodec.encodeBody(body))
    }

    @Test("a publisher that skips sequences produces one gap event and counts the missing messages")
    func gap() async throws {
        let endpoint = freeEndpoint()
        let context = BusContext()
        defer { context.terminate() }
        let raw = try RawPublisher(endpoint: endpoint)
        defer { raw.close() }
        let log = EventLog()
        let counters = BusCounters(factory: RecordingMetricsFactory(), role: "sub")
        let subscriber = try subscribe(context, endpoint, counters, log)
        defer { subscriber.close() }

        try await raw.join { !log.envelopes.isEmpty }
        let last = raw.lastSequence
        try raw.sendEnvelope(sequence: last + 1, trace: "in-order")
        try raw.sendEnvelope(sequence: last + 5, trace: "after-gap")
        try raw.sendEnvelope(sequence: last + 6, trace: "resumed")
        try #require(await eventually { log.contains(trace: "resumed") })

        let gap = SequenceGap(source: "raw-feed", instance: "raw-instance-1", after: last + 1, received: last + 5)
        #expect(log.gaps == [gap])
        #expect(gap.missing == 3)
        // The gap is reported between the two messages around it, and the message after it is delivered.
        #expect(
            log.all.suffix(4).map(EventLog.describe) == [
                "envelope in-order #\(last + 1)", "gap \(last + 1)->\(last + 5)", "envelope after-gap #\(last + 5)",
                "envelope resumed #\(last + 6)",
            ])
        let snapshot = counters.snapshot
        #expect(snapshot.gaps == 1)
        #expect(snapshot.missing == 3)
        #expect(snapshot.restarts == 0)
        #expect(snapshot.received == UInt64(log.envelopes.count))
    }

    @Test("malformed messages are counted and skipped, and a valid message after them still arrives")
    func malformedMessages() async throws {
        let endpoint = freeEndpoint()
        let context = BusContext()
        defer { context.terminate() }
        let raw = try RawPublisher(endpoint: endpoint)
        defer { raw.close() }
        let log = EventLog()
        let counters = BusCounters(factory: RecordingMetricsFactory(), role: "sub")
        let subscriber = try subscribe(context, endpoint, counters, log)
        defer { subscriber.close() }

        try await raw.join { !log.envelopes.isEmpty }
        let last = raw.lastSequence
        let eventsBefore = log.all.count
        let receivedBefore = counters.snapshot.received

        // Sequences far ahead: had any of these been accepted, the valid message after them
        // would show up as a gap or a stale sequence.
        let valid = try envelope(raw, sequence: last + 7, trace: "three-frames")
        #expect(raw.send([topic]))  // one frame only
        #expect(raw.send([topic, valid, Array("extra".utf8)]))  // three frames
        #expect(raw.send([topic, [0xFF, 0xFE, 0x00, 0x7B, 0x22, 0x01]]))  // garbage bytes
        #expect(raw.send([topic, []]))  // an empty envelope frame
        #expect(raw.send([topic, Array(#"{"hello":"world","list":[1,2,3]}"#.utf8)]))  // JSON, not an envelope
        #expect(raw.send([topic, Array(valid.prefix(valid.count / 2))]))  // a truncated envelope
        let decodeErrors: UInt64 = 6
        #expect(raw.send([topic, try envelope(raw, sequence: last + 9, trace: "version-2", version: 2)]))
        try raw.sendEnvelope(sequence: last + 1, trace: "survivor")
        try #require(await eventually { log.contains(trace: "survivor") })

        let snapshot = counters.snapshot
        #expect(snapshot.decodeErrors == decodeErrors)
        #expect(snapshot.unknownVersion == 1)
        #expect(snapshot.received - receivedBefore == decodeErrors + 1 + 1)
        #expect(snapshot.gaps == 0)
        #expect(snapshot.restarts == 0)
        // Nothing of the junk reached the handler; the valid message did, in order.
        let after = log.all.dropFirst(eventsBefore).map(EventLog.describe)
        #expect(after == ["envelope survivor #\(last + 1)"])
        #expect(!log.contains(trace: "three-frames"))
        #expect(!log.contains(trace: "version-2"))
    }

    @Test("the counters' snapshot and the metrics exported through the factory agree")
    func countersMatchMetrics() async throws {
        let factory = RecordingMetricsFactory()
        let subCounters = BusCounters(factory: factory, role: "sub")
        let pubCounters = BusCounters(factory: factory, role: "pub")
        let context = BusContext()
        defer { context.terminate() }

        // Subscriber side: a gap, a restart, junk and an unknown version from a raw peer.
        let rawEndpoint = freeEndpoint()
        let raw = try RawPublisher(endpoint: rawEndpoint)
        defer { raw.close() }
        let log = EventLog()
        let subscriber = try subscribe(context, rawEndpoint, subCounters, log)
        defer { subscriber.close() }
        try await raw.join { !log.envelopes.isEmpty }
        var last = raw.lastSequence
        try raw.sendEnvelope(sequence: last + 3, trace: "gap")  // 2 missing
        raw.instance = "raw-instance-2"
        try raw.sendEnvelope(sequence: 1, trace: "restarted")
        try raw.sendEnvelope(sequence: 5, trace: "gap-2")  // 3 missing
        last = 5
        #expect(raw.send([topic]))
        #expect(raw.send([topic, Array("not json".utf8)]))
        #expect(raw.send([topic, try envelope(raw, sequence: last + 1, trace: "v2", version: 2)]))
        try raw.sendEnvelope(sequence: last + 1, trace: "end")
        try #require(await eventually { log.contains(trace: "end") })

        // Publisher side: messages sent, and one refused after close.
        let publisher = try Publisher(
            context: context, endpoint: freeEndpoint(),
            identity: PublisherIdentity(service: "feed-handler", instance: "p"), counters: pubCounters,
            clock: CountingClock().now, logger: quietLogger)
        for index in 1...7 { try publisher.publish(bar("BTC", index), traceId: "t\(index)") }
        #expect(await eventually { pubCounters.snapshot.sent == 7 })
        publisher.close()
        #expect(throws: BusError.self) { try publisher.publish(bar("BTC", 8), traceId: "late") }

        let sub = subCounters.snapshot
        #expect(sub.gaps == 2)
        #expect(sub.missing == 5)
        #expect(sub.restarts == 1)
        #expect(sub.decodeErrors == 2)
        #expect(sub.unknownVersion == 1)
        #expect(sub.received == UInt64(log.envelopes.count) + 3)
        let pub = pubCounters.snapshot
        #expect(pub.sent == 7)
        #expect(pub.dropped == 1)

        for (role, snapshot) in [("sub", sub), ("pub", pub)] {
            for kind in BusCounters.Kind.allCases {
                let exported = factory.counter("breakwater_bus_\(kind.rawValue)_total", [("socket", role)])
                #expect(exported == Int64(snapshot.value(kind)), "\(role) \(kind)")
            }
        }
        // One counter per kind and role, with these names and nothing else.
        let expected = Set(
            ["sub", "pub"].flatMap { role in
                BusCounters.Kind.allCases.map {
                    RecordingMetricsFactory.Key("breakwater_bus_\($0.rawValue)_total", [("socket", role)])
                }
            })
        #expect(factory.labels == expected)
        #expect(
            Set(BusCounters.Kind.allCases.map(\.rawValue)) == [
                "sent", "received", "dropped", "missing", "gaps", "restarts", "decode_errors", "unknown_version",
                "duplicates",
            ])
    }
}
