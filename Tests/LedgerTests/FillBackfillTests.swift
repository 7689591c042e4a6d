import Ledger
import Schema
import Testing

@Suite("Fills the trace lacks, from the ledger")
struct FillBackfillTests {
    func fill(_ id: String, time: EpochNanos = 1_000) -> Fill {
        Fill(
            fillId: id, clientOrderId: "0x01", symbol: "BTC", side: .buy, price: "50000", size: "0.01", fee: "0.1",
            liquidity: .taker, purpose: .entry, strategy: "rsi", time: time)
    }

    @Test("a fill is checked one pass after it was read: the bus copy has that long to arrive")
    func onePassLater() {
        var plan = FillBackfill()
        #expect(plan.pass(fresh: [(1, fill("a")), (2, fill("b"))], traced: { _ in false }).isEmpty)
        #expect(plan.watermark == 2)
        let missing = plan.pass(fresh: [(3, fill("c"))], traced: { $0 == "a" })
        #expect(missing.map(\.fillId) == ["b"])
        #expect(plan.watermark == 3)
        // Checked once: "b" is not offered again, "c" is checked now.
        #expect(plan.pass(fresh: [], traced: { _ in true }).isEmpty)
        #expect(plan.pass(fresh: [], traced: { _ in false }).isEmpty)
        #expect(plan.watermark == 3)
    }

    @Test("the envelope is the executor's fill at its own time, in its order's trace, marked as backfilled")
    func envelope() throws {
        let original = fill("hl-7-9", time: 1_700_000_000_000_000_000)
        let (topic, bytes) = try FillBackfill.envelope(original, traceId: "trace-1")
        let raw = try RawEnvelope(topic: topic, bytes: bytes)
        #expect(topic == "exec.fill.BTC")
        #expect(raw.header.source == "executor")
        #expect(raw.header.instance == FillBackfill.instance)
        #expect(raw.header.publishTime == original.time)
        #expect(raw.header.traceId == "trace-1")
        #expect(raw.header.symbol == "BTC")
        #expect(try raw.decode(Fill.self) == original)
        let unknownOrder = try RawEnvelope(topic: topic, bytes: try FillBackfill.envelope(original, traceId: nil).bytes)
        #expect(unknownOrder.header.traceId == "backfill-hl-7-9")
    }
}
