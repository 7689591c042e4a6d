import Foundation
import Hyperliquid
import Schema

/// Number formatting and small JSON builders in Hyperliquid's style: decimals are strings,
/// whole numbers keep one fractional zero ("105056.0"), money has at most 6 decimals.
public enum Wire {
    /// "105056.0", "0.1428", "-3.5".
    static func decimal(_ value: Amount) -> String {
        var text = plain(value)
        if !text.contains(".") { text += ".0" }
        return text
    }

    /// Money: rounded half-up to 6 decimals, then like `decimal`.
    static func usd(_ value: Amount) -> String { decimal(value.rounded(scale: 6, .plain)) }

    /// Normalised digits without trailing fractional zeros ("105056", "0.5").
    public static func plain(_ value: Amount) -> String {
        if value.isZero { return "0" }
        var text = value.decimal.description
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }

    public static func amount(_ text: String) -> Amount? {
        // Accept what clients send: plain decimals, a leading "+" or an exponent (float_to_wire never emits
        // one, but a hand-written client might).
        if let a = Amount(text) { return a }
        guard let d = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")), !d.isNaN else { return nil }
        return Amount(d)
    }

    /// 0x + 64 hex digits derived from a counter: stands in for a transaction hash.
    static func hash(_ seed: UInt64, salt: UInt8 = 0) -> String {
        var bytes: [UInt8] = [salt]
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: seed >> (8 * UInt64(i)))) }
        return Hex.encode(Keccak256.hash(bytes))
    }
}

extension WireValue {
    /// An ordered JSON object.
    public static func object(_ entries: [(String, WireValue)]) -> WireValue {
        .map(entries.map { (key: $0.0, value: $0.1) })
    }

    public static func decimal(_ value: Amount) -> WireValue { .string(Wire.decimal(value)) }
    public static func usd(_ value: Amount) -> WireValue { .string(Wire.usd(value)) }
    static func ms(_ value: UInt64) -> WireValue { .integer(value) }

    /// Replaces or appends `key` in a map.
    func setting(_ key: String, _ value: WireValue) -> WireValue {
        guard case .map(var entries) = self else { return self }
        if let index = entries.firstIndex(where: { $0.key == key }) {
            entries[index].value = value
        } else {
            entries.append((key: key, value: value))
        }
        return .map(entries)
    }
}

extension Amount {
    var absolute: Amount { magnitude }
    static func min(_ a: Amount, _ b: Amount) -> Amount { a < b ? a : b }
    static func max(_ a: Amount, _ b: Amount) -> Amount { a < b ? b : a }
}

/// A JSON answer with its HTTP status.
public struct HTTPReply: Sendable, Equatable {
    public var status: Int
    public var body: String
    public var contentType: String = "application/json"

    public init(status: Int, body: String, contentType: String = "application/json") {
        self.status = status
        self.body = body
        self.contentType = contentType
    }

    public static func json(_ value: WireValue, status: Int = 200) -> HTTPReply {
        HTTPReply(status: status, body: value.jsonString())
    }

    public static func text(_ text: String, status: Int) -> HTTPReply {
        HTTPReply(status: status, body: text, contentType: "text/plain; charset=utf-8")
    }

    /// {"status":"err","response":"…"} with HTTP 200, as the exchange answers a refused action.
    static func err(_ message: String) -> HTTPReply {
        json(.object([("status", .string("err")), ("response", .string(message))]))
    }

    /// {"status":"ok","response":{"type":…, "data"?: …}}.
    static func ok(type: String, data: WireValue? = nil) -> HTTPReply {
        var response: [(String, WireValue)] = [("type", .string(type))]
        if let data { response.append(("data", data)) }
        return json(.object([("status", .string("ok")), ("response", .object(response))]))
    }
}
