/// A JSON/msgpack value with ordered map keys. The action hash is over msgpack of the
/// SDK's dicts, whose insertion order is part of the signed bytes, so order must survive.
public indirect enum WireValue: Sendable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int64)
    /// Only needed above `Int64.max`; `==` compares integers by value either way.
    case uint(UInt64)
    case double(Double)
    case string(String)
    case binary([UInt8])
    case array([WireValue])
    case map([(key: String, value: WireValue)])

    public static func == (lhs: WireValue, rhs: WireValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case let (.bool(a), .bool(b)): a == b
        case let (.int(a), .int(b)): a == b
        case let (.uint(a), .uint(b)): a == b
        case let (.int(a), .uint(b)), let (.uint(b), .int(a)): a >= 0 && UInt64(a) == b
        case let (.double(a), .double(b)): a == b
        case let (.string(a), .string(b)): a == b
        case let (.binary(a), .binary(b)): a == b
        case let (.array(a), .array(b)): a == b
        case let (.map(a), .map(b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    /// Integer that picks `.int` when it fits, like a Python int.
    public static func integer(_ v: some BinaryInteger) -> WireValue {
        if let i = Int64(exactly: v) { return .int(i) }
        return .uint(UInt64(v))
    }

    /// Value for `key` in a map (first match), nil otherwise.
    public subscript(key: String) -> WireValue? {
        guard case .map(let entries) = self else { return nil }
        return entries.first(where: { $0.key == key })?.value
    }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var arrayValue: [WireValue]? { if case .array(let a) = self { a } else { nil } }
    public var isNull: Bool { if case .null = self { true } else { false } }
    public var int64Value: Int64? {
        switch self {
        case .int(let i): i
        case .uint(let u): Int64(exactly: u)
        default: nil
        }
    }
    public var uint64Value: UInt64? {
        switch self {
        case .int(let i): UInt64(exactly: i)
        case .uint(let u): u
        default: nil
        }
    }

    public var description: String { jsonString() }
}

/// Encoder matching Python `msgpack.packb` (msgpack ≥ 1.0 defaults: use_bin_type=True,
/// so str8 is used and bytes become bin; floats are float64; ints take the smallest form).
public enum MessagePack {
    public static func pack(_ value: WireValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        pack(value, into: &out)
        return out
    }

    public static func pack(_ value: WireValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(0xc0)
        case .bool(let b): out.append(b ? 0xc3 : 0xc2)
        case .int(let i):
            if i >= 0 { packUnsigned(UInt64(i), into: &out) } else { packNegative(i, into: &out) }
        case .uint(let u): packUnsigned(u, into: &out)
        case .double(let d):
            out.append(0xcb)
            appendBigEndian(d.bitPattern, into: &out)
        case .string(let s):
            let bytes = Array(s.utf8)
            let n = bytes.count
            if n <= 31 {
                out.append(0xa0 | UInt8(n))
            } else if n <= 0xff {
                out.append(0xd9); out.append(UInt8(n))
            } else if n <= 0xffff {
                out.append(0xda); appendBigEndian(UInt16(n), into: &out)
            } else {
                out.append(0xdb); appendBigEndian(UInt32(n), into: &out)
            }
            out.append(contentsOf: bytes)
        case .binary(let bytes):
            let n = bytes.count
            if n <= 0xff {
                out.append(0xc4); out.append(UInt8(n))
            } else if n <= 0xffff {
                out.append(0xc5); appendBigEndian(UInt16(n), into: &out)
            } else {
                out.append(0xc6); appendBigEndian(UInt32(n), into: &out)
            }
            out.append(contentsOf: bytes)
        case .array(let items):
            packHeader(items.count, fix: 0x90, b16: 0xdc, b32: 0xdd, into: &out)
            for item in items { pack(item, into: &out) }
        case .map(let entries):
            packHeader(entries.count, fix: 0x80, b16: 0xde, b32: 0xdf, into: &out)
            for (k, v) in entries {
                pack(.string(k), into: &out)
                pack(v, into: &out)
            }
        }
    }

    private static func packHeader(_ n: Int, fix: UInt8, b16: UInt8, b32: UInt8, into out: inout [UInt8]) {
        if n <= 15 {
            out.append(fix | UInt8(n))
        } else if n <= 0xffff {
            out.append(b16); appendBigEndian(UInt16(n), into: &out)
        } else {
            out.append(b32); appendBigEndian(UInt32(n), into: &out)
        }
    }

    private static func packUnsigned(_ u: UInt64, into out: inout [UInt8]) {
        switch u {
        case 0...0x7f: out.append(UInt8(u))
        case 0...0xff: out.append(0xcc); out.append(UInt8(u))
        case 0...0xffff: out.append(0xcd); appendBigEndian(UInt16(u), into: &out)
        case 0...0xffff_ffff: out.append(0xce); appendBigEndian(UInt32(u), into: &out)
        default: out.append(0xcf); appendBigEndian(u, into: &out)
        }
    }

    private static func packNegative(_ i: Int64, into out: inout [UInt8]) {
        switch i {
        case -32...(-1): out.append(UInt8(bitPattern: Int8(i)))
        case -0x80...(-1): out.append(0xd0); out.append(UInt8(bitPattern: Int8(i)))
        case -0x8000...(-1): out.append(0xd1); appendBigEndian(UInt16(bitPattern: Int16(i)), into: &out)
        case -0x8000_0000...(-1): out.append(0xd2); appendBigEndian(UInt32(bitPattern: Int32(i)), into: &out)
        default: out.append(0xd3); appendBigEndian(UInt64(bitPattern: i), into: &out)
        }
    }

    static func appendBigEndian<T: FixedWidthInteger>(_ v: T, into out: inout [UInt8]) {
        var be = v.bigEndian
        withUnsafeBytes(of: &be) { out.append(contentsOf: $0) }
    }
}

extension WireValue {
    /// `msgpack.packb(self)`.
    public var msgpack: [UInt8] { MessagePack.pack(self) }
}
