import Bus
import Foundation
import ServiceKit
import Testing
import TestSupport

/// Where each process's bus keys come from, and when a process refuses to start without them.
@Suite("Bus keys")
struct BusKeysTests {
    func load(_ directory: TemporaryDirectory, _ json: String, environment: [String: String] = [:]) async throws
        -> Settings
    {
        let path = try directory.write("breakwater.json", json)
        return await Settings.load(file: path, environment: environment)
    }

    @Test("`breakwater up` makes one owner-only keypair per principal once; each reads its own and every public key")
    func madeOnceUnderVarDir() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var settings = try await load(directory, #"{"varDir": "\#(directory.path("var"))"}"#)
        let made = try BusKeys.ensureStored(&settings)
        #expect(Set(made) == Set(BusKeys.principals.map(\.name)))
        #expect(made.contains("busspy") && made.contains("breakwater") && made.contains("risk-gate"))
        #expect(try BusKeys.ensureStored(&settings).isEmpty, "keys are made once, then kept")
        for name in made {
            for file in ["\(name).key", "\(name).pub"] {
                let attributes = try FileManager.default.attributesOfItem(atPath: directory.path("var/keys/bus/\(file)"))
                #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(file)")
            }
        }
        guard case .curve(let keyring, let keyPair, let principal) = BusKeys.read(&settings, principal: "executor") else {
            Issue.record("expected CURVE: \(settings.problems)")
            return
        }
        #expect(settings.problems.isEmpty, "\(settings.problems)")
        #expect(principal == "executor")
        #expect(keyring.publicKey(of: "executor") == keyPair.publicKey)
        #expect(keyring.publicKey(of: "busspy") != nil)
        #expect(keyring.publishers == Set(["feed-handler", "signal-generator", "risk-gate", "executor", "trace-recorder"]))
        #expect(!keyring.publishers.contains("busspy"), "busspy only listens")
    }

    @Test("keys given in config (compose) are used, and a key for an unknown principal is refused like any unknown key")
    func fromConfig() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var keys: [String] = []
        var executorPair: CurveKeyPair?
        for name in ["feedHandler", "signalGenerator", "riskGate", "executor", "traceRecorder"] {
            let pair = try CurveKeyPair.generate()
            if name == "executor" { executorPair = pair }
            keys.append(#""\#(name)": {"public": "\#(pair.publicKey)"\#(name == "executor" ? #", "secret": "\#(pair.secretKey)""# : "")}"#)
        }
        var settings = try await load(
            directory, #"{"varDir": "\#(directory.path("var"))", "bus": {"keys": {\#(keys.joined(separator: ","))}}}"#)
        guard case .curve(_, let keyPair, _) = BusKeys.read(&settings, principal: "executor") else {
            Issue.record("expected CURVE: \(settings.problems)")
            return
        }
        #expect(keyPair == executorPair)
        #expect(settings.problems.isEmpty, "\(settings.problems)")

        var stranger = try await load(directory, #"{"bus": {"keys": {"mallory": {"public": "x"}}}}"#)
        _ = BusKeys.read(&stranger, principal: "executor")
        #expect(stranger.problems.contains { $0.contains("bus.keys.mallory.public") && $0.contains("unknown key") }, "\(stranger.problems)")
    }

    @Test("no keys: one problem per missing key, saying how to make them")
    func missingKeys() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var settings = try await load(directory, #"{"varDir": "\#(directory.path("empty"))"}"#)
        _ = BusKeys.read(&settings, principal: "risk-gate")
        #expect(settings.problems.contains { $0.contains("no bus secret key for risk-gate") && $0.contains("breakwater up") })
        #expect(settings.problems.contains { $0.contains("no bus public key for executor") })
    }

    @Test("a secret that is not the public key's is refused without being printed")
    func mismatchedSecret() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var settings = try await load(directory, #"{"varDir": "\#(directory.path("var"))"}"#)
        _ = try BusKeys.ensureStored(&settings)
        let other = try CurveKeyPair.generate()
        var wrong = try await load(
            directory, #"{"varDir": "\#(directory.path("var"))"}"#,
            environment: ["BREAKWATER_BUS_KEYS_EXECUTOR_SECRET": other.secretKey])
        _ = BusKeys.read(&wrong, principal: "executor")
        #expect(wrong.problems.contains { $0.contains("does not match its public key") }, "\(wrong.problems)")
        #expect(!wrong.problems.joined().contains(other.secretKey))
    }

    @Test("plain text is for paper mode: `bus.curve` false in testnet or mainnet refuses to start", arguments: ["testnet", "mainnet"])
    func plainOnlyInPaper(mode: String) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var live = try await load(directory, #"{"mode": "\#(mode)", "bus": {"curve": false}}"#)
        _ = BusKeys.read(&live, principal: "executor")
        #expect(live.problems.contains { $0.contains("bus.curve") && $0.contains("paper mode only") }, "\(live.problems)")

        var paper = try await load(directory, #"{"bus": {"curve": false}}"#)
        let authentication = BusKeys.read(&paper, principal: "executor")
        #expect(paper.problems.isEmpty)
        #expect(authentication.warning?.contains("plain text") == true)
    }
}
