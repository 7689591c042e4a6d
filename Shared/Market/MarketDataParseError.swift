import Foundation
import Schema

/// A venue message that could not be read: malformed JSON, a missing field, or a
/// value outside what the venue documents.
public struct MarketDataParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var venue: String
    public var message: String

    public init(venue: String, message: String) {
        self.venue = venue
        self.message = message
    }

    public var description: String { "\(venue): \(message)" }
}

/// Helpers shared by the venue decoders.
enum WireValue {
    /// An exact decimal from a venue's string; venues never send exponents here.
    static func amount(_ text: String, field: String, venue: String) throws -> Amount {
        guard let amount = DecimalText.amount(text) else {
            throw MarketDataParseError(venue: venue, message: "\(field) is not a plain decimal: \"\(text.prefix(40))\"")
        }
        return amount
    }

    /// A price level from text; prices must be positive, sizes non-negative (zero removes).
    static func level(price: String, size: String, venue: String) throws -> BookLevel {
        let price = try amount(price, field: "price", venue: venue)
        let size = try amount(size, field: "size", venue: venue)
        guard price.isPositive else {
            throw MarketDataParseError(venue: venue, message: "non-positive price \(price)")
        }
        guard !size.isNegative else {
            throw MarketDataParseError(venue: venue, message: "negative size \(size) at \(price)")
        }
        return BookLevel(price: price, size: size)
    }

    /// Epoch nanoseconds from a venue's milliseconds; a time beyond what nanoseconds hold (about the
    /// year 2262) is a parse error, not an overflow trap.
    static func nanos(fromMilliseconds milliseconds: Int64, venue: String) throws -> EpochNanos {
        let (nanos, overflow) = milliseconds.multipliedReportingOverflow(by: 1_000_000)
        guard !overflow else {
            throw MarketDataParseError(venue: venue, message: "time \(milliseconds) ms is out of range")
        }
        return nanos
    }

    /// Runs a JSONDecoder and reports its failure as a parse error of this venue.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data, with decoder: JSONDecoder, venue: String) throws
        -> T
    {
        try decode(venue: venue) { try decoder.decode(type, from: data) }
    }

    /// Runs a decoder and reports its failure as a parse error of this venue.
    static func decode<T>(venue: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as MarketDataParseError {
            throw error
        } catch let DecodingError.dataCorrupted(context) {
            throw MarketDataParseError(venue: venue, message: "malformed: \(context.debugDescription)\(path(context))")
        } catch let DecodingError.keyNotFound(key, context) {
            throw MarketDataParseError(venue: venue, message: "missing \(key.stringValue)\(path(context))")
        } catch let DecodingError.typeMismatch(_, context) {
            throw MarketDataParseError(venue: venue, message: "wrong type: \(context.debugDescription)\(path(context))")
        } catch let DecodingError.valueNotFound(_, context) {
            throw MarketDataParseError(venue: venue, message: "null value\(path(context))")
        } catch {
            throw MarketDataParseError(venue: venue, message: "\(error)")
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        let keys = context.codingPath.map(\.stringValue)
        return keys.isEmpty ? "" : " at \(keys.joined(separator: "."))"
    }
}

/// A coding key for any JSON object member.
struct AnyKey: CodingKey, ExpressibleByStringLiteral {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
    init(stringLiteral value: String) { self.stringValue = value }
}

/// Parses venue decimal strings ("61800.20") exactly, about twenty times faster than
/// `Amount(_: String)`, which goes through a locale and `Decimal(string:)`: a depth
/// diff carries a hundred of them. Same grammar as `Amount`: an optional minus,
/// digits, an optional point followed by digits.
enum DecimalText {
    static func amount(_ text: String) -> Amount? {
        var significand: UInt64 = 0
        var significantDigits = 0
        var digitsBefore = 0
        var digitsAfter = 0
        var seenPoint = false
        var negative = false
        for (index, byte) in text.utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "-") where index == 0:
                negative = true
            case UInt8(ascii: "."):
                if seenPoint { return nil }
                seenPoint = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if seenPoint { digitsAfter += 1 } else { digitsBefore += 1 }
                let digit = UInt64(byte - UInt8(ascii: "0"))
                if significand == 0 && digit == 0 { continue }
                significantDigits += 1
                // Past 19 digits a UInt64 may overflow: leave the rare long one to Amount.
                if significantDigits > 19 { return Amount(text) }
                significand = significand * 10 + digit
            default:
                return nil
            }
        }
        guard digitsBefore > 0, !seenPoint || digitsAfter > 0 else { return nil }
        // Long texts (leading or trailing zeros) are Amount's to judge: one rule for what is valid.
        if digitsBefore + digitsAfter > 38 { return Amount(text) }
        return Amount(
            Decimal(sign: negative ? .minus : .plus, exponent: -digitsAfter, significand: Decimal(significand)))
    }
}
