import Market
import Schema

/// Which strategies may open positions in which market regime, and in which direction.
///
/// The default table (`standard`):
///
/// | regime | mean reversion | trend following |
/// |---|---|---|
/// | `ranging` | both directions | — |
/// | `trendingUp` | — | long only |
/// | `trendingDown` | — | short only |
/// | `highVolatility` | — | — |
///
/// "—" is `regime_mismatch`: the strategy still evaluates every bar (its indicators stay
/// warm and its signal is published) but opens nothing.
public struct RegimeSelection: Sendable, Equatable {
    /// The directions a style may trade in a regime.
    public enum Admission: String, Codable, Sendable, Hashable, CaseIterable {
        case none
        case longOnly = "long_only"
        case shortOnly = "short_only"
        case both

        public func admits(_ direction: Direction) -> Bool {
            switch (self, direction) {
            case (_, .flat), (.none, _): false
            case (.both, _), (.longOnly, .long), (.shortOnly, .short): true
            default: false
            }
        }
    }

    /// The classifier the desk runs on every bar.
    public var classifier: RegimeConfig
    /// A pair missing from the table is `.none`.
    public var rules: [Regime: [StrategyStyle: Admission]]

    public init(classifier: RegimeConfig = RegimeConfig(), rules: [Regime: [StrategyStyle: Admission]]) {
        self.classifier = classifier
        self.rules = rules
    }

    /// The table above, with the given classifier.
    public static func standard(classifier: RegimeConfig = RegimeConfig()) -> RegimeSelection {
        RegimeSelection(
            classifier: classifier,
            rules: [
                .ranging: [.meanReversion: .both],
                .trendingUp: [.trendFollowing: .longOnly],
                .trendingDown: [.trendFollowing: .shortOnly],
                .highVolatility: [:],
            ])
    }

    public func admission(for style: StrategyStyle, in regime: Regime) -> Admission {
        rules[regime]?[style] ?? .none
    }

    public mutating func set(_ admission: Admission, for style: StrategyStyle, in regime: Regime) {
        rules[regime, default: [:]][style] = admission
    }

    public func admits(_ style: StrategyStyle, _ direction: Direction, in regime: Regime) -> Bool {
        admission(for: style, in: regime).admits(direction)
    }

    /// Reads a table from text keys, e.g. `["ranging": ["mean_reversion": "both"]]`, as
    /// a config file spells it. Regimes left out admit nothing.
    public init(classifier: RegimeConfig = RegimeConfig(), parsing table: [String: [String: String]])
        throws(StrategyConfigError)
    {
        var problems: [String] = []
        var rules: [Regime: [StrategyStyle: Admission]] = [:]
        for (regimeName, row) in table {
            guard let regime = Regime(rawValue: regimeName) else {
                let known = Regime.allCases.map(\.rawValue).joined(separator: ", ")
                problems.append("unknown regime \"\(regimeName)\" (known: \(known))")
                continue
            }
            for (styleName, admissionName) in row {
                guard let style = StrategyStyle(rawValue: styleName) else {
                    problems.append("unknown strategy style \"\(styleName)\" in \(regimeName)")
                    continue
                }
                guard let admission = Admission(rawValue: admissionName) else {
                    problems.append("unknown admission \"\(admissionName)\" for \(regimeName).\(styleName)")
                    continue
                }
                rules[regime, default: [:]][style] = admission
            }
        }
        do { try classifier.validate() } catch { problems += error.problems }
        try StrategyConfigError.check(problems)
        self.init(classifier: classifier, rules: rules)
    }
}
