import Foundation
import Schema
import ServiceKit
import Testing
import TestSupport

/// Loads `json` from a temp file with an injected environment.
private func load(_ json: String?, environment: [String: String] = [:]) async throws -> Settings {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = try json.map { try directory.write("breakwater.json", $0) }
    return await Settings.load(file: path, environment: environment)
}

@Suite("Settings")
struct SettingsTests {
    @Test("values are read from the file, with their types; absent keys take the default silently")
    func fileValues() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write(
            "breakwater.json",
            """
            {
              "mode": "testnet",
              "logLevel": "debug",
              "risk": {"maxOpenPositions": 5, "drawdownLock": 0.08, "dailyLossLimit": "250.50", "exits": {"enabled": false}},
              "endpoints": {"riskGate": {"bus": "tcp://127.0.0.1:9103", "admin": "127.0.0.1:9203"}}
            }
            """)
        var settings = await Settings.load(file: path, environment: [:])
        #expect(settings.sourceDescription == path)
        #expect(settings.string("mode", default: "paper") == "testnet")
        #expect(settings.oneOf("logLevel", default: "info", allowed: ["debug", "info", "warning"]) == "debug")
        #expect(settings.int("risk.maxOpenPositions", default: 8, in: 1...50) == 5)
        #expect(settings.double("risk.drawdownLock", default: 0.1, in: 0...1) == 0.08)
        #expect(settings.amount("risk.dailyLossLimit", default: 100) == Amount("250.50"))
        #expect(settings.bool("risk.exits.enabled", default: true) == false)
        #expect(settings.endpoint("endpoints.riskGate.bus", default: "tcp://127.0.0.1:7103") == "tcp://127.0.0.1:9103")
        #expect(
            settings.hostPort("endpoints.riskGate.admin", default: HostPort(host: "127.0.0.1", port: 7203))
                == HostPort(host: "127.0.0.1", port: 9203))
        // Absent keys: the default, and no problem.
        #expect(settings.int("risk.ackTimeoutMs", default: 3, in: 1...5) == 3)
        #expect(settings.optionalString("exchange.account") == nil)
        #expect(settings.amount("signal.tradeNotional", default: "0.00045") == Amount("0.00045"))
        #expect(settings.bool("recall.enabled", default: true) == true)
        #expect(settings.problems == [])
    }

    @Test("BREAKWATER_… environment variables override the file; others are ignored")
    func environmentOverrides() async throws {
        var settings = try await load(
            """
            {"mode": "paper", "risk": {"maxOpenPositions": 5, "exits": {"enabled": true}}}
            """,
            environment: [
                "BREAKWATER_RISK_MAX_OPEN_POSITIONS": "7",
                "BREAKWATER_MODE": "testnet",
                "BREAKWATER_RISK_EXITS_ENABLED": "false",
                "BREAKWATER_ENDPOINTS_RISK_GATE_BUS": "tcp://127.0.0.1:9999",
                "BREAKWATER_SIGNAL_TRADE_NOTIONAL": "0.0005",
                // Not prefixed: not ours.
                "RISK_MAX_OPEN_POSITIONS": "9",
                "MODE": "mainnet",
            ])
        #expect(settings.int("risk.maxOpenPositions", default: 8, in: 1...50) == 7)
        #expect(settings.string("mode", default: "paper") == "testnet")
        #expect(settings.bool("risk.exits.enabled", default: true) == false)
        #expect(settings.endpoint("endpoints.riskGate.bus", default: "tcp://127.0.0.1:7103") == "tcp://127.0.0.1:9999")
        #expect(settings.amount("signal.tradeNotional", default: "0.00045") == Amount("0.0005"))
        #expect(settings.problems == [])

        var unprefixed = try await load(#"{"risk": {"maxOpenPositions": 5}}"#, environment: ["RISK_MAX_OPEN_POSITIONS": "9"])
        #expect(unprefixed.int("risk.maxOpenPositions", default: 8, in: 1...50) == 5)
    }

    @Test("without a file, the environment and the defaults are used")
    func environmentOnly() async throws {
        var settings = await Settings.load(file: nil, environment: ["BREAKWATER_RISK_MAX_OPEN_POSITIONS": "4"])
        #expect(settings.sourceDescription == "(defaults and environment)")
        #expect(settings.int("risk.maxOpenPositions", default: 8, in: 1...50) == 4)
        #expect(settings.string("mode", default: "paper") == "paper")
        #expect(settings.problems == [])
    }

    @Test("every problem is collected, each naming its key, and the defaults stand in")
    func everyProblemCollected() async throws {
        var settings = try await load(
            """
            {
              "risk": {"maxOpenPositions": "many", "maxOrdersPerMinute": 500, "dailyLossLimit": "1e5"},
              "mode": "yolo",
              "endpoints": {"executor": {"bus": "tcp:/x", "admin": "localhost"}}
            }
            """)
        let maxOpen = settings.int("risk.maxOpenPositions", default: 8, in: 1...50)
        let leverage = settings.int("risk.maxOrdersPerMinute", default: 3, in: 1...20)
        let loss = settings.amount("risk.dailyLossLimit", default: 100)
        let mode = settings.oneOf("mode", default: "paper", allowed: ["paper", "testnet", "mainnet"])
        let bus = settings.endpoint("endpoints.executor.bus", default: "tcp://127.0.0.1:7104")
        let admin = settings.hostPort("endpoints.executor.admin", default: HostPort(host: "127.0.0.1", port: 7204))
        #expect(maxOpen == 8)
        #expect(leverage == 3)
        #expect(loss == 100)
        #expect(mode == "paper")
        #expect(bus == "tcp://127.0.0.1:7104")
        #expect(admin == HostPort(host: "127.0.0.1", port: 7204))

        let keys = [
            "risk.maxOpenPositions", "risk.maxOrdersPerMinute", "risk.dailyLossLimit", "mode", "endpoints.executor.bus",
            "endpoints.executor.admin",
        ]
        #expect(settings.problems.count == keys.count, "\(settings.problems)")
        for (problem, key) in zip(settings.problems, keys) {
            #expect(problem.hasPrefix("\(key): "), "\(problem)")
        }
        // The offending values are quoted, so an operator can find them.
        let all = settings.problems.joined(separator: "\n")
        #expect(all.contains("500 is outside 1…20"))
        #expect(all.contains(#""1e5" is not a plain decimal"#))
        #expect(all.contains(#""yolo" is not one of paper, testnet, mainnet"#))
        #expect(all.contains(#""tcp:/x" is not tcp://host:port"#))
        #expect(all.contains(#""localhost" is not host:port"#))
    }

    @Test("problems in environment overrides are reported under the config key")
    func environmentProblems() async throws {
        var settings = try await load(
            #"{"risk": {"maxOpenPositions": 5}}"#,
            environment: [
                "BREAKWATER_RISK_MAX_OPEN_POSITIONS": "many",
                "BREAKWATER_RISK_DRAWDOWN_LOCK": "-0.5",
                "BREAKWATER_ENDPOINTS_EXECUTOR_ADMIN": "127.0.0.1:70000",
            ])
        #expect(settings.int("risk.maxOpenPositions", default: 8, in: 1...50) == 8)
        #expect(settings.double("risk.drawdownLock", default: 0.1, in: 0...1) == 0.1)
        #expect(settings.hostPort("endpoints.executor.admin", default: HostPort(host: "h", port: 1)) == HostPort(host: "h", port: 1))
        #expect(settings.problems.count == 3, "\(settings.problems)")
        #expect(settings.problems.first?.hasPrefix("risk.maxOpenPositions: ") == true)
        #expect(settings.problems.dropFirst().first?.hasPrefix("risk.drawdownLock: ") == true)
        #expect(settings.problems.last?.hasPrefix("endpoints.executor.admin: ") == true)
    }

    @Test("a decimal written as a JSON number is a problem: amounts are strings so no float touches them")
    func amountAsNumber() async throws {
        var settings = try await load(#"{"signal": {"tradeNotional": 0.00045}}"#)
        #expect(settings.amount("signal.tradeNotional", default: "0.001") == Amount("0.001"))
        #expect(settings.problems.count == 1)
        #expect(settings.problems.first?.hasPrefix("signal.tradeNotional: ") == true)
    }

    @Test("an amount below its minimum is a problem")
    func amountBelowMinimum() async throws {
        var settings = try await load(#"{"risk": {"dailyLossLimit": "-5"}}"#)
        #expect(settings.amount("risk.dailyLossLimit", default: 100, minimum: .zero) == 100)
        #expect(settings.problems == ["risk.dailyLossLimit: -5 is below 0"])
    }

    @Test(
        "a value of the wrong JSON type is a problem naming the key",
        arguments: [
            (#"{"mode": ["testnet"]}"#, "string"),
            (#"{"mode": 3}"#, "string"),
            (#"{"risk": {"maxOpenPositions": 5.5}}"#, "int"),
            (#"{"risk": {"maxOpenPositions": [5]}}"#, "int"),
            (#"{"risk": {"exits": {"enabled": "yes"}}}"#, "bool"),
        ])
    func wrongJSONType(json: String, kind: String) async throws {
        try await expectOneTypeProblem(json: json, kind: kind)
    }

    @Test(
        "a boolean for an int, a number for a bool, or an object for a string is a problem, not silently converted or ignored",
        arguments: [
            (#"{"risk": {"maxOpenPositions": true}}"#, "int"),
            (#"{"risk": {"exits": {"enabled": 1}}}"#, "bool"),
            (#"{"mode": {"name": "testnet"}}"#, "string"),
        ])
    func silentlyAcceptedJSONType(json: String, kind: String) async throws {
        try await expectOneTypeProblem(json: json, kind: kind)
    }

    func expectOneTypeProblem(json: String, kind: String) async throws {
        var settings = try await load(json)
        let key: String
        switch kind {
        case "int":
            key = "risk.maxOpenPositions"
            #expect(settings.int(key, default: 8, in: 0...50) == 8)
        case "bool":
            key = "risk.exits.enabled"
            #expect(settings.bool(key, default: false) == false)
        default:
            key = "mode"
            #expect(settings.string(key, default: "paper") == "paper")
        }
        #expect(settings.problems.count == 1, "\(json) gave \(settings.problems)")
        #expect(settings.problems.first?.hasPrefix("\(key): ") == true)
    }

    @Test("a missing file is a problem that names it, not a crash; the environment still applies")
    func missingFile() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("absent.json")
        var settings = await Settings.load(file: path, environment: ["BREAKWATER_MODE": "testnet"])
        #expect(settings.problems.count == 1)
        #expect(settings.problems.first?.hasPrefix("config file \(path): ") == true)
        #expect(settings.string("mode", default: "paper") == "testnet")
        #expect(settings.int("risk.maxOpenPositions", default: 8, in: 1...50) == 8)
        #expect(settings.problems.count == 1)
    }

    @Test(
        "a malformed JSON file is a problem that names it, not a crash",
        arguments: [#"{"risk": {"maxOpenPositions": 5"#, "not json at all", "[1, 2, 3]", ""])
    func malformedFile(text: String) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("broken.json", text)
        var settings = await Settings.load(file: path, environment: [:])
        #expect(settings.problems.count == 1, "\(settings.problems)")
        #expect(settings.problems.first?.hasPrefix("config file \(path): ") == true)
        #expect(settings.int("risk.maxOpenPositions", default: 8, in: 1...50) == 8)
    }

    @Test("problem() appends a problem of the caller's own")
    func ownProblem() async throws {
        var settings = try await load("{}")
        settings.problem("live mode needs BREAKWATER_HL_PRIVATE_KEY")
        #expect(settings.problems == ["live mode needs BREAKWATER_HL_PRIVATE_KEY"])
    }
}

extension SettingsTests {
    // Found by FuzzConfig (corpus `finding-empty-file`): with no `BREAKWATER_` variable and a file that does
    // not parse, the reader had no provider at all, and swift-configuration traps on that.
    @Test("a file that does not parse and no BREAKWATER_ variable: the problem, the defaults, no trap")
    func unreadableFileWithoutEnvironment() async throws {
        for text in ["", "not json", "[1, 2]"] {
            var settings = try await load(text, environment: ["PATH": "/usr/bin"])
            #expect(settings.problems.contains { $0.hasPrefix("config file ") }, "\(text): \(settings.problems)")
            #expect(settings.int("risk.maxOpenPositions", default: 8, in: 1...100) == 8)
        }
    }
}

@Suite("Topology")
struct TopologyTests {
    @Test("defaults: bus on 7101…7105, admin on 7201…7205, on loopback, with no problem")
    func defaults() async {
        var settings = await Settings.load(file: nil, environment: [:])
        let topology = Topology.read(&settings)
        #expect(settings.problems == [])
        let expected: [(ServiceName, Int)] = [
            (.feedHandler, 1), (.signalGenerator, 2), (.riskGate, 3), (.executor, 4), (.traceRecorder, 5),
        ]
        for (service, offset) in expected {
            #expect(topology.bus(service) == "tcp://127.0.0.1:\(7100 + offset)")
            #expect(topology.admin(service) == HostPort(host: "127.0.0.1", port: 7200 + offset))
        }
        #expect(topology.entries.count == ServiceName.allCases.count)
    }

    @Test("configured endpoints replace the defaults, from the file and the environment")
    func configured() async throws {
        var settings = try await load(
            #"{"endpoints": {"riskGate": {"bus": "tcp://10.0.0.5:8103", "admin": "0.0.0.0:8203"}}}"#,
            environment: ["BREAKWATER_ENDPOINTS_TRACE_RECORDER_BUS": "tcp://127.0.0.1:8105"])
        let topology = Topology.read(&settings)
        #expect(settings.problems == [])
        #expect(topology.bus(.riskGate) == "tcp://10.0.0.5:8103")
        #expect(topology.admin(.riskGate) == HostPort(host: "0.0.0.0", port: 8203))
        #expect(topology.bus(.traceRecorder) == "tcp://127.0.0.1:8105")
        #expect(topology.bus(.executor) == "tcp://127.0.0.1:7104")
    }

    @Test("two services on one bus endpoint is a problem naming both")
    func duplicateBus() async throws {
        var settings = try await load(#"{"endpoints": {"executor": {"bus": "tcp://127.0.0.1:7101"}}}"#)
        _ = Topology.read(&settings)
        #expect(settings.problems == ["endpoints: executor and feed-handler both use port 7101 (127.0.0.1:7101)"])
    }

    @Test("an admin port on another service's bus port is a problem too")
    func adminOnBusPort() async throws {
        var settings = try await load(#"{"endpoints": {"riskGate": {"admin": "127.0.0.1:7105"}}}"#)
        _ = Topology.read(&settings)
        #expect(settings.problems == ["endpoints: trace-recorder and risk-gate both use port 7105 (127.0.0.1:7105)"])
    }

    @Test(
        "the same port under another spelling of the host is a duplicate too",
        arguments: ["tcp://localhost:7101", "tcp://0.0.0.0:7101", "tcp://*:7101"])
    func duplicatePortOtherHost(bus: String) async throws {
        var settings = try await load(#"{"endpoints": {"executor": {"bus": "\#(bus)"}}}"#)
        _ = Topology.read(&settings)
        #expect(settings.problems.count == 1, "\(settings.problems)")
        let problem = settings.problems.first ?? ""
        #expect(problem.contains("executor") && problem.contains("feed-handler"), "\(problem)")
    }

    @Test("a malformed endpoint is a problem and the default stands in")
    func malformedEndpoint() async throws {
        var settings = try await load(
            #"{"endpoints": {"feedHandler": {"bus": "tcp:/x", "admin": "nowhere"}}}"#)
        let topology = Topology.read(&settings)
        #expect(topology.bus(.feedHandler) == "tcp://127.0.0.1:7101")
        #expect(topology.admin(.feedHandler) == HostPort(host: "127.0.0.1", port: 7201))
        #expect(settings.problems.count == 2, "\(settings.problems)")
        #expect(settings.problems.first?.hasPrefix("endpoints.feedHandler.bus: ") == true)
        #expect(settings.problems.last?.hasPrefix("endpoints.feedHandler.admin: ") == true)
    }

    @Test("service names and config keys")
    func serviceNames() {
        #expect(ServiceName.allCases.map(\.rawValue) == [
            "feed-handler", "signal-generator", "risk-gate", "executor", "trace-recorder",
        ])
        #expect(ServiceName.allCases.map(\.configKey) == [
            "feedHandler", "signalGenerator", "riskGate", "executor", "traceRecorder",
        ])
    }
}

@Suite("HostPort")
struct HostPortTests {
    @Test(
        "valid host:port text parses",
        arguments: [
            ("127.0.0.1:7101", "127.0.0.1", 7101), ("localhost:0", "localhost", 0),
            ("exchange-sim:65535", "exchange-sim", 65535), ("[::1]:8080", "[::1]", 8080),
            ("0.0.0.0:80", "0.0.0.0", 80),
        ])
    func valid(text: String, host: String, port: Int) throws {
        let parsed = try #require(HostPort(text))
        #expect(parsed.host == host)
        #expect(parsed.port == port)
        #expect(parsed.description == text)
    }

    @Test(
        "malformed host:port text is refused",
        arguments: ["", "localhost", "localhost:", ":7101", "host:65536", "host:-1", "host:http", "host:80x", "host: 80"])
    func invalid(text: String) {
        #expect(HostPort(text) == nil)
    }

    @Test("description and base URL")
    func rendering() {
        let address = HostPort(host: "127.0.0.1", port: 7203)
        #expect(address.description == "127.0.0.1:7203")
        #expect(address.baseURL == "http://127.0.0.1:7203")
    }
}
