import Foundation
import Schema
import Storage
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
import TestSupport
#endif

/// ChromaDB, run by `breakwater up` from the repository's `.venv`, during a replay.
enum Chroma {
    static let command = Repository.root.appendingPathComponent(".venv/bin/chroma").path
    static var installed: Bool { FileManager.default.isExecutableFile(atPath: command) }
    static let deadlineMs = 250

    static func overrides(url: String, window: ReplayWindow) -> [String: Any] {
        [
            "feed": [
                "source": "replay", "speedup": 3_000,
                "replay": ["file": Repository.candles.path, "from": window.from, "to": window.to],
            ],
            // Narrow bands: most bars carry a direction, so most signals ask recall.
            "signal": ["tradeNotional": "1000", "rsi": ["oversold": 45, "overbought": 55]],
            "risk": looseRisk,
            // A debug build of six processes on two cores answers slower than production: the
            // deadline and slow-call threshold are sized for it, so only the faults trip the breaker.
            "recall": [
                "deadlineMs": deadlineMs,
                "chroma": ["url": url, "managed": true, "command": command],
                "breaker": ["waitOpenMs": 3_000, "waitOpenMaxMs": 6_000, "slowCallMs": 150],
            ],
        ]
    }
}

/// A signal with what it took: its bar's publish time, by trace.
struct TimedSignal {
    var signal: Signal
    var publishedAt: EpochNanos
    var cycleNanos: EpochNanos
}

extension TraceDatabase {
    func timedSignals() throws -> [TimedSignal] {
        let bars = Dictionary(
            try messages(Bar.self).map { ($0.header.traceId, $0.header.publishTime) }, uniquingKeysWith: { a, _ in a })
        return try messages(Signal.self).compactMap { envelope in
            guard let barAt = bars[envelope.header.traceId] else { return nil }
            return TimedSignal(
                signal: envelope.body, publishedAt: envelope.header.publishTime,
                cycleNanos: envelope.header.publishTime - barAt)
        }
    }
}

func percentile(_ values: [EpochNanos], _ fraction: Double) -> EpochNanos {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
}

/// A stretch of the candle file the feed replays (signal-only tests: the trades go to exchange-sim's own market).
struct ReplayWindow {
    var from: String
    var to: String
}

func wallNanos() -> EpochNanos { EpochNanos(Date().timeIntervalSince1970 * 1e9) }

extension SystemTests {
    @Test(
        "ChromaDB stalled, then killed: one timeout, the fallback answers within the deadline, recovery after",
        .enabled(if: Chroma.installed, "needs ChromaDB in .venv: run `make test`"))
    func recallStalledAndKilled() async throws {
        let chromaURL = "http://127.0.0.1:\(freePorts(1)[0])"
        let window = ReplayWindow(from: "2022-01-12 00:00:00", to: "2022-01-12 23:59:00")
        var stalledAt: EpochNanos = 0, resumedAt: EpochNanos = 0, killedAt: EpochNanos = 0
        var metricsWhileStalled = ""
        let system = try await withSystem(Chroma.overrides(url: chromaURL, window: window)) { system in
            try await system.waitHealthy()
            func signals() throws -> [Signal] { try system.trace().messages(Signal.self).map(\.body) }
            try await system.waitUntil("recall answered by ChromaDB", timeout: .seconds(90)) {
                try signals().filter { $0.recall?.source == .chroma }.count >= 20
            }
            let chroma = try #require(await system.entry("chromadb"))
            let pid = Int32(try #require(chroma["pid"] as? Int))

            suspendProcess(pid)
            stalledAt = wallNanos()
            try await system.waitUntil("the fallback answering with the breaker open", timeout: .seconds(60)) {
                let trace = try system.trace()
                guard
                    let opened = try trace.messages(BreakerTransition.self).first(where: {
                        $0.header.publishTime > stalledAt && $0.body.to == .open
                    })
                else { return false }
                return try trace.timedSignals().filter {
                    $0.publishedAt > opened.header.publishTime && $0.signal.recall?.fallbackReason == "breaker_open"
                }.count >= 200
            }
            metricsWhileStalled = try await system.adminGet("signal-generator", "/metrics")
            kill(pid, SIGCONT)
            resumedAt = wallNanos()
            try await system.waitUntil("ChromaDB answering again", timeout: .seconds(60)) {
                try system.trace().timedSignals().filter {
                    $0.publishedAt > resumedAt && $0.signal.recall?.source == .chroma
                }.count >= 10
            }

            kill(pid, SIGKILL)
            killedAt = wallNanos()
            try await system.waitUntil("ChromaDB restarted by the supervisor and answering", timeout: .seconds(90)) {
                try system.trace().timedSignals().filter {
                    $0.publishedAt > killedAt + 1_000_000_000 && $0.signal.recall?.source == .chroma
                }.count >= 10
            }
            let restarted = try #require(await system.entry("chromadb"))
            #expect(restarted["restarts"] as? Int == 1)
            try await system.waitUntil("the replay to end", timeout: .seconds(120)) {
                try system.trace().messages(FeedStatus.self).contains { $0.body.state == .ended }
            }
            try await Task.sleep(for: .seconds(1))
        }

        let trace = try TraceDatabase(path: system.traceDatabase)
        let timed = try trace.timedSignals()
        // No signal lost: one per bar, stall or not.
        #expect(try trace.count(type: .bar) == 1_440)
        #expect(try trace.count(type: .signal) == 1_440)
        #expect(timed.count == 1_440)

        let transitions = try trace.messages(BreakerTransition.self).map(\.body).filter { $0.dependency == "chroma" }
        let opened = try #require(
            try trace.messages(BreakerTransition.self).first {
                $0.body.to == .open && $0.header.publishTime > stalledAt && $0.header.publishTime < resumedAt
            })
        // It opened within its window: at most one deadline paid before the breaker took over.
        let timeouts = timed.filter {
            $0.publishedAt > stalledAt && $0.publishedAt <= opened.header.publishTime
                && $0.signal.recall?.fallbackReason == "timeout"
        }
        #expect(timeouts.count <= 1, "\(timeouts.count) timeouts before the breaker opened")
        // With the breaker open, a cycle costs at most the deadline + 5 ms, at the 99th percentile.
        let whileOpen = timed.filter { $0.publishedAt > opened.header.publishTime && $0.publishedAt < resumedAt }
            .map(\.cycleNanos)
        #expect(whileOpen.count >= 200)
        let limit = EpochNanos(Chroma.deadlineMs + 5) * 1_000_000
        #expect(percentile(whileOpen, 0.99) < limit, "p99 \(percentile(whileOpen, 0.99) / 1_000) µs")
        // Half-open, then closed, after the stall ended; and the same after the kill.
        let states = transitions.map { "\($0.from.rawValue)->\($0.to.rawValue)" }
        #expect(states.contains("closed->open"))
        #expect(states.contains("open->half_open"))
        #expect(states.contains("half_open->closed"))
        let afterKill = try trace.messages(BreakerTransition.self).filter { $0.header.publishTime > killedAt }
            .map(\.body.to)
        #expect(afterKill.contains(.open) && afterKill.last == .closed, "\(afterKill)")
        // /metrics showed the open breaker while it was stalled.
        #expect(
            metricsWhileStalled.contains(#"resilience_breaker_state{dependency="chroma"} 1"#),
            "\(metricsWhileStalled.split(separator: "\n").filter { $0.contains("breaker_state") })")
    }

    @Test(
        "ChromaDB slow behind a delaying proxy: the slow-call rate opens the breaker",
        .enabled(if: Chroma.installed, "needs ChromaDB in .venv: run `make test`"))
    func recallSlow() async throws {
        let ports = freePorts(2)
        let chromaURL = "http://127.0.0.1:\(ports[0])"
        let delayFile = FileManager.default.temporaryDirectory.appendingPathComponent("delay-\(UUID()).txt")
        try "0".write(to: delayFile, atomically: true, encoding: .utf8)
        let proxy = Process()
        proxy.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        proxy.arguments = [
            "python3", Repository.root.appendingPathComponent("Tests/IntegrationTests/delay_proxy.py").path,
            "\(ports[1])", "127.0.0.1", "\(ports[0])", delayFile.path,
        ]
        proxy.standardOutput = FileHandle.nullDevice
        proxy.standardError = FileHandle.nullDevice
        try proxy.run()
        defer {
            kill(proxy.processIdentifier, SIGKILL)  // it may have inherited an ignored SIGTERM
            try? FileManager.default.removeItem(at: delayFile)
        }
        var overrides = Chroma.overrides(
            url: chromaURL, window: ReplayWindow(from: "2022-01-13 00:00:00", to: "2022-01-13 11:59:00"))
        // The signal generator talks to the proxy; the supervisor runs ChromaDB behind it.
        overrides = RunningSystem.merge(
            overrides,
            ["recall": ["chroma": ["url": "http://127.0.0.1:\(ports[1])", "serve": "127.0.0.1:\(ports[0])"]]])
        var slowedAt: EpochNanos = 0
        let system = try await withSystem(overrides) { system in
            try await system.waitHealthy()
            try await system.waitUntil("recall answered by ChromaDB", timeout: .seconds(90)) {
                try system.trace().messages(Signal.self).filter { $0.body.recall?.source == .chroma }.count >= 20
            }
            // Slower than the 150 ms slow-call threshold, faster than the 250 ms deadline.
            try "180".write(to: delayFile, atomically: true, encoding: .utf8)
            slowedAt = wallNanos()
            try await system.waitUntil("the breaker open", timeout: .seconds(60)) {
                try system.trace().messages(BreakerTransition.self).contains {
                    $0.header.publishTime > slowedAt && $0.body.to == .open
                }
            }
        }
        let trace = try TraceDatabase(path: system.traceDatabase)
        let opened = try #require(
            try trace.messages(BreakerTransition.self).first { $0.header.publishTime > slowedAt && $0.body.to == .open })
        #expect(opened.body.reason.contains("slow_call"), "\(opened.body.reason)")
        #expect((opened.body.slowCallRate ?? 0) >= 60)
        // Slow answers still arrived from ChromaDB before the breaker opened: nothing failed. Only bars
        // published after the delay was on count: a recall call already under way then answers fast.
        let slowAnswers = try trace.timedSignals().filter {
            $0.publishedAt - $0.cycleNanos > slowedAt && $0.publishedAt < opened.header.publishTime
                && $0.signal.recall?.source == .chroma
        }
        #expect(!slowAnswers.isEmpty)
        #expect(slowAnswers.allSatisfy { ($0.signal.recall?.latencyMicros ?? 0) >= 150_000 })
    }
}

extension RunningSystem {
    /// GET on a service's admin port.
    func adminGet(_ service: String, _ path: String) async throws -> String {
        let entry = try #require(await entry(service))
        let base = try #require(entry["admin"] as? String)
        let (data, _) = try await URLSession.shared.data(from: URL(string: base + path)!)
        return String(decoding: data, as: UTF8.self)
    }
}
