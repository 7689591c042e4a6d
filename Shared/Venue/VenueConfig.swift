import Foundation
import Schema

/// One perpetual as listed in `meta.universe`; its index there is its asset id.
public struct AssetSpec: Sendable, Equatable, Codable {
    public var name: String
    public var szDecimals: Int
    public var maxLeverage: Int
    public var onlyIsolated: Bool = false

    public init(name: String, szDecimals: Int, maxLeverage: Int, onlyIsolated: Bool = false) {
        self.name = name
        self.szDecimals = szDecimals
        self.maxLeverage = maxLeverage
        self.onlyIsolated = onlyIsolated
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        szDecimals = try c.decode(Int.self, forKey: .szDecimals)
        maxLeverage = try c.decode(Int.self, forKey: .maxLeverage)
        onlyIsolated = try c.decodeIfPresent(Bool.self, forKey: .onlyIsolated) ?? false
    }
}

/// A paper account named in the config.
public struct AccountSpec: Sendable, Equatable, Codable {
    public var address: String
    public var usdc: Amount
    /// API wallets allowed to sign for this account.
    public var agents: [String] = []
    /// When set, this account is a vault/sub-account traded by `leader` through `vaultAddress`.
    public var leader: String?

    public init(address: String, usdc: Amount, agents: [String] = [], leader: String? = nil) {
        self.address = address
        self.usdc = usdc
        self.agents = agents
        self.leader = leader
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        address = try c.decode(String.self, forKey: .address)
        usdc = try decodeAmount(c, .usdc) ?? 0
        agents = try c.decodeIfPresent([String].self, forKey: .agents) ?? []
        leader = try c.decodeIfPresent(String.self, forKey: .leader)
    }
}

/// Which signature domain (`source` "a" mainnet / "b" testnet) requests are checked against.
/// The official SDK signs as testnet for any base URL other than mainnet's, so "any" (try
/// testnet, then mainnet) is the default.
public enum SignatureNetwork: String, Sendable, Codable, CaseIterable {
    case any, testnet, mainnet
}

/// Where the external market comes from.
public enum MarketSource: String, Sendable, Codable, CaseIterable {
    /// The Hyperliquid BTC websocket capture (l2Book snapshots and trades), cycled.
    case hyperliquid
    /// Binance futures trades; the book is synthesised around each trade.
    case binanceTrades = "binance-trades"
    /// The Binance USD-M BTCUSDT depth capture (snapshot, diffs, trades), gzip; books of 20 levels a side.
    case binanceL2 = "binance-l2"
    /// FTX one-minute candles; a path O→H/L→L/H→C is played per candle with a synthesised book.
    case ftxCandles = "ftx-candles"
    /// `SyntheticMarket` (seeded), no files needed.
    case synthetic
}

public struct MarketSettings: Sendable, Equatable, Codable {
    /// nil: the Hyperliquid capture when the data folder exists, otherwise synthetic.
    public var source: MarketSource?
    public var seed: UInt64 = 42
    public var dataDir: String?
    /// Wall-clock seconds one candle (synthetic or FTX) takes to play.
    public var candleSeconds: Double = 60
    /// Replay speed for recorded files (2 = twice as fast).
    public var speed: Double = 1
    /// FTX candles: the first candle played ("YYYY-MM-DD HH:MM:SS" UTC) and how many (nil: to the end).
    public var from: String?
    public var candles: Int?
    /// Start prices for coins the data does not cover, over the listing's own (`PaperListing`).
    public var startPrices: [String: Double] = [:]

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        source = try c.decodeIfPresent(MarketSource.self, forKey: .source)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 42
        dataDir = try c.decodeIfPresent(String.self, forKey: .dataDir)
        candleSeconds = try c.decodeIfPresent(Double.self, forKey: .candleSeconds) ?? 60
        speed = try c.decodeIfPresent(Double.self, forKey: .speed) ?? 1
        from = try c.decodeIfPresent(String.self, forKey: .from)
        candles = try c.decodeIfPresent(Int.self, forKey: .candles)
        if let prices = try c.decodeIfPresent([String: Double].self, forKey: .startPrices) {
            startPrices.merge(prices) { _, new in new }
        }
    }
}

/// The venue's configuration (`--config FILE`). Every field is optional in the file.
public struct VenueConfig: Sendable, Equatable, Codable {
    public var network: SignatureNetwork = .any
    public var assets: [AssetSpec] = VenueConfig.defaultAssets
    public var accounts: [AccountSpec] = []
    public var takerFee: Amount = "0.00035"
    public var makerFee: Amount = "0.0001"
    /// Funding rate per hour applied at every hour boundary (HL's base rate: 0.01 % per 8 h).
    public var fundingRatePerHour: Amount = "0.0000125"
    public var defaultLeverage: Int = 20
    /// The real exchange requires $1,000,000 of lifetime volume before scheduleCancel; paper accounts
    /// start with none, so the default here is 0.
    public var scheduleCancelMinVolume: Amount = 0
    /// Address-based request budget: this many requests plus one per USDC traded.
    public var initialRequestBudget: Int = 10_000
    public var market = MarketSettings()

    public static let defaultAssets = PaperListing.defaults.map(\.spec)

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        network = try c.decodeIfPresent(SignatureNetwork.self, forKey: .network) ?? .any
        assets = try c.decodeIfPresent([AssetSpec].self, forKey: .assets) ?? Self.defaultAssets
        accounts = try c.decodeIfPresent([AccountSpec].self, forKey: .accounts) ?? []
        takerFee = try decodeAmount(c, .takerFee) ?? "0.00035"
        makerFee = try decodeAmount(c, .makerFee) ?? "0.0001"
        fundingRatePerHour = try decodeAmount(c, .fundingRatePerHour) ?? "0.0000125"
        defaultLeverage = try c.decodeIfPresent(Int.self, forKey: .defaultLeverage) ?? 20
        scheduleCancelMinVolume = try decodeAmount(c, .scheduleCancelMinVolume) ?? 0
        initialRequestBudget = try c.decodeIfPresent(Int.self, forKey: .initialRequestBudget) ?? 10_000
        market = try c.decodeIfPresent(MarketSettings.self, forKey: .market) ?? MarketSettings()
    }

    /// Problems that make the config unusable, one sentence each.
    public func validate() -> [String] {
        var problems: [String] = []
        if assets.isEmpty { problems.append("assets: at least one asset is needed") }
        var names = Set<String>()
        for (i, a) in assets.enumerated() {
            if a.name.isEmpty { problems.append("assets[\(i)]: empty name") }
            if !names.insert(a.name).inserted { problems.append("assets[\(i)]: duplicate name \(a.name)") }
            if !(0...6).contains(a.szDecimals) { problems.append("assets[\(i)]: szDecimals must be 0...6") }
            if a.maxLeverage < 1 { problems.append("assets[\(i)]: maxLeverage must be at least 1") }
        }
        for (i, a) in accounts.enumerated() {
            if parseAddress(a.address) == nil { problems.append("accounts[\(i)]: bad address \(a.address)") }
            if a.usdc.isNegative { problems.append("accounts[\(i)]: negative usdc") }
            for agent in a.agents where parseAddress(agent) == nil {
                problems.append("accounts[\(i)]: bad agent address \(agent)")
            }
            if let leader = a.leader, parseAddress(leader) == nil {
                problems.append("accounts[\(i)]: bad leader address \(leader)")
            }
        }
        if takerFee.isNegative || makerFee.isNegative { problems.append("fees must not be negative") }
        if defaultLeverage < 1 { problems.append("defaultLeverage must be at least 1") }
        if initialRequestBudget < 0 { problems.append("initialRequestBudget must not be negative") }
        if market.candleSeconds <= 0 { problems.append("market.candleSeconds must be positive") }
        if market.speed <= 0 { problems.append("market.speed must be positive") }
        return problems
    }
}

/// Amounts in the config may be JSON strings ("0.00035") or numbers (100000).
private func decodeAmount<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> Amount? {
    if let text = try? c.decodeIfPresent(String.self, forKey: key) {
        guard let value = Wire.amount(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "not a decimal: \(text)")
        }
        return value
    }
    if let number = try c.decodeIfPresent(Double.self, forKey: key) { return Amount(number) }
    return nil
}
