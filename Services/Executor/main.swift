import Bus
import Execution
import Foundation
import Hyperliquid
import Ledger
import Logging
import Metrics
import Resilience
import Risk
import Schema
import ServiceKit
import ServiceLifecycle
import Storage

struct ExecutorConfig: Sendable {
    var ledgerPath: String
    var startingCapital: Amount
    var symbols: [String]
    var exchange: ExchangeSettings
    var endpoint: HyperliquidEndpoint
    /// Nil only when the config has problems (the service then refuses to start).
    var wallet: Wallet?
    var account: Address
    var routing: OrderRouting
    var client: HyperliquidClient<ContinuousClock>.Configuration
    var snapshotIntervalMs: Int
    var deadManSeconds: Int
    var batchMax: Int
    var batchWindowMs: Int
    var pollMs: Int
    var joinGraceMs: Int
    var reconcileSeconds: Int
    /// Free space kept on the ledger's volume for fills: below it no new exposure is sent.
    var ledgerReserveBytes: Int64
    var quotes: QuoteDriver.Configuration
    var margin: MarginRules

    static func read(_ settings: inout Settings) -> ExecutorConfig {
        let exchange = ExchangeSettings.read(&settings, needsKey: true)
        let endpoint = HyperliquidEndpoint(mode: exchange.mode, paperURL: exchange.paperURL)
        var wallet: Wallet?
        if let key = exchange.privateKey {
            // The error names the source, never the key.
            do { wallet = try Wallet(privateKeyHex: key.value) } catch {
                settings.problem("the exchange key from \(exchange.keySource ?? "config") is not a valid secp256k1 private key")
            }
        }
        var account = wallet?.address ?? .zero
        if let text = exchange.account {
            do { account = try Address(hex: text) } catch { settings.problem("exchange.account: \(text) is not an address") }
        }
        let breaker = CircuitBreakerConfiguration.hyperliquid(
            window: settings.int("exchange.breaker.window", default: 10, in: 1...1_000),
            minimumCalls: settings.int("exchange.breaker.minimumCalls", default: 4, in: 1...1_000),
            slowCall: .milliseconds(settings.int("exchange.breaker.slowCallMs", default: 3_000, in: 1...600_000)),
            openFor: .milliseconds(settings.int("exchange.breaker.openMs", default: 5_000, in: 100...600_000)),
            trialCalls: settings.int("exchange.breaker.trialCalls", default: 2, in: 1...100))
        let deadline = Duration.milliseconds(settings.int("exchange.deadlineMs", default: 3_000, in: 50...60_000))
        let symbols = Symbols.read(&settings)
        let client = HyperliquidClient<ContinuousClock>.Configuration(
            endpoint: endpoint, readTimeout: deadline + .seconds(1), requestTimeout: deadline + .seconds(2),
            infoPolicy: .hyperliquidInfo(deadline: deadline, breaker: breaker, attempts: 2),
            exchangePolicy: .hyperliquidExchange(deadline: deadline, breaker: breaker),
            rateLimitMode: .wait(maximum: .seconds(settings.int("exchange.rateLimitWaitSeconds", default: 5, in: 0...60))))
        return ExecutorConfig(
            ledgerPath: settings.dataPath("executor.ledger", file: "ledger.db"),
            startingCapital: settings.amount("account.startingCapital", default: 10_000, minimum: 1),
            symbols: symbols,
            exchange: exchange, endpoint: endpoint, wallet: wallet, account: account,
            routing: OrderRouting(
                marketSlippage: settings.marketSlippage()),
            client: client,
            snapshotIntervalMs: settings.accountSnapshotIntervalMs(),
            deadManSeconds: settings.int("executor.deadManSeconds", default: 60, in: 10...86_400),
            batchMax: settings.int("executor.batchMax", default: 20, in: 1...40),
            batchWindowMs: settings.int("executor.batchWindowMs", default: 0, in: 0...1_000),
            pollMs: settings.int("executor.pollMs", default: 3_000, in: 100...600_000),
            joinGraceMs: settings.int("executor.joinGraceMs", default: 1_500, in: 0...60_000),
            reconcileSeconds: settings.int("executor.reconcileSeconds", default: 30, in: 1...86_400),
            ledgerReserveBytes: Int64(settings.int("executor.ledgerReserveMB", default: 64, in: 0...1_000_000)) * 1_048_576,
            quotes: QuoteDriver.Configuration.read(&settings), margin: MarginRules.read(&settings, symbols: symbols))
    }
}

/// Work for the order worker, which does one thing at a time: a reconciliation never sees an
/// order half placed. Commands that arrive together go out as one batch.
struct OrderQueue {
    var pending: [(command: OrderCommand, traceId: String)] = []
    /// Why a reconciliation was asked for, if one was.
    var reconciliation: String?

    mutating func take(_ maximum: Int) -> [(command: OrderCommand, traceId: String)] {
        let batch = Array(pending.prefix(maximum))
        pending.removeFirst(batch.count)
        return batch
    }
}

/// Repeats `body` every `interval` until cancelled; the first time at once unless `waitFirst`.
func every(_ interval: Duration, waitFirst: Bool = false, _ body: @escaping @Sendable () async -> Void) -> Task<Void, Never> {
    Task {
        if waitFirst { try? await Task.sleep(for: interval) }
        while !Task.isCancelled {
            await body()
            try? await Task.sleep(for: interval)
        }
    }
}

await ServiceMain.run(.executor, readConfig: ExecutorConfig.read) { runtime, config in
    try FileManager.default.createDirectory(
        atPath: (config.ledgerPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let store = try LedgerStore(path: config.ledgerPath)
    runtime.status.setFact("mode", config.exchange.mode.rawValue)
    runtime.status.setFact("exchange", config.endpoint.description)
    runtime.status.setFact("account", config.account.checksummed)
    runtime.status.setFact("ledger", config.ledgerPath)

    let recovered = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    let client = HyperliquidClient(
        configuration: config.client, wallet: config.wallet, metricsFactory: runtime.metrics,
        logger: runtime.logger
    ) { transition in
        runtime.status.setBreaker(transition.name, transition.to)
        runtime.status.setDegraded(
            transition.name, transition.to == .closed ? nil : "exchange breaker \(transition.to.rawValue)")
        runtime.publish(transition.message(service: runtime.name.rawValue), traceId: runtime.newIdentifier())
        runtime.logger.warning(
            "exchange breaker", metadata: ["dependency": "\(transition.name)", "state": "\(transition.to.rawValue)"])
        if transition.to == .closed { recovered.continuation.yield() }
    }
    for name in [client.infoDependency.name, client.exchangeDependency.name] { runtime.status.setBreaker(name, .closed) }
    let session = try ExchangeSession(runtime: runtime, config: config, client: client, store: store)
    runtime.status.addDetail("account") {
        let (snapshot, desk) = session.desk.withLock { ($0.snapshot(now: runtime.clock.now(), openOrders: []), $0) }
        return [
            "equity": snapshot?.equity.description ?? "no mark yet", "realizedPnl": snapshot?.realizedPnl.description ?? "",
            "fees": snapshot?.fees.description ?? "", "funding": desk.ledger.funding.description,
            "positions": snapshot?.positions.count ?? 0,
            "liveOrders": (try? store.liveOrders()).map { $0.count as Any } ?? "ledger unreadable", "lastReconciliation": desk.lastReconciliation,
            "deadManSwitchUntilMs": desk.deadManUntilMs.map { Int($0) } ?? 0,
            "lastFillSyncMs": desk.lastFillSyncMs.map { Int($0) } ?? 0,
            "lastFundingSyncMs": desk.lastFundingSyncMs.map { Int($0) } ?? 0,
        ]
    }

    // Nothing is accepted before the exchange has answered and the ledger agrees with it. What the
    // reconciliation publishes must reach the risk gate and the recorder: give their subscriptions
    // time to find this new publisher (they retry at most every 500 ms).
    runtime.status.setDegraded("reconciliation", "waiting for the exchange")
    try? await Task.sleep(for: .milliseconds(config.joinGraceMs))
    while !Task.isCancelled && !Task.isShuttingDownGracefully {
        do {
            let assets = try await client.assets(refresh: true)
            let instruments: [String: Instrument]
            do { instruments = try assets.instruments(for: config.symbols) } catch {
                // A symbol the exchange does not list is a configuration error, not an outage.
                runtime.logger.critical("cannot trade the configured symbols", metadata: ["error": "\(error)"])
                throw error
            }
            // The leverage the risk gate's margin checks assume, set on the exchange; a refusal stops the start.
            for symbol in config.symbols {
                let leverage = config.margin.leverage(symbol, maxLeverage: instruments[symbol]?.maxLeverage)
                do {
                    try await client.updateLeverage(
                        coin: symbol, leverage: leverage, isCross: config.margin.mode(symbol) == .cross)
                } catch HyperliquidClientError.exchangeRejected(let message) {
                    runtime.logger.critical(
                        "the exchange refused the leverage", metadata: ["symbol": "\(symbol)", "leverage": "\(leverage)", "error": "\(message)"])
                    throw LeverageRefused(symbol: symbol, leverage: leverage, message: message)
                }
            }
            runtime.status.setFact(
                "leverage",
                config.symbols.map {
                    "\($0) \(config.margin.leverage($0, maxLeverage: instruments[$0]?.maxLeverage))× \(config.margin.mode($0).rawValue)"
                }.joined(separator: ", "))
            try await session.reconcile(why: "start")
            break
        } catch let error as InstrumentError {
            throw error
        } catch let error as LeverageRefused {
            throw error
        } catch {
            runtime.logger.warning("cannot reconcile with the exchange yet", metadata: ["error": "\(error)"])
            runtime.status.setDegraded("reconciliation", "exchange: \(error)")
            try? await Task.sleep(for: .seconds(1))
        }
    }
    // Funding the exchange booked while nobody watched; then every reconciliation period.
    await session.syncFunding(reason: "start")
    await session.refreshDeadMan()

    let quotes = try QuoteDriver(settings: config.quotes, session: session, runtime: runtime)
    session.fillObserver.withLock { $0 = { quotes.filled($0) } }
    session.fundingObserver.withLock { $0 = { quotes.funded($0) } }
    session.markObserver.withLock { $0 = { quotes.marked($0, $1) } }
    runtime.status.addDetail("quotes") { quotes.status() }
    await quotes.pollBudget()

    let queue = Locked(OrderQueue())
    let wake = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    let worker = Task {
        for await _ in wake.stream {
            // Commands that arrive together (an exit and its re-entry, a flatten) go out as one action.
            if config.batchWindowMs > 0 { try? await Task.sleep(for: .milliseconds(config.batchWindowMs)) }
            while true {
                let (batch, reconciliation) = queue.withLock { queue in
                    defer { queue.reconciliation = nil }
                    return (queue.take(config.batchMax), queue.reconciliation)
                }
                if let why = reconciliation { _ = try? await session.reconcile(why: why) }
                if batch.isEmpty {
                    if reconciliation == nil { break } else { continue }
                }
                await session.execute(batch)
            }
            // Quotes after orders: an exit or a cancel never waits behind a ladder.
            for symbol in quotes.due() { await quotes.pass(symbol) }
        }
    }

    let stream = HyperliquidStream(
        configuration: .init(
            url: config.endpoint.webSocketURL,
            subscriptions: [.userFills(user: config.account), .orderUpdates(user: config.account)]),
        snapshots: client, logger: runtime.logger)
    stream.start()
    let streamReader = Task {
        for await event in stream.events {
            switch event {
            case .fills(_, let fills):
                session.recordExchangeFills(fills)
            case .snapshot(.userFills):
                // A (re)connect: fills during the gap come from REST.
                await session.syncFills(reason: "stream snapshot")
            case .orderUpdates(let updates):
                if updates.contains(where: { session.trades($0.order.coin) && $0.status == .filled }) {
                    await session.syncFills(reason: "order update", unlessWithinMs: 2_000)
                }
                for update in updates {
                    await session.orderUpdated(update)
                    if !update.status.isLive { quotes.orderEnded(symbol: update.order.coin) }
                }
            case .disconnected(_, let reason):
                runtime.status.setDegraded("exchange_stream", "userFills stream down: \(reason)")
            case .connected, .reconnected:
                runtime.status.setDegraded("exchange_stream", nil)
            default:
                continue
            }
        }
    }
    let timers = [
        every(.milliseconds(config.snapshotIntervalMs)) { session.publishSnapshot() },
        // A third of the switch's time while healthy; every second while the exchange breaker is
        // not closed, so that it has trial calls to close on even when no order comes. Never while
        // fills cannot be written: then the exchange should cancel what rests.
        every(.seconds(1)) {
            guard runtime.status.degradedReasons["ledger"] == nil else { return }
            let due = session.desk.withLock { $0.deadManRefreshedAt.map { $0.duration(to: .now) } ?? .seconds(86_400) }
            if client.exchangeDependency.breaker.state != .closed || due >= .seconds(config.deadManSeconds) / 3 {
                await session.refreshDeadMan()
            }
        },
        every(.milliseconds(config.pollMs)) { await session.poll() },
        // The ledger's free space: its gauge, and the alert when it runs low, even while no order comes.
        every(.seconds(1)) { _ = session.measureLedgerSpace() },
        // Closes the per-fill refresh deferred (a burst within its interval).
        every(.seconds(1), waitFirst: true) { session.refreshStatistics() },
        every(.milliseconds(config.quotes.budgetPollMs), waitFirst: true) { await quotes.pollBudget() },
        every(.seconds(1)) { quotes.recordRequestBudgets() },
        // Withdrawals, expiries and paced refreshes come due with time, not only with messages.
        every(.milliseconds(100)) { if !quotes.due().isEmpty { wake.continuation.yield() } },
        every(.seconds(config.reconcileSeconds), waitFirst: true) {
            queue.withLock { $0.reconciliation = $0.reconciliation ?? "timer" }
            wake.continuation.yield()
            // Beside the order worker, not on it: a funding sync never delays an order.
            await session.syncFunding(reason: "timer")
        },
    ]
    let afterOutage = Task {
        for await _ in recovered.stream {
            queue.withLock { $0.reconciliation = "exchange recovered" }
            wake.continuation.yield()
        }
    }
    defer {
        for task in timers { task.cancel() }
        worker.cancel()
        streamReader.cancel()
        afterOutage.cancel()
        stream.stop()
    }

    let bus = try runtime.subscribe(
        to: [.riskGate, .feedHandler, .signalGenerator], topics: ["order.", "md.bar.", "md.book.", "intent.quotes."])
    runtime.status.setReady()
    for await event in bus.cancelOnGracefulShutdown() {
        guard case .envelope(let raw) = event else { continue }
        do {
            switch raw.messageType {
            case .orderCommand:
                let command = try raw.decode(OrderCommand.self)
                queue.withLock { $0.pending.append((command, raw.header.traceId)) }
                wake.continuation.yield()
            case .approvedQuotes:
                quotes.approved(try raw.decode(ApprovedQuotes.self))
                wake.continuation.yield()
            case .quoteTarget:
                // Only for the figures (the inventory limit): what may rest comes from the risk gate.
                quotes.targeted(try raw.decode(QuoteTarget.self))
            case .book:
                let book = try raw.decode(BookUpdate.self)
                if let bid = book.bids.first?.price, let ask = book.asks.first?.price {
                    session.updateMark(book.symbol ?? "", (bid + ask) / 2)
                }
            case .bar:
                let bar = try raw.decode(Bar.self)
                session.updateMark(bar.symbol ?? "", bar.close)
            default: continue
            }
        } catch {
            runtime.logger.warning(
                "skipped a message that does not decode", metadata: ["type": "\(raw.header.type)", "error": "\(error)"])
        }
    }
    try? await client.shutdown()
}

/// The exchange refused a symbol's leverage at start: a configuration the venue will not run.
struct LeverageRefused: Error, CustomStringConvertible {
    var symbol: String
    var leverage: Int
    var message: String
    var description: String { "the exchange refused \(leverage)× on \(symbol): \(message)" }
}
