import Foundation
import GRDB
import Schema

/// The executor's ledger on disk: every order and fill, written before it is published.
/// Amounts are stored as their exact decimal text.
public final class LedgerStore: Sendable {
    public enum OrderStatus: String, Sendable, Codable {
        case new, acked, partiallyFilled = "partially_filled", filled, rejected, canceled
        public var isLive: Bool { self == .new || self == .acked || self == .partiallyFilled }
    }

    public struct StoredOrder: Sendable, Equatable {
        public var command: OrderCommand
        public var status: OrderStatus
        public var venueOrderId: String?
        public var filledSize: Amount
        public var createdAt: EpochNanos
        /// The trace of the cycle that placed it (nil for orders recorded before traces were kept).
        public var traceId: String?
        public var remaining: Amount { command.size - filledSize }
    }

    public enum StoreError: Error, Equatable, CustomStringConvertible {
        case duplicateClientOrderId(String)
        case unknownOrder(String)
        /// A stored row that does not read back: never guessed into a plausible value.
        case corruptRow(String)
        public var description: String {
            switch self {
            case .duplicateClientOrderId(let id): "client order id \(id) was used before"
            case .unknownOrder(let id): "no order with client order id \(id)"
            case .corruptRow(let why): "ledger row does not read back: \(why)"
            }
        }
    }

    public let queue: DatabaseQueue
    public let path: String

    public init(path: String) throws {
        self.path = path
        let configuration = Configuration.durable
        queue = try DatabaseQueue(path: path, configuration: configuration)
        try Self.migrator.migrate(queue)
    }

    /// Another process's view of an existing ledger (the trace recorder's backfill): read-only, no
    /// migrations, and never creates the file.
    public init(readingOnly path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.readonly = true
        queue = try DatabaseQueue(path: path, configuration: configuration)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE ledger_order (
                        client_order_id TEXT PRIMARY KEY,
                        intent_id TEXT NOT NULL,
                        command BLOB NOT NULL,
                        symbol TEXT NOT NULL,
                        status TEXT NOT NULL,
                        venue_order_id TEXT,
                        filled_size TEXT NOT NULL DEFAULT '0',
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE INDEX ledger_order_status ON ledger_order(status);
                    CREATE TABLE ledger_fill (
                        seq INTEGER PRIMARY KEY,
                        fill_id TEXT NOT NULL UNIQUE,
                        client_order_id TEXT NOT NULL REFERENCES ledger_order(client_order_id),
                        symbol TEXT NOT NULL,
                        side TEXT NOT NULL,
                        price TEXT NOT NULL,
                        size TEXT NOT NULL,
                        fee TEXT NOT NULL,
                        liquidity TEXT NOT NULL,
                        purpose TEXT NOT NULL,
                        strategy TEXT NOT NULL,
                        time INTEGER NOT NULL
                    );
                    CREATE INDEX ledger_fill_symbol ON ledger_fill(symbol, time);
                    """)
        }
        migrator.registerMigration("v2: order traces") { db in
            try db.execute(sql: "ALTER TABLE ledger_order ADD COLUMN trace_id TEXT")
        }
        migrator.registerMigration("v3: funding") { db in
            try db.execute(
                sql: """
                    CREATE TABLE ledger_funding (
                        seq INTEGER PRIMARY KEY,
                        funding_id TEXT NOT NULL UNIQUE,
                        symbol TEXT NOT NULL,
                        amount TEXT NOT NULL,
                        rate TEXT NOT NULL,
                        size TEXT NOT NULL,
                        time INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v4: quote tiers") { db in
            try db.execute(sql: "ALTER TABLE ledger_fill ADD COLUMN quote_tier INTEGER")
        }
        return migrator
    }

    /// Records a new order; a client order id seen before is refused, whatever its state.
    public func recordOrder(_ command: OrderCommand, traceId: String? = nil, at now: EpochNanos) throws {
        if let refusal = try recordOrders([(command, traceId)], at: now)[0] { throw refusal }
    }

    /// Records new orders in one transaction (one disk sync for a whole quote ladder). Each entry's
    /// result is nil when recorded, or why it was refused (a client order id seen before); an error
    /// of the database throws and records nothing.
    public func recordOrders(_ orders: [(command: OrderCommand, traceId: String?)], at now: EpochNanos) throws
        -> [StoreError?]
    {
        let encoder = JSONEncoder()
        let encoded = try orders.map { try encoder.encode($0.command) }
        return try queue.write { db in
            var results: [StoreError?] = []
            for ((command, traceId), json) in zip(orders, encoded) {
                if try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM ledger_order WHERE client_order_id = ?", arguments: [command.clientOrderId])
                    != nil
                {
                    results.append(StoreError.duplicateClientOrderId(command.clientOrderId))
                    continue
                }
                try db.execute(
                    sql: """
                        INSERT INTO ledger_order (client_order_id, intent_id, command, symbol, status, created_at,
                            updated_at, trace_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        command.clientOrderId, command.intentId, json, command.symbol ?? "", OrderStatus.new.rawValue,
                        now, now, traceId,
                    ])
                results.append(nil)
            }
            return results
        }
    }

    /// A modify the exchange accepted: the order keeps its client order id and takes the new
    /// price, size and trigger; what it filled before stays counted.
    public func replaceCommand(_ command: OrderCommand, venueOrderId: String?, at now: EpochNanos) throws {
        let json = try JSONEncoder().encode(command)
        try queue.write { db in
            try db.execute(
                sql: """
                    UPDATE ledger_order SET command = ?, venue_order_id = COALESCE(?, venue_order_id),
                        status = CASE WHEN status = 'new' THEN 'acked' ELSE status END, updated_at = ?
                    WHERE client_order_id = ?
                    """,
                arguments: [json, venueOrderId, now, command.clientOrderId])
            if db.changesCount == 0 { throw StoreError.unknownOrder(command.clientOrderId) }
        }
    }

    public func setStatus(
        _ clientOrderId: String, _ status: OrderStatus, venueOrderId: String? = nil, at now: EpochNanos
    ) throws {
        try queue.write { db in
            try db.execute(
                sql: """
                    UPDATE ledger_order SET status = ?, venue_order_id = COALESCE(?, venue_order_id), updated_at = ?
                    WHERE client_order_id = ?
                    """,
                arguments: [status.rawValue, venueOrderId, now, clientOrderId])
            if db.changesCount == 0 { throw StoreError.unknownOrder(clientOrderId) }
        }
    }

    /// Records a fill and advances its order, in one transaction. Returns false for a
    /// fill id already recorded (a replayed fill changes nothing).
    @discardableResult
    public func recordFill(_ fill: Fill) throws -> Bool {
        try queue.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM ledger_fill WHERE fill_id = ?", arguments: [fill.fillId])
                != nil
            {
                return false
            }
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT command, filled_size, status FROM ledger_order WHERE client_order_id = ?",
                    arguments: [fill.clientOrderId])
            else { throw StoreError.unknownOrder(fill.clientOrderId) }
            let command = try JSONDecoder().decode(OrderCommand.self, from: row["command"] as Data)
            let filled = try Self.amount(row["filled_size"]) + fill.size
            let current = OrderStatus(rawValue: row["status"]) ?? .new
            // A late fill of a canceled order is recorded, but does not bring the order back to life.
            let status: OrderStatus =
                current == .canceled || current == .rejected
                ? current : (filled >= command.size ? .filled : .partiallyFilled)
            try db.execute(
                sql: """
                    INSERT INTO ledger_fill (fill_id, client_order_id, symbol, side, price, size, fee, liquidity,
                        purpose, strategy, time, quote_tier) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    fill.fillId, fill.clientOrderId, fill.symbol ?? "", fill.side.rawValue, fill.price.description,
                    fill.size.description, fill.fee.description, fill.liquidity.rawValue, fill.purpose.rawValue,
                    fill.strategy, fill.time, fill.quoteTier,
                ])
            try db.execute(
                sql: "UPDATE ledger_order SET filled_size = ?, status = ?, updated_at = ? WHERE client_order_id = ?",
                arguments: [filled.description, status.rawValue, fill.time, fill.clientOrderId])
            return true
        }
    }

    /// Exchange time of the newest fill: where "fills since we last saw one" starts.
    public func lastFillTime() throws -> EpochNanos? {
        try queue.read { db in try EpochNanos.fetchOne(db, sql: "SELECT MAX(time) FROM ledger_fill") }
    }

    /// When the first order was recorded: no fill of ours can be older.
    public func firstOrderTime() throws -> EpochNanos? {
        try queue.read { db in try EpochNanos.fetchOne(db, sql: "SELECT MIN(created_at) FROM ledger_order") }
    }

    public func order(_ clientOrderId: String) throws -> StoredOrder? {
        try queue.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM ledger_order WHERE client_order_id = ?", arguments: [clientOrderId]
            ).map(Self.storedOrder)
        }
    }

    public func liveOrders() throws -> [StoredOrder] {
        try queue.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM ledger_order WHERE status IN ('new', 'acked', 'partially_filled') ORDER BY created_at")
                .map(Self.storedOrder)
        }
    }

    public func orders() throws -> [StoredOrder] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM ledger_order ORDER BY created_at").map(Self.storedOrder)
        }
    }

    /// Every fill, in the order the ledger recorded them.
    public func fills() throws -> [Fill] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM ledger_fill ORDER BY seq").map(Self.fill)
        }
    }

    /// The fills recorded after the recording sequence `seq`, with theirs, in recording order.
    public func fills(afterSeq seq: Int64) throws -> [(seq: Int64, fill: Fill)] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM ledger_fill WHERE seq > ? ORDER BY seq", arguments: [seq]).map {
                (seq: $0["seq"], fill: try Self.fill($0))
            }
        }
    }

    static func fill(_ row: Row) throws -> Fill {
        Fill(
            fillId: row["fill_id"], clientOrderId: row["client_order_id"], symbol: row["symbol"],
            side: try value(row["side"]), price: try amount(row["price"]),
            size: try amount(row["size"]), fee: try amount(row["fee"]),
            liquidity: try value(row["liquidity"]), purpose: try value(row["purpose"]),
            strategy: row["strategy"], time: row["time"], quoteTier: row["quote_tier"])
    }

    // MARK: Funding

    /// Records a funding payment the exchange booked. Returns false for a funding id already
    /// recorded (a payment seen again by the next sync changes nothing).
    @discardableResult
    public func recordFunding(_ payment: FundingSettlement) throws -> Bool {
        try queue.write { db in
            if try Bool.fetchOne(
                db, sql: "SELECT 1 FROM ledger_funding WHERE funding_id = ?", arguments: [payment.fundingId]) != nil
            {
                return false
            }
            try db.execute(
                sql: """
                    INSERT INTO ledger_funding (funding_id, symbol, amount, rate, size, time)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    payment.fundingId, payment.symbol ?? "", payment.amount.description, payment.rate.description,
                    payment.positionSize.description, payment.time,
                ])
            return true
        }
    }

    /// Every funding payment, oldest first (ties in the order recorded).
    public func fundingPayments() throws -> [FundingSettlement] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM ledger_funding ORDER BY time, seq").map { row in
                FundingSettlement(
                    fundingId: row["funding_id"], symbol: row["symbol"], amount: try Self.amount(row["amount"]),
                    rate: try Self.amount(row["rate"]), positionSize: try Self.amount(row["size"]), time: row["time"])
            }
        }
    }

    /// Exchange time of the newest funding payment: where the next funding sync starts.
    public func lastFundingTime() throws -> EpochNanos? {
        try queue.read { db in try EpochNanos.fetchOne(db, sql: "SELECT MAX(time) FROM ledger_funding") }
    }

    static func storedOrder(_ row: Row) throws -> StoredOrder {
        StoredOrder(
            command: try JSONDecoder().decode(OrderCommand.self, from: row["command"] as Data),
            status: try value(row["status"]),
            venueOrderId: row["venue_order_id"],
            filledSize: try amount(row["filled_size"]),
            createdAt: row["created_at"], traceId: row["trace_id"])
    }

    static func amount(_ text: String?) throws -> Amount {
        guard let text, let amount = Amount(text) else { throw StoreError.corruptRow("amount \(text ?? "null")") }
        return amount
    }

    static func value<T: RawRepresentable>(_ text: String?) throws -> T where T.RawValue == String {
        guard let text, let value = T(rawValue: text) else {
            throw StoreError.corruptRow("\(T.self) \(text ?? "null")")
        }
        return value
    }
}
