import Schema

/// The line formats of the recorded market files, read without touching a file (the caller reads the
/// text): the WebSocket captures (`<receive ns> <json>` a line) and Binance's trades CSV. Any text is
/// a value or nil, never a trap: the files come from outside.
public enum CaptureFile {
    /// A capture line's receive time and its JSON; nil when the line is not `<integer> <json>`.
    public static func line(_ line: Substring) -> (receiveNanos: Int64, json: Substring)? {
        guard let space = line.firstIndex(of: " "), let nanos = Int64(line[..<space]) else { return nil }
        return (nanos, line[line.index(after: space)...])
    }

    /// Whole milliseconds from `first` to `time`, both counted in units of which `unitsPerMillisecond` make
    /// a millisecond; 0 when `time` is earlier. Saturates rather than trapping on timestamps whose
    /// difference does not fit in 64 bits (a corrupt or hostile file).
    public static func offsetMilliseconds(from first: Int64, to time: Int64, unitsPerMillisecond: Int64) -> UInt64 {
        guard time > first, unitsPerMillisecond > 0 else { return 0 }
        // time > first, so the difference is below 2^64 and fits in UInt64 as a bit pattern.
        let difference = UInt64(bitPattern: time &- first)
        return difference / UInt64(unitsPerMillisecond)
    }
}

/// One trade of Binance's futures trades CSV
/// (`exchange,symbol,timestamp,local_timestamp,id,side,price,amount`, times in microseconds).
public struct BinanceTradeRow: Sendable, Equatable {
    public var microseconds: Int64
    public var aggressorIsBuy: Bool
    public var price: Amount
    public var amount: Amount

    public init(microseconds: Int64, aggressorIsBuy: Bool, price: Amount, amount: Amount) {
        self.microseconds = microseconds
        self.aggressorIsBuy = aggressorIsBuy
        self.price = price
        self.amount = amount
    }

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var line: String
        public var description: String { "bad trade line \(line)" }
    }

    /// nil for a line that is not a trade (the header, a short line); an error for a trade whose price
    /// or amount is not a positive decimal.
    public static func parse(_ line: Substring) throws(ParseError) -> BinanceTradeRow? {
        let fields = line.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count >= 8, let micros = Int64(fields[2]) else { return nil }
        guard let price = Amount(fields[6]), let amount = Amount(fields[7]), price.isPositive, amount.isPositive else {
            throw ParseError(line: String(line.prefix(80)))
        }
        return BinanceTradeRow(microseconds: micros, aggressorIsBuy: fields[5] == "buy", price: price, amount: amount)
    }
}
