import Foundation

// Action values in the SDK's wire shape. Key order in `wireValue` is the SDK's dict order,
// which the action hash depends on.

public enum Tif: String, Sendable, Hashable, CaseIterable, Codable {
    case alo = "Alo"
    case ioc = "Ioc"
    case gtc = "Gtc"
}

public enum Tpsl: String, Sendable, Hashable, CaseIterable, Codable {
    case tp
    case sl
}

public enum OrderType: Sendable, Hashable {
    case limit(Tif)
    /// `triggerPx` is already in wire form (see `floatToWire`).
    case trigger(isMarket: Bool, triggerPx: String, tpsl: Tpsl)

    public static func trigger(isMarket: Bool, triggerPx: Double, tpsl: Tpsl) throws(HyperliquidError) -> OrderType {
        .trigger(isMarket: isMarket, triggerPx: try floatToWire(triggerPx), tpsl: tpsl)
    }

    public static func trigger(isMarket: Bool, triggerPx: Decimal, tpsl: Tpsl) throws(HyperliquidError) -> OrderType {
        .trigger(isMarket: isMarket, triggerPx: try floatToWire(triggerPx), tpsl: tpsl)
    }

    public var wireValue: WireValue {
        switch self {
        case .limit(let tif):
            .map([("limit", .map([("tif", .string(tif.rawValue))]))])
        case .trigger(let isMarket, let px, let tpsl):
            .map([
                (
                    "trigger",
                    .map([("isMarket", .bool(isMarket)), ("triggerPx", .string(px)), ("tpsl", .string(tpsl.rawValue))])
                )
            ])
        }
    }

    public init(wire: WireValue) throws(HyperliquidError) {
        if let limit = wire["limit"] {
            guard let tif = limit["tif"]?.stringValue.flatMap(Tif.init(rawValue:)) else { throw .invalidWire("tif") }
            self = .limit(tif)
        } else if let trig = wire["trigger"] {
            guard let isMarket = trig["isMarket"]?.boolValue, let px = trig["triggerPx"]?.stringValue,
                let tpsl = trig["tpsl"]?.stringValue.flatMap(Tpsl.init(rawValue:))
            else { throw .invalidWire("trigger") }
            self = .trigger(isMarket: isMarket, triggerPx: px, tpsl: tpsl)
        } else {
            throw .invalidWire("order type")
        }
    }
}

/// {a, b, p, s, r, t, c?}
public struct OrderWire: Sendable, Hashable {
    public var asset: Int
    public var isBuy: Bool
    public var limitPx: String
    public var size: String
    public var reduceOnly: Bool
    public var orderType: OrderType
    public var cloid: Cloid?

    /// Price and size already in wire form.
    public init(
        asset: Int, isBuy: Bool, limitPx: String, size: String, reduceOnly: Bool = false, orderType: OrderType,
        cloid: Cloid? = nil
    ) {
        self.asset = asset
        self.isBuy = isBuy
        self.limitPx = limitPx
        self.size = size
        self.reduceOnly = reduceOnly
        self.orderType = orderType
        self.cloid = cloid
    }

    /// Like the SDK's `order_request_to_order_wire`: price and size through `floatToWire`.
    public init(
        asset: Int, isBuy: Bool, limitPx: Double, size: Double, reduceOnly: Bool = false, orderType: OrderType,
        cloid: Cloid? = nil
    ) throws(HyperliquidError) {
        self.init(
            asset: asset, isBuy: isBuy, limitPx: try floatToWire(limitPx), size: try floatToWire(size),
            reduceOnly: reduceOnly, orderType: orderType, cloid: cloid)
    }

    public init(
        asset: Int, isBuy: Bool, limitPx: Decimal, size: Decimal, reduceOnly: Bool = false, orderType: OrderType,
        cloid: Cloid? = nil
    ) throws(HyperliquidError) {
        self.init(
            asset: asset, isBuy: isBuy, limitPx: try floatToWire(limitPx), size: try floatToWire(size),
            reduceOnly: reduceOnly, orderType: orderType, cloid: cloid)
    }

    public var wireValue: WireValue {
        var entries: [(key: String, value: WireValue)] = [
            ("a", .integer(asset)), ("b", .bool(isBuy)), ("p", .string(limitPx)), ("s", .string(size)),
            ("r", .bool(reduceOnly)), ("t", orderType.wireValue),
        ]
        if let cloid { entries.append(("c", .string(cloid.rawValue))) }
        return .map(entries)
    }

    public init(wire: WireValue) throws(HyperliquidError) {
        guard let a = wire["a"]?.int64Value, let asset = Int(exactly: a), let b = wire["b"]?.boolValue,
            let p = wire["p"]?.stringValue, let s = wire["s"]?.stringValue, let r = wire["r"]?.boolValue,
            let t = wire["t"]
        else { throw .invalidWire("order: \(wire.jsonString())") }
        var cloid: Cloid?
        if let c = wire["c"], !c.isNull {
            guard let text = c.stringValue else { throw .invalidWire("order cloid") }
            cloid = try Cloid(hex: text)
        }
        self.init(asset: asset, isBuy: b, limitPx: p, size: s, reduceOnly: r, orderType: try OrderType(wire: t), cloid: cloid)
    }
}

public enum Grouping: String, Sendable, Hashable, CaseIterable {
    case na
    case normalTpsl
    case positionTpsl
}

/// Builder fee: {b: lowercase address, f: fee in tenths of a basis point}.
public struct BuilderInfo: Sendable, Hashable {
    public var address: Address
    public var fee: Int

    public init(address: Address, fee: Int) {
        self.address = address
        self.fee = fee
    }

    public var wireValue: WireValue { .map([("b", .string(address.lowercased)), ("f", .integer(fee))]) }
}

/// An order is named by exchange oid or by client order id.
public enum OrderRef: Sendable, Hashable {
    case oid(UInt64)
    case cloid(Cloid)

    public var wireValue: WireValue {
        switch self {
        case .oid(let o): .integer(o)
        case .cloid(let c): .string(c.rawValue)
        }
    }

    public init(wire: WireValue) throws(HyperliquidError) {
        if let o = wire.uint64Value {
            self = .oid(o)
        } else if let s = wire.stringValue {
            self = .cloid(try Cloid(hex: s))
        } else {
            throw .invalidWire("oid")
        }
    }
}

/// {a, o}
public struct CancelWire: Sendable, Hashable {
    public var asset: Int
    public var oid: UInt64
    public init(asset: Int, oid: UInt64) {
        self.asset = asset
        self.oid = oid
    }
    public var wireValue: WireValue { .map([("a", .integer(asset)), ("o", .integer(oid))]) }
}

/// {asset, cloid}
public struct CancelByCloidWire: Sendable, Hashable {
    public var asset: Int
    public var cloid: Cloid
    public init(asset: Int, cloid: Cloid) {
        self.asset = asset
        self.cloid = cloid
    }
    public var wireValue: WireValue { .map([("asset", .integer(asset)), ("cloid", .string(cloid.rawValue))]) }
}

/// {oid, order}
public struct ModifyWire: Sendable, Hashable {
    public var oid: OrderRef
    public var order: OrderWire
    public init(oid: OrderRef, order: OrderWire) {
        self.oid = oid
        self.order = order
    }
    public var wireValue: WireValue { .map([("oid", oid.wireValue), ("order", order.wireValue)]) }

    public init(wire: WireValue) throws(HyperliquidError) {
        guard let oid = wire["oid"], let order = wire["order"] else { throw .invalidWire("modify") }
        self.init(oid: try OrderRef(wire: oid), order: try OrderWire(wire: order))
    }
}

/// L1 actions (signed through the phantom agent).
public enum Action: Sendable, Hashable {
    case order([OrderWire], grouping: Grouping = .na, builder: BuilderInfo? = nil)
    case cancel([CancelWire])
    case cancelByCloid([CancelByCloidWire])
    case modify(ModifyWire)
    case batchModify([ModifyWire])
    /// nil time clears the dead man's switch.
    case scheduleCancel(time: UInt64?)
    case updateLeverage(asset: Int, isCross: Bool, leverage: Int)
    /// USDC into (positive) or out of (negative) an isolated position, in millionths (`ntli`);
    /// `isBuy` names the position's side (the exchange ignores it for now).
    case updateIsolatedMargin(asset: Int, isBuy: Bool, ntli: Int64)

    public var typeName: String {
        switch self {
        case .order: "order"
        case .cancel: "cancel"
        case .cancelByCloid: "cancelByCloid"
        case .modify: "modify"
        case .batchModify: "batchModify"
        case .scheduleCancel: "scheduleCancel"
        case .updateLeverage: "updateLeverage"
        case .updateIsolatedMargin: "updateIsolatedMargin"
        }
    }

    public var wireValue: WireValue {
        let type: (key: String, value: WireValue) = ("type", .string(typeName))
        switch self {
        case .order(let orders, let grouping, let builder):
            var entries = [type, ("orders", .array(orders.map(\.wireValue))), ("grouping", .string(grouping.rawValue))]
            if let builder { entries.append(("builder", builder.wireValue)) }
            return .map(entries)
        case .cancel(let cancels):
            return .map([type, ("cancels", .array(cancels.map(\.wireValue)))])
        case .cancelByCloid(let cancels):
            return .map([type, ("cancels", .array(cancels.map(\.wireValue)))])
        case .modify(let m):
            return .map([type, ("oid", m.oid.wireValue), ("order", m.order.wireValue)])
        case .batchModify(let modifies):
            return .map([type, ("modifies", .array(modifies.map(\.wireValue)))])
        case .scheduleCancel(let time):
            return .map(time.map { [type, ("time", .integer($0))] } ?? [type])
        case .updateLeverage(let asset, let isCross, let leverage):
            return .map([type, ("asset", .integer(asset)), ("isCross", .bool(isCross)), ("leverage", .integer(leverage))])
        case .updateIsolatedMargin(let asset, let isBuy, let ntli):
            return .map([type, ("asset", .integer(asset)), ("isBuy", .bool(isBuy)), ("ntli", .integer(ntli))])
        }
    }

    /// `msgpack.packb(action)`.
    public var msgpack: [UInt8] { MessagePack.pack(wireValue) }

    /// JSON of the action alone, as it appears under "action" in the /exchange body.
    public var json: String { wireValue.jsonString() }

    /// Parses a received action; the simulator re-encodes it canonically.
    public init(wire: WireValue) throws(HyperliquidError) {
        guard let type = wire["type"]?.stringValue else { throw .invalidWire("missing type") }
        func list(_ key: String) throws(HyperliquidError) -> [WireValue] {
            guard let items = wire[key]?.arrayValue else { throw .invalidWire("\(type).\(key)") }
            return items
        }
        switch type {
        case "order":
            var orders: [OrderWire] = []
            for o in try list("orders") { orders.append(try OrderWire(wire: o)) }
            guard let g = wire["grouping"]?.stringValue.flatMap(Grouping.init(rawValue:)) else {
                throw .invalidWire("grouping")
            }
            var builder: BuilderInfo?
            if let b = wire["builder"], !b.isNull {
                guard let addr = b["b"]?.stringValue, let f = b["f"]?.int64Value, let fee = Int(exactly: f) else {
                    throw .invalidWire("builder")
                }
                builder = BuilderInfo(address: try Address(hex: addr), fee: fee)
            }
            self = .order(orders, grouping: g, builder: builder)
        case "cancel":
            var cancels: [CancelWire] = []
            for c in try list("cancels") {
                guard let a = c["a"]?.int64Value, let asset = Int(exactly: a), let o = c["o"]?.uint64Value else {
                    throw .invalidWire("cancel")
                }
                cancels.append(CancelWire(asset: asset, oid: o))
            }
            self = .cancel(cancels)
        case "cancelByCloid":
            var cancels: [CancelByCloidWire] = []
            for c in try list("cancels") {
                guard let a = c["asset"]?.int64Value, let asset = Int(exactly: a), let s = c["cloid"]?.stringValue else {
                    throw .invalidWire("cancelByCloid")
                }
                cancels.append(CancelByCloidWire(asset: asset, cloid: try Cloid(hex: s)))
            }
            self = .cancelByCloid(cancels)
        case "modify":
            self = .modify(try ModifyWire(wire: wire))
        case "batchModify":
            var modifies: [ModifyWire] = []
            for m in try list("modifies") { modifies.append(try ModifyWire(wire: m)) }
            self = .batchModify(modifies)
        case "scheduleCancel":
            if let t = wire["time"], !t.isNull {
                guard let time = t.uint64Value else { throw .invalidWire("scheduleCancel.time") }
                self = .scheduleCancel(time: time)
            } else {
                self = .scheduleCancel(time: nil)
            }
        case "updateLeverage":
            guard let a = wire["asset"]?.int64Value, let asset = Int(exactly: a), let c = wire["isCross"]?.boolValue,
                let l = wire["leverage"]?.int64Value, let lev = Int(exactly: l)
            else { throw .invalidWire("updateLeverage") }
            self = .updateLeverage(asset: asset, isCross: c, leverage: lev)
        case "updateIsolatedMargin":
            guard let a = wire["asset"]?.int64Value, let asset = Int(exactly: a), let b = wire["isBuy"]?.boolValue,
                let ntli = wire["ntli"]?.int64Value
            else { throw .invalidWire("updateIsolatedMargin") }
            self = .updateIsolatedMargin(asset: asset, isBuy: b, ntli: ntli)
        default:
            throw .invalidWire("unsupported action type \(type)")
        }
    }
}

/// User-signed actions (EIP-712 directly over the fields, no msgpack, no vault).
public struct UserSignedAction: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case usdSend
        case withdraw = "withdraw3"

        public var primaryType: String {
            switch self {
            case .usdSend: "HyperliquidTransaction:UsdSend"
            case .withdraw: "HyperliquidTransaction:Withdraw"
            }
        }
    }

    public var kind: Kind
    /// Signed as a string, so its exact text (case) matters; the SDK passes it through.
    public var destination: String
    public var amount: String
    /// Milliseconds; also the request nonce.
    public var time: UInt64
    public var signatureChainId: UInt64

    public init(
        kind: Kind, destination: String, amount: String, time: UInt64,
        signatureChainId: UInt64 = EIP712.userSignedChainId
    ) {
        self.kind = kind
        self.destination = destination
        self.amount = amount
        self.time = time
        self.signatureChainId = signatureChainId
    }

    public static func usdSend(destination: Address, amount: String, time: UInt64) -> UserSignedAction {
        UserSignedAction(kind: .usdSend, destination: destination.lowercased, amount: amount, time: time)
    }

    public static func withdraw(destination: Address, amount: String, time: UInt64) -> UserSignedAction {
        UserSignedAction(kind: .withdraw, destination: destination.lowercased, amount: amount, time: time)
    }

    public func fields(network: Network) -> [EIP712.Field] {
        [
            EIP712.Field("hyperliquidChain", .string(network.hyperliquidChain)),
            EIP712.Field("destination", .string(destination)),
            EIP712.Field("amount", .string(amount)),
            EIP712.Field("time", .uint64(time)),
        ]
    }

    public func digest(network: Network) -> [UInt8] {
        EIP712.digest(
            domain: EIP712.userSignedDomain(chainId: signatureChainId), primaryType: kind.primaryType,
            fields: fields(network: network))
    }

    /// The SDK's dict after `sign_user_signed_action` added its two keys.
    public func wireValue(network: Network) -> WireValue {
        .map([
            ("destination", .string(destination)), ("amount", .string(amount)), ("time", .integer(time)),
            ("type", .string(kind.rawValue)), ("signatureChainId", .string("0x" + String(signatureChainId, radix: 16))),
            ("hyperliquidChain", .string(network.hyperliquidChain)),
        ])
    }

    /// nil when `wire` is not a user-signed action this module knows.
    public init?(wire: WireValue) throws(HyperliquidError) {
        guard let type = wire["type"]?.stringValue, let kind = Kind(rawValue: type) else { return nil }
        guard let destination = wire["destination"]?.stringValue, let amount = wire["amount"]?.stringValue,
            let time = wire["time"]?.uint64Value
        else { throw .invalidWire(type) }
        var chainId = EIP712.userSignedChainId
        if let text = wire["signatureChainId"]?.stringValue {
            let digits = text.hasPrefix("0x") ? String(text.dropFirst(2)) : text
            guard let parsed = UInt64(digits, radix: 16) else { throw .invalidWire("signatureChainId") }
            chainId = parsed
        }
        self.init(kind: kind, destination: destination, amount: amount, time: time, signatureChainId: chainId)
    }
}

/// The body POSTed to /exchange. The SDK always sends vaultAddress and expiresAfter, null if unset.
public struct ExchangeRequest: Sendable, Equatable {
    public var action: WireValue
    public var nonce: UInt64
    public var signature: Signature
    public var vaultAddress: Address?
    public var expiresAfter: UInt64?

    public init(
        action: WireValue, nonce: UInt64, signature: Signature, vaultAddress: Address? = nil,
        expiresAfter: UInt64? = nil
    ) {
        self.action = action
        self.nonce = nonce
        self.signature = signature
        self.vaultAddress = vaultAddress
        self.expiresAfter = expiresAfter
    }

    public var wireValue: WireValue {
        .map([
            ("action", action), ("nonce", .integer(nonce)), ("signature", signature.wireValue),
            ("vaultAddress", vaultAddress.map { .string($0.lowercased) } ?? .null),
            ("expiresAfter", expiresAfter.map { .integer($0) } ?? .null),
        ])
    }

    public func jsonBytes() -> [UInt8] { wireValue.jsonBytes() }
    public func jsonString() -> String { wireValue.jsonString() }

    public init(json: some Collection<UInt8>) throws(HyperliquidError) {
        let body = try WireValue(json: json)
        guard let action = body["action"], let nonce = body["nonce"]?.uint64Value, let sig = body["signature"] else {
            throw .invalidWire("exchange request")
        }
        var vault: Address?
        if let v = body["vaultAddress"], !v.isNull {
            guard let text = v.stringValue else { throw .invalidWire("vaultAddress") }
            vault = try Address(hex: text)
        }
        var expires: UInt64?
        if let e = body["expiresAfter"], !e.isNull {
            guard let value = e.uint64Value else { throw .invalidWire("expiresAfter") }
            expires = value
        }
        self.init(action: action, nonce: nonce, signature: try Signature(wire: sig), vaultAddress: vault, expiresAfter: expires)
    }
}
