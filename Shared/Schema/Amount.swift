import Foundation

/// An exact decimal: a price, a size or a sum of money.
///
/// On the wire it is a JSON string ("105055.5"), never a binary float, so that no
/// peer ever rounds a price. Arithmetic is Foundation's `Decimal` (38 digits), with its results
/// computed in fixed-width integers where the operands allow (`ExactDecimal`): the same values,
/// without Foundation's long arithmetic on the heap.
public struct Amount: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var decimal: Decimal

    public init(_ decimal: Decimal) { self.decimal = decimal }
    public init(_ int: Int) { self.decimal = Decimal(int) }

    /// Converts a double through its shortest round-trip text, so 0.1 becomes exactly 0.1.
    public init(_ double: Double) {
        precondition(double.isFinite, "Amount from a non-finite double")
        let text = "\(double)"
        // The text's digits straight into a decimal: `Decimal(string:)` costs microseconds, and the
        // quoter converts a double for every tier of every book update.
        self.decimal =
            Self.decimal(shortestText: text) ?? Decimal(string: text, locale: Self.posix) ?? Decimal(double)
    }

    /// Strict parse: an optional minus, digits, an optional fraction. No exponent, no spaces.
    public init?(_ text: some StringProtocol) {
        guard Amount.isPlainDecimal(text), let value = Decimal(string: String(text), locale: Self.posix)
        else { return nil }
        self.decimal = value
    }

    private static let posix = Locale(identifier: "en_US_POSIX")

    /// The value of a double's shortest text ("12.5", "1e-05", "1.5e+20"), compact (no trailing
    /// zeros in the significand, as `Decimal(string:)` leaves it); nil when it is not of that form,
    /// has more than 19 digits or an exponent far outside what prices and sizes use.
    static func decimal(shortestText text: String) -> Decimal? {
        var significand: UInt64 = 0
        var digits = 0
        var exponent = 0
        var negative = false
        var seenPoint = false
        var inExponent = false
        var exponentNegative = false
        var exponentValue = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "-"):
                if inExponent { exponentNegative = true } else { negative = true }
            case UInt8(ascii: "+") where inExponent: continue
            case UInt8(ascii: ".") where !seenPoint && !inExponent: seenPoint = true
            case UInt8(ascii: "e") where !inExponent: inExponent = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let digit = UInt64(byte - UInt8(ascii: "0"))
                if inExponent {
                    guard exponentValue < 1_000 else { return nil }
                    exponentValue = exponentValue * 10 + Int(digit)
                } else {
                    if significand > 0 || digit > 0 { digits += 1 }
                    guard digits <= 19 else { return nil }
                    significand = significand * 10 + digit
                    if seenPoint { exponent -= 1 }
                }
            default: return nil
            }
        }
        exponent += exponentNegative ? -exponentValue : exponentValue
        guard significand > 0 else { return Decimal.zero }
        while significand % 10 == 0 {
            significand /= 10
            exponent += 1
        }
        guard (-100...100).contains(exponent) else { return nil }
        return Decimal(sign: negative ? .minus : .plus, exponent: exponent, significand: Decimal(significand))
    }

    /// self × 10^power, exact: the same value as multiplying or dividing by that power of ten, by
    /// moving the exponent instead of long arithmetic (a division costs tens of microseconds).
    public func scaled(byPowerOfTen power: Int) -> Amount {
        guard !decimal.isZero, !decimal.isNaN else { return self }
        return Amount(Decimal(sign: decimal.sign, exponent: decimal.exponent + power, significand: decimal.significand))
    }

    /// (self ÷ divisor) rounded down to `scale` places, as `(self / divisor).rounded(scale:, .down)`
    /// gives it, without Foundation's long division when both are non-negative.
    public func quotient(dividingBy divisor: Amount, roundedDownTo scale: Int) -> Amount {
        if let exact = ExactDecimal.flooredQuotient(decimal, divisor.decimal, scale: scale) { return Amount(exact) }
        return (self / divisor).rounded(scale: scale, .down)
    }

    public static let zero = Amount(Decimal.zero)

    public var doubleValue: Double {
        ExactDecimal.doubleValue(decimal) ?? NSDecimalNumber(decimal: decimal).doubleValue
    }
    public var isZero: Bool { decimal.isZero }
    // The sign is read, not compared against zero: a comparison of a 38-digit value costs microseconds.
    // A NaN keeps the comparison's answer.
    public var isNegative: Bool { decimal.isNaN ? decimal < 0 : !decimal.isZero && decimal.sign == .minus }
    public var isPositive: Bool { decimal.isNaN ? decimal > 0 : !decimal.isZero && decimal.sign == .plus }
    public var magnitude: Amount { Amount(isNegative ? -decimal : decimal) }
    public var signum: Int { isPositive ? 1 : (isNegative ? -1 : 0) }

    /// Rounds to `scale` decimal places.
    public func rounded(scale: Int, _ mode: NSDecimalNumber.RoundingMode = .plain) -> Amount {
        if let result = ExactDecimal.rounded(decimal, scale: scale, mode: mode) { return Amount(result) }
        var source = decimal
        var result = Decimal()
        NSDecimalRound(&result, &source, scale, mode)
        return Amount(result)
    }

    public var description: String {
        // Decimal prints plain digits without exponent; normalise "-0" away.
        decimal.isZero ? "0" : decimal.description
    }

    public static func == (lhs: Amount, rhs: Amount) -> Bool {
        ExactDecimal.compare(lhs.decimal, rhs.decimal).map { $0 == 0 } ?? (lhs.decimal == rhs.decimal)
    }
    public static func < (lhs: Amount, rhs: Amount) -> Bool {
        ExactDecimal.compare(lhs.decimal, rhs.decimal).map { $0 < 0 } ?? (lhs.decimal < rhs.decimal)
    }
    public static func + (lhs: Amount, rhs: Amount) -> Amount {
        Amount(ExactDecimal.sum(lhs.decimal, rhs.decimal) ?? lhs.decimal + rhs.decimal)
    }
    public static func - (lhs: Amount, rhs: Amount) -> Amount {
        Amount(ExactDecimal.sum(lhs.decimal, rhs.decimal, subtracting: true) ?? lhs.decimal - rhs.decimal)
    }
    public static func * (lhs: Amount, rhs: Amount) -> Amount {
        Amount(ExactDecimal.product(lhs.decimal, rhs.decimal) ?? lhs.decimal * rhs.decimal)
    }
    public static func / (lhs: Amount, rhs: Amount) -> Amount {
        Amount(ExactDecimal.quotient(lhs.decimal, rhs.decimal) ?? lhs.decimal / rhs.decimal)
    }
    public static prefix func - (value: Amount) -> Amount { Amount(-value.decimal) }
    public static func += (lhs: inout Amount, rhs: Amount) { lhs = lhs + rhs }
    public static func -= (lhs: inout Amount, rhs: Amount) { lhs = lhs - rhs }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Amount(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "not a plain decimal string: \"\(text.prefix(40))\"")
        }
        self = value
    }

    /// A NaN (from a division by zero) is refused here, so it never reaches the wire.
    public func encode(to encoder: any Encoder) throws {
        guard !decimal.isNaN else {
            throw EncodingError.invalidValue(
                self, .init(codingPath: encoder.codingPath, debugDescription: "Amount is not a number"))
        }
        var container = encoder.singleValueContainer()
        try container.encode(wireValue.description)
    }

    /// The value as the wire carries it: at most 38 significant digits (the contract's limit, what
    /// every reader parses). Arithmetic can leave 39 (an average entry price, a microprice); those
    /// lose their last digit, rounded half up.
    public var wireValue: Amount {
        guard decimal.significand.magnitude >= Self.smallestThirtyNineDigits else { return self }
        return rounded(scale: -decimal.exponent - 1)
    }

    private static let smallestThirtyNineDigits = Decimal(sign: .plus, exponent: 38, significand: 1)

    public var isNaN: Bool { decimal.isNaN }

    /// Up to 38 significant digits (first to last non-zero digit): what `Decimal` holds
    /// exactly, so whatever arithmetic produces can be read back.
    static func isPlainDecimal(_ text: some StringProtocol) -> Bool {
        var digitsBefore = 0, digitsAfter = 0, seenPoint = false
        var digitIndex = 0, firstNonZero: Int?, lastNonZero = 0
        for (index, byte) in text.utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "-") where index == 0: continue
            case UInt8(ascii: "."):
                if seenPoint { return false }
                seenPoint = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if seenPoint { digitsAfter += 1 } else { digitsBefore += 1 }
                if byte != UInt8(ascii: "0") {
                    if firstNonZero == nil { firstNonZero = digitIndex }
                    lastNonZero = digitIndex
                }
                digitIndex += 1
            default: return false
            }
        }
        let significant = firstNonZero.map { lastNonZero - $0 + 1 } ?? 0
        return digitsBefore > 0 && (!seenPoint || digitsAfter > 0) && significant <= 38
            && digitsBefore + digitsAfter <= 80
    }
}

extension Amount: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) { self.init(value) }
}

extension Amount: ExpressibleByStringLiteral {
    /// For literals in code and tests; a malformed literal is a programming error.
    public init(stringLiteral value: String) {
        guard let amount = Amount(value) else { preconditionFailure("malformed Amount literal \(value)") }
        self = amount
    }
}

extension Sequence where Element == Amount {
    public func sum() -> Amount { reduce(.zero, +) }
}
