import Configuration
import Foundation
import Schema
import SystemPackage

/// Reads settings from one JSON file plus `BREAKWATER_…` environment overrides, and
/// collects every problem instead of stopping at the first: an operator fixes a bad
/// config in one pass.
public struct Settings: Sendable {
    public let reader: ConfigReader
    public let sourceDescription: String
    public private(set) var problems: [String] = []

    /// `BREAKWATER_RISK_MAX_OPEN_POSITIONS` overrides `risk.maxOpenPositions` in the file.
    public static func load(
        file: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) async -> Settings {
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(
                environmentVariables: environment,
                secretsSpecifier: .dynamic { key, _ in Settings.isSecretName(key) }
            ).prefixKeys(with: ["breakwater"])
        ]
        var problems: [String] = []
        if let file {
            do {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(file)))
            } catch {
                problems.append("config file \(file): \(error)")
            }
        }
        var settings = Settings(
            reader: ConfigReader(providers: providers), sourceDescription: file ?? "(defaults and environment)")
        settings.problems = problems
        return settings
    }

    public init(reader: ConfigReader, sourceDescription: String) {
        self.reader = reader
        self.sourceDescription = sourceDescription
    }

    static func isSecretName(_ name: String) -> Bool {
        let upper = name.uppercased()
        return ["KEY", "TOKEN", "SECRET", "PASSWORD"].contains { upper.contains($0) }
    }

    public mutating func problem(_ text: String) { problems.append(text) }

    private mutating func read<T>(_ key: String, _ fetch: (ConfigReader) throws -> T) -> T? {
        do {
            return try fetch(reader)
        } catch {
            if !"\(error)".hasPrefix("Missing required") {
                problems.append("\(key): \(error)")
            }
            return nil
        }
    }

    public mutating func string(_ key: String, default value: String) -> String {
        read(key) { try $0.requiredString(forKey: ConfigKey(key)) } ?? value
    }

    public mutating func optionalString(_ key: String) -> String? {
        read(key) { try $0.requiredString(forKey: ConfigKey(key)) }
    }

    /// A file under the run-data directory (`varDir`, default `var`; `breakwater up
    /// --var-dir` sets it for every service) unless the key names another path.
    public mutating func dataPath(_ key: String, file: String) -> String {
        let directory = string("varDir", default: "var")
        return string(key, default: "\(directory)/\(file)")
    }

    public mutating func bool(_ key: String, default value: Bool) -> Bool {
        read(key) { try $0.requiredBool(forKey: ConfigKey(key)) } ?? value
    }

    public mutating func int(_ key: String, default value: Int, in range: ClosedRange<Int>) -> Int {
        let found = read(key) { try $0.requiredInt(forKey: ConfigKey(key)) } ?? value
        guard range.contains(found) else {
            problems.append("\(key): \(found) is outside \(range.lowerBound)…\(range.upperBound)")
            return value
        }
        return found
    }

    public mutating func double(_ key: String, default value: Double, in range: ClosedRange<Double>) -> Double {
        let found = read(key) { try $0.requiredDouble(forKey: ConfigKey(key)) } ?? value
        guard range.contains(found) else {
            problems.append("\(key): \(found) is outside \(range.lowerBound)…\(range.upperBound)")
            return value
        }
        return found
    }

    /// Exact decimals are written as strings ("0.0005") so that no float ever touches them.
    public mutating func amount(_ key: String, default value: Amount, minimum: Amount = .zero) -> Amount {
        guard let text = optionalString(key) else { return value }
        guard let found = Amount(text) else {
            problems.append("\(key): \"\(text)\" is not a plain decimal")
            return value
        }
        guard found >= minimum else {
            problems.append("\(key): \(found) is below \(minimum)")
            return value
        }
        return found
    }

    public mutating func oneOf(_ key: String, default value: String, allowed: [String]) -> String {
        let found = string(key, default: value)
        guard allowed.contains(found) else {
            problems.append("\(key): \"\(found)\" is not one of \(allowed.joined(separator: ", "))")
            return value
        }
        return found
    }

    /// A ZeroMQ TCP endpoint, `tcp://host:port`.
    public mutating func endpoint(_ key: String, default value: String) -> String {
        let found = string(key, default: value)
        guard found.hasPrefix("tcp://"), HostPort(String(found.dropFirst(6))) != nil else {
            problems.append("\(key): \"\(found)\" is not tcp://host:port")
            return value
        }
        return found
    }

    public mutating func hostPort(_ key: String, default value: HostPort) -> HostPort {
        let found = string(key, default: value.description)
        guard let parsed = HostPort(found) else {
            problems.append("\(key): \"\(found)\" is not host:port")
            return value
        }
        return parsed
    }
}

public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port), colon > text.startIndex
        else { return nil }
        self.host = String(text[..<colon])
        self.port = port
    }
    public var description: String { "\(host):\(port)" }
    public var baseURL: String { "http://\(description)" }
}
