import Foundation
import Synchronization
import Testing

import Hyperliquid

struct KeccakTests {
    @Test func knownAnswers() {
        #expect(Keccak256.hash([UInt8]()).hex == "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
        #expect(Keccak256.hash("abc").hex == "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")
    }

    /// Around the 136-byte rate boundary (values from eth_utils.keccak).
    @Test(arguments: [
        (135, "34367dc248bbd832f4e3e69dfaac2f92638bd0bbd18f2912ba4ef454919cf446"),
        (136, "a6c4d403279fe3e0af03729caada8374b5ca54d8065329a3ebcaeb4b60aa386e"),
        (137, "d869f639c7046b4929fc92a4d988a8b22c55fbadb802c0c66ebcd484f1915f39"),
        (272, "cf7fcd4f705ee749930d19ca84561a9bf62516bd90a471545fa2f49fdc7e63c8"),
        (1000, "b6a4ac1f51884d71f30fa397a5e155de3099e11fc0edef5d08b646e621e19de9"),
    ])
    func blockBoundaries(length: Int, expected: String) {
        let data = [UInt8](repeating: UInt8(ascii: "a"), count: length)
        #expect(Keccak256.hash(data).hex == "0x" + expected)
        // Streaming in odd chunks gives the same digest.
        var k = Keccak256()
        var i = 0
        while i < data.count {
            let end = min(data.count, i + 7)
            k.update(data[i..<end])
            i = end
        }
        #expect(k.finalize().hex == "0x" + expected)
    }
}

struct KeyAndAddressTests {
    @Test func addressFromKnownKeys() throws {
        #expect(try Wallet(privateKeyHex: Fixture.privateKeyHex).address.checksummed == Fixture.address)
        // web3.py / eth-account documentation key.
        let key = try PrivateKey(hex: "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
        #expect(key.address.checksummed == "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23")
        #expect(key.address.lowercased == "0x2c7536e3605d9c16a7a3d7b1898e529396a65c23")
        #expect(try Address(hex: "0x2c7536e3605d9c16a7a3d7b1898e529396a65c23") == key.address)
        #expect(try Address(publicKey: key.publicKey) == key.address)
    }

    @Test func secretIsNeverPrinted() throws {
        let wallet = try Fixture.wallet()
        let secretDigits = "0123456789012345678901234567890123456789012345678901234567890123"
        var dumped = ""
        dump(wallet, to: &dumped)
        for text in [
            "\(wallet.privateKey)", String(describing: wallet.privateKey), String(reflecting: wallet.privateKey),
            "\(wallet)", String(reflecting: wallet), dumped,
        ] {
            #expect(!text.contains(secretDigits))
            #expect(!text.contains("01234567"))
        }
        #expect("\(wallet.privateKey)" == "PrivateKey(<redacted>)")
    }

    @Test func rejectsBadKeys() {
        #expect(throws: HyperliquidError.invalidPrivateKey) { try PrivateKey(hex: "0x00") }
        #expect(throws: HyperliquidError.invalidPrivateKey) { try PrivateKey(hex: String(repeating: "0", count: 64)) }
        #expect(throws: HyperliquidError.invalidPrivateKey) { try PrivateKey(hex: String(repeating: "f", count: 64)) }
        #expect(throws: HyperliquidError.invalidPrivateKey) { try PrivateKey(hex: String(repeating: "z", count: 64)) }
    }

    @Test func tamperedMessageRecoversAnotherSigner() throws {
        let wallet = try Fixture.wallet()
        let action = Action.order([Fixture.gtc100])
        let sig = try wallet.signL1Action(action, nonce: 42, network: .mainnet)
        let ok = try L1Signing.recoverSigner(
            action: action.wireValue, nonce: 42, vaultAddress: nil, expiresAfter: nil, network: .mainnet, signature: sig)
        #expect(ok == wallet.address)
        let other = try L1Signing.recoverSigner(
            action: action.wireValue, nonce: 43, vaultAddress: nil, expiresAfter: nil, network: .mainnet, signature: sig)
        #expect(other != wallet.address)
    }

    @Test func signatureHexForms() throws {
        let sig = try Signature(r: "0x3c548db75e479f8012acf3000ca3a6b05606bc2ec0c29c50c515066a326239", s: "0x1", v: 28)
        #expect(sig.r.count == 32 && sig.r[0] == 0 && sig.r[1] == 0x3c)
        #expect(sig.rHex == "0x3c548db75e479f8012acf3000ca3a6b05606bc2ec0c29c50c515066a326239")
        #expect(sig.sHex == "0x1")
        #expect(sig.wireValue.jsonString().hasSuffix(#""v":28}"#))
        #expect(throws: HyperliquidError.self) { try Signature(r: "0x1", s: "0x1", v: 29) }
    }
}

struct FloatToWireTests {
    @Test func roundingErrorMatchesSDK() {
        // SDK: ValueError('float_to_wire causes rounding', 0.123456789)
        #expect(throws: HyperliquidError.floatToWireCausesRounding("0.123456789")) { try floatToWire(0.123456789) }
        #expect(throws: HyperliquidError.floatToWireCausesRounding("1e-09")) { try floatToWire(1e-9) }
        #expect(throws: HyperliquidError.self) { try floatToWire(exact: "0.123456789") }
        #expect(throws: HyperliquidError.self) { try floatToWire(Decimal(string: "1.000000005")!) }
        #expect(throws: HyperliquidError.self) { try floatToWire(Double.nan) }
        #expect(throws: HyperliquidError.self) { try floatToWire(Double.infinity) }
        #expect(throws: HyperliquidError.invalidDecimal("1.2abc")) { try floatToWire(exact: "1.2abc") }
    }

    @Test func normalisation() throws {
        #expect(try floatToWire(100.0) == "100")
        #expect(try floatToWire(0.0) == "0")
        #expect(try floatToWire(-1.5) == "-1.5")
        #expect(try floatToWire(30_000_000.0) == "30000000")
        #expect(try floatToWire(exact: "0.000000010000") == "0.00000001")
        #expect(try floatToWire(exact: "1e-8") == "0.00000001")
        #expect(try floatToWire(exact: "-0012.3400") == "-12.34")
        // Beyond 8 decimals but within 1e-12 of the rounded value: accepted, like the SDK.
        #expect(try floatToWire(exact: "0.30000000000000004") == "0.3")
        #expect(try floatToWire(exact: "0.1234567899999999") == "0.12345679")
        #expect(throws: HyperliquidError.self) { try floatToWire(exact: "0.1234567899990") }
    }

    /// Deliberate difference: the SDK emits "-0" here; "0" is what it evidently means.
    @Test func negativeZeroIsZero() throws {
        #expect(try floatToWire(-0.0) == "0")
        #expect(try floatToWire(-1e-13) == "0")
        #expect(try floatToWire(exact: "-0.0000000000001") == "0")
        #expect(throws: HyperliquidError.self) { try floatToWire(exact: "-0.000000000001") }  // exactly 1e-12: refused (≥)
    }

    /// The SDK's Decimal.normalize() keeps 28 significant digits.
    @Test func hugeValuesRoundLikePythonDecimal() throws {
        #expect(try floatToWire(1.2345678901234567e+30) == "1234567890123456708408451793000")
        #expect(try floatToWire(1e28) == "9999999999999999583119736832")
        #expect(try floatToWire(1e21) == "1000000000000000000000")
    }
}

struct CloidTests {
    @Test func format() throws {
        let c = Cloid(intentId: "breakwater-intent-42")
        #expect(c.rawValue == "0x763055845088b790c4fb034f0f85c998")  // keccak256 prefix, via eth_utils
        #expect(c.rawValue.count == 34 && c.rawValue.hasPrefix("0x"))
        #expect(c.rawValue == c.rawValue.lowercased())
        #expect(Cloid(1).rawValue == "0x00000000000000000000000000000001")
        #expect(try Cloid(hex: c.rawValue) == c)
        #expect(throws: HyperliquidError.self) { try Cloid(hex: "0x1234") }
        #expect(throws: HyperliquidError.self) { try Cloid(hex: "00000000000000000000000000000000") }
        #expect(throws: HyperliquidError.self) { try Cloid(hex: "0x0000000000000000000000000000000g") }
    }

    @Test func deterministic() {
        #expect(Cloid(intentId: "intent-1") == Cloid(intentId: "intent-1"))
        #expect(Cloid(intentId: "intent-1") != Cloid(intentId: "intent-2"))
        let ids = Set((0..<1000).map { Cloid(intentId: "intent-\($0)") })
        #expect(ids.count == 1000)
    }
}

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let now: Mutex<UInt64>
    init(_ start: UInt64) { now = Mutex(start) }
    func set(_ t: UInt64) { now.withLock { $0 = t } }
    func read() -> UInt64 { now.withLock { $0 } }
}

struct NonceTests {
    @Test func frozenClockStaysStrictlyIncreasing() throws {
        let clock = ManualClock(1_737_918_843_000)
        let nonces = NonceManager(clock: { clock.read() }, maxLeadMs: 60_000)
        var previous: UInt64 = 0
        for _ in 0..<5_000 {
            let n = try nonces.next()
            #expect(n > previous)
            previous = n
        }
        #expect(nonces.lastIssued == 1_737_918_843_000 + 4_999)
        // Once the clock passes the issued values it takes over again.
        clock.set(1_737_918_900_000)
        #expect(try nonces.next() == 1_737_918_900_000)
    }

    @Test func backwardsClockAdjustsThenRejects() throws {
        let clock = ManualClock(2_000_000)
        let nonces = NonceManager(clock: { clock.read() }, maxLeadMs: 1_000)
        #expect(try nonces.next() == 2_000_000)
        clock.set(1_999_500)  // small step back: adjusted upward
        #expect(try nonces.next() == 2_000_001)
        clock.set(1_000_000)  // far back: refuse instead of running a day ahead
        #expect(throws: HyperliquidError.nonceTooFarAhead(nonce: 2_000_002, clock: 1_000_000)) { try nonces.next() }
        #expect(nonces.lastIssued == 2_000_001)
        clock.set(2_000_001)
        #expect(try nonces.next() == 2_000_002)
    }

    @Test func concurrentCallersGetUniqueNonces() async throws {
        let clock = ManualClock(5_000_000)
        let nonces = NonceManager(clock: { clock.read() }, maxLeadMs: 100_000)
        let all = try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for _ in 0..<8 {
                group.addTask { try (0..<500).map { _ in try nonces.next() } }
            }
            return try await group.reduce(into: [UInt64]()) { $0 += $1 }
        }
        #expect(Set(all).count == 4_000)
    }

    @Test func resumesAboveLastIssued() throws {
        let nonces = NonceManager(clock: { 10 }, lastIssued: 500)
        #expect(try nonces.next() == 501)
    }

    @Test func exchangeWindow() {
        let t: UInt64 = 1_737_918_843_000
        let day: UInt64 = 86_400_000
        #expect(NonceManager.isWithinExchangeWindow(nonce: t, serverTimeMs: t))
        #expect(NonceManager.isWithinExchangeWindow(nonce: t - 2 * day + 1, serverTimeMs: t))
        #expect(!NonceManager.isWithinExchangeWindow(nonce: t - 2 * day, serverTimeMs: t))
        #expect(NonceManager.isWithinExchangeWindow(nonce: t + day - 1, serverTimeMs: t))
        #expect(!NonceManager.isWithinExchangeWindow(nonce: t + day, serverTimeMs: t))
    }
}

struct WireFormatTests {
    @Test func jsonKeepsOrderAndTypes() throws {
        let text = #"{"z":1,"a":[true,false,null],"m":{"b":"x\"y\\\n","a":-5},"big":18446744073709551615,"f":1.5,"u":"\u00e9\ud83d\ude00"}"#
        let v = try WireValue(json: text)
        guard case .map(let entries) = v else {
            Issue.record("not a map")
            return
        }
        #expect(entries.map(\.key) == ["z", "a", "m", "big", "f", "u"])
        #expect(v["big"] == .uint(UInt64.max))
        #expect(v["m"]?["a"] == .int(-5))
        #expect(v["u"]?.stringValue == "é😀")
        #expect(try WireValue(json: v.jsonString()) == v)
        #expect(throws: HyperliquidError.self) { try WireValue(json: "{\"a\":1,}") }
        #expect(throws: HyperliquidError.self) { try WireValue(json: "[1] x") }
    }

    @Test func integerEqualityIgnoresCase() {
        #expect(WireValue.int(5) == .uint(5))
        #expect(WireValue.int(-1) != .uint(UInt64.max))
        #expect(WireValue.integer(UInt64.max) == .uint(UInt64.max))
    }

    @Test func exchangeBodyShape() throws {
        let wallet = try Fixture.wallet()
        let request = try wallet.exchangeRequest(.scheduleCancel(time: nil), nonce: 7, network: .testnet)
        let json = request.jsonString()
        #expect(json.hasPrefix(#"{"action":{"type":"scheduleCancel"},"nonce":7,"signature":{"r":"0x"#))
        #expect(json.hasSuffix(#","vaultAddress":null,"expiresAfter":null}"#))
    }

    /// Rough cost of signing one order (build wire value, msgpack, hash, EIP-712, ECDSA).
    @Test func signingSpeed() throws {
        let wallet = try Fixture.wallet()
        let order = Action.order([
            try OrderWire(
                asset: 4, isBuy: true, limitPx: 1670.1, size: 0.0147, orderType: .limit(.ioc),
                cloid: Cloid(intentId: "perf"))
        ])
        let iterations = 2_000
        var last: Signature?
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            for i in 0..<iterations {
                last = try wallet.signL1Action(order, nonce: 1_700_000_000_000 + UInt64(i), network: .mainnet)
            }
        }
        let micros = Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6
        print("signL1Action(order): \(String(format: "%.1f", micros / Double(iterations))) µs per signature over \(iterations)")
        #expect(last != nil)
    }
}
