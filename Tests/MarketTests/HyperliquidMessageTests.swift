import Foundation
import Market
import Schema
import Testing

struct HyperliquidMessageTests {
    let decoder = HyperliquidMessageDecoder()

    @Test func l2BookBecomesASnapshot() throws {
        let json = """
            {"channel":"l2Book","data":{"coin":"BTC","time":1737918843000,"levels":[\
            [{"px":"105055.0","sz":"3.03622","n":5},{"px":"105054.0","sz":"0.1428","n":1}],\
            [{"px":"105056.0","sz":"6.34472","n":13}]]}}
            """
        guard case .l2Book(let book) = try decoder.decode(Data(json.utf8)) else {
            Issue.record("not a book")
            return
        }
        #expect(book.coin == "BTC" && book.time == 1_737_918_843_000_000_000)
        #expect(
            book.bids == [
                HyperliquidLevel(price: "105055.0", size: "3.03622", orderCount: 5),
                HyperliquidLevel(price: "105054.0", size: "0.1428", orderCount: 1),
            ])
        let orderBook = book.orderBook
        #expect(orderBook.symbol == "BTC")
        #expect(orderBook.bestBid == level("105055.0", "3.03622"))
        #expect(orderBook.bestAsk == level("105056.0", "6.34472"))
        #expect(orderBook.spread == 1)
    }

    @Test func tradesCarryTheAggressorsSide() throws {
        let json = """
            {"channel":"trades","data":[\
            {"coin":"BTC","side":"B","px":"105056.0","sz":"0.00219","time":1737918794873,"hash":"0xde",\
            "tid":121451470284048,"users":["0xa","0xb"]},\
            {"coin":"BTC","side":"A","px":"105055.0","sz":"0.00035","time":1737918797023,"hash":"0x00","tid":7}]}
            """
        guard case .trades(let trades) = try decoder.decode(Data(json.utf8)) else {
            Issue.record("not trades")
            return
        }
        #expect(trades.count == 2)
        #expect(
            trades[0].side == .buy && trades[0].tradeId == 121_451_470_284_048 && trades[0].users == ["0xa", "0xb"])
        #expect(trades[1].side == .sell && trades[1].users.isEmpty)
        let print = trades[0].trade
        #expect(print.price == "105056.0" && print.size == "0.00219" && print.exchangeTime == 1_737_918_794_873_000_000)
        #expect(print.topic == "md.trade.BTC")
    }

    @Test func otherChannelsAreNamed() throws {
        let json = #"{"channel":"subscriptionResponse","data":{"method":"subscribe"}}"#
        #expect(try decoder.decode(Data(json.utf8)) == .other(channel: "subscriptionResponse"))
    }

    @Test(arguments: [
        #"{"channel":"trades","data":[{"coin":"BTC","side":"X","px":"1","sz":"1","time":1,"hash":"h","tid":1}]}"#,
        #"{"channel":"trades","data":[{"coin":"BTC","side":"B","px":"1","sz":"0","time":1,"hash":"h","tid":1}]}"#,
        #"{"channel":"l2Book","data":{"coin":"BTC","time":1,"levels":[[]]}}"#,
        #"{"channel":"l2Book","data":{"coin":"BTC","time":1,"levels":[[{"px":"-1","sz":"1","n":1}],[]]}}"#,
        #"{"channel":"l2Book","data":{"coin":"BTC","time":1,"levels":[[{"px":"1","sz":"1"}],[]]}}"#,
        #"{"data":{}}"#,
    ])
    func malformedMessagesThrow(_ json: String) {
        #expect(throws: MarketDataParseError.self) { try decoder.decode(Data(json.utf8)) }
    }
}
