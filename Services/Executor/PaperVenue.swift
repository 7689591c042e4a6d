import Schema

/// The skeleton's venue: an accepted order fills entirely at the next bar's open, moved
/// against the order by the slippage, and pays the taker fee. No partial fills, no book.
struct PaperVenue: Sendable {
    struct Settings: Sendable {
        var instrument: Instrument
        var feeRate: Amount
        var slippageBps: Amount
    }

    let settings: Settings
    /// Accepted orders waiting for the next bar, with the trace each belongs to.
    private(set) var resting: [(command: OrderCommand, traceId: String)] = []

    init(settings: Settings) { self.settings = settings }

    mutating func accept(_ command: OrderCommand, traceId: String) {
        resting.append((command, traceId))
    }

    /// Removes a resting order; false if it is not resting.
    mutating func cancel(_ clientOrderId: String) -> Bool {
        guard let index = resting.firstIndex(where: { $0.command.clientOrderId == clientOrderId }) else {
            return false
        }
        resting.remove(at: index)
        return true
    }

    /// The fills a new bar causes, in the order the orders arrived. Orders stay resting
    /// until `confirm` says their fill is in the ledger.
    func fills(on bar: Bar) -> [(fill: Fill, traceId: String)] {
        resting.filter { $0.command.symbol == bar.symbol }.map { order in
            let command = order.command
            let slip = bar.open * settings.slippageBps / 10_000
            let raw = command.side == .buy ? bar.open + slip : bar.open - slip
            let price = settings.instrument.roundPrice(raw, command.side == .buy ? .up : .down)
            let fee = (price * command.size * settings.feeRate).rounded(scale: 8)
            let fill = Fill(
                fillId: "\(command.clientOrderId)-1", clientOrderId: command.clientOrderId,
                symbol: bar.symbol ?? "", side: command.side, price: price, size: command.size, fee: fee,
                liquidity: .taker, purpose: command.purpose, strategy: command.strategy,
                time: bar.openTime)
            return (fill, order.traceId)
        }
    }

    mutating func confirm(_ fill: Fill) {
        _ = cancel(fill.clientOrderId)
    }

    var openOrders: [OpenOrder] {
        resting.map {
            OpenOrder(
                clientOrderId: $0.command.clientOrderId, symbol: $0.command.symbol ?? "", side: $0.command.side,
                size: $0.command.size, price: $0.command.price)
        }
    }
}
