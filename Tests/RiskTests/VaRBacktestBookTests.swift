import Foundation
import Risk
import Schema
import Testing

/// The risk book feeds its VaR back-test: each UTC day's equity change (the daily loss limit's
/// baseline) against the VaR forecast at the day's first mark with positions held.
@Suite("VaR back-test in the risk book")
struct VaRBacktestBookTests {
    /// With no history the VaR is the fallback: 1 % of gross, so 100 units of S0 at 100 forecast 100.
    static let portfolio = PortfolioRiskLimits(
        maxValueAtRisk: 1_000_000, maxExpectedShortfall: 1_000_000, maxStressLoss: 1_000_000,
        fallbackLossFraction: 0.01)
    static let limits = roomyLimits(drawdownLock: 0.5, reduceAtDrawdown: 0.4)

    func day(_ n: Int64, _ s: Int64 = 10) -> EpochNanos { t0 + n * Nanos.day + seconds(s) }

    /// Long 100 S0 at 100, portfolio limits on, the day-0 forecast taken.
    func longBook(portfolio: PortfolioRiskLimits? = Self.portfolio, positions: [Position] = [position("S0", 100)]) -> RiskBook {
        var book = activeBook(Self.limits, positions: positions)
        book.portfolioLimits = portfolio
        _ = book.updateMark(symbol: "S0", price: 100, now: day(0))
        return book
    }

    func throughJSON(_ memory: RiskMemory) throws -> RiskMemory {
        try JSONDecoder().decode(RiskMemory.self, from: JSONEncoder().encode(memory))
    }

    @Test("a day whose loss exceeds its VaR forecast counts; one within it does not")
    func countsExceptions() {
        var book = longBook()
        #expect(book.varForecast == VaRForecast(day: t0 / Nanos.day, valueAtRisk: 100))
        _ = book.updateMark(symbol: "S0", price: "98.5", now: day(0, 3_600))  // −150 on day 0
        // The first mark of day 1 closes day 0 at the equity before it: −150 > VaR 100.
        _ = book.updateMark(symbol: "S0", price: "98.5", now: day(1))
        #expect(book.varBacktest.days == 1)
        #expect(book.varBacktest.exceptions == 1)
        #expect(book.varBacktest.observations.first == .init(day: t0, forecastVaR: 100, realisedPnl: -150))
        // Day 1's forecast is for the positions then: 1 % of 9,850.
        #expect(book.varForecast == VaRForecast(day: t0 / Nanos.day + 1, valueAtRisk: 98.5))
        _ = book.updateMark(symbol: "S0", price: 98, now: day(1, 3_600))  // −50 on day 1: within 98.5
        _ = book.updateMark(symbol: "S0", price: 98, now: day(2))
        #expect(book.varBacktest.days == 2)
        #expect(book.varBacktest.exceptions == 1)
        #expect(book.varBacktest.observations.last?.realisedPnl == -50)
        #expect(book.varBacktest.zone == nil, "no traffic light before 250 days")
        // Marks later in the day take no new forecast.
        _ = book.updateMark(symbol: "S0", price: 50, now: day(2, 60))
        #expect(book.varForecast?.valueAtRisk == 98)
    }

    @Test("a day without a forecast is not recorded: portfolio limits off, or flat all day")
    func daysWithoutForecast() {
        var off = longBook(portfolio: nil)
        _ = off.updateMark(symbol: "S0", price: 90, now: day(0, 60))
        _ = off.updateMark(symbol: "S0", price: 90, now: day(1))
        #expect(off.varForecast == nil)
        #expect(off.varBacktest.days == 0)

        var flat = longBook(positions: [])
        #expect(flat.varForecast == nil)
        _ = flat.updateMark(symbol: "S0", price: 90, now: day(1))
        _ = flat.updateMark(symbol: "S0", price: 90, now: day(2))
        #expect(flat.varBacktest.days == 0)
    }

    @Test("a jump over several days (the gate was down) tests no day: the change spans more than one forecast")
    func gapOfDaysIsNotRecorded() {
        var book = longBook()
        _ = book.updateMark(symbol: "S0", price: 90, now: day(3))
        #expect(book.varBacktest.days == 0)
        #expect(book.varForecast?.day == t0 / Nanos.day + 3)
    }

    @Test("a restart keeps the count and the day's forecast; a day replayed is not counted twice")
    func survivesRestartAndReplay() throws {
        var book = longBook()
        _ = book.updateMark(symbol: "S0", price: "98.5", now: day(0, 3_600))
        _ = book.updateMark(symbol: "S0", price: "98.5", now: day(1))  // day 0: −150, an exception
        let saved = try throughJSON(book.memory)
        #expect(saved.varBacktest?.count == 1)
        #expect(saved.varForecast == VaRForecast(day: t0 / Nanos.day + 1, valueAtRisk: 98.5))

        // Restart within day 1, now holding more: the forecast stays the one taken at the day's start.
        let restart = day(1, 600)
        var restored = RiskBook(limits: Self.limits, instruments: testInstruments(), startingCapital: 10_000, now: restart)
        restored.portfolioLimits = Self.portfolio
        _ = restored.restore(saved, now: restart)
        _ = restored.apply(
            snapshot(at: restart, positions: [position("S0", 200, entry: "99.25", unrealized: -150)]), now: restart)
        _ = restored.updateMark(symbol: "S0", price: "98.5", now: restart + 1)
        #expect(restored.varBacktest.days == 1 && restored.varBacktest.exceptions == 1)
        #expect(restored.varForecast?.valueAtRisk == 98.5)
        #expect(restored.memory == saved, "nothing about the back-test changed within the day")

        // Day 1 closes: 200 × −1 = −200 since the day's start equity, beyond 98.5.
        _ = restored.updateMark(symbol: "S0", price: "97.5", now: day(1, 700))
        _ = restored.updateMark(symbol: "S0", price: "97.5", now: day(2))
        #expect(restored.varBacktest.days == 2 && restored.varBacktest.exceptions == 2)

        // A memory that says day 0 is still open (with day 0 already in the back-test) replays day 0's
        // close: the back-test keeps one observation of it.
        var stale = saved
        stale.day = t0 / Nanos.day
        stale.varForecast = VaRForecast(day: t0 / Nanos.day, valueAtRisk: 1)
        var replayed = RiskBook(limits: Self.limits, instruments: testInstruments(), startingCapital: 10_000, now: day(0, 20))
        replayed.portfolioLimits = Self.portfolio
        _ = replayed.restore(stale, now: day(0, 20))
        _ = replayed.apply(snapshot(at: day(0, 20), positions: [position("S0", 100, entry: 100)]), now: day(0, 20))
        _ = replayed.updateMark(symbol: "S0", price: 50, now: day(0, 30))
        _ = replayed.updateMark(symbol: "S0", price: 50, now: day(1))
        #expect(replayed.varBacktest.observations == book.varBacktest.observations)
        #expect(replayed.varBacktest.exceptions == 1)
    }

    @Test("a memory saved before the back-test existed still reads: an empty back-test, no forecast")
    func oldMemoryReads() throws {
        let memory = longBook().memory
        var object = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(memory)) as? [String: Any])
        #expect(object["varForecast"] != nil && object["varBacktest"] != nil)
        object["varForecast"] = nil
        object["varBacktest"] = nil
        let old = try JSONDecoder().decode(RiskMemory.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.varForecast == nil && old.varBacktest == nil)
        var restored = RiskBook(limits: Self.limits, instruments: testInstruments(), startingCapital: 10_000, now: day(0))
        _ = restored.restore(old, now: day(0))
        #expect(restored.varBacktest.days == 0 && restored.varForecast == nil)
        #expect(restored.memory.peakEquity == memory.peakEquity)
    }

    @Test("the report for the bus carries the figures and the back-test; nil while the limits are off")
    func report() throws {
        var book = longBook()
        _ = book.updateMark(symbol: "S0", price: "98.5", now: day(0, 3_600))
        _ = book.updateMark(symbol: "S0", price: "98.5", now: day(1))
        let (assessment, report) = try #require(book.portfolioReport(now: day(1)))
        let message = try #require(report)
        #expect(message.valueAtRisk == "98.5" && message.basis == .insufficientHistory)
        #expect(message.exposures == [SymbolNotional(symbol: "S0", notional: 9_850)])
        #expect(message.grossExposure == 9_850 && message.confidence == 0.99 && message.horizonBars == 1_440)
        #expect(message.worstStress == assessment.stress.worst?.name && message.worstStressLoss == "2955")
        #expect(message.backtestDays == 1 && message.backtestExceptions == 1 && message.backtestZone == nil)
        #expect(message.time == day(1) && message.topic == "risk.portfolio")
        #expect(longBook(portfolio: nil).portfolioReport(now: day(0)) == nil)
    }
}
