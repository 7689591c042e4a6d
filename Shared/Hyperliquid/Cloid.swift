/// Client order id: 16 bytes, on the wire (and `Codable`) as "0x" + 32 lowercase hex digits.
public struct Cloid: Hashable, Sendable, CustomStringConvertible, Codable {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws(HyperliquidError) {
        guard bytes.count == 16 else { throw .invalidCloid(Hex.encode(bytes)) }
        self.bytes = bytes
    }

    /// The SDK's `Cloid(raw)`: must be "0x" followed by exactly 32 hex digits.
    public init(hex: String) throws(HyperliquidError) {
        guard hex.hasPrefix("0x"), hex.utf8.count == 34 else { throw .invalidCloid(hex) }
        do { bytes = try Hex.decode(hex) } catch { throw .invalidCloid(hex) }
    }

    /// The SDK's `Cloid.from_int`.
    public init(_ value: UInt128) {
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<16 { out[15 - i] = UInt8(truncatingIfNeeded: value >> (8 * UInt128(i))) }
        bytes = out
    }

    /// Deterministic id for an intent: first 16 bytes of keccak256(intentId as UTF-8), so a
    /// retried intent carries the same cloid and the exchange can de-duplicate it.
    public init(intentId: String) {
        bytes = Array(Keccak256.hash(Array(intentId.utf8)).prefix(16))
    }

    public var rawValue: String { Hex.encode(bytes) }
    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(hex: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a cloid: \(text)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
