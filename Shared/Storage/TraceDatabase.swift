import Foundation
import GRDB
import Schema

/// The trace recorder's database: every envelope with indexed header columns, one
/// row per decision cycle from bar to fill, and rows for gaps and restarts.
public final class TraceDatabase: Sendable {
    public let pool: DatabasePool
    public let path: String

    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // WAL is set by DatabasePool; NORMAL is durable across process crashes in WAL mode.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
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
        return migrator
    }

    /// One batch, one transaction. Cycle columns are filled from the envelopes that mark
    /// each step; only those few bodies are decoded.
    public func write(_ batch: TraceBatch) throws {
        try pool.write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO envelope (publish_time, received_time, source, instance, sequence, type, topic,
                        symbol, trace, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for item in batch.envelopes {
                let header = item.envelope.header
                try insert.execute(arguments: [
                    header.publishTime, item.receivedAt, header.source, header.instance,
                    Int64(bitPattern: header.sequence), header.type, item.envelope.topic, header.symbol,
                    header.traceId, Data(item.envelope.bytes),
                ])
                try Self.recordCycleStep(item.envelope, db: db)
            }
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

    static func recordCycleStep(_ envelope: RawEnvelope, db: Database) throws {
        let header = envelope.header
        let at = header.publishTime
        let trace = header.traceId
        func upsert(_ assignments: String, _ arguments: StatementArguments) throws {
            try db.execute(
                sql: "INSERT INTO cycle (trace, symbol) VALUES (?, ?) ON CONFLICT(trace) DO NOTHING",
                arguments: [trace, header.symbol])
            try db.execute(sql: "UPDATE cycle SET \(assignments) WHERE trace = ?", arguments: arguments + [trace])
        }
        switch header.messageType {
        case .bar:
            let bar = try? envelope.decode(Bar.self)
            try upsert("bar_at = ?, bar_time = ?", [at, bar?.openTime])
        case .signal:
            let signal = try? envelope.decode(Signal.self)
            try upsert("signal_at = ?, signal_decision = ?", [at, signal?.decision.rawValue])
        case .orderIntent:
            let intent = try? envelope.decode(OrderIntent.self)
            try upsert("intent_at = ?, intent_id = ?", [at, intent?.intentId])
        case .riskDecision:
            let decision = try? envelope.decode(RiskDecision.self)
            try upsert("decision_at = ?, decision_outcome = ?", [at, decision?.outcome.rawValue])
        case .orderCommand:
            let command = try? envelope.decode(OrderCommand.self)
            try upsert("order_at = ?, client_order_id = ?", [at, command?.clientOrderId])
        case .orderAck:
            try upsert("ack_at = COALESCE(ack_at, ?)", [at])
        case .orderReject:
            try upsert("reject_at = ?", [at])
        case .fill:
            try upsert("fill_at = COALESCE(fill_at, ?), fills = fills + 1", [at])
        default:
            break
        }
    }

    /// The time each stage of the cycles took, in ns, by stage name in pipeline order: publish time
    /// of one message to the publish time of the next on the same trace, over every cycle that has both
    /// and whose bar was published within the window.
    /// " AND bar_at …" for a window on the cycles' bar time; nothing without one (cycles without a bar count).
    private static func barWindow(since: EpochNanos?, until: EpochNanos?) -> (String, StatementArguments) {
        var condition = ""
        var arguments: StatementArguments = []
        if let since {
            condition += " AND bar_at >= ?"
            arguments += [since]
        }
        if let until {
            condition += " AND bar_at < ?"
            arguments += [until]
        }
        return (condition, arguments)
    }

    /// Cycles whose bar was published within the window (all with none).
    public func cycleCount(since: EpochNanos? = nil, until: EpochNanos? = nil) throws -> Int {
        try pool.read { db in
            let (condition, arguments) = Self.barWindow(since: since, until: until)
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM cycle WHERE 1 = 1" + condition, arguments: arguments) ?? 0
        }
    }

    public func stageLatencies(since: EpochNanos? = nil, until: EpochNanos? = nil) throws -> [(stage: String, nanos: [Int64])] {
        let stages = [
            ("bar → signal", "bar_at", "signal_at"), ("signal → risk decision", "signal_at", "decision_at"),
            ("bar → order (tick to order)", "bar_at", "order_at"), ("order → ack (exchange)", "order_at", "ack_at"),
            ("order → fill", "order_at", "fill_at"),
        ]
        let (condition, arguments) = Self.barWindow(since: since, until: until)
        return try pool.read { db in
            try stages.map { name, from, to in
                let values = try Int64.fetchAll(
                    db, sql: "SELECT \(to) - \(from) FROM cycle WHERE \(from) IS NOT NULL AND \(to) IS NOT NULL" + condition,
                    arguments: arguments)
                return (name, values.sorted())
            }
        }
    }

    /// Deletes envelopes published before `cutoff`; cycles, gaps and restarts stay.
    @discardableResult
    public func prune(before cutoff: EpochNanos) throws -> Int {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM envelope WHERE publish_time < ?", arguments: [cutoff])
            return db.changesCount
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
            if let since {
                sql += " AND publish_time >= ?"
                arguments += [since]
            }
            if let until {
                sql += " AND publish_time < ?"
                arguments += [until]
            }
            sql += " ORDER BY publish_time, id"
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row -> Envelope<M> in try Self.decode(row) }
        }
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

