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
    /// The file's values by dotted key, to check their JSON types strictly: the reader
    /// would take `true` for 1 and read an object in place of a value as missing.
    private var fileValues: [String: FoundKind] = [:]
    /// The kinds of the items of each array in the file, to refuse `[1, 2]` where strings are wanted.
    private var fileArrayItemKinds: [String: Set<FoundKind>] = [:]
    /// Whether `fileValues` holds every key the reader's file can answer (the file parsed alike, or there is
    /// no file): a key that is neither there nor in `settingVariables` is absent without asking the reader.
    private var fileKeysKnown = false
    /// The environment's `BREAKWATER_` names, upper-cased: only those can override a key.
    private var settingVariables: Set<String> = []
    /// `$BREAKWATER_DATA_DIR` of the environment loaded from, for `sharedDataFile`.
    private var dataDirectoryVariable: String?
    /// The keys this program may read and the file may hold; nil checks nothing (hand-built settings).
    public private(set) var catalog: ConfigCatalog?
    /// Keys whose shape the catalog check already refused: the accessors stay quiet about them.
    private var refusedKeys: Set<String> = []
    /// Keys read that the catalog lacks, reported once each.
    private var uncataloguedReads: Set<String> = []

    /// `BREAKWATER_RISK_MAX_OPEN_POSITIONS` overrides `risk.maxOpenPositions` in the file. With a
    /// catalog, every key of the file and every `BREAKWATER_` variable it does not know is a problem,
    /// and so is every read of a key it lacks.
    public static func load(
        file: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        catalog: ConfigCatalog? = .breakwater
    ) async -> Settings {
        var providers: [any ConfigProvider] = []
        // Only `BREAKWATER_…` variables are settings; without one, no read needs to spell out a variable name.
        if environment.keys.contains(where: { $0.uppercased().hasPrefix("BREAKWATER_") }) {
            providers.append(
                EnvironmentVariablesProvider(
                    environmentVariables: environment,
                    secretsSpecifier: .dynamic { key, _ in Settings.isSecretName(key) }
                ).prefixKeys(with: ["breakwater"]))
        }
        var problems: [String] = []
        var readsFile = false
        if let file {
            do {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(file)))
                readsFile = true
            } catch {
                problems.append("config file \(file): \(error)")
            }
        }
        // A reader needs a provider: with no variable and no file, every key has its default.
        if providers.isEmpty { providers.append(InMemoryProvider(name: "defaults", values: [:])) }
        var settings = Settings(
            reader: ConfigReader(providers: providers), sourceDescription: file ?? "(defaults and environment)")
        settings.problems = problems
        if let file, problems.isEmpty, let data = FileManager.default.contents(atPath: file),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        {
            settings.fileValues = flatten(object)
            settings.fileArrayItemKinds = arrayItemKinds(object)
            settings.fileKeysKnown = true
            if let catalog {
                let (problems, refused) = catalog.check(file: object)
                settings.problems += problems
                settings.refusedKeys = refused
            }
        }
        if !readsFile { settings.fileKeysKnown = true }
        if let catalog { settings.problems += catalog.check(environment: environment) }
        settings.catalog = catalog
        settings.settingVariables = Set(environment.keys.map { $0.uppercased() }.filter { $0.hasPrefix("BREAKWATER_") })
        settings.dataDirectoryVariable = environment[RepositoryPaths.dataDirectoryVariable]
        return settings
    }

    /// What the file holds at a key, as far as type checks need to know.
    enum FoundKind: String, Sendable {
        case string, integer, fraction, boolean, object, array, null

        init(_ value: Any) {
            if let number = value as? NSNumber, !(value is String) {
                if String(cString: number.objCType) == "c" {
                    self = .boolean
                } else {
                    self = number.doubleValue == number.doubleValue.rounded() ? .integer : .fraction
                }
            } else if value is String {
                self = .string
            } else if value is [String: Any] {
                self = .object
            } else if value is [Any] {
                self = .array
            } else {
                self = .null
            }
        }

        var article: String { self == .integer || self == .object || self == .array ? "an" : "a" }
    }

    static func flatten(_ object: [String: Any], prefix: String = "") -> [String: FoundKind] {
        var flat: [String: FoundKind] = [:]
        for (key, value) in object {
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            flat[path] = FoundKind(value)
            if let nested = value as? [String: Any] {
                flat.merge(flatten(nested, prefix: path)) { first, _ in first }
            }
        }
        return flat
    }

    static func arrayItemKinds(_ object: [String: Any], prefix: String = "") -> [String: Set<FoundKind>] {
        var kinds: [String: Set<FoundKind>] = [:]
        for (key, value) in object {
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            if let items = value as? [Any] {
                kinds[path] = Set(items.map(FoundKind.init))
            } else if let nested = value as? [String: Any] {
                kinds.merge(arrayItemKinds(nested, prefix: path)) { first, _ in first }
            }
        }
        return kinds
    }

    /// `risk.maxOpenPositions` → `BREAKWATER_RISK_MAX_OPEN_POSITIONS`, as the environment provider maps it.
    public static func environmentName(_ key: String) -> String {
        var name = "BREAKWATER"
        for component in key.split(separator: ".") {
            name += "_"
            var previousLower = false
            for character in component {
                if character.isUppercase && previousLower { name += "_" }
                name += character.isLetter || character.isNumber ? character.uppercased() : "_"
                previousLower = character.isLowercase || character.isNumber
            }
        }
        return name
    }

    /// A problem when the file holds `key` with a JSON type other than `wanted` (and the
    /// environment does not override it).
    private mutating func checkFileType(_ key: String, _ wanted: Set<FoundKind>, _ name: String) -> Bool {
        if let catalog, !catalog.contains(key), uncataloguedReads.insert(key).inserted {
            problems.append("internal: \(key) is read but not in ConfigCatalog")
        }
        guard !refusedKeys.contains(key) else { return false }
        guard let found = fileValues[key], !isOverridden(key) else { return true }
        guard wanted.contains(found) else {
            problems.append("\(key): expected \(name), found \(found.article) \(found.rawValue)")
            return false
        }
        return true
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

    /// Whether a `BREAKWATER_` variable sets `key`.
    private func isOverridden(_ key: String) -> Bool {
        !settingVariables.isEmpty && settingVariables.contains(Self.environmentName(key))
    }

    private mutating func read<T>(_ key: String, _ fetch: (ConfigReader) throws -> T) -> T? {
        // The reader could only say "missing", and a config read takes a hundred keys a file mostly leaves out.
        if fileKeysKnown, fileValues[key] == nil, !isOverridden(key) { return nil }
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
        optionalString(key) ?? value
    }

    public mutating func optionalString(_ key: String) -> String? {
        guard checkFileType(key, [.string], "a string") else { return nil }
        return read(key) { try $0.requiredString(forKey: ConfigKey(key)) }
    }

    /// A file under the run-data directory (`varDir`, default `var`; `breakwater up
    /// --var-dir` sets it for every service) unless the key names another path.
    public mutating func dataPath(_ key: String, file: String) -> String {
        let directory = string("varDir", default: "var")
        return string(key, default: "\(directory)/\(file)")
    }

    /// The trace database the recorder writes and the report, the model trainer and the risk gate's
    /// VaR history read.
    public mutating func traceDatabasePath() -> String { dataPath("traceRecorder.database", file: "trace.db") }

    /// A file in the recorded market data folder: `$BREAKWATER_DATA_DIR`, else `../shared/data`
    /// beside the repository holding this executable (RepositoryPaths), never the working directory.
    public func sharedDataFile(_ name: String) -> String {
        let folder = RepositoryPaths.sharedDataDirectory(
            configured: nil, environment: dataDirectoryVariable.map { [RepositoryPaths.dataDirectoryVariable: $0] } ?? [:])
        return "\(folder ?? "(\(RepositoryPaths.missingDataDirectory))")/\(name)"
    }

    public mutating func bool(_ key: String, default value: Bool) -> Bool {
        guard checkFileType(key, [.boolean], "a boolean") else { return value }
        return read(key) { try $0.requiredBool(forKey: ConfigKey(key)) } ?? value
    }

    public mutating func int(_ key: String, default value: Int, in range: ClosedRange<Int>) -> Int {
        guard checkFileType(key, [.integer], "an integer") else { return value }
        let found = read(key) { try $0.requiredInt(forKey: ConfigKey(key)) } ?? value
        guard range.contains(found) else {
            problems.append("\(key): \(found) is outside \(range.lowerBound)…\(range.upperBound)")
            return value
        }
        return found
    }

    public mutating func double(_ key: String, default value: Double, in range: ClosedRange<Double>) -> Double {
        guard checkFileType(key, [.integer, .fraction], "a number") else { return value }
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

    /// A list of strings: a JSON array of strings in the file, or a comma-separated
    /// environment override (`BREAKWATER_SYMBOLS=BTC,ETH,SOL`). Blank items are dropped.
    public mutating func stringList(_ key: String, default value: [String]) -> [String] {
        guard checkFileType(key, [.array], "an array of strings") else { return value }
        if !isOverridden(key),
            let other = fileArrayItemKinds[key]?.first(where: { $0 != .string })
        {
            problems.append(
                "\(key): expected an array of strings, found an array holding \(other.article) \(other.rawValue)")
            return value
        }
        guard let found = read(key, { try $0.requiredStringArray(forKey: ConfigKey(key)) }) else { return value }
        return found.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
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

    /// Whether binding both would fight over one port: the same host, or two spellings
    /// that overlap on this machine (loopback names, wildcards).
    public func collides(with other: HostPort) -> Bool {
        guard port == other.port else { return false }
        let local: Set<String> = ["127.0.0.1", "localhost", "0.0.0.0", "*", "::1", "[::1]", "::", "[::]"]
        return host == other.host || (local.contains(host) && local.contains(other.host))
            || ["0.0.0.0", "*", "::", "[::]"].contains(host) || ["0.0.0.0", "*", "::", "[::]"].contains(other.host)
    }
}
