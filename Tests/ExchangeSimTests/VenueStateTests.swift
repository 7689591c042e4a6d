import Foundation
import GRDB
import Hyperliquid
import Schema
import Storage
import Testing
import TestSupport
import VenueTestSupport

@testable import ExchangeSim
@testable import Venue

/// The venue's state file: what is saved after each change, and a venue restored from it that is the
/// venue it was (accounts, positions, isolated margins, leverage, book and trigger orders, fills,
/// funding, nonces, client order ids). Real SQLite files in a temporary directory.
@Suite struct VenueStateTests {
    static let cloid = Cloid(UInt128(0xC0FFEE))

    /// Saves what changed since the last save, as the service does after every request and market step.
    static func save(_ h: inout Harness, _ file: VenueStateFile) throws {
        try file.save(h.core.takeChanges())
    }

    static func books(_ h: inout Harness) {
        h.book(bids: [(99_900, 5)], asks: [(100_000, 5)])
        h.book("ETH", bids: [(2_999, 10)], asks: [(3_000, 10)])
    }

    /// Something of everything the venue keeps, saved step by step: a cross BTC long, an isolated ETH
    /// long with margin added, resting bids and asks (two accounts at one price), a cloid order, a
    /// stop, a normalTpsl entry with children waiting, a partial fill by a market print, an hour's
    /// funding, an approved agent. Returns the venue and a signed request already sent.
    static func busyVenue(_ file: VenueStateFile) throws -> (Harness, sentRequest: [UInt8]) {
        var h = Harness { $0.fundingRatePerHour = "0.0001" }
        h.core.tick(now: h.now)
        try save(&h, file)
        books(&h)
        #expect(h.order(true, "100000", "0.5", tif: .ioc).filledSize == "0.5")
        let request = try Harness.alice.exchangeRequest(
            .updateLeverage(asset: 1, isCross: false, leverage: 10), nonce: h.nextNonce(), network: .testnet
        ).jsonBytes()
        #expect(h.sendRaw(request)["status"]?.stringValue == "ok")
        try save(&h, file)
        #expect(h.order(true, "3000", "1", tif: .ioc, asset: 1).filledSize == "1.0")
        #expect(h.send(.updateIsolatedMargin(asset: 1, isBuy: true, ntli: 100_000_000))["status"]?.stringValue == "ok")
        #expect(h.order(true, "95000", "0.1", cloid: cloid).restingOid != nil)
        #expect(h.order(false, "120000", "0.2").restingOid != nil)
        #expect(h.order(true, "99500", "0.1").restingOid != nil)
        #expect(h.order(true, "99500", "0.3", by: Harness.bob).restingOid != nil)
        let stop = OrderWire(
            asset: 0, isBuy: false, limitPx: "89000", size: "0.5", reduceOnly: true,
            orderType: .trigger(isMarket: true, triggerPx: "90000", tpsl: .sl))
        #expect(h.statuses(h.send(.order([stop])))[0].restingOid != nil)
        let entry = OrderWire(asset: 0, isBuy: true, limitPx: "98000", size: "0.1", orderType: .limit(.gtc))
        let tp = OrderWire(
            asset: 0, isBuy: false, limitPx: "110000", size: "0.1", reduceOnly: true,
            orderType: .trigger(isMarket: true, triggerPx: "110000", tpsl: .tp))
        #expect(h.statuses(h.send(.order([entry, tp], grouping: .normalTpsl)))[1] == .string("waitingForFill"))
        let agent = try Wallet(privateKeyHex: String(repeating: "66", count: 32))
        h.core.approveAgent(agent.address, for: Harness.carol.address)
        try save(&h, file)
        // The market fills alice's bid at 99,500 first (time priority), 0.05 of it.
        h.print(px: 99_400, sz: "0.05", buyer: false)
        #expect(h.core.orders.values.contains { $0.user == Harness.alice.address && $0.sz == "0.05" && $0.limitPx == 99_500 })
        h.now += 3_600_000
        h.core.tick(now: h.now)
        try save(&h, file)
        return (h, request)
    }

    /// What the info endpoint says about an account, for comparing two venues.
    static func views(_ h: Harness, _ wallet: Wallet) -> [String: WireValue] {
        let user = wallet.address.lowercased
        var out: [String: WireValue] = [:]
        for type in ["clearinghouseState", "openOrders", "frontendOpenOrders", "userFills", "historicalOrders"] {
            out[type] = h.info("{\"type\":\"\(type)\",\"user\":\"\(user)\"}")
        }
        out["userFillsByTime"] = h.info("{\"type\":\"userFillsByTime\",\"user\":\"\(user)\",\"startTime\":0}")
        out["userFunding"] = h.info("{\"type\":\"userFunding\",\"user\":\"\(user)\",\"startTime\":0}")
        out["byCloid"] = h.info("{\"type\":\"orderStatus\",\"user\":\"\(user)\",\"oid\":\"\(cloid.rawValue)\"}")
        out["userRateLimit"] = h.info("{\"type\":\"userRateLimit\",\"user\":\"\(user)\"}")
        return out
    }

    @Test func aRestoredVenueIsTheVenueThatWasSaved() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = try VenueStateFile(path: dir.path("venue.sqlite"))
        var (h, _) = try Self.busyVenue(file)
        var restored = h
        restored.core = try #require(try VenueStateFile(path: dir.path("venue.sqlite")).load(config: h.core.config))
        // The market is not kept: both see the same books again.
        Self.books(&h)
        Self.books(&restored)
        for wallet in [Harness.alice, Harness.bob, Harness.carol] {
            let before = Self.views(h, wallet)
            let after = Self.views(restored, wallet)
            for key in before.keys.sorted() {
                #expect(before[key] == after[key], "\(key) of \(wallet.address.lowercased)")
            }
        }
        let alice = try #require(restored.core.accounts[Harness.alice.address])
        #expect(alice.fills.count == 3 && alice.fundings.count == 2)
        #expect(alice.positions[1]?.isolatedMargin == h.core.accounts[Harness.alice.address]?.positions[1]?.isolatedMargin)
        #expect(alice.leverage[1] == LeverageSetting(isCross: false, leverage: 10))
        // The books and triggers are rebuilt in their priority order.
        #expect(restored.core.restingBids == h.core.restingBids && restored.core.restingAsks == h.core.restingAsks)
        #expect(restored.core.triggers == h.core.triggers && restored.core.liveOrders == h.core.liveOrders)
        #expect(restored.core.nextOid == h.core.nextOid && restored.core.nextSequence == h.core.nextSequence)
        #expect(restored.core.agentOwner.storage == h.core.agentOwner.storage)
        #expect(restored.core.signerNonces.storage == h.core.signerNonces.storage)
        #expect(restored.core.lastFundingHour == h.core.lastFundingHour)
        #expect(restored.core.takeChanges().isEmpty, "a restore is what is saved: nothing to write")
    }

    @Test func aRestoredVenueGoesOnTrading() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = try VenueStateFile(path: dir.path("venue.sqlite"))
        var (h, sent) = try Self.busyVenue(file)
        var restored = h
        restored.core = try #require(try file.load(config: h.core.config))
        Self.books(&restored)
        // A nonce used before the restart is still used.
        let nonce = try #require(try WireValue(json: sent)["nonce"]?.uint64Value)
        #expect(restored.sendRaw(sent)["response"]?.stringValue == VenueError.duplicateNonce(nonce))
        // The client order id still names its order.
        let cancel = restored.send(.cancelByCloid([CancelByCloidWire(asset: 0, cloid: Self.cloid)]))
        #expect(restored.statuses(cancel) == [.string("success")], "\(cancel)")
        // New oids and trade ids never repeat old ones.
        let oldTids = Set(h.core.accounts.values.flatMap { $0.fills.map(\.tid) })
        #expect(restored.order(true, "100000", "0.1", tif: .ioc).filledSize == "0.1")
        let newFill = try #require(restored.core.accounts[Harness.alice.address]?.fills.last)
        #expect(!oldTids.contains(newFill.tid) && newFill.tid > oldTids.max()!)
        #expect(newFill.oid >= h.core.nextOid)
        // The market fills the rest of the queue at 99,500: alice's 0.05 first, then bob.
        restored.print(px: 99_400, sz: "0.1", buyer: false)
        #expect(restored.position(Harness.bob) == "0.05")
        // The stop still protects the position: the mark falls through it and it fires and fills.
        let stop = try #require(restored.core.orders.values.first { $0.triggerPx == 90_000 })
        restored.book(bids: [(89_900, 5)], asks: [(90_000, 5)])
        restored.book(bids: [(88_900, 5)], asks: [(89_000, 5)])
        #expect(restored.core.orders[stop.oid]?.status == .filled && restored.core.orders[stop.oid]?.sz == 0)
        // And all of that is saved again.
        try Self.save(&restored, file)
        let again = try #require(try file.load(config: h.core.config))
        #expect(again.accounts[Harness.alice.address]?.fills.map(\.tid) == restored.core.accounts[Harness.alice.address]?.fills.map(\.tid))
        #expect(again.accounts[Harness.bob.address]?.positions == restored.core.accounts[Harness.bob.address]?.positions)
    }

    @Test func theMarketMovingAloneSavesNothing() throws {
        var h = Harness()
        Self.books(&h)
        h.order(true, "99900", "0.1")
        _ = h.core.takeChanges()
        // Books, prints elsewhere and prints that only eat the queue ahead of the bid change nothing kept.
        h.book(bids: [(99_900, 3)], asks: [(100_100, 5)])
        h.print(px: 100_000, sz: 1)
        h.print(px: 99_900, sz: 1, buyer: false)
        #expect(h.core.takeChanges().isEmpty)
        // A print through the bid fills it: the fill, the order and the account are in the next save.
        h.print(px: 99_800, sz: "0.05", buyer: false)
        let changes = h.core.takeChanges()
        #expect(changes.fills.map(\.fill.sz) == ["0.05"] && changes.fills.first?.user == Harness.alice.address)
        #expect(changes.orders.map(\.sz) == ["0.05"] && changes.accounts.map(\.address) == [Harness.alice.address])
    }

    @Test func tradeIdsAreReservedAheadSoPrintsDoNotWrite() throws {
        var h = Harness()
        Self.books(&h)
        let first = try #require(h.core.takeChanges().counters)
        #expect(first.tradeIdCeiling == h.core.nextTid + VenueCore.tradeIdReserve)
        for _ in 0..<50 { h.print(px: 100_000, sz: 1) }
        #expect(h.core.takeChanges().counters == nil)
        h.core.nextTid = first.tradeIdCeiling + 1
        #expect(h.core.takeChanges().counters?.tradeIdCeiling == first.tradeIdCeiling + 1 + VenueCore.tradeIdReserve)
    }

    @Test func accountsAreFundedOnceNewOnesWhenAdded() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = try VenueStateFile(path: dir.path("venue.sqlite"))
        var h = Harness()
        Self.books(&h)
        h.order(true, "100000", "0.1", tif: .ioc)
        try Self.save(&h, file)
        let usdc = h.usdc(Harness.alice)
        var config = h.core.config
        config.accounts.append(AccountSpec(address: Harness.stranger.address.lowercased, usdc: 777))
        let restored = try #require(try file.load(config: config))
        #expect(restored.accounts[Harness.alice.address]?.usdc == usdc, "the start's funding is not paid again")
        #expect(restored.accounts[Harness.stranger.address]?.usdc == 777)
        var again = restored
        let changes = again.takeChanges()
        #expect(changes.accounts.map(\.address) == [Harness.stranger.address])
    }

    // MARK: A file that does not read back

    @Test func aFileThatIsNotADatabaseIsAnError() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = try dir.write("venue.sqlite", String(repeating: "not a venue ", count: 400))
        #expect(throws: VenueStateStore.StoreError.self) { try VenueStateFile(path: path) }
    }

    @Test func aRowThatDoesNotDecodeIsAnErrorNamingIt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = try VenueStateFile(path: dir.path("venue.sqlite"))
        var h = Harness()
        Self.books(&h)
        let oid = try #require(h.order(true, "99000", "0.1").restingOid)
        try Self.save(&h, file)
        try file.store.queue.write { db in
            try db.execute(sql: "UPDATE venue_order SET body = ? WHERE oid = ?", arguments: [Data("{\"oid\":1}".utf8), oid])
        }
        do {
            _ = try file.load(config: h.core.config)
            Issue.record("a corrupt order was read back")
        } catch let error as VenueStateError {
            #expect(error.description.contains("order \(oid) does not read back"), "\(error)")
        }
    }

    @Test func aNewerFormatIsRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = try VenueStateFile(path: dir.path("venue.sqlite"))
        var h = Harness()
        try Self.save(&h, file)
        try file.store.queue.write { try $0.execute(sql: "UPDATE venue SET format_version = 2") }
        #expect(throws: VenueStateStore.StoreError.futureVersion(2)) { try file.load(config: h.core.config) }
    }

    @Test func aDifferentListingIsRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = try VenueStateFile(path: dir.path("venue.sqlite"))
        var h = Harness()
        try Self.save(&h, file)
        var reordered = h.core.config
        reordered.assets.swapAt(0, 1)
        do {
            _ = try file.load(config: reordered)
            Issue.record("a venue saved for another listing was read back")
        } catch let error as VenueStateError {
            #expect(error.description.contains("assets BTC,ETH"), "\(error)")
        }
        // Coins listed after the saved ones are fine.
        var more = h.core.config
        more.assets.append(AssetSpec(name: "DOGE", szDecimals: 0, maxLeverage: 10))
        #expect(try file.load(config: more) != nil)
    }

    @Test func anEmptyFileIsAFreshVenue() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = try VenueStateFile(path: dir.path("sub/venue.sqlite"))
        #expect(try file.load(config: VenueConfig()) == nil)
    }

    // MARK: The store

    @Test func theStoreKeepsTheNewestFillsOfEachUser() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try VenueStateStore(path: dir.path("venue.sqlite"))
        var rows = VenueStateStore.Rows(venue: Data("{}".utf8))
        for i in 0..<5 {
            rows.fills.append(.init(user: "a", body: Data("a\(i)".utf8)))
            rows.fills.append(.init(user: "b", body: Data("b\(i)".utf8)))
        }
        try store.save(rows)
        let loaded = try #require(try store.load(fillsPerUser: 3))
        #expect(loaded.fills.map { String(decoding: $0.body, as: UTF8.self) } == ["a2", "b2", "a3", "b3", "a4", "b4"])
        let count = try store.queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM venue_fill") }
        #expect(count == 6, "older fills are deleted, not only skipped")
    }

    @Test func aSaveIsAllOrNothing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try VenueStateStore(path: dir.path("venue.sqlite"))
        try store.save(VenueStateStore.Rows(venue: Data("{}".utf8)))
        try store.queue.write { try $0.execute(sql: "CREATE TRIGGER refuse BEFORE INSERT ON venue_fill BEGIN SELECT RAISE(ABORT, 'disk says no'); END") }
        var rows = VenueStateStore.Rows()
        rows.accounts = [.init(key: "a", body: Data("{}".utf8))]
        rows.fills = [.init(user: "a", body: Data("f".utf8))]
        #expect(throws: (any Error).self) { try store.save(rows) }
        let loaded = try #require(try store.load(fillsPerUser: 10))
        #expect(loaded.accounts.isEmpty && loaded.fills.isEmpty)
    }
}
