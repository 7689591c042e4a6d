import FuzzSupport
import Market
import Schema

/// The recorded-file readers, as the feed handler, the risk gate and exchange-sim run them on a file's
/// text. The first byte picks the file kind, the rest is its text:
/// `c` a candle file (`CandleFile`), `t` Binance's trades CSV (`BinanceTradeRow`), `h` the Hyperliquid
/// `/ws` capture (`CaptureFile` lines through `HyperliquidMessageDecoder` into a book), `l` the Binance
/// depth capture (`CaptureFile` lines through `BinanceMessageDecoder` into `BinanceDepthSync`).
enum FuzzMarketFiles {
    static func check(_ bytes: [UInt8]) {
        guard let kind = bytes.first else { return }
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        switch kind {
        case UInt8(ascii: "c"): candles(text)
        case UInt8(ascii: "t"): trades(text)
        case UInt8(ascii: "h"): hyperliquidCapture(text)
        case UInt8(ascii: "l"): binanceCapture(text)
        default: return
        }
    }

    static func candles(_ text: String) {
        _ = try? CandleFile.bars(text, symbol: "BTC")
        for line in text.split(whereSeparator: \.isNewline).prefix(4) { _ = CandleFile.parseTimestamp(line) }
    }

    static func trades(_ text: String) {
        var first: Int64?
        for line in text.split(whereSeparator: \.isNewline) {
            guard let row = try? BinanceTradeRow.parse(line) else { continue }
            let start = first ?? row.microseconds
            first = start
            _ = CaptureFile.offsetMilliseconds(from: start, to: row.microseconds, unitsPerMillisecond: 1_000)
            _ = row.price * row.amount
        }
    }

    static func hyperliquidCapture(_ text: String) {
        let decoder = HyperliquidMessageDecoder()
        var first: Int64?
        var book = OrderBook(symbol: "BTC")
        for line in text.split(whereSeparator: \.isNewline) {
            guard let (nanos, json) = CaptureFile.line(line), let message = try? decoder.decode(Array(json.utf8)) else { continue }
            let start = first ?? nanos
            first = start
            _ = CaptureFile.offsetMilliseconds(from: start, to: nanos, unitsPerMillisecond: 1_000_000)
            if case .l2Book(let snapshot) = message {
                book.applySnapshot(
                    bids: snapshot.bids.map { BookLevel(price: $0.price, size: $0.size) },
                    asks: snapshot.asks.map { BookLevel(price: $0.price, size: $0.size) })
                _ = (book.mid, book.microprice, book.spread, book.imbalance(levels: 5), book.isCrossed)
                _ = book.bookUpdate(levels: 20, exchangeTime: snapshot.time)
            }
        }
    }

    static func binanceCapture(_ text: String) {
        let decoder = BinanceMessageDecoder()
        var sync: BinanceDepthSync?
        var first: Int64?
        for line in text.split(whereSeparator: \.isNewline) {
            guard let (nanos, json) = CaptureFile.line(line), let message = try? decoder.decode(Array(json.utf8)) else { continue }
            let start = first ?? nanos
            first = start
            _ = CaptureFile.offsetMilliseconds(from: start, to: nanos, unitsPerMillisecond: 1_000_000)
            switch message {
            case .depthUpdate(let diff):
                if sync == nil { sync = BinanceDepthSync(symbol: diff.symbol, maxBufferedDiffs: 64) }
                _ = sync?.receive(diff)
            case .depthSnapshot(let snapshot):
                if sync == nil { sync = BinanceDepthSync(symbol: "BTCUSDT", maxBufferedDiffs: 64) }
                _ = sync?.applySnapshot(snapshot)
            case .trade, .bookTicker, .other:
                continue
            }
            if let book = sync?.book, sync?.isSynced == true {
                _ = (book.mid, book.levels(.bid, limit: 20), book.levels(.ask, limit: 20))
                _ = book.depth(withinBasisPoints: 10)
            }
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzMarketFiles.check(FuzzMain.bytes(data, size))
    return 0
}

@main enum Main {
    static func main() { FuzzMain.run(targetFile: #filePath, FuzzMarketFiles.check) }
}
