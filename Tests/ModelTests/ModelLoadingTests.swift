import Foundation
import Model
import Testing

/// A small model written by hand in XGBoost 3's JSON layout: trees of (left, right, feature, split, default
/// left) rows; a row with left = -1 is a leaf whose value is `split`.
struct HandModel {
    typealias Node = (left: Int, right: Int, feature: Int, split: Float, defaultLeft: Bool)
    var objective = "binary:logistic"
    var baseScore = "[5E-1]"
    var numClass = 0
    var numFeature = 2
    var featureNames = ["a", "b"]
    var booster = "gbtree"
    var trees: [[Node]] = [[(1, 2, 0, 0.5, true), (-1, -1, 0, -1, false), (-1, -1, 0, 2, false)]]
    var treeInfo: [Int]? = nil
    var splitType: Int = 0
    var sizeLeafVector = "1"
    var weightDrop: [Float] = []

    var json: String {
        func list<T>(_ values: [T]) -> String { "[" + values.map { "\($0)" }.joined(separator: ",") + "]" }
        let treeJSON = trees.enumerated().map { index, nodes in
            """
            {"id":\(index),"left_children":\(list(nodes.map(\.left))),"right_children":\(list(nodes.map(\.right))),\
            "split_indices":\(list(nodes.map(\.feature))),"split_conditions":\(list(nodes.map(\.split))),\
            "default_left":\(list(nodes.map { $0.defaultLeft ? 1 : 0 })),\
            "split_type":\(list(nodes.map { $0.left == -1 ? 0 : splitType })),"base_weights":[],"categories":[],\
            "tree_param":{"num_deleted":"0","num_feature":"\(numFeature)","num_nodes":"\(nodes.count)",\
            "size_leaf_vector":"\(sizeLeafVector)"}}
            """
        }.joined(separator: ",")
        let model = """
            {"gbtree_model_param":{"num_parallel_tree":"1","num_trees":"\(trees.count)"},\
            "tree_info":\(list(treeInfo ?? Array(repeating: 0, count: trees.count))),"trees":[\(treeJSON)]}
            """
        let gradientBooster =
            booster == "dart"
            ? #"{"name":"dart","gbtree":{"name":"gbtree","model":\#(model)},"weight_drop":\#(list(weightDrop))}"#
            : #"{"name":"\#(booster)","model":\#(model)}"#
        return """
            {"learner":{"attributes":{},"feature_names":\(list(featureNames.map { "\"\($0)\"" })),"feature_types":[],\
            "gradient_booster":\(gradientBooster),\
            "learner_model_param":{"base_score":"\(baseScore)","boost_from_average":"1","num_class":"\(numClass)",\
            "num_feature":"\(numFeature)","num_target":"1"},"objective":{"name":"\(objective)"}},"version":[3,2,0]}
            """
    }

    func load() throws(ModelError) -> XGBoostModel { try XGBoostModel(json: Data(json.utf8)) }
}

@Suite struct EvaluationTests {
    /// logit(p) for the stump's leaves: base margin 0 (base_score 0.5) plus the leaf.
    func p(_ margin: Float) -> Double { Double(1 / (1 + exp(-margin))) }

    @Test func comparesInFloatAndFollowsDefaultLeftForMissing() throws {
        let model = try HandModel().load()
        #expect(model.classCount == 2)
        #expect(model.featureNames == ["a", "b"])
        #expect(try model.margins([0.4, 0]) == [-1])
        #expect(try model.margins([0.5, 0]) == [2], "x == split goes right")
        // A Double just below 0.5 that rounds to 0.5 as a Float: XGBoost reads Float, so it goes right too.
        #expect(try model.margins([0.5 - 1e-12, 0]) == [2])
        #expect(try model.margins([Double(Float(0.5).nextDown), 0]) == [-1])
        #expect(try model.margins([.nan, 0]) == [-1], "missing follows default_left")
        #expect(try model.margins([-.infinity, 0]) == [-1])
        let probabilities = try model.probabilities([0.7, .nan])
        #expect(abs(probabilities[1] - p(2)) < 1e-7)
        #expect(probabilities[0] == 1 - probabilities[1])
    }

    @Test func missingGoesRightWhenDefaultLeftIsFalse() throws {
        var hand = HandModel()
        hand.trees = [[(1, 2, 1, 0, false), (-1, -1, 0, 3, false), (-1, -1, 0, 4, false)]]
        let model = try hand.load()
        #expect(try model.margins([0, .nan]) == [4])
        #expect(try model.margins([0, -1]) == [3])
    }

    @Test func aWrongFeatureCountIsAnErrorNotACrash() throws {
        let model = try HandModel().load()
        #expect(throws: ModelError.featureCount(expected: 2, got: 1)) { try model.probabilities([1]) }
        #expect(throws: ModelError.featureCount(expected: 2, got: 3)) { try model.margins([1, 2, 3]) }
        var buffer: [Double] = []
        #expect(throws: ModelError.featureCount(expected: 2, got: 0)) { try model.probabilities([], into: &buffer) }
    }

    @Test func multiClassSumsTreesPerGroupFromTheBaseVector() throws {
        var hand = HandModel()
        hand.objective = "multi:softprob"
        hand.numClass = 3
        hand.baseScore = "[1E-1,2E-1,3E-1]"
        let leaf: (Float) -> [HandModel.Node] = { [(-1, -1, 0, $0, false)] }
        hand.trees = [leaf(1), leaf(2), leaf(3), leaf(0.5), leaf(0.25), leaf(0.125)]
        hand.treeInfo = [0, 1, 2, 0, 1, 2]
        let model = try hand.load()
        let margins = try model.margins([0, 0])
        #expect(margins == [Double(Float(0.1) + 1 + 0.5), Double(Float(0.2) + 2 + 0.25), Double(Float(0.3) + 3 + 0.125)])
        let probabilities = try model.probabilities([.nan, .nan])
        let exps = margins.map { exp($0 - margins.max()!) }
        for (mine, reference) in zip(probabilities, exps.map { $0 / exps.reduce(0, +) }) {
            #expect(abs(mine - reference) < 1e-7)
        }
        #expect(try model.predictedClass([0, 0]) == 2)
    }

    @Test func dartScalesEachTreeByItsWeight() throws {
        var hand = HandModel()
        hand.booster = "dart"
        hand.objective = "binary:logitraw"
        hand.trees = [[(-1, -1, 0, 2, false)], [(-1, -1, 0, 4, false)]]
        hand.weightDrop = [0.5, 0.25]
        let model = try hand.load()
        #expect(try model.margins([0, 0]) == [0.5 + 1 + 1], "logitraw keeps base_score as a margin")
    }

    @Test func aScalarBaseScoreFromOlderXGBoostIsRead() throws {
        var hand = HandModel()
        hand.baseScore = "2.5E-1"
        hand.trees = [[(-1, -1, 0, 0, false)]]
        let model = try hand.load()
        #expect(abs(try model.probabilities([0, 0])[1] - 0.25) < 1e-7, "binary:logistic base_score is a probability")
    }

    @Test func aModelWithoutFeatureNamesUsesXGBoostsDefaults() throws {
        var hand = HandModel()
        hand.featureNames = []
        let model = try hand.load()
        #expect(model.featureNames == ["f0", "f1"])
        #expect(!model.hasFeatureNames)
    }
}

@Suite struct RefusalTests {
    func refusal(_ json: String) -> ModelError? {
        do {
            _ = try XGBoostModel(json: Data(json.utf8), source: "m.json")
            return nil
        } catch {
            return error
        }
    }

    func refusal(_ hand: HandModel) -> String { refusal(hand.json).map { "\($0)" } ?? "accepted" }

    @Test func notJSON() {
        let error = refusal("this is { not json")
        guard case .notJSON = error else { Issue.record("expected notJSON, got \(String(describing: error))"); return }
        #expect("\(error!)".hasPrefix("m.json is not valid JSON"))
    }

    @Test func jsonThatIsNotAModel() {
        let error = refusal(#"{"symbol":"BTC","price":"1"}"#)
        guard case .notAModel = error else { Issue.record("expected notAModel, got \(String(describing: error))"); return }
        #expect("\(error!)" == "m.json is not an XGBoost JSON model: missing key learner")
        let nested = refusal(#"{"learner":{"objective":{"name":"binary:logistic"}}}"#)
        #expect(nested.map { "\($0)" }?.contains("missing key learner.gradient_booster") == true)
    }

    @Test func unsupportedObjectiveBoosterAndShapes() {
        var hand = HandModel()
        hand.objective = "reg:squarederror"
        #expect(refusal(hand).contains("unsupported XGBoost model: objective reg:squarederror"))
        hand = HandModel()
        hand.booster = "gblinear"
        #expect(refusal(hand).contains("booster gblinear"))
        hand = HandModel()
        hand.splitType = 1
        #expect(refusal(hand) == "m.json: unsupported XGBoost model: tree 0 node 0 is a categorical split")
        hand = HandModel()
        hand.sizeLeafVector = "3"
        #expect(refusal(hand).contains("vector leaves"))
    }

    @Test func malformedTrees() {
        var hand = HandModel()
        hand.trees = [[(1, 2, 5, 0.5, true), (-1, -1, 0, -1, false), (-1, -1, 0, 2, false)]]
        #expect(refusal(hand).contains("tree 0 node 0 splits on feature 5 of 2"))
        hand.trees = [[(1, 2, 0, 0.5, true), (0, 2, 0, 0, false), (-1, -1, 0, 2, false)]]
        #expect(refusal(hand).contains("tree 0 node 1 has children 0, 2"), "a cycle back to the root")
        hand.trees = [[(1, 7, 0, 0.5, true), (-1, -1, 0, -1, false), (-1, -1, 0, 2, false)]]
        #expect(refusal(hand).contains("has children 1, 7"))
        hand = HandModel()
        hand.treeInfo = [1]
        #expect(refusal(hand).contains("tree 0 is in output group 1 of 1"))
        hand = HandModel()
        hand.baseScore = "[1.5E0]"
        #expect(refusal(hand).contains("is not a probability"))
        hand = HandModel()
        hand.featureNames = ["a"]
        #expect(refusal(hand).contains("1 feature_names for num_feature 2"))
        hand = HandModel()
        hand.objective = "multi:softprob"
        #expect(refusal(hand).contains("multi:softprob with num_class 0"))
        hand = HandModel()
        hand.booster = "dart"
        #expect(refusal(hand).contains("weight_drop"))
    }

    @Test func aNaNFeatureIsMissingNotACrash() throws {
        let model = try HandModel().load()
        let probabilities = try model.probabilities([.nan, .nan])
        #expect(probabilities.allSatisfy { $0.isFinite })
        #expect(try model.margins([.signalingNaN, 1]) == [-1])
    }
}
