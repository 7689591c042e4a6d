import Foundation

/// The SDK's `float_to_wire`: format with 8 decimals, refuse if that moved the value by
/// ≥ 1e-12, then `Decimal.normalize()` (28 significant digits, half-even) and print without
/// exponent. One deliberate difference: a negative zero result prints "0" (the SDK's `-0`
/// check never fires, so it emits "-0" for -0.0 and tiny negatives).
public func floatToWire(_ x: Double) throws(HyperliquidError) -> String {
    guard x.isFinite else { throw .floatToWireCausesRounding("\(x)") }
    let rounded = FloatToWire.formatFixed8(x)
    guard let back = Double(rounded), abs(back - x) < 1e-12 else {
        throw .floatToWireCausesRounding("\(x)")
    }
    guard var number = DecimalDigits(parsing: rounded) else { throw .invalidDecimal(rounded) }
    number.roundSignificant(to: 28)
    return number.plainString()
}

/// Exact-decimal variant: rounds half-even to 8 decimals and refuses if that changed the
/// value by ≥ 1e-12 (exactly, with no binary float in between).
public func floatToWire(_ x: Decimal) throws(HyperliquidError) -> String {
    guard x.isFinite else { throw .invalidDecimal("\(x)") }
    return try floatToWire(exact: x.description)
}

/// Exact-decimal variant for text such as "0.0147", "-12.5", "1e-8".
public func floatToWire(exact text: some StringProtocol) throws(HyperliquidError) -> String {
    guard var number = DecimalDigits(parsing: String(text)) else { throw .invalidDecimal(String(text)) }
    if number.scale > 8 {
        let dropped = number.roundHalfEven(toScale: 8)
        if dropped.changedByAtLeast1e12 { throw .floatToWireCausesRounding(String(text)) }
    }
    number.roundSignificant(to: 28)
    return number.plainString()
}

enum FloatToWire {
    /// C printf "%.8f" is correctly rounded from the exact binary value, as is Python's.
    static func formatFixed8(_ x: Double) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 400) { buf in
            let n = withVaList([x]) { vsnprintf(buf.baseAddress!, buf.count, "%.8f", $0) }
            let bytes = UnsafeRawBufferPointer(start: buf.baseAddress!, count: Int(max(0, n)))
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}

/// A decimal as sign, digit values and number of fractional digits; just enough arithmetic
/// for float_to_wire's rounding.
struct DecimalDigits {
    var negative: Bool
    var digits: [UInt8]  // most significant first, values 0...9
    var scale: Int  // digits after the point

    struct Dropped {
        /// Whether |rounded − original| ≥ 1e-12 when rounding at 8 decimals.
        var changedByAtLeast1e12: Bool
    }

    /// Accepts `[+-]digits[.digits][e[+-]digits]`.
    init?(parsing text: String) {
        var chars = Array(text.utf8)[...]
        negative = false
        if let c = chars.first, c == UInt8(ascii: "-") || c == UInt8(ascii: "+") {
            negative = c == UInt8(ascii: "-")
            chars = chars.dropFirst()
        }
        var mantissa: [UInt8] = []
        var fraction = 0
        var seenPoint = false
        var exponent = 0
        while let c = chars.first {
            if c >= 0x30 && c <= 0x39 {
                mantissa.append(c - 0x30)
                if seenPoint { fraction += 1 }
            } else if c == UInt8(ascii: "."), !seenPoint {
                seenPoint = true
            } else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                guard let e = Int(String(decoding: chars.dropFirst(), as: UTF8.self)), abs(e) < 10_000 else {
                    return nil
                }
                exponent = e
                chars = []
                break
            } else {
                return nil
            }
            chars = chars.dropFirst()
        }
        guard !mantissa.isEmpty else { return nil }
        digits = mantissa
        scale = fraction - exponent
        if scale < 0 {
            digits += [UInt8](repeating: 0, count: -scale)
            scale = 0
        }
    }

    var isZero: Bool { digits.allSatisfy { $0 == 0 } }

    /// Rounds half-even to `target` fractional digits (target < scale).
    mutating func roundHalfEven(toScale target: Int) -> Dropped {
        let drop = scale - target
        let keep = digits.count - drop
        var kept = keep > 0 ? Array(digits[0..<keep]) : []
        let droppedDigits = Array(digits[max(0, keep)...])
        let padded = [UInt8](repeating: 0, count: max(0, -keep)) + droppedDigits
        let first = padded.first ?? 0
        let restNonZero = padded.dropFirst().contains { $0 != 0 }
        let lastKeptOdd = (kept.last ?? 0) % 2 == 1
        let roundUp = first > 5 || (first == 5 && (restNonZero || lastKeptOdd))
        // In units of 1e-8 the dropped part is f = 0.padded; the change is f or 1 − f.
        let changed: Bool
        if roundUp {
            let nearOne = padded.prefix(4).elementsEqual([9, 9, 9, 9]) && padded.dropFirst(4).contains { $0 != 0 }
            changed = !nearOne
        } else {
            changed = padded.prefix(4).contains { $0 != 0 }
        }
        if roundUp { Self.increment(&kept) }
        digits = kept.isEmpty ? [0] : kept
        scale = target
        return Dropped(changedByAtLeast1e12: changed)
    }

    /// Python's Decimal context precision (28) applies in `normalize()`.
    mutating func roundSignificant(to precision: Int) {
        guard let firstNonZero = digits.firstIndex(where: { $0 != 0 }) else { return }
        let significant = digits.count - firstNonZero
        guard significant > precision else { return }
        let excess = significant - precision
        let keepCount = digits.count - excess
        var kept = Array(digits[0..<keepCount])
        let first = digits[keepCount]
        let restNonZero = digits[(keepCount + 1)...].contains { $0 != 0 }
        let roundUp = first > 5 || (first == 5 && (restNonZero || (kept.last ?? 0) % 2 == 1))
        if roundUp { Self.increment(&kept) }
        // Put the dropped positions back as zeros (or shrink the fraction).
        if excess <= scale {
            digits = kept
            scale -= excess
        } else {
            digits = kept + [UInt8](repeating: 0, count: excess - scale)
            scale = 0
        }
    }

    private static func increment(_ d: inout [UInt8]) {
        var i = d.count - 1
        while i >= 0 {
            if d[i] == 9 {
                d[i] = 0
                i -= 1
            } else {
                d[i] += 1
                return
            }
        }
        d.insert(1, at: 0)
    }

    /// Normalised plain notation: no trailing fractional zeros, no exponent, "0" for zero.
    func plainString() -> String {
        var d = digits
        var s = scale
        while s > 0, d.last == 0 {
            d.removeLast()
            s -= 1
        }
        if d.count <= s { d = [UInt8](repeating: 0, count: s - d.count + 1) + d }
        var intPart = Array(d[0..<(d.count - s)])
        while intPart.count > 1, intPart.first == 0 { intPart.removeFirst() }
        let fracPart = d[(d.count - s)...]
        if intPart == [0] && fracPart.isEmpty { return "0" }
        var out = negative ? "-" : ""
        out += String(decoding: intPart.map { $0 + 0x30 }, as: UTF8.self)
        if !fracPart.isEmpty {
            out += "." + String(decoding: fracPart.map { $0 + 0x30 }, as: UTF8.self)
        }
        return out
    }
}
