import Foundation
import GRDB

extension Configuration {
    /// WAL, and every commit on disk before it returns: for what guards money (the ledger's fills,
    /// the risk gate's halt), which must survive power loss once published.
    /// WAL; every commit waits for the disk.
    static var durable: Configuration { wal(synchronous: "FULL") }

    static func wal(synchronous: String) -> Configuration {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
        }
        return configuration
    }
}

extension DatabaseMigrator {
    /// The store at `path`, its folder made when missing, migrated to this build's schema. A file a
    /// later build wrote is refused with `newer`, untouched; any other failure becomes `unreadable`.
    func openStore(
        path: String, configuration: Configuration, newer: any Error, unreadable: (any Error) -> any Error
    ) throws -> DatabaseQueue {
        let queue: DatabaseQueue
        let superseded: Bool
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            queue = try DatabaseQueue(path: path, configuration: configuration)
            superseded = try queue.read { try hasBeenSuperseded($0) }
            if !superseded { try migrate(queue) }
        } catch {
            throw unreadable(error)
        }
        if superseded { throw newer }
        return queue
    }
}
