import Foundation
import GRDB
import Schema
import Storage
import Testing
import TestSupport

@Suite("TraceDatabase")
struct TraceDatabaseTests {
    @Test("the database runs in WAL mode with synchronous=NORMAL")
    func walMode() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try TraceDatabase(path: directory.path("trace.sqlite"))
        let mode = try database.pool.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        // 1 = NORMAL, on the writer and on a reader connection.
        #expect(try database.pool.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 1)
        #expect(try database.pool.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 1)
        try database.write(batch([try received(bar(), at: 1_000, trace: "t")]))
        #expect(FileManager.default.fileExists(atPath: directory.path("trace.sqlite-wal")))
    }

    @Test("a batch is written with every header column, and counted by type and source")
    func batchWriteAndCounts() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try TraceDatabase(path: directory.path("trace.sqlite"))
        var envelopes: [RawEnvelope] = []
        for sequence in UInt64(1)...5 {
            envelopes.append(
                try received(bar(), sequence: sequence, at: 1_000 + Int64(sequence), trace: "feed-\(sequence)"))
        }
        for sequence in UInt64(1)...3 {
            envelopes.append(
                try received(
                    bar("ETH"), source: "replay", sequence: sequence, at: 2_000 + Int64(sequence),
                    trace: "replay-\(sequence)"))
        }
        let trade = Trade(symbol: "BTC", price: "105055.5", size: "0.001", side: .sell, tradeId: "x", exchangeTime: 9)
        envelopes.append(try received(trade, sequence: 6, at: 3_000, trace: "trade"))
        let heartbeat = Heartbeat(service: "risk-gate", health: .ok, uptimeMs: 5, breakers: [], facts: [:])
        envelopes.append(
            try received(
                heartbeat, source: "risk-gate", instance: "rg", sequence: 1 << 40, at: 4_000, trace: "hb"))
        try database.write(batch(envelopes, receivedAt: 99))

        #expect(try database.count(type: .bar) == 8)
        #expect(try database.count(type: .bar, source: "feed-handler") == 5)
        #expect(try database.count(type: .bar, source: "replay") == 3)
        #expect(try database.count(type: .bar, source: "risk-gate") == 0)
        #expect(try database.count(type: .trade) == 1)
        #expect(try database.count(type: .heartbeat, source: "risk-gate") == 1)
        #expect(try database.count(type: .fill) == 0)

        let row = try #require(
            try database.pool.read { try Row.fetchOne($0, sql: "SELECT * FROM envelope WHERE trace = 'trade'") })
        #expect(row["publish_time"] as Int64 == 3_000)
        #expect(row["received_time"] as Int64 == 99)
        #expect(row["source"] as String == "feed-handler")
        #expect(row["instance"] as String == "instance-1")
        #expect(row["sequence"] as Int64 == 6)
        #expect(row["type"] as String == "md.trade")
        #expect(row["topic"] as String == "md.trade.BTC")
        #expect(row["symbol"] as String? == "BTC")
        #expect([UInt8](row["json"] as Data) == envelopes[8].bytes)
        // A message without a symbol stores NULL; a large sequence is kept exactly.
        let heartbeatRow = try #require(
            try database.pool.read { try Row.fetchOne($0, sql: "SELECT * FROM envelope WHERE trace = 'hb'") })
        #expect(heartbeatRow["symbol"] as String? == nil)
        #expect(heartbeatRow["sequence"] as Int64 == 1 << 40)
    }

    @Test("messages(_:) returns decoded bodies in publish order, optionally of one source, across reopening")
    func messagesInOrder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("trace.sqlite")
        var expected: [(time: EpochNanos, source: String, bar: Bar)] = []
        do {
            let database = try TraceDatabase(path: path)
            // Written out of publish order, over two batches.
            let times: [EpochNanos] = [5_000, 1_000, 4_000, 2_000, 3_000, 6_000]
            var first: [RawEnvelope] = []
            var second: [RawEnvelope] = []
            for (index, time) in times.enumerated() {
                let source = index % 2 == 0 ? "feed-handler" : "replay"
                let body = bar(close: Amount(index * 10 + 1), openTime: time)
                let envelope = try received(
                    body, source: source, sequence: UInt64(index + 1), at: time, trace: "t\(index)")
                if index < 3 { first.append(envelope) } else { second.append(envelope) }
                expected.append((time, source, body))
            }
            // Not bars: must not be returned.
            first.append(try received(signal(), at: 1_500, trace: "sig"))
            try database.write(batch(first))
            try database.write(batch(second))
        }
        expected.sort { $0.time < $1.time }

        let reopened = try TraceDatabase(path: path)
        let all = try reopened.messages(Bar.self)
        #expect(all.map(\.body) == expected.map(\.bar))
        #expect(all.map(\.header.publishTime) == expected.map(\.time))
        #expect(all.allSatisfy { $0.header.type == "md.bar" && $0.header.symbol == "BTC" })
        let replay = try reopened.messages(Bar.self, source: "replay")
        #expect(replay.map(\.body) == expected.filter { $0.source == "replay" }.map(\.bar))
        #expect(replay.allSatisfy { $0.header.source == "replay" })
        #expect(try reopened.messages(Signal.self).map(\.body) == [signal()])
        #expect(try reopened.messages(Fill.self).isEmpty)
    }

    @Test("cycle rows link bar → signal → intent → decision → order → ack → fill of one trace")
    func cycleRows() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try TraceDatabase(path: directory.path("trace.sqlite"))
        let trace = "trace-filled"
        try database.write(
            batch([
                try received(bar(), at: 1_000, trace: trace),
                try received(signal(), source: "signal-generator", at: 2_000, trace: trace),
                try received(intent("intent-1"), source: "signal-generator", at: 3_000, trace: trace),
                try received(decision("intent-1", clientOrderId: "cl-1"), source: "risk-gate", at: 4_000, trace: trace),
                try received(command("cl-1"), source: "risk-gate", at: 5_000, trace: trace),
                try received(
                    OrderAck(clientOrderId: "cl-1", venueOrderId: "v-1", symbol: "BTC", action: .place),
                    source: "executor", at: 6_000, trace: trace),
                try received(fill("f-1", order: "cl-1", size: "0.2"), source: "executor", at: 7_000, trace: trace),
                // Not a cycle step: no row for its trace.
                try received(
                    Heartbeat(service: "executor", health: .ok, uptimeMs: 1, breakers: [], facts: [:]),
                    source: "executor", at: 7_500, trace: "trace-heartbeat"),
            ]))
        // A later batch: a second fill and a repeated ack.
        try database.write(
            batch([
                try received(fill("f-2", order: "cl-1", size: "0.3"), source: "executor", at: 8_000, trace: trace),
                try received(
                    OrderAck(clientOrderId: "cl-1", venueOrderId: "v-1", symbol: "BTC", action: .place),
                    source: "executor", at: 9_000, trace: trace),
            ]))
        // A rejected cycle.
        let rejected = "trace-rejected"
        try database.write(
            batch([
                try received(bar("ETH"), at: 11_000, trace: rejected),
                try received(command("cl-2", symbol: "ETH"), source: "risk-gate", at: 12_000, trace: rejected),
                try received(
                    OrderReject(clientOrderId: "cl-2", symbol: "ETH", reason: Reason(.venueRejected)),
                    source: "executor", at: 13_000, trace: rejected),
            ]))

        let rows = try database.pool.read { try Row.fetchAll($0, sql: "SELECT * FROM cycle ORDER BY trace") }
        #expect(rows.map { $0["trace"] as String } == [trace, rejected])

        let row = try #require(rows.first)
        #expect(row["symbol"] as String? == "BTC")
        #expect(row["bar_time"] as Int64? == barOpenTime)
        #expect(row["bar_at"] as Int64? == 1_000)
        #expect(row["signal_at"] as Int64? == 2_000)
        #expect(row["signal_decision"] as String? == "approved")
        #expect(row["intent_at"] as Int64? == 3_000)
        #expect(row["intent_id"] as String? == "intent-1")
        #expect(row["decision_at"] as Int64? == 4_000)
        #expect(row["decision_outcome"] as String? == "approved")
        #expect(row["order_at"] as Int64? == 5_000)
        #expect(row["client_order_id"] as String? == "cl-1")
        #expect(row["ack_at"] as Int64? == 6_000)  // the first ack, not the repeat
        #expect(row["reject_at"] as Int64? == nil)
        #expect(row["fill_at"] as Int64? == 7_000)  // the first fill
        #expect(row["fills"] as Int64 == 2)
        // Every column of the table is set for a filled cycle, except reject_at.
        let unset = Array(row.columnNames).filter { (row[$0] as DatabaseValue).isNull }
        #expect(unset == ["reject_at"])

        let rejectedRow = try #require(rows.last)
        #expect(rejectedRow["symbol"] as String? == "ETH")
        #expect(rejectedRow["bar_at"] as Int64? == 11_000)
        #expect(rejectedRow["order_at"] as Int64? == 12_000)
        #expect(rejectedRow["client_order_id"] as String? == "cl-2")
        #expect(rejectedRow["reject_at"] as Int64? == 13_000)
        #expect(rejectedRow["ack_at"] as Int64? == nil)
        #expect(rejectedRow["fill_at"] as Int64? == nil)
        #expect(rejectedRow["fills"] as Int64 == 0)
    }

    @Test("gaps and restarts are written as rows of their own")
    func gapAndRestartRows() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try TraceDatabase(path: directory.path("trace.sqlite"))
        var written = TraceBatch()
        written.gaps.append((SequenceGap(source: "feed-handler", instance: "i-1", after: 10, received: 14), 500))
        written.gaps.append((SequenceGap(source: "risk-gate", instance: "i-2", after: 1, received: 3), 600))
        written.restarts.append(
            (
                PublisherRestart(
                    source: "executor", previousInstance: "old", instance: "new", lastSequence: 77, firstSequence: 1),
                700
            ))
        #expect(written.count == 3)
        #expect(!written.isEmpty)
        try database.write(written)

        let gaps = try database.pool.read { try Row.fetchAll($0, sql: "SELECT * FROM gap ORDER BY id") }
        #expect(gaps.count == 2)
        let gap = try #require(gaps.first)
        #expect(gap["detected_at"] as Int64 == 500)
        #expect(gap["source"] as String == "feed-handler")
        #expect(gap["instance"] as String == "i-1")
        #expect(gap["after_sequence"] as Int64 == 10)
        #expect(gap["received_sequence"] as Int64 == 14)
        #expect(gap["missing"] as Int64 == 3)
        #expect(gaps.last?["missing"] as Int64? == 1)

        let restarts = try database.pool.read { try Row.fetchAll($0, sql: "SELECT * FROM restart") }
        #expect(restarts.count == 1)
        let restart = try #require(restarts.first)
        #expect(restart["detected_at"] as Int64 == 700)
        #expect(restart["source"] as String == "executor")
        #expect(restart["previous_instance"] as String == "old")
        #expect(restart["instance"] as String == "new")
        #expect(restart["first_sequence"] as Int64 == 1)
        #expect(try database.count(type: .bar) == 0)
    }

    @Test("prune(before:) deletes only envelopes published before the cutoff")
    func prune() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try TraceDatabase(path: directory.path("trace.sqlite"))
        var written = batch(
            try (1...5).map { index in
                try received(bar(), sequence: UInt64(index), at: Int64(index) * 1_000, trace: "t\(index)")
            })
        written.gaps.append((SequenceGap(source: "feed-handler", instance: "i", after: 1, received: 3), 1))
        try database.write(written)

        #expect(try database.prune(before: 3_000) == 2)  // 1_000 and 2_000; 3_000 is not before 3_000
        let left = try database.messages(Bar.self).map(\.header.publishTime)
        #expect(left == [3_000, 4_000, 5_000])
        #expect(try database.prune(before: 3_000) == 0)
        #expect(try database.prune(before: 0) == 0)
        // Cycles and gaps stay.
        #expect(try database.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM cycle") } == 5)
        #expect(try database.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM gap") } == 1)
        #expect(try database.prune(before: .max) == 3)
        #expect(try database.count(type: .bar) == 0)
    }

    @Test("the indexes of the migration exist, on the columns the design names")
    func indexes() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try TraceDatabase(path: directory.path("trace.sqlite"))
        let indexes = try database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'"
            ).map { "\($0["tbl_name"] as String).\($0["name"] as String)" }
        }
        #expect(
            Set(indexes) == [
                "envelope.envelope_time", "envelope.envelope_source", "envelope.envelope_type",
                "envelope.envelope_topic", "envelope.envelope_symbol", "envelope.envelope_trace", "cycle.cycle_bar",
                "cycle.cycle_order",
            ])
        func columns(_ index: String) throws -> [String] {
            try database.pool.read { db in
                try Row.fetchAll(db, sql: "PRAGMA index_info(\(index))").map { $0["name"] as String }
            }
        }
        #expect(try columns("envelope_time") == ["publish_time"])
        #expect(try columns("envelope_source") == ["source", "instance", "sequence"])
        #expect(try columns("envelope_type") == ["type", "publish_time"])
        #expect(try columns("envelope_topic") == ["topic"])
        #expect(try columns("envelope_symbol") == ["symbol", "publish_time"])
        #expect(try columns("envelope_trace") == ["trace"])
        #expect(try columns("cycle_bar") == ["bar_at"])
        #expect(try columns("cycle_order") == ["client_order_id"])
        // And the planner uses them.
        let plan = try database.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT * FROM envelope WHERE trace = 'x'")
                .map { $0["detail"] as String }.joined(separator: "; ")
        }
        #expect(plan.contains("envelope_trace"), "\(plan)")
    }

    @Test("latest(_:symbol:atOrBefore:limit:) returns the last bodies of one type and symbol up to a time, in order")
    func latestAtOrBefore() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try TraceDatabase(path: directory.path("trace.sqlite"))
        func book(_ symbol: String, _ bid: Amount) -> BookUpdate {
            BookUpdate(
                symbol: symbol, bids: [BookLevel(price: bid, size: 1)], asks: [BookLevel(price: bid + 1, size: 1)],
                exchangeTime: 0)
        }
        var envelopes: [RawEnvelope] = []
        for (index, price) in [100, 101, 102, 103].enumerated() {
            let time = EpochNanos(1_000 * (index + 1))
            envelopes.append(try received(book("BTC", Amount(price)), sequence: UInt64(2 * index + 1), at: time, trace: "b"))
            envelopes.append(try received(book("ETH", Amount(price * 10)), sequence: UInt64(2 * index + 2), at: time, trace: "e"))
        }
        // Another type on the same symbol and time is not a book.
        envelopes.append(try received(bar("BTC"), sequence: 9, at: 3_500, trace: "bar"))
        try database.write(batch(envelopes))

        let two = try database.latest(BookUpdate.self, symbol: "BTC", atOrBefore: 3_500, limit: 2)
        #expect(two.map { $0.body.bids[0].price } == [101, 102])
        #expect(two.allSatisfy { $0.body.symbol == "BTC" })
        #expect(try database.latest(BookUpdate.self, symbol: "ETH", atOrBefore: 4_000).map { $0.body.bids[0].price } == [1030])
        #expect(try database.latest(BookUpdate.self, symbol: "BTC", atOrBefore: 999).isEmpty)
        #expect(try database.latest(BookUpdate.self, symbol: "SOL", atOrBefore: 9_999).isEmpty)
        #expect(try database.latest(BookUpdate.self, symbol: "BTC", atOrBefore: 9_999, limit: 0).isEmpty)
        #expect(try database.latest(Bar.self, symbol: "BTC", atOrBefore: 9_999).count == 1)
    }
}
