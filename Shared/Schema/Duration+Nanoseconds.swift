extension Duration {
    /// Whole nanoseconds, saturating at Int64's bounds: for timers, metrics and clients
    /// that take integer nanoseconds (NIO's `TimeAmount`, swift-metrics' timers).
    public var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        let (sum, overflowSum) = product.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflowSum ? (seconds < 0 ? .min : .max) : sum
    }
}
