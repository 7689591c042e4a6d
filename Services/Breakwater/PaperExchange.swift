import Foundation
import Hyperliquid
import Schema
import ServiceKit

/// Paper mode's exchange: exchange-sim as a child process, a paper key made once, its address
/// funded when the venue opens it. exchange-sim keeps its venue (accounts, positions, orders,
/// fills) in `var/exchange-sim/venue.sqlite`, so a simulator that is
/// killed or restarted inside a session comes back with what it had. Every `up` is a new paper
/// session: the previous session's ledger, trace and venue move together to `var/archive/`, so that
/// the ledger and the exchange always start and end a session together.
struct PaperExchange {
    var spec: ChildSpec
    var address: Address
    var keyCreated: Bool
    var archived: String?

    /// exchange-sim's command line as the config asks for it, without the account to fund; reading
    /// only, so that `breakwater up --check-config` reads the same keys. Nil unless paper mode with a
    /// managed simulator (`exchangeSim.managed`, default true).
    static func simulatorArguments(_ settings: inout Settings, exchange: ExchangeSettings) -> [String]? {
        guard exchange.mode == .paper, settings.bool("exchangeSim.managed", default: true) else { return nil }
        guard let url = URL(string: exchange.paperURL), let host = url.host, let port = url.port else {
            settings.problem("exchange.url \(exchange.paperURL) has no host:port")
            return nil
        }
        let market = settings.oneOf(
            "exchangeSim.market", default: "synthetic", allowed: ["synthetic", "hyperliquid", "binance-trades", "binance-l2", "ftx-candles"])
        var arguments = [
            "--host", host, "--port", "\(port)", "--market", market,
            "--seed", "\(settings.int("exchangeSim.seed", default: 42, in: 0...Int.max))",
            "--candle-seconds", "\(exchange.paperCandleSeconds)",
        ]
        // The recorded data folder, resolved here (config, $BREAKWATER_DATA_DIR, beside the repository)
        // and passed explicitly: exchange-sim's working directory does not matter.
        let configured = settings.optionalString("exchangeSim.dataDir")
        let dataDir = RepositoryPaths.sharedDataDirectory(configured: configured)
        var isFolder: ObjCBool = false
        if let dataDir, FileManager.default.fileExists(atPath: dataDir, isDirectory: &isFolder), isFolder.boolValue {
            arguments += ["--data-dir", dataDir]
        } else if configured != nil || market != "synthetic" {
            settings.problem(
                "exchangeSim.dataDir: "
                    + (dataDir.map { "the data folder \($0) does not exist" } ?? RepositoryPaths.missingDataDirectory)
                    + (market != "synthetic" ? " (market \(market) plays recorded data)" : ""))
        }
        if let from = settings.optionalString("exchangeSim.from") { arguments += ["--from", from] }
        let count = settings.int("exchangeSim.candles", default: 0, in: 0...10_000_000)
        if count > 0 { arguments += ["--candles", "\(count)"] }
        if let token = settings.optionalString("exchangeSim.adminToken") { arguments += ["--admin-token", token] }
        // The paper exchange lists every traded symbol (names it does not know get generated rules).
        arguments += ["--list", Symbols.read(&settings).joined(separator: ",")]
        // Coins the paper venue lists isolated-only (comma-separated), to rehearse such a listing.
        if let coins = settings.optionalString("exchangeSim.onlyIsolated") { arguments += ["--only-isolated", coins] }
        return arguments
    }

    /// Nil unless paper mode with a managed simulator; makes the paper key when missing and archives
    /// the previous session. Config problems land in `settings`.
    static func prepare(
        _ settings: inout Settings, exchange: ExchangeSettings, varDir: String, executables: String
    ) throws -> PaperExchange? {
        guard var paper = try simulator(&settings, exchange: exchange, varDir: varDir, executables: executables) else {
            return nil
        }
        paper.archived = try archivePreviousSession(varDir)
        return paper
    }

    /// exchange-sim's command line with the paper account funded, the paper key made when missing; no
    /// archiving (`breakwater serve exchange-sim` in a container, where the ledger is another container's).
    static func simulator(
        _ settings: inout Settings, exchange: ExchangeSettings, varDir: String, executables: String
    ) throws -> PaperExchange? {
        guard var arguments = simulatorArguments(&settings, exchange: exchange), settings.problems.isEmpty,
            let url = URL(string: exchange.paperURL), let host = url.host, let port = url.port
        else { return nil }
        let (wallet, created) = try paperWallet(at: ExchangeSettings.paperKeyFile(&settings))
        let capital = settings.amount("account.startingCapital", default: 10_000, minimum: 1)
        arguments += ["--fund", "\(wallet.address.lowercased)=\(capital)"]
        // Absolute: the simulator's working directory never decides where the venue lives.
        arguments += ["--state", URL(fileURLWithPath: venueStateFile(varDir)).standardizedFileURL.path]
        let spec = ChildSpec(
            name: "exchange-sim", executable: "\(executables)/exchange-sim", arguments: arguments, bus: nil,
            admin: "http://\(host):\(port)", healthPath: "/health/ready", publishesHeartbeats: false)
        return PaperExchange(spec: spec, address: wallet.address, keyCreated: created, archived: nil)
    }

    /// Where the managed simulator keeps its venue: inside the run's var directory, archived with the session.
    static func venueStateFile(_ varDir: String) -> String { "\(varDir)/\(venueFolder)/venue.sqlite" }

    static let venueFolder = "exchange-sim"

    /// A valid key that is never written anywhere: `--check-config` before the first `up`.
    static func throwawayKey() -> String {
        var generator = SystemRandomNumberGenerator()
        while true {
            let hex = Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
            if (try? Wallet(privateKeyHex: hex)) != nil { return hex }
        }
    }

    /// The paper key: read, or made once (owner-only) when missing. Never printed.
    static func paperWallet(at path: String) throws -> (Wallet, created: Bool) {
        if let data = FileManager.default.contents(atPath: path) {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            do { return (try Wallet(privateKeyHex: text), false) } catch {
                throw UpError("\(path) does not hold a valid private key; delete it to make a new paper key")
            }
        }
        var generator = SystemRandomNumberGenerator()
        while true {
            let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let hex = Hex.encode(bytes)
            // A random 32-byte string is a valid secp256k1 key with overwhelming probability.
            guard let wallet = try? Wallet(privateKeyHex: hex) else { continue }
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: path, contents: Data((hex + "\n").utf8), attributes: [.posixPermissions: 0o600])
            else { throw UpError("cannot write the paper key to \(path)") }
            return (wallet, true)
        }
    }

    /// Moves the last session's ledger, trace database and venue (`exchange-sim/`) to
    /// `var/archive/<time>/`.
    static func archivePreviousSession(_ varDir: String) throws -> String? {
        let files = ["ledger.db", "ledger.db-wal", "ledger.db-shm", "trace.db", "trace.db-wal", "trace.db-shm", venueFolder]
        let present = files.filter { FileManager.default.fileExists(atPath: "\(varDir)/\($0)") }
        guard present.contains(where: { $0 == "ledger.db" || $0 == "trace.db" || $0 == venueFolder }) else { return nil }
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let archive = "\(varDir)/archive/\(stamp)"
        try FileManager.default.createDirectory(atPath: archive, withIntermediateDirectories: true)
        for file in present { try FileManager.default.moveItem(atPath: "\(varDir)/\(file)", toPath: "\(archive)/\(file)") }
        return archive
    }
}

struct UpError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
