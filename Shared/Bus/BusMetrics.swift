import CoreMetrics
import Logging
import Synchronization

/// The bus's counters: kept here for `/status` and tests, and exported through an
/// injected metrics factory.
public final class BusCounters: Sendable {
    public struct Snapshot: Sendable, Equatable, Codable {
        public var sent: UInt64 = 0
        public var received: UInt64 = 0
        public var dropped: UInt64 = 0
        /// Messages missing, summed over every sequence gap.
        public var missing: UInt64 = 0
        public var gaps: UInt64 = 0
        public var restarts: UInt64 = 0
        public var decodeErrors: UInt64 = 0
        public var unknownVersion: UInt64 = 0
        /// Envelopes whose sequence was not after the last one of their publisher instance.
        public var duplicates: UInt64 = 0
        public init() {}
    }

    public enum Kind: String, CaseIterable, Sendable {
        case sent, received, dropped, missing, gaps, restarts, decodeErrors = "decode_errors",
            unknownVersion = "unknown_version", duplicates
    }

    private let state = Mutex(Snapshot())
    private let counters: [Kind: Counter]

    public init(factory: any MetricsFactory, role: String) {
        var counters: [Kind: Counter] = [:]
        for kind in Kind.allCases {
            counters[kind] = Counter(
                label: "breakwater_bus_\(kind.rawValue)_total", dimensions: [("socket", role)], factory: factory)
        }
        self.counters = counters
    }

    public func add(_ kind: Kind, _ count: UInt64 = 1) {
        state.withLock { snapshot in
            switch kind {
            case .sent: snapshot.sent += count
            case .received: snapshot.received += count
            case .dropped: snapshot.dropped += count
            case .missing: snapshot.missing += count
            case .gaps: snapshot.gaps += count
            case .restarts: snapshot.restarts += count
            case .decodeErrors: snapshot.decodeErrors += count
            case .unknownVersion: snapshot.unknownVersion += count
            case .duplicates: snapshot.duplicates += count
            }
        }
        counters[kind]?.increment(by: Int64(clamping: count))
    }

    public var snapshot: Snapshot { state.withLock { $0 } }
}

/// What the bus refused, by reason (`breakwater_bus_rejected_total{reason}`): forged or misrouted
/// envelopes, failed handshakes, unknown keys. Each is logged (sampled) and handed to `onRejection`,
/// which a service turns into a rate-limited alert.
public final class BusRejections: Sendable {
    public struct Rejection: Sendable, Equatable {
        public var reason: BusRejectionReason
        /// The peer or envelope, for the log: an endpoint, an address, `src` and topic.
        public var detail: String
    }

    private let counts = Mutex<[BusRejectionReason: UInt64]>([:])
    private let counters: [BusRejectionReason: Counter]
    private let logger: Logger
    private let onRejection: @Sendable (Rejection) -> Void

    public init(
        factory: any MetricsFactory, logger: Logger, onRejection: @escaping @Sendable (Rejection) -> Void = { _ in }
    ) {
        var counters: [BusRejectionReason: Counter] = [:]
        for reason in BusRejectionReason.allCases {
            counters[reason] = Counter(
                label: "breakwater_bus_rejected_total", dimensions: [("reason", reason.rawValue)], factory: factory)
        }
        self.counters = counters
        self.logger = logger
        self.onRejection = onRejection
    }

    public func record(_ reason: BusRejectionReason, detail: String) {
        let count = counts.withLock { counts in
            counts[reason, default: 0] += 1
            return counts[reason]!
        }
        counters[reason]?.increment()
        if RejectionThrottle.shouldLog(count: count) {
            logger.warning(
                "bus rejected", metadata: ["reason": "\(reason.rawValue)", "detail": "\(detail)", "count": "\(count)"])
        }
        onRejection(Rejection(reason: reason, detail: detail))
    }

    public func count(_ reason: BusRejectionReason) -> UInt64 { counts.withLock { $0[reason] ?? 0 } }

    /// Every reason with its count, for `/status`.
    public var snapshot: [String: UInt64] {
        let counts = counts.withLock { $0 }
        return Dictionary(uniqueKeysWithValues: BusRejectionReason.allCases.map { ($0.rawValue, counts[$0] ?? 0) })
    }
}

extension BusSecurity {
    /// Fresh keys for one publisher and one subscriber that know only each other: a process that owns
    /// both ends of a hop (the benchmarks). Refusals are counted nowhere.
    public static func pair(
        publisher: String, subscriber: String, logger: Logger
    ) throws -> (publisher: BusSecurity, subscriber: BusSecurity) {
        let (publisherKeys, subscriberKeys) = (try CurveKeyPair.generate(), try CurveKeyPair.generate())
        let keyring = try BusKeyring(
            publicKeys: [publisher: publisherKeys.publicKey, subscriber: subscriberKeys.publicKey],
            publishers: [publisher])
        let rejections = BusRejections(factory: NOOPMetricsHandler.instance, logger: logger)
        return (
            BusSecurity(keyring: keyring, principal: publisher, keyPair: publisherKeys, rejections: rejections),
            BusSecurity(keyring: keyring, principal: subscriber, keyPair: subscriberKeys, rejections: rejections)
        )
    }
}
