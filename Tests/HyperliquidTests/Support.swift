import Foundation
import Testing

import Hyperliquid

/// The shared vectors live at `<package root>/../shared/vectors/` (root derived from this file).
enum VectorFile {
    static let url: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // HyperliquidTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("../shared/vectors/hyperliquid-signing.json")
        .standardized

    static var available: Bool { FileManager.default.fileExists(atPath: url.path) }

    static let skipMessage: Comment =
        "hyperliquid-signing.json not found at <package root>/../shared/vectors/; vector tests skipped"

    /// The whole file, key order preserved; nil when absent or unreadable.
    static let root: WireValue? = {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return try? WireValue(json: [UInt8](data))
    }()

    static var l1Cases: [L1Case] {
        guard let list = root?["l1Actions"]?.arrayValue else { return [] }
        return list.map(L1Case.init)
    }
}

/// One signed L1 action as the SDK produced it.
struct L1Case: Sendable, CustomTestStringConvertible {
    let raw: WireValue
    var name: String { raw["name"]?.stringValue ?? "?" }
    var network: Network { raw["network"]?.stringValue == "testnet" ? .testnet : .mainnet }
    var action: WireValue { raw["action"] ?? .null }
    var nonce: UInt64 { raw["nonce"]?.uint64Value ?? 0 }
    var vault: Address? { raw["vaultAddress"]?.stringValue.flatMap { try? Address(hex: $0) } }
    var expiresAfter: UInt64? { raw["expiresAfter"]?.uint64Value }
    var msgpackHex: String { raw["msgpackHex"]?.stringValue ?? "" }
    var connectionId: String { raw["connectionId"]?.stringValue ?? "" }
    var r: String { raw["signature"]?["r"]?.stringValue ?? "" }
    var s: String { raw["signature"]?["s"]?.stringValue ?? "" }
    var v: Int { Int(raw["signature"]?["v"]?.int64Value ?? 0) }
    var testDescription: String { "\(name) [\(network.rawValue)]" }

    init(_ raw: WireValue) { self.raw = raw }
}

enum Fixture {
    static let privateKeyHex = "0x0123456789012345678901234567890123456789012345678901234567890123"
    static let address = "0x14791697260E4c9A71f18484C9f997B308e59325"

    static func wallet() throws -> Wallet { try Wallet(privateKeyHex: privateKeyHex) }

    static let gtc100 = OrderWire(asset: 1, isBuy: true, limitPx: "100", size: "100", orderType: .limit(.gtc))
    static let cloidABC = try! Cloid(hex: "0xabcdef0123456789abcdef0123456789")

    /// The typed Swift value each named vector was made from (nil: no typed form, e.g. "dummy").
    static func typedAction(named name: String) throws -> Action? {
        switch name {
        case "order-gtc", "order-expires-after":
            return .order([gtc100])
        case "order-gtc-cloid":
            var o = gtc100
            o.cloid = Cloid(1)
            return .order([o])
        case "order-trigger-sl":
            return .order([
                try OrderWire(
                    asset: 1, isBuy: true, limitPx: 100.0, size: 100.0,
                    orderType: try .trigger(isMarket: true, triggerPx: 103.0, tpsl: .sl))
            ])
        case "order-ioc-fractional":
            return .order([try OrderWire(asset: 4, isBuy: true, limitPx: 1670.1, size: 0.0147, orderType: .limit(.ioc))])
        case "order-alo-reduceonly-batch":
            return .order([
                try OrderWire(
                    asset: 0, isBuy: false, limitPx: Decimal(string: "105055.0")!, size: Decimal(string: "0.00123")!,
                    reduceOnly: true, orderType: .limit(.alo), cloid: cloidABC),
                try OrderWire(asset: 4, isBuy: true, limitPx: 1670.1, size: 0.0147, orderType: .limit(.ioc)),
            ])
        case "cancel":
            return .cancel([CancelWire(asset: 0, oid: 123_456_789)])
        case "cancel-by-cloid":
            return .cancelByCloid([CancelByCloidWire(asset: 0, cloid: cloidABC)])
        case "schedule-cancel-clear":
            return .scheduleCancel(time: nil)
        case "schedule-cancel-time":
            return .scheduleCancel(time: 123_456_789)
        case "update-leverage":
            return .updateLeverage(asset: 0, isCross: true, leverage: 5)
        case "order-builder-normalTpsl":
            return .order(
                [
                    OrderWire(asset: 3, isBuy: true, limitPx: "101", size: "1", orderType: .limit(.gtc)),
                    tpOrder,
                ], grouping: .normalTpsl,
                builder: BuilderInfo(address: try Address(hex: "0x8c967E73E7B15087c42A10D344cFf4c96D877f1D"), fee: 10))
        case "modify":
            return .modify(
                ModifyWire(
                    oid: .oid(987_654_321),
                    order: OrderWire(asset: 3, isBuy: true, limitPx: "101", size: "1", orderType: .limit(.gtc))))
        case "batch-modify":
            return .batchModify([
                ModifyWire(
                    oid: .oid(1),
                    order: OrderWire(asset: 3, isBuy: true, limitPx: "101", size: "1", orderType: .limit(.gtc))),
                ModifyWire(oid: .cloid(Cloid(7)), order: tpOrder),
            ])
        case "position-tpsl":
            return .order([tpOrder], grouping: .positionTpsl)
        default:
            return nil
        }
    }

    static var tpOrder: OrderWire {
        try! OrderWire(
            asset: 3, isBuy: false, limitPx: 99.5, size: 0.5, reduceOnly: true,
            orderType: .trigger(isMarket: false, triggerPx: 98.25, tpsl: .tp), cloid: Cloid(7))
    }
}

extension Array where Element == UInt8 {
    var hex: String { Hex.encode(self) }
}
