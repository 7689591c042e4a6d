import Foundation
import Hummingbird
import Logging
import Schema
import ServiceKit
import Testing
import TestSupport

// MARK: - JSONLogHandler

@Suite("JSONLogHandler")
struct JSONLogHandlerTests {
    /// 2023-11-14T22:13:20.5Z: exact in binary, so the fraction cannot be a rounding artefact.
    let now: EpochNanos = 1_700_000_000_500_000_000

    func logger(_ sink: LineSink, level: Logger.Level = .info, now: EpochNanos? = nil) -> Logger {
        let clock = WallClock { [now = now ?? self.now] in now }
        return Logger(label: "risk-gate") { label in
            JSONLogHandler(label: label, level: level, clock: clock, write: sink.write)
        }
    }

    func object(_ line: String) throws -> [String: Any] {
        let parsed = try JSONSerialization.jsonObject(with: Data(line.utf8))
        guard let object = parsed as? [String: Any] else { throw TestFailure("not a JSON object: \(line)") }
        return object
    }

    @Test("one JSON object per line with ts, level, msg, logger and the metadata")
    func oneObjectPerLine() throws {
        let sink = LineSink()
        var logger = logger(sink)
        logger[metadataKey: "instance"] = "0123abcd"
        logger.info(
            "order sent",
            metadata: [
                "cloid": "0xabc", "size": .stringConvertible(Amount("0.5")), "tags": ["a", "b"],
                "venue": ["name": "paper", "region": "local"],
            ])
        logger.warning("second\nline with \"quotes\"")

        let lines = sink.all
        #expect(lines.count == 2)
        for line in lines {
            #expect(line.hasSuffix("\n"))
            #expect(line.filter { $0 == "\n" }.count == 1, "\(line)")
        }
        let first = try object(lines[0])
        #expect(first["level"] as? String == "info")
        #expect(first["msg"] as? String == "order sent")
        #expect(first["logger"] as? String == "risk-gate")
        #expect(first["instance"] as? String == "0123abcd")
        #expect(first["cloid"] as? String == "0xabc")
        #expect(first["size"] as? String == "0.5")
        #expect(first["tags"] as? [String] == ["a", "b"])
        #expect(first["venue"] as? [String: String] == ["name": "paper", "region": "local"])
        #expect(first["source"] == nil)  // only for errors
        #expect(first["ts"] as? String != nil)
        #expect(Set(first.keys) == ["ts", "level", "msg", "logger", "instance", "cloid", "size", "tags", "venue"])

        let second = try object(lines[1])
        #expect(second["level"] as? String == "warning")
        #expect(second["msg"] as? String == "second\nline with \"quotes\"")
        #expect(second["instance"] as? String == "0123abcd")
    }

    @Test("the timestamp comes from the injected clock")
    func timestampFromClock() throws {
        let sink = LineSink()
        logger(sink).info("tick")
        let line = try #require(sink.all.first)
        let ts = try #require(try object(line)["ts"] as? String)
        #expect(ts.hasPrefix("2023-11-14T22:13:20.500"), "\(ts)")
    }

    @Test(
        "the timestamp shows the clock's milliseconds",
        arguments: [
            (1_700_000_000_123_000_000, "2023-11-14T22:13:20.123"), (1_700_000_000_000_000_000, "2023-11-14T22:13:20.000"),
        ])
    func timestampMilliseconds(nanos: Int64, expected: String) throws {
        try expectTimestamp(nanos: nanos, expected: expected)
    }

    @Test(
        "the timestamp keeps the clock's milliseconds exactly, truncated, never rounded into the next second",
        arguments: [
            (1_700_000_000_001_000_000, "2023-11-14T22:13:20.001"), (1_700_000_000_250_000_000, "2023-11-14T22:13:20.250"),
            (1_700_000_000_999_999_999, "2023-11-14T22:13:20.999"),
        ])
    func timestampMillisecondsExact(nanos: Int64, expected: String) throws {
        try expectTimestamp(nanos: nanos, expected: expected)
    }

    func expectTimestamp(nanos: Int64, expected: String) throws {
        let sink = LineSink()
        logger(sink, now: nanos).info("tick")
        let line = try #require(sink.all.first)
        let ts = try #require(try object(line)["ts"] as? String)
        #expect(ts.hasPrefix(expected), "\(ts)")
    }

    @Test(
        "the timestamp says it is UTC, so it cannot be read as local time")
    func timestampIsUTC() throws {
        let sink = LineSink()
        logger(sink).info("tick")
        let line = try #require(sink.all.first)
        let ts = try #require(try object(line)["ts"] as? String)
        #expect(ts == "2023-11-14T22:13:20.500Z")
    }

    @Test("messages below the level are not written")
    func levelFilter() {
        let sink = LineSink()
        let logger = logger(sink, level: .notice)
        logger.debug("no")
        logger.info("no")
        logger.notice("yes")
        logger.critical("yes")
        #expect(sink.all.count == 2)
    }

    @Test("errors carry their source location")
    func errorSource() throws {
        let sink = LineSink()
        logger(sink).error("ledger write failed")
        let fields = try object(#require(sink.all.first))
        let source = try #require(fields["loc"] as? String)
        #expect(source.contains("RuntimePartsTests.swift:"), "\(source)")
        #expect(fields["level"] as? String == "error")
    }

    @Test("event metadata overrides handler metadata; metadata cannot overwrite the fixed fields")
    func metadataPrecedence() throws {
        let sink = LineSink()
        var logger = logger(sink)
        logger[metadataKey: "symbol"] = "BTC"
        logger.info("x", metadata: ["symbol": "ETH", "msg": "forged", "level": "critical", "logger": "other"])
        let fields = try object(#require(sink.all.first))
        #expect(fields["symbol"] as? String == "ETH")
        #expect(fields["msg"] as? String == "x")
        #expect(fields["level"] as? String == "info")
        #expect(fields["logger"] as? String == "risk-gate")
    }

    @Test(
        "an error's source location does not replace a metadata field called source")
    func errorKeepsSourceMetadata() throws {
        let sink = LineSink()
        logger(sink).error("gap", metadata: ["source": "feed-handler"])
        let fields = try object(#require(sink.all.first))
        #expect(fields["source"] as? String == "feed-handler")
    }
}

// MARK: - ServiceStatus

@Suite("ServiceStatus")
struct ServiceStatusTests {
    let startedAt: EpochNanos = 1_700_000_000_000_000_000

    @Test("health moves starting → ok → degraded (with reasons) → ok → stopping")
    func healthTransitions() {
        let status = ServiceStatus(service: "risk-gate", instance: "inst-1", startedAt: startedAt)
        #expect(status.health == .starting)
        #expect(!status.isReady)

        status.setReady()
        #expect(status.health == .ok)
        #expect(status.isReady)
        #expect(status.degradedReasons == [:])

        status.setDegraded("feed", "BTC stale for 12 s")
        #expect(status.health == .degraded)
        #expect(status.isReady)  // degraded still serves
        #expect(status.degradedReasons == ["feed": "BTC stale for 12 s"])

        status.setDegraded("recall", "breaker open")
        status.setDegraded("feed", nil)
        #expect(status.health == .degraded)
        #expect(status.degradedReasons == ["recall": "breaker open"])

        status.setDegraded("recall", nil)
        #expect(status.health == .ok)
        #expect(status.degradedReasons == [:])

        status.setReady(false)
        #expect(status.health == .starting)
        status.setReady()

        status.setStopping()
        #expect(status.health == .stopping)
        #expect(!status.isReady)
        status.setDegraded("feed", "late")
        #expect(status.health == .stopping)  // stopping wins
    }

    @Test("the heartbeat carries service, health, uptime, breakers sorted by dependency, and facts")
    func heartbeat() {
        let status = ServiceStatus(service: "executor", instance: "inst-1", startedAt: startedAt)
        status.setReady()
        status.setFact("mode", "paper")
        status.setFact("state", "active")
        status.setBreaker("recall", .open)
        status.setBreaker("exchange-rest", .closed)
        status.setBreaker("exchange-ws", .halfOpen)
        status.setDegraded("recall", "breaker open")

        let beat = status.heartbeat(now: startedAt + 2_500_999_999)
        #expect(
            beat
                == Heartbeat(
                    service: "executor", health: .degraded, uptimeMs: 2_500,
                    breakers: [
                        BreakerStatus(dependency: "exchange-rest", state: .closed),
                        BreakerStatus(dependency: "exchange-ws", state: .halfOpen),
                        BreakerStatus(dependency: "recall", state: .open),
                    ],
                    // What is degraded travels too, so a peer can tell a recall fallback from a lost upstream.
                    facts: ["mode": "paper", "state": "active", "degraded": "recall"]))
        #expect(beat.topic == "svc.hb.executor")

        status.setBreaker("recall", .closed)
        status.setFact("state", "reducing")
        let later = status.heartbeat(now: startedAt + 10_000_000_000)
        #expect(later.uptimeMs == 10_000)
        #expect(later.breakers.last == BreakerStatus(dependency: "recall", state: .closed))
        #expect(later.facts["state"] == "reducing")
    }

    @Test("the status document is JSON with identity, health, uptime, reasons, facts, breakers and details")
    func statusDocument() throws {
        let status = ServiceStatus(service: "risk-gate", instance: "inst-7", startedAt: startedAt)
        status.setReady()
        status.setDegraded("feed", "stale")
        status.setFact("state", "active")
        status.setBreaker("recall", .forcedOpen)
        let calls = LineSink()
        status.addDetail("bus") {
            calls.write("asked")
            return ["sent": 12, "gaps": 0]
        }
        #expect(calls.all.isEmpty)  // computed when asked, not when added

        let document = status.statusDocument(now: startedAt + 3_000_000_000)
        #expect(calls.all.count == 1)
        let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
        let parsed = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(parsed["service"] as? String == "risk-gate")
        #expect(parsed["instance"] as? String == "inst-7")
        #expect(parsed["health"] as? String == "degraded")
        #expect(parsed["uptimeMs"] as? Int == 3_000)
        #expect(parsed["degraded"] as? [String: String] == ["feed": "stale"])
        #expect(parsed["facts"] as? [String: String] == ["state": "active"])
        #expect(parsed["breakers"] as? [String: String] == ["recall": "forced_open"])
        #expect(parsed["bus"] as? [String: Int] == ["sent": 12, "gaps": 0])

        _ = status.statusDocument(now: startedAt)
        #expect(calls.all.count == 2)
    }
}

// MARK: - AdminServer

@Suite("OperatorToken.matches")
struct AdminAuthorizationTests {
    func request(authorization: String?) -> Request {
        var fields = HTTPFields()
        if let authorization { fields[.authorization] = authorization }
        return Request(
            head: HTTPRequest(
                method: .post, scheme: "http", authority: "127.0.0.1:7203", path: "/admin/kill", headerFields: fields),
            body: RequestBody(buffer: ByteBuffer()))
    }

    @Test("no Authorization header is refused")
    func missingHeader() {
        #expect(!OperatorToken.matches(request(authorization: nil), token: "s3cret-token"))
    }

    @Test(
        "a wrong token is refused",
        arguments: [
            "Bearer wrong-token!", "Bearer s3cret-toke", "Bearer s3cret-tokenX", "Bearer ", "Bearer  s3cret-token",
            "s3cret-token", "Basic s3cret-token", "Token s3cret-token", "",
        ])
    func wrongToken(header: String) {
        #expect(!OperatorToken.matches(request(authorization: header), token: "s3cret-token"))
    }

    @Test("the right bearer token is accepted")
    func rightToken() {
        #expect(OperatorToken.matches(request(authorization: "Bearer s3cret-token"), token: "s3cret-token"))
    }

    @Test("with no expected token set, every request is refused, even an empty bearer")
    func unsetTokenRefuses() {
        #expect(!OperatorToken.matches(request(authorization: "Bearer s3cret-token"), token: nil))
        #expect(!OperatorToken.matches(request(authorization: "Bearer "), token: nil))
        #expect(!OperatorToken.matches(request(authorization: "Bearer "), token: ""))
        #expect(!OperatorToken.matches(request(authorization: nil), token: ""))
    }
}

@Suite("Operator token kept by `up`")
struct StoredOperatorTokenTests {
    @Test("made once, owner-only, and read back the same; a short or missing file is no token")
    func madeOnceAndKept() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let varDir = directory.url.path
        #expect(OperatorToken.stored(varDir: varDir) == nil)
        let (token, created) = try OperatorToken.ensureStored(varDir: varDir)
        #expect(created && token.count == 64)
        let again = try OperatorToken.ensureStored(varDir: varDir)
        #expect(!again.created && again.token == token)
        let mode = try FileManager.default.attributesOfItem(atPath: OperatorToken.file(varDir: varDir))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try Data("short\n".utf8).write(to: URL(fileURLWithPath: OperatorToken.file(varDir: varDir)))
        #expect(OperatorToken.stored(varDir: varDir) == nil)
    }
}
