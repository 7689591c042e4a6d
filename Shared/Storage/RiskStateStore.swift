import Foundation
import GRDB
import Schema
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The risk gate's memory on disk (kill switch, HALTED latch, equity baselines, reservations):
/// one row, written before anything that depends on it is published. The memory is stored as
/// the JSON of whatever Codable value the gate gives (its `RiskMemory`), beside a few plain
/// columns for a human with `sqlite3`.
///
/// WAL, `synchronous = NORMAL`: every commit survives the process being killed; how soon it also
/// survives a power loss is each save's `Durability`.
public final class RiskStateStore: Sendable {
    /// When a save is on the disk, not only in the operating system's hands.
    public enum Durability: Sendable, Equatable {
        /// Before `save` returns (a halt, the kill switch): what is published after it may rely on it.
        case beforeReturning
        /// Within moments, by a flush on another thread (equity baselines): nothing published waits
        /// for it, so a mark that raises the peak does not hold up the next decision.
        case shortlyAfter
        /// With the next flush or checkpoint (reservations): after a power loss the executor's
        /// account snapshot, which the restarted gate waits for, restates every live order.
        case processOnly
    }

    /// The row's format. A row written by a newer format is refused, never guessed at.
    public static let formatVersion = 1

    public enum StoreError: Error, Equatable, CustomStringConvertible {
        /// The file is not a database this store can open.
        case unreadableFile(String)
        /// The row does not decode: never defaulted into a plausible memory.
        case corruptRow(String)
        /// Written by a newer Breakwater.
        case futureVersion(Int)
        /// A flush of an earlier save to the disk failed: it may be lost with a power loss.
        case notOnDisk(String)
        public var description: String {
            switch self {
            case .notOnDisk(let why): "risk state not flushed to the disk: \(why)"
            case .unreadableFile(let why): "risk state file cannot be opened: \(why)"
            case .corruptRow(let why): "risk state row does not read back: \(why)"
            case .futureVersion(let version):
                "risk state row has format \(version), newer than \(RiskStateStore.formatVersion) this build reads"
            }
        }
    }

    public let queue: DatabaseQueue
    public let path: String
    private let flusher: WriteAheadLogFlusher

    /// Opens the file, creating it (a fresh start) if it does not exist. `syncFile` makes a file's
    /// data durable (`fdatasync`); tests give one that fails.
    public init(path: String, syncFile: @escaping @Sendable (String) -> String? = WriteAheadLogFlusher.fdatasync) throws {
        self.path = path
        flusher = WriteAheadLogFlusher(path: path + "-wal", sync: syncFile)
        queue = try Self.migrator.openStore(
            path: path, configuration: .wal(synchronous: "NORMAL"), newer: StoreError.futureVersion(Self.formatVersion + 1),
            unreadable: { StoreError.unreadableFile("\($0)") })
    }

    /// Whether a flush failed since the last save reported it: the next save throws it.
    public var flushFailed: Bool { flusher.failed }

    /// Returns once the flushes asked for so far are done.
    public func waitForFlushes() { flusher.waitUntilIdle() }

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

    /// Replaces the saved memory in one transaction, on the disk as `durability` says. A flush of an
    /// earlier save that failed is thrown first (`notOnDisk`), with this save not made.
    public func save<Memory: Encodable>(
        _ memory: Memory, tradingState: String, killSwitch: Bool, at now: EpochNanos,
        durability: Durability = .beforeReturning
    ) throws {
        if let failure = flusher.takeFailure() { throw StoreError.notOnDisk(failure) }
        // The project's encoder: Foundation's took 50–130 µs of a decision's path for 200–500 bytes.
        let json = Data(try BodyEncoder().encode(memory))
        try queue.writeWithoutTransaction { db in
            if durability == .beforeReturning { try db.execute(sql: "PRAGMA synchronous = FULL") }
            defer { if durability == .beforeReturning { try? db.execute(sql: "PRAGMA synchronous = NORMAL") } }
            try db.inTransaction {
                let statement = try db.cachedStatement(
                    sql: """
                        INSERT INTO risk_state (id, format_version, memory, trading_state, kill_switch, updated_at)
                        VALUES (1, ?, ?, ?, ?, ?)
                        ON CONFLICT(id) DO UPDATE SET format_version = excluded.format_version, memory = excluded.memory,
                            trading_state = excluded.trading_state, kill_switch = excluded.kill_switch,
                            updated_at = excluded.updated_at
                        """)
                try statement.execute(arguments: [Self.formatVersion, json, tradingState, killSwitch, now])
                return .commit
            }
        }
        if durability == .shortlyAfter { flusher.request() }
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

/// Makes the write-ahead log durable on its own thread, so that a commit with `synchronous = NORMAL`
/// reaches the disk moments later without its writer waiting: `fdatasync` of the file, which covers
/// what any descriptor wrote to it. Requests made while a flush is queued share it; one made during a
/// flush gets another.
public final class WriteAheadLogFlusher: Sendable {
    let path: String
    let sync: @Sendable (String) -> String?
    private let queue = DispatchQueue(label: "risk-state-flush")
    private let state = Mutex<(queued: Bool, failure: String?)>((false, nil))

    init(path: String, sync: @escaping @Sendable (String) -> String?) {
        self.path = path
        self.sync = sync
    }

    func request() {
        guard state.withLock({ state in
            defer { state.queued = true }
            return !state.queued
        }) else { return }
        queue.async { [self] in
            state.withLock { $0.queued = false }
            guard let failure = sync(path) else { return }
            state.withLock { $0.failure = $0.failure ?? failure }
        }
    }

    var failed: Bool { state.withLock { $0.failure != nil } }

    func waitUntilIdle() { queue.sync {} }

    func takeFailure() -> String? {
        state.withLock { state in
            defer { state.failure = nil }
            return state.failure
        }
    }

    /// `fdatasync(2)` of the file at `path`; nil when done or when there is no file (nothing to flush).
    public static let fdatasync: @Sendable (String) -> String? = { path in
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return errno == ENOENT ? nil : "open \(path): \(String(cString: strerror(errno)))" }
        defer { close(descriptor) }
        #if canImport(Glibc)
        let result = Glibc.fdatasync(descriptor)
        #else
        let result = fsync(descriptor)
        #endif
        return result == 0 ? nil : "fdatasync \(path): \(String(cString: strerror(errno)))"
    }
}
