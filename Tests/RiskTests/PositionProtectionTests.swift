import Risk
import Schema
import Testing

@Suite("Position protection: every position keeps a stop on the exchange")
struct PositionProtectionTests {
    let instruments = testInstruments(["ETH"])
    var protection: PositionProtection { PositionProtection(instruments: instruments) }

    func entry(_ side: Side, size: Amount = 2, intent: String = "i1") -> OrderCommand {
        OrderCommand(
            action: .place, clientOrderId: Identifier.clientOrderId(forIntent: intent), intentId: intent, symbol: "ETH",
            side: side, size: size, orderType: .market, price: 100, timeInForce: .ioc, reduceOnly: false,
            purpose: .entry, strategy: "rsi", ackDeadline: t0 + seconds(5))
    }

    @Test("an entry carries a market stop-loss for its size, and a take-profit when asked, rounded to the venue")
    func entryCarriesItsStop() throws {
        let orders = protection.protectiveOrders(
            for: entry(.buy), reference: 100, stopPrice: "97.123456", takeProfit: (price: "103.0049", size: 1))
        #expect(orders.count == 2)
        let stop = try #require(orders.first)
        #expect(stop.clientOrderId == Identifier.clientOrderId(forIntent: "i1:sl"))
        #expect(stop.side == .sell && stop.size == 2 && stop.exitPath == "hard_stop")
        // Five significant figures; a sell stop rounds down (never tighter than asked).
        #expect(stop.trigger == OrderTrigger(kind: .stopLoss, triggerPrice: "97.123", isMarket: true))
        // The worst price a market stop accepts: 10 % beyond the trigger.
        #expect(stop.price == "87.41")
        let takeProfit = orders[1]
        #expect(takeProfit.trigger == OrderTrigger(kind: .takeProfit, triggerPrice: "103.01", isMarket: true))
        #expect(takeProfit.size == 1 && takeProfit.side == .sell && takeProfit.exitPath == "take_profit")
    }

    @Test("a short's stop is a buy above the entry; a stop on the wrong side of the entry gives no protection")
    func shortsAndWrongSides() throws {
        let short = protection.protectiveOrders(for: entry(.sell), reference: 100, stopPrice: 103)
        #expect(short.first?.side == .buy)
        #expect(short.first?.trigger.triggerPrice == 103)
        #expect(short.first?.price == "113.3")
        #expect(protection.protectiveOrders(for: entry(.buy), reference: 100, stopPrice: 101).isEmpty)
        var reduce = entry(.sell)
        reduce.reduceOnly = true
        #expect(protection.protectiveOrders(for: reduce, reference: 100, stopPrice: 103).isEmpty)
    }

    @Test("a position without a stop gets one of its own (positionTpsl), and none twice while it is pending")
    func unprotectedPositionGetsAStop() throws {
        var book = protection
        let commands = book.plan(
            positions: ["ETH": 2], stopLevels: ["ETH": 97], marks: ["ETH": 100], now: t0, ackDeadline: t0 + seconds(5))
        let stop = try #require(commands.first)
        #expect(commands.count == 1)
        #expect(stop.action == .place && stop.grouping == .positionTpsl && stop.reduceOnly)
        #expect(stop.side == .sell && stop.size == 2 && stop.trigger?.triggerPrice == 97 && stop.trigger?.kind == .stopLoss)
        #expect(book.stops["ETH"]?.pendingSince == t0)
        // Unanswered: nothing more until the answer comes or it times out.
        #expect(book.plan(positions: ["ETH": 2], stopLevels: ["ETH": 97], marks: ["ETH": 100], now: t0 + seconds(1), ackDeadline: 0).isEmpty)
        book.apply(OrderAck(clientOrderId: stop.clientOrderId, venueOrderId: "7", symbol: "ETH", action: .place))
        #expect(book.stops["ETH"]?.pendingSince == nil)
        #expect(book.plan(positions: ["ETH": 2], stopLevels: ["ETH": 97], marks: ["ETH": 100], now: t0 + seconds(2), ackDeadline: 0).isEmpty)
    }

    @Test("the stop follows the exit engine's level only when it improves by the minimum move, and the position's size")
    func stopFollowsLevelAndSize() throws {
        var book = protection
        let placed = book.plan(positions: ["ETH": 2], stopLevels: ["ETH": 97], marks: ["ETH": 100], now: t0, ackDeadline: 0)
        book.apply(OrderAck(clientOrderId: placed[0].clientOrderId, venueOrderId: "7", symbol: "ETH", action: .place))
        // 97.05 is less than 0.1 % better: left alone. A worse level never loosens the stop.
        #expect(book.plan(positions: ["ETH": 2], stopLevels: ["ETH": "97.05"], marks: ["ETH": 101], now: t0 + 1, ackDeadline: 0).isEmpty)
        #expect(book.plan(positions: ["ETH": 2], stopLevels: ["ETH": 95], marks: ["ETH": 101], now: t0 + 2, ackDeadline: 0).isEmpty)
        let moved = book.plan(positions: ["ETH": 2], stopLevels: ["ETH": 99], marks: ["ETH": 102], now: t0 + 3, ackDeadline: 0)
        #expect(moved.count == 1)
        #expect(moved[0].action == .modify && moved[0].clientOrderId == placed[0].clientOrderId)
        #expect(moved[0].trigger?.triggerPrice == 99 && moved[0].size == 2)
        book.apply(OrderAck(clientOrderId: placed[0].clientOrderId, venueOrderId: "8", symbol: "ETH", action: .modify))
        // Half the position closed: the stop shrinks with it, at the same level.
        let resized = book.plan(positions: ["ETH": 1], stopLevels: ["ETH": 99], marks: ["ETH": 102], now: t0 + 4, ackDeadline: 0)
        #expect(resized.map(\.action) == [.modify])
        #expect(resized[0].size == 1 && resized[0].trigger?.triggerPrice == 99)
    }

    @Test("a flat symbol's stop is canceled; a flipped position's stop is replaced")
    func flatAndFlipped() throws {
        var book = protection
        let placed = book.plan(positions: ["ETH": 2], stopLevels: ["ETH": 97], marks: ["ETH": 100], now: t0, ackDeadline: 0)
        book.apply(OrderAck(clientOrderId: placed[0].clientOrderId, venueOrderId: "7", symbol: "ETH", action: .place))
        let flipped = book.plan(positions: ["ETH": -1], stopLevels: ["ETH": 104], marks: ["ETH": 100], now: t0 + 1, ackDeadline: 0)
        #expect(flipped.map(\.action) == [.cancel, .place])
        #expect(flipped[0].clientOrderId == placed[0].clientOrderId)
        #expect(flipped[1].side == .buy && flipped[1].size == 1)
        // Nothing more while the answers are awaited.
        #expect(book.plan(positions: [:], stopLevels: [:], marks: ["ETH": 100], now: t0 + 2, ackDeadline: 0).isEmpty)
        book.apply(OrderAck(clientOrderId: flipped[0].clientOrderId, venueOrderId: "7", symbol: "ETH", action: .cancel))
        book.apply(OrderAck(clientOrderId: flipped[1].clientOrderId, venueOrderId: "9", symbol: "ETH", action: .place))
        let flat = book.plan(positions: [:], stopLevels: [:], marks: ["ETH": 100], now: t0 + 2, ackDeadline: 0)
        #expect(flat.map(\.action) == [.cancel])
        #expect(flat[0].clientOrderId == flipped[1].clientOrderId)
        book.apply(OrderCanceled(clientOrderId: flat[0].clientOrderId, symbol: "ETH", reason: Reason("canceled_by_request")))
        #expect(book.stops.isEmpty)
    }

    /// A long of 2 with its acknowledged stop, which a fill then closed or flipped at t0 + 1 s.
    func endedLongWithItsStop() -> (PositionProtection, [OrderCommand]) {
        var book = protection
        let placed = book.plan(positions: ["ETH": 2], stopLevels: ["ETH": 97], marks: ["ETH": 100], now: t0, ackDeadline: 0)
        book.apply(OrderAck(clientOrderId: placed[0].clientOrderId, venueOrderId: "7", symbol: "ETH", action: .place))
        book.positionEnded("ETH", at: t0 + seconds(1))
        return (book, placed)
    }

    @Test("a fill that leaves the symbol flat: its stop is the venue's to cancel; canceled here only if the venue has not within the answer timeout")
    func flatByFillWaitsForTheVenue() throws {
        var (book, placed) = endedLongWithItsStop()
        // The venue's reduce-only cancel is on its way: no cancel races it.
        #expect(book.plan(positions: [:], stopLevels: [:], marks: ["ETH": 100], now: t0 + seconds(2), ackDeadline: 0).isEmpty)
        #expect(book.stops["ETH"] != nil)
        var answered = book
        answered.apply(OrderCanceled(clientOrderId: placed[0].clientOrderId, symbol: "ETH", reason: Reason("reduce_only_canceled")))
        #expect(answered.stops.isEmpty)
        #expect(answered.plan(positions: [:], stopLevels: [:], marks: ["ETH": 100], now: t0 + seconds(20), ackDeadline: 0).isEmpty)
        // No word from the venue within the answer timeout: the stop is canceled here.
        let late = book.plan(positions: [:], stopLevels: [:], marks: ["ETH": 100], now: t0 + seconds(11), ackDeadline: 0)
        #expect(late.map(\.action) == [.cancel])
        #expect(late.first?.clientOrderId == placed[0].clientOrderId)
    }

    @Test("a fill that flips the position: the old direction's stop is the venue's to cancel; the new direction gets its stop at once")
    func flippedByFillWaitsForTheVenue() throws {
        var (book, placed) = endedLongWithItsStop()
        let flipped = book.plan(positions: ["ETH": -1], stopLevels: ["ETH": 104], marks: ["ETH": 100], now: t0 + seconds(2), ackDeadline: 0)
        #expect(flipped.map(\.action) == [.place])
        #expect(flipped.first?.side == .buy && flipped.first?.size == 1)
        book.apply(OrderAck(clientOrderId: flipped[0].clientOrderId, venueOrderId: "9", symbol: "ETH", action: .place))
        // Still no word of the old stop after the answer timeout: canceled here.
        let late = book.plan(positions: ["ETH": -1], stopLevels: ["ETH": 104], marks: ["ETH": 100], now: t0 + seconds(12), ackDeadline: 0)
        #expect(late.map(\.action) == [.cancel])
        #expect(late.first?.clientOrderId == placed[0].clientOrderId)
    }

    @Test("two stops for one position (an entry's and a replacement): the smaller is canceled, the kept one resized")
    func duplicatesCanceled() throws {
        var book = protection
        func stop(_ id: String, size: Amount) -> OpenOrder {
            OpenOrder(
                clientOrderId: id, symbol: "ETH", side: .sell, size: size, price: 87,
                trigger: OrderTrigger(kind: .stopLoss, triggerPrice: 97, isMarket: true), reduceOnly: true)
        }
        book.apply(
            snapshot(
                at: t0, positions: [Position(symbol: "ETH", size: "1.97", entryPrice: 100, unrealizedPnl: 0)],
                openOrders: [stop("0xentry-sl", size: 2), stop("0xreplacement", size: "1.97")]))
        let commands = book.plan(positions: ["ETH": "1.97"], stopLevels: ["ETH": 97], marks: ["ETH": 100], now: t0, ackDeadline: 0)
        #expect(commands.map(\.action) == [.cancel, .modify])
        #expect(commands[0].clientOrderId == "0xreplacement")
        #expect(commands[1].clientOrderId == "0xentry-sl" && commands[1].size == "1.97")
        book.apply(OrderAck(clientOrderId: "0xreplacement", venueOrderId: "1", symbol: "ETH", action: .cancel))
        book.apply(OrderAck(clientOrderId: "0xentry-sl", venueOrderId: "2", symbol: "ETH", action: .modify))
        #expect(book.resting["ETH"]?.count == 1)
        #expect(book.plan(positions: ["ETH": "1.97"], stopLevels: ["ETH": 97], marks: ["ETH": 100], now: t0 + 1, ackDeadline: 0).isEmpty)
    }

    @Test("a level the mark is already through is not sent: the exit engine closes at market instead")
    func levelThroughTheMark() {
        var book = protection
        #expect(book.plan(positions: ["ETH": 2], stopLevels: ["ETH": 101], marks: ["ETH": 100], now: t0, ackDeadline: 0).isEmpty)
        #expect(book.unprotectable["ETH"]?.contains("not below the mark") == true)
    }

    @Test("after a restart the stops come from the account snapshot; a pending one survives a snapshot that lags")
    func restoredFromSnapshot() throws {
        var book = protection
        let stopId = Identifier.clientOrderId(forIntent: "old:sl")
        book.apply(
            snapshot(
                at: t0, positions: [Position(symbol: "ETH", size: 2, entryPrice: 100, unrealizedPnl: 0)],
                openOrders: [
                    OpenOrder(
                        clientOrderId: stopId, symbol: "ETH", side: .sell, size: 2, price: "87.3",
                        trigger: OrderTrigger(kind: .stopLoss, triggerPrice: 97, isMarket: true), reduceOnly: true),
                    OpenOrder(clientOrderId: "0xplain", symbol: "ETH", side: .sell, size: 1, price: 110),
                ]))
        #expect(book.stops["ETH"]?.clientOrderId == stopId)
        #expect(book.plan(positions: ["ETH": 2], stopLevels: ["ETH": 97], marks: ["ETH": 100], now: t0, ackDeadline: 0).isEmpty)

        var fresh = protection
        fresh.sent(entry(.buy).with(protection: fresh.protectiveOrders(for: entry(.buy), reference: 100, stopPrice: 97)), now: t0)
        fresh.apply(snapshot(at: t0 + 1))
        #expect(fresh.stops["ETH"]?.clientOrderId == Identifier.clientOrderId(forIntent: "i1:sl"))
    }

    @Test("a fill of the stop itself, or a refused place, leaves the symbol without a stop")
    func firedOrRefused() throws {
        var book = protection
        let placed = book.plan(positions: ["ETH": 2], stopLevels: ["ETH": 97], marks: ["ETH": 100], now: t0, ackDeadline: 0)
        book.apply(OrderReject(clientOrderId: placed[0].clientOrderId, symbol: "ETH", reason: Reason(.venueRejected, "Invalid TP/SL price.")))
        #expect(book.stops["ETH"] == nil)
        let again = book.plan(positions: ["ETH": 2], stopLevels: ["ETH": 97], marks: ["ETH": 100], now: t0 + 1, ackDeadline: 0)
        book.apply(OrderAck(clientOrderId: again[0].clientOrderId, venueOrderId: "7", symbol: "ETH", action: .place))
        book.apply(
            Fill(
                fillId: "f", clientOrderId: again[0].clientOrderId, symbol: "ETH", side: .sell, price: 97, size: 2, fee: 0,
                liquidity: .taker, purpose: .exit, strategy: "protection", time: t0 + 2))
        #expect(book.stops["ETH"] == nil)
    }

    @Test("after its stop fired, a symbol gets no new stop until a snapshot says what is left (the book may lag the fill)")
    func noNewStopRightAfterItFired() throws {
        var book = protection
        let placed = book.plan(positions: ["ETH": 2], stopLevels: ["ETH": 97], marks: ["ETH": 100], now: t0, ackDeadline: 0)
        book.apply(OrderAck(clientOrderId: placed[0].clientOrderId, venueOrderId: "7", symbol: "ETH", action: .place))
        book.apply(
            Fill(
                fillId: "f", clientOrderId: placed[0].clientOrderId, symbol: "ETH", side: .sell, price: 97, size: 2, fee: 0,
                liquidity: .taker, purpose: .exit, strategy: "protection", time: t0 + seconds(1)))
        // The risk book still shows the position: no stop is placed for what is already closed.
        #expect(book.plan(positions: ["ETH": 2], stopLevels: ["ETH": 97], marks: ["ETH": 100], now: t0 + seconds(2), ackDeadline: 0).isEmpty)
        // A snapshot that still shows a position (the stop filled only in part): it gets a stop again.
        book.apply(snapshot(at: t0 + seconds(3), positions: [Position(symbol: "ETH", size: 1, entryPrice: 100, unrealizedPnl: 0)]))
        let again = book.plan(positions: ["ETH": 1], stopLevels: ["ETH": 97], marks: ["ETH": 100], now: t0 + seconds(3), ackDeadline: 0)
        #expect(again.count == 1 && again.first?.action == .place && again.first?.size == 1)
    }
}

extension OrderCommand {
    func with(protection: [ProtectiveOrder]) -> OrderCommand {
        var command = self
        command.protectiveOrders = protection
        command.grouping = .normalTpsl
        return command
    }
}
