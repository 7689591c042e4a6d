import ArgumentParser
import BenchKit
import Foundation
import Histogram
import Model
import Schema

/// One-row XGBoost predictions, timed call by call: the Model library's evaluator against a baseline measured
/// in the same run, a straightforward evaluator (one array of node structs per tree, Double comparisons, a
/// dictionary-built copy of the same JSON). By default the model is a seeded synthetic forest written as
/// XGBoost JSON in memory (200 trees of depth 6, 3 classes, round robin); `--model` times a real one.
@main
struct ModelBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model-bench", abstract: "Time one-row predictions of an XGBoost JSON model.")

    @Option(help: "A model directory or XGBoost JSON file; default: a synthetic forest.")
    var model: String?

    @Option(help: "Trees of the synthetic forest (spread round robin over the classes).")
    var trees = 200

    @Option(help: "Depth of every synthetic tree.")
    var depth = 6

    @Option(help: "Classes of the synthetic forest.")
    var classes = 3

    @Option(help: "Features of the synthetic forest.")
    var features = 32

    @Option(help: "Predictions timed.")
    var calls = 200_000

    @Option(help: "Predictions run before timing starts.")
    var warmup = 20_000

    @Option(help: "Seed of the synthetic forest and the input rows.")
    var seed: UInt64 = 7

    func validate() throws {
        guard calls > 0, warmup >= 0 else { throw ValidationError("--calls must be positive, --warmup not negative") }
        guard trees > 0, (1...16).contains(depth), classes >= 2, features > 0 else {
            throw ValidationError("need --trees > 0, --depth 1…16, --classes ≥ 2, --features > 0")
        }
    }

    func run() throws {
        let json: Data
        let label: String
        if let model {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory)
            let file = isDirectory.boolValue ? model + "/" + ModelBundle.modelFile : model
            json = try Data(contentsOf: URL(fileURLWithPath: file))
            label = file
        } else {
            var random = SplitMix64(seed: seed)
            json = SyntheticForest.json(
                trees: trees, depth: depth, classes: classes, features: features, random: &random)
            label = "synthetic: \(trees) trees of depth \(depth), \(classes) classes, \(features) features, seed \(seed)"
        }
        let loadStart = monotonicNanos()
        let evaluator: XGBoostModel
        do {
            evaluator = try XGBoostModel(json: json, source: label)
        } catch {
            throw ValidationError("\(error)")
        }
        let loadMillis = Double(monotonicNanos() - loadStart) / 1e6
        let baseline = try NaiveForest(json: json)

        // A pool of rows, 5 % missing, cycled so that the walks do not all take the same path.
        var random = SplitMix64(seed: seed ^ 0x5eed)
        let rows: [[Double]] = (0..<1024).map { _ in
            (0..<evaluator.featureCount).map { _ in random.nextUnit() < 0.05 ? .nan : random.nextUnit() * 4 - 2 }
        }
        var worst = 0.0
        for row in rows {
            let mine = try evaluator.probabilities(row)
            let theirs = baseline.probabilities(row)
            for (a, b) in zip(mine, theirs) { worst = max(worst, abs(a - b)) }
        }

        // Each evaluator in its own loop, so that none pays for another's cache footprint.
        var buffer = [Double](repeating: 0, count: evaluator.classCount)
        var sink = 0.0
        let naive = try time { index in
            let p = baseline.probabilities(rows[index & 1023])
            sink += p[0]
        }
        let buffered = try time { index in
            try evaluator.probabilities(rows[index & 1023], into: &buffer)
            sink += buffer[0]
        }
        let allocating = try time { index in
            let p = try evaluator.probabilities(rows[index & 1023])
            sink += p[0]
        }

        let base = Percentiles(naive)
        print(
            "model-bench: \(label); \(evaluator.treeCount) trees, \(evaluator.objective.rawValue), loaded in "
                + String(format: "%.1f ms", loadMillis) + "; \(calls) one-row calls (+\(warmup) warm-up), "
                + "\(ProcessInfo.processInfo.activeProcessorCount) cores")
        print(pad("evaluator", 52) + pad("p50 µs", 10, left: true) + pad("p99 µs", 10, left: true)
            + pad("p50 ×base", 11, left: true))
        for (name, p) in [
            ("baseline: node structs per tree, Double compares", base),
            ("XGBoostModel.probabilities(_:into:) (no alloc)", Percentiles(buffered)),
            ("XGBoostModel.probabilities(_:) (allocating)", Percentiles(allocating)),
        ] {
            print(
                pad(name, 52) + pad(String(format: "%.2f", p.p50), 10, left: true)
                    + pad(String(format: "%.2f", p.p99), 10, left: true)
                    + pad(String(format: "%.2f", p.p50 / max(base.p50, 0.001)), 11, left: true))
        }
        print(String(format: "baseline and library agree to %.1e (the baseline compares in Double)", worst))
        if sink.isNaN { print("") }  // keeps the calls from being optimised away
    }

    /// Times `calls` runs of `body`, one by one, after `warmup` untimed ones.
    func time(_ body: (Int) throws -> Void) throws -> Histogram<UInt64> {
        var histogram = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
        for index in 0..<warmup { try body(index) }
        for index in 0..<calls {
            let start = monotonicNanos()
            try body(index)
            histogram.record(UInt64(max(monotonicNanos() - start, 0)))
        }
        return histogram
    }

    func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return left ? fill + text : text + fill
    }
}

/// A seeded forest in XGBoost 3's JSON layout: complete trees, node ids breadth first as XGBoost numbers them.
enum SyntheticForest {
    static func json(trees: Int, depth: Int, classes: Int, features: Int, random: inout SplitMix64) -> Data {
        let nodes = (1 << (depth + 1)) - 1
        let inner = (1 << depth) - 1
        var text = #"{"learner":{"attributes":{},"feature_names":["#
        text += (0..<features).map { "\"x\($0)\"" }.joined(separator: ",")
        text += #"],"feature_types":[],"gradient_booster":{"model":{"gbtree_model_param":{"num_parallel_tree":"1","num_trees":""#
        text += "\(trees)\"},\"tree_info\":[" + (0..<trees).map { "\($0 % classes)" }.joined(separator: ",")
        text += "],\"trees\":["
        for tree in 0..<trees {
            var left: [Int] = []
            var right: [Int] = []
            var feature: [Int] = []
            var condition: [Float] = []
            var defaultLeft: [Int] = []
            for node in 0..<nodes {
                if node < inner {
                    left.append(2 * node + 1)
                    right.append(2 * node + 2)
                    feature.append(Int(random.next() % UInt64(features)))
                    condition.append(Float(random.nextUnit() * 4 - 2))
                    defaultLeft.append(Int(random.next() & 1))
                } else {
                    left.append(-1)
                    right.append(-1)
                    feature.append(0)
                    condition.append(Float(random.nextUnit() * 0.2 - 0.1))
                    defaultLeft.append(0)
                }
            }
            if tree > 0 { text += "," }
            text += "{\"id\":\(tree),\"left_children\":\(left),\"right_children\":\(right),"
            text += "\"split_indices\":\(feature),\"split_conditions\":\(condition),\"default_left\":\(defaultLeft),"
            text += "\"split_type\":\(Array(repeating: 0, count: nodes)),"
            text += "\"tree_param\":{\"num_deleted\":\"0\",\"num_feature\":\"\(features)\",\"num_nodes\":\"\(nodes)\","
            text += "\"size_leaf_vector\":\"1\"}}"
        }
        text += "]},\"name\":\"gbtree\"},\"learner_model_param\":{\"base_score\":\"["
        text += Array(repeating: "0E0", count: classes).joined(separator: ",")
        text += "]\",\"boost_from_average\":\"1\",\"num_class\":\"\(classes)\",\"num_feature\":\"\(features)\","
        text += "\"num_target\":\"1\"},\"objective\":{\"name\":\"multi:softprob\"}},\"version\":[3,2,0]}"
        return Data(text.utf8)
    }
}

/// The evaluator one writes first: per-tree arrays of node structs, Double comparisons and sums, an array
/// per result. Built from the JSON through JSONSerialization; multi-class softprob/softmax and binary logistic.
struct NaiveForest {
    struct Node {
        var feature: Int
        var split: Double
        var left: Int
        var right: Int
        var defaultLeft: Bool
    }

    var trees: [[Node]] = []
    var groups: [Int] = []
    var weights: [Double] = []
    var base: [Double] = []
    var binary = false

    struct Unsupported: Error, CustomStringConvertible { var description: String }

    init(json: Data) throws {
        guard let root = try JSONSerialization.jsonObject(with: json) as? [String: Any],
            let learner = root["learner"] as? [String: Any],
            let booster = learner["gradient_booster"] as? [String: Any],
            let parameters = learner["learner_model_param"] as? [String: Any],
            let objective = (learner["objective"] as? [String: Any])?["name"] as? String,
            let baseText = parameters["base_score"] as? String,
            let numClass = Int(parameters["num_class"] as? String ?? "")
        else { throw Unsupported(description: "baseline: not an XGBoost model") }
        let model = ((booster["gbtree"] as? [String: Any]) ?? booster)["model"] as? [String: Any] ?? [:]
        let rawTrees = model["trees"] as? [[String: Any]] ?? []
        groups = model["tree_info"] as? [Int] ?? []
        weights = (booster["weight_drop"] as? [Double]) ?? Array(repeating: 1, count: rawTrees.count)
        binary = objective.hasPrefix("binary:")
        let scores = baseText.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: ",")
            .compactMap { Double($0) }
        let groupCount = max(numClass, 1)
        base = scores.count == groupCount ? scores : Array(repeating: scores.first ?? 0, count: groupCount)
        if objective == "binary:logistic" { base = base.map { -log(1 / $0 - 1) } }
        for tree in rawTrees {
            let left = tree["left_children"] as? [Int] ?? []
            let right = tree["right_children"] as? [Int] ?? []
            let feature = tree["split_indices"] as? [Int] ?? []
            let split = (tree["split_conditions"] as? [Any] ?? []).map { ($0 as? NSNumber)?.doubleValue ?? 0 }
            let defaultLeft = tree["default_left"] as? [Int] ?? []
            trees.append(
                left.indices.map {
                    Node(feature: feature[$0], split: split[$0], left: left[$0], right: right[$0],
                        defaultLeft: defaultLeft[$0] != 0)
                })
        }
    }

    func probabilities(_ row: [Double]) -> [Double] {
        var margin = base
        for (index, tree) in trees.enumerated() {
            var node = tree[0]
            while node.left != -1 {
                let x = row[node.feature]
                node = tree[x.isNaN ? (node.defaultLeft ? node.left : node.right) : (x < node.split ? node.left : node.right)]
            }
            margin[groups[index]] += node.split * weights[index]
        }
        if binary {
            let p = 1 / (1 + exp(-margin[0]))
            return [1 - p, p]
        }
        let highest = margin.max() ?? 0
        let exps = margin.map { exp($0 - highest) }
        let sum = exps.reduce(0, +)
        return exps.map { $0 / sum }
    }
}
