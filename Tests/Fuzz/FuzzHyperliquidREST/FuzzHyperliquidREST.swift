import FuzzSupport
import Hyperliquid

/// The Hyperliquid REST answer decoders (`/info` and `/exchange`). The first byte picks the decoder
/// (`a` meta, `b` metaAndAssetCtxs, …, in the order of `decoders`); the rest is the answer's body.
/// A decoder must return a value or a `HyperliquidClientError`.
enum FuzzHyperliquidREST {
    static let decoders = [
        "meta", "metaAndAssetCtxs", "allMids", "l2Book", "clearinghouseState", "openOrders", "orderStatus", "userFills",
        "userFunding", "candles", "userRateLimit", "orderStatuses", "cancelStatuses", "acknowledgement",
    ]

    static func check(_ bytes: [UInt8]) {
        guard let selector = bytes.first else { return }
        let body = bytes.dropFirst()
        do throws(HyperliquidClientError) {
            switch decoders[Int(selector &- UInt8(ascii: "a")) % decoders.count] {
            case "meta": _ = try InfoDecoding.meta(body)
            case "metaAndAssetCtxs": _ = try InfoDecoding.metaAndAssetCtxs(body)
            case "allMids": _ = try InfoDecoding.allMids(body)
            case "l2Book": _ = try InfoDecoding.l2Book(body)
            case "clearinghouseState": _ = try InfoDecoding.clearinghouseState(body)
            case "openOrders": _ = try InfoDecoding.openOrders(body)
            case "orderStatus": _ = try InfoDecoding.orderStatus(body)
            case "userFills": _ = try InfoDecoding.userFills(body)
            case "userFunding": _ = try InfoDecoding.userFunding(body)
            case "candles": _ = try InfoDecoding.candles(body)
            case "userRateLimit": _ = try InfoDecoding.userRateLimit(body)
            case "orderStatuses": _ = try ExchangeDecoding.orderStatuses(body, expected: nil)
            case "cancelStatuses": _ = try ExchangeDecoding.cancelStatuses(body, expected: nil)
            default: try ExchangeDecoding.acknowledgement(body, what: "fuzz")
            }
        } catch {
            return
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzHyperliquidREST.check(FuzzMain.bytes(data, size))
    return 0
}

@main enum Main {
    static func main() { FuzzMain.run(targetFile: #filePath, FuzzHyperliquidREST.check) }
}
