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

/// A TCP endpoint on the loopback with a port free right now, for a benchmark's own bus.
public func freeEndpoint() -> String {
    let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { Foundation.close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            _ = bind(socket, $0, length)
            _ = getsockname(socket, $0, &length)
        }
    }
    return "tcp://127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
}

extension Percentiles {
    /// Median and 99th percentile (nearest rank) of a few whole runs timed in nanoseconds, in microseconds.
    public init(runNanos: [Int64]) {
        precondition(!runNanos.isEmpty, "no runs timed")
        let sorted = runNanos.sorted()
        func rank(_ percent: Double) -> Double {
            Double(sorted[max(0, Int((percent / 100 * Double(sorted.count)).rounded(.up)) - 1)]) / 1_000
        }
        p50 = rank(50)
        p99 = rank(99)
    }
}
