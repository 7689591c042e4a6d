import Foundation
import Model
import Testing

@Suite struct MetadataTests {
    static let sample = ModelMetadata(
        symbol: "ETH", trainedAt: Date(timeIntervalSince1970: 1_737_964_800), dataFrom: Date(timeIntervalSince1970: 1_735_689_600),
        dataTo: Date(timeIntervalSince1970: 1_737_935_940.25), rows: 1000, trainRows: 800, holdoutRows: 200,
        features: ["a", "b"], featureSetVersion: 3, classes: ["sell", "hold", "buy"],
        classShares: ["sell": 0.3, "hold": 0.4, "buy": 0.3], horizonBars: 15, neutralBandBps: 8, holdoutAccuracy: 0.55,
        holdoutLogLoss: 0.9, xgboostVersion: "3.2.0", seed: 42, source: "unit test", params: ["max_depth": "6"])

    /// The sample as a JSON object, to edit field by field.
    func sampleObject() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Self.sample.encoded()) as? [String: Any])
    }

    func decode(_ object: [String: Any]) throws(ModelError) -> ModelMetadata {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return try ModelMetadata.decode(data, source: "dir/metadata.json")
    }

    @Test func roundTripsThroughJSON() throws {
        let decoded = try ModelMetadata.decode(Self.sample.encoded())
        #expect(decoded == Self.sample)
        let text = String(decoding: try Self.sample.encoded(), as: UTF8.self)
        #expect(text.contains(#""trainedAt" : "2025-01-27T08:00:00Z""#))
        #expect(text.contains(#""dataTo" : "2025-01-26T23:59:00.250Z""#))
    }

    @Test func unknownKeysAreIgnoredAndSymbolIsOptional() throws {
        var object = try sampleObject()
        object["calibration"] = ["isotonic": true]
        object["symbol"] = nil
        let decoded = try decode(object)
        #expect(decoded.symbol == nil)
        #expect(decoded.classes == ["sell", "hold", "buy"])
    }

    @Test func aMissingRequiredFieldIsNamed() throws {
        for field in ["format", "trainedAt", "features", "classes", "holdoutLogLoss", "params", "seed"] {
            var object = try sampleObject()
            object[field] = nil
            #expect(throws: ModelError.badMetadata(path: "dir/metadata.json", reason: "missing field \(field)")) {
                try decode(object)
            }
        }
    }

    @Test func badValuesAreRefused() throws {
        var object = try sampleObject()
        object["format"] = 2
        #expect(throws: ModelError.badMetadata(path: "dir/metadata.json", reason: "format 2, this Breakwater reads format 1")) {
            try decode(object)
        }
        object = try sampleObject()
        object["trainedAt"] = "yesterday"
        #expect(throws: ModelError.self) { try decode(object) }
        object = try sampleObject()
        object["classes"] = ["up"]
        #expect(throws: ModelError.self) { try decode(object) }
        #expect(throws: ModelError.self) { try ModelMetadata.decode(Data("[1,2]".utf8)) }
    }
}

@Suite struct BundleTests {
    func directory(model: String?, metadata: ModelMetadata?) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("breakwater-bundle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        if let model { try Data(model.utf8).write(to: url.appendingPathComponent("model.json")) }
        if let metadata { try metadata.encoded().write(to: url.appendingPathComponent("metadata.json")) }
        return url.path
    }

    /// The hand model as a 3-class softprob over features a, b.
    var threeClass: HandModel {
        var hand = HandModel()
        hand.objective = "multi:softprob"
        hand.numClass = 3
        hand.baseScore = "[0E0,0E0,0E0]"
        hand.trees = [[(-1, -1, 0, 1, false)], [(-1, -1, 0, 2, false)], [(-1, -1, 0, 3, false)]]
        hand.treeInfo = [0, 1, 2]
        return hand
    }

    @Test func aDirectoryLoadsModelAndMetadata() throws {
        let path = try directory(model: threeClass.json, metadata: MetadataTests.sample)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bundle = try ModelBundle.load(path: path)
        #expect(bundle.classNames == ["sell", "hold", "buy"])
        #expect(bundle.featureNames == ["a", "b"])
        #expect(bundle.metadata?.symbol == "ETH")
        let probabilities = try bundle.probabilities([1, 2])
        #expect(probabilities[2] > probabilities[1] && probabilities[1] > probabilities[0])
    }

    @Test func aModelFileAloneNamesClassesByIndex() throws {
        let path = try directory(model: threeClass.json, metadata: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bundle = try ModelBundle.load(path: path + "/model.json")
        #expect(bundle.classNames == ["0", "1", "2"])
        #expect(bundle.metadata == nil)
    }

    @Test func aDirectoryWithoutMetadataIsRefused() throws {
        let path = try directory(model: threeClass.json, metadata: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: ModelError.metadataMissing(directory: path)) { try ModelBundle.load(path: path) }
        #expect("\(ModelError.metadataMissing(directory: path))" == "metadata.json missing in \(path)")
    }

    @Test func missingPathsAreRefused() throws {
        #expect(throws: ModelError.unreadable(path: "/nonexistent/model", reason: "no such file or directory")) {
            try ModelBundle.load(path: "/nonexistent/model")
        }
        let path = try directory(model: nil, metadata: MetadataTests.sample)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: ModelError.self) { try ModelBundle.load(path: path) }
    }

    @Test func featuresThatDoNotMatchAreRefused() throws {
        var renamed = MetadataTests.sample
        renamed.features = ["a", "c"]
        let path = try directory(model: threeClass.json, metadata: renamed)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: ModelError.mismatch(source: path, reason: "feature 1 is c in the metadata, b in the model")) {
            try ModelBundle.load(path: path)
        }

        var longer = MetadataTests.sample
        longer.features = ["a", "b", "c"]
        let model = try threeClass.load()
        #expect(throws: ModelError.mismatch(source: "m", reason: "metadata lists 3 features, the model has 2")) {
            try ModelBundle(model: model, metadata: longer, source: "m")
        }
        var twoClasses = MetadataTests.sample
        twoClasses.classes = ["down", "up"]
        #expect(throws: ModelError.mismatch(source: "m", reason: "metadata names 2 classes, the model has 3")) {
            try ModelBundle(model: model, metadata: twoClasses, source: "m")
        }
    }

    @Test func metadataNamesFeaturesOfAModelWithoutNames() throws {
        var hand = threeClass
        hand.featureNames = []
        let bundle = try ModelBundle(model: try hand.load(), metadata: MetadataTests.sample)
        #expect(bundle.featureNames == ["a", "b"])
    }
}

@Suite struct FeatureTableTests {
    @Test func mapsColumnsByNameAndReadsMissingValues() throws {
        let table = try FeatureTable(
            csv: "time,b,a\r\nx,1.5,\n\ny, nan ,-2\nz,NaN,\"3\"\n", features: ["a", "b"], source: "in.csv")
        #expect(table.rows.count == 3)
        #expect(table.rows[0][0].isNaN && table.rows[0][1] == 1.5)
        #expect(table.rows[1][0] == -2 && table.rows[1][1].isNaN)
        #expect(table.rows[2][0] == 3 && table.rows[2][1].isNaN)
    }

    @Test func refusesMissingFeaturesBadCellsAndRaggedRows() {
        #expect(throws: ModelError.missingFeatures(source: "in.csv", names: ["b", "c"])) {
            try FeatureTable(csv: "a,x\n1,2\n", features: ["a", "b", "c"], source: "in.csv")
        }
        #expect(throws: ModelError.badCell(source: "in.csv", line: 3, column: "b", value: "5x")) {
            try FeatureTable(csv: "a,b\n1,2\n1,5x\n", features: ["a", "b"], source: "in.csv")
        }
        #expect(throws: ModelError.badCell(source: "in.csv", line: 2, column: "a", value: "abc")) {
            try FeatureTable(csv: "a,b\nabc,2\n", features: ["a", "b"], source: "in.csv")
        }
        #expect(throws: ModelError.badRow(source: "in.csv", line: 2, reason: "1 cells, the header has 2")) {
            try FeatureTable(csv: "a,b\n1\n", features: ["a", "b"], source: "in.csv")
        }
        #expect(throws: ModelError.emptyInput(source: "in.csv")) {
            try FeatureTable(csv: "\n\n", features: ["a"], source: "in.csv")
        }
    }
}
