import Foundation

/// What the pipeline must produce on a window of candles, computed here from the CSV
/// without any of the services' code: the test's own parser, RSI and position rules.
struct ExpectedTrading {
    var bars = 0
    var signals = 0
    var approvals = 0
    var fills = 0

    struct Window {
        var from: String
        var to: String
    }

    /// RSI(period) with Wilder's smoothing seeded by the simple mean of the first `period`
    /// changes; long below `oversold`, short above `overbought`; a signal is approved when
    /// it changes the wanted position. An order fills at the next bar, so one approved on
    /// the window's last bar never fills.
    static func compute(
        csv: String, window: Window, period: Int = 14, oversold: Double = 30, overbought: Double = 70
    ) -> ExpectedTrading {
        let closes = csv.split(separator: "\n").dropFirst().compactMap { line -> Double? in
            let fields = line.split(separator: ",")
            guard fields.count == 6 else { return nil }
            let time = String(fields[0].prefix(19))
            guard time >= window.from, time <= window.to else { return nil }
            return Double(fields[4])
        }
        var expected = ExpectedTrading()
        expected.bars = closes.count
        expected.signals = closes.count
        var gains = 0.0, losses = 0.0, changes = 0
        var position = 0
        for index in closes.indices where index > 0 {
            let change = closes[index] - closes[index - 1]
            changes += 1
            if changes < period {
                gains += max(change, 0)
                losses += max(-change, 0)
                continue
            } else if changes == period {
                gains = (gains + max(change, 0)) / Double(period)
                losses = (losses + max(-change, 0)) / Double(period)
            } else {
                gains = (gains * Double(period - 1) + max(change, 0)) / Double(period)
                losses = (losses * Double(period - 1) + max(-change, 0)) / Double(period)
            }
            let rsi = gains + losses > 0 ? 100 * gains / (gains + losses) : 50
            let wanted = rsi < oversold ? 1 : (rsi > overbought ? -1 : 0)
            if wanted != 0 && wanted != position {
                position = wanted
                expected.approvals += 1
                if index < closes.count - 1 { expected.fills += 1 }
            }
        }
        return expected
    }
}
