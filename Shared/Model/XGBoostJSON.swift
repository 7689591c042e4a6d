import Foundation

/// The parts of XGBoost's JSON model format (`Booster.save_model("….json")`, schema version 1–3) that
/// inference needs. Keys the evaluator does not use (gain, hessians, `attributes`, …) are ignored, so
/// later XGBoost versions that add keys still load.
struct XGBoostJSON: Decodable {
    var learner: Learner

    struct Learner: Decodable {
        var featureNames: [String]?
        var gradientBooster: Booster
        var learnerModelParam: ModelParam
        var objective: Objective

        enum CodingKeys: String, CodingKey {
            case featureNames = "feature_names"
            case gradientBooster = "gradient_booster"
            case learnerModelParam = "learner_model_param"
            case objective
        }
    }

    /// Every value here is a string in the JSON (`"num_class": "3"`); `base_score` is `"5E-1"` before
    /// XGBoost 3 and a vector `"[a,b,c]"` (one per output group) from 3 on.
    struct ModelParam: Decodable {
        var baseScore: String
        var numClass: String
        var numFeature: String
        var numTarget: String?

        enum CodingKeys: String, CodingKey {
            case baseScore = "base_score"
            case numClass = "num_class"
            case numFeature = "num_feature"
            case numTarget = "num_target"
        }
    }

    struct Objective: Decodable {
        var name: String
    }

    /// `gbtree` holds its trees in `model`; `dart` wraps a gbtree in `gbtree` and adds one weight per tree.
    struct Booster: Decodable {
        var name: String
        var model: TreeModel?
        var gbtree: Inner?
        var weightDrop: [Float]?

        struct Inner: Decodable {
            var model: TreeModel
        }

        enum CodingKeys: String, CodingKey {
            case name, model, gbtree
            case weightDrop = "weight_drop"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            // Other boosters (gblinear) have a different `model`: stop before decoding it as trees.
            guard name == "gbtree" || name == "dart" else { return }
            model = try container.decodeIfPresent(TreeModel.self, forKey: .model)
            gbtree = try container.decodeIfPresent(Inner.self, forKey: .gbtree)
            weightDrop = try container.decodeIfPresent([Float].self, forKey: .weightDrop)
        }
    }

    struct TreeModel: Decodable {
        var trees: [Tree]
        var treeInfo: [Int]
        var gbtreeModelParam: GBTreeParam?

        struct GBTreeParam: Decodable {
            var numTrees: String?
            enum CodingKeys: String, CodingKey { case numTrees = "num_trees" }
        }

        enum CodingKeys: String, CodingKey {
            case trees
            case treeInfo = "tree_info"
            case gbtreeModelParam = "gbtree_model_param"
        }
    }

    struct Tree: Decodable {
        var leftChildren: [Int]
        var rightChildren: [Int]
        var splitIndices: [Int]
        var splitConditions: [Float]
        var defaultLeft: [Bool]
        var splitType: [Int]?
        var treeParam: TreeParam

        struct TreeParam: Decodable {
            var numNodes: String
            var sizeLeafVector: String?
            enum CodingKeys: String, CodingKey {
                case numNodes = "num_nodes"
                case sizeLeafVector = "size_leaf_vector"
            }
        }

        enum CodingKeys: String, CodingKey {
            case leftChildren = "left_children"
            case rightChildren = "right_children"
            case splitIndices = "split_indices"
            case splitConditions = "split_conditions"
            case defaultLeft = "default_left"
            case splitType = "split_type"
            case treeParam = "tree_param"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            leftChildren = try container.decode([Int].self, forKey: .leftChildren)
            rightChildren = try container.decode([Int].self, forKey: .rightChildren)
            splitIndices = try container.decode([Int].self, forKey: .splitIndices)
            splitConditions = try container.decode([Float].self, forKey: .splitConditions)
            // XGBoost writes 0/1; older writers and hand-made models use booleans.
            if let flags = try? container.decode([Int].self, forKey: .defaultLeft) {
                defaultLeft = flags.map { $0 != 0 }
            } else {
                defaultLeft = try container.decode([Bool].self, forKey: .defaultLeft)
            }
            splitType = try container.decodeIfPresent([Int].self, forKey: .splitType)
            treeParam = try container.decode(TreeParam.self, forKey: .treeParam)
        }
    }
}

extension DecodingError {
    /// "missing key learner.objective" rather than Foundation's debug description.
    var modelReason: String {
        func path(_ keys: [any CodingKey]) -> String {
            let text = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : text
        }
        switch self {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return "missing key \(parent.isEmpty ? "" : parent + ".")\(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "unexpected value at \(path(context.codingPath)): \(context.debugDescription)"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? context.debugDescription : "bad value at \(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(self)"
        }
    }
}
