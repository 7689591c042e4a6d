import Foundation
import Market
import Model
import Schema
import Strategy
import Testing

/// A model over the feature set whose probabilities do not depend on the features: softmax of
/// the base margins (sell, hold, buy).
func constantModel(margins: [Float]) -> HandModel {
    var hand = HandModel()
    hand.objective = "multi:softprob"
    hand.numClass = 3
    hand.numFeature = BarFeatures.names.count
    hand.featureNames = BarFeatures.names
    hand.baseScore = "[" + margins.map { "\($0)" }.joined(separator: ",") + "]"
    hand.trees = [[(-1, -1, 0, 0, false)], [(-1, -1, 0, 0, false)], [(-1, -1, 0, 0, false)]]
    hand.treeInfo = [0, 1, 2]
    return hand
}

func servingMetadata(trainedAt: Date, features: [String] = BarFeatures.names, classes: [String] = TradeClass.names)
    -> ModelMetadata
{
    ModelMetadata(
        symbol: "BTC", trainedAt: trainedAt, dataFrom: Date(timeIntervalSince1970: 0),
        dataTo: Date(timeIntervalSince1970: 60), rows: 100, trainRows: 80, holdoutRows: 20, features: features,
        featureSetVersion: BarFeatures.version, classes: classes, classShares: ["sell": 0.3, "hold": 0.4, "buy": 0.3],
        horizonBars: 15, neutralBandBps: 10, holdoutAccuracy: 0.4, holdoutLogLoss: 1.05, xgboostVersion: "3.2.0",
        seed: 7, source: "unit test", params: [:])
}

/// A fresh model folder: `<root>/BTC/<version>/`.
struct ModelFolder {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("breakwater-models-\(UUID().uuidString)").path

    func write(_ version: String, model: HandModel?, metadata: ModelMetadata?) throws {
        let folder = "\(root)/BTC/\(version)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if let model { try Data(model.json.utf8).write(to: URL(fileURLWithPath: "\(folder)/model.json")) }
        if let metadata { try metadata.encoded().write(to: URL(fileURLWithPath: "\(folder)/metadata.json")) }
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

func minuteBars(_ closes: [Double], start: Int64 = 0, step: Int64 = 60) -> [Bar] {
    closes.enumerated().map { index, close in
        let price = Amount(close)
        return Bar(
            symbol: "BTC", intervalSeconds: 60, openTime: start + Int64(index) * step * 1_000_000_000, open: price,
            high: Amount(close * 1.001), low: Amount(close * 0.999), close: price, volume: 1_000)
    }
}

@Suite("Training set")
struct TrainingSetTests {
    @Test("labels by the forward log return against the neutral band")
    func labels() {
        let rule = LabelRule(horizonBars: 2, neutralBandBps: 10)
        #expect(rule.label(from: 100, to: 100.2) == .buy)
        #expect(rule.label(from: 100, to: 100.05) == .hold)
        #expect(rule.label(from: 100, to: 99.95) == .hold)
        #expect(rule.label(from: 100, to: 99.8) == .sell)
    }

    @Test("one row per warm bar with a full horizon; the label looks exactly that far ahead")
    func rows() throws {
        let closes = (0..<80).map { 100 + sin(Double($0) / 3) * 2 }
        let set = try TrainingSet.build(bars: minuteBars(closes).shuffled(), rule: LabelRule(horizonBars: 5, neutralBandBps: 10))
        // Bars 49…74 have a bar five later.
        #expect(set.rows.count == 80 - 49 - 5)
        #expect(set.featureNames == BarFeatures.names)
        for (row, time) in set.times.enumerated() {
            let index = Int(time / 60_000_000_000)
            #expect(set.labels[row] == set.rule.label(from: closes[index], to: closes[index + 5]))
        }
        let header = set.csv().split(separator: "\n").first.map(String.init)
        #expect(header == "time," + BarFeatures.names.joined(separator: ",") + ",label")
    }

    @Test("a horizon across a gap is skipped, not labelled with a made-up return")
    func gaps() throws {
        var bars = minuteBars((0..<70).map { 100 + Double($0 % 5) })
        bars.removeSubrange(60..<62)
        let set = try TrainingSet.build(bars: bars, rule: LabelRule(horizonBars: 3, neutralBandBps: 10))
        #expect(set.rowsSkippedForGaps == 3)
        #expect(set.rows.count == (68 - 49 - 3) - 3)
    }

    @Test("bad input is refused with what is wrong")
    func refusals() {
        let bars = minuteBars((0..<80).map { 100 + Double($0 % 5) })
        #expect(throws: TrainingSetError.self) { try TrainingSet.build(bars: [], rule: .init(horizonBars: 5, neutralBandBps: 1)) }
        #expect(throws: TrainingSetError.self) { try TrainingSet.build(bars: bars + [bars[3]], rule: .init(horizonBars: 5, neutralBandBps: 1)) }
        var other = bars[70]
        other.symbol = "ETH"
        #expect(throws: TrainingSetError.self) { try TrainingSet.build(bars: bars + [other], rule: .init(horizonBars: 5, neutralBandBps: 1)) }
        #expect(throws: TrainingSetError.self) { try TrainingSet.build(bars: Array(bars.prefix(52)), rule: .init(horizonBars: 5, neutralBandBps: 1)) }
        #expect(throws: TrainingSetError.self) { try TrainingSet.build(bars: bars, rule: .init(horizonBars: 0, neutralBandBps: 1)) }
    }
}

@Suite("Model store")
struct ModelStoreTests {
    let now = Date(timeIntervalSince1970: 1_765_000_000)

    @Test("the newest version that loads is served; a broken newer one is refused with why")
    func newestServable() throws {
        let folder = ModelFolder()
        defer { folder.remove() }
        let good = constantModel(margins: [0, 0, 2])
        try folder.write("20261201T000000000Z", model: good, metadata: servingMetadata(trainedAt: now))
        try folder.write("20261202T000000000Z", model: good, metadata: servingMetadata(trainedAt: now))
        try folder.write("20261203T000000000Z", model: good, metadata: nil)
        try folder.write(
            "20261204T000000000Z", model: good,
            metadata: servingMetadata(trainedAt: now, features: Array(BarFeatures.names.reversed())))
        try folder.write("20261205T000000000Z", model: nil, metadata: servingMetadata(trainedAt: now))
        try folder.write(".staging-20261206T000000000Z-1", model: good, metadata: servingMetadata(trainedAt: now))
        let store = ModelStore(directory: folder.root)
        #expect(try store.versions(of: "BTC").count == 5)
        let served = try store.newestServable(symbol: "BTC")
        #expect(served.model?.version == "20261202T000000000Z")
        #expect(served.refused.map(\.version) == ["20261205T000000000Z", "20261204T000000000Z", "20261203T000000000Z"])
        #expect(served.refused[1].reason.contains("feature"))
        #expect(served.refused[2].reason.contains("metadata"))
        #expect(try store.newestServable(symbol: "ETH").model == nil)
    }

    @Test("other classes are refused: a trading model predicts sell, hold, buy")
    func classes() throws {
        let folder = ModelFolder()
        defer { folder.remove() }
        try folder.write(
            "v1", model: constantModel(margins: [0, 0, 2]),
            metadata: servingMetadata(trainedAt: now, classes: ["down", "flat", "up"]))
        #expect(throws: ModelStoreError.self) { try ServedModel.load(directory: "\(folder.root)/BTC/v1", version: "v1") }
    }

    @Test("pruning keeps the newest versions")
    func prune() throws {
        let folder = ModelFolder()
        defer { folder.remove() }
        for day in 1...4 {
            try folder.write("2026120\(day)T000000000Z", model: constantModel(margins: [0, 0, 1]), metadata: servingMetadata(trainedAt: now))
        }
        let pruned = try ModelStore.prune(symbolDirectory: "\(folder.root)/BTC", keep: 2)
        #expect(pruned == ["20261201T000000000Z", "20261202T000000000Z"])
        #expect(try ModelStore(directory: folder.root).versions(of: "BTC") == ["20261203T000000000Z", "20261204T000000000Z"])
    }

    @Test("version names sort in time order and say the time in UTC")
    func versionNames() {
        #expect(ModelStore.versionName(for: Date(timeIntervalSince1970: 1_765_013_400.123)) == "20251206T093000123Z")
        #expect(ModelStore.timestamp(Date(timeIntervalSince1970: 1_765_013_400.9)) == "2025-12-06T09:30:00Z")
        let times = (0..<50).map { Date(timeIntervalSince1970: Double($0) * 7_777.777) }
        #expect(times.map(ModelStore.versionName) == times.map(ModelStore.versionName).sorted())
    }
}

@Suite("Model strategy")
struct ModelStrategyTests {
    static let hour: Int64 = 3_600_000_000_000
    let trainedAt = Date(timeIntervalSince1970: 0)

    func served(_ margins: [Float]) throws -> ServedModel {
        let folder = ModelFolder()
        defer { folder.remove() }
        try folder.write("v1", model: constantModel(margins: margins), metadata: servingMetadata(trainedAt: trainedAt))
        return try ServedModel.load(directory: "\(folder.root)/BTC/v1", version: "v1")
    }

    func strategy(_ model: ServedModel?, maxAgeHours: Int64 = 24, minProbability: Double = 0.5) -> ModelStrategy {
        ModelStrategy(
            settings: .init(maxAgeNanos: maxAgeHours * Self.hour, minProbability: minProbability, sharesWindow: 10),
            model: model)
    }

    /// The view after `count` bars, all at `now`.
    func lastView(_ strategy: inout ModelStrategy, bars count: Int = 60, now: Int64 = 3_600_000_000_000) -> StrategyView {
        let bars = minuteBars((0..<count).map { 100 + Double($0 % 7) })
        var view: StrategyView?
        for bar in bars { view = strategy.update(bar: bar, now: now) }
        return view!
    }

    @Test("warming up, then model_missing without a model")
    func missing() {
        var model = strategy(nil)
        #expect(lastView(&model, bars: 49).reason.code == .warmingUp)
        var again = strategy(nil)
        let view = lastView(&again)
        #expect(view.reason.code == .modelMissing)
        #expect(view.direction == nil)
    }

    @Test("buy and sell become views with the class probability as confidence")
    func directions() throws {
        var buy = strategy(try served([0, 0, 2]))
        let long = lastView(&buy)
        #expect(long.direction == .long)
        let expected = exp(2.0) / (2 + exp(2.0))
        #expect(abs(long.confidence - expected) < 1e-6)
        #expect(abs((long.indicators["p_buy"] ?? 0) - expected) < 1e-6)
        var sell = strategy(try served([2, 0, 0]))
        #expect(lastView(&sell).direction == .short)
    }

    @Test("hold, or a probability under model.minProbability, is no view")
    func noView() throws {
        var hold = strategy(try served([0, 2, 0]))
        let view = lastView(&hold)
        #expect(view.direction == nil)
        #expect(view.reason.code == .belowThreshold)
        #expect(view.reason.detail.contains("p(hold)"))
        var weak = strategy(try served([0, 0, 0.5]), minProbability: 0.5)
        let weakView = lastView(&weak)
        #expect(weakView.direction == nil)
        #expect(weakView.reason.detail.contains("model.minProbability"))
    }

    @Test("past model.maxAgeHours the model has no view: model_expired, and the desk makes no entry")
    func expired() throws {
        var old = strategy(try served([0, 0, 2]), maxAgeHours: 24)
        let view = lastView(&old, now: 25 * Self.hour)
        #expect(view.reason.code == .modelExpired)
        #expect(view.direction == nil)
        #expect(old.isExpired(at: 25 * Self.hour))

        var desk = StrategyDesk(
            strategies: [strategy(try served([0, 0, 2]), maxAgeHours: 24)],
            settings: .init(instrument: Instrument(symbol: "BTC", szDecimals: 5), tradeNotional: 1_000))
        var count = 0
        let outputs = minuteBars((0..<60).map { 100 + Double($0 % 7) }).map { bar in
            desk.onBar(bar, now: 25 * Self.hour) {
                count += 1
                return "id\(count)"
            }
        }
        #expect(outputs.last?.signals.first?.reasons.first?.code == .modelExpired)
        #expect(outputs.allSatisfy { $0.intents.isEmpty })
    }

    @Test("the shares count the recent predictions and restart with a new model")
    func shares() throws {
        var model = strategy(try served([0, 2, 0]))
        _ = lastView(&model, bars: 70)
        #expect(model.shares.count == 10)
        #expect(model.shares.share(of: .hold) == 1)
        #expect(model.shares.dominant(above: 0.8)?.0 == .hold)
        model.install(try served([0, 0, 2]))
        #expect(model.shares.count == 0)
        #expect(lastView(&model, bars: 1).direction == .long)
        #expect(model.shares.share(of: .buy) == 1)
    }
}

@Suite("Prediction shares")
struct PredictionSharesTests {
    @Test("a rolling window: the oldest prediction leaves as a new one comes")
    func window() {
        var shares = PredictionShares(capacity: 4)
        #expect(shares.share(of: .hold) == 0)
        for prediction: TradeClass in [.hold, .hold, .buy, .sell, .sell, .sell] { shares.record(prediction) }
        #expect(shares.count == 4)
        #expect(shares.share(of: .sell) == 0.75)
        #expect(shares.share(of: .hold) == 0)
        #expect(shares.share(of: .buy) == 0.25)
        #expect(shares.dominant(above: 0.7)?.0 == .sell)
        #expect(shares.dominant(above: 0.8) == nil)
    }
}
