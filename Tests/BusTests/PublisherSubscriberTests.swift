import Bus
import CoreMetrics
import Foundation
import Schema
import Testing
import TestSupport

/// A publisher and a subscriber in one process, on real loopback sockets.
@Suite("Publisher and Subscriber on loopback")
struct PublisherSubscriberTests {
    func makePublisher(
        _ context: BusContext, _ endpoint: String, service: String = "feed-handler", instance: String = "instance-1",
        counters: BusCounters = BusCounters(factory: RecordingMetricsFactory(), role: "pub"),
        clock: @escaping @Sendable () -> EpochNanos = CountingClock().now
    ) throws -> Publisher {
        try Publisher(
            context: context, endpoint: endpoint, identity: PublisherIdentity(service: service, instance: instance),
            counters: counters, clock: clock, logger: quietLogger)
    }

    func makeSubscriber(
        _ context: BusContext, _ endpoints: [String], topics: [String] = [""],
        counters: BusCounters = BusCounters(factory: RecordingMetricsFactory(), role: "sub"), log: EventLog
    ) throws -> Subscriber {
        try Subscriber(
            context: context, endpoints: endpoints, topics: topics, counters: counters, logger: quietLogger
        ) { event in log.append(event) }
    }

    /// Checks that `received` are exactly the messages published as `sent`, in order, header for header.
    func expectDelivered(_ received: [RawEnvelope], sent: [(header: EnvelopeHeader, body: Bar)]) throws {
        #expect(received.count == sent.count)
        #expect(received.map(\.header) == sent.map(\.header))
        for (envelope, expected) in zip(received, sent) {
            #expect(envelope.topic == expected.body.topic)
            #expect(envelope.messageType == .bar)
            #expect(envelope.header.source == "feed-handler")
            #expect(envelope.header.instance == "instance-1")
            #expect(envelope.header.symbol == expected.body.symbol)
            #expect(envelope.header.schemaVersion == SchemaVersion.major)
            #expect(try envelope.decode(Bar.self) == expected.body)
        }
    }

    @Test("a fresh publisher numbers its messages 1…N and stamps them with the injected clock")
    func publisherNumbersFromOne() async throws {
        let endpoint = freeEndpoint()
        let context = BusContext()
        defer { context.terminate() }
        let counters = BusCounters(factory: RecordingMetricsFactory(), role: "pub")
        let publisher = try makePublisher(context, endpoint, counters: counters)
        defer { publisher.close() }
        var headers: [EnvelopeHeader] = []
        for index in 1...20 {
            headers.append(try publisher.publish(bar("BTC", index), traceId: "trace-\(index)"))
        }
        #expect(headers.map(\.sequence) == Array(1...20))
        #expect(headers.map(\.publishTime) == (1...20).map { Int64($0) * 1_000 })
        #expect(headers.map(\.traceId) == (1...20).map { "trace-\($0)" })
        #expect(headers.allSatisfy { $0.type == "md.bar" && $0.source == "feed-handler" && $0.symbol == "BTC" })
        // With no subscriber a PUB socket still accepts: every message leaves the socket thread.
        #expect(await eventually { counters.snapshot.sent == 20 })
        #expect(counters.snapshot.dropped == 0)
    }

    @Test("callback form: N messages arrive in order with consecutive sequences and every header field")
    func callbackDeliversInOrder() async throws {
        let endpoint = freeEndpoint()
        let context = BusContext()
        defer { context.terminate() }
        let publisher = try makePublisher(context, endpoint)
        defer { publisher.close() }
        let log = EventLog()
        let counters = BusCounters(factory: RecordingMetricsFactory(), role: "sub")
        let subscriber = try makeSubscriber(context, [endpoint], counters: counters, log: log)
        defer { subscriber.close() }

        let probes = try await join(publisher) { !log.envelopes.isEmpty }
        #expect(probes.map(\.sequence) == Array(1...UInt64(probes.count)))

        let count = 200
        var sent: [(header: EnvelopeHeader, body: Bar)] = []
        for index in 1...count {
            let body = bar(index % 2 == 0 ? "BTC" : "ETH", index)
            sent.append((try publisher.publish(body, traceId: "trace-\(index)"), body))
        }
        // Sequences continue from the probes: 1…N of this publisher instance, without a hole.
        let first = UInt64(probes.count) + 1
        #expect(sent.map(\.header.sequence) == Array(first...(first + UInt64(count) - 1)))
        try #require(await eventually { log.contains(trace: "trace-\(count)") })

        let received = log.envelopes.filter { !$0.header.traceId.hasPrefix("probe-") }
        try expectDelivered(received, sent: sent)
        // The probes that arrived are a run of consecutive sequences ending before the messages.
        let probeSequences = log.envelopes.filter { $0.header.traceId.hasPrefix("probe-") }.map(\.header.sequence)
        #expect(!probeSequences.isEmpty)
        if let low = probeSequences.first {
            #expect(probeSequences == Array(low...(low + UInt64(probeSequences.count) - 1)))
            #expect(probeSequences.last == UInt64(probes.count))
        }
        #expect(log.gaps.isEmpty)
        #expect(log.restarts.isEmpty)
        let snapshot = counters.snapshot
        #expect(snapshot.received == UInt64(log.envelopes.count))
        #expect(snapshot.gaps == 0 && snapshot.missing == 0 && snapshot.decodeErrors == 0)
    }

    @Test("tasks publishing at once: every message arrives, in sequence order, with no gap")
    func concurrentPublishersKeepTheWireOrder() async throws {
        let endpoint = freeEndpoint()
        let context = BusContext()
        defer { context.terminate() }
        let publisher = try makePublisher(context, endpoint)
        defer { publisher.close() }
        let log = EventLog()
        let subscriber = try makeSubscriber(context, [endpoint], log: log)
        defer { subscriber.close() }
        let probes = try await join(publisher) { !log.envelopes.isEmpty }

        // Sequence numbers are taken under the lock and handed to the one socket thread in that order.
        let tasks = 8, each = 100
        let sent = try await withThrowingTaskGroup(of: [EnvelopeHeader].self) { group in
            for task in 0..<tasks {
                group.addTask {
                    try (0..<each).map { index in
                        try publisher.publish(bar("BTC", index), traceId: "task-\(task)-\(index)")
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let first = UInt64(probes.count) + 1
        #expect(sent.map(\.sequence).sorted() == Array(first...(first + UInt64(tasks * each) - 1)))
        let last = try #require(sent.max { $0.sequence < $1.sequence })
        try #require(await eventually { log.contains(trace: last.traceId) })
        let received = log.envelopes.filter { $0.header.traceId.hasPrefix("task-") }
        #expect(received.map(\.header.sequence) == Array(first...(first + UInt64(tasks * each) - 1)))
        #expect(Set(received.map(\.header.traceId)).count == tasks * each)
        #expect(log.gaps.isEmpty)
        #expect(publisher.counters.snapshot.sent >= UInt64(tasks * each))
        #expect(publisher.counters.snapshot.dropped == 0)
    }

    @Test("stream form: N messages arrive in order with consecutive sequences and every header field")
    func streamDeliversInOrder() async throws {
        let endpoint = freeEndpoint()
        let context = BusContext()
        defer { context.terminate() }
        let publisher = try makePublisher(context, endpoint)
        defer { publisher.close() }
        let counters = BusCounters(factory: RecordingMetricsFactory(), role: "sub")
        let (subscriber, stream) = try Subscriber.stream(
            context: context, endpoints: [endpoint], counters: counters, logger: quietLogger)
        defer { subscriber.close() }
        let log = EventLog()
        let consumer = Task {
            for await event in stream { log.append(event) }
        }
        defer { consumer.cancel() }

        let probes = try await join(publisher) { !log.envelopes.isEmpty }
        let count = 100
        var sent: [(header: EnvelopeHeader, body: Bar)] = []
        for index in 1...count {
            let body = bar("SOL", index)
            sent.append((try publisher.publish(body, traceId: "trace-\(index)"), body))
        }
        let first = UInt64(probes.count) + 1
        #expect(sent.map(\.header.sequence) == Array(first...(first + UInt64(count) - 1)))
        try #require(await eventually { log.contains(trace: "trace-\(count)") })

        try expectDelivered(log.envelopes.filter { !$0.header.traceId.hasPrefix("probe-") }, sent: sent)
        #expect(log.gaps.isEmpty)
        #expect(log.restarts.isEmpty)
        #expect(counters.snapshot.dropped == 0)
    }

    @Test("topic filtering keeps only matching topics, while the sequence check still sees every message")
    func filteringWithoutFalseGaps() async throws {
        let endpoint = freeEndpoint()
        let context = BusContext()
        defer { context.terminate() }
        let publisher = try makePublisher(context, endpoint)
        defer { publisher.close() }
        let log = EventLog()
        let counters = BusCounters(factory: RecordingMetricsFactory(), role: "sub")
        let subscriber = try makeSubscriber(
            context, [endpoint], topics: ["md.bar.BTC", "exec.fill"], counters: counters, log: log)
        defer { subscriber.close() }

        // Probes (svc.hb.probe) do not match: the subscriber's counters show when one got through.
        let probes = try await join(publisher) { counters.snapshot.received > 0 }
        var kept: [String] = []
        for index in 1...30 {
            let trace = "m-\(index)"
            switch index % 3 {
            case 0:
                try publisher.publish(bar("BTC", index), traceId: trace)
                kept.append(trace)
            case 1: try publisher.publish(trade("BTC", index), traceId: trace)
            default: try publisher.publish(bar("ETH", index), traceId: trace)
            }
        }
        try #require(await eventually { log.contains(trace: "m-30") })

        let envelopes = log.envelopes
        #expect(envelopes.map(\.header.traceId) == kept)
        #expect(envelopes.allSatisfy { $0.topic == "md.bar.BTC" })
        // Kept messages are three sequences apart: only a subscriber that tracked the
        // filtered ones too can tell that nothing was lost.
        #expect(log.gaps.isEmpty)
        let snapshot = counters.snapshot
        #expect(snapshot.gaps == 0)
        #expect(snapshot.missing == 0)
        // Every message was received (and checked), kept or not: 30 plus the probes that got through.
        let probesReceived = Int(snapshot.received) - 30
        #expect(probesReceived >= 1 && probesReceived <= probes.count)
    }

    @Test("a second publisher instance with the same service on the same endpoint is a restart, not a gap")
    func restart() async throws {
        let endpoint = freeEndpoint()
        let context = BusContext()
        defer { context.terminate() }
        let log = EventLog()
        let counters = BusCounters(factory: RecordingMetricsFactory(), role: "sub")
        let subscriber = try makeSubscriber(context, [endpoint], counters: counters, log: log)
        defer { subscriber.close() }

        let first = try makePublisher(context, endpoint, instance: "instance-A")
        defer { first.close() }
        try await join(first) { !log.envelopes.isEmpty }
        var lastOfFirst: EnvelopeHeader?
        for index in 1...3 {
            lastOfFirst = try first.publish(bar("BTC", index), traceId: "a-\(index)")
        }
        try #require(await eventually { log.contains(trace: "a-3") })
        first.close()

        // The old socket's port is released asynchronously: retry the bind, within a deadline.
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: patience)
        var second: Publisher?
        while second == nil {
            do {
                second = try makePublisher(context, endpoint, instance: "instance-B")
            } catch let error as BusError where clock.now < deadline {
                _ = error
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        let restarted = try #require(second)
        defer { restarted.close() }
        try await join(restarted) { log.envelopes.contains { $0.header.instance == "instance-B" } }
        try restarted.publish(bar("BTC", 4), traceId: "b-1")
        try #require(await eventually { log.contains(trace: "b-1") })

        let firstOfSecond = try #require(log.envelopes.first { $0.header.instance == "instance-B" })
        #expect(
            log.restarts == [
                PublisherRestart(
                    source: "feed-handler", previousInstance: "instance-A", instance: "instance-B",
                    lastSequence: try #require(lastOfFirst).sequence, firstSequence: firstOfSecond.header.sequence)
            ])
        // The restart is reported just before the new instance's first message.
        let events = log.all.map(EventLog.describe)
        let restartIndex = try #require(events.firstIndex { $0.hasPrefix("restart") })
        #expect(events[restartIndex + 1] == EventLog.describe(.envelope(firstOfSecond)))
        #expect(log.gaps.isEmpty)
        let snapshot = counters.snapshot
        #expect(snapshot.restarts == 1)
        #expect(snapshot.gaps == 0)
        #expect(snapshot.missing == 0)
    }

    @Test("close is idempotent and publishing after close throws BusError")
    func closeIsIdempotent() async throws {
        let endpoint = freeEndpoint()
        let context = BusContext()
        defer { context.terminate() }
        let publisher = try makePublisher(context, endpoint)
        try publisher.publish(bar("BTC", 1), traceId: "before")
        publisher.close()
        publisher.close()
        let error = try #require(throws: BusError.self) {
            try publisher.publish(bar("BTC", 2), traceId: "after")
        }
        #expect(error.operation == "publish")
        #expect(error.endpoint == endpoint)
        #expect(!error.message.isEmpty)
        #expect(publisher.counters.snapshot.sent == 1)
        // The port is free again: close really closed the socket.
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: patience)
        var rebound: Publisher?
        while rebound == nil && clock.now < deadline {
            rebound = try? makePublisher(context, endpoint, instance: "instance-2")
            if rebound == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(rebound != nil)
        rebound?.close()

        let subscriber = try makeSubscriber(context, [endpoint], log: EventLog())
        subscriber.close()
        subscriber.close()
    }

    @Test("binding an endpoint that is already bound throws a BusError that says so")
    func bindTwice() throws {
        let endpoint = freeEndpoint()
        let context = BusContext()
        defer { context.terminate() }
        let first = try makePublisher(context, endpoint)
        defer { first.close() }
        let error = try #require(throws: BusError.self) {
            _ = try makePublisher(context, endpoint, instance: "instance-2")
        }
        #expect(error.operation == "bind")
        #expect(error.endpoint == endpoint)
        #expect(error.message == "Address already in use")
        #expect(error.description == "bind \(endpoint): Address already in use")
        // The first publisher is unharmed.
        #expect(try first.publish(bar("BTC", 1), traceId: "still-works").sequence == 1)
    }

    @Test("malformed endpoints are refused with the operation and endpoint named")
    func malformedEndpoints() throws {
        let context = BusContext()
        defer { context.terminate() }
        let bindError = try #require(throws: BusError.self) { _ = try makePublisher(context, "tcp:/x") }
        #expect(bindError.operation == "bind")
        #expect(bindError.endpoint == "tcp:/x")
        #expect(!bindError.message.isEmpty)
        let connectError = try #require(throws: BusError.self) {
            _ = try makeSubscriber(context, ["nonsense://x"], log: EventLog())
        }
        #expect(connectError.operation == "connect")
        #expect(connectError.endpoint == "nonsense://x")
        #expect(!connectError.message.isEmpty)
    }
}
