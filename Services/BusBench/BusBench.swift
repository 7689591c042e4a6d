import ArgumentParser
import Bus
import CZeroMQ
import BenchKit
import Foundation
import Histogram
import Logging
import Metrics
import Schema
import Synchronization

/// One-hop latency and throughput of the bus with real envelopes, against raw libzmq
/// with the same payload size, in one run.
@main
struct BusBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bus-bench", abstract: "Measure one bus hop against raw libzmq on loopback.")

    @Option(help: "Messages timed one at a time for latency.")
    var latencyMessages = 20_000

    @Option(help: "Messages sent as fast as the window allows for throughput.")
    var throughputMessages = 300_000

    @Option(help: "Messages in flight at most during the throughput run (below the sockets' high-water mark, so that nothing is dropped).")
    var window = 20_000

    @Option(help: "Messages sent and discarded before measuring.")
    var warmup = 2_000

    func run() throws {
        let bar = Bar(
            symbol: "BTC", intervalSeconds: 60, openTime: 1_641_081_600_000_000_000, open: "46319.0",
            high: "46385.0", low: "46319.0", close: "46377.0", volume: "2300413.7295")
        let sample = EnvelopeCodec.encode(
            header: EnvelopeHeader(
                type: Bar.messageType.rawValue, source: "feed-handler", instance: String(repeating: "a", count: 32),
                sequence: 1, publishTime: 1, traceId: String(repeating: "b", count: 32), symbol: "BTC"),
            body: try EnvelopeCodec.encodeBody(bar))
        let size = sample.count
        print("libzmq \(BusContext.libzmqVersion); envelope \(size) bytes (md.bar); \(ProcessInfo.processInfo.activeProcessorCount) cores")

        let raw = try RawZeroMQ(payloadSize: size, curve: false)
        let rawLatency = try raw.latency(count: latencyMessages, warmup: warmup)
        let rawRate = try raw.throughput(count: throughputMessages, window: window)
        raw.close()

        // Raw libzmq with CURVE on both sockets: the same transport as the secure bus, so the secure
        // bus's ratio to it is what the bus adds over libzmq, CURVE's own cost left out.
        let rawSecure = try RawZeroMQ(payloadSize: size, curve: true)
        let rawCurveLatency = try rawSecure.latency(count: latencyMessages, warmup: warmup)
        let rawCurveRate = try rawSecure.throughput(count: throughputMessages, window: window)
        rawSecure.close()

        let bus = try BusPath(bar: bar, curve: false)
        let busLatency = try bus.latency(count: latencyMessages, warmup: warmup)
        let busRate = try bus.throughput(count: throughputMessages, window: window)
        bus.close()

        // The same path with CURVE (encryption, ZAP, the sender check) on both sockets.
        let secure = try BusPath(bar: bar, curve: true)
        let curveLatency = try secure.latency(count: latencyMessages, warmup: warmup)
        let curveRate = try secure.throughput(count: throughputMessages, window: window)
        secure.close()

        let ratio = busLatency.p50 / rawLatency.p50
        print(
            String(
                format: "raw libzmq   one-way p50 %7.1f µs  p99 %7.1f µs  throughput %9.0f msg/s", rawLatency.p50,
                rawLatency.p99, rawRate))
        print(
            String(
                format: "raw + CURVE  one-way p50 %7.1f µs  p99 %7.1f µs  throughput %9.0f msg/s", rawCurveLatency.p50,
                rawCurveLatency.p99, rawCurveRate))
        print(
            String(
                format: "bus envelope one-way p50 %7.1f µs  p99 %7.1f µs  throughput %9.0f msg/s (received, decoded)",
                busLatency.p50, busLatency.p99, busRate.received))
        print(
            String(
                format: "bus + CURVE  one-way p50 %7.1f µs  p99 %7.1f µs  throughput %9.0f msg/s (received, decoded)",
                curveLatency.p50, curveLatency.p99, curveRate.received))
        print(String(format: "ratio p50 bus/raw %.2f (target ≤ 1.5); throughput target ≥ 200000/s", ratio))
        print(
            String(
                format: "ratio p50 bus + CURVE / raw + CURVE %.2f (target ≤ 1.5); bus + CURVE / raw plain %.2f",
                curveLatency.p50 / rawCurveLatency.p50, curveLatency.p50 / rawLatency.p50))
        print(
            String(
                format: "ratio CURVE/plain bus: p50 %.2f  p99 %.2f  throughput %.2f", curveLatency.p50 / busLatency.p50,
                curveLatency.p99 / busLatency.p99, curveRate.received / max(busRate.received, 1)))
        let summary: [String: Any] = [
            "envelopeBytes": size,
            "raw": ["p50us": rawLatency.p50, "p99us": rawLatency.p99, "throughput": rawRate],
            "rawCurve": ["p50us": rawCurveLatency.p50, "p99us": rawCurveLatency.p99, "throughput": rawCurveRate],
            "bus": [
                "p50us": busLatency.p50, "p99us": busLatency.p99, "throughput": busRate.received,
                "dropped": busRate.dropped,
            ],
            "busCurve": [
                "p50us": curveLatency.p50, "p99us": curveLatency.p99, "throughput": curveRate.received,
                "dropped": curveRate.dropped,
            ],
            "ratioP50": ratio,
            "curveRatioP50": curveLatency.p50 / busLatency.p50,
            "curveToRawCurveP50": curveLatency.p50 / rawCurveLatency.p50,
            "curveToRawP50": curveLatency.p50 / rawLatency.p50,
            "curveRatioP99": curveLatency.p99 / busLatency.p99,
        ]
        let json = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }
}

/// Raw libzmq: the sender calls zmq_send itself, the receiver is a thread blocked in zmq_msg_recv.
/// With `curve` the publisher is a CURVE server and the subscriber its client (no ZAP handler: libzmq
/// admits the client; the handshake is outside the timed messages either way).
final class RawZeroMQ: @unchecked Sendable {
    let context = zmq_ctx_new()!
    let publisher: UnsafeMutableRawPointer
    let subscriber: UnsafeMutableRawPointer
    let payloadSize: Int

    init(payloadSize: Int, curve: Bool) throws {
        self.payloadSize = payloadSize
        publisher = zmq_socket(context, ZMQ_PUB)
        subscriber = zmq_socket(context, ZMQ_SUB)
        var hwm: Int32 = 100_000
        zmq_setsockopt(publisher, ZMQ_SNDHWM, &hwm, 4)
        zmq_setsockopt(subscriber, ZMQ_RCVHWM, &hwm, 4)
        if curve {
            let server = try CurveKeyPair.generate()
            let client = try CurveKeyPair.generate()
            var one: Int32 = 1
            zmq_setsockopt(publisher, ZMQ_CURVE_SERVER, &one, 4)
            _ = server.secretKey.withCString { zmq_setsockopt(publisher, ZMQ_CURVE_SECRETKEY, $0, 40) }
            _ = server.publicKey.withCString { zmq_setsockopt(subscriber, ZMQ_CURVE_SERVERKEY, $0, 40) }
            _ = client.publicKey.withCString { zmq_setsockopt(subscriber, ZMQ_CURVE_PUBLICKEY, $0, 40) }
            _ = client.secretKey.withCString { zmq_setsockopt(subscriber, ZMQ_CURVE_SECRETKEY, $0, 40) }
        }
        let endpoint = freeEndpoint()
        guard zmq_bind(publisher, endpoint) == 0 else { throw ValidationError("bind \(endpoint)") }
        zmq_setsockopt(subscriber, ZMQ_SUBSCRIBE, "", 0)
        zmq_connect(subscriber, endpoint)
        Thread.sleep(forTimeInterval: 0.3)  // let the subscription reach the publisher
    }

    private func send(_ stamp: Int64) {
        var payload = [UInt8](repeating: 0x20, count: payloadSize)
        withUnsafeBytes(of: stamp) { payload.replaceSubrange(0..<8, with: $0) }
        _ = "md.bar.BTC".withCString { zmq_send(publisher, $0, 10, ZMQ_SNDMORE) }
        _ = payload.withUnsafeBytes { zmq_send(publisher, $0.baseAddress, $0.count, 0) }
    }

    /// Receives one two-frame message; returns its stamp.
    private func receive() -> Int64 {
        var stamp: Int64 = 0
        var more = true
        var first = true
        while more {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            zmq_msg_recv(&message, subscriber, 0)
            if !first, zmq_msg_size(&message) >= 8 {
                stamp = zmq_msg_data(&message).loadUnaligned(as: Int64.self)
            }
            first = false
            more = zmq_msg_more(&message) != 0
            zmq_msg_close(&message)
        }
        return stamp
    }

    func latency(count: Int, warmup: Int) throws -> Percentiles {
        var histogram = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
        let done = DispatchSemaphore(value: 0)
        let arrived = DispatchSemaphore(value: 0)
        let box = ResultBox()
        let receiver = Thread {
            var local = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
            for index in 0..<(count + warmup) {
                let stamp = self.receive()
                if index >= warmup { local.record(UInt64(max(monotonicNanos() - stamp, 0))) }
                arrived.signal()
            }
            box.histogram = local
            done.signal()
        }
        receiver.start()
        for _ in 0..<(count + warmup) {
            send(monotonicNanos())
            arrived.wait()
        }
        done.wait()
        histogram = box.histogram!
        return Percentiles(histogram)
    }

    func throughput(count: Int, window: Int) throws -> Double {
        let done = DispatchSemaphore(value: 0)
        let received = ResultBox()
        let seen = InFlight()
        let receiver = Thread {
            var timeout: Int32 = 1_000
            zmq_setsockopt(self.subscriber, ZMQ_RCVTIMEO, &timeout, 4)
            var start: Int64 = 0
            while seen.received < count {
                var message = zmq_msg_t()
                zmq_msg_init(&message)
                let size = zmq_msg_recv(&message, self.subscriber, 0)
                let more = zmq_msg_more(&message) != 0
                zmq_msg_close(&message)
                if size < 0 { break }
                if !more {
                    if seen.received == 0 { start = monotonicNanos() }
                    seen.add()
                }
            }
            received.count = seen.received
            received.seconds = Double(monotonicNanos() - start) / 1e9
            done.signal()
        }
        receiver.start()
        for sent in 0..<count {
            seen.waitBelow(sent - window)
            send(0)
        }
        done.wait()
        return Double(received.count) / max(received.seconds, 1e-9)
    }

    func close() {
        var linger: Int32 = 0
        zmq_setsockopt(publisher, ZMQ_LINGER, &linger, 4)
        zmq_setsockopt(subscriber, ZMQ_LINGER, &linger, 4)
        zmq_close(publisher)
        zmq_close(subscriber)
        zmq_ctx_term(context)
    }
}

/// Messages received so far, read by the sender to keep at most a window in flight.
final class InFlight: Sendable {
    private let count = Atomic<Int>(0)
    var received: Int { count.load(ordering: .acquiring) }
    func add() { count.add(1, ordering: .releasing) }
    /// Yields the core until more than `sent` messages arrived (a sleep would cost more than a message),
    /// or 10 s passed (a receiver that gave up must not hang the bench).
    func waitBelow(_ sent: Int) {
        let deadline = monotonicNanos() + 10_000_000_000
        while received <= sent && monotonicNanos() < deadline { sched_yield() }
    }
}

final class ResultBox: @unchecked Sendable {
    var histogram: Histogram<UInt64>?
    var count = 0
    var seconds = 0.0
}

/// The bus as services use it: `Publisher.publish` (encode, sequence, send) and a `Subscriber`
/// whose callback, on its socket thread, parses the header and decodes the body.
final class BusPath: @unchecked Sendable {
    let context = BusContext()
    let endpoint = freeEndpoint()
    let publisher: Publisher
    let bar: Bar
    /// The subscriber's side of CURVE; nil for plain text.
    let subscriberSecurity: BusSecurity?

    init(bar: Bar, curve: Bool) throws {
        self.bar = bar
        let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let security = curve ? try BusSecurity.pair(publisher: "bench", subscriber: "bench-sub", logger: logger) : nil
        let publisherSecurity = security?.publisher
        let subscriberSecurity = security?.subscriber
        self.subscriberSecurity = subscriberSecurity
        publisher = try Publisher(
            context: context, endpoint: endpoint, identity: PublisherIdentity(service: "bench", instance: "bench"),
            security: publisherSecurity, counters: BusCounters(factory: NOOPMetricsHandler.instance, role: "pub"), clock: monotonicNanos,
            logger: logger)
    }

    private func subscribe(_ handler: @escaping @Sendable (RawEnvelope) -> Void) throws -> Subscriber {
        let subscriber = try Subscriber(
            context: context, peers: [BusPeer(endpoint: endpoint, service: "bench")], security: subscriberSecurity,
            counters: BusCounters(factory: NOOPMetricsHandler.instance, role: "sub"),
            logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        ) { event in
            if case .envelope(let raw) = event { handler(raw) }
        }
        Thread.sleep(forTimeInterval: 0.3)
        return subscriber
    }

    func latency(count: Int, warmup: Int) throws -> Percentiles {
        let arrived = DispatchSemaphore(value: 0)
        let box = ResultBox()
        box.histogram = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
        let seen = ResultBox()
        let subscriber = try subscribe { raw in
            guard (try? raw.decode(Bar.self)) != nil else { return }
            let latency = monotonicNanos() - raw.header.publishTime
            seen.count += 1
            if seen.count > warmup { box.histogram!.record(UInt64(max(latency, 0))) }
            arrived.signal()
        }
        for _ in 0..<(count + warmup) {
            try publisher.publish(bar, traceId: "b")
            arrived.wait()
        }
        subscriber.close()
        return Percentiles(box.histogram!)
    }

    func throughput(count: Int, window: Int) throws -> (received: Double, dropped: UInt64) {
        let box = ResultBox()
        let seen = InFlight()
        let done = DispatchSemaphore(value: 0)
        let subscriber = try subscribe { raw in
            guard (try? raw.decode(Bar.self)) != nil else { return }
            if seen.received == 0 { box.seconds = Double(monotonicNanos()) }
            seen.add()
            if seen.received == count { done.signal() }
        }
        for sent in 0..<count {
            seen.waitBelow(sent - window)
            try publisher.publish(bar, traceId: "b")
        }
        _ = done.wait(timeout: .now() + 30)
        let elapsed = (Double(monotonicNanos()) - box.seconds) / 1e9
        subscriber.close()
        return (Double(seen.received) / max(elapsed, 1e-9), publisher.counters.snapshot.dropped)
    }

    func close() {
        publisher.close()
        context.terminate()
    }
}
