import Foundation
import Market
import Schema
import Testing

/// Inputs the fuzz targets (Tests/Fuzz) trapped on, kept as regressions: a reader given any bytes
/// returns an error or a value. Each input is also in its target's seed corpus.
struct MarketFuzzFindingsTests {
    /// A time in milliseconds beyond what epoch nanoseconds hold trapped on the multiplication.
    @Test(arguments: [
        #"{"channel":"l2Book","data":{"coin":"BTC","time":9223372036854775,"levels":[[],[]]}}"#,
        #"{"channel":"trades","data":[{"coin":"BTC","side":"B","px":"1","sz":"1","time":-9223372036855,"hash":"0x","tid":1}]}"#,
    ])
    func hyperliquidTimesOutOfRangeAreParseErrors(_ json: String) {
        #expect(throws: MarketDataParseError.self) { try HyperliquidMessageDecoder().decode(Data(json.utf8)) }
    }

    @Test(arguments: [
        #"{"stream":"btcusdt@trade","data":{"e":"trade","E":9223372036854776,"T":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","m":false}}"#,
        #"{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1","T":1,"E":-9223372036854776}}"#,
        #"{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1,"T":92233720368547758,"s":"BTCUSDT","U":1,"u":2,"pu":0,"b":[],"a":[]}}"#,
        #"{"lastUpdateId":1,"E":9223372036854775807,"T":1,"bids":[],"asks":[]}"#,
    ])
    func binanceTimesOutOfRangeAreParseErrors(_ json: String) {
        #expect(throws: MarketDataParseError.self) { try BinanceMessageDecoder().decode(Data(json.utf8)) }
    }

    @Test func timesAtTheEdgeOfTheRangeStillDecode() throws {
        let json = #"{"channel":"l2Book","data":{"coin":"BTC","time":9223372036854,"levels":[[],[]]}}"#
        guard case .l2Book(let book) = try HyperliquidMessageDecoder().decode(Data(json.utf8)) else {
            Issue.record("not a book")
            return
        }
        #expect(book.time == 9_223_372_036_854_000_000)
    }

    /// Receive times whose difference does not fit in 64 bits trapped in exchange-sim's capture reader.
    @Test func captureOffsetsSaturateInsteadOfTrapping() {
        #expect(CaptureFile.offsetMilliseconds(from: 1_000_000, to: 3_500_000, unitsPerMillisecond: 1_000_000) == 2)
        #expect(CaptureFile.offsetMilliseconds(from: 5, to: 1, unitsPerMillisecond: 1) == 0)
        #expect(CaptureFile.offsetMilliseconds(from: .min, to: .max, unitsPerMillisecond: 1) == UInt64.max)
        #expect(CaptureFile.offsetMilliseconds(from: .max, to: .min, unitsPerMillisecond: 1_000_000) == 0)
        #expect(CaptureFile.offsetMilliseconds(from: -9_000_000_000_000_000_000, to: 9_000_000_000_000_000_000, unitsPerMillisecond: 1_000_000) == 18_000_000_000_000)
    }

    @Test func captureLinesAndTradeRows() throws {
        let line = try #require(CaptureFile.line("1723161255030314667 {\"a\":1}"))
        #expect(line.receiveNanos == 1_723_161_255_030_314_667 && line.json == "{\"a\":1}")
        #expect(CaptureFile.line("99999999999999999999 {}") == nil)
        #expect(CaptureFile.line("{}") == nil)
        let row = try #require(try BinanceTradeRow.parse("binance-futures,BTCUSDT,1582329602111000,1582329602418379,42377944,buy,9682,0.132"))
        #expect(row == BinanceTradeRow(microseconds: 1_582_329_602_111_000, aggressorIsBuy: true, price: 9682, amount: "0.132"))
        #expect(try BinanceTradeRow.parse("exchange,symbol,timestamp,local_timestamp,id,side,price,amount") == nil)
        #expect(throws: BinanceTradeRow.ParseError.self) { try BinanceTradeRow.parse("b,B,1,1,1,sell,-1,0.1") }
    }

    /// A year outside what epoch nanoseconds hold (1010, found by FuzzMarketFiles) trapped on the
    /// multiplication; now it is no timestamp, and the file a parse error naming the line.
    @Test func candleTimesOutsideTheNanosecondRangeAreRefused() {
        #expect(CandleFile.parseTimestamp("1010-12-31 23:01:00.000000") == nil)
        #expect(CandleFile.parseTimestamp("2263-01-01 00:00:00") == nil)
        #expect(CandleFile.parseTimestamp("2262-04-11 23:47:16") == 9_223_372_036_000_000_000)
        #expect(CandleFile.parseTimestamp("1677-09-21 00:12:44") == -9_223_372_036_000_000_000)
        let text = "timestamp,open,high,low,close,volume\n1010-12-31 23:01:00.000000,1,1,1,1,1\n"
        let error = #expect(throws: CandleFile.ParseError.self) { try CandleFile.parse(text) }
        #expect(error?.description == "line 2: bad timestamp \"1010-12-31 23:01:00.000000\"")
    }

    /// Two candles at the ends of the range: their distance does not fit in 64 bits.
    @Test func candleIntervalsThatOverflowAreRefused() {
        let text = "1677-09-22 00:00:00,1,1,1,1,1\n2262-04-10 00:00:00,1,1,1,1,1\n"
        #expect(throws: CandleFile.ParseError.self) { try CandleFile.bars(text, symbol: "BTC") }
    }
}
