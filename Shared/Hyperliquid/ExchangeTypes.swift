import Foundation
import Schema

/// An order in trading terms: coin, exact decimals. The client resolves the coin to its asset index,
/// rounds price and size by the asset's rules (`Instrument`) and writes them `floatToWire`-exact.
public struct OrderRequest: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case limit(Tif)
        /// A stop or take-profit; `isMarket` fills at market (within `limitPrice`) when triggered.
        case trigger(triggerPrice: Amount, isMarket: Bool, tpsl: Tpsl)
    }

    public var coin: String
    public var isBuy: Bool
    public var size: Amount
    public var limitPrice: Amount
    public var kind: Kind
    public var reduceOnly: Bool
    public var cloid: Cloid?

    public init(
        coin: String, isBuy: Bool, size: Amount, limitPrice: Amount, kind: Kind, reduceOnly: Bool = false,
        cloid: Cloid? = nil
    ) {
        self.coin = coin
        self.isBuy = isBuy
        self.size = size
        self.limitPrice = limitPrice
        self.kind = kind
        self.reduceOnly = reduceOnly
        self.cloid = cloid
    }

    public static func limit(
        _ coin: String, isBuy: Bool, size: Amount, price: Amount, tif: Tif = .gtc, reduceOnly: Bool = false,
        cloid: Cloid? = nil
    ) -> OrderRequest {
        OrderRequest(
            coin: coin, isBuy: isBuy, size: size, limitPrice: price, kind: .limit(tif), reduceOnly: reduceOnly,
            cloid: cloid)
    }

    public static func trigger(
        _ coin: String, isBuy: Bool, size: Amount, limitPrice: Amount, triggerPrice: Amount, isMarket: Bool, tpsl: Tpsl,
        reduceOnly: Bool = true, cloid: Cloid? = nil
    ) -> OrderRequest {
        OrderRequest(
            coin: coin, isBuy: isBuy, size: size, limitPrice: limitPrice,
            kind: .trigger(triggerPrice: triggerPrice, isMarket: isMarket, tpsl: tpsl), reduceOnly: reduceOnly,
            cloid: cloid)
    }
}

/// How prices are brought onto the asset's tick before signing.
public enum PriceRounding: Sendable, Hashable {
    /// To the nearest valid price (half up).
    case nearest
    /// Never more aggressive than asked: a buy rounds down, a sell up.
    case passive

    func mode(isBuy: Bool) -> NSDecimalNumber.RoundingMode {
        switch self {
        case .nearest: .plain
        case .passive: isBuy ? .down : .up
        }
    }
}

/// An order to modify (by oid or cloid) and what it becomes.
public struct ModifyRequest: Sendable, Hashable {
    public var target: OrderRef
    public var order: OrderRequest
    public init(target: OrderRef, order: OrderRequest) {
        self.target = target
        self.order = order
    }
}

/// One order's outcome in an `order` or `batchModify` answer.
public enum OrderStatus: Sendable, Hashable {
    case resting(oid: UInt64, cloid: Cloid?)
    case filled(totalSz: Amount, avgPx: Amount, oid: UInt64, cloid: Cloid?)
    /// The exchange's own text, e.g. "Order must have minimum value of $10.".
    case error(String)
    /// A `normalTpsl` child whose parent has not filled yet.
    case waitingForFill
    /// A `normalTpsl` child armed (its parent filled).
    case waitingForTrigger

    public var oid: UInt64? {
        switch self {
        case .resting(let oid, _), .filled(_, _, let oid, _): oid
        default: nil
        }
    }

    public var errorMessage: String? { if case .error(let message) = self { message } else { nil } }
}

/// One cancel's outcome.
public enum CancelStatus: Sendable, Hashable {
    case success
    case error(String)

    public var errorMessage: String? { if case .error(let message) = self { message } else { nil } }
}

// MARK: Wire

extension OrderRequest {
    /// The signed wire form: price and sizes rounded by `instrument`, then `floatToWire`.
    public func wire(asset: Int, instrument: Instrument, rounding: PriceRounding = .nearest)
        throws(HyperliquidClientError)
        -> OrderWire
    {
        guard limitPrice.isPositive else { throw .invalidRequest("\(coin): price \(limitPrice) must be positive") }
        guard size.isPositive else { throw .invalidRequest("\(coin): size \(size) must be positive") }
        let px = instrument.roundPrice(limitPrice, rounding.mode(isBuy: isBuy))
        let sz = instrument.roundSize(size)
        guard px.isPositive else { throw .invalidRequest("\(coin): price \(limitPrice) rounds to zero") }
        guard sz.isPositive else {
            throw .invalidRequest("\(coin): size \(size) rounds to zero at \(instrument.szDecimals) decimals")
        }
        let type: OrderType
        switch kind {
        case .limit(let tif):
            type = .limit(tif)
        case .trigger(let triggerPrice, let isMarket, let tpsl):
            guard triggerPrice.isPositive else { throw .invalidRequest("\(coin): trigger price must be positive") }
            let trigger = instrument.roundPrice(triggerPrice, rounding.mode(isBuy: isBuy))
            type = .trigger(isMarket: isMarket, triggerPx: try Self.wireString(trigger), tpsl: tpsl)
        }
        return OrderWire(
            asset: asset, isBuy: isBuy, limitPx: try Self.wireString(px), size: try Self.wireString(sz),
            reduceOnly: reduceOnly, orderType: type, cloid: cloid)
    }

    /// `float_to_wire` of an exact decimal.
    static func wireString(_ amount: Amount) throws(HyperliquidClientError) -> String {
        do {
            return try floatToWire(exact: amount.description)
        } catch {
            throw .invalidRequest("\(amount) cannot be written exactly: \(error)")
        }
    }
}

// MARK: Decoding

/// Decoders of `/exchange` answers; public so captured responses can be decoded without a client.
public enum ExchangeDecoding {
    /// The `response` of `{"status":"ok","response":…}`; `{"status":"err","response":"…"}` throws
    /// `exchangeRejected` with the exchange's string.
    static func okResponse(_ body: some Collection<UInt8>, what: String) throws(HyperliquidClientError)
        -> ResponseReader
    {
        let r = try ResponseReader(json: body, what: what)
        let status = try r.string("status")
        switch status {
        case "ok":
            return try r.field("response")
        case "err":
            let response = try r.optionalField("response")
            throw .exchangeRejected(response?.value.stringValue ?? response?.value.jsonString() ?? "")
        default:
            throw r.fail("unknown status \"\(status.prefix(40))\"")
        }
    }

    /// Statuses of an `order` or `batchModify` answer, one per order sent.
    public static func orderStatuses(_ body: some Collection<UInt8>, expected: Int? = nil)
        throws(HyperliquidClientError)
        -> [OrderStatus]
    {
        let response = try okResponse(body, what: "order")
        let list = try response.field("data").field("statuses").array()
        if let expected, list.count != expected {
            throw .malformedResponse("order: \(list.count) statuses for \(expected) orders")
        }
        var out: [OrderStatus] = []
        for s in list { out.append(try orderStatus(s)) }
        return out
    }

    static func orderStatus(_ s: ResponseReader) throws(HyperliquidClientError) -> OrderStatus {
        if let text = s.value.stringValue {
            switch text {
            case "waitingForFill": return .waitingForFill
            case "waitingForTrigger": return .waitingForTrigger
            default: throw s.fail("unknown order status \"\(text.prefix(40))\"")
            }
        }
        if let resting = try s.optionalField("resting") {
            return .resting(oid: try resting.uint64("oid"), cloid: try resting.optionalCloid("cloid"))
        }
        if let filled = try s.optionalField("filled") {
            return .filled(
                totalSz: try filled.amount("totalSz"), avgPx: try filled.amount("avgPx"), oid: try filled.uint64("oid"),
                cloid: try filled.optionalCloid("cloid"))
        }
        if let error = try s.optionalField("error") { return .error(try error.string()) }
        throw s.fail("not resting, filled or error")
    }

    /// Statuses of a `cancel` or `cancelByCloid` answer.
    public static func cancelStatuses(_ body: some Collection<UInt8>, expected: Int? = nil)
        throws(HyperliquidClientError)
        -> [CancelStatus]
    {
        let response = try okResponse(body, what: "cancel")
        let list = try response.field("data").field("statuses").array()
        if let expected, list.count != expected {
            throw .malformedResponse("cancel: \(list.count) statuses for \(expected) cancels")
        }
        var out: [CancelStatus] = []
        for s in list {
            if s.value.stringValue == "success" {
                out.append(.success)
            } else if let error = try s.optionalField("error") {
                out.append(.error(try error.string()))
            } else {
                throw s.fail("not success or error")
            }
        }
        return out
    }

    /// An action answered `{"status":"ok","response":{"type":"default"}}` (modify, scheduleCancel,
    /// updateLeverage). An error status inside `data.statuses` (some actions answer that way) throws
    /// `exchangeRejected`.
    public static func acknowledgement(_ body: some Collection<UInt8>, what: String) throws(HyperliquidClientError) {
        let response = try okResponse(body, what: what)
        if let statuses = try response.optionalField("data")?.optionalField("statuses") {
            for s in try statuses.array() {
                if let error = try s.optionalField("error") { throw .exchangeRejected(try error.string()) }
            }
        }
    }
}
