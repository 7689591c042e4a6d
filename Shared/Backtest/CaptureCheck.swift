import L2Replay
import Market
import Schema

/// The recorded captures checked line by line before they are played: what is wrong is reported
/// with its line; with `.skip` the bad lines are left out of the text played (and counted), so the
/// venue never trades on them.
public enum CaptureCheck {
    /// The text to play and the lines left out.
    public struct Checked: Sendable {
        public var text: String
        public var skipped: [DataProblem]
    }

    /// Binance futures trades (`exchange,symbol,timestamp,local_timestamp,id,side,price,amount`):
    /// readable rows, times in order, trade ids without a hole.
    public static func binanceTrades(_ text: String, file: String, policy: DataProblemPolicy) throws(DataProblem) -> Checked {
        var lastTime: Int64?
        var lastId: Int64?
        return try filter(text, file: file, policy: policy) { line, problem throws(DataProblem) in
            let row: BinanceTradeRow?
            do { row = try BinanceTradeRow.parse(line) } catch {
                return try problem(.malformed, "\(error)")
            }
            guard let row else {
                let header = line.hasPrefix("exchange,")
                return header ? true : try problem(.malformed, "not a trade row: \(line.prefix(80))")
            }
            if let lastTime, row.microseconds < lastTime {
                return try problem(.outOfOrder, "time \(row.microseconds) µs after \(lastTime) µs")
            }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            if let id = Int64(fields[4]) {
                if let lastId, id != lastId + 1 {
                    // A hole is kept (the prints around it are real); it is reported.
                    _ = try problem(.gap, "trade id \(id) after \(lastId)")
                }
                lastId = id
            }
            lastTime = row.microseconds
            return true
        }
    }

    /// The Hyperliquid `/ws` capture (`<receive ns> <json>`): readable messages, receive times in
    /// order, books that do not cross.
    public static func hyperliquid(_ text: String, file: String, policy: DataProblemPolicy) throws(DataProblem) -> Checked {
        let decoder = HyperliquidMessageDecoder()
        var lastTime: Int64?
        return try filter(text, file: file, policy: policy) { line, problem throws(DataProblem) in
            guard let (ns, json) = CaptureFile.line(line) else { return try problem(.malformed, "not `<receive ns> <json>`") }
            let message: HyperliquidMessage
            do { message = try decoder.decode(Array(json.utf8)) } catch {
                return try problem(.malformed, "\(error)")
            }
            if let lastTime, ns < lastTime { return try problem(.outOfOrder, "receive time \(ns) before \(lastTime)") }
            if case .l2Book(let book) = message, let bid = book.bids.first?.price, let ask = book.asks.first?.price, bid >= ask {
                return try problem(.crossedBook, "best bid \(bid) ≥ best ask \(ask)")
            }
            lastTime = ns
            return true
        }
    }

    /// The Binance USD-M depth capture, checked by the L2 loader's rules (the diff chain, crossed
    /// books, time order); with `.skip` its bad lines and the diffs it could not apply after a break
    /// are left out.
    public static func binanceL2(_ text: String, file: String, policy: DataProblemPolicy) throws(DataProblem) -> Checked {
        let capture: L2Capture
        do { capture = try BinanceL2Loader.load(text, policy: policy) } catch {
            var located = error
            located.file = file
            throw located
        }
        return binanceL2(text, loaded: capture, file: file)
    }

    /// `text` without the lines its load (`BinanceL2Loader.load(text, …)`) left out, for whoever has
    /// loaded it already.
    public static func binanceL2(_ text: String, loaded capture: L2Capture, file: String) -> Checked {
        let left = Set(capture.report.leftOutLines)
        guard !left.isEmpty else { return Checked(text: text, skipped: []) }
        var kept: [Substring] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !left.contains(index + 1) {
            kept.append(line)
        }
        let skipped = capture.report.problems.map { problem in
            var located = problem
            located.file = file
            return located
        }
        return Checked(text: kept.joined(separator: "\n"), skipped: skipped)
    }

    /// Keeps each line `accept` keeps; `problem` throws under `.stop` and answers false (leave the
    /// line out) under `.skip`, except for a gap, which is reported and kept.
    static func filter(
        _ text: String, file: String, policy: DataProblemPolicy,
        accept: (Substring, (DataProblem.Kind, String) throws(DataProblem) -> Bool) throws(DataProblem) -> Bool
    ) throws(DataProblem) -> Checked {
        var kept: [Substring] = []
        var skipped: [DataProblem] = []
        var number = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let trimmed = line.hasSuffix("\r") ? line.dropLast() : line
            if trimmed.isEmpty { continue }
            let keep = try accept(trimmed) { kind, detail throws(DataProblem) in
                let found = DataProblem(file: file, line: number, kind: kind, detail: detail)
                guard policy == .skip else { throw found }
                skipped.append(found)
                return kind == .gap
            }
            if keep { kept.append(trimmed) }
        }
        return Checked(text: kept.joined(separator: "\n"), skipped: skipped)
    }
}
