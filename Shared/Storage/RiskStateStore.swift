import Foundation
import GRDB
import Schema

/// The risk gate's memory on disk (kill switch, HALTED latch, equity baselines, reservations):
/// one row, written before anything that depends on it is published. The memory is stored as
/// the JSON of whatever Codable value the gate gives (its `RiskMemory`), beside a few plain
/// columns for a human with `sqlite3`.
public final class RiskStateStore: Sendable {
    /// The row's format. A row written by a newer format is refused, never guessed at.
    public static let formatVersion = 1

    public enum StoreError: Error, Equatable, CustomStringConvertible {
        /// The file is not a database this store can open.
        case unreadableFile(String)
        /// The row does not decode: never defaulted into a plausible memory.
        case corruptRow(String)
        /// Written by a newer Breakwater.
        case futureVersion(Int)
        public var description: String {
            switch self {
            case .unreadableFile(let why): "risk state file cannot be opened: \(why)"
            case .corruptRow(let why): "risk state row does not read back: \(why)"
            case .futureVersion(let version):
                "risk state row has format \(version), newer than \(RiskStateStore.formatVersion) this build reads"
            }
        }
    }

    public let queue: DatabaseQueue
    public let path: String

    /// Opens the file, creating it (a fresh start) if it does not exist.
    public init(path: String) throws {
        self.path = path
        queue = try Self.migrator.openStore(
            path: path, configuration: .durable, newer: StoreError.futureVersion(Self.formatVersion + 1),
            unreadable: { StoreError.unreadableFile("\($0)") })
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE risk_state (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        format_version INTEGER NOT NULL,
                        memory BLOB NOT NULL,
                        trading_state TEXT NOT NULL,
                        kill_switch INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    )
                    """)
        }
        return migrator
    }

    /// Replaces the saved memory in one transaction. `survivingPowerLoss` (a halt, the kill switch,
    /// the equity baselines) waits for the disk; without it (a change of reservations alone) the
    /// commit is in the operating system's hands when this returns: it survives the process being
    /// killed, and what a power loss would take back the executor's next account snapshot restates.
    public func save<Memory: Encodable>(
        _ memory: Memory, tradingState: String, killSwitch: Bool, at now: EpochNanos, survivingPowerLoss: Bool = true
    ) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(memory)
        try queue.writeWithoutTransaction { db in
            if !survivingPowerLoss { try db.execute(sql: "PRAGMA synchronous = NORMAL") }
            defer { if !survivingPowerLoss { try? db.execute(sql: "PRAGMA synchronous = FULL") } }
            try db.inTransaction {
                try db.execute(
                    sql: """
                        INSERT INTO risk_state (id, format_version, memory, trading_state, kill_switch, updated_at)
                        VALUES (1, ?, ?, ?, ?, ?)
                        ON CONFLICT(id) DO UPDATE SET format_version = excluded.format_version, memory = excluded.memory,
                            trading_state = excluded.trading_state, kill_switch = excluded.kill_switch,
                            updated_at = excluded.updated_at
                        """,
                    arguments: [Self.formatVersion, json, tradingState, killSwitch, now])
                return .commit
            }
        }
    }

    /// The saved memory; nil when nothing was saved yet (a fresh start). A row that does not
    /// decode, or was written by a newer format, is an error.
    public func load<Memory: Decodable>(_ type: Memory.Type) throws -> Memory? {
        let row = try queue.read { db in
            try Row.fetchOne(db, sql: "SELECT format_version, memory FROM risk_state WHERE id = 1")
        }
        guard let row else { return nil }
        // Read through DatabaseValue: a value of the wrong type is an error here, not a trap.
        guard let version = Int.fromDatabaseValue(row["format_version"] as DatabaseValue) else {
            throw StoreError.corruptRow("no format version")
        }
        guard version <= Self.formatVersion else { throw StoreError.futureVersion(version) }
        guard version >= 1 else { throw StoreError.corruptRow("format version \(version)") }
        guard let json = Data.fromDatabaseValue(row["memory"] as DatabaseValue) else {
            throw StoreError.corruptRow("no memory")
        }
        do {
            return try JSONDecoder().decode(Memory.self, from: json)
        } catch {
            throw StoreError.corruptRow("\(error)")
        }
    }

    /// When the memory was last saved, if ever.
    public func updatedAt() throws -> EpochNanos? {
        try queue.read { try EpochNanos.fetchOne($0, sql: "SELECT updated_at FROM risk_state WHERE id = 1") }
    }
}
