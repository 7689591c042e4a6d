import Foundation
import L2Replay
import Market
import Schema
import Testing
import TestSupport

/// The fixed-point replay of the real Binance capture against the Decimal reader: after every diff
/// `BinanceDepthSync` applies, its `OrderBook` and the replayed `FixedPointBook` have the same five best
/// levels a side, to the tick and the lot.
@Suite(.enabled(if: Repository.hasData, "shared/data is absent (expected beside the package root): the capture check is skipped"))
struct CaptureAgreementTests {
    typealias Top = [[Int64]]

    static func captureText() async throws -> String {
        let gunzip = try await runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["gzip", "-dc", Repository.binanceCapture.path])
        try #require(gunzip.status == 0, "gzip -dc failed: \(gunzip.errorText)")
        return gunzip.outputText
    }

    @Test("the fixed-point book agrees with BinanceDepthSync's OrderBook after every applied diff")
    func agreesWithDecimalBook() async throws {
        let text = try await Self.captureText()
        let instrument = L2Instrument.binanceBTCUSDT
        let capture = try BinanceL2Loader.load(text, instrument: instrument, policy: .stop)
        #expect(capture.report.faultCount == 0)
        #expect(capture.report.lines == 93_954)
        #expect(capture.report.snapshots == 1)
        #expect(capture.report.trades == 21_313)
        #expect(capture.report.bookTickers == 66_089)

        // The Decimal side: one state per applied outcome.
        let decoder = BinanceMessageDecoder()
        var sync = BinanceDepthSync(symbol: "BTCUSDT")
        var decimalStates: [Top] = []
        var decimalDiffs = 0
        func top(_ book: OrderBook) throws -> Top {
            try [BookSide.bid, .ask].flatMap { side in
                try book.levels(side, limit: 5).map { [try #require(instrument.ticks($0.price)), try #require(instrument.lots($0.size))] }
            }
        }
        for line in text.split(separator: "\n") {
            let (_, json) = try #require(CaptureFile.line(line))
            switch try decoder.decode(json.utf8) {
            case .depthUpdate(let diff):
                if case .applied(let count) = sync.receive(diff) {
                    decimalDiffs += count
                    decimalStates.append(try top(sync.book))
                }
            case .depthSnapshot(let snapshot):
                if case .applied(let count) = sync.applySnapshot(snapshot) {
                    decimalDiffs += count
                    decimalStates.append(try top(sync.book))
                }
            default: break
            }
        }
        #expect(capture.report.diffsApplied == decimalDiffs)

        // The fixed-point side: one state per venue message that changed the book.
        var book = FixedPointBook()
        var fixedStates: [Top] = []
        for event in capture.events {
            let accepted = book.apply(event)
            #expect(accepted)
            guard event.endsUpdate, event.kind == .bid || event.kind == .ask else { continue }
            #expect(!book.isCrossed)
            fixedStates.append(
                (book.levels(bid: true, limit: 5) + book.levels(bid: false, limit: 5)).map { [$0.tick, $0.lots] })
        }
        // BinanceDepthSync reports the snapshot and the diffs buffered before it as one state; the
        // replay has one per diff. From then on they pair one to one.
        let buffered = fixedStates.count - decimalStates.count
        #expect((0...6).contains(buffered), "the capture has 6 diffs before its snapshot")
        #expect(decimalStates.count > 6_000)
        var mismatches = 0
        for (index, (fixed, decimal)) in zip(fixedStates.dropFirst(buffered), decimalStates).enumerated() where fixed != decimal {
            mismatches += 1
            if mismatches <= 3 { Issue.record("state \(index): fixed \(fixed) != decimal \(decimal)") }
        }
        #expect(mismatches == 0)

        let replay = BookReplay.run(capture.events)
        #expect(replay.refused == 0)
        #expect(instrument.price(ticks: replay.bestBidTick) == sync.book.bestBid?.price)
        #expect(instrument.price(ticks: replay.bestAskTick) == sync.book.bestAsk?.price)
    }

    @Test("the market maker trades the real capture and its books balance exactly")
    func marketMakerOnCapture() async throws {
        let capture = try BinanceL2Loader.load(try await Self.captureText())
        var maker = QueueMarketMaker(
            parameters: QuotingParameters(halfSpreadTicks: 1, orderLots: 1, maxPositionLots: 10, makerFeeMicros: 200))
        maker.replay(capture.events)
        let account = maker.account
        #expect(account.fills > 0)
        #expect(abs(account.positionLots) <= 10)
        // Exact decimals from integers: fee = Σ notional × 0.0002, reconstructed in Decimal.
        let fee = capture.instrument.price(ticks: 1) * capture.instrument.size(lots: 1)
            * Amount(Decimal(account.feeMicroTickLots)) / Amount(1_000_000)
        #expect(fee.isPositive)
    }
}
