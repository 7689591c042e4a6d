import Hyperliquid
import Schema

/// Liquidation as Hyperliquid documents it: maintenance margin is half the initial margin at the
/// asset's maximum leverage; an account whose value falls below its maintenance margin is liquidated.
/// The simulator, like its other margin checks, counts the whole account as one cross balance; it
/// closes every position at the mark in one step (the venue first sends market orders to the book and
/// only then hands the rest to its backstop vault; the simulator's external book is not deep enough to
/// replay that faithfully) and cancels the account's open orders as `liquidatedCanceled`.
extension VenueCore {
    /// Σ |size| × mark / (2 × max leverage).
    func maintenanceMargin(_ account: SimAccount) -> Amount {
        var total: Amount = 0
        for (asset, position) in account.positions where !position.szi.isZero {
            let px = mark(asset) ?? position.entryPx
            total += position.szi.magnitude * px / Amount(2 * assets[asset].maxLeverage)
        }
        return total
    }

    /// The mark at which the account would reach its maintenance margin, every other mark held:
    /// `px − side × available / |size| / (1 − l × side)`, `l = 1 / (2 × max leverage)`, available =
    /// account value − maintenance margin. nil without a position; never negative.
    func liquidationPrice(_ account: SimAccount, asset: Int) -> Amount? {
        guard let position = account.positions[asset], !position.szi.isZero else { return nil }
        let px = mark(asset) ?? position.entryPx
        let side = Amount(position.szi.signum)
        let l = Amount(1) / Amount(2 * assets[asset].maxLeverage)
        let available = accountValue(account) - maintenanceMargin(account)
        let price = px - side * available / position.szi.magnitude / (1 - l * side)
        return price.isNegative ? .zero : price
    }

    /// Liquidates every account holding `asset` (or any account, with nil) whose value is below its
    /// maintenance margin.
    mutating func liquidateUnderwater(asset: Int?, now: UInt64) {
        let candidates = accounts.keys.filter { address in
            guard let account = accounts[address], !account.positions.isEmpty else { return false }
            return asset.map { account.positions[$0] != nil } ?? true
        }.sorted { $0.lowercased < $1.lowercased }
        for address in candidates {
            guard let account = accounts[address] else { continue }
            let value = accountValue(account)
            let maintenance = maintenanceMargin(account)
            guard value < maintenance else { continue }
            liquidate(address, now: now)
        }
    }

    private mutating func liquidate(_ user: Address, now: UInt64) {
        for oid in (liveOrders[user] ?? []).sorted() { cancelOrder(oid, status: .liquidatedCanceled, now: now) }
        guard let positions = accounts[user]?.positions else { return }
        for asset in positions.keys.sorted() {
            guard let position = positions[asset], !position.szi.isZero else { continue }
            let px = mark(asset) ?? position.entryPx
            let oid = nextOid
            nextOid += 1
            let tid = nextTid
            nextTid += 1
            let hash = Wire.hash(tid)
            applyFill(
                user: user, asset: asset, isBuy: position.szi.isNegative, px: roundedMark(px, asset),
                sz: position.szi.magnitude, crossed: true, oid: oid, cloid: nil, tid: tid, hash: hash, now: now,
                liquidation: SimLiquidation(liquidatedUser: user, markPx: px, method: "market"))
        }
        liquidations += 1
    }
}

/// What a liquidation fill carries in `userFills` (`liquidation`).
struct SimLiquidation: Sendable, Equatable {
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
