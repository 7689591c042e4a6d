import GRDB
import GRDBSQLite
import Schema

/// SQLite copies what it is given with this destructor.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A cached statement bound and stepped straight through SQLite: the recorder writes tens of thousands
/// of rows a batch, and `StatementArguments` costs an array of boxed values for each.
struct RowStatement {
    let handle: SQLiteStatement
    let sql: String
    let db: Database

    init(_ statement: Statement, _ db: Database) {
        handle = statement.sqliteStatement
        sql = statement.sql
        self.db = db
    }

    func bind(_ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    func bind(_ index: Int32, _ value: Int) { sqlite3_bind_int64(handle, index, Int64(value)) }

    func bind(_ index: Int32, _ value: String?) {
        guard var value else {
            sqlite3_bind_null(handle, index)
            return
        }
        value.withUTF8 { text in
            text.withMemoryRebound(to: CChar.self) { _ = sqlite3_bind_text(handle, index, $0.baseAddress, Int32(text.count), transient) }
        }
    }

    /// Binds `bytes` at `index` without copying them and runs the statement.
    func run(blob index: Int32, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer in
            sqlite3_bind_blob(handle, index, buffer.baseAddress, Int32(buffer.count), nil)
            defer { sqlite3_bind_null(handle, index) }  // nothing left pointing at the batch's memory
            try run()
        }
    }

    func run() throws {
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else {
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            sqlite3_reset(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql)
        }
        sqlite3_reset(handle)
    }
}

/// A decision cycle's steps seen in one batch, merged as its row would be updated one step at a time:
/// a step's time and fact replace the earlier ones, except the first ack and fill, which stay; fills add up.
struct CycleRow {
    var trace: String
    /// The first step's symbol: the row is made with it, and an existing row keeps its own.
    var symbol: String?
    var barAt: Int64?
    var barTime: Int64?
    var signalAt: Int64?
    var signalDecision: String?
    var intentAt: Int64?
    var intentId: String?
    var decisionAt: Int64?
    var decisionOutcome: String?
    var orderAt: Int64?
    var clientOrderId: String?
    var ackAt: Int64?
    var rejectAt: Int64?
    var fillAt: Int64?
    var fills = 0

    mutating func add(_ step: TraceDatabase.CycleStep, at: EpochNanos) {
        switch step {
        case .bar(let bar): (barAt, barTime) = (at, bar?.openTime)
        case .signal(let signal): (signalAt, signalDecision) = (at, signal?.decision.rawValue)
        case .intent(let intent): (intentAt, intentId) = (at, intent?.intentId)
        case .decision(let decision): (decisionAt, decisionOutcome) = (at, decision?.outcome.rawValue)
        case .command(let command): (orderAt, clientOrderId) = (at, command?.clientOrderId)
        case .ack: ackAt = ackAt ?? at
        case .reject: rejectAt = at
        case .fill:
            fillAt = fillAt ?? at
            fills += 1
        case .other: break
        }
    }

    /// A step's columns change only when the batch had that step (its time is never NULL then).
    static let upsert = """
        INSERT INTO cycle (trace, symbol, bar_at, bar_time, signal_at, signal_decision, intent_at, intent_id,
            decision_at, decision_outcome, order_at, client_order_id, ack_at, reject_at, fill_at, fills)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(trace) DO UPDATE SET
            bar_time = CASE WHEN excluded.bar_at IS NULL THEN bar_time ELSE excluded.bar_time END,
            bar_at = COALESCE(excluded.bar_at, bar_at),
            signal_decision = CASE WHEN excluded.signal_at IS NULL THEN signal_decision ELSE excluded.signal_decision END,
            signal_at = COALESCE(excluded.signal_at, signal_at),
            intent_id = CASE WHEN excluded.intent_at IS NULL THEN intent_id ELSE excluded.intent_id END,
            intent_at = COALESCE(excluded.intent_at, intent_at),
            decision_outcome = CASE WHEN excluded.decision_at IS NULL THEN decision_outcome ELSE excluded.decision_outcome END,
            decision_at = COALESCE(excluded.decision_at, decision_at),
            client_order_id = CASE WHEN excluded.order_at IS NULL THEN client_order_id ELSE excluded.client_order_id END,
            order_at = COALESCE(excluded.order_at, order_at),
            ack_at = COALESCE(ack_at, excluded.ack_at),
            reject_at = COALESCE(excluded.reject_at, reject_at),
            fill_at = COALESCE(fill_at, excluded.fill_at),
            fills = fills + excluded.fills
        """

    func write(_ statement: RowStatement) throws {
        statement.bind(1, trace)
        statement.bind(2, symbol)
        statement.bind(3, barAt)
        statement.bind(4, barTime)
        statement.bind(5, signalAt)
        statement.bind(6, signalDecision)
        statement.bind(7, intentAt)
        statement.bind(8, intentId)
        statement.bind(9, decisionAt)
        statement.bind(10, decisionOutcome)
        statement.bind(11, orderAt)
        statement.bind(12, clientOrderId)
        statement.bind(13, ackAt)
        statement.bind(14, rejectAt)
        statement.bind(15, fillAt)
        statement.bind(16, fills)
        try statement.run()
    }
}

/// The cycle rows of one batch, in the order their first step came.
struct CycleRows {
    private(set) var rows: [CycleRow] = []
    private var index: [String: Int] = [:]

    mutating func add(_ step: TraceDatabase.CycleStep, of header: EnvelopeHeader) {
        if case .other = step { return }
        if let position = index[header.traceId] {
            rows[position].add(step, at: header.publishTime)
        } else {
            index[header.traceId] = rows.count
            var row = CycleRow(trace: header.traceId, symbol: header.symbol)
            row.add(step, at: header.publishTime)
            rows.append(row)
        }
    }
}
