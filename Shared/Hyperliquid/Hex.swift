/// Hex encoding helpers shared by addresses, hashes, cloids and signatures.
public enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Lowercase hex, with "0x" unless `prefix` is false.
    public static func encode(_ bytes: some Sequence<UInt8>, prefix: Bool = true) -> String {
        var out: [UInt8] = prefix ? [0x30, 0x78] : []
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex with or without "0x". An odd length is left-padded with a zero nibble
    /// because eth `to_hex` drops leading zeros (r/s of signatures).
    public static func decode(_ text: String) throws(HyperliquidError) -> [UInt8] {
        var utf8 = Substring(text).utf8[...]
        if utf8.starts(with: "0x".utf8) || utf8.starts(with: "0X".utf8) { utf8 = utf8.dropFirst(2) }
        var nibbles: [UInt8] = []
        nibbles.reserveCapacity(utf8.count + 1)
        if utf8.count % 2 == 1 { nibbles.append(0) }
        for c in utf8 {
            switch c {
            case 0x30...0x39: nibbles.append(c - 0x30)
            case 0x61...0x66: nibbles.append(c - 0x61 + 10)
            case 0x41...0x46: nibbles.append(c - 0x41 + 10)
            default: throw .invalidHex(text)
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(nibbles.count / 2)
        var i = 0
        while i < nibbles.count {
            out.append(nibbles[i] << 4 | nibbles[i + 1])
            i += 2
        }
        return out
    }

    /// Decodes exactly `count` bytes (left-padding shorter input, as eth_account does for r/s).
    public static func decode(_ text: String, count: Int) throws(HyperliquidError) -> [UInt8] {
        let raw = try decode(text)
        if raw.count > count { throw .invalidHex(text) }
        return [UInt8](repeating: 0, count: count - raw.count) + raw
    }

    /// Like Python's `to_hex(int)`: "0x" + minimal hex digits, "0x0" for zero.
    public static func encodeMinimal(_ bytes: [UInt8]) -> String {
        let full = encode(bytes, prefix: false)
        let trimmed = full.drop(while: { $0 == "0" })
        return "0x" + (trimmed.isEmpty ? "0" : String(trimmed))
    }
}

/// Every error this module throws.
public enum HyperliquidError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidHex(String)
    case invalidPrivateKey
    case invalidAddress(String)
    case invalidSignature(String)
    case signingFailed
    case recoveryFailed
    case invalidCloid(String)
    /// Same message as the SDK's `ValueError("float_to_wire causes rounding", x)`.
    case floatToWireCausesRounding(String)
    case invalidDecimal(String)
    case invalidJSON(String)
    case invalidWire(String)
    case nonceTooFarAhead(nonce: UInt64, clock: UInt64)

    public var description: String {
        switch self {
        case .invalidHex(let s): "invalid hex: \(s)"
        case .invalidPrivateKey: "invalid private key"
        case .invalidAddress(let s): "invalid address: \(s)"
        case .invalidSignature(let s): "invalid signature: \(s)"
        case .signingFailed: "secp256k1 signing failed"
        case .recoveryFailed: "signature recovery failed"
        case .invalidCloid(let s): "invalid cloid: \(s)"
        case .floatToWireCausesRounding(let x): "float_to_wire causes rounding: \(x)"
        case .invalidDecimal(let s): "invalid decimal: \(s)"
        case .invalidJSON(let s): "invalid JSON: \(s)"
        case .invalidWire(let s): "invalid wire value: \(s)"
        case .nonceTooFarAhead(let n, let c): "nonce \(n) too far ahead of clock \(c)"
        }
    }
}
