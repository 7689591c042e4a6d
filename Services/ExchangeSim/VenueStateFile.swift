import Foundation
import Hyperliquid
import Storage
import Venue

/// The venue's state file (`--state`): what the core changed, as rows of JSON, saved before the
/// change is answered or published; and, at start, the saved venue read back.
struct VenueStateFile {
    let store: VenueStateStore
    private let encoder = JSONEncoder()
    private let decoder = JSONDecoder()

    var path: String { store.path }

    /// Opens (or creates) the file; an unreadable file is an error naming it.
    init(path: String, durableAgainstPowerLoss: Bool = false) throws {
        store = try VenueStateStore(path: path, durableAgainstPowerLoss: durableAgainstPowerLoss)
    }

    /// Writes what changed in one transaction; nothing to write costs nothing.
    func save(_ changes: VenueChanges) throws {
        guard !changes.isEmpty else { return }
        try store.save(rows(changes))
    }

    func rows(_ changes: VenueChanges) throws -> VenueStateStore.Rows {
        var rows = VenueStateStore.Rows(venue: try changes.counters.map { try encoder.encode($0) })
        rows.accounts = try changes.accounts.map { .init(key: $0.address.lowercased, body: try encoder.encode($0)) }
        rows.orders = try changes.orders.map { .init(oid: $0.oid, user: $0.user.lowercased, body: try encoder.encode($0)) }
        rows.fills = try changes.fills.map { .init(user: $0.user.lowercased, body: try encoder.encode($0.fill)) }
        rows.fundings = try changes.fundings.map { .init(user: $0.user.lowercased, body: try encoder.encode($0.funding)) }
        rows.signers = try changes.nonces.map { .init(key: $0.signer.lowercased, body: try encoder.encode($0.book)) }
        rows.cloids = changes.cloids.map { .init(user: $0.user.lowercased, cloid: $0.cloid.rawValue, oid: $0.oid) }
        rows.agents = changes.agents.map { .init(agent: $0.agent.lowercased, owner: $0.owner.lowercased) }
        return rows
    }

    /// The saved venue on the configured listing, or nil when the file holds none yet (a fresh
    /// venue). Anything that does not read back is an error that names the row: never a fresh
    /// venue in its place.
    func load(config: VenueConfig) throws -> VenueCore? {
        guard let rows = try store.load(fillsPerUser: VenueCore.fillHistoryLimit) else { return nil }
        return try VenueCore.restored(config: config, from: try snapshot(rows))
    }

    func snapshot(_ rows: VenueStateStore.Rows) throws -> VenueSnapshot {
        func decode<T: Decodable>(_ type: T.Type, _ body: Data, _ what: @autoclosure () -> String) throws -> T {
            do { return try decoder.decode(type, from: body) } catch {
                throw VenueStateError("\(what()) does not read back: \(error)")
            }
        }
        func address(_ text: String, _ what: @autoclosure () -> String) throws -> Address {
            guard let address = parseAddress(text) else { throw VenueStateError("\(what()): \(text) is not an address") }
            return address
        }
        guard let venue = rows.venue else { throw VenueStateError("the venue row is missing") }
        let counters = try decode(VenueCounters.self, venue, "the venue row")
        var accounts: [Address: SimAccount] = [:]
        var order: [Address] = []
        for row in rows.accounts {
            let account = try decode(SimAccount.self, row.body, "account \(row.key)")
            guard account.address.lowercased == row.key.lowercased() else {
                throw VenueStateError("account row \(row.key) holds \(account.address.lowercased)")
            }
            accounts[account.address] = account
            order.append(account.address)
        }
        for row in rows.fills {
            let user = try address(row.user, "a fill's user")
            guard accounts[user] != nil else { throw VenueStateError("a fill of \(row.user), an account the state does not have") }
            accounts[user]!.fills.append(try decode(SimFill.self, row.body, "a fill of \(row.user)"))
        }
        for row in rows.fundings {
            let user = try address(row.user, "a funding payment's user")
            guard accounts[user] != nil else {
                throw VenueStateError("a funding payment of \(row.user), an account the state does not have")
            }
            accounts[user]!.fundings.append(try decode(FundingRecord.self, row.body, "a funding payment of \(row.user)"))
        }
        var orders: [SimOrder] = []
        for row in rows.orders {
            let order = try decode(SimOrder.self, row.body, "order \(row.oid)")
            guard order.oid == row.oid else { throw VenueStateError("order row \(row.oid) holds order \(order.oid)") }
            orders.append(order)
        }
        var nonces: [Address: NonceBook] = [:]
        for row in rows.signers {
            nonces[try address(row.key, "a signer")] = try decode(NonceBook.self, row.body, "the nonces of \(row.key)")
        }
        var cloids: [(user: Address, cloid: Cloid, oid: UInt64)] = []
        for row in rows.cloids {
            guard let cloid = try? Cloid(hex: row.cloid) else { throw VenueStateError("\(row.cloid) is not a client order id") }
            cloids.append((try address(row.user, "a client order id's user"), cloid, row.oid))
        }
        var agents: [Address: Address] = [:]
        for row in rows.agents {
            agents[try address(row.agent, "an agent")] = try address(row.owner, "an agent's owner")
        }
        return VenueSnapshot(
            counters: counters, accounts: order.map { accounts[$0]! }, orders: orders, nonces: nonces, cloids: cloids,
            agents: agents)
    }
}
