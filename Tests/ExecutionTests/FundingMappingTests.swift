import Execution
import Hyperliquid
import Schema
import Testing

@Suite("Funding mapping")
struct FundingMappingTests {
    let payment = UserFunding(
        time: 1_641_027_600_000, hash: "0x" + String(repeating: "0", count: 64), coin: "BTC", usdc: "-0.006249",
        szi: "0.01078", fundingRate: "0.0000125", nSamples: nil)

    @Test("a userFunding payment becomes a FundingSettlement with every figure exact, time in ns")
    func settlement() {
        let settlement = FundingMapping.settlement(payment)
        #expect(settlement.symbol == "BTC")
        #expect(settlement.amount == "-0.006249")
        #expect(settlement.rate == "0.0000125")
        #expect(settlement.positionSize == "0.01078")
        #expect(settlement.time == 1_641_027_600_000_000_000)
        #expect(settlement.topic == "acct.funding.BTC")
    }

    @Test("the id is stable, and differs by coin and time even where Hyperliquid's hash is zero")
    func identity() {
        #expect(FundingMapping.fundingId(payment) == FundingMapping.fundingId(payment))
        var otherCoin = payment
        otherCoin.coin = "ETH"
        var otherHour = payment
        otherHour.time += 3_600_000
        var otherHash = payment
        otherHash.hash = "0xabc"
        let ids = [payment, otherCoin, otherHour, otherHash].map(FundingMapping.fundingId)
        #expect(Set(ids).count == 4)
    }

    @Test("a time past the nanosecond range is clamped, not a crash")
    func farFuture() {
        var far = payment
        far.time = .max
        #expect(FundingMapping.settlement(far).time > 0)
    }
}

@Suite("Funding sync")
struct FundingSyncTests {
    @Test("the request starts a minute before the newest payment, else before the first order, never below zero")
    func start() {
        #expect(FundingSync.startMs(lastFunding: nil, firstOrder: nil) == nil)
        #expect(FundingSync.startMs(lastFunding: nil, firstOrder: 1_700_000_000_000_000_000) == 1_699_999_940_000)
        #expect(
            FundingSync.startMs(lastFunding: 1_700_003_600_000_000_000, firstOrder: 1_700_000_000_000_000_000)
                == 1_700_003_540_000)
        #expect(FundingSync.startMs(lastFunding: 5_000_000_000, firstOrder: nil) == 0)
        #expect(FundingSync.startMs(lastFunding: -1, firstOrder: nil) == 0)
        #expect(FundingSync.startMs(lastFunding: .min, firstOrder: nil) == 0)
    }

    @Test("only flat, a minute past the last fill, settles funding until the next fill")
    func settles() {
        let fill: EpochNanos = 1_700_000_000_000_000_000
        #expect(FundingSync.settlesUntilNextFill(flat: true, lastFillTime: fill, now: fill + 60_000_000_000))
        #expect(!FundingSync.settlesUntilNextFill(flat: true, lastFillTime: fill, now: fill + 59_999_999_999))
        #expect(!FundingSync.settlesUntilNextFill(flat: false, lastFillTime: fill, now: fill + 3_600_000_000_000))
        #expect(FundingSync.settlesUntilNextFill(flat: true, lastFillTime: nil, now: 0))
        #expect(!FundingSync.settlesUntilNextFill(flat: true, lastFillTime: .min, now: .max))
    }
}
