import Foundation
import Schema

/// The operator's view of a trace window: stage latencies, the pipeline funnel with its rejections
/// ranked, strategy usage, errors by dependency and type, and the three report alerts. Pure: built
/// from the messages of the window, in any order.
public struct PipelineReport: Codable, Sendable, Equatable {
    /// One stage's latencies in microseconds.
    public struct Latency: Codable, Sendable, Equatable {
        public var stage: String
        public var count: Int
        public var min: Double
        public var p50: Double
        public var p75: Double
        public var p90: Double
        public var p95: Double
        public var p99: Double
        public var max: Double
        public var mean: Double

        /// Nearest-rank percentiles of `nanos` (any order); nil when empty.
        public init?(stage: String, nanos: [Int64]) {
            guard !nanos.isEmpty else { return nil }
            let sorted = nanos.sorted()
            func rank(_ q: Double) -> Double {
                Double(sorted[Swift.min(sorted.count - 1, Swift.max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))]) / 1_000
            }
            self.stage = stage
            count = sorted.count
            min = Double(sorted[0]) / 1_000
            p50 = rank(0.50)
            p75 = rank(0.75)
            p90 = rank(0.90)
            p95 = rank(0.95)
            p99 = rank(0.99)
            max = Double(sorted[sorted.count - 1]) / 1_000
            mean = sorted.reduce(0.0) { $0 + Double($1) } / Double(sorted.count) / 1_000
        }
    }

    /// Signals → approved → risk-approved → sent → filled → closed → winners, entries only.
    public struct Funnel: Codable, Sendable, Equatable {
        public var signals = 0
        public var approved = 0
        public var riskApproved = 0
        public var sent = 0
        public var filled = 0
        public var closed = 0
        public var winners = 0

        public init(
            signals: Int = 0, approved: Int = 0, riskApproved: Int = 0, sent: Int = 0, filled: Int = 0, closed: Int = 0,
            winners: Int = 0
        ) {
            self.signals = signals
            self.approved = approved
            self.riskApproved = riskApproved
            self.sent = sent
            self.filled = filled
            self.closed = closed
            self.winners = winners
        }
    }

    /// A reason that stopped something, with how often and one example.
    public struct Rejection: Codable, Sendable, Equatable {
        /// `signal`, `risk` or `exchange`.
        public var stage: String
        public var code: String
        public var count: Int
        public var sample: String
    }

    public struct StrategyUsage: Codable, Sendable, Equatable {
        public var strategy: String
        /// Signals evaluated (every evaluation is a use).
        public var uses: Int
        public var approved: Int
        public var sent: Int
        /// Closed trades the strategy opened (FIFO).
        public var trades: Int
        public var winners: Int
        /// Closed trades with P&L > 0 over closed trades; nil before the first.
        public var successRate: Double?

        public init(strategy: String, uses: Int, approved: Int, sent: Int, trades: Int, winners: Int, successRate: Double?) {
            self.strategy = strategy
            self.uses = uses
            self.approved = approved
            self.sent = sent
            self.trades = trades
            self.winners = winners
            self.successRate = successRate
        }
    }

    /// Errors of one dependency and type, with up to three samples.
    public struct ErrorGroup: Codable, Sendable, Equatable {
        public var dependency: String
        public var type: String
        public var count: Int
        public var samples: [String]
    }

    /// A report alert that fired, with its figure.
    public struct Finding: Codable, Sendable, Equatable {
        public var code: String
        public var detail: String
    }

    public var since: EpochNanos?
    public var until: EpochNanos?
    public var cycles: Int
    public var latencies: [Latency]
    public var funnel: Funnel
    public var rejections: [Rejection]
    public var strategies: [StrategyUsage]
    public var errors: [ErrorGroup]
    /// Errors per cycle; nil without cycles.
    public var errorRate: Double?
    /// Filled entries per approved signal; nil without approved signals.
    public var executionRate: Double?
    public var alerts: [Finding]

    /// Messages of one kind counted by group (a strategy, or "" for none), whether they passed, and
    /// their first reason's code; `sample` is the first reason's detail of one of them.
    public struct Tally: Sendable, Equatable {
        public var group: String
        public var passed: Bool
        public var reason: String
        public var count: Int
        public var sample: String

        public init(group: String, passed: Bool, reason: String, count: Int, sample: String) {
            self.group = group
            self.passed = passed
            self.reason = reason
            self.count = count
            self.sample = sample
        }
    }

    /// What the report is built from, counted where the trace is (`TraceDatabase.pipelineInputs`): the
    /// window's cycle latencies, signals and entry decisions by tally, entry orders per strategy, the
    /// few error messages whole, and the closed trades (by the FIFO ledger's rules) of its fills.
    public struct Inputs: Sendable {
        public var since: EpochNanos?
        public var until: EpochNanos?
        public var cycles = 0
        public var stageLatencies: [(stage: String, nanos: [Int64])] = []
        /// Signals by strategy, decision (approved = passed) and first reason.
        public var signals: [Tally] = []
        /// Risk decisions on entry intents by outcome (anything but rejected = passed) and first reason.
        public var entryDecisions: [Tally] = []
        /// Entry orders placed per strategy, and how many of them filled.
        public var entryOrders: [String: (sent: Int, filled: Int)] = [:]
        public var rejects: [OrderReject] = []
        public var breakers: [BreakerTransition] = []
        public var alerts: [Alert] = []
        public var closedTrades: [(strategy: String, pnl: Amount)] = []

        public init(since: EpochNanos? = nil, until: EpochNanos? = nil) {
            self.since = since
            self.until = until
        }
    }

    /// The report's alerts: execution rate under 1 %, p95 of a whole cycle over 5 s, error rate over 10 %.
    public static let minimumExecutionRate = 0.01
    public static let maximumCycleP95Micros = 5_000_000.0
    public static let maximumErrorRate = 0.10

    public init(_ inputs: Inputs) {
        since = inputs.since
        until = inputs.until
        cycles = inputs.cycles
        latencies = inputs.stageLatencies.compactMap { Latency(stage: $0.stage, nanos: $0.nanos) }

        var funnel = Funnel()
        funnel.signals = inputs.signals.reduce(0) { $0 + $1.count }
        funnel.approved = inputs.signals.filter(\.passed).reduce(0) { $0 + $1.count }
        funnel.riskApproved = inputs.entryDecisions.filter(\.passed).reduce(0) { $0 + $1.count }
        funnel.sent = inputs.entryOrders.values.reduce(0) { $0 + $1.sent }
        funnel.filled = inputs.entryOrders.values.reduce(0) { $0 + $1.filled }
        funnel.closed = inputs.closedTrades.count
        funnel.winners = inputs.closedTrades.count { $0.pnl.isPositive }
        self.funnel = funnel

        var rejections: [String: Rejection] = [:]
        func count(_ stage: String, _ code: String, _ times: Int, _ sample: String) {
            let key = stage + "|" + code
            if rejections[key] == nil {
                rejections[key] = Rejection(stage: stage, code: code, count: 0, sample: sample)
            }
            rejections[key]!.count += times
        }
        for tally in inputs.signals where !tally.passed { count("signal", tally.reason, tally.count, tally.sample) }
        for tally in inputs.entryDecisions where !tally.passed { count("risk", tally.reason, tally.count, tally.sample) }
        for reject in inputs.rejects { count("exchange", reject.reason.code.rawValue, 1, reject.reason.detail) }
        self.rejections = rejections.values.sorted {
            $0.count != $1.count ? $0.count > $1.count : ($0.stage, $0.code) < ($1.stage, $1.code)
        }

        let names = Set(inputs.signals.map(\.group)).union(inputs.closedTrades.map(\.strategy))
            .union(inputs.entryOrders.keys)
        strategies = names.sorted().map { name in
            let trades = inputs.closedTrades.filter { $0.strategy == name }
            let winners = trades.count { $0.pnl.isPositive }
            let signals = inputs.signals.filter { $0.group == name }
            return StrategyUsage(
                strategy: name, uses: signals.reduce(0) { $0 + $1.count },
                approved: signals.filter(\.passed).reduce(0) { $0 + $1.count },
                sent: inputs.entryOrders[name]?.sent ?? 0, trades: trades.count, winners: winners,
                successRate: trades.isEmpty ? nil : Double(winners) / Double(trades.count))
        }

        var groups: [String: ErrorGroup] = [:]
        func error(_ dependency: String, _ type: String, _ sample: String) {
            let key = dependency + "|" + type
            if groups[key] == nil { groups[key] = ErrorGroup(dependency: dependency, type: type, count: 0, samples: []) }
            groups[key]!.count += 1
            if groups[key]!.samples.count < 3 { groups[key]!.samples.append(sample) }
        }
        for reject in inputs.rejects {
            error("exchange", reject.reason.code.rawValue, "\(reject.symbol ?? ""): \(reject.reason.detail)")
        }
        for transition in inputs.breakers where transition.to == .open {
            error(transition.dependency, "breaker_open", "\(transition.service): \(transition.reason)")
        }
        for alert in inputs.alerts where alert.severity != .info {
            error(alert.service, alert.code, alert.message)
        }
        errors = groups.values.sorted {
            $0.count != $1.count ? $0.count > $1.count : ($0.dependency, $0.type) < ($1.dependency, $1.type)
        }
        let errorCount = errors.reduce(0) { $0 + $1.count }
        errorRate = cycles > 0 ? Double(errorCount) / Double(cycles) : nil
        executionRate = funnel.approved > 0 ? Double(funnel.filled) / Double(funnel.approved) : nil

        var findings: [Finding] = []
        if let executionRate, executionRate < Self.minimumExecutionRate {
            findings.append(
                Finding(
                    code: "execution_rate_low",
                    detail: "\(funnel.filled) filled of \(funnel.approved) approved signals = \(percent(executionRate)) < 1 %"))
        }
        if let cycle = latencies.first(where: { $0.stage.hasPrefix("bar → order") }),
            cycle.p95 > Self.maximumCycleP95Micros
        {
            findings.append(
                Finding(code: "cycle_slow", detail: "p95 bar → order \(seconds(cycle.p95)) > 5 s over \(cycle.count) cycles"))
        }
        if let errorRate, errorRate > Self.maximumErrorRate {
            findings.append(
                Finding(code: "error_rate_high", detail: "\(errorCount) errors in \(cycles) cycles = \(percent(errorRate)) > 10 %"))
        }
        alerts = findings
    }

    /// The text of `breakwater report --pipeline`.
    public func text() -> String {
        var lines: [String] = []
        let window = "\(since.map(utcText) ?? "start") … \(until.map(utcText) ?? "end")"
        lines.append("window \(window), \(cycles) cycles")
        guard cycles > 0 || funnel.signals > 0 || !errors.isEmpty else {
            lines.append("nothing was traced in this window")
            return lines.joined(separator: "\n")
        }
        lines.append("")
        lines.append(
            pad("LATENCY µs", 30) + ["CYCLES", "MIN", "P50", "P75", "P90", "P95", "P99", "MAX", "MEAN"].map { pad($0, 10, right: true) }
                .joined())
        for l in latencies {
            lines.append(
                pad(l.stage, 30) + pad("\(l.count)", 10, right: true)
                    + [l.min, l.p50, l.p75, l.p90, l.p95, l.p99, l.max, l.mean].map { pad(fixed($0), 10, right: true) }
                    .joined())
        }
        lines.append("")
        lines.append("FUNNEL (entries)")
        let steps: [(String, Int)] = [
            ("signals", funnel.signals), ("approved", funnel.approved), ("risk-approved", funnel.riskApproved),
            ("sent", funnel.sent), ("filled", funnel.filled), ("closed", funnel.closed), ("winners", funnel.winners),
        ]
        var previous: Int?
        for (name, value) in steps {
            let share = previous.map { $0 > 0 ? " (\(percent(Double(value) / Double($0))) of the step before)" : "" } ?? ""
            lines.append("  " + pad(name, 16) + pad("\(value)", 8, right: true) + share)
            previous = value
        }
        if !rejections.isEmpty {
            lines.append("")
            lines.append("REJECTIONS, most frequent first")
            for r in rejections.prefix(15) {
                lines.append("  " + pad(r.stage, 10) + pad(r.code, 28) + pad("\(r.count)", 8, right: true) + "  e.g. " + r.sample)
            }
        }
        lines.append("")
        lines.append(pad("STRATEGY", 24) + ["USES", "APPROVED", "SENT", "TRADES", "WINNERS", "SUCCESS"].map { pad($0, 10, right: true) }.joined())
        for s in strategies {
            lines.append(
                pad(s.strategy, 24)
                    + ["\(s.uses)", "\(s.approved)", "\(s.sent)", "\(s.trades)", "\(s.winners)", s.successRate.map(percent) ?? "—"]
                    .map { pad($0, 10, right: true) }.joined())
        }
        lines.append("")
        lines.append("ERRORS \(errors.reduce(0) { $0 + $1.count }) (rate \(errorRate.map(percent) ?? "—") of cycles)")
        for e in errors {
            lines.append("  " + pad(e.dependency, 18) + pad(e.type, 28) + pad("\(e.count)", 8, right: true))
            for sample in e.samples { lines.append("      " + sample) }
        }
        lines.append("")
        lines.append("ALERTS")
        if alerts.isEmpty { lines.append("  none (execution rate ≥ 1 %, p95 cycle ≤ 5 s, error rate ≤ 10 %)") }
        for a in alerts { lines.append("  \(a.code): \(a.detail)") }
        return lines.joined(separator: "\n")
    }
}

private func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    guard text.count < width else { return text + " " }
    let fill = String(repeating: " ", count: width - text.count)
    return right ? fill + text : text + fill
}

private func fixed(_ value: Double) -> String {
    let tenths = (value * 10).rounded() / 10
    return tenths == tenths.rounded() ? String(Int(tenths)) : String(tenths)
}

private func percent(_ share: Double) -> String {
    let value = (share * 1_000).rounded() / 10
    return (value == value.rounded() ? String(Int(value)) : String(value)) + " %"
}

private func seconds(_ micros: Double) -> String {
    let value = (micros / 10_000).rounded() / 100
    return String(value) + " s"
}

private func utcText(_ time: EpochNanos) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: Date(timeIntervalSince1970: Double(time) / 1e9))
}
