import Bus
import Execution
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hyperliquid
import Logging
import Metrics
import Schema
import Storage
import Synchronization
import Testing
import TestSupport

/// One process started by a test, always killed (SIGKILL: nothing of it must matter).
final class TestProcess: @unchecked Sendable {
    let process = Process()
    let log: URL

    init(_ executable: String, _ arguments: [String], log: URL, environment: [String: String] = [:]) throws {
        self.log = log
        if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.executableURL = Repository.binaries.appendingPathComponent(executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { kill() }
}

/// The executor alone against exchange-sim, with the test standing in for the risk gate on the bus.
final class ExecutorRig: @unchecked Sendable {
    let directory: URL
    let configPath: String
    let wallet: Wallet
    static let keyHex = "0x" + String(repeating: "3c", count: 32)
    let exchangeURL: String
    let riskGateBus: String
    let executorBus: String
    let executorAdmin: String
    let sim: TestProcess
    var executor: TestProcess?
    let context = BusContext()
    let publisher: Publisher
    let received = Mutex<[RawEnvelope]>([])
    private var subscriber: Subscriber?

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("executor-rig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let ports = freePorts(11)
        exchangeURL = "http://127.0.0.1:\(ports[0])"
        let names = ["feedHandler", "signalGenerator", "riskGate", "executor", "traceRecorder"]
        var endpoints: [String: Any] = [:]
        for (index, name) in names.enumerated() {
            endpoints[name] = ["bus": "tcp://127.0.0.1:\(ports[1 + index])", "admin": "127.0.0.1:\(ports[6 + index])"]
        }
        riskGateBus = "tcp://127.0.0.1:\(ports[3])"
        executorBus = "tcp://127.0.0.1:\(ports[4])"
        executorAdmin = "127.0.0.1:\(ports[9])"
        wallet = try Wallet(privateKeyHex: Self.keyHex)
        let keyFile = directory.appendingPathComponent("paper.key").path
        try (Self.keyHex + "\n").write(toFile: keyFile, atomically: true, encoding: .utf8)
        // A keypair per principal, given in config as compose would; the rig holds the risk gate's.
        var pairs: [String: CurveKeyPair] = [:]
        var keys: [String: Any] = [:]
        for (name, configKey) in [
            ("feed-handler", "feedHandler"), ("signal-generator", "signalGenerator"), ("risk-gate", "riskGate"),
            ("executor", "executor"), ("trace-recorder", "traceRecorder"),
        ] {
            let pair = try CurveKeyPair.generate()
            pairs[name] = pair
            keys[configKey] = ["public": pair.publicKey, "secret": pair.secretKey]
        }
        let keyring = try BusKeyring(
            publicKeys: pairs.mapValues(\.publicKey), publishers: Set(pairs.keys))
        let security = BusSecurity(
            keyring: keyring, principal: "risk-gate", keyPair: pairs["risk-gate"]!,
            rejections: BusRejections(factory: NOOPMetricsHandler.instance, logger: Logger(label: "rig")))
        let config: [String: Any] = [
            "varDir": directory.appendingPathComponent("var").path,
            "bus": ["keys": keys],
            "endpoints": endpoints,
            "exchange": ["url": exchangeURL, "keyFile": keyFile],
            "executor": ["pollMs": 500, "deadManSeconds": 30, "batchWindowMs": 50],
        ]
        configPath = directory.appendingPathComponent("config.json").path
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))

        sim = try TestProcess(
            "exchange-sim",
            ["--port", "\(ports[0])", "--market", "synthetic", "--seed", "11", "--candle-seconds", "1",
             "--fund", "\(wallet.address.lowercased)=100000", "--log-level", "warning"],
            log: directory.appendingPathComponent("exchange-sim.log"))
        publisher = try Publisher(
            context: context, endpoint: riskGateBus, identity: PublisherIdentity(service: "risk-gate", instance: "rig"),
            security: security, counters: BusCounters(factory: NOOPMetricsHandler.instance, role: "rig"),
            clock: { EpochNanos(Date().timeIntervalSince1970 * 1e9) }, logger: Logger(label: "rig"))
        subscriber = try Subscriber(
            context: context, peers: [BusPeer(endpoint: executorBus, service: "executor")], security: security,
            counters: BusCounters(factory: NOOPMetricsHandler.instance, role: "rig"),
            logger: Logger(label: "rig")
        ) { [weak self] event in
            if case .envelope(let raw) = event { self?.received.withLock { $0.append(raw) } }
        }
        try await waitFor("exchange-sim to listen", timeout: .seconds(60)) { self.sim.output.contains("listening on") }
    }

    var ledgerPath: String { directory.appendingPathComponent("var/ledger.db").path }

    func startExecutor() throws {
        executor = try TestProcess(
            "executor", ["--config", configPath], log: directory.appendingPathComponent("executor.log"))
    }

    /// Ready: reconciled with the exchange and taking orders.
    func waitExecutorReady() async throws {
        try await waitFor("the executor to be ready", timeout: .seconds(60)) {
            guard let url = URL(string: "http://\(self.executorAdmin)/health/ready"),
                let (_, response) = try? await URLSession.shared.data(from: url)
            else { return false }
            return (response as? HTTPURLResponse)?.statusCode == 200
        }
    }

    func client() -> HyperliquidClient<ContinuousClock> {
        HyperliquidClient(configuration: .init(endpoint: .paper(baseURL: exchangeURL)), wallet: wallet)
    }

    func messages<M: BusMessage>(_ type: M.Type) -> [M] {
        received.withLock { $0 }.filter { $0.messageType == M.messageType }.compactMap { try? $0.decode(M.self) }
    }

    func waitFor(_ what: String, timeout: Duration, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError(
            description: "timed out waiting for \(what)\n--- executor\n\(executor?.output.suffix(3_000) ?? "")\n--- sim\n\(sim.output.suffix(1_000))")
    }

    func stop() {
        executor?.kill()
        sim.kill()
        subscriber?.close()
        publisher.close()
        context.terminate()
    }
}

func limitBuy(_ intent: String, price: Amount, size: Amount = "0.001") -> OrderCommand {
    OrderCommand(
        action: .place, clientOrderId: Identifier.clientOrderId(forIntent: intent), intentId: intent, symbol: "BTC",
        side: .buy, size: size, orderType: .limit, price: price, timeInForce: .gtc, reduceOnly: false, purpose: .entry,
        strategy: "rig", ackDeadline: EpochNanos(Date().timeIntervalSince1970 * 1e9) + 10_000_000_000)
}

extension SystemTests {
    @Test("executor SIGKILLed with resting orders: on restart the ledger matches the exchange, no duplicate, no orphan")
    func restartReconciles() async throws {
        let rig = try await ExecutorRig()
        defer { rig.stop() }
        try rig.startExecutor()
        try await rig.waitExecutorReady()
        let client = rig.client()
        defer { Task { try? await client.shutdown() } }
        try await Task.sleep(for: .seconds(1))  // the subscription to the rig's publisher settles

        // Three resting buys far under the market.
        let mid = try #require(try await client.allMids()["BTC"])
        let price = Instrument(symbol: "BTC", szDecimals: 5).roundPrice(mid * Amount("0.8"), .down)
        let orders = (1...3).map { limitBuy("rest-\($0)-\(UUID())", price: price) }
        for order in orders { _ = try rig.publisher.publish(order, traceId: "trace-\(order.intentId)") }
        try await rig.waitFor("three acks", timeout: .seconds(20)) { rig.messages(OrderAck.self).count == 3 }
        var open = try await client.openOrders(user: rig.wallet.address)
        #expect(Set(open.compactMap(\.cloid?.rawValue)) == Set(orders.map(\.clientOrderId)))
        // Published together, they went out as one signed action.
        let metrics = String(
            decoding: try await URLSession.shared.data(from: URL(string: "http://\(rig.executorAdmin)/metrics")!).0, as: UTF8.self)
        #expect(metrics.contains("breakwater_order_actions_total 1\n"), "\(metrics.split(separator: "\n").filter { $0.contains("order") })")
        #expect(metrics.contains("breakwater_orders_sent_total 3\n"))

        // The executor dies. While it is down: one order filled (moved through the market, same
        // cloid), one canceled on the exchange, and one order appears that nobody here placed.
        rig.executor?.kill()
        let filled = orders[0]
        let canceled = orders[1]
        let resting = orders[2]
        let filledCloid = try OrderRouting.cloid(filled.clientOrderId)
        let target = try #require(open.first { $0.cloid == filledCloid })
        let crossing = Instrument(symbol: "BTC", szDecimals: 5).roundPrice(mid * Amount("1.05"), .up)
        try await client.modify(
            ModifyRequest(target: .oid(target.oid), order: .limit("BTC", isBuy: true, size: filled.size, price: crossing, tif: .gtc, cloid: filledCloid)))
        let cancelStatus = try await client.cancelByCloid(coin: "BTC", cloid: try OrderRouting.cloid(canceled.clientOrderId))
        #expect(cancelStatus.errorMessage == nil)
        let stray = try await client.order(.limit("BTC", isBuy: true, size: "0.001", price: price, cloid: Cloid(UInt128(42))))
        #expect(stray.oid != nil)
        let fillsOnExchange = try await client.userFills(user: rig.wallet.address)
        #expect(fillsOnExchange.filter { $0.cloid == filledCloid }.count >= 1)

        // Restarted, it reconciles before it takes orders.
        let before = rig.received.withLock { $0.count }
        try rig.startExecutor()
        try await rig.waitExecutorReady()
        let afterRestart = { rig.received.withLock { Array($0.dropFirst(before)) } }

        // The fill made while it was down is in the ledger and on the bus, once.
        let ledger = try LedgerStore(path: rig.ledgerPath)
        let ledgerFills = try ledger.fills()
        #expect(ledgerFills.map(\.clientOrderId) == [filled.clientOrderId])
        #expect(Set(ledgerFills.map(\.fillId)) == Set(fillsOnExchange.filter { $0.cloid == filledCloid }.map(FillMapping.fillId)))
        let publishedFills = afterRestart().filter { $0.messageType == .fill }.compactMap { try? $0.decode(Fill.self) }
        #expect(publishedFills.map(\.fillId) == ledgerFills.map(\.fillId))
        #expect(try ledger.order(filled.clientOrderId)?.status == .filled)
        // The one canceled on the exchange ended in the ledger too, and the bus was told.
        #expect(try ledger.order(canceled.clientOrderId)?.status == .canceled)
        let cancels = afterRestart().filter { $0.messageType == .orderCanceled }.compactMap { try? $0.decode(OrderCanceled.self) }
        #expect(cancels.map(\.clientOrderId) == [canceled.clientOrderId])
        // Exactly our one live order is left on the exchange: the stray was canceled, nothing doubled.
        open = try await client.openOrders(user: rig.wallet.address)
        #expect(open.compactMap(\.cloid?.rawValue) == [resting.clientOrderId], "\(open)")
        #expect(try ledger.liveOrders().map(\.command.clientOrderId) == [resting.clientOrderId])
        // The ledger's position is the exchange's.
        let state = try await client.clearinghouseState(user: rig.wallet.address)
        #expect(state.position("BTC")?.szi == filled.size)

        // The same command again (a replayed bus message) is refused, not placed twice.
        _ = try rig.publisher.publish(resting, traceId: "replayed")
        try await rig.waitFor("the duplicate's reject", timeout: .seconds(10)) {
            rig.messages(OrderReject.self).contains { $0.clientOrderId == resting.clientOrderId }
        }
        #expect(rig.messages(OrderReject.self).first { $0.clientOrderId == resting.clientOrderId }?.reason.code == .duplicateIntent)
        open = try await client.openOrders(user: rig.wallet.address)
        #expect(open.count == 1)

        // The dead man's switch is armed.
        let status = try #require(
            try JSONSerialization.jsonObject(
                with: try await URLSession.shared.data(from: URL(string: "http://\(rig.executorAdmin)/status")!).0)
                as? [String: Any])
        let account = try #require(status["account"] as? [String: Any])
        #expect((account["deadManSwitchUntilMs"] as? Int ?? 0) > Int(Date().timeIntervalSince1970 * 1000))
        #expect(!(String(data: try JSONSerialization.data(withJSONObject: status), encoding: .utf8) ?? "").contains(
            String(ExecutorRig.keyHex.dropFirst(2))), "the key must never appear in /status")
    }
}
