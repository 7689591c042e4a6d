import Foundation
import Market
import Testing

/// Every indicator over all 45,031 real 1-minute candles against values computed by
/// `reference/indicators.py` with `ta`, TA-Lib and pandas.
@Suite(
    .enabled(
        if: Fixtures.hasData,
        "shared/data is absent (expected beside the package root): the real-data indicator check is skipped"))
struct IndicatorReferenceTests {
    /// One reference column and how to compute it here.
    struct Column: Sendable {
        var name: String
        /// The magnitude the value normally has, for the absolute tolerance near zero.
        var scale: Double
        var compute: @Sendable (inout Indicators, PriceBar) -> Double?
    }

    struct PriceBar {
        var high: Double
        var low: Double
        var close: Double
    }

    /// The Swift side, one instance per reference column family.
    struct Indicators {
        var sma20 = SimpleMovingAverage(period: 20)
        var sma200 = SimpleMovingAverage(period: 200)
        var ema12First = ExponentialMovingAverage(period: 12, seed: .firstValue)
        var ema26First = ExponentialMovingAverage(period: 26, seed: .firstValue)
        var ema12Average = ExponentialMovingAverage(period: 12, seed: .simpleAverage)
        var ema26Average = ExponentialMovingAverage(period: 26, seed: .simpleAverage)
        var rsi14 = RelativeStrengthIndex(period: 14)
        var rsi2 = RelativeStrengthIndex(period: 2)
        var atr14 = AverageTrueRange(period: 14)
        var bands = BollingerBands(period: 20, k: 2)
        var bandsValue: BollingerBands.Value?
        var roc10 = RateOfChange(period: 10)
        var volatility30 = RealisedVolatility(period: 30)
        var volatility30Annual = RealisedVolatility(period: 30, annualisationFactor: 525_600)
    }

    // Order matters only for Bollinger: `bb_middle` updates the bands, the other band
    // columns read the same update.
    static let columns: [Column] = [
        Column(name: "sma_20", scale: 1) { $0.sma20.update($1.close) },
        Column(name: "sma_200", scale: 1) { $0.sma200.update($1.close) },
        Column(name: "ema_12_first", scale: 1) { $0.ema12First.update($1.close) },
        Column(name: "ema_26_first", scale: 1) { $0.ema26First.update($1.close) },
        Column(name: "ema_12_sma", scale: 1) { $0.ema12Average.update($1.close) },
        Column(name: "ema_26_sma", scale: 1) { $0.ema26Average.update($1.close) },
        Column(name: "rsi_14", scale: 1) { $0.rsi14.update($1.close) },
        Column(name: "rsi_2", scale: 1) { $0.rsi2.update($1.close) },
        Column(name: "atr_14", scale: 1) { $0.atr14.update(high: $1.high, low: $1.low, close: $1.close) },
        Column(name: "bb_middle", scale: 1) { indicators, candle in
            indicators.bandsValue = indicators.bands.update(candle.close)
            return indicators.bandsValue?.middle
        },
        Column(name: "bb_upper", scale: 1) { indicators, _ in indicators.bandsValue?.upper },
        Column(name: "bb_lower", scale: 1) { indicators, _ in indicators.bandsValue?.lower },
        Column(name: "bb_bandwidth", scale: 1) { indicators, _ in indicators.bandsValue?.bandwidth },
        Column(name: "bb_percent_b", scale: 1) { indicators, _ in indicators.bandsValue?.percentB },
        Column(name: "roc_10", scale: 1) { $0.roc10.update($1.close) },
        Column(name: "rv_30", scale: 1e-3) { $0.volatility30.update($1.close) },
        Column(name: "rv_30_annual", scale: 1) { $0.volatility30Annual.update($1.close) },
    ]

    @Test("SMA, EMA, RSI, ATR, Bollinger, ROC and realised volatility match the reference on every candle")
    func everyCandleMatchesReference() async throws {
        guard Fixtures.exists(Fixtures.python) else {
            Issue.record(Comment(rawValue: Fixtures.missingPythonMessage))
            return
        }
        let output = FileManager.default.temporaryDirectory
            .appendingPathComponent("market-indicators-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: output) }
        _ = try await Fixtures.run(
            Fixtures.python,
            [
                Fixtures.referenceDirectory.appendingPathComponent("indicators.py").path, Fixtures.candlesFile.path,
                output.path,
            ])

        let candles = try Fixtures.readCSV(Fixtures.candlesFile)
        let reference = try Fixtures.readCSV(output)
        try #require(candles.rows.count == 45_031, "the candle file should have 45,031 rows")
        try #require(reference.rows.count == candles.rows.count, "one reference row per candle")
        let high = try #require(candles.header.firstIndex(of: "high"))
        let low = try #require(candles.header.firstIndex(of: "low"))
        let close = try #require(candles.header.firstIndex(of: "close"))
        let referenceIndex = try Self.columns.map { column in
            try #require(reference.header.firstIndex(of: column.name), "reference column \(column.name)")
        }

        var indicators = Indicators()
        var compared = Array(repeating: 0, count: Self.columns.count)
        var mismatches = Array(repeating: 0, count: Self.columns.count)
        var worstRelativeError = Array(repeating: 0.0, count: Self.columns.count)
        for (row, (fields, expectedFields)) in zip(candles.rows, reference.rows).enumerated() {
            try #require(fields[0] == expectedFields[0], "row \(row) timestamps differ")
            let candle = PriceBar(
                high: try #require(Double(fields[high])), low: try #require(Double(fields[low])),
                close: try #require(Double(fields[close])))
            for (index, column) in Self.columns.enumerated() {
                let actual = column.compute(&indicators, candle)
                let text = expectedFields[referenceIndex[index]]
                let expected = text.isEmpty ? nil : Double(text)
                switch (actual, expected) {
                case (nil, nil):
                    continue
                case (let actual?, let expected?):
                    compared[index] += 1
                    let error = abs(actual - expected) / max(abs(expected), column.scale)
                    worstRelativeError[index] = max(worstRelativeError[index], error)
                    if isClose(actual, expected, scale: column.scale) { continue }
                    mismatches[index] += 1
                    if mismatches[index] <= 3 {
                        Issue.record("\(column.name) row \(row) (\(fields[0])): \(actual) ≠ reference \(expected)")
                    }
                default:
                    mismatches[index] += 1
                    if mismatches[index] <= 3 {
                        Issue.record(
                            "\(column.name) row \(row): warm-up differs, here \(String(describing: actual)), reference \(text)"
                        )
                    }
                }
            }
        }

        for (index, column) in Self.columns.enumerated() {
            #expect(mismatches[index] == 0, "\(column.name): \(mismatches[index]) rows differ")
            // Everything past the warm-up is compared, so a blank reference column cannot pass.
            #expect(compared[index] > 44_800, "\(column.name): only \(compared[index]) rows compared")
        }
        let summary = zip(Self.columns, zip(compared, worstRelativeError))
            .map { "\($0.name) \($1.0) rows, worst \(String(format: "%.1e", $1.1))" }
        print("indicator reference: \(candles.rows.count) candles; " + summary.joined(separator: "; "))
    }
}
