import Foundation
import Risk
import Schema
@testable import ServiceKit
import Testing
import TestSupport

private func load(_ json: String?, environment: [String: String] = [:], catalog: ConfigCatalog? = .breakwater)
    async throws -> Settings
{
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = try json.map { try directory.write("breakwater.json", $0) }
    return await Settings.load(file: path, environment: environment, catalog: catalog)
}

@Suite("ConfigCatalog")
struct ConfigCatalogTests {
    @Test("a misspelt key in the file is a problem at load, with the nearest valid name")
    func unknownFileKey() async throws {
        let settings = try await load(#"{"risk": {"maxOpenPositons": 5, "maxOrderNotional": "100"}}"#)
        #expect(settings.problems == ["risk.maxOpenPositons: unknown key; did you mean risk.maxOpenPositions?"])
    }

    @Test("the suggestion ignores case and looks at the whole dotted key; a far-off key gets none")
    func suggestions() async throws {
        let settings = try await load(
            #"{"riks": {"MaxOpenPositions": 5}, "Mode": "paper", "completelyUnrelated": {"thing": 1}}"#)
        #expect(
            settings.problems == [
                "Mode: unknown key; did you mean mode?",
                "completelyUnrelated.thing: unknown key",
                "riks.MaxOpenPositions: unknown key; did you mean risk.maxOpenPositions?",
            ])
    }

    @Test("every unknown key is listed at once, beside the other problems")
    func everyProblemListed() async throws {
        var settings = try await load(#"{"feed": {"bookLevel": 5, "speedUp": 2}, "risk": {"maxOpenPositions": 0}}"#)
        _ = settings.int("risk.maxOpenPositions", default: 8, in: 1...50)
        #expect(settings.problems.count == 3, "\(settings.problems)")
        #expect(settings.problems[0] == "feed.bookLevel: unknown key; did you mean feed.bookLevels?")
        #expect(settings.problems[1] == "feed.speedUp: unknown key; did you mean feed.speedup?")
        #expect(settings.problems[2].hasPrefix("risk.maxOpenPositions: 0 is outside"))
    }

    @Test("a misspelt BREAKWATER_ variable is a problem with the nearest variable and its key")
    func unknownVariable() async throws {
        let settings = try await load(nil, environment: ["BREAKWATER_RISK_MAX_OPEN_POSITONS": "3", "PATH": "/bin"])
        #expect(
            settings.problems == [
                "BREAKWATER_RISK_MAX_OPEN_POSITONS: unknown setting; did you mean BREAKWATER_RISK_MAX_OPEN_POSITIONS (risk.maxOpenPositions)?"
            ])
    }

    @Test("variables of config keys, pattern keys included, are accepted")
    func knownVariables() async throws {
        let settings = try await load(
            nil,
            environment: [
                "BREAKWATER_RISK_MAX_OPEN_POSITIONS": "3", "BREAKWATER_ENDPOINTS_SIGNAL_GENERATOR_ADMIN": "127.0.0.1:9000",
                "BREAKWATER_EXCHANGE_PRIVATE_KEY": "0xabc", "BREAKWATER_SYMBOLS": "BTC,ETH",
            ])
        #expect(settings.problems == [])
    }

    @Test(
        "BREAKWATER_ variables that are not config keys stay allowed",
        arguments: ["BREAKWATER_DATA_DIR", "BREAKWATER_BIN_DIR", "BREAKWATER_SUPERVISOR_PID"])
    func otherVariables(name: String) async throws {
        let settings = try await load(nil, environment: [name: "x"])
        #expect(settings.problems == [])
        #expect(ConfigCatalog.breakwater.otherVariables[name]?.isEmpty == false)
    }

    @Test("a former variable name is refused with the one that replaced it, and its value is never printed")
    func formerVariable() async throws {
        let settings = try await load(nil, environment: ["BREAKWATER_HL_PRIVATE_KEY": "0xsecretvalue"])
        #expect(
            settings.problems == [
                "BREAKWATER_HL_PRIVATE_KEY: unknown setting; did you mean BREAKWATER_EXCHANGE_PRIVATE_KEY (exchange.privateKey)?"
            ])
        #expect(!settings.problems.joined().contains("secretvalue"))
    }

    @Test("a replaced key (feed.symbol) is refused with what replaced it, in the file and the environment")
    func formerKeys() async throws {
        let file = try await load(#"{"feed": {"symbol": "BTC", "szDecimals": 5}}"#)
        #expect(
            file.problems == [
                "feed.symbol: no longer a setting: replaced by `symbols`, the list every service trades",
                "feed.szDecimals: no longer a setting: instrument rules come from the exchange's `meta`",
            ])
        let environment = try await load(nil, environment: ["BREAKWATER_FEED_SYMBOL": "ETH"])
        #expect(
            environment.problems == [
                "BREAKWATER_FEED_SYMBOL (feed.symbol): no longer a setting: replaced by `symbols`, the list every service trades"
            ])
    }

    @Test("a pattern key: endpoints.executor.admin is accepted, endpoints.exekutor.admin refused")
    func patternKeys() async throws {
        var good = try await load(#"{"endpoints": {"executor": {"admin": "127.0.0.1:9204"}}}"#)
        #expect(good.problems == [])
        #expect(good.hostPort("endpoints.executor.admin", default: HostPort(host: "h", port: 1)).port == 9204)
        #expect(good.problems == [])

        let bad = try await load(#"{"endpoints": {"exekutor": {"admin": "127.0.0.1:9204"}}}"#)
        #expect(bad.problems == ["endpoints.exekutor.admin: unknown key; did you mean endpoints.executor.admin?"])
        let badVariable = try await load(nil, environment: ["BREAKWATER_ENDPOINTS_EXEKUTOR_ADMIN": "127.0.0.1:1"])
        #expect(badVariable.problems.count == 1)
        #expect(badVariable.problems.first?.hasPrefix("BREAKWATER_ENDPOINTS_EXEKUTOR_ADMIN: unknown setting") == true)
    }

    @Test("a * segment matches any one segment, in the file and in the environment")
    func wildcard() async throws {
        let catalog = ConfigCatalog(entries: ["strategies.*.period", "mode"], otherVariables: [:])
        var settings = try await load(
            #"{"strategies": {"BTC": {"period": 14}, "ETH": {"perod": 9}}}"#,
            environment: ["BREAKWATER_STRATEGIES_SOL_PERIOD": "20", "BREAKWATER_STRATEGIES_PERIOD": "1"], catalog: catalog)
        #expect(
            settings.problems == [
                "strategies.ETH.perod: unknown key; did you mean strategies.ETH.period?",
                "BREAKWATER_STRATEGIES_PERIOD: unknown setting",
            ])
        #expect(settings.int("strategies.BTC.period", default: 2, in: 2...100) == 14)
        #expect(settings.int("strategies.SOL.period", default: 2, in: 2...100) == 20)
        #expect(settings.problems.count == 2)
    }

    @Test(
        "objects and arrays only where the catalog says",
        arguments: [
            (#"{"symbols": ["BTC", "ETH"], "risk": {"exits": {"trailing": {"activation": 0.02}}}}"#, nil),
            (#"{"risk": 5}"#, "risk: expected an object (a section), found an integer"),
            (#"{"risk": {"exits": ["hardStop"]}}"#, "risk.exits: expected an object (a section), found an array"),
            (#"{"risk": {"maxOpenPositions": {"value": 5}}}"#, "risk.maxOpenPositions: expected a single value, found an object"),
            (#"{"mode": ["paper"]}"#, "mode: expected a single value, found an array"),
            (#"{"symbols": {"BTC": true}}"#, "symbols: expected an array, found an object"),
        ] as [(String, String?)])
    func shapes(json: String, problem: String?) async throws {
        let settings = try await load(json)
        #expect(settings.problems == (problem.map { [$0] } ?? []))
    }

    @Test("a shape refused at load is not reported again by the accessor, which returns the default")
    func refusedOnce() async throws {
        var settings = try await load(#"{"mode": ["testnet"], "symbols": {"BTC": true}}"#)
        #expect(settings.string("mode", default: "paper") == "paper")
        #expect(settings.stringList("symbols", default: ["BTC"]) == ["BTC"])
        #expect(settings.problems.count == 2, "\(settings.problems)")
    }

    @Test("reading a key the catalog lacks is an internal problem, once, so a missing entry cannot go unnoticed")
    func uncataloguedRead() async throws {
        var settings = try await load("{}")
        #expect(settings.int("risk.notInTheCatalog", default: 3, in: 0...5) == 3)
        _ = settings.int("risk.notInTheCatalog", default: 3, in: 0...5)
        _ = settings.string("mode", default: "paper")
        #expect(settings.problems == ["internal: risk.notInTheCatalog is read but not in ConfigCatalog"])
    }

    @Test("without a catalog nothing is checked (settings built by hand)")
    func noCatalog() async throws {
        var settings = try await load(#"{"anything": {"goes": 1}}"#, environment: ["BREAKWATER_WHATEVER": "1"], catalog: nil)
        #expect(settings.int("anything.goes", default: 0, in: 0...5) == 1)
        #expect(settings.problems == [])
    }

    @Test("every key the services read from the shipped compose config is in the catalog")
    func composeConfig() async throws {
        let settings = await Settings.load(file: Repository.root.appendingPathComponent("compose/breakwater.json").path, environment: [:])
        #expect(settings.problems == [])
    }

    @Test("edit distance")
    func distance() {
        #expect(ConfigCatalog.breakwater.suggestion(forKey: "risk.maxOpenPositons") == "risk.maxOpenPositions")
        #expect(ConfigCatalog.breakwater.suggestion(forKey: "zzz") == nil)
        #expect(ConfigCatalog.breakwater.configKey(forVariable: "BREAKWATER_ENDPOINTS_RISK_GATE_BUS") == "endpoints.riskGate.bus")
        #expect(ConfigCatalog.breakwater.configKey(forVariable: "BREAKWATER_ENDPOINTS_RISK_GATES_BUS") == nil)
    }

    @Test("a suggestion is within a quarter of the key's length; on a tie the first in sorted order; * takes the key's segment")
    func suggestionBounds() {
        func catalog(_ keys: [ConfigCatalog.Entry]) -> ConfigCatalog { ConfigCatalog(entries: keys, otherVariables: [:]) }
        #expect(catalog(["risk.maxC", "risk.maxA", "risk.max"]).suggestion(forKey: "risk.maxB") == "risk.max")
        #expect(catalog(["risk.maxC", "risk.maxA"]).suggestion(forKey: "RISK.MAXB") == "risk.maxA")
        #expect(catalog(["risk.maxB", "risk.maxA"]).suggestion(forKey: "risk.maxB") == "risk.maxB")
        // 12 characters: at most 3 edits.
        #expect(catalog(["abcdefghixyz"]).suggestion(forKey: "abcdefghijkl") == "abcdefghixyz")
        #expect(catalog(["abcdefghwxyz"]).suggestion(forKey: "abcdefghijkl") == nil)
        #expect(catalog(["abcdefghijklmnop"]).suggestion(forKey: "abcdefghijkl") == nil)
        #expect(catalog(["ab"]).suggestion(forKey: "") == "ab")
        #expect(catalog(["strategies.*.period"]).suggestion(forKey: "strategies.ETH.perod") == "strategies.ETH.period")
    }

    /// The edit distance from the whole table.
    static func wholeDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        var previous = Array(0...b.count)
        for i in a.indices {
            var current = [i + 1]
            for j in b.indices {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (a[i] == b[j] ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }

    @Test("the edit distance computed in the band agrees with the whole table's, for every limit")
    func bandedDistance() {
        let whole = Self.wholeDistance
        var random = SplitMix64(seed: 20261207)
        // Few letters, so that the strings share many and the distances spread.
        let letters: [Unicode.Scalar] = ["a", "b", "c", "."]
        for _ in 0..<3_000 {
            let a = (0..<Int.random(in: 0...14, using: &random)).map { _ in letters.randomElement(using: &random)! }
            let b = (0..<Int.random(in: 0...14, using: &random)).map { _ in letters.randomElement(using: &random)! }
            let distance = whole(a, b)
            for limit in 0...15 {
                let banded = ConfigCatalog.editDistance(a, b, atMost: limit)
                #expect(banded == (distance <= limit ? distance : nil), "\(a) \(b) limit \(limit)")
            }
        }
    }

    @Test("the letter counts never rule out a key within the distance, and rule out most far ones")
    func leastDistanceIsABound() {
        var random = SplitMix64(seed: 20261208)
        // `a` and `!`, `b` and `"` share a class (the same low five bits); `B` folds to `b`.
        let letters: [Character] = ["a", "!", "b", "\"", "B", "é", "."]
        var ruledOut = 0
        for _ in 0..<3_000 {
            let a = String((0..<Int.random(in: 0...14, using: &random)).map { _ in letters.randomElement(using: &random)! })
            let b = String((0..<Int.random(in: 0...14, using: &random)).map { _ in letters.randomElement(using: &random)! })
            let (first, second) = (ConfigCatalog.Spelling(a), ConfigCatalog.Spelling(b))
            let distance = Self.wholeDistance(first.scalars, second.scalars)
            let least = first.leastDistance(to: second)
            #expect(least <= distance, "\(a) \(b): \(least) over \(distance)")
            if least > 2 { ruledOut += 1 }
        }
        #expect(ruledOut > 1_000)
    }
}

@Suite("margin.* keys")
struct MarginKeysTests {
    @Test("leverage and margin mode per symbol over the defaults; a mode that is not cross or isolated is a problem")
    func perSymbolModes() async throws {
        var settings = try await load(
            #"{"margin": {"defaultLeverage": 10, "mode": "cross", "leverage": {"ETH": 3}, "modes": {"ETH": "isolated"}, "minLiquidationDistanceAtr": 2}}"#
        )
        let rules = MarginRules.read(&settings, symbols: ["BTC", "ETH"])
        #expect(settings.problems.isEmpty, "\(settings.problems)")
        #expect(rules.mode("BTC") == .cross && rules.mode("ETH") == .isolated)
        #expect(rules.leverage("BTC", maxLeverage: 40) == 10 && rules.leverage("ETH", maxLeverage: 40) == 3)
        #expect(rules.minLiquidationDistanceAtr == 2)

        var bad = try await load(#"{"margin": {"modes": {"BTC": "portfolio"}}}"#)
        _ = MarginRules.read(&bad, symbols: ["BTC"])
        #expect(bad.problems.count == 1 && bad.problems[0].hasPrefix("margin.modes.BTC"), "\(bad.problems)")
    }
}
