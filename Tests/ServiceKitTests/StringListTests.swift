import Foundation
import ServiceKit
import Testing
import TestSupport

@Suite("Settings.stringList")
struct StringListTests {
    private func load(_ json: String?, environment: [String: String] = [:]) async throws -> Settings {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try json.map { try directory.write("breakwater.json", $0) }
        return await Settings.load(file: path, environment: environment)
    }

    @Test("a JSON array of strings is read from the file")
    func fromFile() async throws {
        var settings = try await load(#"{"symbols": ["BTC", "ETH", "SOL"]}"#)
        #expect(settings.stringList("symbols", default: ["BTC"]) == ["BTC", "ETH", "SOL"])
        #expect(settings.problems == [])
    }

    @Test("absent: the default, and no problem")
    func absent() async throws {
        var settings = try await load("{}")
        #expect(settings.stringList("symbols", default: ["BTC"]) == ["BTC"])
        #expect(settings.problems == [])
    }

    @Test("a comma-separated environment override replaces the file's list")
    func fromEnvironment() async throws {
        var settings = try await load(
            #"{"symbols": ["BTC"]}"#, environment: ["BREAKWATER_SYMBOLS": "BTC, ETH,SOL"])
        #expect(settings.stringList("symbols", default: []) == ["BTC", "ETH", "SOL"])
        #expect(settings.problems == [])
    }

    @Test(
        "a value that is not an array of strings is a problem naming it, and the default stands",
        arguments: [
            #"{"symbols": "BTC,ETH"}"#, #"{"symbols": [1, 2]}"#, #"{"symbols": ["BTC", 2]}"#,
            #"{"symbols": {"BTC": true}}"#, #"{"symbols": true}"#,
        ])
    func wrongType(json: String) async throws {
        var settings = try await load(json)
        #expect(settings.stringList("symbols", default: ["BTC"]) == ["BTC"])
        #expect(settings.problems.count == 1, "\(json) gave \(settings.problems)")
        // A mixed array fails the file's own parse ("… at symbols.1"); an object is refused by the catalog.
        #expect(
            settings.problems.first.map { $0.hasPrefix("symbols: expected an array") || $0.contains("at symbols.1") } == true,
            "\(settings.problems)")
    }
}
