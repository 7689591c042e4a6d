import Hyperliquid
import Schema

/// What the executor must do to make its ledger agree with the exchange, worked out from both
/// sides' state (no I/O here). The exchange is the truth for what is open and what filled; the
/// ledger is the truth for which orders are ours and why they were placed.
public struct Reconciliation: Sendable, Equatable {
    /// An order the ledger knows.
    public struct KnownOrder: Sendable, Equatable {
        public var command: OrderCommand
        /// new, acked or partially filled in the ledger.
        public var isLive: Bool
        public var filledSize: Amount

        public init(command: OrderCommand, isLive: Bool, filledSize: Amount) {
            self.command = command
            self.isLive = isLive
            self.filledSize = filledSize
        }
    }

    /// Fills the ledger lacks, oldest first, each with the order it belongs to.
    public var missingFills: [Fill] = []
    /// Ledger orders open on the exchange: (client order id, exchange oid). Includes orders whose
    /// answer was lost (still `new` in the ledger).
    public var open: [(clientOrderId: String, oid: UInt64)] = []
    /// Ledger orders live in the ledger but not open on the exchange and not filled in full: the
    /// exchange canceled them (an IOC remainder, the dead man's switch) or never took them.
    public var ended: [String] = []
    /// Open on the exchange but unknown to the ledger, or ended in it: cancel.
    public var orphans: [OpenOrderInfo] = []
    /// Fills of orders the ledger does not know: someone else trades this account.
    public var foreignFills: [UserFill] = []
    /// The venue's liquidation fills the ledger lacks: not foreign, booked as exits by "liquidation".
    public var liquidationFills: [UserFill] = []

    public init() {}

    public static func == (a: Reconciliation, b: Reconciliation) -> Bool {
        a.missingFills == b.missingFills && a.open.map(\.clientOrderId) == b.open.map(\.clientOrderId)
            && a.open.map(\.oid) == b.open.map(\.oid) && a.ended == b.ended && a.orphans == b.orphans
            && a.foreignFills == b.foreignFills && a.liquidationFills == b.liquidationFills
    }

    public var isClean: Bool {
        missingFills.isEmpty && ended.isEmpty && orphans.isEmpty && foreignFills.isEmpty && liquidationFills.isEmpty
    }

    /// - Parameters:
    ///   - known: every order in the ledger, by client order id (lowercase cloid hex).
    ///   - recordedFillIds: fill ids already in the ledger.
    ///   - openOrders: the exchange's open orders of the account.
    ///   - fills: the exchange's fills since the ledger's last one (with some overlap).
    ///   - symbols: the coins this executor trades; orders on other coins are left alone.
    public static func plan(
        known: [String: KnownOrder], recordedFillIds: Set<String>, openOrders: [OpenOrderInfo], fills: [UserFill],
        symbols: Set<String>
    ) -> Reconciliation {
        var plan = Reconciliation()
        var filled: [String: Amount] = known.mapValues(\.filledSize)
        for fill in fills.sorted(by: { ($0.time, $0.tid) < ($1.time, $1.tid) }) where symbols.contains(fill.coin) {
            if fill.liquidation != nil {
                if !recordedFillIds.contains(FillMapping.fillId(fill)) { plan.liquidationFills.append(fill) }
                continue
            }
            guard let id = fill.cloid?.rawValue, let order = known[id] else {
                plan.foreignFills.append(fill)
                continue
            }
            let mapped = FillMapping.fill(fill, order: order.command)
            guard !recordedFillIds.contains(mapped.fillId) else { continue }
            plan.missingFills.append(mapped)
            filled[id, default: .zero] += fill.sz
        }
        var openIds: Set<String> = []
        for order in openOrders where symbols.contains(order.coin) {
            if let id = order.cloid?.rawValue, let mine = known[id], mine.isLive {
                openIds.insert(id)
                plan.open.append((id, order.oid))
            } else {
                // Nobody here placed it, or the ledger already gave it up (rejected after a lost
                // answer, canceled): either way nothing here will manage it.
                plan.orphans.append(order)
            }
        }
        // normalTpsl children wait for their parent (an entry resting on the book) before the exchange
        // lists them: while the parent is open they are live, not ended.
        var entries: [String: String] = [:]
        for (id, order) in known where order.command.grouping == .normalTpsl && order.command.trigger == nil {
            entries[order.command.intentId] = id
        }
        func waitsForOpenParent(_ order: KnownOrder) -> Bool {
            guard order.command.grouping == .normalTpsl, order.command.trigger != nil,
                let cut = order.command.intentId.lastIndex(of: ":"),
                let parent = entries[String(order.command.intentId[..<cut])]
            else { return false }
            return openIds.contains(parent)
        }
        for (id, order) in known.sorted(by: { $0.key < $1.key }) where order.isLive && !openIds.contains(id) {
            if (filled[id] ?? .zero) < order.command.size, !waitsForOpenParent(order) { plan.ended.append(id) }
        }
        return plan
    }
}
