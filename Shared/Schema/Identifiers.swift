/// Identifiers that travel on the bus.
public enum Identifier {
    /// 16 random bytes as 32 hex digits: instance ids.
    public static func random(using generator: inout some RandomNumberGenerator) -> String {
        hex(generator.next() as UInt64) + hex(generator.next() as UInt64)
    }

    /// The time (ns since the epoch) and 8 random bytes as 32 hex digits: trace ids, intent ids.
    /// Ids made later sort later, so the trace database's index on them grows at its end instead of
    /// taking a write at a random page for every envelope.
    public static func timeOrdered(at time: EpochNanos, using generator: inout some RandomNumberGenerator) -> String {
        hex(UInt64(bitPattern: time)) + hex(generator.next() as UInt64)
    }

    /// The client order id for an intent: "0x" and 32 hex digits, as Hyperliquid's cloid wants.
    /// Derived, not drawn, so the same intent can never become two orders.
    public static func clientOrderId(forIntent intentId: String) -> String {
        let (high, low) = fnv1a128(Array(intentId.utf8))
        return "0x" + hex(high) + hex(low)
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// FNV-1a, 128-bit: well spread and stable across processes and platforms.
    static func fnv1a128(_ bytes: [UInt8]) -> (UInt64, UInt64) {
        // offset basis 0x6c62272e07bb014262b821756295c58d, prime 2^88 + 0x13b
        var high: UInt64 = 0x6c62_272e_07bb_0142
        var low: UInt64 = 0x62b8_2175_6295_c58d
        for byte in bytes {
            low ^= UInt64(byte)
            // (high, low) *= 2^88 + 0x13b, modulo 2^128
            let (lowProductHigh, lowProductLow) = low.multipliedFullWidth(by: 0x13b)
            let newHigh = high &* 0x13b &+ lowProductHigh &+ (low << 24)
            high = newHigh
            low = lowProductLow
        }
        return (high, low)
    }
}
