import Foundation
import Histogram

/// Median and 99th percentile of a histogram of nanoseconds, in microseconds: what every benchmark prints.
public struct Percentiles: Sendable {
    public var p50: Double
    public var p99: Double

    public init(_ histogram: Histogram<UInt64>) {
        p50 = Double(histogram.valueAtPercentile(50)) / 1_000
        p99 = Double(histogram.valueAtPercentile(99)) / 1_000
    }
}

/// The monotonic clock in nanoseconds, for timing one call.
public func monotonicNanos() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
}
