/// A signing key with its address. Prints only the address.
public struct Wallet: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let privateKey: PrivateKey
    public let address: Address

    public init(privateKey: PrivateKey) {
        self.privateKey = privateKey
        self.address = privateKey.address
    }

    /// 64 hex digits, "0x" optional.
    public init(privateKeyHex: String) throws(HyperliquidError) {
        self.init(privateKey: try PrivateKey(hex: privateKeyHex))
    }

    public var description: String { "Wallet(\(address.checksummed))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["address": address], displayStyle: .struct) }

    /// The SDK's `sign_l1_action` for any action value (key order as given).
    public func signL1Action(
        _ action: WireValue, nonce: UInt64, vaultAddress: Address? = nil, expiresAfter: UInt64? = nil,
        network: Network
    ) throws(HyperliquidError) -> Signature {
        let digest = L1Signing.digest(
            action: action, nonce: nonce, vaultAddress: vaultAddress, expiresAfter: expiresAfter, network: network)
        return try privateKey.sign(digest: digest)
    }

    public func signL1Action(
        _ action: Action, nonce: UInt64, vaultAddress: Address? = nil, expiresAfter: UInt64? = nil,
        network: Network
    ) throws(HyperliquidError) -> Signature {
        try signL1Action(
            action.wireValue, nonce: nonce, vaultAddress: vaultAddress, expiresAfter: expiresAfter, network: network)
    }

    /// Signed body for POST /exchange.
    public func exchangeRequest(
        _ action: Action, nonce: UInt64, vaultAddress: Address? = nil, expiresAfter: UInt64? = nil,
        network: Network
    ) throws(HyperliquidError) -> ExchangeRequest {
        let wire = action.wireValue
        let sig = try signL1Action(
            wire, nonce: nonce, vaultAddress: vaultAddress, expiresAfter: expiresAfter, network: network)
        return ExchangeRequest(
            action: wire, nonce: nonce, signature: sig, vaultAddress: vaultAddress, expiresAfter: expiresAfter)
    }

    /// The SDK's `sign_user_signed_action` (usdSend, withdraw3).
    public func signUserSignedAction(_ action: UserSignedAction, network: Network) throws(HyperliquidError) -> Signature {
        try privateKey.sign(digest: action.digest(network: network))
    }

    /// Signed body for POST /exchange; the nonce is the action's `time`, no vault, no expiry.
    public func exchangeRequest(_ action: UserSignedAction, network: Network) throws(HyperliquidError) -> ExchangeRequest {
        ExchangeRequest(
            action: action.wireValue(network: network), nonce: action.time,
            signature: try signUserSignedAction(action, network: network))
    }
}
