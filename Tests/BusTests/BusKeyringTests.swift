import Bus
import Testing

/// The keyring alone: which key is whose, and which envelope a sender may deliver.
@Suite("Bus keyring")
struct BusKeyringTests {
    // Fixed Z85 strings (40 characters of the alphabet); the keyring never does cryptography.
    static let keys = [
        "feed-handler": String(repeating: "a", count: 40), "risk-gate": String(repeating: "b", count: 40),
        "executor": String(repeating: "c", count: 40), "busspy": String(repeating: "d", count: 40),
    ]

    func keyring() throws -> BusKeyring {
        try BusKeyring(publicKeys: Self.keys, publishers: ["feed-handler", "risk-gate", "executor"])
    }

    @Test("a key names its holder; an unknown key names nobody")
    func holders() throws {
        let keyring = try keyring()
        #expect(keyring.principal(holding: String(repeating: "b", count: 40)) == "risk-gate")
        #expect(keyring.principal(holding: String(repeating: "e", count: 40)) == nil)
        #expect(keyring.publicKey(of: "busspy") == String(repeating: "d", count: 40))
        #expect(keyring.publicKey(of: "stranger") == nil)
    }

    @Test("an envelope whose src is its authenticated sender is accepted")
    func matchingSender() throws {
        let keyring = try keyring()
        #expect(keyring.verdict(topic: "md.bar.BTC", source: "feed-handler", sender: "feed-handler") == .accepted)
        #expect(keyring.verdict(topic: "order.BTC", source: "risk-gate", sender: "risk-gate") == .accepted)
        #expect(keyring.verdict(topic: "exec.fill.BTC", source: "executor", sender: "executor") == .accepted)
    }

    @Test("src other than the authenticated sender is a sender mismatch, whatever the topic")
    func senderMismatch() throws {
        let keyring = try keyring()
        #expect(
            keyring.verdict(topic: "order.BTC", source: "risk-gate", sender: "feed-handler")
                == .rejected(.senderMismatch))
        #expect(
            keyring.verdict(topic: "md.bar.BTC", source: "executor", sender: "feed-handler")
                == .rejected(.senderMismatch))
    }

    @Test("order.* only from the risk gate, even when src is honest")
    func ordersOnlyFromRiskGate() throws {
        let keyring = try keyring()
        #expect(keyring.verdict(topic: "order.BTC", source: "executor", sender: "executor") == .rejected(.topicNotAllowed))
        #expect(
            keyring.verdict(topic: "order.quotes.ETH", source: "feed-handler", sender: "feed-handler")
                == .rejected(.topicNotAllowed))
        // A prefix, not a substring: `orderly.x` is no order.
        #expect(keyring.verdict(topic: "orderly.x", source: "executor", sender: "executor") == .accepted)
    }

    @Test("a listening principal (busspy) never publishes")
    func listenerCannotPublish() throws {
        let keyring = try keyring()
        #expect(keyring.verdict(topic: "svc.hb.busspy", source: "busspy", sender: "busspy") == .rejected(.notAPublisher))
    }

    @Test("bad keyrings are refused: a malformed key, one key for two principals, a publisher without a key")
    func refusals() {
        #expect(throws: KeyringError.malformedKey(principal: "executor")) {
            _ = try BusKeyring(publicKeys: ["executor": "short"], publishers: [])
        }
        #expect(throws: KeyringError.malformedKey(principal: "executor")) {
            // 40 characters, but a space is not Z85.
            _ = try BusKeyring(publicKeys: ["executor": String(repeating: " ", count: 40)], publishers: [])
        }
        #expect(throws: KeyringError.sharedKey("executor", "risk-gate")) {
            let same = String(repeating: "x", count: 40)
            _ = try BusKeyring(publicKeys: ["executor": same, "risk-gate": same], publishers: [])
        }
        #expect(throws: KeyringError.missingKey(principal: "risk-gate")) {
            _ = try BusKeyring(publicKeys: ["executor": String(repeating: "x", count: 40)], publishers: ["risk-gate"])
        }
    }

    @Test("a generated keypair checks out, and a secret that is not the public key's is refused")
    func keyPairs() throws {
        let first = try CurveKeyPair.generate()
        let second = try CurveKeyPair.generate()
        #expect(first.publicKey != second.publicKey)
        #expect(Z85.isKey(first.publicKey) && Z85.isKey(first.secretKey))
        #expect(Curve.publicKey(forSecret: first.secretKey) == first.publicKey)
        #expect(throws: KeyringError.self) { _ = try CurveKeyPair(publicKey: first.publicKey, secretKey: second.secretKey) }
        #expect(!"\(first)".contains(first.secretKey), "a keypair must not print its secret")
    }

    @Test("alerts at most once per interval per reason; logs the first ten, then one in a thousand")
    func throttle() {
        var throttle = RejectionThrottle(interval: 60)
        let decisions = [
            throttle.shouldAlert(.handshakeFailed, now: 0), throttle.shouldAlert(.handshakeFailed, now: 59),
            throttle.shouldAlert(.senderMismatch, now: 59), throttle.shouldAlert(.handshakeFailed, now: 60),
            throttle.shouldAlert(.handshakeFailed, now: 100),
        ]
        #expect(decisions == [true, false, true, true, false])
        #expect((1...10).allSatisfy { RejectionThrottle.shouldLog(count: $0) })
        #expect(!RejectionThrottle.shouldLog(count: 11))
        #expect(!RejectionThrottle.shouldLog(count: 999))
        #expect(RejectionThrottle.shouldLog(count: 2_000))
    }
}
