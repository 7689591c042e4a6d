import Backtest
import Foundation
import Market
import Testing
import TestSupport

@Suite("Capture checks: a bad line of a recorded capture is reported with its line and never played")
struct CaptureCheckTests {
    static let header = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"

    static func trade(_ micros: Int64, id: Int64, price: String = "9682") -> String {
        "binance-futures,BTCUSDT,\(micros),\(micros + 300),\(id),buy,\(price),0.132"
    }

    static func book(_ ns: Int64, bid: String, ask: String) -> String {
        "\(ns) {\"channel\":\"l2Book\",\"data\":{\"coin\":\"BTC\",\"levels\":[[{\"n\":1,\"px\":\"\(bid)\",\"sz\":\"1\"}],"
            + "[{\"n\":1,\"px\":\"\(ask)\",\"sz\":\"1\"}]],\"time\":\(ns / 1_000_000)}}"
    }

    @Test("trades: an out-of-order row stops at its line, or is left out and counted; a hole in the ids is reported and kept")
    func trades() throws {
        let rows = [Self.header, Self.trade(1_000, id: 1), Self.trade(2_000, id: 2), Self.trade(1_500, id: 3), Self.trade(3_000, id: 5)]
        let text = rows.joined(separator: "\n")
        #expect(throws: DataProblem(file: "t.csv", line: 4, kind: .outOfOrder, detail: "time 1500 µs after 2000 µs")) {
            _ = try CaptureCheck.binanceTrades(text, file: "t.csv", policy: .stop)
        }
        let checked = try CaptureCheck.binanceTrades(text, file: "t.csv", policy: .skip)
        #expect(checked.skipped.map(\.line) == [4, 5])
        #expect(checked.skipped.map(\.kind) == [.outOfOrder, .gap])
        #expect(checked.text.split(separator: "\n").count == 4)  // the header, ids 1, 2 and 5
        #expect(!checked.text.contains(",1500,"))
    }

    @Test("Hyperliquid: a crossed book and a receive time going back are found at their lines")
    func hyperliquid() throws {
        let lines = [
            Self.book(1_000_000_000, bid: "100", ask: "101"), Self.book(2_000_000_000, bid: "102", ask: "101"),
            Self.book(500_000_000, bid: "100", ask: "101"), "garbage",
        ]
        let text = lines.joined(separator: "\n")
        #expect(throws: DataProblem.self) { _ = try CaptureCheck.hyperliquid(text, file: "h.ndjson", policy: .stop) }
        let checked = try CaptureCheck.hyperliquid(text, file: "h.ndjson", policy: .skip)
        #expect(checked.skipped.map(\.kind) == [.crossedBook, .outOfOrder, .malformed])
        #expect(checked.skipped.map(\.line) == [2, 3, 4])
        #expect(checked.text == lines[0])
    }

    @Test("Binance L2: a broken diff chain is reported with the file and line; skipped, its line is not played")
    func binanceL2() throws {
        func diff(_ time: Int64, first: Int64, final: Int64, previous: Int64) -> String {
            "\(time) {\"stream\":\"btcusdt@depth@0ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":2,\"T\":2,\"s\":\"BTCUSDT\","
                + "\"U\":\(first),\"u\":\(final),\"pu\":\(previous),\"b\":[[\"100.0\",\"1.500\"]],\"a\":[]}}"
        }
        let lines = [
            "10 {\"lastUpdateId\":100,\"E\":1,\"T\":1,\"bids\":[[\"100.0\",\"1.000\"]],\"asks\":[[\"100.1\",\"1.000\"]]}",
            diff(20, first: 95, final: 105, previous: 90), diff(30, first: 106, final: 110, previous: 105),
            diff(40, first: 120, final: 125, previous: 115),
        ]
        let text = lines.joined(separator: "\n")
        do {
            _ = try CaptureCheck.binanceL2(text, file: "l2.ndjson", policy: .stop)
            Issue.record("a broken chain must stop the read")
        } catch {
            #expect(error.kind == .brokenDiffChain && error.line == 4)
            #expect(error.description.hasPrefix("l2.ndjson line 4: broken diff chain"))
        }
        let checked = try CaptureCheck.binanceL2(text, file: "l2.ndjson", policy: .skip)
        #expect(checked.skipped.map(\.line) == [4])
        #expect(checked.text == lines[0...2].joined(separator: "\n"))
    }

    @Test("the shared captures are clean", .enabled(if: Repository.hasData))
    func sharedCaptures() throws {
        let trades = try String(contentsOf: Repository.trades, encoding: .utf8)
        #expect(try CaptureCheck.binanceTrades(trades, file: Repository.trades.path, policy: .stop).skipped.isEmpty)
        let hyperliquid = try String(contentsOf: Repository.hyperliquidCapture, encoding: .utf8)
        #expect(try CaptureCheck.hyperliquid(hyperliquid, file: Repository.hyperliquidCapture.path, policy: .stop).skipped.isEmpty)
    }
}
