import Bus
import CoreMetrics
import Foundation
import Schema
import Testing
import TestSupport

/// Publishers and subscribers with CURVE on loopback: who gets through, and what is dropped and counted.
@Suite("The authenticated bus (CURVE)")
struct CurveTests {
    /// Keys for a small bus: two publishers, one subscriber, one stranger nobody was told about.
    struct Keys {
        let feed = try! CurveKeyPair.generate()
        let riskGate = try! CurveKeyPair.generate()
        let recorder = try! CurveKeyPair.generate()
        let stranger = try! CurveKeyPair.generate()

        var keyring: BusKeyring {
            try! BusKeyring(
                publicKeys: [
                    "feed-handler": feed.publicKey, "risk-gate": riskGate.publicKey, "trace-recorder": recorder.publicKey,
                ],
                publishers: ["feed-handler", "risk-gate"],
                // `md.trade` reserved to the risk gate, to see a topic rule at work with simple bodies.
                topicRules: BusKeyring.standardRules + [.init(prefix: "md.trade", publishers: ["risk-gate"])])
        }

        func security(_ principal: String, _ pair: CurveKeyPair, _ rejections: BusRejections) -> BusSecurity {
            BusSecurity(keyring: keyring, principal: principal, keyPair: pair, rejections: rejections)
        }
    }

    func rejections() -> BusRejections { BusRejections(factory: RecordingMetricsFactory(), logger: quietLogger) }

    func publisher(
        _ context: BusContext, _ endpoint: String, source: String, security: BusSecurity?
    ) throws -> Publisher {
        try Publisher(
            context: context, endpoint: endpoint, identity: PublisherIdentity(service: source, instance: "i-\(source)"),
            security: security, counters: BusCounters(factory: RecordingMetricsFactory(), role: "pub"),
            clock: CountingClock().now, logger: quietLogger)
    }

    func subscriber(
        _ context: BusContext, _ endpoint: String, publisher: String, security: BusSecurity, log: EventLog
    ) throws -> Subscriber {
        try Subscriber(
            context: context, peers: [BusPeer(endpoint: endpoint, service: publisher)], security: security,
            counters: BusCounters(factory: RecordingMetricsFactory(), role: "sub"), logger: quietLogger
        ) { log.append($0) }
    }

    /// Publishes `message` again and again until `done` holds (the subscription takes a moment to join).
    func keepPublishing(_ publisher: Publisher, _ message: @autoclosure () -> Bar, until done: () -> Bool) async throws
        -> Bool
    {
        let deadline = ContinuousClock.now + patience
        var index = 0
        while ContinuousClock.now < deadline {
            index += 1
            try publisher.publish(message(), traceId: "t-\(index)")
            if await eventually(within: .milliseconds(50), done) { return true }
        }
        return false
    }

    @Test("a known subscriber pinning the publisher's key receives everything, decrypted, and nothing is refused")
    func roundTrip() async throws {
        let keys = Keys()
        let endpoint = freeEndpoint()
        let context = BusContext()
        defer { context.terminate() }
        let serverRejections = rejections()
        let clientRejections = rejections()
        let feed = try publisher(
            context, endpoint, source: "feed-handler", security: keys.security("feed-handler", keys.feed, serverRejections))
        defer { feed.close() }
        #expect(feed.isSecure)
        let log = EventLog()
        let recorder = try subscriber(
            context, endpoint, publisher: "feed-handler",
            security: keys.security("trace-recorder", keys.recorder, clientRejections), log: log)
        defer { recorder.close() }
        try await join(feed) { !log.envelopes.isEmpty }
        for index in 1...50 { try feed.publish(bar("BTC", index), traceId: "bar-\(index)") }
        #expect(await eventually { log.contains(trace: "bar-50") })
        #expect((1...50).allSatisfy { log.contains(trace: "bar-\($0)") })
        #expect(log.gaps.isEmpty)
        #expect(serverRejections.snapshot.values.allSatisfy { $0 == 0 })
        #expect(clientRejections.snapshot.values.allSatisfy { $0 == 0 })
    }

    @Test("an envelope whose src is not its authenticated sender is dropped and counted, never delivered")
    func senderMismatchIsDropped() async throws {
        let keys = Keys()
        let endpoint = freeEndpoint()
        let context = BusContext()
        defer { context.terminate() }
        let clientRejections = rejections()
        // The feed's key, claiming to be the risk gate.
        let forger = try publisher(
            context, endpoint, source: "risk-gate", security: keys.security("feed-handler", keys.feed, rejections()))
        defer { forger.close() }
        let log = EventLog()
        let recorder = try subscriber(
            context, endpoint, publisher: "feed-handler",
            security: keys.security("trace-recorder", keys.recorder, clientRejections), log: log)
        defer { recorder.close() }
        let refused = try await keepPublishing(forger, bar("BTC", 1)) { clientRejections.count(.senderMismatch) >= 5 }
        #expect(refused, "the subscriber never saw the forged envelopes")
        #expect(log.all.isEmpty, "a forged envelope reached the handler: \(log.all.map(EventLog.describe))")
        #expect(recorder.heard.recent(within: .seconds(60)).isEmpty, "a forged src must not count as heard")
    }

    @Test("a topic its sender may not use is dropped and counted; its other topics pass")
    func topicRule() async throws {
        let keys = Keys()
        let endpoint = freeEndpoint()
        let context = BusContext()
        defer { context.terminate() }
        let clientRejections = rejections()
        let feed = try publisher(
            context, endpoint, source: "feed-handler", security: keys.security("feed-handler", keys.feed, rejections()))
        defer { feed.close() }
        let log = EventLog()
        let recorder = try subscriber(
            context, endpoint, publisher: "feed-handler",
            security: keys.security("trace-recorder", keys.recorder, clientRejections), log: log)
        defer { recorder.close() }
        try await join(feed) { !log.envelopes.isEmpty }
        for index in 1...20 {
            try feed.publish(trade("BTC", index), traceId: "trade-\(index)")
            try feed.publish(bar("BTC", index), traceId: "bar-\(index)")
        }
        #expect(await eventually { log.contains(trace: "bar-20") && clientRejections.count(.topicNotAllowed) == 20 })
        #expect(clientRejections.count(.topicNotAllowed) == 20)
        #expect(!log.envelopes.contains { $0.topic.hasPrefix("md.trade") })
        #expect((1...20).allSatisfy { log.contains(trace: "bar-\($0)") })
    }

    @Test("a rogue server with its own key on the publisher's port: the handshake fails, is counted, nothing arrives")
    func rogueServer() async throws {
        let keys = Keys()
        let endpoint = freeEndpoint()
        let rogueContext = BusContext()
        defer { rogueContext.terminate() }
        let rogueKeys = try CurveKeyPair.generate()
        let rogueKeyring = try BusKeyring(
            publicKeys: ["feed-handler": rogueKeys.publicKey, "trace-recorder": keys.recorder.publicKey],
            publishers: ["feed-handler"])
        // A CURVE server that admits the recorder and speaks as the feed, but holds the wrong secret.
        let rogue = try publisher(
            rogueContext, endpoint, source: "feed-handler",
            security: BusSecurity(keyring: rogueKeyring, principal: "feed-handler", keyPair: rogueKeys, rejections: rejections()))
        defer { rogue.close() }
        let context = BusContext()
        defer { context.terminate() }
        let clientRejections = rejections()
        let log = EventLog()
        let recorder = try subscriber(
            context, endpoint, publisher: "feed-handler",
            security: keys.security("trace-recorder", keys.recorder, clientRejections), log: log)
        defer { recorder.close() }
        let failed = try await keepPublishing(rogue, bar("BTC", 1)) { clientRejections.count(.handshakeFailed) >= 2 }
        #expect(failed, "no failed handshake was counted")
        #expect(log.all.isEmpty)
    }

    @Test("a plain-text publisher on the port: the handshake fails on the mechanism, is counted, nothing arrives")
    func plainTextPeer() async throws {
        let keys = Keys()
        let endpoint = freeEndpoint()
        let raw = try RawPublisher(endpoint: endpoint, source: "feed-handler")
        defer { raw.close() }
        let context = BusContext()
        defer { context.terminate() }
        let clientRejections = rejections()
        let log = EventLog()
        let recorder = try subscriber(
            context, endpoint, publisher: "feed-handler",
            security: keys.security("trace-recorder", keys.recorder, clientRejections), log: log)
        defer { recorder.close() }
        var sequence: UInt64 = 0
        #expect(
            await eventually {
                sequence += 1
                _ = try? raw.sendEnvelope(sequence: sequence, trace: "plain-\(sequence)")
                return clientRejections.count(.handshakeFailed) >= 1
            })
        #expect(log.all.isEmpty)
    }

    @Test("a subscriber whose key the publisher does not know is refused by the ZAP handler, counted, and fed nothing")
    func unknownSubscriber() async throws {
        let keys = Keys()
        let endpoint = freeEndpoint()
        let context = BusContext()
        defer { context.terminate() }
        let serverRejections = rejections()
        let feed = try publisher(
            context, endpoint, source: "feed-handler", security: keys.security("feed-handler", keys.feed, serverRejections))
        defer { feed.close() }
        // The stranger knows the feed's public key (it is public) but holds a key nobody admitted.
        let strangerContext = BusContext()
        defer { strangerContext.terminate() }
        let log = EventLog()
        let stranger = try subscriber(
            strangerContext, endpoint, publisher: "feed-handler",
            security: keys.security("stranger", keys.stranger, rejections()), log: log)
        defer { stranger.close() }
        let refused = try await keepPublishing(feed, bar("BTC", 1)) { serverRejections.count(.unknownKey) >= 1 }
        #expect(refused, "the ZAP handler never refused the stranger")
        #expect(log.all.isEmpty)
    }

    @Test("a subscriber asked to pin the key of a publisher the keyring does not know fails at once")
    func unknownPublisherKey() throws {
        let keys = Keys()
        let context = BusContext()
        defer { context.terminate() }
        #expect(throws: BusError.self) {
            _ = try subscriber(
                context, freeEndpoint(), publisher: "nobody", security: keys.security("trace-recorder", keys.recorder, rejections()),
                log: EventLog())
        }
    }
}
