import CoreMetrics
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
