import Ledger
import Market
import Risk
import Schema

/// A candle file as a backtest reads it: every row checked for time order and gaps against the
/// file's interval (the first two candles' spacing).
public struct CandleSeries: Sendable {
    public var candles: [Candle]
    public var intervalSeconds: Int
    /// Problems skipped (policy `.skip`): the rows left out and the gaps left as gaps.
    public var skipped: [DataProblem]

    /// Reads `text` (the shared candle file's format), keeping candles in `[from, to)`.
    public init(
        text: String, file: String, policy: DataProblemPolicy, from: EpochNanos? = nil, to: EpochNanos? = nil,
        limit: Int? = nil
    ) throws(DataProblem) {
        var rows: [(line: Int, candle: Candle)] = []
        var lineNumber = 0
        var problems: [DataProblem] = []
        func problem(_ kind: DataProblem.Kind, _ detail: String) throws(DataProblem) {
            let found = DataProblem(file: file, line: lineNumber, kind: kind, detail: detail)
            guard policy == .skip else { throw found }
            problems.append(found)
        }
        // Lines are counted as an editor counts them, blank ones included.
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let trimmed = line.hasSuffix("\r") ? line.dropLast() : line
            if trimmed.isEmpty || (lineNumber == 1 && trimmed.hasPrefix("timestamp")) { continue }
            let candle: Candle
            do { candle = try CandleFile.candle(trimmed) } catch {
                try problem(.malformed, error.reason)
                continue
            }
            if let from, candle.openTime < from { continue }
            if let to, candle.openTime >= to { continue }
            if let previous = rows.last?.candle {
                if candle.openTime == previous.openTime {
                    try problem(.duplicate, "\(Self.text(candle.openTime)) again (line \(rows.last!.line))")
                    continue
                }
                if candle.openTime < previous.openTime {
                    try problem(
                        .outOfOrder, "\(Self.text(candle.openTime)) after \(Self.text(previous.openTime)) (line \(rows.last!.line))")
                    continue
                }
                if rows.count >= 2 {
                    let interval = rows[1].candle.openTime - rows[0].candle.openTime
                    let step = candle.openTime - previous.openTime
                    if step != interval {
                        try problem(
                            .gap,
                            "\(Self.text(previous.openTime)) → \(Self.text(candle.openTime)): \(step / Nanos.second) s where the interval is \(interval / Nanos.second) s")
                    }
                }
            }
            rows.append((lineNumber, candle))
            if let limit, rows.count >= limit { break }
        }
        guard rows.count >= 2 else {
            throw DataProblem(file: file, line: lineNumber, kind: .malformed, detail: "fewer than 2 candles in the window")
        }
        candles = rows.map(\.candle)
        intervalSeconds = Int((rows[1].candle.openTime - rows[0].candle.openTime) / Nanos.second)
        skipped = problems
    }

    static func text(_ time: EpochNanos) -> String { ReportPage.utc(time) }
}
