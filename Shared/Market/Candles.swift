import Schema

/// One OHLCV candle of a recorded file, exact as written.
public struct Candle: Sendable, Equatable {
    public var openTime: EpochNanos
    public var open: Amount
    public var high: Amount
    public var low: Amount
    public var close: Amount
    /// Quote-currency notional.
    public var volume: Amount

    public init(openTime: EpochNanos, open: Amount, high: Amount, low: Amount, close: Amount, volume: Amount) {
        self.openTime = openTime
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }

    public func bar(symbol: String, intervalSeconds: Int) -> Bar {
        Bar(
            symbol: symbol, intervalSeconds: intervalSeconds, openTime: openTime, open: open, high: high, low: low,
            close: close, volume: volume)
    }
}

/// Reads `timestamp,open,high,low,close,volume` candle files (UTC times without a zone marker).
public enum CandleFile {
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    public static func parse(_ text: String) throws(ParseError) -> [Candle] { try rows(text).map(\.candle) }

    /// The candles with their lines; every line counts, a blank one too, so an error names the line
    /// an editor shows.
    static func rows(_ text: String) throws(ParseError) -> [(line: Int, candle: Candle)] {
        var rows: [(line: Int, candle: Candle)] = []
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            if line.isEmpty || (index == 0 && line.hasPrefix("timestamp")) { continue }
            do { rows.append((index + 1, try candle(line))) } catch { throw ParseError(line: index + 1, reason: error.reason) }
        }
        return rows
    }

    /// What is wrong with a row, without its line (the reader knows it).
    public struct RowError: Error, Equatable {
        public var reason: String
    }

    /// One row, `timestamp,open,high,low,close,volume`.
    public static func candle(_ line: Substring) throws(RowError) -> Candle {
        let fields = line.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count == 6 else { throw RowError(reason: "expected 6 fields, found \(fields.count)") }
        guard let time = parseTimestamp(fields[0]) else { throw RowError(reason: "bad timestamp \"\(fields[0])\"") }
        var values: [Amount] = []
        for field in fields[1...] {
            guard let value = Amount(field) else { throw RowError(reason: "bad number \"\(field)\"") }
            values.append(value)
        }
        return Candle(openTime: time, open: values[0], high: values[1], low: values[2], close: values[3], volume: values[4])
    }

    /// The file's candles as bars of `symbol`, their interval taken from the first two candles.
    public static func bars(_ text: String, symbol: String) throws(ParseError) -> [Bar] {
        let rows = try rows(text)
        guard rows.count > 1 else { throw ParseError(line: (rows.last?.line ?? 0) + 1, reason: "fewer than 2 candles") }
        let (span, overflow) = rows[1].candle.openTime.subtractingReportingOverflow(rows[0].candle.openTime)
        let interval = span / 1_000_000_000
        guard !overflow, interval > 0, interval <= 86_400 * 7 else {
            throw ParseError(line: rows[1].line, reason: "the first two candles are not in time order one interval apart")
        }
        return rows.map { $0.candle.bar(symbol: symbol, intervalSeconds: Int(interval)) }
    }

    /// `YYYY-MM-DD HH:MM:SS[.ffffff]` (or with a `T`), read as UTC.
    public static func parseTimestamp(_ text: some StringProtocol) -> EpochNanos? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 19, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: " ") || bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"),
            bytes[16] == UInt8(ascii: ":")
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let digit = Int(bytes[index]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var nanos = 0
        if bytes.count > 19 {
            guard bytes[19] == UInt8(ascii: "."), bytes.count > 20, bytes.count <= 29,
                let fraction = number(20..<bytes.count)
            else { return nil }
            nanos = fraction
            for _ in 0..<(9 - (bytes.count - 20)) { nanos *= 10 }
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        // Epoch nanoseconds hold about 1677 to 2262: a year outside is no timestamp, not a trap.
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (time, overflowAgain) = whole.addingReportingOverflow(Int64(nanos))
        return overflow || overflowAgain ? nil : time
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
