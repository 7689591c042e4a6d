import Foundation
import Schema

/// A secret read from config; prints as a placeholder, so it cannot reach a log by accident.
public struct SecretText: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let value: String
    public init(_ value: String) { self.value = value }
    public var description: String { "<secret>" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: []) }
}

/// The exchange settings every service that talks to the exchange reads the same way.
///
/// - `mode`: paper (default), testnet or mainnet.
/// - `exchange.url`: paper only; exchange-sim's address (default http://127.0.0.1:3001).
/// - The signing key, for services that need one: `exchange.privateKey`
///   (`BREAKWATER_EXCHANGE_PRIVATE_KEY`), else the file `exchange.keyFile`; in paper mode the file is
///   `exchange.paperKeyFile` if set, else `exchange.keyFile`, else `<varDir>/paper.key`, which
///   `breakwater up` (or `breakwater paper-key`) creates once. A paper key file is never read in
///   testnet or mainnet mode.
/// - `exchange.account`: the address whose orders and positions these are, when the key is an API
///   wallet trading for another account (default: the key's own address).
public struct ExchangeSettings: Sendable {
    public var mode: TradingMode
    public var paperURL: String
    public var privateKey: SecretText?
    /// Where the key came from, for messages (never the key).
    public var keySource: String?
    public var account: String?
    /// Paper mode: how long one candle of exchange-sim's market lasts (`exchangeSim.candleSeconds`);
    /// the feed's bars default to it.
    public var paperCandleSeconds: Double

    public static let defaultPaperURL = "http://127.0.0.1:3001"
    public static let privateKeyVariable = "BREAKWATER_EXCHANGE_PRIVATE_KEY"

    /// Reads the mode and, when `needsKey`, the key; a missing key is one problem that says where to put it.
    public static func read(_ settings: inout Settings, needsKey: Bool) -> ExchangeSettings {
        let mode = TradingMode(
            rawValue: settings.oneOf("mode", default: "paper", allowed: TradingMode.allCases.map(\.rawValue))) ?? .paper
        let url = settings.string("exchange.url", default: defaultPaperURL)
        if mode != .paper, settings.optionalString("exchange.url") != nil {
            settings.problem("exchange.url is for paper mode only; \(mode.rawValue) uses Hyperliquid's own address")
        }
        var result = ExchangeSettings(
            mode: mode, paperURL: url, privateKey: nil, keySource: nil, account: settings.optionalString("exchange.account"),
            paperCandleSeconds: settings.double("exchangeSim.candleSeconds", default: 5, in: 0.05...3_600))
        if needsKey { result.readKey(&settings) }
        return result
    }

    /// The paper key's file: `exchange.paperKeyFile`, else `exchange.keyFile`, by default `<varDir>/paper.key`.
    public static func paperKeyFile(_ settings: inout Settings) -> String {
        settings.optionalString("exchange.paperKeyFile") ?? settings.dataPath("exchange.keyFile", file: "paper.key")
    }

    /// Reads the key of this mode; a missing or unreadable one is one problem that says where to put it.
    public mutating func readKey(_ settings: inout Settings) {
        if let inline = settings.optionalString("exchange.privateKey"), !inline.isEmpty {
            privateKey = SecretText(inline.trimmingCharacters(in: .whitespacesAndNewlines))
            keySource = "exchange.privateKey"
            return
        }
        let file = mode == .paper ? Self.paperKeyFile(&settings) : settings.optionalString("exchange.keyFile")
        guard let file else {
            settings.problem(
                "\(mode.rawValue) mode needs the exchange signing key: set \(Self.privateKeyVariable) "
                    + "or exchange.keyFile (a file holding the 0x… private key); refusing to start without it")
            return
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            let hint = mode == .paper ? " (`breakwater up` creates it in paper mode)" : ""
            settings.problem("\(mode.rawValue) mode needs the exchange signing key: cannot read \(file)\(hint)")
            return
        }
        privateKey = SecretText(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        keySource = file
    }
}
