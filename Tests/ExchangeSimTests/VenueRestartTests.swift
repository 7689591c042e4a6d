import Foundation
import Hyperliquid
import Schema
import Testing
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The exchange-sim binary with `--state`, killed with SIGKILL and started again on the same file:
/// the venue answers as it did before (accounts, positions, open and trigger orders, fills).
@Suite(.serialized) struct VenueRestartTests {
    static var binary: URL { Repository.binaries.appendingPathComponent("exchange-sim") }
    static let trader = try! Wallet(privateKeyHex: String(repeating: "7b", count: 32))
    static let token = "venue-restart-token"

    /// One exchange-sim process, its output in a file.
    final class Sim: @unchecked Sendable {
        let process = Process()
        let log: URL

        init(port: Int, state: String, directory: TemporaryDirectory, run: Int) throws {
            log = directory.url.appendingPathComponent("exchange-sim-\(run).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.executableURL = VenueRestartTests.binary
            process.arguments = [
                "--port", "\(port)", "--fund", "\(VenueRestartTests.trader.address.lowercased)=100000", "--market", "synthetic",
                "--seed", "7", "--admin-token", VenueRestartTests.token, "--state", state, "--log-level", "warning",
            ]
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            try? handle.close()
        }

        var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

        func waitUntilListening() async throws {
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline, process.isRunning {
                if output.contains("listening on http://") { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw TestFailure("exchange-sim did not start:\n\(output)")
        }

        func kill(_ signal: Int32) {
            guard process.isRunning else { return }
            Foundation.kill(process.processIdentifier, signal)
            process.waitUntilExit()
        }

        deinit { kill(SIGKILL) }
    }

    static func post(_ base: String, _ path: String, _ body: String, token: String? = nil) async throws -> (Int, Data) {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    /// The venue's answers about the trader, as raw JSON (clearinghouseState without its `time`).
    static func views(_ base: String) async throws -> [String: String] {
        let user = trader.address.lowercased
        var out: [String: String] = [:]
        let requests = [
            "clearinghouseState": "{\"type\":\"clearinghouseState\",\"user\":\"\(user)\"}",
            "openOrders": "{\"type\":\"openOrders\",\"user\":\"\(user)\"}",
            "frontendOpenOrders": "{\"type\":\"frontendOpenOrders\",\"user\":\"\(user)\"}",
            "userFills": "{\"type\":\"userFills\",\"user\":\"\(user)\"}",
            "userFillsByTime": "{\"type\":\"userFillsByTime\",\"user\":\"\(user)\",\"startTime\":0}",
            "historicalOrders": "{\"type\":\"historicalOrders\",\"user\":\"\(user)\"}",
            "userRateLimit": "{\"type\":\"userRateLimit\",\"user\":\"\(user)\"}",
        ]
        for (name, body) in requests {
            let (status, data) = try await post(base, "/info", body)
            guard status == 200 else { throw TestFailure("\(name): HTTP \(status)") }
            var text = String(decoding: data, as: UTF8.self)
            if name == "clearinghouseState", let range = text.range(of: #""time":[0-9]+"#, options: .regularExpression) {
                text.replaceSubrange(range, with: "\"time\":0")
            }
            out[name] = text
        }
        return out
    }

    /// Pins both marks (the market is not kept across a restart: with the same marks the account
    /// figures must be the same).
    static func pinMarks(_ base: String, btc: Amount, eth: Amount) async throws {
        for (coin, px) in [("BTC", btc), ("ETH", eth)] {
            let (status, data) = try await post(
                base, "/admin/mark", "{\"coin\":\"\(coin)\",\"px\":\"\(px)\"}", token: token)
            guard status == 200 else { throw TestFailure("mark \(coin): \(String(decoding: data, as: UTF8.self))") }
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func aKilledSimulatorComesBackWithItsVenue() async throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.binary.path),
            "exchange-sim is not built at \(Self.binary.path) (swift build, or set BREAKWATER_BIN_DIR)")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let state = directory.path("var/exchange-sim/venue.sqlite")
        let port = freePorts(1)[0]
        let base = "http://127.0.0.1:\(port)"

        let first = try Sim(port: port, state: state, directory: directory, run: 1)
        try await first.waitUntilListening()
        #expect(first.output.contains("new venue in \(state)"), "\(first.output)")
        let client = HyperliquidClient(configuration: .init(endpoint: .paper(baseURL: base)), wallet: Self.trader)
        do {
            var book = try await client.l2Book(coin: "BTC")
            let deadline = ContinuousClock.now + .seconds(20)
            while book.bids.isEmpty || book.asks.isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                book = try await client.l2Book(coin: "BTC")
            }
            let bid = try #require(book.bids.first?.price)
            let ask = try #require(book.asks.first?.price)
            let eth = try await client.l2Book(coin: "ETH")
            let ethAsk = try #require(eth.asks.first?.price)
            let ethBid = try #require(eth.bids.first?.price)

            // A long taken at the ask, a stop under it, resting orders far from the market (one with a
            // cloid), an isolated ETH long at 5×.
            let entry = try await client.order(.limit("BTC", isBuy: true, size: "0.01", price: ask * "1.01", tif: .ioc))
            guard case .filled = entry else { throw TestFailure("entry: \(entry)") }
            let cloid = Cloid(UInt128(0xBEEF))
            let restingBid = try await client.order(.limit("BTC", isBuy: true, size: "0.01", price: bid * "0.8", cloid: cloid))
            let restingAsk = try await client.order(.limit("BTC", isBuy: false, size: "0.02", price: ask * "1.3"))
            let stop = try await client.order(
                .trigger("BTC", isBuy: false, size: "0.01", limitPrice: bid * "0.6", triggerPrice: bid * "0.7",
                    isMarket: true, tpsl: .sl))
            #expect(restingBid.oid != nil && restingAsk.oid != nil && stop.oid != nil, "\(restingBid) \(restingAsk) \(stop)")
            try await client.updateLeverage(coin: "ETH", leverage: 5, isCross: false)
            let ethEntry = try await client.order(.limit("ETH", isBuy: true, size: "0.1", price: ethAsk * "1.01", tif: .ioc))
            guard case .filled = ethEntry else { throw TestFailure("ETH entry: \(ethEntry)") }

            try await Self.pinMarks(base, btc: bid, eth: ethBid)
            let before = try await Self.views(base)
            #expect(before["openOrders"]?.contains("\(cloid.rawValue)") == true)

            first.kill(SIGKILL)
            #expect(first.process.terminationReason == .uncaughtSignal)

            let second = try Sim(port: port, state: state, directory: directory, run: 2)
            try await second.waitUntilListening()
            #expect(second.output.contains("venue restored from \(state) (1 accounts, 3 open orders, "), "\(second.output)")
            try await Self.pinMarks(base, btc: bid, eth: ethBid)
            let after = try await Self.views(base)
            for key in before.keys.sorted() {
                #expect(before[key] == after[key], "\(key) after the restart")
            }
            let position = try await client.clearinghouseState(user: Self.trader.address).assetPositions
                .first { $0.coin == "BTC" }?.szi
            #expect(position == "0.01")

            // The restarted venue goes on: the cloid still names its order, and new oids are new.
            let canceled = try await client.cancelByCloid(coin: "BTC", cloid: cloid)
            #expect(canceled == .success, "\(canceled)")
            let next = try await client.order(.limit("BTC", isBuy: true, size: "0.01", price: bid * "0.8"))
            #expect((next.oid ?? 0) > (stop.oid ?? .max), "\(next)")
            second.kill(SIGTERM)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    @Test func aStateFileThatDoesNotReadBackStopsTheStart() async throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.binary.path),
            "exchange-sim is not built at \(Self.binary.path) (swift build, or set BREAKWATER_BIN_DIR)")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let state = try directory.write("venue.sqlite", String(repeating: "this is no venue ", count: 300))
        let result = try await runProcess(Self.binary, ["--state", state, "--market", "synthetic", "--check-config"])
        #expect(result.status == 2)
        #expect(result.errorText.contains("exchange-sim: venue state \(state): venue state file cannot be opened"), "\(result.errorText)")
        #expect(!result.outputText.contains("configuration OK"))
    }
}
