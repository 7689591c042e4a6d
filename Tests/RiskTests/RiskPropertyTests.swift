import Risk
import Schema
import Testing

/// Random sequences and interleavings of intents, acks, fills (partial too), rejects, cancels,
/// lost orders, current and lagging snapshots, mark moves, kill switch and venue flaps. A small
/// venue model keeps the truth; after every step the book is checked against it.
@Suite("Risk properties")
struct RiskPropertyTests {
    static let limits = RiskLimits(
        maxOpenPositions: 4, maxOrderNotional: 800, maxSymbolNotional: 1_500, maxGrossExposure: 4_000,
        maxDirectionShare: 0.7, dailyLossLimit: 1_000_000_000, drawdownLock: 0.99, reduceAtDrawdown: 0.98,
        maxOrdersPerMinute: 40, ackTimeoutNanos: seconds(3), venueOutageGraceNanos: seconds(30))
    static let symbols = (0..<10).map { "S\($0)" }

    @Test(arguments: 0..<40)
    func randomInterleavingsNeverBreachALimit(seed: UInt64) {
        var run = PropertyRun(seed: seed, limits: Self.limits, symbols: Self.symbols)
        for step in 0..<600 {
            run.step(step)
            run.checkInvariants(step)
            if run.failed { break }
        }
        // The run must have exercised the limits, or it proves nothing.
        #expect(run.approvals > 20, "seed \(seed)")
        #expect(run.rejectionsByLimit > 0, "seed \(seed)")
    }
}

/// The venue's truth: what is live, what is held.
struct VenueModel {
    struct LiveOrder {
        var command: OrderCommand
        var remaining: Amount
        var acked = false
    }
    var positions: [String: Amount] = [:]
    var entryPrices: [String: Amount] = [:]
    var live: [String: LiveOrder] = [:]
    var fillCount = 0
    var lastFillId: String?

    func snapshot(at time: EpochNanos, capital: Amount) -> AccountSnapshot {
        let held = positions.filter { !$0.value.isZero }.sorted { $0.key < $1.key }.map {
            Position(symbol: $0.key, size: $0.value, entryPrice: entryPrices[$0.key] ?? 100, unrealizedPnl: 0)
        }
        let open = live.values.sorted { $0.command.clientOrderId < $1.command.clientOrderId }.map {
            OpenOrder(
                clientOrderId: $0.command.clientOrderId, symbol: $0.command.symbol ?? "", side: $0.command.side,
                size: $0.remaining, price: $0.command.price)
        }
        return AccountSnapshot(
            asOf: time, startingCapital: capital, realizedPnl: 0, fees: 0, funding: 0, unrealizedPnl: 0,
            equity: capital, positions: held, openOrders: open, lastFillId: lastFillId)
    }

    mutating func execute(_ cloid: String, size: Amount, at time: EpochNanos) -> Fill {
        var order = live[cloid]!
        let symbol = order.command.symbol ?? ""
        let signed = order.command.side == .buy ? size : -size
        let before = positions[symbol] ?? .zero
        let after = before + signed
        if before.isZero || before.signum == signed.signum {
            let price = order.command.price
            entryPrices[symbol] = ((entryPrices[symbol] ?? price) * before.magnitude + price * size) / after.magnitude
        } else if !after.isZero && after.signum != before.signum {
            entryPrices[symbol] = order.command.price
        }
        positions[symbol] = after
        order.remaining -= size
        order.acked = true
        if order.remaining.isPositive { live[cloid] = order } else { live.removeValue(forKey: cloid) }
        fillCount += 1
        let id = "f\(fillCount)"
        lastFillId = id
        return Fill(
            fillId: id, clientOrderId: cloid, symbol: symbol, side: order.command.side, price: order.command.price,
            size: size, fee: 0, liquidity: .taker, purpose: order.command.purpose, strategy: order.command.strategy,
            time: time)
    }
}

struct PropertyRun {
    let limits: RiskLimits
    let symbols: [String]
    let instruments: [String: Instrument]
    let capital: Amount = 1_000_000_000
    var rng: SplitMix64
    var now = t0
    var book: RiskBook
    var venue = VenueModel()
    var marks: [String: Amount] = [:]
    var capturedSnapshots: [AccountSnapshot] = []
    var intentIds: [String] = []
    var clientOrderIds = Set<String>()
    var commands: [String: OrderCommand] = [:]
    var approvals = 0
    var rejectionsByLimit = 0
    var failed = false
    let seed: UInt64

    init(seed: UInt64, limits: RiskLimits, symbols: [String]) {
        self.seed = seed
        self.limits = limits
        self.symbols = symbols
        self.instruments = testInstruments(symbols)
        self.rng = SplitMix64(seed: seed)
        book = RiskBook(limits: limits, instruments: instruments, startingCapital: capital, now: t0)
        for symbol in symbols {
            marks[symbol] = 100
            _ = book.updateMark(symbol: symbol, price: 100, now: t0)
        }
        _ = book.apply(venue.snapshot(at: t0, capital: capital), now: t0)
    }

    mutating func random(_ bound: Int) -> Int { Int(rng.next() % UInt64(bound)) }

    mutating func pick<T>(_ items: [T]) -> T? { items.isEmpty ? nil : items[random(items.count)] }

    mutating func step(_ step: Int) {
        now += Int64(random(800)) * 1_000_000
        switch random(100) {
        case 0..<38: sendIntent(step)
        case 38..<46: ack()
        case 46..<62: fill()
        case 62..<65: reject()
        case 65..<68: cancel()
        case 68..<75: _ = book.apply(venue.snapshot(at: now, capital: capital), now: now)
        case 75..<79: capturedSnapshots.append(venue.snapshot(at: now, capital: capital))
        case 79..<83:
            if !capturedSnapshots.isEmpty { _ = book.apply(capturedSnapshots.removeFirst(), now: now) }
        case 83..<93: moveMark()
        case 93..<95: _ = book.expireOverdue(now: now)
        case 95: _ = book.setKillSwitch(true, reason: "property", now: now)
        case 96: _ = book.setVenueAvailable(false, reason: "property", now: now)
        default: _ = book.tick(now: now)
        }
        // Outages and kill switches end, and an operator resumes, so runs keep trading.
        if book.killSwitchEngaged && random(8) == 0 { _ = book.setKillSwitch(false, reason: "property", now: now) }
        if random(8) == 0 { _ = book.setVenueAvailable(true, reason: "property", now: now) }
        if book.state == .halted && random(8) == 0 { _ = book.resume(now: now) }
    }

    mutating func sendIntent(_ step: Int) {
        guard let symbol = pick(symbols) else { return }
        let held = venue.positions[symbol] ?? .zero
        let isExit = random(4) == 0
        var side: Side = random(2) == 0 ? .buy : .sell
        if isExit && !held.isZero && random(10) < 7 { side = held.isPositive ? .sell : .buy }
        let size = Amount(random(1_500) + 5) / 100
        let mark = marks[symbol]!
        let price = Swift.max(mark + Amount(random(601) - 300) / 100, 1)
        var id = "i\(step)"
        if random(30) == 0, let old = pick(intentIds) { id = old }
        intentIds.append(id)
        let expired = random(30) == 0
        let intent = OrderIntent(
            intentId: id, symbol: symbol, side: side, size: size, orderType: random(2) == 0 ? .limit : .market,
            price: price, purpose: isExit ? .exit : .entry, reduceOnly: isExit, strategy: "prop", origin: "prop",
            createdAt: now, expiresAt: expired ? now - 1 : now + seconds(2))

        let verdict = book.evaluate(intent, now: now)
        let decision = verdict.decision
        #expect(!decision.reasons.isEmpty)
        #expect((verdict.order != nil) == (decision.outcome != .rejected))
        if [.maxOpenPositions, .maxOrderNotional, .maxSymbolNotional, .maxGrossExposure, .maxDirectionShare]
            .contains(verdict.code)
        {
            rejectionsByLimit += decision.outcome == .rejected ? 1 : 0
        }
        guard let order = verdict.order else { return }
        approvals += 1

        #expect(order.clientOrderId == Identifier.clientOrderId(forIntent: id))
        #expect(!clientOrderIds.contains(order.clientOrderId), "seed \(seed): two orders for intent \(id)")
        clientOrderIds.insert(order.clientOrderId)
        commands[order.clientOrderId] = order
        #expect(decision.approvedSize == order.size)
        #expect(order.size * Swift.max(order.price, mark) <= limits.maxOrderNotional, "seed \(seed)")
        if order.reduceOnly {
            #expect(!held.isZero && held.signum == -order.side.sign && order.size <= held.magnitude, "seed \(seed)")
        }

        // One order in ten never reaches the venue.
        if random(10) > 0 {
            venue.live[order.clientOrderId] = VenueModel.LiveOrder(command: order, remaining: order.size)
            if !order.reduceOnly { checkExposure(after: order) }
        }
    }

    /// With the new order live, the side it grows fits every exposure limit at the current marks.
    mutating func checkExposure(after order: OrderCommand) {
        let symbol = order.symbol ?? ""
        var long: [String: Amount] = [:]
        var short: [String: Amount] = [:]
        for (held, size) in venue.positions where !size.isZero {
            long[held, default: .zero] += size * marks[held]!
            short[held, default: .zero] -= size * marks[held]!
        }
        for live in venue.live.values where !live.command.reduceOnly {
            let held = live.command.symbol ?? ""
            let value = live.remaining * Swift.max(live.command.price, marks[held]!)
            if live.command.side == .buy { long[held, default: .zero] += value } else { short[held, default: .zero] += value }
        }
        let grown = order.side == .buy ? long : short
        let side = grown[symbol] ?? .zero
        #expect(side <= limits.maxSymbolNotional, "seed \(seed): \(symbol) side \(side)")

        let others = Set(long.keys).union(short.keys).subtracting([symbol])
        let grossOthers = others.map { Swift.max(long[$0] ?? .zero, short[$0] ?? .zero, .zero) }.sum()
        #expect(grossOthers + Swift.max(side, .zero) <= limits.maxGrossExposure, "seed \(seed): gross")

        let directionOthers = others.map { Swift.max(grown[$0] ?? .zero, .zero) }.sum()
        let directionCap = limits.maxGrossExposure * Amount(limits.maxDirectionShare)
        #expect(directionOthers + Swift.max(side, .zero) <= directionCap, "seed \(seed): direction")
    }

    mutating func ack() {
        guard let id = pick(venue.live.filter { !$0.value.acked }.keys.sorted()) else { return }
        venue.live[id]?.acked = true
        book.apply(OrderAck(clientOrderId: id, venueOrderId: "v-\(id)", symbol: venue.live[id]!.command.symbol ?? "", action: .place), now: now)
    }

    mutating func fill() {
        guard let id = pick(venue.live.keys.sorted()), let order = venue.live[id] else { return }
        let symbol = order.command.symbol ?? ""
        var size = order.remaining
        if random(2) == 0 {
            let part = (order.remaining * Amount(random(100))) / 100
            size = instruments[symbol]!.roundSize(part, .down)
            if !size.isPositive { size = order.remaining }
        }
        if order.command.reduceOnly {
            // The venue never lets a reduce-only order grow or flip a position.
            let held = venue.positions[symbol] ?? .zero
            let reducible = held.signum == -order.command.side.sign ? held.magnitude : .zero
            size = Swift.min(size, reducible)
            if !size.isPositive {
                venue.live.removeValue(forKey: id)
                book.apply(OrderCanceled(clientOrderId: id, symbol: symbol, reason: Reason("reduce_only_nothing")), now: now)
                return
            }
        }
        let execution = venue.execute(id, size: size, at: now)
        _ = book.apply(execution, now: now)
    }

    mutating func reject() {
        let fresh = venue.live.filter { !$0.value.acked && $0.value.remaining == $0.value.command.size }
        guard let id = pick(fresh.keys.sorted()) else { return }
        let symbol = venue.live[id]!.command.symbol ?? ""
        venue.live.removeValue(forKey: id)
        book.apply(OrderReject(clientOrderId: id, symbol: symbol, reason: Reason(.venueRejected)), now: now)
    }

    mutating func cancel() {
        guard let id = pick(venue.live.keys.sorted()) else { return }
        let symbol = venue.live[id]!.command.symbol ?? ""
        venue.live.removeValue(forKey: id)
        book.apply(OrderCanceled(clientOrderId: id, symbol: symbol, reason: Reason("canceled")), now: now)
    }

    mutating func moveMark() {
        guard let symbol = pick(symbols) else { return }
        let move = Amount(10_000 + random(601) - 300) / 10_000
        let mark = Swift.max((marks[symbol]! * move).rounded(scale: 2), 1)
        marks[symbol] = mark
        _ = book.updateMark(symbol: symbol, price: mark, now: now)
    }

    mutating func checkInvariants(_ step: Int) {
        // Positions + reserved entries, from the venue's truth and from the book.
        var occupied = Set(venue.positions.filter { !$0.value.isZero }.keys)
        for live in venue.live.values where !live.command.reduceOnly { occupied.insert(live.command.symbol ?? "") }
        #expect(occupied.count <= limits.maxOpenPositions, "seed \(seed) step \(step): \(occupied.sorted())")
        #expect(book.occupiedPositionSlots <= limits.maxOpenPositions, "seed \(seed) step \(step)")

        // The book holds every position the venue holds, and reserves every live order in full.
        for symbol in symbols where book.position(symbol) != (venue.positions[symbol] ?? .zero) {
            Issue.record("seed \(seed) step \(step): \(symbol) book \(book.position(symbol)) venue \(venue.positions[symbol] ?? .zero)")
            failed = true
        }
        for (id, live) in venue.live where book.reservedSize(clientOrderId: id) != live.remaining {
            Issue.record("seed \(seed) step \(step): \(id) reserved \(String(describing: book.reservedSize(clientOrderId: id))) live \(live.remaining)")
            failed = true
        }

        // The book's running exposure equals a fresh sum over its own positions and reservations.
        var long: [String: Amount] = [:]
        var short: [String: Amount] = [:]
        for symbol in symbols {
            long[symbol] = book.position(symbol) * marks[symbol]!
            short[symbol] = -(book.position(symbol) * marks[symbol]!)
        }
        for id in book.reservedOrderIds {
            guard let command = commands[id], let remaining = book.reservedSize(clientOrderId: id) else {
                Issue.record("seed \(seed) step \(step): unknown reservation \(id)")
                continue
            }
            guard !command.reduceOnly, let symbol = command.symbol else { continue }
            let value = remaining * Swift.max(command.price, marks[symbol]!)
            if command.side == .buy { long[symbol]! += value } else { short[symbol]! += value }
        }
        let expected = symbols.map { Swift.max(long[$0]!, short[$0]!, .zero) }
        #expect(symbols.map { book.symbolExposure($0) } == expected, "seed \(seed) step \(step)")
        #expect(book.grossExposure == expected.sum(), "seed \(seed) step \(step)")
    }
}
