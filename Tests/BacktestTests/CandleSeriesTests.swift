import Backtest
import Market
import Risk
import Schema
import Testing

@Suite("Candle series: bad rows are reported with their line, then stopped at or skipped and counted")
struct CandleSeriesTests {
    let header = "timestamp,open,high,low,close,volume"

    func row(_ minute: Int, _ close: String = "100") -> String {
        "2022-01-01 00:\(minute < 10 ? "0" : "")\(minute):00,100,101,99,\(close),5000"
    }

    @Test("a clean file reads whole, its interval from the first two candles")
    func clean() throws {
        let series = try CandleSeries(text: ([header] + (0..<5).map { row($0) }).joined(separator: "\n"), file: "c.csv", policy: .stop)
        #expect(series.candles.count == 5)
        #expect(series.intervalSeconds == 60)
        #expect(series.skipped.isEmpty)
    }

    @Test(
        "each kind of problem stops the read at its line",
        arguments: [
            (["0", "1", "3"], 4, DataProblem.Kind.gap),
            (["0", "1", "1"], 4, .duplicate),
            (["0", "2", "1"], 4, .outOfOrder),
            (["0", "1", "x"], 4, .malformed),
        ])
    func stops(minutes: [String], line: Int, kind: DataProblem.Kind) throws {
        let rows = minutes.map { $0 == "x" ? "2022-01-01 00:02:00,100,101,99,oops,5000" : row(Int($0)!) }
        let text = ([header] + rows).joined(separator: "\n")
        #expect(throws: DataProblem(file: "c.csv", line: line, kind: kind, detail: problemDetail(text, kind))) {
            _ = try CandleSeries(text: text, file: "c.csv", policy: .stop)
        }
    }

    /// The detail is the reader's own; the tests pin the line and the kind.
    func problemDetail(_ text: String, _ kind: DataProblem.Kind) -> String {
        (try? CandleSeries(text: text, file: "c.csv", policy: .skip))?.skipped.first { $0.kind == kind }?.detail ?? ""
    }

    @Test("skipping leaves bad rows out, keeps gaps as gaps, and counts both with their lines")
    func skips() throws {
        let rows = [row(0), row(1), row(1), row(0), "garbage", row(2), row(5), row(6)]
        let series = try CandleSeries(text: ([header] + rows).joined(separator: "\n"), file: "c.csv", policy: .skip)
        #expect(series.candles.map(\.openTime) == [0, 1, 2, 5, 6].map { 1_640_995_200 * Nanos.second + Int64($0) * 60 * Nanos.second })
        #expect(series.skipped.map(\.line) == [4, 5, 6, 8])
        #expect(series.skipped.map(\.kind) == [.duplicate, .outOfOrder, .malformed, .gap])
        #expect(series.skipped[3].description.hasPrefix("c.csv line 8: gap: "))
    }

    @Test("the window and the limit pick candles by time; fewer than two is an error")
    func window() throws {
        let text = ([header] + (0..<10).map { row($0) }).joined(separator: "\n")
        let from = 1_640_995_200 * Nanos.second + 3 * 60 * Nanos.second
        let series = try CandleSeries(text: text, file: "c.csv", policy: .stop, from: from, limit: 4)
        #expect(series.candles.count == 4)
        #expect(series.candles.first?.openTime == from)
        #expect(throws: DataProblem.self) {
            _ = try CandleSeries(text: text, file: "c.csv", policy: .stop, from: from + 6 * 60 * Nanos.second)
        }
    }
}
