import Schema

/// Splitting a sum (a fee, a funding payment) in proportion to sizes, exactly.
enum ProRata {
    /// Shares are rounded to this many decimal places: far finer than any venue's fee or
    /// funding precision, and short enough that sums of shares never lose digits.
    static let scale = 10

    /// Shares of `total` proportional to `weights`. A zero weight gets exactly zero; the last
    /// positive weight takes the remainder, so the shares add up to `total` exactly.
    static func split(_ total: Amount, weights: [Amount]) -> [Amount] {
        var shares = [Amount](repeating: .zero, count: weights.count)
        let totalWeight = weights.filter(\.isPositive).sum()
        guard let last = weights.lastIndex(where: \.isPositive) else {
            // Nothing to weigh by; callers never ask, but the sum must still land somewhere.
            if !shares.isEmpty { shares[shares.count - 1] = total }
            return shares
        }
        var allocated = Amount.zero
        for index in weights.indices where index != last && weights[index].isPositive {
            let share = (total * weights[index] / totalWeight).rounded(scale: scale)
            shares[index] = share
            allocated += share
        }
        shares[last] = total - allocated
        return shares
    }
}
