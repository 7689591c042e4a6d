import Hyperliquid
import Schema

/// How a batch of order commands goes to the exchange, as signed actions:
///
/// - plain places share one `order` action (grouping `na`);
/// - an entry with protective orders is an action of its own, `[entry, stop, take-profit…]` grouped
///   `normalTpsl`, so the exchange arms the stops when the entry fills: the position is protected
///   from its first fill even if nothing here runs any more;
/// - a trigger order grouped `positionTpsl` goes in an action of its own with that grouping;
/// - modifies share one `batchModify`; cancels share one `cancelByCloid`.
///
/// Every order the exchange will hold (the protective ones too) has a command of its own, so the
/// ledger records it before it is sent and reconciliation knows it as ours.
public struct ActionPlan: Sendable, Equatable {
    /// One order as sent, with the command the ledger records for it.
    public struct PlannedOrder: Sendable, Equatable {
        public var command: OrderCommand
        public var request: OrderRequest
        public var traceId: String
        /// The client order id of the entry a protective order belongs to.
        public var parent: String?
    }

    public enum Action: Sendable, Equatable {
        case place([PlannedOrder], grouping: Grouping)
        case modify([PlannedOrder])
        case cancel([(command: OrderCommand, traceId: String)])

        public static func == (lhs: Action, rhs: Action) -> Bool {
            switch (lhs, rhs) {
            case (.place(let a, let g), .place(let b, let h)): a == b && g == h
            case (.modify(let a), .modify(let b)): a == b
            case (.cancel(let a), .cancel(let b)):
                a.map(\.command) == b.map(\.command) && a.map(\.traceId) == b.map(\.traceId)
            default: false
            }
        }
    }

    public var actions: [Action]
    /// Commands refused before anything is sent, with the reason.
    public var refused: [(command: OrderCommand, traceId: String, reason: Reason)]

    public static func == (lhs: ActionPlan, rhs: ActionPlan) -> Bool {
        lhs.actions == rhs.actions && lhs.refused.map(\.command) == rhs.refused.map(\.command)
            && lhs.refused.map(\.reason) == rhs.refused.map(\.reason)
    }

    /// The plan for `batch` (in arrival order); `marks` are the latest market prices, `traded` the
    /// symbols this executor trades.
    public static func plan(
        _ batch: [(command: OrderCommand, traceId: String)], routing: OrderRouting, marks: [String: Amount],
        traded: Set<String>
    ) -> ActionPlan {
        var plain: [PlannedOrder] = []
        var grouped: [Action] = []
        var modifies: [PlannedOrder] = []
        var cancels: [(command: OrderCommand, traceId: String)] = []
        var refused: [(command: OrderCommand, traceId: String, reason: Reason)] = []
        for (command, traceId) in batch {
            guard let symbol = command.symbol, traded.contains(symbol) else {
                refused.append(
                    (command, traceId, Reason(.invalidIntent, "\(command.symbol ?? "no symbol") is not among the traded symbols")))
                continue
            }
            if command.action == .cancel {
                cancels.append((command, traceId))
                continue
            }
            let orders: [PlannedOrder]
            do {
                orders = try planned(command, traceId: traceId, routing: routing, mark: marks[symbol])
            } catch {
                refused.append((command, traceId, Reason(.invalidIntent, "\(error)")))
                continue
            }
            switch command.action {
            case .modify:
                modifies.append(orders[0])
            case .place where orders.count > 1:
                grouped.append(.place(orders, grouping: .normalTpsl))
            case .place where command.grouping == .positionTpsl:
                grouped.append(.place(orders, grouping: .positionTpsl))
            default:
                plain += orders
            }
        }
        var actions: [Action] = []
        if !cancels.isEmpty { actions.append(.cancel(cancels)) }
        if !plain.isEmpty { actions.append(.place(plain, grouping: .na)) }
        actions += grouped
        if !modifies.isEmpty { actions.append(.modify(modifies)) }
        return ActionPlan(actions: actions, refused: refused)
    }

    /// The command's order, then its protective orders (each as a command of its own).
    static func planned(
        _ command: OrderCommand, traceId: String, routing: OrderRouting, mark: Amount?
    ) throws(OrderRouting.RoutingError) -> [PlannedOrder] {
        var orders = [
            PlannedOrder(
                command: command, request: try routing.request(for: command, mark: mark), traceId: traceId, parent: nil)
        ]
        for protective in command.protectiveOrders ?? [] {
            let child = protectiveCommand(protective, of: command)
            orders.append(
                PlannedOrder(
                    command: child, request: try routing.request(for: child, mark: mark), traceId: traceId,
                    parent: command.clientOrderId))
        }
        return orders
    }

    /// A protective order as the command the ledger keeps: reduce-only, an exit, named by its path.
    public static func protectiveCommand(_ protective: ProtectiveOrder, of entry: OrderCommand) -> OrderCommand {
        OrderCommand(
            action: .place, clientOrderId: protective.clientOrderId, intentId: "\(entry.intentId):\(protective.exitPath)",
            symbol: entry.symbol ?? "", side: protective.side, size: protective.size,
            orderType: protective.trigger.isMarket ? .market : .limit, price: protective.price, timeInForce: .gtc,
            reduceOnly: true, purpose: .exit, strategy: entry.strategy, ackDeadline: entry.ackDeadline,
            trigger: protective.trigger, grouping: .normalTpsl)
    }
}

/// What one order's status in the exchange's answer means here.
public enum PlacementOutcome: Sendable, Equatable {
    /// On the book, or waiting for its trigger or its parent: acknowledged.
    case accepted(oid: UInt64?)
    /// Filled at once (maybe in part); an IOC's unfilled rest was canceled by the exchange.
    case filled(oid: UInt64, iocRemainder: Amount?)
    case rejected(Reason)

    public static func of(_ status: OrderStatus, order: ActionPlan.PlannedOrder) -> PlacementOutcome {
        switch status {
        case .resting(let oid, _):
            return .accepted(oid: oid)
        case .waitingForFill, .waitingForTrigger:
            return .accepted(oid: nil)
        case .filled(let filled, _, let oid, _):
            if case .limit(.ioc) = order.request.kind, filled < order.command.size {
                return .filled(oid: oid, iocRemainder: order.command.size - filled)
            }
            return .filled(oid: oid, iocRemainder: nil)
        case .error(let message):
            return .rejected(Reason(.venueRejected, message))
        }
    }
}

/// What the exchange's order status says of an order whose answer was lost (a timeout, a 5xx):
/// never re-sent, it is settled by the exchange's word on its client order id.
public enum LostAnswer: Sendable, Equatable {
    /// The exchange knows no such order: it was never placed.
    case neverPlaced
    /// The exchange refused it (`badAloPxRejected`, `minTradeNtlRejected`, …): never on the book.
    case refused(OrderState)
    /// On the book, or waiting for its trigger.
    case live(oid: UInt64)
    /// It was placed and has ended (filled, canceled, …): its fills are to be fetched, and what is
    /// still live in the ledger after that ended.
    case ended(oid: UInt64, OrderState)

    public static func resolve(_ answer: OrderStatusResponse) -> LostAnswer {
        switch answer {
        case .unknownOid: .neverPlaced
        case .order(_, let status, _) where status.isRejected: .refused(status)
        case .order(let order, let status, _) where status.isLive: .live(oid: order.oid)
        case .order(let order, let status, _): .ended(oid: order.oid, status)
        }
    }
}
