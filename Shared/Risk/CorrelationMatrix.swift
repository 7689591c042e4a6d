import Schema

/// Pearson correlation of the symbols' returns over a rolling window.
///
/// Built from `JointReturns` — for the rolling matrix the risk gate uses one-bar returns over the last
/// `window` bars (`ReturnHistory.jointReturns(symbols:horizonBars: 1, stepBars: 1, window:)`), so each
/// sample is one bar and samples do not overlap.
public struct CorrelationMatrix: Sendable, Equatable {
    public enum Basis: String, Sendable, Codable {
        case historical
        /// Fewer samples than required: every off-diagonal entry is the configured fallback.
        case insufficientHistory = "insufficient_history"
    }

    public let symbols: [String]
    /// `values[i][j]`; 1 on the diagonal. A pair whose returns have no variance has no correlation
    /// and gets the fallback.
    public let values: [[Double]]
    public let samples: Int
    public let basis: Basis
    /// Pairs that took the fallback although history was sufficient (a constant series).
    public let undefinedPairs: [String]

    /// - Parameters:
    ///   - minimumSamples: fewer scenarios than this → `insufficient_history`.
    ///   - fallbackCorrelation: used where the correlation is unknown; the conservative choice is 1
    ///     (assume the positions move together).
    public init(returns: JointReturns, minimumSamples: Int, fallbackCorrelation: Double = 1) {
        let n = returns.symbols.count
        symbols = returns.symbols
        samples = returns.count
        var values = Array(repeating: Array(repeating: fallbackCorrelation, count: n), count: n)
        for i in 0..<n { values[i][i] = 1 }
        guard returns.count >= max(2, minimumSamples) else {
            self.values = values
            basis = .insufficientHistory
            undefinedPairs = []
            return
        }
        // Two passes (mean, then centred sums): accurate for returns near zero.
        let count = Double(returns.count)
        var means = Array(repeating: 0.0, count: n)
        for vector in returns.returns { for i in 0..<n { means[i] += vector[i] } }
        for i in 0..<n { means[i] /= count }
        var sums = Array(repeating: Array(repeating: 0.0, count: n), count: n)
        for vector in returns.returns {
            for i in 0..<n {
                let di = vector[i] - means[i]
                for j in i..<n { sums[i][j] += di * (vector[j] - means[j]) }
            }
        }
        var undefined: [String] = []
        for i in 0..<n {
            for j in (i + 1)..<max(i + 1, n) {
                let denominator = (sums[i][i] * sums[j][j]).squareRoot()
                if denominator > 0, denominator.isFinite {
                    let r = min(1, max(-1, sums[i][j] / denominator))
                    values[i][j] = r
                    values[j][i] = r
                } else {
                    undefined.append("\(symbols[i])/\(symbols[j])")
                }
            }
        }
        self.values = values
        basis = .historical
        undefinedPairs = undefined
    }

    public func correlation(_ a: String, _ b: String) -> Double? {
        guard let i = symbols.firstIndex(of: a), let j = symbols.firstIndex(of: b) else { return nil }
        return values[i][j]
    }

    /// Groups of symbols that move together: connected components (single linkage) of the graph whose
    /// edges are pairs with correlation ≥ `threshold`. Only positive correlation links: a negatively
    /// correlated pair is a hedge when held the same way. Chains link too: A~B and B~C put A, B and C
    /// in one cluster even if A and C are below the threshold. Each cluster is sorted; clusters are
    /// ordered by their first symbol.
    public func clusters(threshold: Double) -> [[String]] {
        let n = symbols.count
        var parent = Array(0..<n)
        func root(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { x = parent[x] }
            return x
        }
        for i in 0..<n {
            for j in (i + 1)..<max(i + 1, n) where values[i][j] >= threshold {
                let a = root(i)
                let b = root(j)
                if a != b { parent[max(a, b)] = min(a, b) }
            }
        }
        var groups: [Int: [String]] = [:]
        for i in 0..<n { groups[root(i), default: []].append(symbols[i]) }
        return groups.values.map { $0.sorted() }.sorted { $0[0] < $1[0] }
    }
}
