import Schema

extension BreakerTransition {
    /// The `svc.breaker` message for this transition; rates are absent while the window
    /// held too few calls.
    public func message(service: String) -> Schema.BreakerTransition {
        Schema.BreakerTransition(
            service: service, dependency: name, from: from, to: to, reason: reason.rawValue,
            failureRate: failureRate, slowCallRate: slowCallRate)
    }
}
