import Foundation
import GRDB
import Schema
import Storage
import Synchronization
import Testing
import TestSupport

/// A memory of the risk gate's shape: the store keeps any Codable value as JSON.
struct StoredRiskMemory: Codable, Equatable {
    var state: String
    var killSwitch: Bool
    var reason: String
    var peakEquity: Amount
    var dayStartEquity: Amount?
}

@Suite("RiskStateStore")
struct RiskStateStoreTests {
    let halted = StoredRiskMemory(
        state: "halted", killSwitch: true, reason: "drill", peakEquity: "10123.456789", dayStartEquity: "9999.99")

    @Test("a missing file is a fresh start: the store creates it and holds nothing")
    func freshStart() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("nested/risk-state.db")
        #expect(!FileManager.default.fileExists(atPath: path))
        let store = try RiskStateStore(path: path)
        #expect(try store.load(StoredRiskMemory.self) == nil)
        #expect(try store.updatedAt() == nil)
        #expect(FileManager.default.fileExists(atPath: path))
    }

    @Test("a saved memory reads back whole, also from a new store on the same file; the last save wins")
    func roundTrip() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("risk-state.db")
        do {
            let store = try RiskStateStore(path: path)
            let active = StoredRiskMemory(state: "active", killSwitch: false, reason: "", peakEquity: 10_000)
            try store.save(active, tradingState: "active", killSwitch: false, at: 1)
            try store.save(halted, tradingState: "halted", killSwitch: true, at: 2)
        }
        let reopened = try RiskStateStore(path: path)
        #expect(try reopened.load(StoredRiskMemory.self) == halted)
        #expect(try reopened.updatedAt() == 2)
        let row = try #require(
            try reopened.queue.read {
                try Row.fetchOne($0, sql: "SELECT COUNT(*) AS n, trading_state, kill_switch, format_version FROM risk_state")
            })
        #expect(row["n"] as Int == 1)
        #expect(row["trading_state"] as String == "halted")
        #expect(row["kill_switch"] as Bool == true)
        #expect(row["format_version"] as Int == RiskStateStore.formatVersion)
    }

    @Test("WAL mode, synchronous=NORMAL between saves; a save that waits for the disk commits with FULL")
    func pragmas() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try RiskStateStore(path: directory.path("risk-state.db"))
        #expect(try store.queue.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
        #expect(try store.queue.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 1)
        try store.save(halted, tradingState: "halted", killSwitch: true, at: 1, durability: .beforeReturning)
        #expect(try store.queue.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 1)
    }

    @Test("every durability commits the same row; a flush asked for reaches the log's file", arguments: [
        RiskStateStore.Durability.beforeReturning, .shortlyAfter, .processOnly,
    ])
    func durabilities(_ durability: RiskStateStore.Durability) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("risk-state.db")
        let flushed = Mutex<[String]>([])
        let store = try RiskStateStore(path: path) { file in
            flushed.withLock { $0.append(file) }
            return nil
        }
        let active = StoredRiskMemory(state: "active", killSwitch: false, reason: "", peakEquity: 10_000)
        try store.save(active, tradingState: "active", killSwitch: false, at: 1, durability: durability)
        #expect(try RiskStateStore(path: path).load(StoredRiskMemory.self) == active)
        store.waitForFlushes()
        #expect(flushed.withLock { $0 } == (durability == .shortlyAfter ? [path + "-wal"] : []))
    }

    @Test("a failed flush is thrown by the next save, which is not made; the one after saves again")
    func failedFlush() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("risk-state.db")
        let store = try RiskStateStore(path: path) { file in "fdatasync \(file): Input/output error" }
        let active = StoredRiskMemory(state: "active", killSwitch: false, reason: "", peakEquity: 10_000)
        try store.save(active, tradingState: "active", killSwitch: false, at: 1, durability: .shortlyAfter)
        store.waitForFlushes()
        #expect(store.flushFailed)
        #expect(throws: RiskStateStore.StoreError.notOnDisk("fdatasync \(path)-wal: Input/output error")) {
            try store.save(halted, tradingState: "halted", killSwitch: true, at: 2)
        }
        #expect(try store.load(StoredRiskMemory.self) == active)
        #expect(!store.flushFailed)
        try store.save(halted, tradingState: "halted", killSwitch: true, at: 3)
        #expect(try store.load(StoredRiskMemory.self) == halted)
    }

    @Test("the real flush: fdatasync of the log's file; no file is nothing to flush; a file that cannot be synced is an error")
    func realFlush() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try RiskStateStore(path: directory.path("risk-state.db"))
        try store.save(halted, tradingState: "halted", killSwitch: true, at: 1, durability: .processOnly)
        #expect(WriteAheadLogFlusher.fdatasync(directory.path("risk-state.db-wal")) == nil)
        #expect(WriteAheadLogFlusher.fdatasync(directory.path("absent-wal")) == nil)
        #expect(WriteAheadLogFlusher.fdatasync("/proc/self/status") != nil)
    }

    @Test("a row that does not decode is an error, never a default")
    func corruptRow() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try RiskStateStore(path: directory.path("risk-state.db"))
        try store.save(halted, tradingState: "halted", killSwitch: true, at: 1)
        for bad: DatabaseValueConvertible in [Data("{\"state\": \"halted\"".utf8), Data("{}".utf8), 42] {
            try store.queue.write { try $0.execute(sql: "UPDATE risk_state SET memory = ?", arguments: [bad]) }
            #expect {
                _ = try store.load(StoredRiskMemory.self)
            } throws: { error in
                guard case .corruptRow = error as? RiskStateStore.StoreError else { return false }
                return true
            }
        }
        try store.queue.write { try $0.execute(sql: "UPDATE risk_state SET format_version = 'x'") }
        #expect(throws: RiskStateStore.StoreError.corruptRow("no format version")) { try store.load(StoredRiskMemory.self) }
    }

    @Test("a row of a newer format is an error")
    func futureVersion() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try RiskStateStore(path: directory.path("risk-state.db"))
        try store.save(halted, tradingState: "halted", killSwitch: true, at: 1)
        try store.queue.write { try $0.execute(sql: "UPDATE risk_state SET format_version = 2") }
        #expect(throws: RiskStateStore.StoreError.futureVersion(2)) { try store.load(StoredRiskMemory.self) }
    }

    @Test("a file migrated by a newer build, or not a database at all, does not open")
    func unreadableFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let newer = directory.path("newer.db")
        do {
            let store = try RiskStateStore(path: newer)
            try store.queue.write {
                try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v2: from the future')")
            }
        }
        #expect(throws: RiskStateStore.StoreError.futureVersion(RiskStateStore.formatVersion + 1)) {
            try RiskStateStore(path: newer)
        }

        let garbage = directory.path("garbage.db")
        try Data(repeating: 0x5A, count: 8_192).write(to: URL(fileURLWithPath: garbage))
        #expect {
            let store = try RiskStateStore(path: garbage)
            _ = try store.load(StoredRiskMemory.self)
        } throws: { error in
            guard case .unreadableFile = error as? RiskStateStore.StoreError else { return false }
            return true
        }
    }
}
