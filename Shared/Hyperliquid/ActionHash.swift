public enum Network: String, Sendable, Hashable, CaseIterable {
    case mainnet
    case testnet

    /// Phantom agent `source`.
    public var source: String { self == .mainnet ? "a" : "b" }
    /// `hyperliquidChain` of user-signed actions.
    public var hyperliquidChain: String { self == .mainnet ? "Mainnet" : "Testnet" }
}

/// The SDK's `action_hash`: keccak(msgpack(action) ‖ nonce u64 BE ‖ vault flag [‖ vault]
/// [‖ 0x00 ‖ expiresAfter u64 BE]). Used as the phantom agent's connectionId.
public enum ActionHash {
    public static func compute(
        action: WireValue, nonce: UInt64, vaultAddress: Address? = nil, expiresAfter: UInt64? = nil
    ) -> [UInt8] {
        var data = MessagePack.pack(action)
        MessagePack.appendBigEndian(nonce, into: &data)
        if let vaultAddress {
            data.append(0x01)
            data += vaultAddress.bytes
        } else {
            data.append(0x00)
        }
        if let expiresAfter {
            data.append(0x00)
            MessagePack.appendBigEndian(expiresAfter, into: &data)
        }
        return Keccak256.hash(data)
    }

    public static func compute(
        action: Action, nonce: UInt64, vaultAddress: Address? = nil, expiresAfter: UInt64? = nil
    ) -> [UInt8] {
        compute(action: action.wireValue, nonce: nonce, vaultAddress: vaultAddress, expiresAfter: expiresAfter)
    }
}

/// What an L1 action's signature actually covers: {source, connectionId}.
public struct PhantomAgent: Sendable, Equatable {
    public let source: String
    public let connectionId: [UInt8]

    public init(connectionId: [UInt8], network: Network) {
        self.source = network.source
        self.connectionId = connectionId
    }

    public var digest: [UInt8] { EIP712.l1Digest(self) }
}

/// Digest and signer recovery for L1 actions (what the exchange does to authenticate).
public enum L1Signing {
    public static func digest(
        action: WireValue, nonce: UInt64, vaultAddress: Address?, expiresAfter: UInt64?, network: Network
    ) -> [UInt8] {
        let hash = ActionHash.compute(action: action, nonce: nonce, vaultAddress: vaultAddress, expiresAfter: expiresAfter)
        return PhantomAgent(connectionId: hash, network: network).digest
    }

    public static func recoverSigner(
        action: WireValue, nonce: UInt64, vaultAddress: Address?, expiresAfter: UInt64?, network: Network,
        signature: Signature
    ) throws(HyperliquidError) -> Address {
        let d = digest(action: action, nonce: nonce, vaultAddress: vaultAddress, expiresAfter: expiresAfter, network: network)
        return try signature.recoverAddress(digest: d)
    }

    /// Recovers the signer of a received /exchange body. L1 actions hash the action exactly as
    /// sent (key order included); user-signed ones are recognised by their `type`.
    public static func recoverSigner(request: ExchangeRequest, network: Network) throws(HyperliquidError) -> Address {
        if let userSigned = try UserSignedAction(wire: request.action) {
            return try request.signature.recoverAddress(digest: userSigned.digest(network: network))
        }
        return try recoverSigner(
            action: request.action, nonce: request.nonce, vaultAddress: request.vaultAddress,
            expiresAfter: request.expiresAfter, network: network, signature: request.signature)
    }
}
