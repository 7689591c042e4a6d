import Foundation
import Testing

import Hyperliquid

/// SDK-generated cases embedded in ExtraVectors.swift (always run; no file needed).
struct ExtraVectorTests {
    static let root: WireValue = try! WireValue(json: ExtraVectors.json)

    static var cases: [L1Case] { (root["extra"]?.arrayValue ?? []).map(L1Case.init) }
    static var l1: [L1Case] { cases.filter { $0.raw["kind"]?.stringValue == "l1" } }
    static var userSigned: [L1Case] { cases.filter { $0.raw["kind"]?.stringValue == "userSigned" } }

    @Test(arguments: l1)
    func l1Case(_ c: L1Case) throws {
        #expect(MessagePack.pack(c.action).hex == "0x" + c.msgpackHex)
        #expect(
            ActionHash.compute(action: c.action, nonce: c.nonce, vaultAddress: c.vault, expiresAfter: c.expiresAfter).hex
                == c.connectionId)
        let typed = try #require(try Fixture.typedAction(named: c.name))
        #expect(typed.wireValue == c.action)
        #expect(try Action(wire: c.action) == typed)
        let sig = try Fixture.wallet().signL1Action(
            typed, nonce: c.nonce, vaultAddress: c.vault, expiresAfter: c.expiresAfter, network: c.network)
        #expect(sig.rHex == c.r)
        #expect(sig.sHex == c.s)
        #expect(Int(sig.v) == c.v)
    }

    @Test(arguments: userSigned)
    func userSignedCase(_ c: L1Case) throws {
        let wallet = try Fixture.wallet()
        let action = try #require(try UserSignedAction(wire: c.action))
        let destination = try Address(hex: action.destination)
        let built: UserSignedAction =
            action.kind == .usdSend
            ? .usdSend(destination: destination, amount: action.amount, time: action.time)
            : .withdraw(destination: destination, amount: action.amount, time: action.time)
        #expect(built == action)
        #expect(built.wireValue(network: c.network) == c.action)
        let sig = try wallet.signUserSignedAction(built, network: c.network)
        #expect(sig.rHex == c.r)
        #expect(sig.sHex == c.s)
        #expect(Int(sig.v) == c.v)
        let request = try wallet.exchangeRequest(built, network: c.network)
        let parsed = try ExchangeRequest(json: request.jsonBytes())
        #expect(try L1Signing.recoverSigner(request: parsed, network: c.network) == wallet.address)
    }

    @Test func msgpackEdgeEncodings() throws {
        let edge = try #require(Self.cases.first { $0.name == "msgpack-edge" })
        #expect(MessagePack.pack(edge.action).hex == "0x" + edge.msgpackHex)
        // str32 (the SDK case was too large to embed): header db + u32 length.
        let big = MessagePack.pack(.string(String(repeating: "v", count: 65_536)))
        #expect(Array(big.prefix(5)) == [0xdb, 0x00, 0x01, 0x00, 0x00])
        #expect(big.count == 65_541)
        // array32/map32 headers.
        let arr = MessagePack.pack(.array(Array(repeating: .null, count: 65_536)))
        #expect(Array(arr.prefix(5)) == [0xdd, 0x00, 0x01, 0x00, 0x00])
        let map = MessagePack.pack(.map((0..<65_536).map { ("\($0)", .null) }))
        #expect(Array(map.prefix(5)) == [0xdf, 0x00, 0x01, 0x00, 0x00])
        #expect(MessagePack.pack(.binary([1, 2])) == [0xc4, 0x02, 0x01, 0x02])
    }

    @Test func floatToWireAgainstSDK() throws {
        let list = try #require(Self.root["floatToWire"]?.arrayValue)
        #expect(list.count > 50)
        for pair in list {
            let items = try #require(pair.arrayValue)
            let input = try #require(items[0].stringValue)
            let x = try #require(Double(input))
            if let want = items[1].stringValue {
                #expect(try floatToWire(x) == want, "\(input)")
            } else {
                #expect(throws: HyperliquidError.floatToWireCausesRounding("\(x)"), "\(input)") {
                    try floatToWire(x)
                }
            }
        }
    }
}
