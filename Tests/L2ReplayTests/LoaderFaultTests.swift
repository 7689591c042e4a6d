import L2Replay
import Market
import Testing

/// Small inline captures, one fault each, read in both modes.
struct LoaderFaultTests {
    // MARK: Lines

    static func snapshot(_ time: Int64, id: Int64, bids: [(String, String)], asks: [(String, String)]) -> String {
        "\(time) {\"lastUpdateId\":\(id),\"E\":1,\"T\":1,\"bids\":\(levels(bids)),\"asks\":\(levels(asks))}"
    }

    static func diff(
        _ time: Int64, first: Int64, final: Int64, previous: Int64, bids: [(String, String)] = [], asks: [(String, String)] = []
    ) -> String {
        "\(time) {\"stream\":\"btcusdt@depth@0ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":2,\"T\":2,\"s\":\"BTCUSDT\","
            + "\"U\":\(first),\"u\":\(final),\"pu\":\(previous),\"b\":\(levels(bids)),\"a\":\(levels(asks))}}"
    }

    static func trade(_ time: Int64, id: Int64, price: String, quantity: String, buyerIsMaker: Bool) -> String {
        "\(time) {\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":3,\"T\":3,\"s\":\"BTCUSDT\",\"t\":\(id),"
            + "\"p\":\"\(price)\",\"q\":\"\(quantity)\",\"X\":\"MARKET\",\"m\":\(buyerIsMaker)}}"
    }

    static func levels(_ levels: [(String, String)]) -> String {
        "[" + levels.map { "[\"\($0.0)\",\"\($0.1)\"]" }.joined(separator: ",") + "]"
    }

    /// Line 1: a snapshot at id 100 (bid 100.0, ask 100.1); line 2: a diff bridging it.
    static let synced = [
        snapshot(10, id: 100, bids: [("100.0", "1.000"), ("99.9", "2.000")], asks: [("100.1", "1.000"), ("100.2", "2.000")]),
        diff(20, first: 95, final: 105, previous: 90, bids: [("100.0", "1.500")]),
    ]

    static func load(_ lines: [String], _ policy: DataProblemPolicy) throws(DataProblem) -> L2Capture {
        try BinanceL2Loader.load(lines.joined(separator: "\n") + "\n", policy: policy)
    }

    /// Stop mode throws the fault at `line`; skip mode counts exactly it and carries on.
    func expectFault(_ lines: [String], _ kind: DataProblem.Kind, line: Int) throws -> L2Capture {
        #expect(throws: DataProblem.self) { try Self.load(lines, .stop) }
        do {
            _ = try Self.load(lines, .stop)
        } catch {
            #expect(error.kind == kind)
            #expect(error.line == line)
        }
        let skipped = try Self.load(lines, .skip)
        #expect(skipped.report.faults == [kind: 1])
        #expect(skipped.report.firstFaults.map(\.line) == [line])
        return skipped
    }

    static func top(_ capture: L2Capture) -> (bid: Int64, ask: Int64) {
        var book = FixedPointBook()
        for event in capture.events { book.apply(event) }
        return (book.bestBidTick, book.bestAskTick)
    }

    // MARK: Tests

    @Test("a sound capture loads without faults into integer events")
    func soundCapture() throws {
        let capture = try Self.load(
            Self.synced + [
                Self.diff(30, first: 106, final: 110, previous: 105, asks: [("100.1", "0")]),
                Self.trade(40, id: 7, price: "100.2", quantity: "0.250", buyerIsMaker: false),
                Self.trade(41, id: 8, price: "100.0", quantity: "0.001", buyerIsMaker: true),
            ], .stop)
        #expect(capture.report.faultCount == 0)
        #expect(capture.report.diffsApplied == 2 && capture.report.trades == 2 && capture.report.snapshots == 1)
        #expect(capture.events.first?.kind == .clear)
        #expect(capture.events.suffix(2).map(\.kind) == [.buyTrade, .sellTrade])
        #expect(capture.events[capture.events.count - 2] == L2Event(time: 40, price: 1002, quantity: 250, kind: .buyTrade, endsUpdate: true))
        #expect(Self.top(capture) == (1000, 1002))
    }

    @Test("diffs before the snapshot wait for it; stale ones drop out")
    func diffsBeforeSnapshot() throws {
        let lines = [
            Self.diff(1, first: 80, final: 90, previous: 70, bids: [("50.0", "9.000")]),
            Self.diff(2, first: 91, final: 102, previous: 90, bids: [("100.0", "3.000")]),
            Self.snapshot(10, id: 100, bids: [("100.0", "1.000")], asks: [("100.1", "1.000")]),
            Self.diff(20, first: 103, final: 104, previous: 102, asks: [("100.1", "4.000")]),
        ]
        let capture = try Self.load(lines, .stop)
        #expect(capture.report.staleDiffs == 1)
        #expect(capture.report.diffsApplied == 2)
        var book = FixedPointBook()
        for event in capture.events { book.apply(event) }
        #expect(book.bestBidLots == 3_000 && book.bestAskLots == 4_000)
        #expect(book.lots(bid: true, at: 500) == 0)
    }

    @Test("an out-of-order receive time is reported with its line; skipping leaves the line out")
    func outOfOrderTime() throws {
        let lines = Self.synced + [
            Self.trade(15, id: 1, price: "100.1", quantity: "1.000", buyerIsMaker: false),
            Self.trade(25, id: 2, price: "100.1", quantity: "1.000", buyerIsMaker: false),
        ]
        let skipped = try expectFault(lines, .outOfOrder, line: 3)
        #expect(skipped.report.trades == 1)
        #expect(skipped.events.last?.time == 25)
    }

    @Test("a broken diff chain is reported with its line; skipping clears the book until a snapshot")
    func brokenChain() throws {
        let lines = Self.synced + [
            Self.diff(30, first: 110, final: 115, previous: 107, bids: [("99.8", "1.000")]),
            Self.diff(40, first: 116, final: 120, previous: 115, bids: [("99.7", "1.000")]),
        ]
        let skipped = try expectFault(lines, .brokenDiffChain, line: 3)
        #expect(skipped.events.last?.kind == .clear)
        #expect(skipped.report.diffsApplied == 1)
        #expect(skipped.report.diffsWhileUnsynced == 2)
        #expect(Self.top(skipped) == (FixedPointBook.noBid, FixedPointBook.noAsk))
    }

    @Test("a diff that crosses the book is reported with its line; skipping takes it back")
    func crossedBook() throws {
        let lines = Self.synced + [
            Self.diff(30, first: 106, final: 110, previous: 105, bids: [("100.3", "1.000")]),
            Self.diff(40, first: 111, final: 112, previous: 110, asks: [("100.2", "0")]),
        ]
        let skipped = try expectFault(lines, .crossedBook, line: 3)
        #expect(skipped.report.diffsApplied == 2)
        #expect(Self.top(skipped) == (1000, 1001))
    }

    @Test("a snapshot older than the first diff after it is a gap, reported with its line")
    func snapshotGap() throws {
        let lines = [
            Self.snapshot(10, id: 100, bids: [("100.0", "1.000")], asks: [("100.1", "1.000")]),
            Self.diff(20, first: 120, final: 125, previous: 119, bids: [("99.9", "1.000")]),
        ]
        let skipped = try expectFault(lines, .gap, line: 2)
        #expect(skipped.events.last?.kind == .clear)
    }

    @Test("a jump in trade ids is a gap, reported with its line; skipping counts it and keeps the trade")
    func tradeIdGap() throws {
        let lines = Self.synced + [
            Self.trade(30, id: 1, price: "100.1", quantity: "1.000", buyerIsMaker: false),
            Self.trade(31, id: 2, price: "100.1", quantity: "1.000", buyerIsMaker: false),
            Self.trade(32, id: 5, price: "100.1", quantity: "1.000", buyerIsMaker: false),
        ]
        let skipped = try expectFault(lines, .gap, line: 5)
        #expect(skipped.report.trades == 3)
    }

    @Test("an unreadable line or a price off the tick grid is malformed, with its line")
    func malformed() throws {
        _ = try expectFault(Self.synced + ["not a capture line"], .malformed, line: 3)
        _ = try expectFault(Self.synced + ["123 {\"e\":"], .malformed, line: 3)
        let offGrid = try expectFault(
            Self.synced + [Self.trade(30, id: 1, price: "100.15", quantity: "1.000", buyerIsMaker: false)], .malformed, line: 3)
        #expect(offGrid.report.trades == 0)
    }
}
