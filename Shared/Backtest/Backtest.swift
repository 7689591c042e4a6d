import Execution
import Hyperliquid
import Ledger
import Market
import Risk
import Schema
import Strategy
import Venue

/// One symbol's market for a backtest: its venue rules and the events that move it.
public struct BacktestMarket: Sendable {
    public var symbol: String
    public var spec: AssetSpec
    public var script: MarketScript

    public init(symbol: String, spec: AssetSpec, script: MarketScript) {
        self.symbol = symbol
        self.spec = spec
        self.script = script
    }
}

/// What a backtest needs besides the rules: the markets, when they start, and the executor's and
/// the feed's settings as the live services have them.
public struct BacktestSetup: Sendable {
    public var markets: [BacktestMarket]
    /// Unix milliseconds of every script's offset 0.
    public var startMs: UInt64
    public var startingCapital: Amount
    public var routing: OrderRouting
    public var barSeconds: Int
    public var barGraceNanos: Int64
    /// How often the executor publishes the account (`executor.snapshotIntervalMs`).
    public var snapshotIntervalNanos: Int64
    public var takerFee: Amount
    public var makerFee: Amount

    public init(
        markets: [BacktestMarket], startMs: UInt64, startingCapital: Amount, routing: OrderRouting, barSeconds: Int,
        barGraceNanos: Int64 = Nanos.second, snapshotIntervalNanos: Int64 = Nanos.second,
        takerFee: Amount = VenueConfig().takerFee, makerFee: Amount = VenueConfig().makerFee
    ) {
        self.markets = markets
        self.startMs = startMs
        self.startingCapital = startingCapital
        self.routing = routing
        self.barSeconds = barSeconds
        self.barGraceNanos = barGraceNanos
        self.snapshotIntervalNanos = snapshotIntervalNanos
        self.takerFee = takerFee
        self.makerFee = makerFee
    }
}

/// The services' pipeline in one process on simulated time: the venue (the same engine
/// exchange-sim serves) plays the markets; the feed's bar rules build bars from its trades; the
/// strategies, the risk gate's rules (exits and exchange-side stops included), the executor's
/// routing and the FIFO ledger act on each event in the order the bus delivers it live, with no
/// latency between them.
public struct Backtest: Sendable {
    public private(set) var record = BacktestRecord()
    public private(set) var ledger: FifoLedger
    public private(set) var gate: RiskGateCore
    public private(set) var strategies: StrategyPortfolio
    public let instruments: [String: Instrument]

    private var venue: VenueCore
    private var feed: MarketFeedState
    private let setup: BacktestSetup
    private let user: Address
    private let traded: Set<String>
    /// Every order command sent (the protective ones too), by client order id, for its fills.
    private var commands: [String: OrderCommand] = [:]
    /// Orders the venue holds for us (resting or waiting for a trigger), with the venue's order id
    /// when known (a modify gives a new one; a child's comes with its first update).
    private var live: [String: UInt64?] = [:]
    private var marks: [String: Amount] = [:]
    private var pendingBars: [TradeBar] = []
    private var nextIdentifier: UInt64 = 0
    private var lastHousekeeping: EpochNanos = 0
    private var lastSnapshot: EpochNanos = 0
    private var tradingState: TradingState?
    /// A bar, an order or a fill since the last snapshot.
    private var moved = true
    /// While a bar is being decided: the commands sent meanwhile, each call's in order, for the venue
    /// once the strategies have decided (nil when they go at once).
    private var held: [[OrderCommand]]?
    /// The venue's funding is booked from here on (ms).
    private var lastFundingMs: UInt64 = 0

    public enum SetupError: Error, CustomStringConvertible {
        case meta(String)
        case noMarkets

        public var description: String {
            switch self {
            case .meta(let detail): "the venue's meta does not give the instrument rules: \(detail)"
            case .noMarkets: "no market to backtest"
            }
        }
    }

    /// `makeGate` and `makeStrategies` build the rules from the instrument rules, which come, as
    /// live, from the venue's `meta`.
    public init(
        setup: BacktestSetup, makeGate: ([String: Instrument]) -> RiskGateCore,
        makeStrategies: ([String: Instrument]) -> StrategyPortfolio
    ) throws {
        guard !setup.markets.isEmpty else { throw SetupError.noMarkets }
        self.setup = setup
        user = try Address(hex: "0x" + String(repeating: "b", count: 40))
        var config = VenueConfig()
        config.assets = setup.markets.map(\.spec)
        config.accounts = [AccountSpec(address: user.description, usdc: setup.startingCapital)]
        config.takerFee = setup.takerFee
        config.makerFee = setup.makerFee
        venue = VenueCore(config: config)
        let symbols = setup.markets.map(\.symbol)
        traded = Set(symbols)
        let (reply, _) = venue.handleInfo(body: Array(#"{"type":"meta"}"#.utf8), now: setup.startMs)
        do {
            instruments = try AssetDirectory(meta: InfoDecoding.meta(Array(reply.body.utf8))).instruments(for: symbols)
        } catch {
            throw SetupError.meta("\(error)")
        }
        let start = EpochNanos(setup.startMs) * 1_000_000
        feed = MarketFeedState(
            symbols: symbols, barSeconds: setup.barSeconds, barGraceNanos: setup.barGraceNanos,
            staleAfterNanos: Int64.max / 4, now: start)
        ledger = FifoLedger(startingCapital: setup.startingCapital)
        gate = makeGate(instruments)
        strategies = makeStrategies(instruments)
        lastHousekeeping = start
        lastSnapshot = start
    }

    /// Plays every market to its end, then closes the last bars. The venue's events are handled as
    /// they happen; bars when they close.
    public mutating func run() {
        let start = EpochNanos(setup.startMs) * 1_000_000
        publishSnapshot(now: start)
        var end = start
        for (offsetMs, event) in Self.merged(setup.markets) {
            let ms = setup.startMs + offsetMs
            let now = EpochNanos(ms) * 1_000_000
            advance(to: now)
            venue.applyMarket(event, now: ms)
            record.marketEvents += 1
            handleVenueEvents(now: now)
            processBars(now: now)
            end = now
        }
        // The last bar closes when its interval and the grace have passed.
        advance(to: end + Int64(setup.barSeconds) * Nanos.second + setup.barGraceNanos)
        record.finalSnapshot = try? ledger.snapshot(asOf: end, marks: marks)
    }

    /// Every market's steps in time order (ties: the order of the markets, then of the steps).
    static func merged(_ markets: [BacktestMarket]) -> [(UInt64, MarketEvent)] {
        var all: [(offset: UInt64, market: Int, step: Int)] = []
        for (m, market) in markets.enumerated() {
            for (i, step) in market.script.steps.enumerated() { all.append((step.offsetMs, m, i)) }
        }
        all.sort { ($0.offset, $0.market, $0.step) < ($1.offset, $1.market, $1.step) }
        return all.map { ($0.offset, markets[$0.market].script.steps[$0.step].event) }
    }

    // MARK: The clock

    /// The timers the services run: the feed closes quiet bars, the risk gate's housekeeping each
    /// second, the executor's account snapshot.
    private mutating func advance(to now: EpochNanos) {
        // The venue's clock: hourly funding (booked as the executor books it), scheduled cancels.
        let ms = UInt64(now / 1_000_000)
        let fundings = venue.accounts[user]?.fundings.count ?? 0
        venue.tick(now: ms)
        if venue.accounts[user]?.fundings.count ?? 0 > fundings { bookFunding(since: lastFundingMs, now: now) }
        handleVenueEvents(now: now)
        // The gate's once-a-second round and the executor's snapshot: orders are answered at once
        // and marks move with bars, so between bars and fills nothing they look at moves but the
        // clock; one round at an event's time stands for the seconds before it, and a quiet stretch
        // gets one a minute for the clock's own rules (the day's turn, overdue orders).
        let due = moved || now - lastHousekeeping >= Nanos.minute
        let (bars, _) = feed.tick(now: now)
        pendingBars += bars
        processBars(now: now)
        if due, now - lastHousekeeping >= Nanos.second {
            lastHousekeeping = now
            housekeeping(now: now)
        }
        if due, now - lastSnapshot >= setup.snapshotIntervalNanos {
            publishSnapshot(now: now)
            moved = false
        }
    }

    private mutating func housekeeping(now: EpochNanos) {
        let (_, changes) = gate.tick(now: now)
        follow(changes, now: now)
        send(gate.stopCommands(now: now), now: now)
    }

    /// The venue's funding payments since `since` (ms), through its `userFunding` answer.
    private mutating func bookFunding(since: UInt64, now: EpochNanos) {
        let request = #"{"type":"userFunding","user":"\#(user)","startTime":\#(since)}"#
        let (reply, _) = venue.handleInfo(body: Array(request.utf8), now: UInt64(now / 1_000_000))
        guard let payments = try? InfoDecoding.userFunding(Array(reply.body.utf8)) else {
            record.faults.append("unreadable venue funding: \(reply.body.prefix(200))")
            return
        }
        for payment in payments where payment.time >= since {
            let settlement = FundingMapping.settlement(payment)
            do { _ = try ledger.applyFunding(symbol: settlement.symbol ?? payment.coin, amount: settlement.amount, time: settlement.time) } catch {
                record.faults.append("the ledger refused \(settlement.fundingId): \(error)")
                continue
            }
            record.funding.append(settlement)
            lastFundingMs = payment.time + 1
        }
    }

    private mutating func publishSnapshot(now: EpochNanos) {
        lastSnapshot = now
        let open = live.keys.sorted().compactMap { commands[$0] }.map {
            OpenOrder(
                clientOrderId: $0.clientOrderId, symbol: $0.symbol ?? "", side: $0.side, size: $0.size, price: $0.price,
                trigger: $0.trigger, reduceOnly: $0.reduceOnly ? true : nil, quoteTier: $0.quoteTier)
        }
        guard let snapshot = try? ledger.snapshot(asOf: now, marks: marks, openOrders: open) else { return }
        follow(gate.apply(snapshot, now: now), now: now)
        _ = strategies.onAccountSnapshot(snapshot)
    }

    // MARK: Bars

    private mutating func processBars(now: EpochNanos) {
        while !pendingBars.isEmpty {
            let bar = pendingBars.removeFirst().message
            record.bars += 1
            moved = true
            onBar(bar, now: now)
        }
    }

    /// As live: the risk gate hears the bar first (marks, exits, stops), then the strategies decide
    /// and their intents reach the gate. What the gate sends meanwhile reaches the venue after the
    /// strategies decided: live, the signal generator decides on the bar in the time an exit's order
    /// takes to reach the exchange, so it never hears that exit's fill before deciding.
    private mutating func onBar(_ bar: Bar, now: EpochNanos) {
        held = []
        defer {
            let sent = held ?? []
            held = nil
            for orders in sent { execute(orders, now: now) }
        }
        if let symbol = bar.symbol { marks[symbol] = bar.close }
        let outcome = gate.onBar(bar, now: now)
        follow(outcome.changes, now: now)
        if let exit = outcome.exit {
            record.exits[exit.path.rawValue, default: 0] += 1
            evaluate(exit.intent, reason: exit.path.rawValue, bar: bar, now: now)
        }
        send(gate.stopCommands(now: now), now: now)
        var counter = nextIdentifier
        let output = strategies.onBar(bar, now: now) {
            counter += 1
            return "bt-\(counter)"
        }
        nextIdentifier = counter
        guard let output else { return }
        for evaluation in output.evaluations {
            record.signals += 1
            gate.onSignal(evaluation.signal)
            guard let intent = evaluation.intent else { continue }
            evaluate(intent, reason: evaluation.signal.strategy, bar: bar, now: now)
        }
    }

    private mutating func evaluate(_ intent: OrderIntent, reason: String, bar: Bar, now: EpochNanos) {
        record.intents += 1
        let verdict = gate.evaluate(intent, now: now)
        strategies.onDecision(verdict.decision)
        record.decide(verdict.decision)
        follow(verdict.stateChanges, now: now)
        guard var order = verdict.order else { return }
        gate.protect(&order, now: now)
        record.orders.append(.init(order, reason: reason, barTime: bar.openTime, sentAt: now))
        execute([order], now: now)
    }

    /// The strategies hear the trading state as the risk gate publishes it.
    private mutating func follow(_ changes: [RiskStateChange], now: EpochNanos) {
        for change in changes where change.state != tradingState {
            tradingState = change.state
            strategies.onTradingState(change.state)
            record.stateChanges.append(.init(time: now, state: change.state, reasons: change.reasons.map(\.description)))
        }
    }

    // MARK: The executor

    private mutating func send(_ orders: [OrderCommand], now: EpochNanos) {
        guard !orders.isEmpty else { return }
        for order in orders { record.orders.append(.init(order, reason: "protectionStop", barTime: nil, sentAt: now)) }
        execute(orders, now: now)
    }

    /// Routes the commands as the executor does (one action per plan step) and hands the venue's
    /// answers back to the gate.
    private mutating func execute(_ orders: [OrderCommand], now: EpochNanos) {
        if held != nil {
            held?.append(orders)
            return
        }
        moved = true
        let ms = UInt64(now / 1_000_000)
        let plan = ActionPlan.plan(orders.map { ($0, "") }, routing: setup.routing, marks: marks, traded: traded)
        for (command, _, reason) in plan.refused { reject(command, reason, now: now) }
        for action in plan.actions {
            switch action {
            case .place(let planned, let grouping):
                var wires: [OrderWire] = []
                var sendable: [ActionPlan.PlannedOrder] = []
                for order in planned {
                    let symbol = order.command.symbol ?? ""
                    guard let instrument = instruments[symbol], let asset = venue.assetIndex[symbol] else { continue }
                    do {
                        wires.append(try order.request.wire(asset: asset, instrument: instrument))
                        sendable.append(order)
                    } catch {
                        reject(order.command, Reason(.invalidIntent, "\(error)"), now: now)
                    }
                }
                guard !wires.isEmpty else { continue }
                for order in sendable { commands[order.command.clientOrderId] = order.command }
                let answer = venue.placeOrders(wires, grouping: grouping, user: user, now: ms)
                for (status, order) in zip(Self.statuses(answer), sendable) {
                    placed(order, status: status, now: now)
                }
            case .modify(let planned):
                for order in planned {
                    let symbol = order.command.symbol ?? ""
                    guard let instrument = instruments[symbol], let asset = venue.assetIndex[symbol],
                        let cloid = order.request.cloid
                    else { continue }
                    let wire: OrderWire
                    do { wire = try order.request.wire(asset: asset, instrument: instrument) } catch {
                        reject(order.command, Reason(.invalidIntent, "\(error)"), now: now)
                        continue
                    }
                    commands[order.command.clientOrderId] = order.command
                    let answer = venue.modify(ModifyWire(oid: .cloid(cloid), order: wire), user: user, now: ms)
                    placed(order, status: Self.statuses([answer]).first ?? .error("no answer"), now: now)
                }
            case .cancel(let cancels):
                for (command, _) in cancels {
                    let symbol = command.symbol ?? ""
                    guard let asset = venue.assetIndex[symbol],
                        let cloid = try? OrderRouting.cloid(command.clientOrderId)
                    else { continue }
                    let answer = venue.cancel(user: user, asset: asset, cloid: cloid, now: ms)
                    if answer == .string("success") {
                        gate.apply(OrderAck(clientOrderId: command.clientOrderId, venueOrderId: "", symbol: symbol, action: .cancel), now: now)
                        ended(command.clientOrderId, symbol: symbol, reason: Reason(.canceledByVenue, "canceled on request"), now: now)
                    } else {
                        reject(command, Reason(.venueRejected, answer.description), now: now)
                    }
                }
            }
        }
        handleVenueEvents(now: now)
    }

    private mutating func placed(_ order: ActionPlan.PlannedOrder, status: OrderStatus, now: EpochNanos) {
        let command = order.command
        switch PlacementOutcome.of(status, order: order) {
        case .accepted(let oid):
            live[command.clientOrderId] = oid
            gate.apply(
                OrderAck(
                    clientOrderId: command.clientOrderId, venueOrderId: oid.map { "\($0)" } ?? "", symbol: command.symbol ?? "",
                    action: command.action), now: now)
        case .filled(let oid, let remainder):
            gate.apply(
                OrderAck(clientOrderId: command.clientOrderId, venueOrderId: "\(oid)", symbol: command.symbol ?? "", action: command.action),
                now: now)
            if remainder != nil {
                ended(command.clientOrderId, symbol: command.symbol ?? "", reason: Reason(.canceledByVenue, "ioc remainder"), now: now)
            }
        case .rejected(let reason):
            reject(command, reason, now: now)
        }
    }

    private mutating func reject(_ command: OrderCommand, _ reason: Reason, now: EpochNanos) {
        record.rejects.append(.init(clientOrderId: command.clientOrderId, symbol: command.symbol ?? "", purpose: command.purpose, reason: reason.description, time: now))
        gate.apply(OrderReject(clientOrderId: command.clientOrderId, symbol: command.symbol ?? "", reason: reason), now: now)
    }

    private mutating func ended(_ clientOrderId: String, symbol: String, reason: Reason, now: EpochNanos) {
        live[clientOrderId] = nil
        gate.apply(OrderCanceled(clientOrderId: clientOrderId, symbol: symbol, reason: reason), now: now)
    }

    static func statuses(_ answer: [WireValue]) -> [OrderStatus] {
        let body = WireValue.map([
            ("status", .string("ok")),
            ("response", .map([("type", .string("order")), ("data", .map([("statuses", .array(answer))]))])),
        ])
        return (try? ExchangeDecoding.orderStatuses(body.jsonBytes(), expected: answer.count))
            ?? answer.map { .error("unreadable venue answer: \($0)") }
    }

    // MARK: The venue's events

    /// The venue's events of one step, then the stops brought in line once with everything they
    /// changed (as the gate does after the executor's reports of a step have come in).
    private mutating func handleVenueEvents(now: EpochNanos) {
        var filled = false
        for event in venue.drainEvents() {
            switch event {
            case .trade(_, let wire):
                trade(wire, now: now)
            case .fill(let owner, let wire) where owner == user:
                filled = fill(wire, now: now) || filled
            case .orderUpdate(let owner, let wire) where owner == user:
                orderUpdate(wire, now: now)
            default:
                continue
            }
        }
        if filled { send(gate.stopCommands(now: now), now: now) }
    }

    /// A print on the venue's tape, read from its `trades` entry (the feed's decoder would take a
    /// JSON round trip per print: most of a candle backtest's time).
    private mutating func trade(_ wire: WireValue, now: EpochNanos) {
        guard let coin = wire["coin"]?.stringValue, let px = wire["px"]?.stringValue.flatMap(Wire.amount),
            let sz = wire["sz"]?.stringValue.flatMap(Wire.amount), let time = wire["time"]?.uint64Value
        else {
            record.faults.append("unreadable venue trade: \(wire)")
            return
        }
        let (bar, _) = feed.trade(coin, price: px, size: sz, time: EpochNanos(time) * 1_000_000, now: now)
        if let bar { pendingBars.append(bar) }
    }

    /// Books one of our fills; false when it could not be (counted as a fault).
    private mutating func fill(_ wire: WireValue, now: EpochNanos) -> Bool {
        guard let fill = try? InfoDecoding.userFills(WireValue.array([wire]).jsonBytes()).first else {
            record.faults.append("unreadable venue fill: \(wire)")
            return false
        }
        let id = fill.cloid.map { "\($0)" } ?? ""
        // The venue's own order closing a position at liquidation is booked as the executor books it.
        let liquidated = fill.liquidation != nil ? FillMapping.liquidationOrder(fill, at: now) : nil
        guard let command = commands[id] ?? liquidated else {
            record.unknownFills += 1
            return false
        }
        let mapped = FillMapping.fill(fill, order: command)
        do { _ = try ledger.apply(mapped) } catch {
            record.faults.append("the ledger refused \(mapped.fillId): \(error)")
            return false
        }
        record.fills.append(mapped)
        follow(gate.apply(mapped, now: now), now: now)
        strategies.onExitFill(mapped)
        return true
    }

    private mutating func orderUpdate(_ wire: WireValue, now: EpochNanos) {
        let message = WireValue.map([("channel", .string("orderUpdates")), ("data", .array([wire]))])
        guard case .orderUpdates(let updates)? = try? StreamDecoding.decode(message.jsonString()) else { return }
        for update in updates {
            guard let id = update.order.cloid.map({ "\($0)" }), let known = live[id] else { continue }
            // An update about the order a modify replaced (its old oid) says nothing of the one now live.
            if let known, known != update.order.oid { continue }
            if update.status.isLive {
                live[id] = update.order.oid
            } else if update.status == .filled {
                live[id] = nil
            } else {
                ended(id, symbol: update.order.coin, reason: Reason(.canceledByVenue, "exchange status \(update.status.rawValue)"), now: now)
            }
        }
    }
}
