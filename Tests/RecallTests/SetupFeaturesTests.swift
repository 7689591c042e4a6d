import Foundation
import Recall
import Resilience
import Schema
import Testing

@Suite struct SetupFeaturesTests {
    static let hour: EpochNanos = 3_600_000_000_000

    /// Inputs at which every feature but the hour is neutral: RSI 50, no slope or returns, volatility at
    /// the reference, close on its SMA, a bar of one ATR, average volume; midnight UTC.
    func neutral() -> SetupFeatures.Inputs {
        SetupFeatures.Inputs(
            rsi: 50, rsiSlope: 0, return5: 0, return15: 0, return60: 0, volatility: 0.002, close: 100, sma: 100,
            atr: 2, high: 101, low: 99, volumeZScore: 0,
            barTime: 1_700_000_000_000_000_000 / (24 * Self.hour) * 24 * Self.hour)
    }

    @Test func vectorHasTheDocumentedLayout() {
        #expect(SetupFeatures.names.count == SetupFeatures.dimension)
        #expect(SetupFeatures.vector(neutral()).count == SetupFeatures.dimension)
    }

    @Test func neutralInputsGiveZeroesAndMidnight() {
        let features = SetupFeatures.vector(neutral())
        for index in 0..<9 { #expect(abs(features[index]) < 1e-12, "feature \(SetupFeatures.names[index])") }
        #expect(abs(features[9]) < 1e-12)  // sin(0)
        #expect(abs(features[10] - 1) < 1e-12)  // cos(0)
    }

    @Test func hourOfDayIsOnTheUnitCircle() {
        var inputs = neutral()
        inputs.barTime += 6 * Self.hour
        var features = SetupFeatures.vector(inputs)
        #expect(abs(features[9] - 1) < 1e-9 && abs(features[10]) < 1e-9)
        inputs.barTime += 12 * Self.hour
        features = SetupFeatures.vector(inputs)
        #expect(abs(features[9] + 1) < 1e-9 && abs(features[10]) < 1e-9)
        // Before the epoch still maps into the day: 1969-12-31T18:00Z is 18:00.
        inputs.barTime = -6 * Self.hour
        features = SetupFeatures.vector(inputs)
        #expect(abs(features[9] + 1) < 1e-9)
    }

    @Test func eachFeatureFollowsItsFormula() {
        var inputs = neutral()
        inputs.rsi = 80
        inputs.rsiSlope = 5
        inputs.return5 = 0.002 * 5.0.squareRoot() * 2  // two expected moves → tanh(1)
        inputs.return15 = -0.002 * 15.0.squareRoot() * 2
        inputs.volatility = 0.002
        inputs.close = 106  // 3 ATRs above the SMA → tanh(1)
        inputs.high = 106 + 2 * M_E - 1
        inputs.low = 106 - 1  // range e·ATR → tanh(1)
        inputs.volumeZScore = 3
        let f = SetupFeatures.vector(inputs)
        #expect(abs(f[0] - 0.6) < 1e-12)
        #expect(abs(f[1] - tanh(1)) < 1e-12)
        #expect(abs(f[2] - tanh(1)) < 1e-12)
        #expect(abs(f[3] + tanh(1)) < 1e-12)
        #expect(abs(f[4]) < 1e-12)
        #expect(abs(f[5]) < 1e-12)
        #expect(abs(f[6] - tanh(1)) < 1e-12)
        #expect(abs(f[7] - tanh(1)) < 1e-9)
        #expect(abs(f[8] - tanh(1)) < 1e-12)
    }

    @Test func returnsAreMeasuredInUnitsOfVolatility() {
        var quiet = neutral()
        quiet.return15 = 0.01
        quiet.volatility = 0.001
        var wild = quiet
        wild.volatility = 0.004
        let q = SetupFeatures.vector(quiet)[3]
        let w = SetupFeatures.vector(wild)[3]
        #expect(q > w && w > 0)
        // Volatility itself: above the reference positive, below negative, e× the reference is tanh(1).
        #expect(SetupFeatures.vector(wild)[5] > 0 && SetupFeatures.vector(quiet)[5] < 0)
        var atE = neutral()
        atE.volatility = 0.002 * M_E
        #expect(abs(SetupFeatures.vector(atE)[5] - tanh(1)) < 1e-12)
        let scaled = SetupFeatures.vector(atE, scaling: .init(referenceVolatility: 0.002 * M_E))
        #expect(abs(scaled[5]) < 1e-12)
    }

    @Test func degenerateInputsGiveNeutralFeaturesNotNaN() {
        var inputs = neutral()
        inputs.volatility = 0
        inputs.return5 = 0.05
        inputs.atr = 0
        inputs.rsi = .nan
        inputs.rsiSlope = .infinity
        inputs.volumeZScore = -.infinity
        let f = SetupFeatures.vector(inputs)
        #expect(f.allSatisfy { $0.isFinite })
        #expect(f[0] == 0 && f[1] == 0 && f[2] == 0 && f[5] == 0 && f[6] == 0 && f[7] == 0 && f[8] == 0)
        var flat = neutral()
        flat.high = 100
        flat.low = 100
        #expect(SetupFeatures.vector(flat)[7] == -1)
    }

    @Test func extremeInputsStayWithinUnitRange() {
        var random = SeededRandom(seed: 7)
        for _ in 0..<1_000 {
            let inputs = SetupFeatures.Inputs(
                rsi: .random(in: -50...150, using: &random), rsiSlope: .random(in: -1e3...1e3, using: &random),
                return5: .random(in: -1...1, using: &random), return15: .random(in: -1...1, using: &random),
                return60: .random(in: -2...2, using: &random), volatility: .random(in: 0...1, using: &random),
                close: .random(in: 1...1e6, using: &random), sma: .random(in: 1...1e6, using: &random),
                atr: .random(in: 0...1e4, using: &random), high: .random(in: 1...1e6, using: &random),
                low: .random(in: 1...1e6, using: &random), volumeZScore: .random(in: -50...50, using: &random),
                barTime: .random(in: -1_000_000_000_000_000_000...4_000_000_000_000_000_000, using: &random))
            let f = SetupFeatures.vector(inputs)
            #expect(SetupFeatures.isValid(f))
            #expect(f.allSatisfy { $0 >= -1 && $0 <= 1 })
            #expect(f == SetupFeatures.vector(inputs))  // pure
        }
    }

    @Test func validityChecksLengthAndFiniteness() {
        #expect(SetupFeatures.isValid(Array(repeating: 0, count: SetupFeatures.dimension)))
        #expect(!SetupFeatures.isValid(Array(repeating: 0, count: SetupFeatures.dimension - 1)))
        var withNaN = Array(repeating: 0.0, count: SetupFeatures.dimension)
        withNaN[3] = .nan
        #expect(!SetupFeatures.isValid(withNaN))
    }
}
