import Bus
import Foundation
import Schema

/// The bus's CURVE keys: who holds which, where they are kept, and how a process reads its own.
///
/// - `bus.curve` (default true): every bus socket uses CURVE. Off is allowed in paper mode only.
/// - Keys: `bus.keys.<principal>.public` and `.secret` (for compose: environment or config), else
///   files under `bus.keyDir` (default `<varDir>/keys/bus`): `<name>.pub` and `<name>.key`, owner-only,
///   which `breakwater up` makes on its first start. A process reads every public key and its own
///   secret only; secrets never travel on a command line.
public enum BusKeys {
    /// The supervisor's name on the bus (it listens to heartbeats).
    public static let supervisor = "breakwater"
    /// busspy's name on the bus: it listens and never publishes.
    public static let spy = "busspy"

    /// Every principal: its bus name and its config name (`bus.keys.<config name>…`).
    public static let principals: [(name: String, configKey: String)] =
        ServiceName.allCases.map { ($0.rawValue, $0.configKey) } + [(supervisor, "supervisor"), (spy, spy)]

    /// The config names, for the catalog's `<principal>` placeholder.
    public static var configKeys: [String] { principals.map(\.configKey) }

    public static func directory(_ settings: inout Settings) -> String {
        settings.string("bus.keyDir", default: "\(settings.string("varDir", default: "var"))/keys/bus")
    }

    static func publicFile(_ directory: String, _ name: String) -> String { "\(directory)/\(name).pub" }
    static func secretFile(_ directory: String, _ name: String) -> String { "\(directory)/\(name).key" }

    /// Makes a keypair, owner-only, for every principal that has neither a configured public key nor
    /// files yet; returns the names made. `breakwater up` calls it on every start.
    public static func ensureStored(_ settings: inout Settings) throws -> [String] {
        guard settings.bool("bus.curve", default: true), Curve.isAvailable else { return [] }
        let directory = directory(&settings)
        var made: [String] = []
        for (name, configKey) in principals {
            guard settings.optionalString("bus.keys.\(configKey).public") == nil else { continue }
            let manager = FileManager.default
            if manager.fileExists(atPath: publicFile(directory, name)), manager.fileExists(atPath: secretFile(directory, name)) {
                continue
            }
            try manager.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let pair = try CurveKeyPair.generate()
            for (path, text) in [(secretFile(directory, name), pair.secretKey), (publicFile(directory, name), pair.publicKey)] {
                try? manager.removeItem(atPath: path)
                guard manager.createFile(atPath: path, contents: Data((text + "\n").utf8), attributes: [.posixPermissions: 0o600])
                else { throw OperatorTokenError(description: "cannot write the bus key \(path)") }
            }
            made.append(name)
        }
        return made
    }

    /// How `principal` joins the bus: CURVE with its keypair and everyone's public keys, or plain text
    /// (paper mode only) with the reason to log. Every missing or bad key is one config problem.
    public static func read(_ settings: inout Settings, principal: String) -> BusAuthentication {
        let mode = TradingMode(
            rawValue: settings.oneOf("mode", default: "paper", allowed: TradingMode.allCases.map(\.rawValue))) ?? .paper
        guard settings.bool("bus.curve", default: true) else {
            if mode != .paper {
                settings.problem("bus.curve: \(mode.rawValue) mode needs the authenticated bus; false is for paper mode only")
            }
            return .plain(reason: "bus.curve is false")
        }
        guard Curve.isAvailable else {
            if mode != .paper {
                settings.problem(
                    "\(mode.rawValue) mode needs the authenticated bus (CURVE), and this libzmq \(BusContext.libzmqVersion) "
                        + "was built without it (zmq_has(\"curve\") is false): install a libzmq with libsodium; refusing to start")
            }
            return .plain(reason: "libzmq \(BusContext.libzmqVersion) has no CURVE support")
        }
        let directory = directory(&settings)
        var publicKeys: [String: String] = [:]
        var secret: String?
        let hint = "(`breakwater up` makes the keys under \(directory); or set bus.keys.<name>.public and .secret)"
        for (name, configKey) in principals {
            let key = settings.optionalString("bus.keys.\(configKey).public") ?? readFile(publicFile(directory, name))
            if let key {
                publicKeys[name] = key
            } else if ServiceName(rawValue: name) != nil || name == principal {
                settings.problem("bus.keys.\(configKey).public: no bus public key for \(name) \(hint)")
            }
            if name == principal {
                secret = settings.optionalString("bus.keys.\(configKey).secret") ?? readFile(secretFile(directory, name))
                if secret == nil {
                    settings.problem("bus.keys.\(configKey).secret: no bus secret key for \(name) \(hint)")
                }
            }
        }
        guard let secret, let own = publicKeys[principal] else { return .plain(reason: "keys missing") }
        let keyPair: CurveKeyPair
        do {
            keyPair = try CurveKeyPair(publicKey: own, secretKey: secret)
        } catch {
            settings.problem("bus keys of \(principal): \(error)")
            return .plain(reason: "bad keys")
        }
        do {
            let keyring = try BusKeyring(
                publicKeys: publicKeys, publishers: Set(ServiceName.allCases.map(\.rawValue)))
            return .curve(keyring: keyring, keyPair: keyPair, principal: principal)
        } catch {
            settings.problem("bus keys: \(error)")
            return .plain(reason: "bad keys")
        }
    }

    static func readFile(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}

/// How a process joins the bus.
public enum BusAuthentication: Sendable {
    case curve(keyring: BusKeyring, keyPair: CurveKeyPair, principal: String)
    /// Plain text, paper mode only; the reason is logged as a warning at start.
    case plain(reason: String)

    /// The sockets' security, counting refusals in `rejections`; nil in plain text.
    public func security(rejections: BusRejections) -> BusSecurity? {
        guard case .curve(let keyring, let keyPair, let principal) = self else { return nil }
        return BusSecurity(keyring: keyring, principal: principal, keyPair: keyPair, rejections: rejections)
    }

    /// The peers of `services`: each one's bus endpoint and name (whose key a subscriber pins).
    public static func peers(_ services: [ServiceName], in topology: Topology) -> [BusPeer] {
        services.map { BusPeer(endpoint: topology.bus($0), service: $0.rawValue) }
    }

    public var warning: String? {
        guard case .plain(let reason) = self else { return nil }
        return "the bus runs in plain text (\(reason)): any local process could publish on it; paper mode only"
    }
}
