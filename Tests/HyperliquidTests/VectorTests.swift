import Foundation
import Testing

import Hyperliquid

/// Every case of the shared SDK vectors, byte for byte.
@Suite(.enabled(if: VectorFile.available, VectorFile.skipMessage))
struct SharedVectorTests {
    @Test func fileParsesAndKeyMatchesAddress() throws {
        let root = try #require(VectorFile.root)
        let keyHex = try #require(root["privateKey"]?.stringValue)
        let address = try #require(root["address"]?.stringValue)
        let wallet = try Wallet(privateKeyHex: keyHex)
        #expect(wallet.address.checksummed == address)
        #expect(VectorFile.l1Cases.count > 0)
    }

    @Test(arguments: VectorFile.l1Cases)
    func msgpackBytes(_ c: L1Case) {
        #expect(MessagePack.pack(c.action).hex == "0x" + c.msgpackHex)
    }

    @Test(arguments: VectorFile.l1Cases)
    func connectionId(_ c: L1Case) {
        let hash = ActionHash.compute(action: c.action, nonce: c.nonce, vaultAddress: c.vault, expiresAfter: c.expiresAfter)
        #expect(hash.hex == c.connectionId)
    }

    @Test(arguments: VectorFile.l1Cases)
    func signatureRSV(_ c: L1Case) throws {
        let key = try #require(VectorFile.root?["privateKey"]?.stringValue)
        let sig = try Wallet(privateKeyHex: key).signL1Action(
            c.action, nonce: c.nonce, vaultAddress: c.vault, expiresAfter: c.expiresAfter, network: c.network)
        #expect(sig.rHex == c.r)
        #expect(sig.sHex == c.s)
        #expect(Int(sig.v) == c.v)
    }

    @Test(arguments: VectorFile.l1Cases)
    func recoverSigner(_ c: L1Case) throws {
        let address = try #require(VectorFile.root?["address"]?.stringValue)
        let sig = try Signature(r: c.r, s: c.s, v: c.v)
        let signer = try L1Signing.recoverSigner(
            action: c.action, nonce: c.nonce, vaultAddress: c.vault, expiresAfter: c.expiresAfter,
            network: c.network, signature: sig)
        #expect(signer.checksummed == address)
        // The other network's digest must not recover the same signer.
        let other: Network = c.network == .mainnet ? .testnet : .mainnet
        let wrong = try L1Signing.recoverSigner(
            action: c.action, nonce: c.nonce, vaultAddress: c.vault, expiresAfter: c.expiresAfter,
            network: other, signature: sig)
        #expect(wrong.checksummed != address)
    }

    /// The typed Swift actions produce the SDK's dicts exactly, and parse back.
    @Test(arguments: VectorFile.l1Cases)
    func typedActionsMatch(_ c: L1Case) throws {
        guard let typed = try Fixture.typedAction(named: c.name) else {
            #expect(throws: HyperliquidError.self) { try Action(wire: c.action) }
            return
        }
        #expect(typed.wireValue == c.action)
        #expect(typed.msgpack.hex == "0x" + c.msgpackHex)
        #expect(try Action(wire: c.action) == typed)
    }

    /// The /exchange body round-trips through JSON and still authenticates.
    @Test(arguments: VectorFile.l1Cases)
    func exchangeBodyRoundTrip(_ c: L1Case) throws {
        let wallet = try Fixture.wallet()
        let sig = try wallet.signL1Action(
            c.action, nonce: c.nonce, vaultAddress: c.vault, expiresAfter: c.expiresAfter, network: c.network)
        let request = ExchangeRequest(
            action: c.action, nonce: c.nonce, signature: sig, vaultAddress: c.vault, expiresAfter: c.expiresAfter)
        let parsed = try ExchangeRequest(json: request.jsonBytes())
        #expect(parsed == request)
        #expect(try L1Signing.recoverSigner(request: parsed, network: c.network) == wallet.address)
    }

    @Test func floatToWireCases() throws {
        guard case .map(let cases)? = VectorFile.root?["floatToWire"] else {
            Issue.record("floatToWire missing")
            return
        }
        #expect(!cases.isEmpty)
        for (input, expected) in cases {
            let want = try #require(expected.stringValue)
            let x = try #require(Double(input))
            #expect(try floatToWire(x) == want, "double \(input)")
            #expect(try floatToWire(exact: input) == want, "exact \(input)")
            #expect(try floatToWire(Decimal(string: input)!) == want, "Decimal \(input)")
        }
    }
}
