import Foundation
import GRDB
import Ledger
import Schema
@testable import Storage
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

    @Test("the writer checkpoints only when 128 MB behind; checkpoint() copies the log into the file on a connection of its own")
    func checkpoints() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try TraceDatabase(path: directory.path("trace.sqlite"))
        #expect(try database.pool.write { try Int.fetchOne($0, sql: "PRAGMA wal_autocheckpoint") } == 32_768)
        try database.write(batch((1...50).map { try received(bar(), sequence: UInt64($0), at: 1_000 + Int64($0), trace: "t\($0)") }))
        // A reader in the middle of a read: the passive checkpoint neither waits for it nor fails.
        try database.pool.read { db in
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM envelope") == 50)
            try database.checkpoint()
        }
        try database.checkpoint()
        let (logged, copied) = try database.pool.writeWithoutTransaction { db in
            let row = try #require(try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)"))
            return (row[1] as Int, row[2] as Int)
        }
        #expect(logged == copied)
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

    @Test("a cycle's steps merged within a batch give the rows they give one envelope a batch, however the batches are cut")
    func cycleStepsMergedPerBatch() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        /// A body that does not decode as its type says: the step's time is kept, its fact is NULL.
        func mislabelled(_ type: MessageType, at: EpochNanos, trace: String) throws -> RawEnvelope {
            let header = EnvelopeHeader(
                type: type.rawValue, source: "feed-handler", instance: "instance-1", sequence: 1, publishTime: at,
                traceId: trace, symbol: "SOL")
            let body = Heartbeat(service: "feed-handler", health: .ok, uptimeMs: 1, breakers: [], facts: [:])
            return try RawEnvelope(topic: "md.bar.SOL", bytes: EnvelopeCodec.encode(Envelope(header: header, body: body)))
        }
        let reject = OrderReject(clientOrderId: "cl-1", symbol: "BTC", reason: Reason(.venueRejected))
        let ack = OrderAck(clientOrderId: "cl-1", venueOrderId: "v-1", symbol: "BTC", action: .place)
        let envelopes = [
            try received(bar(), at: 1, trace: "a"),
            try received(signal(decision: .rejected), source: "signal-generator", at: 2, trace: "a"),
            try received(command("cl-2", symbol: "ETH"), source: "risk-gate", at: 3, trace: "b"),
            try mislabelled(.bar, at: 4, trace: "a"),
            try received(ack, source: "executor", at: 5, trace: "a"),
            try received(
                Heartbeat(service: "executor", health: .ok, uptimeMs: 1, breakers: [], facts: [:]), at: 6, trace: "a"),
            try received(fill("f-1", order: "cl-1", size: "0.2"), source: "executor", at: 7, trace: "a"),
            try received(ack, source: "executor", at: 8, trace: "a"),
            try received(bar("ETH"), at: 9, trace: "b"),
            try received(reject, source: "executor", at: 10, trace: "a"),
            try mislabelled(.signal, at: 11, trace: "c"),
            try received(fill("f-2", order: "cl-1", size: "0.3"), source: "executor", at: 12, trace: "a"),
            try received(reject, source: "executor", at: 13, trace: "a"),
            try received(decision("i-2", clientOrderId: "cl-2"), source: "risk-gate", at: 14, trace: "b"),
            try received(bar("XRP"), at: 15, trace: "c"),
        ]
        func cycles(_ cuts: [Int]) throws -> [Row] {
            let database = try TraceDatabase(path: directory.path("cut-\(cuts).sqlite"))
            var from = 0
            for cut in cuts + [envelopes.count] {
                try database.write(batch(Array(envelopes[from..<cut])))
                from = cut
            }
            return try database.pool.read { try Row.fetchAll($0, sql: "SELECT * FROM cycle ORDER BY trace") }
        }
        let oneByOne = try cycles(Array(1..<envelopes.count))
        #expect(try cycles([]) == oneByOne)
        #expect(try cycles([4]) == oneByOne)
        #expect(try cycles([2, 9, 12]) == oneByOne)

        #expect(oneByOne.map { $0["trace"] as String } == ["a", "b", "c"])
        let a = oneByOne[0]
        #expect(a["symbol"] as String? == "BTC")  // the first step's, not the mislabelled bar's
        #expect(a["bar_at"] as Int64? == 4)
        #expect(a["bar_time"] as Int64? == nil)  // the last bar did not decode
        #expect(a["signal_decision"] as String? == "rejected")
        #expect(a["ack_at"] as Int64? == 5)
        #expect(a["fill_at"] as Int64? == 7)
        #expect(a["fills"] as Int64 == 2)
        #expect(a["reject_at"] as Int64? == 13)
        let b = oneByOne[1]
        #expect(b["symbol"] as String? == "ETH")
        #expect(b["order_at"] as Int64? == 3)
        #expect(b["client_order_id"] as String? == "cl-2")
        #expect(b["bar_time"] as Int64? == barOpenTime)
        #expect(b["decision_outcome"] as String? == "approved")
        let c = oneByOne[2]
        #expect(c["symbol"] as String? == "SOL")
        #expect(c["signal_at"] as Int64? == 11)
        #expect(c["signal_decision"] as String? == nil)
        #expect(c["bar_at"] as Int64? == 15)
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

    @Test("prune(before:) deletes envelopes, cycles, gaps and restarts from before the cutoff, and nothing after")
    func prune() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try TraceDatabase(path: directory.path("trace.sqlite"))
        var written = batch(
            try (1...5).map { index in
                try received(bar(), sequence: UInt64(index), at: Int64(index) * 1_000, trace: "t\(index)")
            })
        written.gaps.append((SequenceGap(source: "feed-handler", instance: "i", after: 1, received: 3), 1_500))
        written.restarts.append((PublisherRestart(source: "executor", previousInstance: "a", instance: "b", lastSequence: 9, firstSequence: 1), 4_500))
        try database.write(written)

        let first = try database.prune(before: 3_000)  // 1_000 and 2_000; 3_000 is not before 3_000
        #expect(first == TraceDatabase.Pruned(envelopes: 2, cycles: 2, gaps: 1, restarts: 0))
        let left = try database.messages(Bar.self).map(\.header.publishTime)
        #expect(left == [3_000, 4_000, 5_000])
        #expect(try database.prune(before: 3_000).total == 0)
        #expect(try database.prune(before: 0).total == 0)
        #expect(try database.cycleCount() == 3)
        #expect(try database.prune(before: .max) == TraceDatabase.Pruned(envelopes: 3, cycles: 3, gaps: 0, restarts: 1))
        #expect(try database.count(type: .bar) == 0 && database.cycleCount() == 0)
    }

    @Test("prune with an archive: the pruned rows are in the archive file, readable as a trace; a second prune adds to it")
    func pruneIntoArchive() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try TraceDatabase(path: directory.path("trace.sqlite"))
        try database.write(
            batch(try (1...4).map { try received(bar(), sequence: UInt64($0), at: Int64($0) * 1_000, trace: "t\($0)") }))
        let archivePath = directory.path("archive/trace-1970-01-01.db")
        try FileManager.default.createDirectory(atPath: directory.path("archive"), withIntermediateDirectories: true)
        #expect(try database.prune(before: 2_500, archive: archivePath).envelopes == 2)
        #expect(try database.prune(before: 3_500, archive: archivePath).envelopes == 1)
        let archive = try TraceDatabase(path: archivePath)
        #expect(try archive.messages(Bar.self).map(\.header.publishTime) == [1_000, 2_000, 3_000])
        #expect(try archive.cycleCount() == 3)
        #expect(try database.messages(Bar.self).map(\.header.publishTime) == [4_000])
        #expect(TraceDatabase.day(of: 86_400_000_000_000 * 365) == "1971-01-01")
    }

    @Test("the pipeline's counts come from the indexed columns: signals, entry decisions and entry orders by the report's rules")
    func pipelineInputs() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try TraceDatabase(path: directory.path("trace.sqlite"))
        func signal(_ strategy: String, _ approved: Bool, _ reason: ReasonCode, _ detail: String) -> Signal {
            Signal(
                signalId: UUID().uuidString, symbol: "BTC", strategy: strategy, direction: .long, confidence: 0.5,
                referencePrice: 100, barTime: 0, indicators: [:], decision: approved ? .approved : .rejected,
                reasons: [Reason(reason, detail)])
        }
        var exit = intent("x1")
        exit.purpose = .exit
        var rejected = decision("i2", clientOrderId: "c2", outcome: .rejected)
        rejected.reasons = [Reason(.maxOpenPositions, "9 of 8")]
        var exitCommand = command("cx")
        exitCommand.purpose = .exit
        var at: EpochNanos = 1_000
        func next() -> EpochNanos {
            at += 1
            return at
        }
        let messages: [RawEnvelope] = [
            try received(signal("rsi", true, .approved, "ok"), at: next(), trace: "a"),
            try received(signal("rsi", false, ReasonCode(rawValue: "rsi_neutral"), "rsi 50 inside 30…70"), at: next(), trace: "b"),
            try received(signal("rsi", false, ReasonCode(rawValue: "rsi_neutral"), "rsi 51"), at: next(), trace: "c"),
            try received(signal("sma", true, .approved, "cross"), at: next(), trace: "d"),
            try received(intent("i1"), at: next(), trace: "a"), try received(intent("i2"), at: next(), trace: "d"),
            try received(exit, at: next(), trace: "e"),
            try received(decision("i1", clientOrderId: "c1"), at: next(), trace: "a"),
            try received(rejected, at: next(), trace: "d"),
            try received(decision("x1", clientOrderId: "cx"), at: next(), trace: "e"),
            try received(command("c1"), at: next(), trace: "a"), try received(exitCommand, at: next(), trace: "e"),
            try received(fill("f1", order: "c1", size: "0.5"), at: next(), trace: "a"),
            try received(OrderReject(clientOrderId: "cx", symbol: "BTC", reason: Reason("insufficient_margin", "no")), at: next(), trace: "e"),
        ]
        try database.write(batch(messages))
        let inputs = try database.pipelineInputs(startingCapital: 10_000)
        let signals = inputs.signals.sorted { ($0.group, $0.reason) < ($1.group, $1.reason) }
        #expect(
            signals == [
                PipelineReport.Tally(group: "rsi", passed: true, reason: "approved", count: 1, sample: ""),
                PipelineReport.Tally(group: "rsi", passed: false, reason: "rsi_neutral", count: 2, sample: "rsi 50 inside 30…70"),
                PipelineReport.Tally(group: "sma", passed: true, reason: "approved", count: 1, sample: ""),
            ])
        // The exit's decision is not an entry's.
        #expect(
            Set(inputs.entryDecisions.map { "\($0.passed) \($0.reason) \($0.count) \($0.sample)" })
                == ["true within_limits 1 ", "false max_open_positions 1 9 of 8"])
        #expect(inputs.entryOrders.mapValues { "\($0.sent)/\($0.filled)" } == ["rsi": "1/1"])
        #expect(inputs.rejects.count == 1 && inputs.cycles == 5)
        let report = PipelineReport(inputs)
        #expect(report.funnel == PipelineReport.Funnel(signals: 4, approved: 2, riskApproved: 1, sent: 1, filled: 1, closed: 0, winners: 0))
        // A window after everything: nothing.
        #expect(try database.pipelineInputs(since: 10_000, startingCapital: 10_000).signals.isEmpty)
    }

    @Test("a v1 trace file is migrated (the report's columns filled from its JSON); a newer or unversioned one is refused with its version")
    func schemaVersions() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // A v1 file as the first recorder wrote it.
        let old = directory.path("v1.sqlite")
        do {
            let pool = try DatabasePool(path: old)
            try TraceDatabase.migrator.migrate(pool, upTo: "v1")
            let envelope = try received(signal(decision: .rejected), source: "signal-generator", at: 5, trace: "t")
            try pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO envelope (publish_time, received_time, source, instance, sequence, type, topic, trace, json)
                        VALUES (5, 6, 'signal-generator', 'i', 1, ?, ?, 't', ?)
                        """, arguments: [envelope.header.type, envelope.topic, Data(envelope.bytes)])
            }
        }
        let migrated = try TraceDatabase(path: old)
        let tallies = try migrated.pipelineInputs(startingCapital: 1).signals
        #expect(tallies == [PipelineReport.Tally(group: "rsi", passed: false, reason: "approved", count: 1, sample: "rsi 24.5 < 30")])

        let newer = directory.path("newer.sqlite")
        do {
            var migrator = TraceDatabase.migrator
            migrator.registerMigration("v9") { db in try db.execute(sql: "CREATE TABLE later (x)") }
            try migrator.migrate(try DatabasePool(path: newer))
        }
        #expect {
            try TraceDatabase(path: newer)
        } throws: { error in
            "\(error)".contains("schema v9 is newer than this build knows (v1, v2)")
        }

        let unversioned = directory.path("unversioned.sqlite")
        try DatabasePool(path: unversioned).write { db in try db.execute(sql: "CREATE TABLE envelope (id INTEGER)") }
        #expect {
            try TraceDatabase(path: unversioned)
        } throws: { error in
            "\(error)".contains("no schema version")
        }
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
                "cycle.cycle_order", "gap.gap_time", "restart.restart_time", "envelope.envelope_signal_tally",
            ])
        func columns(_ index: String) throws -> [String] {
            try database.pool.read { db in
                try Row.fetchAll(db, sql: "PRAGMA index_info(\(index))").map { $0["name"] as String }
            }
        }
        #expect(try columns("envelope_time") == ["publish_time"])
        #expect(try columns("envelope_source") == ["source", "instance", "sequence"])
        #expect(
            try columns("envelope_type") == ["type", "publish_time", "strategy", "outcome", "reason", "purpose", "ref"])
        #expect(try columns("envelope_topic") == ["topic"])
        #expect(try columns("envelope_symbol") == ["symbol", "publish_time"])
        #expect(try columns("envelope_trace") == ["trace"])
        #expect(try columns("cycle_bar") == ["bar_at", "signal_at", "decision_at", "order_at", "ack_at", "fill_at"])
        #expect(try columns("envelope_signal_tally") == ["strategy", "outcome", "reason", "publish_time"])
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
