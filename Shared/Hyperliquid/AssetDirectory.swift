import Schema

/// The perpetuals the exchange lists, from `meta`: asset index ↔ coin and each coin's `Instrument`
/// (szDecimals, so prices and sizes can be rounded before signing).
public struct AssetDirectory: Sendable, Hashable {
    public let assets: [PerpAssetInfo]
    private let indexByCoin: [String: Int]

    public init(meta: PerpMeta) {
        assets = meta.universe
        var index: [String: Int] = [:]
        for (i, asset) in meta.universe.enumerated() where index[asset.name] == nil { index[asset.name] = i }
        indexByCoin = index
    }

    public var coins: [String] { assets.map(\.name) }

    /// The asset index (position in `meta.universe`) orders and cancels carry.
    public func index(of coin: String) -> Int? { indexByCoin[coin] }

    public func coin(at index: Int) -> String? { assets.indices.contains(index) ? assets[index].name : nil }

    public func info(_ coin: String) -> PerpAssetInfo? { index(of: coin).map { assets[$0] } }

    public func instrument(_ coin: String) -> Instrument? { info(coin)?.instrument }

    /// Index and instrument, or `invalidRequest` for a coin the exchange does not list.
    func resolve(_ coin: String) throws(HyperliquidClientError) -> (index: Int, instrument: Instrument) {
        guard let index = index(of: coin) else { throw .invalidRequest("unknown coin \(coin)") }
        return (index, assets[index].instrument)
    }
}
