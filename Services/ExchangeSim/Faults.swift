import Foundation
import Hyperliquid
import Synchronization
import Venue

/// Faults injected through `POST /admin/faults`, each active until its end time.
struct FaultSet: Sendable, Equatable {
    var stallUntil: Date?
    var errorRate: Double = 0
    var errorStatus = 500
    var errorUntil: Date?
    var rateLimitStormUntil: Date?
    var slowMilliseconds = 0
    var slowUntil: Date?

    func active(at now: Date) -> [String: WireValue] {
        var out: [String: WireValue] = [:]
        if let until = stallUntil, until > now { out["stall"] = .object([("until", .integer(Self.ms(until)))]) }
        if let until = errorUntil, until > now {
            out["error5xx"] = .object([("rate", .double(errorRate)), ("status", .integer(errorStatus)), ("until", .integer(Self.ms(until)))])
        }
        if let until = rateLimitStormUntil, until > now { out["rateLimitStorm"] = .object([("until", .integer(Self.ms(until)))]) }
        if let until = slowUntil, until > now {
            out["slow"] = .object([("milliseconds", .integer(slowMilliseconds)), ("until", .integer(Self.ms(until)))])
        }
        return out
    }

    static func ms(_ date: Date) -> UInt64 { UInt64(date.timeIntervalSince1970 * 1000) }
}

/// What a request must suffer under the active faults.
enum FaultVerdict: Sendable, Equatable {
    case proceed(delay: Duration)
    case serverError(status: Int)
    case rateLimited
}

final class FaultInjector: Sendable {
    private let state = Mutex(FaultSet())

    var current: FaultSet { state.withLock { $0 } }

    func clear() { state.withLock { $0 = FaultSet() } }

    /// Applies `{"stall": {"seconds"}, "error5xx": {"rate", "seconds", "status"?}, "rateLimitStorm": {"seconds"},
    /// "slow": {"milliseconds", "seconds"}}` (any subset); `dropWebSockets` is the caller's.
    func apply(_ body: WireValue, now: Date) throws(FaultError) {
        func seconds(_ v: WireValue) throws(FaultError) -> Date {
            guard let s = number(v["seconds"]), s > 0 else { throw .bad("seconds must be a positive number") }
            return now.addingTimeInterval(s)
        }
        var next = current
        if let stall = body["stall"] { next.stallUntil = try seconds(stall) }
        if let error = body["error5xx"] {
            let rate = number(error["rate"]) ?? 1
            guard (0...1).contains(rate) else { throw .bad("error5xx.rate must be within 0...1") }
            next.errorRate = rate
            next.errorStatus = error["status"]?.int64Value.map(Int.init) ?? 500
            guard (500...599).contains(next.errorStatus) else { throw .bad("error5xx.status must be 5xx") }
            next.errorUntil = try seconds(error)
        }
        if let storm = body["rateLimitStorm"] { next.rateLimitStormUntil = try seconds(storm) }
        if let slow = body["slow"] {
            guard let ms = number(slow["milliseconds"]), ms >= 0 else { throw .bad("slow.milliseconds must be a number") }
            next.slowMilliseconds = Int(ms)
            next.slowUntil = try seconds(slow)
        }
        state.withLock { $0 = next }
    }

    /// The verdict for one request at `now`; `random` in [0, 1) decides error5xx.
    func verdict(now: Date, random: Double) -> FaultVerdict {
        let faults = current
        if let until = faults.rateLimitStormUntil, until > now { return .rateLimited }
        if let until = faults.errorUntil, until > now, random < faults.errorRate { return .serverError(status: faults.errorStatus) }
        var delay = Duration.zero
        if let until = faults.stallUntil, until > now { delay += .milliseconds(Int64(until.timeIntervalSince(now) * 1000)) }
        if let until = faults.slowUntil, until > now { delay += .milliseconds(faults.slowMilliseconds) }
        return .proceed(delay: delay)
    }

    private func number(_ v: WireValue?) -> Double? {
        switch v {
        case .int(let i): Double(i)
        case .uint(let u): Double(u)
        case .double(let d): d
        default: nil
        }
    }
}

enum FaultError: Error, CustomStringConvertible {
    case bad(String)
    var description: String { if case .bad(let s) = self { s } else { "" } }
}
