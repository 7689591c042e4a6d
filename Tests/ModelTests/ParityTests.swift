import Foundation
import Model
import Testing

/// Every probability and margin of the Swift evaluator against xgboost's own `Booster.predict`, on models
/// of every supported shape trained by parity_models.py.
@Suite(.enabled(if: ParityData.hasXGBoost, Comment(rawValue: ParityData.missingXGBoost)))
struct ParityTests {
    static let tolerance = 1e-6

    struct Case: Decodable {
        var name: String
        var objective: String
        var classes: Int
        var named: Bool
        var trees: Int
        var booster: String
        var rows: Int
    }

    struct Manifest: Decodable {
        var xgboost: String
        var cases: [Case]
    }

    func manifest() async throws -> Manifest {
        let data = try Data(contentsOf: try await ParityData.directory().appendingPathComponent("cases.json"))
        return try JSONDecoder().decode(Manifest.self, from: data)
    }

    @Test func theScriptTrainsEveryShape() async throws {
        let manifest = try await manifest()
        #expect(manifest.cases.map(\.name) == ParityData.caseNames)
        #expect(manifest.xgboost.hasPrefix("3."))
    }

    @Test(arguments: ParityData.caseNames)
    func probabilitiesAndMarginsEqualXGBoost(_ name: String) async throws {
        let directory = try await ParityData.directory().appendingPathComponent(name)
        let entry = try #require(try await manifest().cases.first { $0.name == name })
        let model = try XGBoostModel(contentsOf: directory.appendingPathComponent("model.json"))
        #expect(model.classCount == entry.classes)
        #expect(model.treeCount == entry.trees)
        #expect(model.booster == entry.booster)
        #expect(model.objective.rawValue == entry.objective)
        #expect(model.hasFeatureNames == entry.named)

        let text = try String(contentsOf: directory.appendingPathComponent("input.csv"), encoding: .utf8)
        let table = try FeatureTable(csv: text, features: model.featureNames, source: name)
        let expected = try ParityData.readCSV(directory.appendingPathComponent("expected.csv")).rows
        let expectedMargins = try ParityData.readCSV(directory.appendingPathComponent("margins.csv")).rows
        #expect(table.rows.count == entry.rows)
        try #require(expected.count == table.rows.count && expectedMargins.count == table.rows.count)
        #expect(table.rows.contains { $0.contains { $0.isNaN } }, "the input has missing values")

        var worst = 0.0
        var worstMargin = 0.0
        var buffer: [Double] = []
        for (index, row) in table.rows.enumerated() {
            let probabilities = try model.probabilities(row)
            let margins = try model.margins(row)
            try model.probabilities(row, into: &buffer)
            #expect(buffer == probabilities)
            try #require(probabilities.count == entry.classes)
            #expect(abs(probabilities.reduce(0, +) - 1) < 1e-6)
            for (mine, theirs) in zip(probabilities, expected[index]) { worst = max(worst, abs(mine - theirs)) }
            for (mine, theirs) in zip(margins, expectedMargins[index]) {
                worstMargin = max(worstMargin, abs(mine - theirs))
            }
            #expect(
                zip(probabilities, expected[index]).allSatisfy { abs($0 - $1) <= Self.tolerance },
                "\(name) row \(index): \(probabilities) vs xgboost \(expected[index])")
        }
        #expect(worst <= Self.tolerance)
        #expect(worstMargin <= 1e-5)
        print("parity \(name): \(table.rows.count) rows, max |Δp| \(worst), max |Δmargin| \(worstMargin)")
    }

    @Test func aModelDirectoryLoadsWithItsMetadata() async throws {
        let bundle = try ModelBundle.load(path: try await ParityData.directory().appendingPathComponent("bundle").path)
        #expect(bundle.classNames == ["sell", "hold", "buy"])
        #expect(bundle.featureNames == bundle.model.featureNames)
        let metadata = try #require(bundle.metadata)
        #expect(metadata.symbol == "BTC")
        #expect(metadata.horizonBars == 15)
        #expect(metadata.dataTo.timeIntervalSince1970 == 1_737_935_940.5)
        #expect(metadata.xgboostVersion.hasPrefix("3."))
    }
}

/// `breakwater model predict` as an operator runs it, against xgboost's predictions.
@Suite(
    .enabled(if: ParityData.hasXGBoost, Comment(rawValue: ParityData.missingXGBoost)),
    .enabled(if: ParityData.hasBreakwater, Comment(rawValue: ParityData.missingBreakwater)))
struct PredictCommandTests {
    @Test func printsXGBoostsProbabilitiesForEveryRow() async throws {
        let directory = try await ParityData.directory()
        let stdout = try await ParityData.run(
            ParityData.breakwater,
            ["model", "predict", "--model", directory.appendingPathComponent("bundle").path, "--input",
             directory.appendingPathComponent("bundle_input.csv").path])
        let printed = try ParityData.parseCSV(stdout)
        let expected = try ParityData.readCSV(directory.appendingPathComponent("bundle_expected.csv"))
        #expect(printed.header == ["sell", "hold", "buy"])
        try #require(printed.rows.count == expected.rows.count)
        var worst = 0.0
        for (mine, theirs) in zip(printed.rows, expected.rows) {
            for (a, b) in zip(mine, theirs) { worst = max(worst, abs(a - b)) }
        }
        #expect(worst <= 1e-6)
        print("parity breakwater model predict: \(printed.rows.count) rows, max |Δp| \(worst)")
    }

    @Test func aBareModelFileNamesClassesByIndex() async throws {
        let directory = try await ParityData.directory().appendingPathComponent("binary_logistic")
        let stdout = try await ParityData.run(
            ParityData.breakwater,
            ["model", "predict", "--model", directory.appendingPathComponent("model.json").path, "--input",
             directory.appendingPathComponent("input.csv").path])
        let printed = try ParityData.parseCSV(stdout)
        let expected = try ParityData.readCSV(directory.appendingPathComponent("expected.csv"))
        #expect(printed.header == ["0", "1"])
        #expect(printed.rows.count == expected.rows.count)
        #expect(zip(printed.rows, expected.rows).allSatisfy { zip($0, $1).allSatisfy { abs($0 - $1) <= 1e-6 } })
    }

    @Test func aHeaderWithoutAModelFeatureExitsNonZeroNamingIt() async throws {
        let directory = try await ParityData.directory()
        let input = directory.appendingPathComponent("without_rsi.csv")
        try "ret_1,ret_5,ret_15,atr_pct,spread_bps,imbalance,vol_z\n1,2,3,4,5,6,7\n"
            .write(to: input, atomically: true, encoding: .utf8)
        let result = try await ParityData.execute(
            ParityData.breakwater,
            ["model", "predict", "--model", directory.appendingPathComponent("bundle").path, "--input", input.path])
        #expect(result.status != 0)
        #expect(result.standardError.contains("rsi_14"), "stderr: \(result.standardError)")
        #expect(result.standardOutput.isEmpty)
    }

    @Test func aNonNumericCellExitsNonZeroNamingLineAndColumn() async throws {
        let directory = try await ParityData.directory()
        let input = directory.appendingPathComponent("bad_cell.csv")
        try "ret_1,ret_5,ret_15,rsi_14,atr_pct,spread_bps,imbalance,vol_z\n1,2,3,4,5,6,7,8\n1,2,x,4,5,6,7,8\n"
            .write(to: input, atomically: true, encoding: .utf8)
        let result = try await ParityData.execute(
            ParityData.breakwater,
            ["model", "predict", "--model", directory.appendingPathComponent("bundle").path, "--input", input.path])
        #expect(result.status != 0)
        #expect(result.standardError.contains("line 3 column ret_15"), "stderr: \(result.standardError)")
    }

    @Test func aModelThatIsNotXGBoostIsRefused() async throws {
        let directory = try await ParityData.directory()
        let result = try await ParityData.execute(
            ParityData.breakwater,
            ["model", "predict", "--model", directory.appendingPathComponent("cases.json").path, "--input",
             directory.appendingPathComponent("bundle_input.csv").path])
        #expect(result.status != 0)
        #expect(result.standardError.contains("is not an XGBoost JSON model"), "stderr: \(result.standardError)")
    }
}
