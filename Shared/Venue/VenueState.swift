import Hyperliquid
import Schema

// What the venue keeps across a restart: accounts (cash, positions, isolated margins, leverage,
// agents, the dead man's switch), every order (live ones with their book and trigger places, ended
// ones for orderStatus), fills and funding history, each signer's nonces, client order ids, and
// the counters that keep oids, trade ids and time priority unique. The market (external books,
// prints, candles, pinned marks) is not kept: it starts again from its seed or file.

/// Counters and settings saved as one row.
public struct VenueCounters: Sendable, Equatable, Codable {
    var nextOid: UInt64
    var nextSequence: UInt64
    /// Above every trade id handed out. Trade ids advance with every external print, so the saved
    /// value runs ahead by `VenueCore.tradeIdReserve` and is rewritten only when passed: a restart
    /// continues from it and never hands out a tid twice, without a write per print.
    var tradeIdCeiling: UInt64
    var lastFundingHour: UInt64?
    var liquidations: Int
    var addressLimitRefusals: Int
    /// The listed coins by asset index: positions, leverage and orders name assets by index.
    var assets: [String]
}

/// What a save must write: everything changed since the last save.
public struct VenueChanges: Sendable {
    /// Accounts whose state changed (their `Codable` form has no history).
    public internal(set) var accounts: [SimAccount] = []
    /// Fills and funding payments booked since the last save, in the order they were booked.
    public internal(set) var fills: [(user: Address, fill: SimFill)] = []
    public internal(set) var fundings: [(user: Address, funding: FundingRecord)] = []
    public internal(set) var orders: [SimOrder] = []
    public internal(set) var nonces: [(signer: Address, book: NonceBook)] = []
    public internal(set) var cloids: [(user: Address, cloid: Cloid, oid: UInt64)] = []
    public internal(set) var agents: [(agent: Address, owner: Address)] = []
    /// Set when a counter moved.
    public internal(set) var counters: VenueCounters?

    public var isEmpty: Bool {
        accounts.isEmpty && fills.isEmpty && fundings.isEmpty && orders.isEmpty && nonces.isEmpty && cloids.isEmpty
            && agents.isEmpty && counters == nil
    }
}

/// The saved venue, as read back at start.
public struct VenueSnapshot: Sendable {
    var counters: VenueCounters
    /// With their fills and funding history (oldest first).
    var accounts: [SimAccount]
    var orders: [SimOrder]
    var nonces: [Address: NonceBook]
    var cloids: [(user: Address, cloid: Cloid, oid: UInt64)]
    var agents: [Address: Address]

    public init(
        counters: VenueCounters, accounts: [SimAccount], orders: [SimOrder], nonces: [Address: NonceBook],
        cloids: [(user: Address, cloid: Cloid, oid: UInt64)], agents: [Address: Address]
    ) {
        self.counters = counters
        self.accounts = accounts
        self.orders = orders
        self.nonces = nonces
        self.cloids = cloids
        self.agents = agents
    }
}

/// A saved venue that cannot be restored as it is.
public struct VenueStateError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What the last save wrote: the base of the next `takeChanges()`.
struct SaveMarks: Sendable {
    /// The last fill saved per account (fills have unique tids; the in-memory history is trimmed
    /// from the front, so a count would not do).
    var lastFillTid: [Address: UInt64] = [:]
    /// Funding payments saved per account (never trimmed).
    var fundingCount: [Address: Int] = [:]
    var counters: VenueCounters?
}

extension VenueCore {
    /// Fills kept per account (userFills shows at most 2,000 of them).
    public static let fillHistoryLimit = 10_000

    /// How far the saved trade-id ceiling runs ahead of the trade ids handed out.
    static let tradeIdReserve: UInt64 = 1_000_000

    /// Everything changed since the last call (or the restore), as values to save; then takes that
    /// as saved. Cheap when nothing changed: the market moving alone changes nothing kept.
    public mutating func takeChanges() -> VenueChanges {
        var changes = VenueChanges()
        for address in accounts.takeChanged().sorted(by: { $0.lowercased < $1.lowercased }) {
            guard let account = accounts[address] else { continue }
            changes.accounts.append(account)
            let fills = account.fills
            var first = 0
            if let last = saved.lastFillTid[address], let index = fills.lastIndex(where: { $0.tid == last }) {
                first = index + 1
            }
            for fill in fills[first...] { changes.fills.append((address, fill)) }
            if let last = fills.last { saved.lastFillTid[address] = last.tid }
            let fundingsSaved = saved.fundingCount[address] ?? 0
            for funding in account.fundings.dropFirst(fundingsSaved) { changes.fundings.append((address, funding)) }
            saved.fundingCount[address] = account.fundings.count
        }
        for oid in orders.takeChanged().sorted() {
            if let order = orders[oid] { changes.orders.append(order) }
        }
        for signer in signerNonces.takeChanged().sorted(by: { $0.lowercased < $1.lowercased }) {
            if let book = signerNonces[signer] { changes.nonces.append((signer, book)) }
        }
        for key in cloids.table.takeChanged() {
            if let oid = cloids.table[key] { changes.cloids.append((key.user, key.cloid, oid)) }
        }
        for agent in agentOwner.takeChanged().sorted(by: { $0.lowercased < $1.lowercased }) {
            if let owner = agentOwner[agent] { changes.agents.append((agent, owner)) }
        }
        let ceiling = saved.counters?.tradeIdCeiling ?? 0
        let counters = VenueCounters(
            nextOid: nextOid, nextSequence: nextSequence,
            tradeIdCeiling: nextTid > ceiling ? nextTid + Self.tradeIdReserve : ceiling,
            lastFundingHour: lastFundingHour, liquidations: liquidations, addressLimitRefusals: addressLimitRefusals,
            assets: assets.map(\.name))
        if counters != saved.counters {
            changes.counters = counters
            saved.counters = counters
        }
        return changes
    }

    /// The venue as it was saved, on the configured listing; then opens configured accounts it does
    /// not have yet. A snapshot that does not fit the listing or itself is an error, never guessed.
    public static func restored(config: VenueConfig, from snapshot: VenueSnapshot) throws(VenueStateError) -> VenueCore {
        var core = VenueCore(listing: config)
        let listed = config.assets.map(\.name)
        let savedAssets = snapshot.counters.assets
        guard savedAssets.count <= listed.count, Array(listed.prefix(savedAssets.count)) == savedAssets else {
            throw VenueStateError(
                "the venue was saved with the assets \(savedAssets.joined(separator: ",")) (in this order); this "
                    + "configuration lists \(listed.joined(separator: ",")): list the same assets first, or start a new state file")
        }
        let c = snapshot.counters
        core.nextOid = c.nextOid
        core.nextSequence = c.nextSequence
        core.nextTid = c.tradeIdCeiling
        core.lastFundingHour = c.lastFundingHour
        core.liquidations = c.liquidations
        core.addressLimitRefusals = c.addressLimitRefusals

        var accounts: [Address: SimAccount] = [:]
        for account in snapshot.accounts {
            for asset in Set(account.positions.keys).union(account.leverage.keys) where !listed.indices.contains(asset) {
                throw VenueStateError("account \(account.address.lowercased) has a position or setting in asset \(asset), which is not listed")
            }
            accounts[account.address] = account
            if let last = account.fills.last { core.saved.lastFillTid[account.address] = last.tid }
            core.saved.fundingCount[account.address] = account.fundings.count
        }
        var orders: [UInt64: SimOrder] = [:]
        for order in snapshot.orders {
            guard listed.indices.contains(order.asset), listed[order.asset] == order.coin else {
                throw VenueStateError("order \(order.oid) names asset \(order.asset) (\(order.coin)), which is not listed there")
            }
            guard accounts[order.user] != nil else {
                throw VenueStateError("order \(order.oid) belongs to \(order.user.lowercased), an account the state does not have")
            }
            guard order.oid < c.nextOid, order.sequence < c.nextSequence else {
                throw VenueStateError("order \(order.oid) is past the saved counters (next oid \(c.nextOid))")
            }
            orders[order.oid] = order
        }
        var cloids: [CloidBook.Key: UInt64] = [:]
        for entry in snapshot.cloids {
            guard orders[entry.oid] != nil else {
                throw VenueStateError("client order id \(entry.cloid.rawValue) names order \(entry.oid), which the state does not have")
            }
            cloids[CloidBook.Key(user: entry.user, cloid: entry.cloid)] = entry.oid
        }
        core.accounts = TrackedTable(accounts)
        core.orders = TrackedTable(orders)
        core.cloids = CloidBook(table: TrackedTable(cloids))
        core.signerNonces = TrackedTable(snapshot.nonces)
        core.agentOwner = TrackedTable(snapshot.agents)
        core.rebuildBooks()
        core.saved.counters = c
        core.openConfiguredAccounts(fresh: false)
        return core
    }

    /// The indexes of live orders, from the orders: each account's live set, each asset's resting
    /// bids and asks (best price first, then time priority, as `rest` keeps them) and its triggers
    /// (in placement order, as `placeOne` appends them).
    mutating func rebuildBooks() {
        liveOrders = [:]
        restingBids = [:]
        restingAsks = [:]
        triggers = [:]
        for order in orders.values.sorted(by: { $0.oid < $1.oid }) where order.status.isLive {
            liveOrders[order.user, default: []].insert(order.oid)
            if order.kind.isTrigger {
                triggers[order.asset, default: []].append(order.oid)
            } else if order.isBuy {
                restingBids[order.asset, default: []].append(order.oid)
            } else {
                restingAsks[order.asset, default: []].append(order.oid)
            }
        }
        let orders = self.orders.storage
        for (asset, side) in restingBids {
            restingBids[asset] = side.sorted { a, b in
                let (x, y) = (orders[a]!, orders[b]!)
                return x.limitPx == y.limitPx ? x.sequence < y.sequence : x.limitPx > y.limitPx
            }
        }
        for (asset, side) in restingAsks {
            restingAsks[asset] = side.sorted { a, b in
                let (x, y) = (orders[a]!, orders[b]!)
                return x.limitPx == y.limitPx ? x.sequence < y.sequence : x.limitPx < y.limitPx
            }
        }
    }
}
