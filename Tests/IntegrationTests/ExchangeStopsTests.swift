import Foundation
import Synchronization
import Schema
import Storage
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
import TestSupport
#endif

/// Exchange-side stops end to end: every open position has a reduce-only stop-loss resting on the
/// exchange, it stays there while the risk gate and the executor are killed and restart, and it
/// does its work (fires, and the ledger records the fill) once they are back.
@Suite(.serialized) struct ExchangeStopsTests {
    static let symbols = ["BTC", "ETH", "SOL"]

    /// Three symbols entering at once (RSI(2) with bands at 50), one position each (long cooldown),
    /// exits on but far away: the positions stay open, each with its exchange stop.
    static var overrides: [String: Any] { [
        "symbols": symbols,
        "account": ["startingCapital": "100000"],
        "signal": [
            "tradeNotional": "100", "cooldownBars": 10_000,
            "rsi": ["period": 2, "oversold": 49.999, "overbought": 50.001],
        ],
        "risk": [
            "maxOpenPositions": 8, "maxGrossExposure": "100000", "maxSymbolNotional": "1000",
            "maxOrderNotional": "1000", "maxDirectionShare": 1, "maxOrdersPerMinute": 1_000,
            "exits": [
                "enabled": true, "hardStop": 0.05, "atrStop": ["multiple": 0], "trailing": ["enabled": false],
                "takeProfits": ["off"], "emergency": ["tiers": ["off"]], "signalExit": ["confirmations": 0],
                "maxHoldingMinutes": 600,
            ],
        ],
    ] }

    /// One order of `frontendOpenOrders`, as the exchange shows it.
    struct ExchangeOrder {
        var coin: String
        var side: String
        var size: Amount
        var isTrigger: Bool
        var reduceOnly: Bool
        var triggerPx: Amount
        var orderType: String
        var cloid: String?

        init?(_ json: [String: Any]) {
            guard let coin = json["coin"] as? String, let side = json["side"] as? String,
                let size = (json["sz"] as? String).flatMap({ Amount($0) })
            else { return nil }
            self.coin = coin
            self.side = side
            self.size = size
            isTrigger = json["isTrigger"] as? Bool ?? false
            reduceOnly = json["reduceOnly"] as? Bool ?? false
            triggerPx = (json["triggerPx"] as? String).flatMap { Amount($0) } ?? .zero
            orderType = json["orderType"] as? String ?? ""
            cloid = (json["cloid"] as? String)?.lowercased()
        }

        /// A stop-loss that closes `position` (signed) and would fire before the mark `mark` is worse.
        func protects(_ position: Amount, mark: Amount) -> Bool {
            guard isTrigger, reduceOnly, orderType.hasPrefix("Stop"), size >= position.magnitude else { return false }
            return position.isPositive ? side == "A" && triggerPx < mark : side == "B" && triggerPx > mark
        }
    }

    // MARK: (c) stops on the exchange through a kill of the risk gate and the executor

    @Test("every position has its exchange stop, throughout a SIGKILL of the risk gate and the executor; the stop fires after")
    func stopsSurviveKillOfRiskGateAndExecutor() async throws {
        try await withSystem(Self.overrides) { system in try await killAndFire(system) }
    }

    func killAndFire(_ system: RunningSystem) async throws {
        try await system.waitHealthy()

        try await system.waitUntil("a protected position in every symbol", timeout: .seconds(120)) {
            let positions = try await heldPositions(system)
            guard Set(positions.keys) == Set(Self.symbols) else { return false }
            return try await unprotected(system, positions).isEmpty
        }
        let positions = try await heldPositions(system)
        #expect(try await unprotected(system, positions).isEmpty)

        // Kill both services that manage stops; the exchange must keep every stop while they are gone.
        var old: [String: (pid: Int, instance: String)] = [:]
        for service in ["risk-gate", "executor"] {
            let entry = try #require(await system.entry(service))
            old[service] = (try #require(entry["pid"] as? Int), try #require(entry["instance"] as? String))
        }
        for (_, killed) in old { kill(Int32(killed.pid), SIGKILL) }

        var checks = 0
        var gaps: [String] = []
        var backAt: ContinuousClock.Instant?
        let deadline = ContinuousClock.now + .seconds(60)
        // Polls through the restart and 10 s past it (reconciliation, the first keepStops).
        while ContinuousClock.now < deadline {
            let now = try await heldPositions(system)
            #expect(now == positions, "positions moved while the services were down: \(now)")
            let missing = try await unprotected(system, now)
            if !missing.isEmpty { gaps.append("after \(checks) checks: \(missing)") }
            checks += 1
            if backAt == nil {
                var allBack = true
                for (service, killed) in old {
                    let entry = await system.entry(service)
                    let instance = entry?["instance"] as? String
                    if instance == nil || instance == killed.instance || entry?["health"] as? String != "ok" {
                        allBack = false
                    }
                }
                if allBack { backAt = .now }
            } else if ContinuousClock.now - backAt! > .seconds(10) {
                break
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(backAt != nil, "the risk gate and the executor came back\n\(system.supervisorLog.suffix(3_000))")
        #expect(gaps.isEmpty, "positions without a stop on the exchange: \(gaps.prefix(5))")
        #expect(checks > 20)
        for (service, killed) in old {
            let entry = try #require(await system.entry(service))
            #expect(entry["pid"] as? Int != killed.pid, "\(service) restarted")
        }

        // The exits resume: the mark through one coin's stop fires it on the exchange, and the
        // restarted executor records its fill as that stop's exit.
        let coin = try #require(Self.symbols.first)
        let position = try #require(positions[coin])
        let mark = try #require(try await marks(system)[coin])
        let stop = try #require(try await exchangeOrders(system).first { $0.coin == coin && $0.protects(position, mark: mark) })
        let through = stop.triggerPx.doubleValue * (position.isPositive ? 0.97 : 1.03)
        try await pinMark(system, coin: coin, px: String(format: "%.6g", through))
        let ledger = try LedgerStore(path: system.ledgerDatabase)
        try await system.waitUntil("\(coin)'s stop fired and the ledger recorded it", timeout: .seconds(30)) {
            let flat = try await heldPositions(system)[coin] == nil
            let recorded = try ledger.fills().contains { $0.clientOrderId.lowercased() == stop.cloid && $0.purpose == .exit }
            return flat && recorded
        }
        try await system.waitUntil("no order left on \(coin)", timeout: .seconds(15)) {
            try await exchangeOrders(system).allSatisfy { $0.coin != coin }
        }
        let stopFill = try #require(try ledger.fills().first { $0.clientOrderId.lowercased() == stop.cloid })
        #expect(stopFill.side == (position.isPositive ? Side.sell : Side.buy))
        #expect(stopFill.symbol == coin)
        // The ledger keeps the stop as an order of its own, filled, and nothing live on the coin.
        try await system.waitUntil("the ledger has no live order on \(coin)", timeout: .seconds(15)) {
            try ledger.liveOrders().allSatisfy { $0.command.symbol != coin }
        }
        // The other positions keep theirs.
        let rest = try await heldPositions(system)
        #expect(Set(rest.keys) == Set(Self.symbols.dropFirst()))
        #expect(try await unprotected(system, rest).isEmpty)
        try await pinMark(system, coin: coin, px: nil)
        try await Task.sleep(for: .seconds(2))
        // Nothing was refused: no stop was placed again for the position the fired stop closed.
        let rejects = try system.trace().messages(OrderReject.self).map(\.body)
        #expect(rejects.isEmpty, "rejects: \(rejects.map { "\($0.symbol ?? "") \($0.reason)" })")
        try await system.expectLedgerMatchesExchange()
    }

    // MARK: (d) the official SDK sees the stops

    @Test("the official Python SDK's frontend_open_orders shows every position's stop-loss trigger")
    func officialSDKSeesTheStops() async throws {
        let python = Repository.root.appendingPathComponent(".venv/bin/python")
        try #require(FileManager.default.isExecutableFile(atPath: python.path), "no .venv with hyperliquid-python-sdk")
        try await withSystem(Self.overrides) { system in try await sdkSeesStops(system, python: python) }
    }

    func sdkSeesStops(_ system: RunningSystem, python: URL) async throws {
        try await system.waitHealthy()
        try await system.waitUntil("a protected position in every symbol", timeout: .seconds(120)) {
            let positions = try await heldPositions(system)
            guard Set(positions.keys) == Set(Self.symbols) else { return false }
            return try await unprotected(system, positions).isEmpty
        }
        let positions = try await heldPositions(system)
        let address = try system.paperWallet().address.lowercased

        let script = """
            import json, sys
            from hyperliquid.info import Info
            info = Info(sys.argv[1], skip_ws=True)
            orders = info.frontend_open_orders(sys.argv[2])
            positions = info.user_state(sys.argv[2])["assetPositions"]
            print(json.dumps({"orders": orders, "positions": [p["position"] for p in positions]}))
            """
        let document = try await system.runPython(
            python, script: script, named: "frontend_open_orders.py", arguments: [system.exchangeURL, address])
        let orders = try #require(document["orders"] as? [[String: Any]]).compactMap(ExchangeOrder.init)
        let sdkPositions = try #require(document["positions"] as? [[String: Any]])
        #expect(Set(sdkPositions.compactMap { $0["coin"] as? String }) == Set(positions.keys))

        // The stops the ledger keeps live, by coin: the SDK must show each with its trigger price.
        let ledger = try LedgerStore(path: system.ledgerDatabase)
        let liveStops = try ledger.liveOrders().filter { $0.command.trigger?.kind == .stopLoss }
        for (coin, size) in positions {
            let ours = liveStops.filter { $0.command.symbol == coin }
            #expect(!ours.isEmpty, "the ledger has a live stop on \(coin)")
            let shown = orders.filter {
                $0.coin == coin && $0.isTrigger && $0.reduceOnly && $0.orderType == "Stop Market"
                    && $0.size >= size.magnitude && $0.side == (size.isPositive ? "A" : "B")
            }
            #expect(!shown.isEmpty, "no stop market trigger for \(coin) in \(orders)")
            for order in shown {
                let recorded = ours.first { $0.command.clientOrderId.lowercased() == order.cloid }
                #expect(recorded?.command.trigger?.triggerPrice == order.triggerPx, "\(coin): \(order)")
            }
        }
    }

    // MARK: Helpers

    /// The positions (by coin) with no stop on the exchange that closes them, with what is there.
    func unprotected(_ system: RunningSystem, _ positions: [String: Amount]) async throws -> [String: String] {
        let orders = try await exchangeOrders(system)
        let marks = try await marks(system)
        var missing: [String: String] = [:]
        for (coin, size) in positions {
            guard let mark = marks[coin] else {
                missing[coin] = "no mark"
                continue
            }
            let own = orders.filter { $0.coin == coin }
            if !own.contains(where: { $0.protects(size, mark: mark) }) {
                missing[coin] = "position \(size) mark \(mark), orders \(own.map { "\($0.side) \($0.size) \($0.orderType) @\($0.triggerPx)" })"
            }
        }
        return missing
    }

    func exchangeOrders(_ system: RunningSystem) async throws -> [ExchangeOrder] {
        let user = try system.paperWallet().address.lowercased
        let answer = try await info(system, ["type": "frontendOpenOrders", "user": user])
        return try #require(answer as? [[String: Any]]).compactMap(ExchangeOrder.init)
    }

    /// Every coin's mark price, from `metaAndAssetCtxs`.
    func marks(_ system: RunningSystem) async throws -> [String: Amount] {
        let answer = try #require(try await info(system, ["type": "metaAndAssetCtxs"]) as? [Any])
        let universe = try #require((answer.first as? [String: Any])?["universe"] as? [[String: Any]])
        let contexts = try #require(answer.last as? [[String: Any]])
        var marks: [String: Amount] = [:]
        for (asset, context) in zip(universe, contexts) {
            if let name = asset["name"] as? String, let mark = (context["markPx"] as? String).flatMap({ Amount($0) }) {
                marks[name] = mark
            }
        }
        return marks
    }

    /// The account's non-zero positions, by coin.
    func heldPositions(_ system: RunningSystem) async throws -> [String: Amount] {
        let user = try system.paperWallet().address.lowercased
        let state = try #require(try await info(system, ["type": "clearinghouseState", "user": user]) as? [String: Any])
        var positions: [String: Amount] = [:]
        for entry in try #require(state["assetPositions"] as? [[String: Any]]) {
            guard let position = entry["position"] as? [String: Any], let coin = position["coin"] as? String,
                let size = (position["szi"] as? String).flatMap({ Amount($0) }), !size.isZero
            else { continue }
            positions[coin] = size
        }
        return positions
    }

    /// An `/info` request from a loopback address of its own (127.0.0.2…41 in turn): exchange-sim
    /// limits weight per IP like the exchange, and polling every 200 ms from 127.0.0.1 would take
    /// the executor's budget (and be refused).
    func info(_ system: RunningSystem, _ body: [String: Any]) async throws -> Any {
        let source = Self.nextSource.withLock { next -> Int in
            next = next % 40 + 1
            return next + 1
        }
        let result = try await runProcess(
            URL(fileURLWithPath: "/usr/bin/curl"),
            [
                "-sS", "--max-time", "5", "--interface", "127.0.0.\(source)", "-H", "Content-Type: application/json",
                "-d", String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self),
                system.exchangeURL + "/info",
            ])
        let data = result.output
        guard result.status == 0, let answer = try? JSONSerialization.jsonObject(with: data) else {
            throw HarnessError(description: "info \(body): \(String(decoding: data, as: UTF8.self))")
        }
        return answer
    }

    static let nextSource = Mutex(0)

    /// Pins a coin's mark on the exchange (its triggers follow), or releases it (`px` nil).
    func pinMark(_ system: RunningSystem, coin: String, px: String?) async throws {
        var request = URLRequest(url: URL(string: system.exchangeURL + "/admin/mark")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(RunningSystem.simToken)", forHTTPHeaderField: "Authorization")
        request.httpBody = Data(#"{"coin": "\#(coin)", "px": \#(px.map { "\"\($0)\"" } ?? "null")}"#.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            throw HarnessError(description: "mark \(coin) \(px ?? "release"): \(status) \(String(decoding: data, as: UTF8.self))")
        }
    }
}
