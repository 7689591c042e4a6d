import Foundation
import Market
import Schema
import Testing

@Suite("Model features")
struct BarFeaturesTests {
    @Test("no row before 50 bars; then one value per named column")
    func warmUp() {
        var features = BarFeatures()
        for index in 0..<49 {
            let close = 100 + Double(index % 7)
            let row = features.update(high: close + 1, low: close - 1, close: close, volume: 10)
            #expect(row == nil)
        }
        let row = features.update(high: 104, low: 102, close: 103, volume: 10)
        #expect(row?.count == BarFeatures.names.count)
        #expect(Set(BarFeatures.names).count == BarFeatures.names.count)
    }

    @Test("a bar that is not a market feeds nothing; a zero volume is a missing value, not a crash")
    func badBars() throws {
        var features = BarFeatures()
        for index in 0..<60 {
            _ = features.update(high: 101, low: 99, close: 100 + Double(index % 3), volume: 0)
        }
        let zero = features.update(high: 0, low: 0, close: 0, volume: 1)
        let notANumber = features.update(high: .nan, low: 99, close: 100, volume: 1)
        #expect(zero == nil && notANumber == nil)
        let last = features.update(high: 101, low: 99, close: 100, volume: 0)
        let row = try #require(last)
        let trend = try #require(BarFeatures.names.firstIndex(of: "volume_trend"))
        #expect(row[trend].isNaN)
        #expect(row.enumerated().allSatisfy { $0.offset == trend || $0.element.isFinite })
    }

    @Test(
        "every column matches an independent composition (TA-Lib, pandas) on all 45,031 real candles",
        .enabled(if: Fixtures.hasData, "shared/data is absent"))
    func matchesReference() async throws {
        guard Fixtures.exists(Fixtures.python) else {
            Issue.record(Comment(rawValue: Fixtures.missingPythonMessage))
            return
        }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("features-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: output) }
        _ = try await Fixtures.run(
            Fixtures.python,
            [Fixtures.referenceDirectory.appendingPathComponent("features.py").path, Fixtures.candlesFile.path, output.path])
        let candles = try Fixtures.readCSV(Fixtures.candlesFile)
        let reference = try Fixtures.readCSV(output)
        try #require(reference.rows.count == candles.rows.count)
        let columns = try BarFeatures.names.map { name in
            try #require(reference.header.firstIndex(of: name), "reference column \(name)")
        }
        var features = BarFeatures()
        var compared = 0
        var worst = 0.0
        for (index, (fields, expected)) in zip(candles.rows, reference.rows).enumerated() {
            let row = features.update(
                high: Double(fields[2])!, low: Double(fields[3])!, close: Double(fields[4])!, volume: Double(fields[5])!)
            guard let row else {
                #expect(expected[columns[0]].isEmpty, "row \(index): reference is warm, features are not")
                continue
            }
            for (column, value) in row.enumerated() {
                let text = expected[columns[column]]
                if text.isEmpty {
                    #expect(value.isNaN, "row \(index) \(BarFeatures.names[column]): \(value), reference empty")
                    continue
                }
                let reference = try #require(Double(text))
                let error = abs(value - reference) / max(abs(reference), 1e-4)
                worst = max(worst, error)
                if error > 1e-7 {
                    Issue.record("row \(index) \(BarFeatures.names[column]): \(value) ≠ reference \(reference)")
                    return
                }
                compared += 1
            }
        }
        #expect(compared > 44_900 * BarFeatures.names.count)
        print("model features: \(compared) values compared, worst relative error \(worst)")
    }
}

@Suite("Candle file as bars")
struct CandleFileBarsTests {
    @Test("the interval comes from the first two candles; fewer than two or out of order is an error with its line")
    func intervalFromTheFirstTwo() throws {
        let text = "timestamp,open,high,low,close,volume\n2022-01-01 00:00:00,1,2,0.5,1.5,10\n2022-01-01 00:05:00,1.5,2,1,1.8,12\n"
        let bars = try CandleFile.bars(text, symbol: "ETH")
        #expect(bars.map(\.intervalSeconds) == [300, 300] && bars[1].symbol == "ETH" && bars[1].close == Amount("1.8"))
        #expect(throws: CandleFile.ParseError.self) { try CandleFile.bars("2022-01-01 00:00:00,1,2,0.5,1.5,10\n", symbol: "E") }
        let reversed = "2022-01-01 00:05:00,1,2,0.5,1.5,10\n2022-01-01 00:00:00,1,2,0.5,1.5,10\n"
        let error = #expect(throws: CandleFile.ParseError.self) { try CandleFile.bars(reversed, symbol: "E") }
        #expect(error?.description == "line 2: the first two candles are not in time order one interval apart")
    }

    @Test("a blank line counts: an error names the line an editor shows")
    func blankLinesCount() {
        let text = "timestamp,open,high,low,close,volume\r\n2022-01-01 00:00:00,1,2,0.5,1.5,10\r\n\r\n2022-01-01 00:01:00,1,2,x,1.5,10\n"
        let error = #expect(throws: CandleFile.ParseError.self) { try CandleFile.parse(text) }
        #expect(error?.description == "line 4: bad number \"x\"")
        let reversed = "\n2022-01-01 00:05:00,1,2,0.5,1.5,10\n\n2022-01-01 00:00:00,1,2,0.5,1.5,10\n"
        let order = #expect(throws: CandleFile.ParseError.self) { try CandleFile.bars(reversed, symbol: "E") }
        #expect(order?.line == 4)
        #expect(throws: Never.self) { try CandleFile.parse("2022-01-01 00:00:00,1,2,0.5,1.5,10\n\n\n") }
    }
}
