import Foundation
import Hyperliquid
import Schema

/// Margin as Hyperliquid keeps it. Cross positions share the cross balance: the account's cash less
/// what isolated positions hold, plus the cross positions' unrealised P&L. An isolated position has
/// its own margin, moved out of the cross balance when it opens or grows (notional ÷ leverage) and
/// released, with the realised P&L, as it shrinks; its equity is that margin plus its own
/// unrealised P&L, and nothing else backs it.
extension VenueCore {
    func setting(_ account: SimAccount, _ asset: Int) -> LeverageSetting {
        if let setting = account.leverage[asset] { return setting }
        let spec = assets[asset]
        return LeverageSetting(isCross: !spec.onlyIsolated, leverage: min(config.defaultLeverage, spec.maxLeverage))
    }

    func isIsolated(_ account: SimAccount, _ asset: Int) -> Bool { !setting(account, asset).isCross }

    func unrealizedPnl(_ position: SimPosition, asset: Int) -> Amount {
        position.szi * ((mark(asset) ?? position.entryPx) - position.entryPx)
    }

    /// |size| × mark / (2 × max leverage): half the initial margin at the asset's maximum leverage.
    func maintenanceMargin(_ position: SimPosition, asset: Int) -> Amount {
        position.szi.magnitude * (mark(asset) ?? position.entryPx) / Amount(2 * assets[asset].maxLeverage)
    }

    /// Cash plus every position's unrealised P&L (cross and isolated): `marginSummary.accountValue`.
    public func accountValue(_ account: SimAccount) -> Amount {
        var value = account.usdc
        for (asset, position) in account.positions { value += unrealizedPnl(position, asset: asset) }
        return value
    }

    /// What backs the cross positions: cash less the isolated margins, plus the cross unrealised P&L.
    func crossAccountValue(_ account: SimAccount) -> Amount {
        var value = account.usdc
        for (asset, position) in account.positions {
            if isIsolated(account, asset) {
                value -= position.isolatedMargin
            } else {
                value += unrealizedPnl(position, asset: asset)
            }
        }
        return value
    }

    /// An isolated position's equity: its margin plus its unrealised P&L.
    func isolatedEquity(_ position: SimPosition, asset: Int) -> Amount {
        position.isolatedMargin + unrealizedPnl(position, asset: asset)
    }

    /// The cross positions' maintenance margin (`crossMaintenanceMarginUsed`).
    func maintenanceMargin(_ account: SimAccount) -> Amount {
        var total: Amount = 0
        for (asset, position) in account.positions where !position.szi.isZero && !isIsolated(account, asset) {
            total += maintenanceMargin(position, asset: asset)
        }
        return total
    }

    /// Initial margin the cross positions hold at the mark (isolated ones hold their own).
    func positionMargin(_ account: SimAccount) -> Amount {
        var total: Amount = 0
        for (asset, position) in account.positions where !isIsolated(account, asset) {
            let px = mark(asset) ?? position.entryPx
            total += position.szi.magnitude * px / Amount(setting(account, asset).leverage)
        }
        return total
    }

    /// Margin held by resting orders that are not reduce-only.
    func openOrderMargin(_ account: SimAccount) -> Amount {
        var total: Amount = 0
        for oid in liveOrders[account.address] ?? [] {
            guard let order = orders[oid], !order.reduceOnly, !order.kind.isTrigger, order.status == .open else { continue }
            total += order.sz * order.limitPx / Amount(setting(account, order.asset).leverage)
        }
        return total
    }

    /// What the cross balance can still commit: to a new position (cross or isolated), an order or an
    /// isolated position's margin.
    func availableMargin(_ account: SimAccount) -> Amount {
        crossAccountValue(account) - positionMargin(account) - openOrderMargin(account)
    }

    /// An isolated position's margin after a fill of `sz` at `px` from signed size `start`: grows by
    /// the added notional ÷ leverage, shrinks in proportion to what closes.
    func isolatedMarginAfterFill(_ margin: Amount, start: Amount, delta: Amount, px: Amount, leverage: Int) -> Amount {
        let sz = delta.magnitude
        if start.isZero || start.signum == delta.signum { return margin + sz * px / Amount(leverage) }
        let closing = Amount.min(start.magnitude, sz)
        let kept = margin - margin * closing / start.magnitude
        let opened = sz - closing
        return opened.isPositive ? opened * px / Amount(leverage) : kept
    }

    // MARK: updateIsolatedMargin

    /// Moves `ntli` millionths of USDC into (positive) or out of (negative) the isolated position on
    /// `asset`. Adding needs that much free in the cross balance; what stays after a removal must meet
    /// max(initial margin, 10 % of the notional), as transfers out of a position must (the docs'
    /// `transfer_margin_required`).
    mutating func updateIsolatedMargin(user: Address, asset: Int, ntli: Int64) -> String? {
        guard spec(asset) != nil else { return VenueError.unknownAsset(asset) }
        guard let account = accounts[user], var position = account.positions[asset], !position.szi.isZero else {
            return VenueError.noIsolatedPosition
        }
        guard isIsolated(account, asset) else { return VenueError.notIsolated }
        let amount = Amount(Decimal(ntli)) / Amount(1_000_000)
        if amount.isZero { return nil }
        if amount.isPositive {
            guard availableMargin(account) >= amount else { return VenueError.insufficientMarginToAdd }
        } else {
            let notional = position.szi.magnitude * (mark(asset) ?? position.entryPx)
            let required = Amount.max(notional / Amount(setting(account, asset).leverage), notional / 10)
            guard isolatedEquity(position, asset: asset) + amount >= required else {
                return VenueError.insufficientMarginToRemove
            }
        }
        position.isolatedMargin += amount
        accounts[user]?.positions[asset] = position
        return nil
    }
}
