import Hyperliquid
import Schema

/// Liquidation as Hyperliquid documents it. Maintenance margin is half the initial margin at the
/// asset's maximum leverage. Each margin pool is checked on its own: the cross positions against the
/// cross balance, each isolated position against its own margin. A pool whose equity is below its
/// maintenance margin is liquidated:
/// - market liquidation: its positions are closed at the mark (the venue sends market orders to the
///   book; the simulator's external book is not deep enough to replay that faithfully); a position
///   over 100,000 USDC of notional sends only 20 % of itself, unless the account had a partial
///   liquidation in the last 30 s, when the whole position goes. Each check is one step (one block):
///   the next market event or tick checks again.
/// - backstop: a pool whose equity is below ⅔ of its maintenance margin is taken whole by the
///   liquidator vault with what is left of its margin: its positions close in one step at prices
///   that bring the pool's equity to zero (to the tick, in the account's favour), without fees.
/// A cross liquidation cancels the account's orders except on its isolated positions' coins; an
/// isolated one cancels the orders on its coin; both as `liquidatedCanceled`.
extension VenueCore {
    /// Positions above this notional are liquidated in parts.
    static let partialLiquidationNotional: Amount = 100_000
    /// The part of such a position one market liquidation sends.
    static let partialLiquidationFraction: Amount = "0.2"
    /// After a partial liquidation, market liquidations of the account take whole positions this long.
    static let partialLiquidationCooldownMs: UInt64 = 30_000

    /// One margin pool of an account: every cross position, or one isolated position.
    enum MarginPool: Hashable {
        case cross
        case isolated(asset: Int)
    }

    func pools(_ account: SimAccount) -> [MarginPool] {
        var pools: [MarginPool] = []
        var hasCross = false
        for asset in account.positions.keys.sorted() {
            guard let position = account.positions[asset], !position.szi.isZero else { continue }
            if isIsolated(account, asset) { pools.append(.isolated(asset: asset)) } else { hasCross = true }
        }
        return hasCross ? [.cross] + pools : pools
    }

    func assets(in pool: MarginPool, of account: SimAccount) -> [Int] {
        switch pool {
        case .isolated(let asset): [asset]
        case .cross:
            account.positions.keys.sorted().filter { account.positions[$0]?.szi.isZero == false && !isIsolated(account, $0) }
        }
    }

    /// (equity, maintenance margin) of a pool.
    func health(_ account: SimAccount, _ pool: MarginPool) -> (equity: Amount, maintenance: Amount) {
        switch pool {
        case .cross: return (crossAccountValue(account), maintenanceMargin(account))
        case .isolated(let asset):
            guard let position = account.positions[asset] else { return (0, 0) }
            return (isolatedEquity(position, asset: asset), maintenanceMargin(position, asset: asset))
        }
    }

    /// The mark at which the position's pool reaches its maintenance margin, every other mark held:
    /// `px − side × available / |size| / (1 − l × side)`, `l = 1 / (2 × max leverage)`, available =
    /// the pool's equity − its maintenance margin. nil without a position; never negative.
    func liquidationPrice(_ account: SimAccount, asset: Int) -> Amount? {
        guard let position = account.positions[asset], !position.szi.isZero else { return nil }
        let px = mark(asset) ?? position.entryPx
        let side = Amount(position.szi.signum)
        let l = Amount(1) / Amount(2 * assets[asset].maxLeverage)
        let (equity, maintenance) = health(account, isIsolated(account, asset) ? .isolated(asset: asset) : .cross)
        let price = px - side * (equity - maintenance) / position.szi.magnitude / (1 - l * side)
        return price.isNegative ? .zero : price
    }

    /// Checks every pool of every account holding `asset` (or of every account, with nil) and
    /// liquidates those below their maintenance margin, one step each.
    mutating func liquidateUnderwater(asset: Int?, now: UInt64) {
        let candidates = accounts.keys.filter { address in
            guard let account = accounts[address], !account.positions.isEmpty else { return false }
            return asset.map { account.positions[$0] != nil } ?? true
        }.sorted { $0.lowercased < $1.lowercased }
        for address in candidates {
            guard let account = accounts[address] else { continue }
            for pool in pools(account) {
                guard let current = accounts[address] else { break }
                let (equity, maintenance) = health(current, pool)
                guard maintenance.isPositive, equity < maintenance else { continue }
                liquidate(address, pool: pool, backstop: equity * 3 < maintenance * 2, now: now)
            }
        }
    }

    private mutating func liquidate(_ user: Address, pool: MarginPool, backstop: Bool, now: UInt64) {
        guard let account = accounts[user] else { return }
        let closing = assets(in: pool, of: account)
        let isolatedCoins = Set(account.positions.keys.filter { isIsolated(account, $0) })
        for oid in (liveOrders[user] ?? []).sorted() {
            guard let order = orders[oid] else { continue }
            let inPool = if case .isolated(let asset) = pool { order.asset == asset } else { !isolatedCoins.contains(order.asset) }
            if inPool { cancelOrder(oid, status: .liquidatedCanceled, now: now) }
        }
        let (equity, maintenance) = health(account, pool)
        var partial = false
        for asset in closing {
            guard let position = accounts[user]?.positions[asset], !position.szi.isZero else { continue }
            let markPx = mark(asset) ?? position.entryPx
            let closesLong = position.szi.isPositive
            var px = roundedMark(markPx, asset)
            var sz = position.szi.magnitude
            if backstop {
                // The vault takes this position's share of what is left of the pool's equity: the fill
                // price moves against the account by that share per unit (to the tick, in its favour).
                let share = maintenance.isPositive ? equity * maintenanceMargin(position, asset: asset) / maintenance : equity
                let exact = markPx - Amount(position.szi.signum) * share / sz
                px = AssetRules.roundPrice(Amount.max(exact, 0), spec: assets[asset], down: !closesLong)
                if !px.isPositive { px = roundedMark(markPx, asset) }
            } else if sz * markPx > Self.partialLiquidationNotional && !inCooldown(user, now: now) {
                let part = (sz * Self.partialLiquidationFraction).rounded(scale: assets[asset].szDecimals, .down)
                if part.isPositive && part < sz {
                    sz = part
                    partial = true
                }
            }
            let oid = nextOid
            nextOid += 1
            let tid = nextTid
            nextTid += 1
            applyFill(
                user: user, asset: asset, isBuy: !closesLong, px: px, sz: sz, crossed: true, oid: oid, cloid: nil, tid: tid,
                hash: Wire.hash(tid), now: now,
                liquidation: SimLiquidation(liquidatedUser: user, markPx: markPx, method: backstop ? "backstop" : "market"),
                feeFree: backstop)
        }
        if partial { accounts[user]?.lastPartialLiquidation = now }
        liquidations += 1
    }

    private func inCooldown(_ user: Address, now: UInt64) -> Bool {
        guard let last = accounts[user]?.lastPartialLiquidation else { return false }
        return now < last + Self.partialLiquidationCooldownMs
    }
}

/// What a liquidation fill carries in `userFills` (`liquidation`): method "market" when sent to the
/// book, "backstop" when the liquidator vault took it.
struct SimLiquidation: Sendable, Equatable, Codable {
    var liquidatedUser: Address
    var markPx: Amount
    var method: String

    var wire: WireValue {
        .object([
            ("liquidatedUser", .string(liquidatedUser.lowercased)), ("markPx", .decimal(markPx)),
            ("method", .string(method)),
        ])
    }
}
