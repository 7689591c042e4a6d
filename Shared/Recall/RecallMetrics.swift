import CoreMetrics
import Schema

/// The recall service's own metrics (the breaker's are `DependencyMetrics`), on an injected factory.
final class RecallMetrics: Sendable {
    enum Label {
        /// Counter, dimension `source` = chroma | local.
        static let answers = "recall_answers_total"
        /// Counter, dimension `reason` = a `FallbackReason`.
        static let fallbacks = "recall_fallbacks_total"
        /// Timer, dimension `source`: time spent in `recall`.
        static let latency = "recall_latency_seconds"
        /// Gauge: writes waiting for Chroma.
        static let pendingWrites = "recall_pending_writes"
        /// Counter, dimension `result` = stored | failed | rejected | dropped.
        static let writes = "recall_writes_total"
    }

    enum WriteResult: String, CaseIterable { case stored, failed, rejected, dropped }

    private let answers: [RecallSource: Counter]
    private let latency: [RecallSource: Timer]
    private let fallbacks: [FallbackReason: Counter]
    private let writes: [WriteResult: Counter]
    private let pending: Gauge

    init(factory: any MetricsFactory) {
        let sources: [RecallSource] = [.chroma, .local]
        answers = Dictionary(
            uniqueKeysWithValues: sources.map {
                ($0, Counter(label: Label.answers, dimensions: [("source", $0.rawValue)], factory: factory))
            })
        latency = Dictionary(
            uniqueKeysWithValues: sources.map {
                ($0, Timer(label: Label.latency, dimensions: [("source", $0.rawValue)], factory: factory))
            })
        fallbacks = Dictionary(
            uniqueKeysWithValues: FallbackReason.allCases.map {
                ($0, Counter(label: Label.fallbacks, dimensions: [("reason", $0.rawValue)], factory: factory))
            })
        writes = Dictionary(
            uniqueKeysWithValues: WriteResult.allCases.map {
                ($0, Counter(label: Label.writes, dimensions: [("result", $0.rawValue)], factory: factory))
            })
        pending = Gauge(label: Label.pendingWrites, dimensions: [], factory: factory)
    }

    func recordAnswer(source: RecallSource, reason: FallbackReason?, latency duration: Duration) {
        answers[source]?.increment()
        latency[source]?.recordNanoseconds(duration.wholeNanoseconds)
        if let reason { fallbacks[reason]?.increment() }
    }

    func recordWrite(_ result: WriteResult) {
        writes[result]?.increment()
    }

    func recordPending(_ count: Int) {
        pending.record(count)
    }
}
