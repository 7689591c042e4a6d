import Schema

/// A position as the risk book knows it: from the latest snapshot plus the fills since.
struct BookPosition: Sendable, Equatable {
    /// Signed: positive is long.
    var size: Amount
    var entryPrice: Amount
    /// The snapshot's unrealised P&L, used until a mark arrives; nil once fills changed the position.
    var snapshotUnrealized: Amount?
}

/// An approved order whose reservation still counts: from approval until it is filled,
/// rejected, canceled, or a snapshot shows it not live past its ack deadline.
struct WorkingOrder: Sendable, Equatable {
    var clientOrderId: String
    var intentId: String
    var symbol: String
    var side: Side
    var price: Amount
    var size: Amount
    /// Unfilled size: what the reservation still counts.
    var remaining: Amount
    var reduceOnly: Bool
    var approvedAt: EpochNanos
    var ackDeadline: EpochNanos
    var acked = false
    /// Flagged by `expireOverdue`: past its ack deadline without an answer.
    var overdue = false

    var isPartiallyFilled: Bool { remaining < size }
}

/// The worst-case exposure of one symbol if every reserved order filled and no reducing order did.
/// `long` is what the book would hold long if all non-reduce-only buys filled (negative when
/// still net short); `short` likewise for sells.
struct SymbolExposure: Sendable, Equatable {
    var long: Amount = .zero
    var short: Amount = .zero

    /// The exposure this symbol counts with: the worse of the two directions.
    var gross: Amount { Swift.max(long, short, .zero) }

    func side(_ side: Side) -> Amount { side == .buy ? long : short }
    mutating func add(_ notional: Amount, on side: Side) {
        if side == .buy { long += notional } else { short += notional }
    }
}

/// The exposures of the whole book, with their sums.
struct BookExposure: Sendable {
    var bySymbol: [String: SymbolExposure] = [:]
    var gross: Amount = .zero
    var longTotal: Amount = .zero
    var shortTotal: Amount = .zero

    func directionTotal(_ side: Side) -> Amount { side == .buy ? longTotal : shortTotal }
    func symbol(_ symbol: String) -> SymbolExposure { bySymbol[symbol] ?? SymbolExposure() }

    /// Replaces one symbol's exposure and moves the sums by the difference. The values are
    /// short exact decimals (sizes × prices), so the sums do not drift.
    mutating func set(_ symbol: String, _ new: SymbolExposure) {
        let old = self.symbol(symbol)
        guard new != old else { return }
        gross += new.gross - old.gross
        longTotal += Swift.max(new.long, .zero) - Swift.max(old.long, .zero)
        shortTotal += Swift.max(new.short, .zero) - Swift.max(old.short, .zero)
        bySymbol[symbol] = new.long.isZero && new.short.isZero ? nil : new
    }

    /// The book with one more order's value on one side of one symbol.
    func adding(_ notional: Amount, on side: Side, to symbol: String) -> BookExposure {
        var book = self
        let old = self.symbol(symbol)
        var new = old
        new.add(notional, on: side)
        book.bySymbol[symbol] = new
        book.gross += new.gross - old.gross
        book.longTotal += Swift.max(new.long, .zero) - Swift.max(old.long, .zero)
        book.shortTotal += Swift.max(new.short, .zero) - Swift.max(old.short, .zero)
        return book
    }
}

/// Text for numbers in reason details: money to cents, fractions as percent.
enum Format {
    static func money(_ amount: Amount) -> String { amount.rounded(scale: 2).description }
    static func percent(_ fraction: Amount) -> String { "\((fraction * 100).rounded(scale: 2)) %" }
    static func percent(_ fraction: Double) -> String { percent(Amount(fraction)) }
    static func seconds(_ nanos: Int64) -> String {
        "\((Amount(Int(nanos)) / Amount(Int(Nanos.second))).rounded(scale: 3)) s"
    }
}
