import AsyncHTTPClient
import Foundation
import Logging
import Recall
import Resilience
import Schema
import Synchronization
import Testing

/// Against a real ChromaDB server started from `.venv` (one per test, stopped whatever happens).
/// Latencies are printed, never asserted.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ChromaLiveTests {
    static let symbols = ["BTC", "ETH"]
    static let directions: [Direction] = [.long, .short]

    /// `count` random set-ups over two symbols and both directions; every other one has an outcome.
    static func records(_ count: Int, seed: UInt64) -> [SetupRecord] {
        var random = SeededRandom(seed: seed)
        return (0..<count).map { index in
            let features = randomVector(using: &random)
            let context = SetupContext(
                symbol: symbols[index % 2], strategy: "rsi_mean_reversion", direction: directions[(index / 2) % 2],
                time: 1_700_000_000_000_000_000 + EpochNanos(index) * 60_000_000_000)
            let pnl = Double.random(in: -0.03...0.03, using: &random)
            return SetupRecord(
                id: "setup-\(index)", features: features, context: context,
                outcome: index % 2 == 0 ? SetupOutcome(pnlFraction: pnl, holdingBars: index % 30 + 1) : nil)
        }
    }

    static func percentile(_ sorted: [Duration], _ p: Double) -> Duration {
        sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    static func format(_ duration: Duration) -> String {
        String(format: "%.1f µs", Double(duration.nanosecondsValue) / 1_000)
    }

    @Test func storeSpeaksChromaV2() async throws {
        try await withChromaServer { server, client in
            let configuration = ChromaRecallStore.Configuration(
                baseURL: server.baseURL, database: "breakwater_test", collection: "setups_live")
            let store = ChromaRecallStore(client: client, configuration: configuration, logger: testLogger)

            // Heartbeat.
            let beat = try await store.heartbeat()
            #expect(beat > 1_600_000_000_000_000_000)

            // Collection: the database is created because it is missing; get-or-create is stable.
            let collection = try await store.collection()
            #expect(collection.name == "setups_live")
            let again = try await ChromaRecallStore(client: client, configuration: configuration, logger: testLogger)
                .collection()
            #expect(again.id == collection.id)
            var cosine = configuration
            cosine.space = .cosine
            await #expect {
                try await ChromaRecallStore(client: client, configuration: cosine, logger: testLogger).prepare()
            } throws: { error in
                guard case .incompatibleCollection = error as? RecallError else { return false }
                return true
            }
            // A request Chroma refuses as invalid is a classified error that does not count against Chroma.
            var badDatabase = configuration
            badDatabase.database = "x"
            await #expect {
                try await ChromaRecallStore(client: client, configuration: badDatabase, logger: testLogger).prepare()
            } throws: { error in
                guard case .rejectedRequest(status: 400, _, _) = error as? RecallError else { return false }
                return !RecallError.isDependencyFailure(error)
            }

            // Upsert, twice: idempotent.
            let records = Self.records(400, seed: 11)
            var local = LocalRecall(capacity: 1_000)
            records.forEach { local.remember($0) }
            try await store.upsert(Array(records[..<200]))
            try await store.upsert(Array(records[200...]))
            try await store.upsert(Array(records[100..<300]))
            #expect(try await store.count() == 400)

            // Outcome written back into the metadata of records stored without one.
            let closing = records.filter { $0.outcome == nil }.prefix(50)
            for (offset, record) in closing.enumerated() {
                let outcome = SetupOutcome(pnlFraction: offset % 3 == 0 ? -0.01 : 0.02, holdingBars: offset + 1)
                try await store.recordOutcome(setupId: record.id, outcome: outcome)
                local.recordOutcome(setupId: record.id, outcome: outcome)
            }
            let fetched = try await store.fetch(ids: [closing.first!.id, "no-such-id"])
            #expect(fetched.map(\.id) == [closing.first!.id])
            #expect(fetched.first?.outcome == SetupOutcome(pnlFraction: -0.01, holdingBars: 1))
            #expect(fetched.first?.context == closing.first!.context)  // the update kept the other fields
            let storedFeatures = try #require(fetched.first?.features)
            #expect(zip(storedFeatures, closing.first!.features).allSatisfy { abs($0 - $1) < 1e-6 })  // float32

            // Query with a filter: the same neighbours as an exact scan, each matching the filter.
            var random = SeededRandom(seed: 99)
            for symbol in Self.symbols {
                for direction in Self.directions {
                    let filter = RecallFilter(symbol: symbol, direction: direction, onlyWithOutcome: true)
                    let query = randomVector(using: &random)
                    let found = try await store.nearest(to: query, k: 8, filter: filter)
                    let expected = local.nearest(to: query, k: 8, filter: filter)
                    #expect(found.map(\.id) == expected.map(\.id))
                    #expect(
                        zip(found, expected).allSatisfy { abs($0.distance - $1.distance) < 1e-4 * max(1, $1.distance) })
                    #expect(found.allSatisfy { $0.context?.symbol == symbol && $0.context?.direction == direction })
                    #expect(found.allSatisfy { $0.outcome != nil })
                }
            }
            // A filter nothing passes is an empty answer, not an error.
            #expect(try await store.nearest(to: vector(0), k: 5, filter: RecallFilter(symbol: "DOGE")).isEmpty)

            // Latency of a filtered query against the live server (loopback, 400 records).
            let clock = ContinuousClock()
            var chromaTimes: [Duration] = []
            let filter = RecallFilter(symbol: "BTC", direction: .long, onlyWithOutcome: true)
            for _ in 0..<200 {
                let query = randomVector(using: &random)
                let start = clock.now
                _ = try await store.nearest(to: query, k: 10, filter: filter)
                chromaTimes.append(start.duration(to: clock.now))
            }
            chromaTimes.sort()
            print(
                "latency chroma query (k=10, filtered, 400 records, 200 runs):",
                "p50 \(Self.format(Self.percentile(chromaTimes, 0.5))),",
                "p90 \(Self.format(Self.percentile(chromaTimes, 0.9))),",
                "p99 \(Self.format(Self.percentile(chromaTimes, 0.99))), max \(Self.format(chromaTimes.last!))")

            // Latency of the local fallback over a full window of 5,000.
            var window = LocalRecall(capacity: 5_000)
            Self.records(5_000, seed: 5).forEach { window.remember($0) }
            var localTimes: [Duration] = []
            for _ in 0..<2_000 {
                let query = randomVector(using: &random)
                let start = clock.now
                let found = window.nearest(to: query, k: 10, filter: filter)
                localTimes.append(start.duration(to: clock.now))
                #expect(found.count == 10)
            }
            localTimes.sort()
            print(
                "latency local fallback (k=10, filtered, window 5,000, 2,000 runs):",
                "p50 \(Self.format(Self.percentile(localTimes, 0.5))),",
                "p90 \(Self.format(Self.percentile(localTimes, 0.9))),",
                "p99 \(Self.format(Self.percentile(localTimes, 0.99)))")
        }
    }

    @Test func serviceFallsBackWhenChromaStallsAndRecovers() async throws {
        try await withChromaServer { server, client in
            let store = ChromaRecallStore(
                client: client, configuration: .init(baseURL: server.baseURL), logger: testLogger)
            // A looser deadline than production's 50 ms so a cold first query on a busy machine is not a
            // timeout; a short open state so that the test waits little for recovery.
            var policy = RecallService<ContinuousClock>.defaultPolicy(deadline: .milliseconds(250))
            policy.circuitBreaker.waitInOpenState = .fixed(.milliseconds(300))
            let transitions = Mutex<[String]>([])
            let service = RecallService(
                store: store, settings: .init(policy: policy), clock: ContinuousClock(), logger: testLogger,
                metricsFactory: RecordingMetricsFactory()
            ) { transition in
                transitions.withLock { $0.append("\(transition.from.rawValue)->\(transition.to.rawValue)") }
            }
            await service.warmUp()

            let records = Self.records(300, seed: 3)
            var local = LocalRecall(capacity: 1_000)
            for record in records {
                await service.remember(setupId: record.id, features: record.features, context: record.context)
                if let outcome = record.outcome { await service.recordOutcome(setupId: record.id, outcome: outcome) }
                local.remember(record)
            }
            await service.flushPendingWrites()
            #expect(service.status().pendingWrites == 0)
            #expect(try await store.count() == 300)

            var random = SeededRandom(seed: 8)
            let query = randomVector(using: &random)
            let filter = RecallFilter(symbol: "ETH", direction: .short, onlyWithOutcome: true)
            let healthy = await service.recall(features: query, symbol: "ETH", direction: .short, k: 6)
            #expect(healthy.source == .chroma)
            #expect(healthy.neighbours.map(\.id) == local.nearest(to: query, k: 6, filter: filter).map(\.id))
            print("service recall, chroma healthy: \(Self.format(healthy.latency))")

            // Chroma stalls: the process is frozen, its socket stays open and nothing answers.
            server.freeze()
            let stalled = await service.recall(features: query, symbol: "ETH", direction: .short, k: 6)
            #expect(stalled.source == .local)
            #expect(stalled.fallbackReason == .timeout)
            #expect(stalled.neighbours.map(\.id) == healthy.neighbours.map(\.id))  // the warm window agrees
            print("service recall, chroma stalled (one deadline of 250 ms): \(Self.format(stalled.latency))")
            let open = await service.recall(features: query, symbol: "ETH", direction: .short, k: 6)
            #expect(open.source == .local)
            #expect(open.fallbackReason == .breakerOpen)
            print("service recall, breaker open (local fallback): \(Self.format(open.latency))")

            // Writes made during the stall wait in the queue.
            let late = SetupRecord(
                id: "late", features: query,
                context: SetupContext(
                    symbol: "ETH", strategy: "rsi_mean_reversion", direction: .short, time: 1_800_000_000_000_000_000))
            await service.remember(setupId: late.id, features: late.features, context: late.context)
            await service.recordOutcome(setupId: late.id, outcome: SetupOutcome(pnlFraction: 0.04, holdingBars: 2))
            await service.flushPendingWrites()
            #expect(service.status().pendingWrites >= 1)

            // Chroma is back; after the open state the trial call closes the breaker and the queue drains.
            server.thaw()
            try await Task.sleep(for: .milliseconds(400))  // the breaker's real open state
            let recovered = await service.recall(features: query, symbol: "ETH", direction: .short, k: 6)
            #expect(recovered.source == .chroma)
            #expect(service.dependency.breaker.state == .closed)
            await service.flushPendingWrites()
            #expect(service.status().pendingWrites == 0)
            #expect(
                try await store.fetch(ids: ["late"]).first?.outcome == SetupOutcome(pnlFraction: 0.04, holdingBars: 2))
            let withLate = await service.recall(features: query, symbol: "ETH", direction: .short, k: 6)
            #expect(withLate.source == .chroma && withLate.neighbours.first?.id == "late")
            let pairs = transitions.withLock { $0 }
            #expect(pairs.first == "closed->open" && pairs.last == "half_open->closed")
            await service.shutdown()
        }
    }
}

extension Duration {
    var nanosecondsValue: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
