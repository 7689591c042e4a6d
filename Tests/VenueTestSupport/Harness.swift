import Hyperliquid
import Schema

import Venue

/// A venue with three funded paper accounts and a hand-set external market; time is passed in.
public struct Harness {
    public static let alice = try! Wallet(privateKeyHex: String(repeating: "11", count: 32))
    public static let bob = try! Wallet(privateKeyHex: String(repeating: "22", count: 32))
    public static let carol = try! Wallet(privateKeyHex: String(repeating: "33", count: 32))
    public static let stranger = try! Wallet(privateKeyHex: String(repeating: "44", count: 32))
    public static let start: UInt64 = 1_737_900_000_000  // 2025-01-26 14:00:00 UTC, an hour boundary

    public var core: VenueCore
    public var now: UInt64 = Harness.start
    public var nonce: UInt64 = Harness.start

    public init(configure: (inout VenueConfig) -> Void = { _ in }) {
        var config = VenueConfig()
        config.accounts = [
            AccountSpec(address: Self.alice.address.lowercased, usdc: 100_000),
            AccountSpec(address: Self.bob.address.lowercased, usdc: 100_000),
            AccountSpec(address: Self.carol.address.lowercased, usdc: 100_000),
        ]
        configure(&config)
        core = VenueCore(config: config)
    }

    /// External BTC book: bids and asks as (price, size), best first.
    public mutating func book(_ coin: String = "BTC", bids: [(Amount, Amount)], asks: [(Amount, Amount)]) {
        core.applyMarket(
            .book(
                coin: coin, bids: bids.map { ExternalLevel(px: $0.0, sz: $0.1) }, asks: asks.map { ExternalLevel(px: $0.0, sz: $0.1) }),
            now: now)
    }

    public mutating func print(_ coin: String = "BTC", px: Amount, sz: Amount, buyer: Bool = true) {
        core.applyMarket(.trades(coin: coin, [ExternalTrade(px: px, sz: sz, aggressorIsBuy: buyer)]), now: now)
    }

    /// Signs and sends an action; returns the parsed answer.
    @discardableResult
    public mutating func send(
        _ action: Action, by wallet: Wallet = Harness.alice, nonce: UInt64? = nil, network: Network = .testnet,
        vault: Address? = nil, expiresAfter: UInt64? = nil
    ) -> WireValue {
        let n = nonce ?? nextNonce()
        let request = try! wallet.exchangeRequest(action, nonce: n, vaultAddress: vault, expiresAfter: expiresAfter, network: network)
        return sendRaw(request.jsonBytes())
    }

    public mutating func sendRaw(_ body: [UInt8]) -> WireValue {
        let reply = core.handleExchange(body: body, now: now)
        return (try? WireValue(json: reply.body)) ?? .string(reply.body)
    }

    public mutating func nextNonce() -> UInt64 {
        nonce = max(nonce + 1, now)
        return nonce
    }

    /// One order; returns its status entry.
    @discardableResult
    public mutating func order(
        _ isBuy: Bool, _ px: String, _ sz: String, tif: Tif = .gtc, asset: Int = 0, reduceOnly: Bool = false,
        cloid: Cloid? = nil, by wallet: Wallet = Harness.alice
    ) -> WireValue {
        let wire = OrderWire(asset: asset, isBuy: isBuy, limitPx: px, size: sz, reduceOnly: reduceOnly, orderType: .limit(tif), cloid: cloid)
        return statuses(send(.order([wire]), by: wallet))[0]
    }

    public func statuses(_ answer: WireValue) -> [WireValue] {
        answer["response"]?["data"]?["statuses"]?.arrayValue ?? []
    }

    public func info(_ json: String) -> WireValue {
        let (reply, _) = core.handleInfo(body: Array(json.utf8), now: now)
        return (try? WireValue(json: reply.body)) ?? .string(reply.body)
    }

    public func position(_ wallet: Wallet, asset: Int = 0) -> Amount {
        core.accounts[wallet.address]?.positions[asset]?.szi ?? 0
    }

    public func usdc(_ wallet: Wallet) -> Amount { core.accounts[wallet.address]!.usdc }

    public func openOids(_ wallet: Wallet) -> [UInt64] {
        info("{\"type\":\"openOrders\",\"user\":\"\(wallet.address.lowercased)\"}").arrayValue?.compactMap { $0["oid"]?.uint64Value } ?? []
    }

    public func status(of oid: UInt64, _ wallet: Wallet = Harness.alice) -> String? {
        info("{\"type\":\"orderStatus\",\"user\":\"\(wallet.address.lowercased)\",\"oid\":\(oid)}")["order"]?["status"]?.stringValue
    }
}

extension WireValue {
    public var restingOid: UInt64? { self["resting"]?["oid"]?.uint64Value }
    public var error: String? { self["error"]?.stringValue }
    public var filledSize: String? { self["filled"]?["totalSz"]?.stringValue }
}
