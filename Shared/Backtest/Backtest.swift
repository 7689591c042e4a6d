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
    /// The market maker, when symbols are quoted.
    public var quoting: BacktestQuoting?

    public init(
        markets: [BacktestMarket], startMs: UInt64, startingCapital: Amount, routing: OrderRouting, barSeconds: Int,
        barGraceNanos: Int64 = Nanos.second, snapshotIntervalNanos: Int64 = Nanos.second,
        takerFee: Amount = VenueConfig().takerFee, makerFee: Amount = VenueConfig().makerFee, quoting: BacktestQuoting? = nil
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
        self.quoting = quoting
    }

    /// Where a run's clock begins when its market carries no time of its own (a synthetic market, a
    /// capture timed by offsets from its first line): 2022-01-01 00:00 UTC.
    public static let defaultStartMs: UInt64 = 1_640_995_200_000
    /// A synthetic market's candle, and the bar of a run whose market has no candles of its own.
    public static let defaultCandleSeconds = 60
}

/// The services' pipeline in one process on simulated time: the venue (the same engine
/// exchange-sim serves) plays the markets; the feed's bar rules build bars from its trades; the
/// strategies, the risk gate's rules (exits and exchange-side stops included), the executor's
/// routing and the FIFO ledger act on each event in the order the bus delivers it live, with no
/// latency between them. A market maker quotes from the venue's merged book as the feed publishes
/// it; the gate clips its targets and the executor's quote keeping makes them rest, through the
/// venue's address budget as every order.
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
    /// The market maker's side, when symbols are quoted.
    private var quoting: QuotingState?

    public enum SetupError: Error, CustomStringConvertible {
        case meta(String)
        case noMarkets
        case quoting(String)

        public var description: String {
            switch self {
            case .meta(let detail): "the venue's meta does not give the instrument rules: \(detail)"
            case .noMarkets: "no market to backtest"
            case .quoting(let detail): "the market maker cannot run: \(detail)"
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
        if let settings = setup.quoting, !settings.symbols.isEmpty {
            if let missing = settings.symbols.first(where: { !traded.contains($0) }) {
                throw SetupError.quoting("\(missing) has no market in this backtest")
            }
            do {
                quoting = try QuotingState(
                    quoting: settings, instruments: instruments, startingCapital: setup.startingCapital, now: start)
            } catch {
                throw SetupError.quoting("\(error)")
            }
        }
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
            quotePasses(now: now)
            end = now
        }
        // The last bar closes when its interval and the grace have passed.
        advance(to: end + Int64(setup.barSeconds) * Nanos.second + setup.barGraceNanos)
        record.finalSnapshot = try? ledger.snapshot(asOf: end, marks: marks)
        record.marketMaking = quoting?.stats.snapshot(now: end)
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
        stepQuoting(until: now)
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
            _ = try? quoting?.stats.apply(settlement)
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
        if quoting != nil {
            for symbol in quoting!.makers.keys.sorted() {
                quoting!.makers[symbol]!.onPosition(snapshot.positions.first { $0.symbol == symbol }?.size ?? .zero)
            }
        }
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
        if let symbol = bar.symbol {
            marks[symbol] = bar.close
            // The executor's marks come from bars: the market maker's figures value positions at them.
            quoting?.stats.observeMid(symbol: symbol, mid: bar.close, time: now)
            quoting?.makers[symbol]?.onBar(bar)
        }
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
        // As the gate: after any change every quoted symbol is judged again (HALTED withdraws all).
        guard quoting != nil, !changes.isEmpty else { return }
        for approved in gate.book.reapproveQuotes(now: now) { quoting!.keeper.approved(approved) }
    }

    // MARK: The executor

    private mutating func send(_ orders: [OrderCommand], now: EpochNanos) {
        guard !orders.isEmpty else { return }
        for order in orders { record.orders.append(.init(order, reason: "protectionStop", barTime: nil, sentAt: now)) }
        execute(orders, now: now)
    }

    /// Routes the commands as the executor does (one request per plan step, each charged to the
    /// venue's address budget) and hands the venue's answers back to the gate; what became of each.
    @discardableResult
    private mutating func execute(_ orders: [OrderCommand], now: EpochNanos) -> [String: OrderOutcome] {
        if held != nil {
            held?.append(orders)
            return [:]
        }
        moved = true
        var outcomes: [String: OrderOutcome] = [:]
        let ms = UInt64(now / 1_000_000)
        let plan = ActionPlan.plan(orders.map { ($0, "") }, routing: setup.routing, marks: marks, traded: traded)
        for (command, _, reason) in plan.refused { outcomes[command.clientOrderId] = reject(command, reason, now: now) }
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
                        outcomes[order.command.clientOrderId] = reject(order.command, Reason(.invalidIntent, "\(error)"), now: now)
                    }
                }
                guard !wires.isEmpty else { continue }
                for order in sendable { commands[order.command.clientOrderId] = order.command }
                let reply = venue.apply(.order(wires, grouping: grouping), user: user, now: ms)
                for (status, order) in zip(Self.orderStatuses(reply, count: wires.count), sendable) {
                    outcomes[order.command.clientOrderId] = placed(order, status: status, now: now)
                }
            case .modify(let planned):
                var wires: [ModifyWire] = []
                var sendable: [ActionPlan.PlannedOrder] = []
                for order in planned {
                    let symbol = order.command.symbol ?? ""
                    guard let instrument = instruments[symbol], let asset = venue.assetIndex[symbol],
                        let cloid = order.request.cloid
                    else { continue }
                    do {
                        wires.append(ModifyWire(oid: .cloid(cloid), order: try order.request.wire(asset: asset, instrument: instrument)))
                        sendable.append(order)
                    } catch {
                        outcomes[order.command.clientOrderId] = reject(order.command, Reason(.invalidIntent, "\(error)"), now: now)
                    }
                }
                guard !wires.isEmpty else { continue }
                for order in sendable { commands[order.command.clientOrderId] = order.command }
                let reply = venue.apply(.batchModify(wires), user: user, now: ms)
                for (status, order) in zip(Self.orderStatuses(reply, count: wires.count), sendable) {
                    outcomes[order.command.clientOrderId] = placed(order, status: status, now: now)
                }
            case .cancel(let cancels):
                var wires: [CancelByCloidWire] = []
                var sent: [OrderCommand] = []
                for (command, _) in cancels {
                    guard let asset = venue.assetIndex[command.symbol ?? ""], let cloid = try? OrderRouting.cloid(command.clientOrderId)
                    else { continue }
                    wires.append(CancelByCloidWire(asset: asset, cloid: cloid))
                    sent.append(command)
                }
                guard !wires.isEmpty else { continue }
                let reply = venue.apply(.cancelByCloid(wires), user: user, now: ms)
                for (status, command) in zip(Self.cancelStatuses(reply, count: wires.count), sent) {
                    let symbol = command.symbol ?? ""
                    switch status {
                    case .success:
                        if !command.isQuote {
                            gate.apply(OrderAck(clientOrderId: command.clientOrderId, venueOrderId: "", symbol: symbol, action: .cancel), now: now)
                        }
                        ended(
                            command.clientOrderId, symbol: symbol, reason: Reason(.canceledByVenue, "canceled on request"), requested: true,
                            now: now)
                        outcomes[command.clientOrderId] = .canceled
                    case .error(let message):
                        outcomes[command.clientOrderId] = reject(command, Reason(.venueRejected, message), now: now)
                    }
                }
            }
        }
        handleVenueEvents(now: now)
        return outcomes
    }

    private mutating func placed(_ order: ActionPlan.PlannedOrder, status: OrderStatus, now: EpochNanos) -> OrderOutcome {
        let command = order.command
        let answered: OrderOutcome = command.action == .modify ? .modified : .resting
        // A quote pass reports its orders together: the gate hears no ack per quote, as live.
        func acknowledge(_ oid: UInt64?) {
            guard !command.isQuote else { return }
            gate.apply(
                OrderAck(
                    clientOrderId: command.clientOrderId, venueOrderId: oid.map { "\($0)" } ?? "", symbol: command.symbol ?? "",
                    action: command.action), now: now)
        }
        switch PlacementOutcome.of(status, order: order) {
        case .accepted(let oid):
            live[command.clientOrderId] = oid
            acknowledge(oid)
            return answered
        case .filled(let oid, let remainder):
            acknowledge(oid)
            if remainder != nil {
                ended(command.clientOrderId, symbol: command.symbol ?? "", reason: Reason(.canceledByVenue, "ioc remainder"), now: now)
            }
            return answered
        case .rejected(let reason):
            return reject(command, reason, now: now)
        }
    }

    private mutating func reject(_ command: OrderCommand, _ reason: Reason, now: EpochNanos) -> OrderOutcome {
        // A refused quote is counted by its pass (a post-only cross is repriced, not an error).
        guard !command.isQuote else { return .rejected(reason) }
        record.rejects.append(.init(clientOrderId: command.clientOrderId, symbol: command.symbol ?? "", purpose: command.purpose, reason: reason.description, time: now))
        gate.apply(OrderReject(clientOrderId: command.clientOrderId, symbol: command.symbol ?? "", reason: reason), now: now)
        return .rejected(reason)
    }

    private mutating func ended(_ clientOrderId: String, symbol: String, reason: Reason, requested: Bool = false, now: EpochNanos) {
        live[clientOrderId] = nil
        if commands[clientOrderId]?.isQuote == true {
            quoting?.ended(clientOrderId)
            // Live, the executor tells the gate of a quote only when the venue ended it.
            if requested { return }
        }
        gate.apply(OrderCanceled(clientOrderId: clientOrderId, symbol: symbol, reason: reason), now: now)
    }

    /// The venue's answer read as the exchange client reads it; a refusal of the whole request
    /// (the address budget) is every order's.
    static func orderStatuses(_ reply: HTTPReply, count: Int) -> [OrderStatus] {
        do { return try ExchangeDecoding.orderStatuses(Array(reply.body.utf8), expected: count) } catch {
            return Array(repeating: .error(refusal(error, reply)), count: count)
        }
    }

    static func cancelStatuses(_ reply: HTTPReply, count: Int) -> [CancelStatus] {
        do { return try ExchangeDecoding.cancelStatuses(Array(reply.body.utf8), expected: count) } catch {
            return Array(repeating: .error(refusal(error, reply)), count: count)
        }
    }

    static func refusal(_ error: HyperliquidClientError, _ reply: HTTPReply) -> String {
        if case .exchangeRejected(let message) = error { return message }
        return "unreadable venue answer: \(reply.body.prefix(200))"
    }

    // MARK: The venue's events

    /// The venue's events of one step, then the stops brought in line once with everything they
    /// changed (as the gate does after the executor's reports of a step have come in).
    private mutating func handleVenueEvents(now: EpochNanos) {
        var filled = false
        var books: [String] = []
        for event in venue.drainEvents() {
            switch event {
            case .bookChanged(let coin):
                if quoting?.quotes(coin) == true, !books.contains(coin) { books.append(coin) }
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
        for coin in books { onBook(coin, now: now) }
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
        if quoting != nil {
            // As the executor's figures and the signal generator's maker hear every fill.
            _ = try? quoting!.stats.apply(mapped)
            if let symbol = mapped.symbol { quoting!.makers[symbol]?.onFill(mapped) }
            quoting!.keeper.filled(mapped)
            quoting!.filled(mapped)
        }
        return true
    }

    /// One `orderUpdates` entry, read from the venue's value as the stream decoder reads its fields
    /// (a JSON round trip per update was most of a market maker's backtest).
    private mutating func orderUpdate(_ wire: WireValue, now: EpochNanos) {
        guard let order = wire["order"], let coin = order["coin"]?.stringValue, let oid = order["oid"]?.uint64Value,
            let state = wire["status"]?.stringValue
        else {
            record.faults.append("unreadable venue order update: \(wire.jsonString().prefix(200))")
            return
        }
        let status = OrderState(rawValue: state)
        // Live, any order of a quoted symbol that ended sends its symbol's quotes for a look.
        if !status.isLive, quoting?.quotes(coin) == true { quoting!.keeper.orderEnded(symbol: coin) }
        guard let cloid = order["cloid"]?.stringValue.flatMap({ try? Cloid(hex: $0) }), let known = live["\(cloid)"] else { return }
        let id = "\(cloid)"
        // An update about the order a modify replaced (its old oid) says nothing of the one now live.
        if let known, known != oid { return }
        if status.isLive {
            live[id] = oid
        } else if status == .filled {
            live[id] = nil
        } else {
            ended(id, symbol: coin, reason: Reason(.canceledByVenue, "exchange status \(status.rawValue)"), now: now)
        }
    }

    // MARK: The market maker

    /// The market maker's and the executor's clocks before `now`: live they run every
    /// `tickNanos`; here only the ticks at which the clock alone changes something (a keepalive, a
    /// stale book, a delay ending, a sweep, an expiry, paced news) are run, at the tick live would.
    private mutating func stepQuoting(until now: EpochNanos) {
        guard quoting != nil else { return }
        let step = quoting!.quoting.tickNanos
        while true {
            let last = quoting!.lastTick
            guard let wake = quoting!.nextWake(after: last) else { return }
            let at = last + max(1, (wake - last + step - 1) / step) * step
            guard at < now else { return }
            clockTick(at)
        }
    }

    private mutating func clockTick(_ now: EpochNanos) {
        quoting!.lastTick = now
        for symbol in quoting!.makers.keys.sorted() {
            if let target = quoting!.makers[symbol]!.tick(now: now) { onTarget(target, now: now) }
        }
        quotePasses(now: now)
    }

    /// The merged book as the feed publishes it, to the market maker; its target to the gate.
    private mutating func onBook(_ coin: String, now: EpochNanos) {
        guard let asset = venue.assetIndex[coin] else { return }
        let book = quoting!.book(venue, asset: asset, symbol: coin, now: now)
        quoting!.stats.observe(book)
        if let target = quoting!.makers[coin]?.onBook(book, now: now) { onTarget(target, now: now) }
    }

    /// The gate clips the target; the executor's quote keeping takes the approval.
    private mutating func onTarget(_ target: QuoteTarget, now: EpochNanos) {
        quoting!.stats.apply(target)
        quoting!.keeper.approved(gate.book.approve(target, now: now))
    }

    /// The executor's passes due at `now`, after the orders, as its loop runs them.
    private mutating func quotePasses(now: EpochNanos) {
        guard quoting != nil else { return }
        if quoting!.lastBudgetPoll.map({ now - $0 >= quoting!.quoting.budgetPollNanos }) ?? true {
            pollRequestBudget(now: now)
        }
        for symbol in quoting!.keeper.due(now: now) { quotePass(symbol, now: now) }
    }

    /// One pass on `symbol`: from what rests to what is approved, in requests of at most 39 orders
    /// (each then weighs 1 against the IP limit), reported as the executor reports it.
    private mutating func quotePass(_ symbol: String, now: EpochNanos) {
        let plan = quoting!.keeper.plan(symbol: symbol, resting: quoting!.resting(of: symbol, commands: commands), now: now)
        guard !plan.isEmpty else {
            // Paced out entirely: said at most once a second.
            if plan.deferred > 0, quoting!.lastReport[symbol].map({ now - $0 >= Nanos.second }) ?? true {
                report(symbol, plan: plan, outcome: QuoteOutcome(), reasons: [], now: now)
            }
            return
        }
        let orders = plan.orderCommands(approval: quoting!.keeper.approvals[symbol], now: now)
        var answers: [String: OrderOutcome?] = [:]
        for start in stride(from: 0, to: orders.count, by: 39) {
            let chunk = Array(orders[start..<min(start + 39, orders.count)])
            let outcomes = execute(chunk, now: now)
            for order in chunk {
                answers[order.clientOrderId] = outcomes[order.clientOrderId]
                quoting!.answered(order, outcomes[order.clientOrderId], now: now)
            }
        }
        let outcome = QuoteOutcome(orders, answers: answers)
        let slowed = quoting!.keeper.record(plan, outcome: outcome, sentAt: now)
        report(symbol, plan: plan, outcome: outcome, reasons: slowed.map { [$0] } ?? [], now: now)
    }

    private mutating func report(_ symbol: String, plan: QuotePass, outcome: QuoteOutcome, reasons: [Reason], now: EpochNanos) {
        let report = QuoteReport(
            pass: plan, outcome: outcome, resting: quoting!.resting(of: symbol, commands: commands), budget: quoting!.keeper.budget,
            refreshIntervalMs: quoting!.keeper.pacer(symbol).intervalMs, reasons: reasons, time: now)
        quoting!.lastReport[symbol] = now
        quoting!.stats.apply(report)
        record.quoteReports += 1
    }

    /// The address budget as the executor reads it, from the venue's `userRateLimit`.
    private mutating func pollRequestBudget(now: EpochNanos) {
        quoting!.lastBudgetPoll = now
        let request = #"{"type":"userRateLimit","user":"\#(user)"}"#
        let (reply, _) = venue.handleInfo(body: Array(request.utf8), now: UInt64(now / 1_000_000))
        guard let reading = try? InfoDecoding.userRateLimit(Array(reply.body.utf8)) else {
            record.faults.append("unreadable venue userRateLimit: \(reply.body.prefix(200))")
            return
        }
        quoting!.keeper.observeBudget(used: reading.requestsUsed, cap: reading.requestsCap, at: now)
    }
}
