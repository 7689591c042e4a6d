import Foundation
import GRDB
import GRDBSQLite
import Ledger
import Schema
import Synchronization

/// The pipeline report's figures, counted in SQLite through the indexes: a window of a million
/// cycles is grouped without decoding its signals and decisions (only one sample per reason is).
extension TraceDatabase {
    /// " AND bar_at …" for a window on the cycles' bar time; nothing without one (cycles without a bar count).
    private static func barWindow(since: EpochNanos?, until: EpochNanos?) -> (String, StatementArguments) {
        window("bar_at", since: since, until: until)
    }

    /// " AND column >= since AND column < until", for the bounds given.
    static func window(_ column: String, since: EpochNanos?, until: EpochNanos?) -> (String, StatementArguments) {
        var condition = ""
        var arguments: StatementArguments = []
        if let since {
            condition += " AND \(column) >= ?"
            arguments += [since]
        }
        if let until {
            condition += " AND \(column) < ?"
            arguments += [until]
        }
        return (condition, arguments)
    }

    /// Cycles whose bar was published within the window (all with none).
    public func cycleCount(since: EpochNanos? = nil, until: EpochNanos? = nil) throws -> Int {
        try pool.read { db in try Self.cycleCount(db, since: since, until: until) }
    }

    private static func cycleCount(_ db: Database, since: EpochNanos?, until: EpochNanos?) throws -> Int {
        let (condition, arguments) = barWindow(since: since, until: until)
        return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM cycle WHERE 1 = 1" + condition, arguments: arguments) ?? 0
    }

    /// The time each stage of the cycles took, in ns, by stage name in pipeline order: publish time of
    /// one message to the publish time of the next on the same trace, over every cycle that has both and
    /// whose bar was published within the window, in no particular order.
    public func stageLatencies(since: EpochNanos? = nil, until: EpochNanos? = nil) throws -> [(stage: String, nanos: [Int64])] {
        try pool.read { db in try Self.stageLatencies(db, since: since, until: until) }
    }

    private static func stageLatencies(_ db: Database, since: EpochNanos?, until: EpochNanos?) throws
        -> [(stage: String, nanos: [Int64])]
    {
        // Columns of the covering cycle index, read in one pass straight from SQLite: a million cycles.
        let columns = ["bar_at", "signal_at", "decision_at", "order_at", "ack_at", "fill_at"]
        let stages: [(name: String, from: Int, to: Int)] = [
            ("bar → signal", 0, 1), ("signal → risk decision", 1, 2), ("bar → order (tick to order)", 0, 3),
            ("order → ack (exchange)", 3, 4), ("order → fill", 3, 5),
        ]
        let (condition, arguments) = barWindow(since: since, until: until)
        let statement = try db.makeStatement(
            sql: "SELECT \(columns.joined(separator: ", ")) FROM cycle INDEXED BY cycle_bar WHERE 1 = 1" + condition)
        try statement.setArguments(arguments)
        var nanos = Array(repeating: [Int64](), count: stages.count)
        var row = [Int64?](repeating: nil, count: columns.count)
        let handle = statement.sqliteStatement
        while true {
            let step = sqlite3_step(handle)
            if step == SQLITE_DONE { break }
            guard step == SQLITE_ROW else { throw DatabaseError(resultCode: ResultCode(rawValue: step)) }
            for column in columns.indices {
                let index = Int32(column)
                row[column] = sqlite3_column_type(handle, index) == SQLITE_NULL ? nil : sqlite3_column_int64(handle, index)
            }
            for (stage, (_, from, to)) in stages.enumerated() {
                if let start = row[from], let end = row[to] { nanos[stage].append(end - start) }
            }
        }
        sqlite3_reset(handle)
        return stages.enumerated().map { ($1.name, nanos[$0]) }
    }

    /// Everything `PipelineReport` is built from, for the window: cycles and their stage latencies
    /// (by bar time); signals, entry decisions and entry orders counted by their indexed columns
    /// (by publish time); exchange rejects, breaker transitions, alerts, fills and funding decoded
    /// (few), the fills replayed by the FIFO ledger's rules for the closed trades. A caller that has
    /// booked the window's fills and funding already (for the P&L report) passes them, not to decode
    /// and replay twice.
    public func pipelineInputs(
        since: EpochNanos? = nil, until: EpochNanos? = nil, startingCapital: Amount, replayed: ReplayedLedger? = nil
    ) throws -> PipelineReport.Inputs {
        try reportInputs(since: since, until: until, startingCapital: startingCapital, replayed: replayed).inputs
    }

    /// `pipelineInputs` and the window's fills and funding booked (`replay`), for a report of both:
    /// the pass over the cycles, the counts and the booking run side by side on the pool's readers.
    public func reportInputs(
        since: EpochNanos? = nil, until: EpochNanos? = nil, startingCapital: Amount, replayed given: ReplayedLedger? = nil
    ) throws -> (inputs: PipelineReport.Inputs, replayed: ReplayedLedger) {
        struct Parts {
            var latencies: [(stage: String, nanos: [Int64])] = []
            var counts = PipelineReport.Inputs()
            var replayed: ReplayedLedger?
            var error: (any Error)?
        }
        let parts = Mutex(Parts())
        DispatchQueue.concurrentPerform(iterations: 3) { part in
            do {
                switch part {
                case 0:
                    let latencies = try pool.read { db in try Self.stageLatencies(db, since: since, until: until) }
                    parts.withLock { $0.latencies = latencies }
                case 1:
                    let counts = try counts(since: since, until: until)
                    parts.withLock { $0.counts = counts }
                default:
                    let replayed = try given ?? replay(since: since, until: until, startingCapital: startingCapital)
                    parts.withLock { $0.replayed = replayed }
                }
            } catch {
                parts.withLock { $0.error = $0.error ?? error }
            }
        }
        let done = parts.withLock { $0 }
        if let error = done.error { throw error }
        guard let replayed = done.replayed else { throw TraceDatabaseError(path: path, message: "the window's fills were not booked") }
        var inputs = done.counts
        (inputs.since, inputs.until) = (since, until)
        inputs.stageLatencies = done.latencies
        inputs.closedTrades = replayed.ledger.closedTrades.map { ($0.strategy, $0.netPnl) }
        return (inputs, replayed)
    }

    /// The window's cycles, signals, entry decisions and orders counted, and its rejects, breaker
    /// transitions and alerts decoded.
    private func counts(since: EpochNanos?, until: EpochNanos?) throws -> PipelineReport.Inputs {
        var inputs = PipelineReport.Inputs(since: since, until: until)
        let (condition, arguments) = Self.window("publish_time", since: since, until: until)
        func typed(_ type: MessageType) -> StatementArguments { [type.rawValue] + arguments }
        try pool.read { db in
            inputs.cycles = try Self.cycleCount(db, since: since, until: until)

            // The first reason's detail of one envelope, for a rejection's sample.
            func sample(_ id: Int64) throws -> String {
                guard let data = try Data.fetchOne(db, sql: "SELECT json FROM envelope WHERE id = ?", arguments: [id]),
                    let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                    let body = object["body"] as? [String: Any], let reasons = body["reasons"] as? [[String: Any]]
                else { return "" }
                return reasons.first?["detail"] as? String ?? ""
            }

            // The partial index in group order (no sort of a million rows); it needs the type as a literal.
            let signals = try Row.fetchAll(
                db,
                sql: """
                    SELECT strategy, outcome, reason, COUNT(*) AS n, MIN(id) AS first FROM envelope
                    INDEXED BY envelope_signal_tally WHERE type = '\(MessageType.signal.rawValue)'\(condition) GROUP BY strategy, outcome, reason
                    """, arguments: arguments)
            inputs.signals = try signals.map { row in
                let passed = (row["outcome"] as String?) == Signal.Decision.approved.rawValue
                return PipelineReport.Tally(
                    group: row["strategy"] ?? "", passed: passed, reason: row["reason"] ?? "unstated", count: row["n"],
                    sample: passed ? "" : try sample(row["first"]))
            }

            // Decisions on the window's entry intents: the intents' ids in a set, the decisions grouped here.
            let entryIntents = try Set(
                String.fetchAll(
                    db, sql: "SELECT ref FROM envelope WHERE type = ?\(condition) AND purpose = ?",
                    arguments: typed(.orderIntent) + [OrderPurpose.entry.rawValue]))
            var decisions: [String: (tally: PipelineReport.Tally, first: Int64)] = [:]
            let cursor = try Row.fetchCursor(
                db, sql: "SELECT outcome, reason, ref, id FROM envelope WHERE type = ?\(condition)",
                arguments: typed(.riskDecision))
            while let row = try cursor.next() {
                guard let intent: String = row["ref"], entryIntents.contains(intent) else { continue }
                let passed = (row["outcome"] as String?) != RiskDecision.Outcome.rejected.rawValue
                let reason: String = row["reason"] ?? "unstated"
                let key = "\(passed)|\(reason)"
                let id: Int64 = row["id"]
                if decisions[key] == nil {
                    decisions[key] = (PipelineReport.Tally(group: "", passed: passed, reason: reason, count: 0, sample: ""), id)
                }
                decisions[key]!.tally.count += 1
                decisions[key]!.first = min(decisions[key]!.first, id)
            }
            inputs.entryDecisions = try decisions.values.map { entry in
                var tally = entry.tally
                if !tally.passed { tally.sample = try sample(entry.first) }
                return tally
            }

            let filledOrders = try Set(
                String.fetchAll(db, sql: "SELECT DISTINCT ref FROM envelope WHERE type = ?\(condition)", arguments: typed(.fill)))
            let entries = try Row.fetchAll(
                db, sql: "SELECT strategy, ref FROM envelope WHERE type = ?\(condition) AND outcome = ? AND purpose = ?",
                arguments: typed(.orderCommand) + [OrderCommand.Action.place.rawValue, OrderPurpose.entry.rawValue])
            for row in entries {
                let strategy: String = row["strategy"] ?? ""
                let filled = (row["ref"] as String?).map(filledOrders.contains) ?? false
                inputs.entryOrders[strategy, default: (0, 0)].sent += 1
                if filled { inputs.entryOrders[strategy, default: (0, 0)].filled += 1 }
            }
        }
        inputs.rejects = try messages(OrderReject.self, since: since, until: until).map(\.body)
        inputs.breakers = try messages(BreakerTransition.self, since: since, until: until).map(\.body)
        inputs.alerts = try messages(Alert.self, since: since, until: until).map(\.body)
        return inputs
    }

    /// The window's fills and funding as the recorder saw them published, booked once by the FIFO
    /// ledger's rules.
    public func replay(since: EpochNanos? = nil, until: EpochNanos? = nil, startingCapital: Amount) throws -> ReplayedLedger {
        try ReplayedLedger(
            fills: messages(Fill.self, since: since, until: until).map(\.body),
            funding: messages(FundingSettlement.self, since: since, until: until).map(\.body), startingCapital: startingCapital)
    }
}
