import CoreMetrics
import Resilience
import Synchronization

typealias Instant = ManualClock.Instant
typealias Breaker = CircuitBreaker<Instant>

struct Boom: Error, Equatable {}

/// Collects a breaker's transitions in the order they were reported.
final class TransitionLog: Sendable {
    private let entries = Mutex<[BreakerTransition<Instant>]>([])

    var all: [BreakerTransition<Instant>] { entries.withLock { $0 } }
    var pairs: [String] { all.map { "\($0.from.rawValue)->\($0.to.rawValue)" } }

    func append(_ transition: BreakerTransition<Instant>) {
        entries.withLock { $0.append(transition) }
    }
}

/// A latch that a task waits on without regard to cancellation, like a dependency that never answers.
final class Gate: Sendable {
    private struct State {
        var isOpen = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    var waiterCount: Int { state.withLock { $0.waiters.count } }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let open = state.withLock { state in
                if state.isOpen { return true }
                state.waiters.append(continuation)
                return false
            }
            if open { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }
}

/// A thread-safe box for values observed inside tasks.
final class Box<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    init(_ value: Value) { self.value = Mutex(value) }

    var current: Value { value.withLock { $0 } }

    func update(_ body: (inout Value) -> Void) { value.withLock { body(&$0) } }
}

/// Yields until `condition` holds, for state reached by other tasks; gives up (returning false) rather
/// than hanging, so a broken implementation fails the test.
func eventually(_ condition: () -> Bool) async -> Bool {
    for _ in 0..<100_000 {
        if condition() { return true }
        await Task.yield()
    }
    return condition()
}

// MARK: - Metrics

/// Records what the code under test writes to metrics, keyed by label and sorted dimensions.
final class RecordingMetricsFactory: MetricsFactory {
    final class CounterBox: CounterHandler {
        let value = Mutex<Int64>(0)
        func increment(by amount: Int64) { value.withLock { $0 += amount } }
        func reset() { value.withLock { $0 = 0 } }
    }

    final class RecorderBox: RecorderHandler {
        let values = Mutex<[Double]>([])
        func record(_ value: Int64) { record(Double(value)) }
        func record(_ value: Double) { values.withLock { $0.append(value) } }
    }

    final class TimerBox: TimerHandler {
        func recordNanoseconds(_ duration: Int64) {}
    }

    private let counters = Mutex<[String: CounterBox]>([:])
    private let recorders = Mutex<[String: RecorderBox]>([:])

    static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        label + dimensions.sorted { $0.0 < $1.0 }.map { "|\($0.0)=\($0.1)" }.joined()
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        counters.withLock { boxes in
            let key = Self.key(label, dimensions)
            if let box = boxes[key] { return box }
            let box = CounterBox()
            boxes[key] = box
            return box
        }
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        recorders.withLock { boxes in
            let key = Self.key(label, dimensions)
            if let box = boxes[key] { return box }
            let box = RecorderBox()
            boxes[key] = box
            return box
        }
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { TimerBox() }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    /// nil when no such counter was ever created.
    func counter(_ label: String, _ dimensions: [(String, String)]) -> Int64? {
        counters.withLock { $0[Self.key(label, dimensions)] }?.value.withLock { $0 }
    }

    /// The last value recorded, nil when none was.
    func gauge(_ label: String, _ dimensions: [(String, String)]) -> Double? {
        recorders.withLock { $0[Self.key(label, dimensions)] }?.values.withLock { $0.last }
    }

    func gaugeHistory(_ label: String, _ dimensions: [(String, String)]) -> [Double] {
        recorders.withLock { $0[Self.key(label, dimensions)] }?.values.withLock { $0 } ?? []
    }
}
