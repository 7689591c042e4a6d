/// EIP-712 typed-data hashing for the two shapes Hyperliquid uses: the L1 phantom `Agent`
/// and user-signed `HyperliquidTransaction:*` actions.
public enum EIP712 {
    public struct Domain: Sendable, Equatable {
        public var name: String
        public var version: String
        public var chainId: UInt64
        public var verifyingContract: Address

        public init(name: String, version: String, chainId: UInt64, verifyingContract: Address = .zero) {
            self.name = name
            self.version = version
            self.chainId = chainId
            self.verifyingContract = verifyingContract
        }

        public var separator: [UInt8] {
            EIP712.hashStruct(
                primaryType: "EIP712Domain",
                fields: [
                    Field("name", .string(name)),
                    Field("version", .string(version)),
                    Field("chainId", .uint256(chainId)),
                    Field("verifyingContract", .address(verifyingContract)),
                ])
        }
    }

    public enum Value: Sendable, Equatable {
        case string(String)
        case bytes32([UInt8])
        case uint64(UInt64)
        case uint256(UInt64)
        case bool(Bool)
        case address(Address)

        var typeName: String {
            switch self {
            case .string: "string"
            case .bytes32: "bytes32"
            case .uint64: "uint64"
            case .uint256: "uint256"
            case .bool: "bool"
            case .address: "address"
            }
        }

        /// The 32-byte `encodeData` word.
        var encoded: [UInt8] {
            switch self {
            case .string(let s): Keccak256.hash(Array(s.utf8))
            case .bytes32(let b): b
            case .uint64(let u), .uint256(let u): word(u)
            case .bool(let b): word(b ? 1 : 0)
            case .address(let a): [UInt8](repeating: 0, count: 12) + a.bytes
            }
        }

        private func word(_ u: UInt64) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: 24)
            MessagePack.appendBigEndian(u, into: &out)
            return out
        }
    }

    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: Value
        public init(_ name: String, _ value: Value) {
            self.name = name
            self.value = value
        }
    }

    /// Flat structs only: no field here refers to another struct type.
    public static func hashStruct(primaryType: String, fields: [Field]) -> [UInt8] {
        let typeString = "\(primaryType)(" + fields.map { "\($0.value.typeName) \($0.name)" }.joined(separator: ",") + ")"
        var data = Keccak256.hash(Array(typeString.utf8))
        data.reserveCapacity(32 * (fields.count + 1))
        for f in fields { data += f.value.encoded }
        return Keccak256.hash(data)
    }

    /// keccak256(0x19 0x01 ‖ domainSeparator ‖ structHash).
    public static func digest(domainSeparator: [UInt8], structHash: [UInt8]) -> [UInt8] {
        Keccak256.hash([0x19, 0x01] + domainSeparator + structHash)
    }

    public static func digest(domain: Domain, primaryType: String, fields: [Field]) -> [UInt8] {
        digest(domainSeparator: domain.separator, structHash: hashStruct(primaryType: primaryType, fields: fields))
    }

    // MARK: L1 actions

    public static let l1Domain = Domain(name: "Exchange", version: "1", chainId: 1337)
    /// Cached: every L1 signature uses it.
    static let l1DomainSeparator = l1Domain.separator

    /// Digest of `Agent{source, connectionId}` under the "Exchange" domain.
    public static func l1Digest(_ agent: PhantomAgent) -> [UInt8] {
        let structHash = hashStruct(
            primaryType: "Agent",
            fields: [Field("source", .string(agent.source)), Field("connectionId", .bytes32(agent.connectionId))])
        return digest(domainSeparator: l1DomainSeparator, structHash: structHash)
    }

    // MARK: user-signed actions

    /// The SDK signs every user-signed action with signatureChainId 0x66eee (Arbitrum Sepolia);
    /// `hyperliquidChain` in the message is what separates mainnet from testnet.
    public static let userSignedChainId: UInt64 = 0x66eee

    public static func userSignedDomain(chainId: UInt64 = userSignedChainId) -> Domain {
        Domain(name: "HyperliquidSignTransaction", version: "1", chainId: chainId)
    }
}
