import CSecp256k1

/// One libsecp256k1 context for the process. Signing and recovery take it as `const`, which
/// the library documents as safe to share between threads.
final class Secp256k1Context: @unchecked Sendable {
    static let shared = Secp256k1Context()
    let raw: OpaquePointer

    private init() {
        raw = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE))!
        // Blinding against side channels; RFC6979 keeps signatures deterministic regardless.
        var seed = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()
        for i in seed.indices { seed[i] = rng.next() }
        _ = secp256k1_context_randomize(raw, seed)
    }
}

/// A 20-byte Ethereum address. `description` is the EIP-55 checksummed form; `Codable` as the
/// lowercase "0x…" text.
public struct Address: Hashable, Sendable, CustomStringConvertible, Codable {
    public let bytes: [UInt8]

    public static let zero = Address(unchecked: [UInt8](repeating: 0, count: 20))

    private init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    public init(bytes: [UInt8]) throws(HyperliquidError) {
        guard bytes.count == 20 else { throw .invalidAddress(Hex.encode(bytes)) }
        self.bytes = bytes
    }

    /// Accepts any letter case; the checksum is not enforced.
    public init(hex: String) throws(HyperliquidError) {
        let raw: [UInt8]
        do { raw = try Hex.decode(hex) } catch { throw .invalidAddress(hex) }
        guard raw.count == 20, hex.utf8.count == 40 || hex.utf8.count == 42 else { throw .invalidAddress(hex) }
        self.bytes = raw
    }

    /// keccak256 of the 64-byte uncompressed public key (no 0x04 prefix), last 20 bytes.
    public init(publicKey: [UInt8]) throws(HyperliquidError) {
        let key = publicKey.count == 65 && publicKey[0] == 0x04 ? Array(publicKey.dropFirst()) : publicKey
        guard key.count == 64 else { throw .invalidAddress(Hex.encode(publicKey)) }
        self.init(publicKey64: key)
    }

    init(publicKey64 key: [UInt8]) {
        self.bytes = Array(Keccak256.hash(key).suffix(20))
    }

    /// "0x" + lowercase hex, the form the SDK puts on the wire (builder, vault).
    public var lowercased: String { Hex.encode(bytes) }

    /// EIP-55 mixed-case checksum form.
    public var checksummed: String {
        let lower = Array(Hex.encode(bytes, prefix: false).utf8)
        let hash = Keccak256.hash(lower)
        var out = Array("0x".utf8)
        for (i, c) in lower.enumerated() {
            let nibble = (hash[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0x0f
            out.append(c >= UInt8(ascii: "a") && nibble >= 8 ? c - 32 : c)
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { checksummed }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(hex: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an address: \(text)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(lowercased)
    }
}

/// A secp256k1 secret key. Never printed: description, debugDescription and mirror are redacted.
public struct PrivateKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let secret: [UInt8]

    public init(bytes: [UInt8]) throws(HyperliquidError) {
        guard bytes.count == 32,
            secp256k1_ec_seckey_verify(Secp256k1Context.shared.raw, bytes) == 1
        else { throw .invalidPrivateKey }
        secret = bytes
    }

    /// 64 hex digits, with or without "0x".
    public init(hex: String) throws(HyperliquidError) {
        let raw: [UInt8]
        do { raw = try Hex.decode(hex) } catch { throw .invalidPrivateKey }
        guard hex.utf8.count == 64 || hex.utf8.count == 66 else { throw .invalidPrivateKey }
        try self.init(bytes: raw)
    }

    public var description: String { "PrivateKey(<redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    /// Uncompressed public key without the 0x04 prefix (64 bytes).
    public var publicKey: [UInt8] {
        let ctx = Secp256k1Context.shared.raw
        var pubkey = secp256k1_pubkey()
        precondition(secp256k1_ec_pubkey_create(ctx, &pubkey, secret) == 1, "verified key")
        return Self.serializeUncompressed(pubkey)
    }

    public var address: Address { Address(publicKey64: publicKey) }

    /// ECDSA over a 32-byte digest, RFC6979 nonce, low-s; v = 27 + recovery id (eth_account).
    public func sign(digest: [UInt8]) throws(HyperliquidError) -> Signature {
        guard digest.count == 32 else { throw .signingFailed }
        let ctx = Secp256k1Context.shared.raw
        var sig = secp256k1_ecdsa_recoverable_signature()
        guard secp256k1_ecdsa_sign_recoverable(ctx, &sig, digest, secret, nil, nil) == 1 else {
            throw .signingFailed
        }
        var compact = [UInt8](repeating: 0, count: 64)
        var recid: Int32 = 0
        _ = secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, &compact, &recid, &sig)
        return Signature(r: Array(compact[0..<32]), s: Array(compact[32..<64]), v: UInt8(27 + recid))
    }

    static func serializeUncompressed(_ pubkey: secp256k1_pubkey) -> [UInt8] {
        var key = pubkey
        var out = [UInt8](repeating: 0, count: 65)
        var len = 65
        _ = secp256k1_ec_pubkey_serialize(
            Secp256k1Context.shared.raw, &out, &len, &key, UInt32(SECP256K1_EC_UNCOMPRESSED))
        return Array(out[1..<65])
    }
}

/// An Ethereum-style recoverable signature as the SDK sends it.
public struct Signature: Hashable, Sendable, CustomStringConvertible {
    public let r: [UInt8]  // 32 bytes
    public let s: [UInt8]  // 32 bytes
    public let v: UInt8  // 27 or 28

    public init(r: [UInt8], s: [UInt8], v: UInt8) {
        self.r = r
        self.s = s
        self.v = v
    }

    /// From the SDK's JSON form: hex strings (leading zeros may be dropped) and v 27/28 (0/1 accepted).
    public init(r: String, s: String, v: Int) throws(HyperliquidError) {
        guard v == 27 || v == 28 || v == 0 || v == 1 else { throw .invalidSignature("v=\(v)") }
        do {
            self.r = try Hex.decode(r, count: 32)
            self.s = try Hex.decode(s, count: 32)
        } catch {
            throw .invalidSignature("r=\(r) s=\(s)")
        }
        self.v = UInt8(v < 27 ? v + 27 : v)
    }

    public init(wire: WireValue) throws(HyperliquidError) {
        guard let r = wire["r"]?.stringValue, let s = wire["s"]?.stringValue,
            let v = wire["v"]?.int64Value, let vi = Int(exactly: v)
        else { throw .invalidSignature(wire.jsonString()) }
        try self.init(r: r, s: s, v: vi)
    }

    /// `to_hex(r)`: minimal hex, as the SDK sends it.
    public var rHex: String { Hex.encodeMinimal(r) }
    public var sHex: String { Hex.encodeMinimal(s) }

    /// {"r", "s", "v"} as in the /exchange body.
    public var wireValue: WireValue {
        .map([("r", .string(rHex)), ("s", .string(sHex)), ("v", .int(Int64(v)))])
    }

    public var description: String { wireValue.jsonString() }

    /// The address whose key made this signature over `digest`.
    public func recoverAddress(digest: [UInt8]) throws(HyperliquidError) -> Address {
        guard digest.count == 32, v == 27 || v == 28 else { throw .recoveryFailed }
        let ctx = Secp256k1Context.shared.raw
        var sig = secp256k1_ecdsa_recoverable_signature()
        guard secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &sig, r + s, Int32(v) - 27) == 1 else {
            throw .recoveryFailed
        }
        var pubkey = secp256k1_pubkey()
        guard secp256k1_ecdsa_recover(ctx, &pubkey, &sig, digest) == 1 else { throw .recoveryFailed }
        return Address(publicKey64: PrivateKey.serializeUncompressed(pubkey))
    }
}
