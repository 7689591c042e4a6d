import CoreMetrics
import Logging
import Recall
import Resilience
import Schema
import Synchronization

typealias Instant = ManualClock.Instant

let testLogger: Logger = {
    var logger = Logger(label: "recall-tests", factory: { _ in SwiftLogNoOpLogHandler() })
    logger.logLevel = .critical
    return logger
}()

/// A set-up context for tests.
func context(_ symbol: String = "BTC", _ direction: Direction = .long, time: EpochNanos = 0) -> SetupContext {
    SetupContext(symbol: symbol, strategy: "rsi_mean_reversion", direction: direction, time: time)
}

/// A feature vector whose first feature is `x`, second `y`, the rest 0.
func vector(_ x: Double, _ y: Double = 0) -> [Double] {
    var features = Array(repeating: 0.0, count: SetupFeatures.dimension)
    features[0] = x
    features[1] = y
    return features
}

/// A deterministic pseudo-random vector in [-1, 1].
func randomVector(using random: inout SeededRandom) -> [Double] {
    (0..<SetupFeatures.dimension).map { _ in Double.random(in: -1...1, using: &random) }
}

/// Collects breaker transitions in order.
final class TransitionLog: Sendable {
    private let entries = Mutex<[Resilience.BreakerTransition<Instant>]>([])
    var all: [Resilience.BreakerTransition<Instant>] { entries.withLock { $0 } }
    var pairs: [String] { all.map { "\($0.from.rawValue)->\($0.to.rawValue)" } }
    func append(_ transition: Resilience.BreakerTransition<Instant>) {
        entries.withLock { $0.append(transition) }
    }
}

/// Yields until `condition` holds (state reached by other tasks); gives up rather than hanging.
func eventually(_ condition: () -> Bool) async -> Bool {
    for _ in 0..<100_000 {
        if condition() { return true }
        await Task.yield()
    }
    return condition()
}

// MARK: - The test double

/// The one test double: a `RecallStore` whose reads and writes can be told to answer, hang until
/// cancelled (a stalled Chroma), or fail. Healthy answers come from an exact in-memory index.
final class ScriptedStore: RecallStore {
    enum Mode: Sendable {
        case healthy
        /// Never answers; returns only when its task is cancelled (as an HTTP call cancelled at the deadline).
        case hang
        case fail(RecallError)
    }

    private struct State {
        var readMode: Mode = .healthy
        var writeMode: Mode = .healthy
        var index = LocalRecall(capacity: 10_000)
        var nearestCalls = 0
        var writeCalls = 0
        var hanging: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var nextHang: UInt64 = 0
    }

    private let state = Mutex(State())

    var nearestCalls: Int { state.withLock { $0.nearestCalls } }
    var writeCalls: Int { state.withLock { $0.writeCalls } }
    var hangingCalls: Int { state.withLock { $0.hanging.count } }

    func setReads(_ mode: Mode) { state.withLock { $0.readMode = mode } }
    func setWrites(_ mode: Mode) { state.withLock { $0.writeMode = mode } }
    func stored(_ id: String) -> SetupRecord? { state.withLock { $0.index.record(id: id) } }

    func prepare() async throws {}

    func nearest(to features: [Double], k: Int, filter: RecallFilter) async throws -> [RecalledSetup] {
        let mode = state.withLock { state in
            state.nearestCalls += 1
            return state.readMode
        }
        try await act(mode)
        return state.withLock { $0.index.nearest(to: features, k: k, filter: filter) }
    }

    func upsert(_ records: [SetupRecord]) async throws {
        try await act(
            state.withLock { state in
                state.writeCalls += 1
                return state.writeMode
            })
        state.withLock { state in records.forEach { state.index.remember($0) } }
    }

    func recordOutcome(setupId: String, outcome: SetupOutcome) async throws {
        try await act(
            state.withLock { state in
                state.writeCalls += 1
                return state.writeMode
            })
        state.withLock { _ = $0.index.recordOutcome(setupId: setupId, outcome: outcome) }
    }

    private func act(_ mode: Mode) async throws {
        switch mode {
        case .healthy: return
        case .fail(let error): throw error
        case .hang: try await hang()
        }
    }

    private func hang() async throws {
        let id = state.withLock { state in
            state.nextHang += 1
            return state.nextHang
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let cancelled = state.withLock { state in
                    if Task.isCancelled { return true }
                    state.hanging[id] = continuation
                    return false
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            state.withLock { $0.hanging.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }
}

// MARK: - Metrics

/// Records counters and gauges by label and sorted dimensions, instead of global metrics.
final class RecordingMetricsFactory: MetricsFactory {
    final class CounterBox: CounterHandler {
        let value = Mutex<Int64>(0)
        func increment(by amount: Int64) { value.withLock { $0 += amount } }
        func reset() { value.withLock { $0 = 0 } }
    }

    final class RecorderBox: RecorderHandler {
        let last = Mutex<Double?>(nil)
        func record(_ value: Int64) { record(Double(value)) }
        func record(_ value: Double) { last.withLock { $0 = value } }
    }

    final class TimerBox: TimerHandler {
        let count = Mutex<Int>(0)
        func recordNanoseconds(_ duration: Int64) { count.withLock { $0 += 1 } }
    }

    private let counters = Mutex<[String: CounterBox]>([:])
    private let recorders = Mutex<[String: RecorderBox]>([:])
    private let timers = Mutex<[String: TimerBox]>([:])

    static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        label + dimensions.sorted { $0.0 < $1.0 }.map { "|\($0.0)=\($0.1)" }.joined()
    }

    private static func box<Box>(_ boxes: borrowing Mutex<[String: Box]>, _ key: String, _ make: () -> Box) -> Box {
        boxes.withLock { boxes in
            if let box = boxes[key] { return box }
            let box = make()
            boxes[key] = box
            return box
        }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        Self.box(counters, Self.key(label, dimensions)) { CounterBox() }
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Self.box(recorders, Self.key(label, dimensions)) { RecorderBox() }
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        Self.box(timers, Self.key(label, dimensions)) { TimerBox() }
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    func counter(_ label: String, _ dimensions: [(String, String)] = []) -> Int64? {
        counters.withLock { $0[Self.key(label, dimensions)] }?.value.withLock { $0 }
    }

    func gauge(_ label: String, _ dimensions: [(String, String)] = []) -> Double? {
        recorders.withLock { $0[Self.key(label, dimensions)] }?.last.withLock { $0 }
    }

    func timerCount(_ label: String, _ dimensions: [(String, String)] = []) -> Int {
        timers.withLock { $0[Self.key(label, dimensions)] }?.count.withLock { $0 } ?? 0
    }
}
