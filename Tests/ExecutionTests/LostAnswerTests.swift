import Execution
import Hyperliquid
import Schema
import Testing

@Suite("An order whose answer was lost is settled by the exchange's word")
struct LostAnswerTests {
    func answer(_ status: OrderState, oid: UInt64 = 42) -> OrderStatusResponse {
        .order(
            FrontendOrder(
                coin: "ETH", side: .buy, limitPx: 3_300, sz: 1, oid: oid, timestamp: 0, triggerCondition: "N/A",
                isTrigger: false, triggerPx: 0, isPositionTpsl: false, reduceOnly: false, orderType: "Limit", origSz: 1),
            status: status, statusTimestamp: 0)
    }

    @Test("unknown: never placed; refused: a reject; open or triggered: live; anything else: ended")
    func resolutions() {
        #expect(LostAnswer.resolve(.unknownOid) == .neverPlaced)
        #expect(LostAnswer.resolve(answer(.badAloPxRejected)) == .refused(.badAloPxRejected))
        #expect(LostAnswer.resolve(answer(.rejected)) == .refused(.rejected))
        #expect(LostAnswer.resolve(answer(.open, oid: 7)) == .live(oid: 7))
        #expect(LostAnswer.resolve(answer(.triggered, oid: 8)) == .live(oid: 8))
        #expect(LostAnswer.resolve(answer(.filled, oid: 9)) == .ended(oid: 9, .filled))
        #expect(LostAnswer.resolve(answer(.scheduledCancel, oid: 9)) == .ended(oid: 9, .scheduledCancel))
        #expect(LostAnswer.resolve(answer(.siblingFilledCanceled, oid: 9)) == .ended(oid: 9, .siblingFilledCanceled))
    }
}
