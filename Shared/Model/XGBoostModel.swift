import Foundation

/// An XGBoost classifier read from XGBoost's JSON model format and evaluated exactly as XGBoost's CPU
/// predictor does: features as `Float`, `x < split` goes left, a missing value (NaN) follows the node's
/// default direction, leaf values summed per output group in `Float` starting from the base margin, then
/// the objective's transform. Predictions equal the `xgboost` package's to float rounding.
///
/// Supported: boosters `gbtree` and `dart` (each tree scaled by its `weight_drop`), objectives
/// `binary:logistic`, `binary:logitraw`, `multi:softprob`, `multi:softmax`, any `num_parallel_tree`.
/// Refused at load: other objectives and boosters, categorical splits, vector leaves (multi-target trees).
public struct XGBoostModel: Sendable {
    public enum Objective: String, Sendable, CaseIterable {
        case binaryLogistic = "binary:logistic"
        case binaryLogitRaw = "binary:logitraw"
        case multiSoftprob = "multi:softprob"
        case multiSoftmax = "multi:softmax"

        var isBinary: Bool { self == .binaryLogistic || self == .binaryLogitRaw }
    }

    /// One node of the flattened forest: 16 bytes. Children are adjacent (right = left + 1) and always after
    /// their parent. A leaf points at itself and does not advance, so a walk may take more steps than the
    /// tree is deep and still end on its leaf: several trees can then be walked in lock step.
    @usableFromInline
    struct Node: Sendable {
        /// The split threshold, or the leaf value.
        @usableFromInline var value: Float
        /// Bits 0–30: the feature index; bit 31: a missing value goes left.
        @usableFromInline var featureAndDefault: UInt32
        /// Index of the left child in `nodes`; a leaf's own index.
        @usableFromInline var left: Int32
        /// 1 for a split (the right child is `left + 1`), 0 for a leaf.
        @usableFromInline var advance: Int32

        static let defaultLeftBit: UInt32 = 1 << 31

        static func leaf(_ value: Float, at index: Int) -> Node {
            Node(value: value, featureAndDefault: 0, left: Int32(index), advance: 0)
        }
    }

    /// The names of the model's features in input order; XGBoost's `f0, f1, …` when it was trained without names.
    public let featureNames: [String]
    /// Whether `feature_names` was written in the model (false: the names above are XGBoost's defaults).
    public let hasFeatureNames: Bool
    public let featureCount: Int
    /// Classes: 2 for a binary objective, `num_class` for a multi-class one.
    public let classCount: Int
    public let objective: Objective
    public let treeCount: Int
    /// `gbtree` or `dart`.
    public let booster: String

    let nodes: [Node]
    /// Per tree: index of its root in `nodes`, its depth, its output group, its weight (1 for gbtree).
    let roots: [Int32]
    let depths: [Int32]
    let groups: [Int32]
    let weights: [Float]
    let isDart: Bool
    /// The margin every group starts from (base_score mapped through the objective's link).
    let baseMargins: [Float]
    var groupCount: Int { baseMargins.count }

    public init(contentsOf url: URL) throws(ModelError) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .unreadable(path: url.path, reason: Self.reason(error))
        }
        try self.init(json: data, source: url.path)
    }

    /// `source` names the model in error messages (a path when there is one).
    public init(json: Data, source: String = "model JSON") throws(ModelError) {
        let raw: XGBoostJSON
        do {
            raw = try JSONDecoder().decode(XGBoostJSON.self, from: json)
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
                throw .notJSON(source: source, reason: Self.reason(context.underlyingError ?? error))
            }
            throw .notAModel(source: source, reason: error.modelReason)
        } catch {
            throw .notAModel(source: source, reason: Self.reason(error))
        }
        try self.init(raw: raw, source: source)
    }

    init(raw: XGBoostJSON, source: String) throws(ModelError) {
        let learner = raw.learner
        func unsupported(_ reason: String) -> ModelError { .unsupported(source: source, reason: reason) }
        func malformed(_ reason: String) -> ModelError { .malformed(source: source, reason: reason) }

        guard let objective = Objective(rawValue: learner.objective.name) else {
            throw unsupported(
                "objective \(learner.objective.name) (Breakwater evaluates "
                    + Objective.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        self.objective = objective
        let parameters = learner.learnerModelParam
        guard let featureCount = Int(parameters.numFeature), featureCount > 0, featureCount < 1 << 30 else {
            throw malformed("learner_model_param.num_feature is \(parameters.numFeature)")
        }
        guard let numClass = Int(parameters.numClass), numClass >= 0 else {
            throw malformed("learner_model_param.num_class is \(parameters.numClass)")
        }
        if let targets = parameters.numTarget, let count = Int(targets), count > 1 {
            throw unsupported("\(count) targets (multi-output models)")
        }
        let groupCount: Int
        if objective.isBinary {
            guard numClass <= 1 else { throw malformed("\(objective.rawValue) with num_class \(numClass)") }
            groupCount = 1
            classCount = 2
        } else {
            guard numClass >= 2 else { throw malformed("\(objective.rawValue) with num_class \(numClass)") }
            groupCount = numClass
            classCount = numClass
        }
        self.featureCount = featureCount

        let names = learner.featureNames ?? []
        if names.isEmpty {
            featureNames = (0..<featureCount).map { "f\($0)" }
            hasFeatureNames = false
        } else {
            guard names.count == featureCount else {
                throw malformed("\(names.count) feature_names for num_feature \(featureCount)")
            }
            guard Set(names).count == names.count else { throw malformed("duplicate feature_names") }
            featureNames = names
            hasFeatureNames = true
        }

        // Base score: probability space for binary:logistic (XGBoost stores the mean label), margin space
        // for the others. XGBoost maps it once, in Float, with -log(1/p - 1).
        let scores = try Self.parseBaseScore(parameters.baseScore, malformed: malformed)
        guard scores.count == 1 || scores.count == groupCount else {
            throw malformed("base_score has \(scores.count) values for \(groupCount) output groups")
        }
        var margins = scores.count == 1 ? Array(repeating: scores[0], count: groupCount) : scores
        if objective == .binaryLogistic {
            guard let probability = margins.first, probability > 0, probability < 1 else {
                throw malformed("binary:logistic base_score \(scores[0]) is not a probability in (0, 1)")
            }
            margins = [-log(1 / probability - 1)]
        }
        baseMargins = margins

        let booster = learner.gradientBooster
        self.booster = booster.name
        let model: XGBoostJSON.TreeModel
        switch booster.name {
        case "gbtree":
            guard let trees = booster.model else { throw .notAModel(source: source, reason: "gbtree without model") }
            model = trees
            isDart = false
        case "dart":
            guard let inner = booster.gbtree else { throw .notAModel(source: source, reason: "dart without gbtree") }
            model = inner.model
            isDart = true
        default:
            throw unsupported("booster \(booster.name) (Breakwater evaluates gbtree and dart)")
        }
        let treeCount = model.trees.count
        self.treeCount = treeCount
        guard model.treeInfo.count == treeCount else {
            throw malformed("\(model.treeInfo.count) tree_info entries for \(treeCount) trees")
        }
        if let declared = model.gbtreeModelParam?.numTrees, Int(declared) != treeCount {
            throw malformed("gbtree_model_param.num_trees is \(declared) but there are \(treeCount) trees")
        }
        if isDart {
            guard let drop = booster.weightDrop, drop.count == treeCount else {
                throw malformed("dart with \(booster.weightDrop?.count ?? 0) weight_drop entries for \(treeCount) trees")
            }
            weights = drop
        } else {
            weights = Array(repeating: 1, count: treeCount)
        }

        var nodes: [Node] = []
        var roots: [Int32] = []
        var depths: [Int32] = []
        var groups: [Int32] = []
        nodes.reserveCapacity(model.trees.reduce(0) { $0 + $1.leftChildren.count })
        for (index, tree) in model.trees.enumerated() {
            let group = model.treeInfo[index]
            guard group >= 0, group < groupCount else {
                throw malformed("tree \(index) is in output group \(group) of \(groupCount)")
            }
            groups.append(Int32(group))
            roots.append(Int32(nodes.count))
            depths.append(
                try Self.flatten(
                    tree, index: index, featureCount: featureCount, into: &nodes, unsupported: unsupported,
                    malformed: malformed))
        }
        guard nodes.count < Int(Int32.max) else { throw unsupported("more than 2^31 nodes") }
        self.nodes = nodes
        self.roots = roots
        self.depths = depths
        self.groups = groups
    }

    static func parseBaseScore(_ text: String, malformed: (String) -> ModelError) throws(ModelError) -> [Float] {
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        if body.hasPrefix("["), body.hasSuffix("]") { body = body.dropFirst().dropLast() }
        var values: [Float] = []
        for part in body.split(separator: ",", omittingEmptySubsequences: false) {
            guard let value = Float(part.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                throw malformed("learner_model_param.base_score is \(text)")
            }
            values.append(value)
        }
        guard !values.isEmpty else { throw malformed("learner_model_param.base_score is empty") }
        return values
    }

    /// Appends one tree breadth-first, children side by side, checking every index on the way; returns its depth.
    static func flatten(
        _ tree: XGBoostJSON.Tree, index: Int, featureCount: Int, into nodes: inout [Node],
        unsupported: (String) -> ModelError, malformed: (String) -> ModelError
    ) throws(ModelError) -> Int32 {
        let count = tree.leftChildren.count
        guard count > 0, Int(tree.treeParam.numNodes) == count else {
            throw malformed("tree \(index) has \(count) nodes, tree_param.num_nodes says \(tree.treeParam.numNodes)")
        }
        if let size = tree.treeParam.sizeLeafVector.flatMap({ Int($0) }), size > 1 {
            throw unsupported("tree \(index) has vector leaves (size_leaf_vector \(size))")
        }
        guard tree.rightChildren.count == count, tree.splitIndices.count == count, tree.splitConditions.count == count,
            tree.defaultLeft.count == count, tree.splitType.map({ $0.count == count }) ?? true
        else { throw malformed("tree \(index): node arrays of different lengths") }
        if let types = tree.splitType, let node = types.firstIndex(where: { $0 != 0 }) {
            throw unsupported("tree \(index) node \(node) is a categorical split")
        }
        let base = nodes.count
        // Slot of each source node in `nodes` once placed, -1 before.
        var placed = [Int](repeating: -1, count: count)
        placed[0] = base
        nodes.append(.leaf(0, at: base))
        var queue = [0]
        var depthOf = [Int32](repeating: 0, count: count)
        var depth: Int32 = 0
        var head = 0
        while head < queue.count {
            let id = queue[head]
            head += 1
            depth = max(depth, depthOf[id])
            let slot = placed[id]
            let left = tree.leftChildren[id]
            let right = tree.rightChildren[id]
            if left == -1 {
                guard right == -1 else { throw malformed("tree \(index) node \(id) has only a right child") }
                let value = tree.splitConditions[id]
                guard value.isFinite else { throw malformed("tree \(index) leaf \(id) has value \(value)") }
                nodes[slot] = .leaf(value, at: slot)
                continue
            }
            guard left > 0, left < count, right > 0, right < count, left != right, placed[left] == -1,
                placed[right] == -1
            else { throw malformed("tree \(index) node \(id) has children \(left), \(right)") }
            let feature = tree.splitIndices[id]
            guard feature >= 0, feature < featureCount else {
                throw malformed("tree \(index) node \(id) splits on feature \(feature) of \(featureCount)")
            }
            let split = tree.splitConditions[id]
            guard !split.isNaN else { throw malformed("tree \(index) node \(id) splits at NaN") }
            let leftSlot = nodes.count
            placed[left] = leftSlot
            placed[right] = leftSlot + 1
            nodes.append(.leaf(0, at: leftSlot))
            nodes.append(.leaf(0, at: leftSlot + 1))
            nodes[slot] = Node(
                value: split,
                featureAndDefault: UInt32(feature) | (tree.defaultLeft[id] ? Node.defaultLeftBit : 0),
                left: Int32(leftSlot), advance: 1)
            depthOf[left] = depthOf[id] + 1
            depthOf[right] = depthOf[id] + 1
            queue.append(left)
            queue.append(right)
        }
        // Nodes never reached from the root are deleted nodes (num_deleted); they cost nothing here.
        return depth
    }

    static func reason(_ error: any Error) -> String {
        if let decoding = error as? DecodingError { return decoding.modelReason }
        return (error as NSError).localizedDescription
    }
}

// MARK: - Evaluation

extension XGBoostModel {
    /// Class probabilities for one row (length `classCount`; binary → `[1 − p, p]`). NaN is a missing value.
    public func probabilities(_ features: [Double]) throws(ModelError) -> [Double] {
        var output = [Double](repeating: 0, count: classCount)
        try probabilities(features, into: &output)
        return output
    }

    /// Writes the class probabilities into `output` (resized to `classCount` only if it has another length,
    /// so a caller that reuses its buffer never allocates).
    public func probabilities(_ features: [Double], into output: inout [Double]) throws(ModelError) {
        guard features.count == featureCount else { throw .featureCount(expected: featureCount, got: features.count) }
        if output.count != classCount { output = [Double](repeating: 0, count: classCount) }
        let groups = groupCount
        withUnsafeTemporaryAllocation(of: Float.self, capacity: groups) { margin in
            features.withUnsafeBufferPointer { accumulate($0, into: margin) }
            output.withUnsafeMutableBufferPointer { out in
                switch objective {
                case .binaryLogistic, .binaryLogitRaw:
                    let p = Double(Self.sigmoid(margin[0]))
                    out[0] = 1 - p
                    out[1] = p
                case .multiSoftprob, .multiSoftmax:
                    Self.softmax(margin, into: out)
                }
            }
        }
    }

    /// The raw margins (log-odds) per output group: one for a binary model, `classCount` for a multi-class
    /// one; what `Booster.predict(output_margin=True)` returns.
    public func margins(_ features: [Double]) throws(ModelError) -> [Double] {
        var output = [Double](repeating: 0, count: groupCount)
        try margins(features, into: &output)
        return output
    }

    public func margins(_ features: [Double], into output: inout [Double]) throws(ModelError) {
        guard features.count == featureCount else { throw .featureCount(expected: featureCount, got: features.count) }
        let groups = groupCount
        if output.count != groups { output = [Double](repeating: 0, count: groups) }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: groups) { margin in
            features.withUnsafeBufferPointer { accumulate($0, into: margin) }
            for group in 0..<groups { output[group] = Double(margin[group]) }
        }
    }

    /// The most probable class (ties to the lower index, as XGBoost's softmax prediction).
    public func predictedClass(_ features: [Double]) throws(ModelError) -> Int {
        let p = try probabilities(features)
        var best = 0
        for index in p.indices where p[index] > p[best] { best = index }
        return best
    }

    /// Sums the leaves per group in tree order, in Float, from the base margin: XGBoost's own order, so the
    /// sums round the same way. Eight trees are walked in lock step: their loads overlap instead of waiting
    /// on one another.
    @inline(__always)
    func accumulate(_ row: UnsafeBufferPointer<Double>, into margin: UnsafeMutableBufferPointer<Float>) {
        for group in 0..<baseMargins.count { margin[group] = baseMargins[group] }
        nodes.withUnsafeBufferPointer { nodes in
            roots.withUnsafeBufferPointer { roots in
                depths.withUnsafeBufferPointer { depths in
                    groups.withUnsafeBufferPointer { groups in
                        weights.withUnsafeBufferPointer { weights in
                            let dart = isDart
                            func add(_ tree: Int, _ leaf: Float) {
                                margin[Int(groups[tree])] += dart ? leaf * weights[tree] : leaf
                            }
                            var tree = 0
                            while tree + 8 <= roots.count {
                                var n0 = roots[tree]
                                var n1 = roots[tree + 1]
                                var n2 = roots[tree + 2]
                                var n3 = roots[tree + 3]
                                var n4 = roots[tree + 4]
                                var n5 = roots[tree + 5]
                                var n6 = roots[tree + 6]
                                var n7 = roots[tree + 7]
                                var steps: Int32 = 0
                                for offset in 0..<8 { steps = max(steps, depths[tree + offset]) }
                                for _ in 0..<steps {
                                    n0 = Self.step(nodes, n0, row)
                                    n1 = Self.step(nodes, n1, row)
                                    n2 = Self.step(nodes, n2, row)
                                    n3 = Self.step(nodes, n3, row)
                                    n4 = Self.step(nodes, n4, row)
                                    n5 = Self.step(nodes, n5, row)
                                    n6 = Self.step(nodes, n6, row)
                                    n7 = Self.step(nodes, n7, row)
                                }
                                add(tree, nodes[Int(n0)].value)
                                add(tree + 1, nodes[Int(n1)].value)
                                add(tree + 2, nodes[Int(n2)].value)
                                add(tree + 3, nodes[Int(n3)].value)
                                add(tree + 4, nodes[Int(n4)].value)
                                add(tree + 5, nodes[Int(n5)].value)
                                add(tree + 6, nodes[Int(n6)].value)
                                add(tree + 7, nodes[Int(n7)].value)
                                tree += 8
                            }
                            while tree < roots.count {
                                var n = roots[tree]
                                for _ in 0..<depths[tree] { n = Self.step(nodes, n, row) }
                                add(tree, nodes[Int(n)].value)
                                tree += 1
                            }
                        }
                    }
                }
            }
        }
    }

    /// One step down a tree; a leaf stays where it is. Indices were checked at load: children lie inside
    /// `nodes`, features inside the row. No branch on the comparison: random inputs would mispredict half of them.
    @inline(__always)
    static func step(_ nodes: UnsafeBufferPointer<Node>, _ index: Int32, _ row: UnsafeBufferPointer<Double>) -> Int32 {
        let node = nodes[Int(index)]
        let bits = node.featureAndDefault
        let x = Float(row[Int(bits & ~Node.defaultLeftBit)])
        // x < split → left (0). NaN compares false → right (1), unless the node sends missing values left.
        let right: Int32 = x < node.value ? 0 : 1
        let missingLeft: Int32 = x.isNaN ? Int32(bitPattern: bits >> 31) : 0
        return node.left &+ ((right &- missingLeft) & node.advance)
    }

    /// XGBoost's `common::Sigmoid`, in Float.
    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        let exponent = min(-x, 88.7)
        return 1 / (exp(exponent) + 1 + 1e-16)
    }

    /// XGBoost's `common::Softmax`: exponentials in Float, their sum in Double.
    @inline(__always)
    static func softmax(_ margin: UnsafeMutableBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Double>) {
        var highest = margin[0]
        for index in 1..<margin.count { highest = max(highest, margin[index]) }
        var sum: Double = 0
        for index in 0..<margin.count {
            let e = exp(margin[index] - highest)
            margin[index] = e
            sum += Double(e)
        }
        let total = Float(sum)
        for index in 0..<margin.count { out[index] = Double(margin[index] / total) }
    }
}
