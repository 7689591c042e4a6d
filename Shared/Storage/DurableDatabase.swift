import GRDB

extension Configuration {
    /// WAL, and every commit on disk before it returns: for what guards money (the ledger's fills,
    /// the risk gate's halt), which must survive power loss once published.
    static var durable: Configuration {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        return configuration
    }
}
