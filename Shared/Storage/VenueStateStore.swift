import Foundation
import GRDB

/// exchange-sim's venue on disk: accounts, orders, fills, funding, nonces, client order ids and
/// counters, so that a killed simulator comes back with what it had acknowledged. The venue gives
/// each row as the JSON of its own Codable values; this store keeps them by key (accounts, orders,
/// signers, client order ids: replaced) or appends them (fills, funding: history), and writes a
/// whole save in one transaction.
///
/// The file is in WAL mode with `synchronous = NORMAL`: a committed save is in the operating
/// system's hands before the HTTP answer leaves, so it survives the process being killed (SIGKILL,
/// a crash), which is what a paper venue must survive; only a power cut can take the last saves.
/// `durableAgainstPowerLoss` makes every commit wait for the disk (`synchronous = FULL`).
///
/// The saving connection never checkpoints the WAL itself (a checkpoint syncs the disk, which would
/// land on one unlucky order's answer): `checkpoint()` does it on a connection of its own, from
/// whatever background thread the owner runs it on.
public final class VenueStateStore: Sendable {
    /// The file's format. A file written by a newer format is refused, never guessed at.
    public static let formatVersion = 1

    public enum StoreError: Error, Equatable, CustomStringConvertible {
        /// The file is not a database this store can open.
        case unreadableFile(String)
        /// A row does not read back.
        case corruptRow(String)
        /// Written by a newer Breakwater.
        case futureVersion(Int)
        public var description: String {
            switch self {
            case .unreadableFile(let why): "venue state file cannot be opened: \(why)"
            case .corruptRow(let why): "venue state does not read back: \(why)"
            case .futureVersion(let version):
                "venue state has format \(version), newer than \(VenueStateStore.formatVersion) this build reads"
            }
        }
    }

    /// One save (the rows a venue change touched) or, read back, the whole venue.
    public struct Rows: Sendable, Equatable {
        /// The counters row (nil: unchanged; read back: nil means a fresh file).
        public var venue: Data?
        public var accounts: [Keyed] = []
        public var orders: [Order] = []
        /// Appended in this order; read back oldest first, per user.
        public var fills: [Owned] = []
        public var fundings: [Owned] = []
        public var signers: [Keyed] = []
        public var cloids: [ClientOrderId] = []
        public var agents: [Agent] = []

        public init(venue: Data? = nil) { self.venue = venue }

        public var isEmpty: Bool {
            venue == nil && accounts.isEmpty && orders.isEmpty && fills.isEmpty && fundings.isEmpty && signers.isEmpty
                && cloids.isEmpty && agents.isEmpty
        }
    }

    public struct Keyed: Sendable, Equatable {
        public var key: String
        public var body: Data
        public init(key: String, body: Data) {
            self.key = key
            self.body = body
        }
    }

    public struct Order: Sendable, Equatable {
        public var oid: UInt64
        public var user: String
        public var body: Data
        public init(oid: UInt64, user: String, body: Data) {
            self.oid = oid
            self.user = user
            self.body = body
        }
    }

    public struct Owned: Sendable, Equatable {
        public var user: String
        public var body: Data
        public init(user: String, body: Data) {
            self.user = user
            self.body = body
        }
    }

    public struct ClientOrderId: Sendable, Equatable {
        public var user: String
        public var cloid: String
        public var oid: UInt64
        public init(user: String, cloid: String, oid: UInt64) {
            self.user = user
            self.cloid = cloid
            self.oid = oid
        }
    }

    public struct Agent: Sendable, Equatable {
        public var agent: String
        public var owner: String
        public init(agent: String, owner: String) {
            self.agent = agent
            self.owner = owner
        }
    }

    public let queue: DatabaseQueue
    public let path: String
    private let checkpointer: DatabaseQueue

    /// Opens the file, creating it and its folder when missing (a fresh venue).
    public init(path: String, durableAgainstPowerLoss: Bool = false) throws {
        self.path = path
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: durableAgainstPowerLoss ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
        }
        let unreadable = { (error: any Error) -> any Error in StoreError.unreadableFile("\(path): \(error)") }
        queue = try Self.migrator.openStore(
            path: path, configuration: configuration, newer: StoreError.futureVersion(Self.formatVersion + 1),
            unreadable: unreadable)
        do { checkpointer = try DatabaseQueue(path: path) } catch { throw unreadable(error) }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE venue (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        format_version INTEGER NOT NULL,
                        body BLOB NOT NULL
                    );
                    CREATE TABLE venue_account (address TEXT PRIMARY KEY, body BLOB NOT NULL);
                    CREATE TABLE venue_order (oid INTEGER PRIMARY KEY, user TEXT NOT NULL, body BLOB NOT NULL);
                    CREATE TABLE venue_fill (seq INTEGER PRIMARY KEY, user TEXT NOT NULL, body BLOB NOT NULL);
                    CREATE INDEX venue_fill_user ON venue_fill(user, seq);
                    CREATE TABLE venue_funding (seq INTEGER PRIMARY KEY, user TEXT NOT NULL, body BLOB NOT NULL);
                    CREATE TABLE venue_signer (signer TEXT PRIMARY KEY, nonces BLOB NOT NULL);
                    CREATE TABLE venue_cloid (
                        user TEXT NOT NULL, cloid TEXT NOT NULL, oid INTEGER NOT NULL, PRIMARY KEY (user, cloid)
                    ) WITHOUT ROWID;
                    CREATE TABLE venue_agent (agent TEXT PRIMARY KEY, owner TEXT NOT NULL);
                    """)
        }
        return migrator
    }

    /// Copies the WAL's committed pages into the database file (passive: never waits for the saving
    /// connection), so that the WAL does not grow without end.
    public func checkpoint() throws {
        try checkpointer.writeWithoutTransaction { try $0.checkpoint(.passive) }
    }

    /// Writes one save in one transaction: all of it or, on an error, nothing.
    public func save(_ rows: Rows) throws {
        guard !rows.isEmpty else { return }
        try queue.write { db in
            if let venue = rows.venue {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO venue (id, format_version, body) VALUES (1, ?, ?)
                        ON CONFLICT(id) DO UPDATE SET format_version = excluded.format_version, body = excluded.body
                        """
                ).execute(arguments: [Self.formatVersion, venue])
            }
            if !rows.accounts.isEmpty {
                let statement = try db.cachedStatement(sql: "INSERT OR REPLACE INTO venue_account (address, body) VALUES (?, ?)")
                for row in rows.accounts { try statement.execute(arguments: [row.key, row.body]) }
            }
            if !rows.orders.isEmpty {
                let statement = try db.cachedStatement(sql: "INSERT OR REPLACE INTO venue_order (oid, user, body) VALUES (?, ?, ?)")
                for row in rows.orders { try statement.execute(arguments: [Int64(bitPattern: row.oid), row.user, row.body]) }
            }
            if !rows.fills.isEmpty {
                let statement = try db.cachedStatement(sql: "INSERT INTO venue_fill (user, body) VALUES (?, ?)")
                for row in rows.fills { try statement.execute(arguments: [row.user, row.body]) }
            }
            if !rows.fundings.isEmpty {
                let statement = try db.cachedStatement(sql: "INSERT INTO venue_funding (user, body) VALUES (?, ?)")
                for row in rows.fundings { try statement.execute(arguments: [row.user, row.body]) }
            }
            if !rows.signers.isEmpty {
                let statement = try db.cachedStatement(sql: "INSERT OR REPLACE INTO venue_signer (signer, nonces) VALUES (?, ?)")
                for row in rows.signers { try statement.execute(arguments: [row.key, row.body]) }
            }
            if !rows.cloids.isEmpty {
                let statement = try db.cachedStatement(sql: "INSERT OR REPLACE INTO venue_cloid (user, cloid, oid) VALUES (?, ?, ?)")
                for row in rows.cloids { try statement.execute(arguments: [row.user, row.cloid, Int64(bitPattern: row.oid)]) }
            }
            if !rows.agents.isEmpty {
                let statement = try db.cachedStatement(sql: "INSERT OR REPLACE INTO venue_agent (agent, owner) VALUES (?, ?)")
                for row in rows.agents { try statement.execute(arguments: [row.agent, row.owner]) }
            }
        }
    }

    /// The whole saved venue, or nil when nothing was saved yet (a fresh file). Keeps the newest
    /// `fillsPerUser` fills of each user (the venue's own history limit) and deletes older ones, so
    /// the file does not grow with every restart's worth of history. A row of the wrong type is an
    /// error, never skipped.
    public func load(fillsPerUser: Int) throws -> Rows? {
        try queue.write { db -> Rows? in
            guard let venueRow = try Row.fetchOne(db, sql: "SELECT format_version, body FROM venue WHERE id = 1") else {
                return nil
            }
            guard let version = Int.fromDatabaseValue(venueRow["format_version"] as DatabaseValue) else {
                throw StoreError.corruptRow("venue: no format version")
            }
            guard version <= Self.formatVersion else { throw StoreError.futureVersion(version) }
            guard version >= 1 else { throw StoreError.corruptRow("venue: format version \(version)") }
            var rows = Rows(venue: try Self.blob(venueRow, "body", table: "venue"))
            try db.execute(
                sql: """
                    DELETE FROM venue_fill WHERE seq IN (
                        SELECT seq FROM (
                            SELECT seq, ROW_NUMBER() OVER (PARTITION BY user ORDER BY seq DESC) AS newest FROM venue_fill
                        ) WHERE newest > ?
                    )
                    """, arguments: [fillsPerUser])
            for row in try Row.fetchAll(db, sql: "SELECT address, body FROM venue_account ORDER BY address") {
                rows.accounts.append(
                    Keyed(key: try Self.text(row, "address", table: "venue_account"), body: try Self.blob(row, "body", table: "venue_account")))
            }
            for row in try Row.fetchAll(db, sql: "SELECT oid, user, body FROM venue_order ORDER BY oid") {
                guard let oid = Int64.fromDatabaseValue(row["oid"] as DatabaseValue) else {
                    throw StoreError.corruptRow("venue_order: an oid that is not an integer")
                }
                rows.orders.append(
                    Order(
                        oid: UInt64(bitPattern: oid), user: try Self.text(row, "user", table: "venue_order"),
                        body: try Self.blob(row, "body", table: "venue_order")))
            }
            for row in try Row.fetchAll(db, sql: "SELECT user, body FROM venue_fill ORDER BY seq") {
                rows.fills.append(Owned(user: try Self.text(row, "user", table: "venue_fill"), body: try Self.blob(row, "body", table: "venue_fill")))
            }
            for row in try Row.fetchAll(db, sql: "SELECT user, body FROM venue_funding ORDER BY seq") {
                rows.fundings.append(
                    Owned(user: try Self.text(row, "user", table: "venue_funding"), body: try Self.blob(row, "body", table: "venue_funding")))
            }
            for row in try Row.fetchAll(db, sql: "SELECT signer, nonces FROM venue_signer ORDER BY signer") {
                rows.signers.append(
                    Keyed(key: try Self.text(row, "signer", table: "venue_signer"), body: try Self.blob(row, "nonces", table: "venue_signer")))
            }
            for row in try Row.fetchAll(db, sql: "SELECT user, cloid, oid FROM venue_cloid ORDER BY user, cloid") {
                guard let oid = Int64.fromDatabaseValue(row["oid"] as DatabaseValue) else {
                    throw StoreError.corruptRow("venue_cloid: an oid that is not an integer")
                }
                rows.cloids.append(
                    ClientOrderId(
                        user: try Self.text(row, "user", table: "venue_cloid"), cloid: try Self.text(row, "cloid", table: "venue_cloid"),
                        oid: UInt64(bitPattern: oid)))
            }
            for row in try Row.fetchAll(db, sql: "SELECT agent, owner FROM venue_agent ORDER BY agent") {
                rows.agents.append(
                    Agent(agent: try Self.text(row, "agent", table: "venue_agent"), owner: try Self.text(row, "owner", table: "venue_agent")))
            }
            return rows
        }
    }

    // Read through DatabaseValue: a value of the wrong type is an error here, not a trap.
    private static func text(_ row: Row, _ column: String, table: String) throws -> String {
        guard let value = String.fromDatabaseValue(row[column] as DatabaseValue) else {
            throw StoreError.corruptRow("\(table).\(column) is not text")
        }
        return value
    }

    private static func blob(_ row: Row, _ column: String, table: String) throws -> Data {
        guard let value = Data.fromDatabaseValue(row[column] as DatabaseValue) else {
            throw StoreError.corruptRow("\(table).\(column) is not a blob")
        }
        return value
    }
}
