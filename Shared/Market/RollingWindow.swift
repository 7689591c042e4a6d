/// The last `capacity` values of a series, in a ring buffer.
struct RollingWindow: Sendable, Equatable {
    let capacity: Int
    private var storage: [Double] = []
    private var head = 0

    init(capacity: Int) {
        precondition(capacity > 0, "a window needs a positive length")
        self.capacity = capacity
        storage.reserveCapacity(capacity)
    }

    var count: Int { storage.count }
    var isFull: Bool { storage.count == capacity }

    /// Appends `value`; returns the value that fell out of a full window.
    @discardableResult
    mutating func push(_ value: Double) -> Double? {
        guard isFull else {
            storage.append(value)
            return nil
        }
        let evicted = storage[head]
        storage[head] = value
        head = (head + 1) % capacity
        return evicted
    }

    /// The value pushed `n` pushes ago (0: the newest); the window must hold more than `n` values.
    func back(_ n: Int) -> Double {
        precondition(n >= 0 && n < storage.count, "the window holds \(storage.count) values, not \(n + 1)")
        let newest = isFull ? (head + capacity - 1) % capacity : storage.count - 1
        return storage[(newest - n + capacity) % capacity]
    }

    var last: Double? { storage.isEmpty ? nil : back(0) }

    /// The values in no particular order: enough for sums and dispersion.
    var values: [Double] { storage }

    /// Mean and the sum of squared deviations from it, in two passes so that a small
    /// spread around a large level (prices) keeps its precision.
    func meanAndSquaredDeviations() -> (mean: Double, squaredDeviations: Double) {
        let mean = storage.reduce(0, +) / Double(storage.count)
        let squaredDeviations = storage.reduce(0) { sum, value in sum + (value - mean) * (value - mean) }
        return (mean, squaredDeviations)
    }
}

/// A running sum with Neumaier's compensation, so adding and removing values for
/// tens of thousands of steps does not drift.
struct CompensatedSum: Sendable, Equatable {
    private var sum = 0.0
    private var compensation = 0.0

    var value: Double { sum + compensation }

    mutating func add(_ value: Double) {
        let total = sum + value
        if abs(sum) >= abs(value) {
            compensation += (sum - total) + value
        } else {
            compensation += (value - total) + sum
        }
        sum = total
    }
}
