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

/// The paper exchange of a running system, as the tests inspect and disturb it.
extension RunningSystem {
    var exchangeURL: String { "http://127.0.0.1:\(exchangePort)" }

    /// The key `breakwater up` made for this system (the tests may read it; nothing else prints it).
    func paperWallet() throws -> Wallet { try Wallet(privateKeyHex: paperKey()) }

    /// The private key's hex digits, to look for where they must never be.
    func paperKeyDigits() throws -> String { String(try paperKey().dropFirst(2)) }

    private func paperKey() throws -> String {
        try String(contentsOf: varDirectory.appendingPathComponent("paper.key"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A read-only client of the system's exchange-sim.
    func exchangeClient() -> HyperliquidClient<ContinuousClock> {
        HyperliquidClient(configuration: .init(endpoint: .paper(baseURL: exchangeURL)))
    }

    /// exchange-sim's fault injection: POST a JSON body, or DELETE (`body` nil) to clear every fault.
    func simFaults(_ body: String?) async throws {
        var request = URLRequest(url: URL(string: exchangeURL + "/admin/faults")!)
        request.httpMethod = body == nil ? "DELETE" : "POST"
        request.httpBody = body.map { Data($0.utf8) }
        request.setValue("Bearer \(Self.simToken)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            throw HarnessError(description: "faults \(body ?? "clear"): \(status) \(String(decoding: data, as: UTF8.self))")
        }
    }

    /// Runs `script` (written into the system's directory as `name`) with `python` — the official SDK's
    /// view of exchange-sim — and returns the JSON object it prints.
    func runPython(_ python: URL, script: String, named name: String, arguments: [String]) async throws -> [String: Any] {
        let file = directory.appendingPathComponent(name)
        try Data(script.utf8).write(to: file)
        let result = try await runProcess(python, [file.path] + arguments)
        try #require(result.status == 0, "python failed: \(result.errorText)")
        return try #require(try JSONSerialization.jsonObject(with: result.output) as? [String: Any])
    }

    /// exchange-sim's `/admin/status`: accounts, open orders, rate-limit refusals.
    func simStatus() async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: exchangeURL + "/admin/status")!)
        request.setValue("Bearer \(Self.simToken)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200,
            let document = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { throw HarnessError(description: "exchange-sim status: \(String(decoding: data, as: UTF8.self))") }
        return document
    }

    /// The ledger against the exchange: the same fills (by id) and the same position in every symbol.
    func expectLedgerMatchesExchange(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let client = exchangeClient()
        defer { Task { try? await client.shutdown() } }
        let account = try paperWallet().address
        let exchangeFills = try await client.userFills(user: account)
        let ledger = try LedgerStore(path: ledgerDatabase)
        let ledgerFills = try ledger.fills()
        #expect(
            Set(exchangeFills.map(FillMapping.fillId)) == Set(ledgerFills.map(\.fillId)),
            "the exchange's fills are the ledger's", sourceLocation: sourceLocation)
        var positions: [String: Amount] = [:]
        for fill in ledgerFills { positions[fill.symbol ?? "", default: .zero] += fill.side == .buy ? fill.size : -fill.size }
        let state = try await client.clearinghouseState(user: account)
        var exchange: [String: Amount] = [:]
        for position in state.assetPositions where !position.szi.isZero { exchange[position.coin] = position.szi }
        #expect(
            exchange == positions.filter { !$0.value.isZero }, "the exchange's positions are the ledger's",
            sourceLocation: sourceLocation)
    }

    /// The account's non-zero positions on the exchange, by coin.
    func exchangePositions() async throws -> [String: Amount] {
        let client = exchangeClient()
        defer { Task { try? await client.shutdown() } }
        let state = try await client.clearinghouseState(user: try paperWallet().address)
        var positions: [String: Amount] = [:]
        for position in state.assetPositions where !position.szi.isZero { positions[position.coin] = position.szi }
        return positions
    }
}

/// The real candles the simulator plays, rounded to the exchange's price rules as it rounds them.
func candlePrices(from: String, count: Int) throws -> [(open: Amount, close: Amount)] {
    let btc = Instrument(symbol: "BTC", szDecimals: 5)
    let text = try String(contentsOf: Repository.candles, encoding: .utf8)
    return text.split(separator: "\n").dropFirst().compactMap { line -> (String, Amount, Amount)? in
        let fields = line.split(separator: ",")
        guard fields.count == 6, let open = Amount(String(fields[1])), let close = Amount(String(fields[4])) else {
            return nil
        }
        return (String(fields[0].prefix(19)), open, close)
    }
    .filter { $0.0 >= from }.prefix(count).map { (btc.roundPrice($0.1, .down), btc.roundPrice($0.2, .down)) }
}
