import Execution
import Foundation
import Hyperliquid
import Schema
import Storage
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
import TestSupport
#endif

/// A fault the matrix injects into one process of a running system.
enum InjectedFault: String, Sendable, CaseIterable {
    /// The supervisor restarts the process (0.5 s backoff after a first crash).
    case kill = "SIGKILL"
    /// Frozen, then SIGCONT: a process that hangs and comes back, sockets and all.
    case stop = "SIGSTOP 10 s"
}

/// One cell of the matrix: a service, a fault, what the invariants said after it.
struct FaultCell: Sendable {
    var service: String
    var fault: InjectedFault
    /// From the end of the fault (the kill, or SIGCONT) until every process is healthy and a new fill landed.
    var recovery: Duration?
    /// Invariants broken after the recovery, or why it did not recover; empty on a pass.
    var violations: [String]
    /// Open positions (each with its exchange stop) when the invariants last held.
    var positions = 0

    var passed: Bool { recovery != nil && violations.isEmpty }
}

/// The fault matrix: a paper system trading with exchange-side stops, each service in turn killed
/// (SIGKILL, the supervisor restarts it) or stopped for 10 s (SIGSTOP, then SIGCONT), and after
/// each fault, once the system is healthy and trading again, the invariants that guard money:
/// - no client order id sent twice (the trace's `order.command` places, the exchange's orders);
/// - every exchange fill in the ledger and in the trace, and no ledger fill the exchange lacks;
/// - the ledger's position = the exchange's, per symbol;
/// - no risk limit breached at any fill (open positions, per-symbol notional, gross exposure);
/// - every open position protected by its reduce-only stop resting on the exchange;
/// - the trading state and the kill switch as they were before the fault.
struct FaultMatrix {
    static let services = [
        "feed-handler", "signal-generator", "risk-gate", "executor", "trace-recorder", "exchange-sim", "chromadb",
    ]

    /// `make test`: one fault per service, about 4 minutes with the system's start.
    static let short: [(service: String, fault: InjectedFault)] = [
        ("feed-handler", .kill), ("signal-generator", .stop), ("risk-gate", .kill), ("executor", .kill),
        ("trace-recorder", .kill), ("chromadb", .kill), ("exchange-sim", .stop),
    ]

    /// `make faults`: every service × every fault. exchange-sim's SIGKILL comes last: without a venue
    /// that keeps its state, it leaves an exchange that forgot the account for every cell after it.
    static var full: [(service: String, fault: InjectedFault)] {
        let cells = services.flatMap { service in InjectedFault.allCases.map { (service: service, fault: $0) } }
        return cells.filter { !($0.service == "exchange-sim" && $0.fault == .kill) } + [("exchange-sim", .kill)]
    }

    /// `FAULT_MATRIX=full` (what `make faults` sets) runs the whole matrix.
    static var selected: [(service: String, fault: InjectedFault)] {
        ProcessInfo.processInfo.environment["FAULT_MATRIX"] == "full" ? full : short
    }

    /// What a cell relies on beyond this branch.
    static let symbols = ["BTC", "ETH", "SOL"]
    static let maxOpenPositions = 2
    static let maxSymbolNotional: Amount = "150"
    static let maxGrossExposure: Amount = "300"

    /// Trading all the time: RSI(2) with bands at 50 gives a direction on nearly every 1 s bar; a
    /// signal exit closes on the opposite signal, so positions open and close every few seconds, each
    /// entry with its stop on the exchange (hard stop 5 %). The limits bind: 100 a trade against 150 a
    /// symbol and two positions among three symbols, so a breach would show. Recall asks ChromaDB.
    static func overrides(chromaURL: String?) -> [String: Any] {
        var overrides: [String: Any] = [
            "symbols": symbols,
            "account": ["startingCapital": "100000"],
            "signal": [
                "tradeNotional": "100", "cooldownBars": 2,
                "rsi": ["period": 2, "oversold": 49.999, "overbought": 50.001],
            ],
            "risk": [
                "maxOpenPositions": maxOpenPositions, "maxGrossExposure": maxGrossExposure.description,
                "maxSymbolNotional": maxSymbolNotional.description, "maxOrderNotional": "150",
                "maxDirectionShare": 1, "maxOrdersPerMinute": 1_000,
                "exits": [
                    "enabled": true, "hardStop": 0.05, "atrStop": ["multiple": 0], "trailing": ["enabled": false],
                    "takeProfits": ["off"], "emergency": ["tiers": ["off"]], "signalExit": ["confirmations": 0],
                    "maxHoldingMinutes": 600,
                ],
            ],
        ]
        if let chromaURL {
            overrides["recall"] = [
                "chroma": ["url": chromaURL, "managed": true, "command": Chroma.command],
                "breaker": ["waitOpenMs": 2_000, "waitOpenMaxMs": 4_000],
            ]
        }
        return overrides
    }

    let system: RunningSystem
    let stopFor: Duration
    let recoveryTimeout: Duration
    /// The trading state and kill switch every cell must leave as they were.
    var expectedState = "active"
    var expectedKillSwitch = false

    init(system: RunningSystem, stopFor: Duration = .seconds(10), recoveryTimeout: Duration = .seconds(120)) {
        self.system = system
        self.stopFor = stopFor
        self.recoveryTimeout = recoveryTimeout
    }

    /// Healthy, trading, the invariants holding: the state every fault starts from.
    mutating func settle() async throws {
        try await system.waitHealthy(timeout: .seconds(120))
        try await system.waitUntil("fills on the exchange", timeout: .seconds(120)) {
            try LedgerStore(path: system.ledgerDatabase).fills().count >= 4
        }
        let risk = try await system.riskStatus()
        expectedState = risk["state"] as? String ?? "?"
        expectedKillSwitch = risk["killSwitch"] as? Bool ?? true
        let (broken, _) = await converged(timeout: .seconds(60))
        if !broken.isEmpty { throw HarnessError(description: "invariants broken before any fault: \(broken)") }
    }

    /// Injects `fault` into `service`, waits for the recovery and checks the invariants.
    func run(_ service: String, _ fault: InjectedFault) async -> FaultCell {
        var cell = FaultCell(service: service, fault: fault, violations: [])
        guard let entry = await system.entry(service), let pid = entry["pid"] as? Int else {
            cell.violations = ["\(service) is not running"]
            return cell
        }
        switch fault {
        case .kill:
            kill(Int32(pid), SIGKILL)
        case .stop:
            suspendProcess(Int32(pid))
            try? await Task.sleep(for: stopFor)
            kill(Int32(pid), SIGCONT)
        }
        let faultEnded = ContinuousClock.now
        let endedAt = wallNanos()
        do {
            try await system.waitUntil("\(service) back after \(fault.rawValue)", timeout: recoveryTimeout) {
                guard let services = await system.status(), services.allSatisfy({ $0["health"] as? String == "ok" }),
                    let now = services.first(where: { $0["name"] as? String == service })
                else { return false }
                if fault == .kill, now["pid"] as? Int == pid { return false }
                // Trading again: a fill the exchange made after the fault, in the ledger.
                return try LedgerStore(path: system.ledgerDatabase).fills().contains { $0.time > endedAt }
            }
            cell.recovery = ContinuousClock.now - faultEnded
        } catch {
            cell.violations = ["no recovery within \(recoveryTimeout): \(Self.lastLine(of: error))"]
            await rescue(service)
            return cell
        }
        (cell.violations, cell.positions) = await converged(timeout: .seconds(45))
        return cell
    }

    /// A stopped process left stopped would freeze every later cell.
    func rescue(_ service: String) async {
        if let pid = await system.entry(service)?["pid"] as? Int { kill(Int32(pid), SIGCONT) }
    }

    /// Polls the invariants until they all hold at one moment (the ledger, the trace and the exchange
    /// are read one after the other while trading goes on), or returns the last violations.
    func converged(timeout: Duration) async -> (violations: [String], positions: Int) {
        let deadline = ContinuousClock.now + timeout
        var last: [String] = []
        while ContinuousClock.now < deadline {
            do {
                let (broken, positions) = try await violations()
                if broken.isEmpty { return ([], positions) }
                last = broken
            } catch { last = ["cannot read: \(error)"] }
            try? await Task.sleep(for: .seconds(1))
        }
        return (last, 0)
    }

    /// Every invariant broken now. The exchange is asked from loopback addresses of the test's own
    /// (`ExchangeStopsTests.info`): exchange-sim limits weight per IP, and polling from the executor's
    /// address would spend its budget and disturb what is measured.
    func violations() async throws -> (broken: [String], positions: Int) {
        var broken: [String] = []
        let venue = ExchangeStopsTests()
        let user = try system.paperWallet().address.lowercased
        let ledger = try LedgerStore(path: system.ledgerDatabase)
        let trace = try system.trace()

        // No client order id sent twice: no place repeated on the bus to the executor, and on the
        // exchange no client order id filled under two orders or live twice (a modify replaces an
        // order under the same id: that is one order, not two).
        let placed = try trace.messages(OrderCommand.self).map(\.body).filter { $0.action == .place }
        let repeatedOnBus = Self.repeated(placed.map { $0.clientOrderId.lowercased() })
        if !repeatedOnBus.isEmpty { broken.append("order.command place repeated for \(repeatedOnBus.prefix(3))") }
        let exchangeFills = try #require(try await venue.info(system, ["type": "userFills", "user": user]) as? [[String: Any]])
        var filledOrders: [String: Set<Int>] = [:]
        for fill in exchangeFills {
            if let cloid = (fill["cloid"] as? String)?.lowercased(), let oid = fill["oid"] as? Int { filledOrders[cloid, default: []].insert(oid) }
        }
        let filledTwice = filledOrders.filter { $0.value.count > 1 }.keys.sorted()
        if !filledTwice.isEmpty { broken.append("the exchange filled \(filledTwice.prefix(3)) under two orders each") }
        let live = try await venue.exchangeOrders(system).compactMap(\.cloid)
        let liveTwice = Self.repeated(live)
        if !liveTwice.isEmpty { broken.append("the exchange has \(liveTwice.prefix(3)) live twice") }

        // Every exchange fill in the ledger and in the trace; nothing in the ledger the exchange lacks.
        let venueIds = Set(exchangeFills.compactMap { fill -> String? in
            guard let tid = fill["tid"] as? Int, let oid = fill["oid"] as? Int else { return nil }
            return "hl-\(tid)-\(oid)"
        })
        let ledgerFills = try ledger.fills()
        let ledgerIds = Set(ledgerFills.map(\.fillId))
        let tracedIds = Set(try trace.messages(Fill.self).map(\.body.fillId))
        if !venueIds.subtracting(ledgerIds).isEmpty {
            broken.append("exchange fills not in the ledger: \(venueIds.subtracting(ledgerIds).sorted().prefix(3))")
        }
        if !ledgerIds.subtracting(venueIds).isEmpty {
            broken.append("ledger fills the exchange does not have: \(ledgerIds.subtracting(venueIds).sorted().prefix(3))")
        }
        if !venueIds.subtracting(tracedIds).isEmpty {
            broken.append("exchange fills not in the trace: \(venueIds.subtracting(tracedIds).sorted().prefix(3))")
        }

        // The ledger's position = the exchange's, per symbol.
        var ledgerPositions: [String: Amount] = [:]
        for fill in ledgerFills { ledgerPositions[fill.symbol ?? "", default: .zero] += fill.side == .buy ? fill.size : -fill.size }
        ledgerPositions = ledgerPositions.filter { !$0.value.isZero }
        let venuePositions = try await venue.heldPositions(system)
        if ledgerPositions != venuePositions {
            broken.append("ledger positions \(ledgerPositions) ≠ exchange \(venuePositions)")
        }

        broken += Self.limitBreaches(ledgerFills)

        // Every open position protected by its reduce-only stop on the exchange.
        let missing = try await venue.unprotected(system, venuePositions)
        if !missing.isEmpty { broken.append("positions without an exchange stop: \(missing)") }

        // The trading state and the kill switch as they were.
        let risk = try await system.riskStatus()
        let tradingState = risk["state"] as? String ?? "?"
        let killSwitch = risk["killSwitch"] as? Bool
        if tradingState != expectedState || killSwitch != expectedKillSwitch {
            broken.append(
                "trading state \(tradingState), kill switch \(killSwitch.map { "\($0)" } ?? "?"); was \(expectedState), \(expectedKillSwitch)")
        }
        return (broken, venuePositions.count)
    }

    /// Replays the ledger's fills in order: at no fill more open positions, more notional on one
    /// symbol, or more gross exposure than the limits (2 % for rounding and slippage).
    static func limitBreaches(_ fills: [Fill]) -> [String] {
        var positions: [String: Amount] = [:]
        var prices: [String: Amount] = [:]
        var breaches: [String] = []
        let slack: Amount = "1.02"
        for fill in fills.sorted(by: { ($0.time, $0.fillId) < ($1.time, $1.fillId) }) {
            let symbol = fill.symbol ?? ""
            positions[symbol, default: .zero] += fill.side == .buy ? fill.size : -fill.size
            prices[symbol] = fill.price
            let open = positions.filter { !$0.value.isZero }
            let notional = positions[symbol, default: .zero].magnitude * fill.price
            let gross = open.reduce(Amount.zero) { $0 + $1.value.magnitude * (prices[$1.key] ?? .zero) }
            if open.count > maxOpenPositions { breaches.append("\(open.count) positions open after fill \(fill.fillId)") }
            if notional > maxSymbolNotional * slack { breaches.append("\(symbol) notional \(notional) after fill \(fill.fillId)") }
            if gross > maxGrossExposure * slack { breaches.append("gross exposure \(gross) after fill \(fill.fillId)") }
        }
        return Array(breaches.prefix(3))
    }

    static func repeated(_ ids: [String]) -> [String] {
        Dictionary(grouping: ids, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
    }

    /// The client order id of every order the exchange ever took for the account (`historicalOrders`).
    func venueOrderIds() async throws -> [String] {
        let user = try system.paperWallet().address.lowercased
        let answer = try await ExchangeStopsTests().info(system, ["type": "historicalOrders", "user": user])
        let orders = try #require(answer as? [[String: Any]])
        return orders.compactMap { (($0["order"] as? [String: Any])?["cloid"] as? String)?.lowercased() }
    }

    static func lastLine(of error: Error) -> String {
        String("\(error)".split(separator: "\n").first ?? "")
    }

    /// The printed matrix: service × fault → pass or fail and the time to recover, then what failed.
    static func table(_ cells: [FaultCell], took: Duration? = nil, trading: String? = nil) -> String {
        let faults = InjectedFault.allCases.filter { fault in cells.contains { $0.fault == fault } }
        let width = 24
        func pad(_ text: String, _ count: Int) -> String { text.padding(toLength: max(count, text.count), withPad: " ", startingAt: 0) }
        var lines = [pad("service", 18) + faults.map { " | " + pad($0.rawValue, width) }.joined()]
        lines.append(String(repeating: "-", count: lines[0].count))
        for service in services where cells.contains(where: { $0.service == service }) {
            var line = pad(service, 18)
            for fault in faults {
                guard let cell = cells.first(where: { $0.service == service && $0.fault == fault }) else {
                    line += " | " + pad("-", width)
                    continue
                }
                let time = cell.recovery.map { String(format: "%.1f s", Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18) }
                var text = cell.passed ? "pass" : "FAIL"
                if let time { text += cell.passed ? ", \(time), \(cell.positions) pos" : ", \(time)" }
                line += " | " + pad(text, width)
            }
            lines.append(line)
        }
        for cell in cells where !cell.passed {
            lines.append("\(cell.service) \(cell.fault.rawValue): \(cell.violations.joined(separator: "; "))")
        }
        lines.append("time: from the end of the fault (the kill, or SIGCONT) to every process healthy and a new fill in the ledger")
        lines.append("pos: open positions, each with its stop on the exchange, when the invariants were checked")
        if let trading { lines.append(trading) }
        if let took { lines.append("whole run: \(Int(took.components.seconds)) s") }
        return lines.joined(separator: "\n")
    }
}
