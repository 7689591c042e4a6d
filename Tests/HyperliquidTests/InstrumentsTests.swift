import Schema
import Testing

import Hyperliquid

@Suite("Instruments from meta")
struct InstrumentsTests {
    let directory = AssetDirectory(
        meta: PerpMeta(universe: [
            PerpAssetInfo(name: "BTC", szDecimals: 5, maxLeverage: 40),
            PerpAssetInfo(name: "ETH", szDecimals: 4, maxLeverage: 25),
            PerpAssetInfo(name: "DOGE", szDecimals: 0, maxLeverage: 20),
            PerpAssetInfo(name: "SOL", szDecimals: 2, maxLeverage: 20),
        ]))

    @Test("each symbol gets its own instrument from meta")
    func instruments() throws {
        let rules = try directory.instruments(for: ["SOL", "BTC", "DOGE"])
        #expect(
            rules == [
                "SOL": Instrument(symbol: "SOL", szDecimals: 2, isPerp: true, maxLeverage: 20),
                "BTC": Instrument(symbol: "BTC", szDecimals: 5, isPerp: true, maxLeverage: 40),
                "DOGE": Instrument(symbol: "DOGE", szDecimals: 0, isPerp: true, maxLeverage: 20),
            ])
        #expect(rules["BTC"]?.maxPriceDecimals == 1 && rules["DOGE"]?.maxPriceDecimals == 6)
        #expect(try directory.instruments(for: []).isEmpty)
    }

    @Test("every symbol meta does not list is named in the error and its description")
    func notListed() {
        #expect(throws: InstrumentError.notListed(["PEPE", "WIF"], listed: 4)) {
            try directory.instruments(for: ["BTC", "PEPE", "ETH", "WIF"])
        }
        do {
            _ = try directory.instruments(for: ["btc", "XRP"])
            Issue.record("expected notListed")
        } catch {
            #expect(error == .notListed(["btc", "XRP"], listed: 4), "names are case-sensitive, as on the venue")
            #expect(error.description == "the exchange does not list btc, XRP (it lists 4 perpetuals)")
        }
    }
}
