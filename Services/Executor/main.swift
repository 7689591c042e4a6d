import Bus
import Foundation
import Ledger
import Logging
import Metrics
import Schema
import ServiceKit
import ServiceLifecycle
import Storage

struct ExecutorConfig: Sendable {
    var ledgerPath: String
    var startingCapital: Amount
    var venue: PaperVenue.Settings
    var snapshotIntervalMs: Int

    static func read(_ settings: inout Settings) -> ExecutorConfig {
        let symbol = settings.string("feed.symbol", default: "BTC")
        return ExecutorConfig(
            ledgerPath: settings.dataPath("executor.ledger", file: "ledger.db"),
            startingCapital: settings.amount("account.startingCapital", default: 10_000, minimum: 1),
            venue: .init(
                instrument: Instrument(symbol: symbol, szDecimals: settings.int("feed.szDecimals", default: 5, in: 0...8)),
                feeRate: settings.amount("executor.paper.feeRate", default: "0.00035"),
                slippageBps: settings.amount("executor.paper.slippageBps", default: 1)),
            snapshotIntervalMs: settings.int("executor.snapshotIntervalMs", default: 1_000, in: 50...60_000))
    }
}

/// The executor's state, owned by its one loop.
struct Desk {
    var ledger: FifoLedger
    var venue: PaperVenue
    var marks: [String: Amount] = [:]

    func snapshot(now: EpochNanos) -> AccountSnapshot? {
        try? ledger.snapshot(asOf: now, marks: marks, openOrders: venue.openOrders)
    }
}

await ServiceMain.run(.executor, readConfig: ExecutorConfig.read) { runtime, config in
    try FileManager.default.createDirectory(
        atPath: (config.ledgerPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let store = try LedgerStore(path: config.ledgerPath)

    // Rebuild from the ledger: fills make the books, live orders go back on the venue.
    var ledger = FifoLedger(startingCapital: config.startingCapital)
    let recorded = try store.fills()
    for fill in recorded { try ledger.apply(fill) }
    var venue = PaperVenue(settings: config.venue)
    let live = try store.liveOrders()
    for order in live { venue.accept(order.command, traceId: runtime.newIdentifier()) }
    // The bus loop, the snapshot timer and `/status` all read the desk.
    let desk = Locked(Desk(ledger: ledger, venue: venue))
    runtime.logger.notice(
        "ledger loaded", metadata: ["fills": "\(recorded.count)", "liveOrders": "\(live.count)"])

    let fillsCounter = Counter(label: "breakwater_fills_total", factory: runtime.metrics)
    let rejects = Counter(label: "breakwater_order_rejects_total", factory: runtime.metrics)
    runtime.status.setFact("ledger", config.ledgerPath)
    runtime.status.addDetail("account") {
        guard let snapshot = desk.withLock({ $0.snapshot(now: runtime.clock.now()) }) else { return [:] }
        return [
            "equity": snapshot.equity.description, "realizedPnl": snapshot.realizedPnl.description,
            "fees": snapshot.fees.description, "positions": snapshot.positions.count,
            "openOrders": snapshot.openOrders.count,
        ]
    }

    @Sendable func publishSnapshot() {
        if let snapshot = desk.withLock({ $0.snapshot(now: runtime.clock.now()) }) {
            runtime.publish(snapshot, traceId: runtime.newIdentifier())
        }
    }

    func reject(_ command: OrderCommand, _ reason: Reason, traceId: String) {
        rejects.increment()
        runtime.logger.warning("order rejected", metadata: ["cloid": "\(command.clientOrderId)", "reason": "\(reason)"])
        runtime.publish(
            OrderReject(clientOrderId: command.clientOrderId, symbol: command.symbol ?? "", reason: reason),
            traceId: traceId)
    }

    func handle(_ command: OrderCommand, traceId: String) {
        let now = runtime.clock.now()
        switch command.action {
        case .place:
            guard command.symbol == config.venue.instrument.symbol, command.size.isPositive else {
                reject(command, Reason(.invalidIntent, "unknown symbol or non-positive size"), traceId: traceId)
                return
            }
            do {
                // The ledger refuses a client order id it has seen: an order is never placed twice.
                try store.recordOrder(command, at: now)
                try store.setStatus(command.clientOrderId, .acked, venueOrderId: command.clientOrderId, at: now)
            } catch let error as LedgerStore.StoreError {
                reject(command, Reason(.duplicateIntent, "\(error)"), traceId: traceId)
                return
            } catch {
                runtime.status.setDegraded("ledger", "\(error)")
                reject(command, Reason(.ledgerWriteFailed, "\(error)"), traceId: traceId)
                return
            }
            desk.withLock { $0.venue.accept(command, traceId: traceId) }
            runtime.publish(
                OrderAck(
                    clientOrderId: command.clientOrderId, venueOrderId: command.clientOrderId,
                    symbol: command.symbol ?? "", action: .place),
                traceId: traceId)
        case .cancel:
            let removed = desk.withLock { $0.venue.cancel(command.clientOrderId) }
            guard removed else {
                reject(command, Reason(.venueRejected, "order is not resting"), traceId: traceId)
                return
            }
            try? store.setStatus(command.clientOrderId, .canceled, at: now)
            runtime.publish(
                OrderCanceled(
                    clientOrderId: command.clientOrderId, symbol: command.symbol ?? "",
                    reason: Reason("canceled_by_request")),
                traceId: traceId)
        case .modify:
            reject(command, Reason(.venueRejected, "the paper venue fills at the next bar; nothing to modify"), traceId: traceId)
        }
    }

    func handle(_ bar: Bar) {
        let fills = desk.withLock { desk -> [(fill: Fill, traceId: String)] in
            desk.marks[bar.symbol ?? ""] = bar.close
            return desk.venue.fills(on: bar)
        }
        for (fill, traceId) in fills {
            do {
                // Written before published: a fill on the bus is always in the ledger.
                try store.recordFill(fill)
            } catch {
                runtime.status.setDegraded("ledger", "\(error)")
                runtime.logger.critical("fill not recorded; it stays pending", metadata: ["fill": "\(fill.fillId)", "error": "\(error)"])
                runtime.publish(
                    Alert(severity: .critical, code: "ledger_write_failed", message: "\(error)", service: runtime.name.rawValue, symbol: fill.symbol),
                    traceId: traceId)
                continue
            }
            runtime.status.setDegraded("ledger", nil)
            desk.withLock {
                $0.venue.confirm(fill)
                _ = try? $0.ledger.apply(fill)
            }
            runtime.publish(fill, traceId: traceId)
            fillsCounter.increment()
        }
        if !fills.isEmpty { publishSnapshot() }
    }

    let stream = try runtime.subscribe(to: [.riskGate, .feedHandler], topics: ["order.", "md.bar."])
    let snapshots = Task {
        while !Task.isCancelled {
            publishSnapshot()
            try await Task.sleep(for: .milliseconds(config.snapshotIntervalMs))
        }
    }
    defer { snapshots.cancel() }
    runtime.status.setReady()
    for await event in stream.cancelOnGracefulShutdown() {
        guard case .envelope(let raw) = event else { continue }
        do {
            switch raw.messageType {
            case .orderCommand: handle(try raw.decode(OrderCommand.self), traceId: raw.header.traceId)
            case .bar: handle(try raw.decode(Bar.self))
            default: continue
            }
        } catch {
            runtime.logger.warning(
                "skipped a message that does not decode", metadata: ["type": "\(raw.header.type)", "error": "\(error)"])
        }
    }
}
