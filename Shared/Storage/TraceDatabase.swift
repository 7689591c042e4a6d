import Foundation
import GRDB
import Synchronization
import Schema

/// A trace database this build cannot open as it is.
public struct TraceDatabaseError: Error, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "trace database \(path): \(message)" }
}

/// The trace recorder's database: every envelope with indexed header columns, one
/// row per decision cycle from bar to fill, and rows for gaps and restarts.
public final class TraceDatabase: Sendable {
    public let pool: DatabasePool
    public let path: String
    /// A connection of its own for checkpoints, so that they never hold up the writer.
    private let checkpointer: DatabaseQueue

    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // WAL is set by DatabasePool; NORMAL is durable across process crashes in WAL mode.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // The writer's page cache holds the hot pages of every index (64 MB, not the default 2 MB):
            // a batch's inserts touch pages all over them, and each miss is a read.
            if !db.configuration.readonly {
                try db.execute(sql: "PRAGMA cache_size = -65536")
                // The recorder checkpoints on a thread of its own (`checkpoint()`); the writer does it
                // itself (copying pages and waiting for the disk in a commit) only when that falls
                // 128 MB behind, which bounds the log.
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 32768")
                try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
            }
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try pool.read { db in
            let applied = try Self.migrator.appliedIdentifiers(db)
            let unknown = applied.subtracting(Self.schemaVersions)
            if !unknown.isEmpty {
                throw TraceDatabaseError(
                    path: path,
                    message: "schema \(unknown.sorted().joined(separator: ", ")) is newer than this build knows "
                        + "(\(Self.schemaVersions.joined(separator: ", "))): read it with the Breakwater that wrote it")
            }
            if applied.isEmpty, try db.tableExists("envelope") {
                throw TraceDatabaseError(
                    path: path, message: "has an envelope table but no schema version: not a trace database this build can migrate")
            }
        }
        // An older version is brought up to date here (v1 → v2 fills the report's columns from the JSON).
        try Self.migrator.migrate(pool)
        checkpointer = try DatabaseQueue(path: path)
    }

    /// Copies the log's committed pages into the database file without waiting for the writer
    /// (passive), on the caller's thread: the recorder's `CheckpointThread`.
    public func checkpoint() throws {
        try checkpointer.writeWithoutTransaction { try $0.checkpoint(.passive) }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE envelope (
                        id INTEGER PRIMARY KEY,
                        publish_time INTEGER NOT NULL,
                        received_time INTEGER NOT NULL,
                        source TEXT NOT NULL,
                        instance TEXT NOT NULL,
                        sequence INTEGER NOT NULL,
                        type TEXT NOT NULL,
                        topic TEXT NOT NULL,
                        symbol TEXT,
                        trace TEXT NOT NULL,
                        json BLOB NOT NULL
                    );
                    CREATE INDEX envelope_time ON envelope(publish_time);
                    CREATE INDEX envelope_source ON envelope(source, instance, sequence);
                    CREATE INDEX envelope_type ON envelope(type, publish_time);
                    CREATE INDEX envelope_topic ON envelope(topic);
                    CREATE INDEX envelope_symbol ON envelope(symbol, publish_time);
                    CREATE INDEX envelope_trace ON envelope(trace);
                    CREATE TABLE cycle (
                        trace TEXT PRIMARY KEY,
                        symbol TEXT,
                        bar_time INTEGER,
                        bar_at INTEGER,
                        signal_at INTEGER,
                        signal_decision TEXT,
                        intent_at INTEGER,
                        intent_id TEXT,
                        decision_at INTEGER,
                        decision_outcome TEXT,
                        order_at INTEGER,
                        client_order_id TEXT,
                        ack_at INTEGER,
                        reject_at INTEGER,
                        fill_at INTEGER,
                        fills INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE INDEX cycle_bar ON cycle(bar_at);
                    CREATE INDEX cycle_order ON cycle(client_order_id);
                    CREATE TABLE gap (
                        id INTEGER PRIMARY KEY,
                        detected_at INTEGER NOT NULL,
                        source TEXT NOT NULL,
                        instance TEXT NOT NULL,
                        after_sequence INTEGER NOT NULL,
                        received_sequence INTEGER NOT NULL,
                        missing INTEGER NOT NULL
                    );
                    CREATE TABLE restart (
                        id INTEGER PRIMARY KEY,
                        detected_at INTEGER NOT NULL,
                        source TEXT NOT NULL,
                        previous_instance TEXT NOT NULL,
                        instance TEXT NOT NULL,
                        first_sequence INTEGER NOT NULL
                    );
                    """)
        }
        // The report's counts from indexed columns, not from decoding millions of bodies: what the
        // pipeline report groups by, written by the recorder; an older file is filled from its JSON.
        migrator.registerMigration("v2") { db in
            for column in ["strategy", "outcome", "reason", "purpose", "ref"] {
                try db.execute(sql: "ALTER TABLE envelope ADD COLUMN \(column) TEXT")
            }
            let body = "json_extract(CAST(json AS TEXT), '$.body.%@')"
            func fill(_ type: MessageType, _ columns: [(String, String)]) throws {
                let assignments = columns.map { "\($0.0) = " + body.replacingOccurrences(of: "%@", with: $0.1) }
                try db.execute(
                    sql: "UPDATE envelope SET \(assignments.joined(separator: ", ")) WHERE type = ?", arguments: [type.rawValue])
            }
            try fill(.signal, [("strategy", "strategy"), ("outcome", "decision"), ("reason", "reasons[0].code")])
            try fill(.orderIntent, [("strategy", "strategy"), ("purpose", "purpose"), ("ref", "intentId")])
            try fill(.riskDecision, [("outcome", "outcome"), ("reason", "reasons[0].code"), ("ref", "intentId")])
            try fill(
                .orderCommand, [("strategy", "strategy"), ("outcome", "action"), ("purpose", "purpose"), ("ref", "clientOrderId")])
            try fill(.fill, [("strategy", "strategy"), ("purpose", "purpose"), ("ref", "clientOrderId")])
            try fill(.orderReject, [("reason", "reason.code"), ("ref", "clientOrderId")])
            try db.execute(
                sql: """
                    DROP INDEX envelope_type;
                    CREATE INDEX envelope_type ON envelope(type, publish_time, strategy, outcome, reason, purpose, ref);
                    CREATE INDEX envelope_signal_tally ON envelope(strategy, outcome, reason, publish_time)
                        WHERE type = 'sig.signal';
                    DROP INDEX cycle_bar;
                    CREATE INDEX cycle_bar ON cycle(bar_at, signal_at, decision_at, order_at, ack_at, fill_at);
                    CREATE INDEX gap_time ON gap(detected_at);
                    CREATE INDEX restart_time ON restart(detected_at);
                    """)
        }
        return migrator
    }

    /// The schema versions this build knows, oldest first.
    public static var schemaVersions: [String] { migrator.migrations }

    static let insertEnvelope = """
        INSERT INTO envelope (publish_time, received_time, source, instance, sequence, type, topic,
            symbol, trace, json, strategy, outcome, reason, purpose, ref)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// One batch, one transaction. The few message types that mark a cycle's steps are decoded once,
    /// for the cycle row and for the columns the pipeline report counts by. Rows are bound and stepped
    /// straight through SQLite (a batch is tens of thousands of rows), and a cycle's steps within the
    /// batch (its bar and signal arrive together) become one upsert of its row.
    public func write(_ batch: TraceBatch) throws {
        try pool.write { db in
            let insert = RowStatement(try db.cachedStatement(sql: Self.insertEnvelope), db)
            var cycles = CycleRows()
            for item in batch.envelopes {
                let envelope = item.envelope
                let header = envelope.header
                let step = CycleStep(envelope)
                let facts = step.facts
                insert.bind(1, header.publishTime)
                insert.bind(2, item.receivedAt)
                insert.bind(3, header.source)
                insert.bind(4, header.instance)
                insert.bind(5, Int64(bitPattern: header.sequence))
                insert.bind(6, header.type)
                insert.bind(7, envelope.topic)
                insert.bind(8, header.symbol)
                insert.bind(9, header.traceId)
                insert.bind(11, facts.strategy)
                insert.bind(12, facts.outcome)
                insert.bind(13, facts.reason)
                insert.bind(14, facts.purpose)
                insert.bind(15, facts.ref)
                try insert.run(blob: 10, envelope.bytes)
                cycles.add(step, of: header)
            }
            let upsert = RowStatement(try db.cachedStatement(sql: CycleRow.upsert), db)
            for row in cycles.rows { try row.write(upsert) }
            for gap in batch.gaps {
                try db.execute(
                    sql: """
                        INSERT INTO gap (detected_at, source, instance, after_sequence, received_sequence, missing)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        gap.at, gap.gap.source, gap.gap.instance, Int64(gap.gap.after), Int64(gap.gap.received),
                        Int64(gap.gap.missing),
                    ])
            }
            for restart in batch.restarts {
                try db.execute(
                    sql: """
                        INSERT INTO restart (detected_at, source, previous_instance, instance, first_sequence)
                        VALUES (?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        restart.at, restart.restart.source, restart.restart.previousInstance,
                        restart.restart.instance, Int64(restart.restart.firstSequence),
                    ])
            }
        }
    }

    /// A message that marks a step of a decision cycle, decoded (nil when its body does not decode:
    /// the step's time is still recorded).
    enum CycleStep {
        case bar(BarStep?), signal(SignalStep?), intent(OrderIntent?), decision(RiskDecision?), command(OrderCommand?)
        case ack, reject(OrderReject?), fill(Fill?), other

        /// What the trace keeps of a bar: bars and signals are a fifth of the bus, and decoding their
        /// decimal prices took as long as writing them. Read like the v2 migration reads the JSON.
        struct BarStep: Decodable {
            var openTime: EpochNanos
        }

        struct SignalStep: Decodable {
            struct Reason: Decodable { var code: ReasonCode }
            var strategy: String
            var decision: Signal.Decision
            var reasons: [Reason]
        }

        init(_ envelope: RawEnvelope) {
            func part<M: Decodable>(_ type: M.Type) -> M? {
                try? EnvelopeCodec.decodeBody(M.self, from: envelope.bytes[envelope.bodyRange])
            }
            switch envelope.header.messageType {
            case .bar: self = .bar(part(BarStep.self))
            case .signal: self = .signal(part(SignalStep.self))
            case .orderIntent: self = .intent(try? envelope.decode(OrderIntent.self))
            case .riskDecision: self = .decision(try? envelope.decode(RiskDecision.self))
            case .orderCommand: self = .command(try? envelope.decode(OrderCommand.self))
            case .orderAck: self = .ack
            case .orderReject: self = .reject(try? envelope.decode(OrderReject.self))
            case .fill: self = .fill(try? envelope.decode(Fill.self))
            default: self = .other
            }
        }

        /// The envelope's columns the pipeline report groups by.
        var facts: (strategy: String?, outcome: String?, reason: String?, purpose: String?, ref: String?) {
            switch self {
            case .signal(let s?): (s.strategy, s.decision.rawValue, s.reasons.first?.code.rawValue, nil, nil)
            case .intent(let i?): (i.strategy, nil, nil, i.purpose.rawValue, i.intentId)
            case .decision(let d?): (nil, d.outcome.rawValue, d.reasons.first?.code.rawValue, nil, d.intentId)
            case .command(let c?): (c.strategy, c.action.rawValue, nil, c.purpose.rawValue, c.clientOrderId)
            case .fill(let f?): (f.strategy, nil, nil, f.purpose.rawValue, f.clientOrderId)
            case .reject(let r?): (nil, nil, r.reason.code.rawValue, nil, r.clientOrderId)
            default: (nil, nil, nil, nil, nil)
            }
        }
    }

    /// `YYYY-MM-DD` (UTC) of a time: an archive file's name.
    public static func day(of time: EpochNanos) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: Date(timeIntervalSince1970: Double(time) / 1e9))
    }

    /// What a prune removed (and archived, when asked).
    public struct Pruned: Sendable, Equatable {
        public var envelopes = 0
        public var cycles = 0
        public var gaps = 0
        public var restarts = 0
        public var total: Int { envelopes + cycles + gaps + restarts }

        public init(envelopes: Int = 0, cycles: Int = 0, gaps: Int = 0, restarts: Int = 0) {
            self.envelopes = envelopes
            self.cycles = cycles
            self.gaps = gaps
            self.restarts = restarts
        }
    }

    /// Deletes what was recorded before `cutoff`: envelopes by publish time, cycles by their bar (or
    /// their first step without one), gaps and restarts by when they were seen. With `archive`, the
    /// same rows are first copied into that SQLite file (this schema, made if missing) in the same
    /// transaction, so that nothing leaves the database that did not reach the archive.
    @discardableResult
    public func prune(before cutoff: EpochNanos, archive: String? = nil) throws -> Pruned {
        let cycleTime = "COALESCE(bar_at, signal_at, intent_at, decision_at, order_at, ack_at, reject_at, fill_at)"
        let tables: [(table: String, condition: String)] = [
            ("envelope", "publish_time < ?"), ("cycle", "\(cycleTime) < ?"), ("gap", "detected_at < ?"),
            ("restart", "detected_at < ?"),
        ]
        if let archive { _ = try TraceDatabase(path: archive) }
        return try pool.writeWithoutTransaction { db in
            if let archive { try db.execute(sql: "ATTACH DATABASE ? AS archive", arguments: [archive]) }
            defer { if archive != nil { try? db.execute(sql: "DETACH DATABASE archive") } }
            var pruned = Pruned()
            try db.inTransaction {
                for (table, condition) in tables {
                    if archive != nil {
                        try db.execute(
                            sql: "INSERT OR REPLACE INTO archive.\(table) SELECT * FROM main.\(table) WHERE \(condition)",
                            arguments: [cutoff])
                    }
                    try db.execute(sql: "DELETE FROM main.\(table) WHERE \(condition)", arguments: [cutoff])
                    switch table {
                    case "envelope": pruned.envelopes = db.changesCount
                    case "cycle": pruned.cycles = db.changesCount
                    case "gap": pruned.gaps = db.changesCount
                    default: pruned.restarts = db.changesCount
                    }
                }
                return .commit
            }
            return pruned
        }
    }

    public func count(type: MessageType, source: String? = nil) throws -> Int {
        try pool.read { db in
            if let source {
                return try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM envelope WHERE type = ? AND source = ?",
                    arguments: [type.rawValue, source]) ?? 0
            }
            return try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM envelope WHERE type = ?", arguments: [type.rawValue]) ?? 0
        }
    }

    /// One integer from a query, for reports and checks.
    public func scalar(_ sql: String, arguments: StatementArguments = []) throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0 }
    }

    /// Restarts the recorder detected, oldest first.
    public func restarts() throws -> [(source: String, detectedAt: EpochNanos)] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT source, detected_at FROM restart ORDER BY id").map {
                (source: $0["source"], detectedAt: $0["detected_at"])
            }
        }
    }

    /// The fill id of every fill in the trace (the recorder's duplicate check and backfill).
    public func fillIds() throws -> Set<String> {
        Set(try messages(Fill.self).map(\.body.fillId))
    }

    /// Bodies of one type, in publish order.
    public func messages<M: BusMessage>(
        _ type: M.Type, source: String? = nil, since: EpochNanos? = nil, until: EpochNanos? = nil
    ) throws -> [Envelope<M>] {
        try pool.read { db in
            var sql = "SELECT topic, json FROM envelope WHERE type = ?"
            var arguments: StatementArguments = [M.messageType.rawValue]
            if let source {
                sql += " AND source = ?"
                arguments += [source]
            }
            let (window, bounds) = Self.window("publish_time", since: since, until: until)
            sql += window + " ORDER BY publish_time, id"
            arguments += bounds
            let rows = try Row.fetchAll(db, sql: sql, arguments: arguments).map { ($0["topic"] as String, $0["json"] as Data) }
            return try Self.decodeAll(rows)
        }
    }

    /// Decodes on every core, in order: a report's tens of thousands of fills are most of its time.
    private static func decodeAll<M: BusMessage>(_ rows: [(topic: String, json: Data)]) throws -> [Envelope<M>] {
        let chunks = rows.count < 2_000 ? 1 : ProcessInfo.processInfo.activeProcessorCount
        let size = (rows.count + chunks - 1) / max(chunks, 1)
        let results = Mutex([Int: Result<[Envelope<M>], any Error>]())
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let range = (chunk * size)..<min(rows.count, (chunk + 1) * size)
            let decoded = Result { () throws -> [Envelope<M>] in
                try rows[range].map { row in
                    let raw = try RawEnvelope(topic: row.topic, bytes: [UInt8](row.json))
                    return Envelope(header: raw.header, body: try raw.decode(M.self))
                }
            }
            results.withLock { $0[chunk] = decoded }
        }
        let finished = results.withLock { $0 }
        return try (0..<chunks).flatMap { try finished[$0]?.get() ?? [] }
    }

    /// The last `limit` bodies of one type on one symbol published at or before `time`, in publish order.
    /// Reads through the (symbol, publish_time) index, so a report can look up the book a fill met without
    /// decoding every book.
    public func latest<M: BusMessage>(_ type: M.Type, symbol: String, atOrBefore time: EpochNanos, limit: Int = 1)
        throws -> [Envelope<M>]
    {
        guard limit > 0 else { return [] }
        return try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT topic, json FROM envelope WHERE symbol = ? AND publish_time <= ? AND type = ?
                    ORDER BY publish_time DESC, id DESC LIMIT ?
                    """,
                arguments: [symbol, time, M.messageType.rawValue, limit]
            ).map { row -> Envelope<M> in try Self.decode(row) }.reversed()
        }
    }

    private static func decode<M: BusMessage>(_ row: Row) throws -> Envelope<M> {
        let raw = try RawEnvelope(topic: row["topic"], bytes: [UInt8](row["json"] as Data))
        return Envelope(header: raw.header, body: try raw.decode(M.self))
    }
}

/// What the recorder writes in one transaction.
public struct TraceBatch: Sendable {
    public struct Item: Sendable {
        public var envelope: RawEnvelope
        public var receivedAt: EpochNanos
        public init(envelope: RawEnvelope, receivedAt: EpochNanos) {
            self.envelope = envelope
            self.receivedAt = receivedAt
        }
    }
    public var envelopes: [Item] = []
    public var gaps: [(gap: SequenceGap, at: EpochNanos)] = []
    public var restarts: [(restart: PublisherRestart, at: EpochNanos)] = []
    public init() {}
    public var isEmpty: Bool { envelopes.isEmpty && gaps.isEmpty && restarts.isEmpty }
    public var count: Int { envelopes.count + gaps.count + restarts.count }
}

