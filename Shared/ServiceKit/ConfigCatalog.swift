// Every config key any Breakwater executable reads, in one place. A key in the file or a
// `BREAKWATER_…` variable that is not here stops the start ("unknown key; did you mean …?"), and
// a `Settings` accessor reading a key that is not here is a problem too, so the list cannot drift.
//
// ADDING A KEY IS ONE LINE in `ConfigCatalog.breakwater` below: `"section.newKey",` for a single
// value, `.list("key")` for a JSON array, `.section("key")` for an object read as a whole.
// A segment `*` matches any one segment (`strategies.*.period`); `<service>` matches a service's
// config name (feedHandler, signalGenerator, riskGate, executor, traceRecorder); `<principal>` one of those,
// `supervisor` or `busspy` (BusKeys).

/// The config keys Breakwater knows, and the `BREAKWATER_` variables that are not config keys.
public struct ConfigCatalog: Sendable {
    public enum Shape: Sendable, Equatable {
        /// A string, number or boolean.
        case value
        /// A JSON array (in the environment: comma-separated).
        case list
        /// A JSON object read as a whole; its contents are not checked here.
        case section
    }

    public struct Entry: Sendable, Equatable, ExpressibleByStringLiteral {
        public let pattern: String
        public var shape: Shape
        /// Split once: every key a service reads is looked up here, and a config file's check walks them all.
        let segments: [Substring]

        public init(_ pattern: String, shape: Shape = .value) {
            self.pattern = pattern
            self.shape = shape
            segments = pattern.split(separator: ".", omittingEmptySubsequences: false)
        }
        public init(stringLiteral pattern: String) { self.init(pattern) }

        public static func list(_ pattern: String) -> Entry { Entry(pattern, shape: .list) }
        public static func section(_ pattern: String) -> Entry { Entry(pattern, shape: .section) }
    }

    public let entries: [Entry]
    /// Positions in `entries`, in catalog order, of those a key with this first segment may match: the
    /// entries starting with it and those starting with `*` or a placeholder (`entriesByAnyFirstSegment`,
    /// all a key with another first segment may match). A lookup goes through a handful, not the whole catalog.
    private let entriesByFirstSegment: [Substring: [Int]]
    private let entriesByAnyFirstSegment: [Int]
    /// `BREAKWATER_` variables that are not config keys, each with why it exists.
    public var otherVariables: [String: String]
    /// Named segments, written `<name>`, and the names they match.
    public let placeholders: [String: [String]]
    /// Variables that once meant a key, refused with the key they meant: too far apart for a spelling suggestion.
    public var formerVariables: [String: String]
    /// File keys that were replaced, refused with what replaced them (their variables likewise).
    public var formerKeys: [String: String]
    /// Every entry with its named segments spelt out (`*` stays): the keys a variable or a misspelling is
    /// matched against.
    let concreteKeys: [String]
    /// The concrete keys without a `*`: most reads are one of them, found without matching patterns.
    private let plainKeys: Set<String>
    /// `concreteKeys`, sorted, split and case-folded once for `suggestion(forKey:)`: a file with many unknown
    /// keys compares each with all of them.
    private let suggestionCandidates: [SuggestionCandidate]

    private struct SuggestionCandidate: Sendable {
        let key: String
        let parts: [Substring]
        let spelling: Spelling
        let hasWildcard: Bool
    }

    public init(
        entries: [Entry], otherVariables: [String: String], placeholders: [String: [String]] = [:],
        formerVariables: [String: String] = [:], formerKeys: [String: String] = [:]
    ) {
        self.entries = entries
        func isName(_ segment: Substring?) -> Bool { segment.map { $0 != "*" && $0.first != "<" } ?? false }
        let named = entries.indices.filter { isName(entries[$0].segments.first) }
        let anyFirstSegment = entries.indices.filter { !isName(entries[$0].segments.first) }
        entriesByFirstSegment = Dictionary(grouping: named) { entries[$0].segments[0] }
            .mapValues { ($0 + anyFirstSegment).sorted() }
        entriesByAnyFirstSegment = anyFirstSegment
        self.otherVariables = otherVariables
        self.placeholders = placeholders
        self.formerVariables = formerVariables
        self.formerKeys = formerKeys
        concreteKeys = entries.flatMap { entry -> [String] in
            var keys: [[Substring]] = [[]]
            for segment in entry.segments {
                let choices = placeholders[String(segment)].map { $0.map { Substring($0) } } ?? [segment]
                keys = keys.flatMap { key in choices.map { key + [$0] } }
            }
            return keys.map { $0.joined(separator: ".") }
        }
        plainKeys = Set(concreteKeys.filter { !$0.contains("*") })
        suggestionCandidates = concreteKeys.sorted().map { key in
            let parts = key.split(separator: ".", omittingEmptySubsequences: false)
            return SuggestionCandidate(key: key, parts: parts, spelling: Spelling(key), hasWildcard: parts.contains("*"))
        }
    }
}

extension ConfigCatalog {
    public static let breakwater = ConfigCatalog(
        entries: [
            // Every process
            "mode", "logLevel", "varDir", .list("symbols"),
            "endpoints.<service>.bus", "endpoints.<service>.bind", "endpoints.<service>.admin",
            // the bus's CURVE keys (BusKeys; every process on the bus)
            "bus.curve", "bus.keyDir", "bus.keys.<principal>.public", "bus.keys.<principal>.secret",
            "account.startingCapital",
            // The exchange (ExchangeSettings; executor, feed, supervisor)
            "exchange.url", "exchange.account", "exchange.privateKey", "exchange.keyFile", "exchange.paperKeyFile",
            "exchange.deadlineMs", "exchange.rateLimitWaitSeconds",
            "exchange.breaker.window", "exchange.breaker.minimumCalls", "exchange.breaker.slowCallMs",
            "exchange.breaker.openMs", "exchange.breaker.trialCalls",
            // exchange-sim, as `breakwater up` passes them on its command line
            "exchangeSim.managed", "exchangeSim.market", "exchangeSim.seed", "exchangeSim.candleSeconds",
            "exchangeSim.dataDir", "exchangeSim.from", "exchangeSim.candles", "exchangeSim.adminToken",
            "exchangeSim.onlyIsolated",
            // feed-handler
            "feed.source", "feed.barSeconds", "feed.barGraceMs", "feed.bookLevels",
            "feed.replay.file", "feed.replay.from", "feed.replay.to", "feed.speedup", "feed.spreadBps",
            "feed.waitFor", "feed.waitTimeoutSeconds", "feed.staleAfterMs",
            // signal-generator
            "signal.strategies", "signal.rsi.period", "signal.rsi.oversold", "signal.rsi.overbought",
            "signal.tradeNotional", "signal.intentLifetimeMs", "signal.cooldownBars",
            "signal.regimeSelection", "signal.minConfidence",
            // models (ModelConfig; signal-generator and `breakwater model train`)
            "model.directory", "model.maxAgeHours", "model.retrainHours", "model.keep", "model.minProbability",
            "model.sharesWindow", "model.maxClassShare", "model.horizonBars", "model.neutralBandBps",
            "model.holdoutFraction", "model.rounds", "model.maxDepth", "model.learningRate", "model.seed",
            "model.minAccuracy", "model.minBars", "model.python",
            // the market maker (signal-generator)
            .list("marketMaking.symbols"), "marketMaking.tiers", "marketMaking.baseNotional", "marketMaking.sizeDecay",
            "marketMaking.tierSpacingBps", "marketMaking.minimumLot", "marketMaking.minSpreadBps",
            "marketMaking.maxSpreadBps", "marketMaking.volatilityLow", "marketMaking.volatilityHigh",
            "marketMaking.volatilityBars", "marketMaking.imbalanceWidening", "marketMaking.maxSideWidening",
            "marketMaking.adverseSelection.windowMs", "marketMaking.adverseSelection.thresholdBps",
            "marketMaking.adverseSelection.wideningFactor", "marketMaking.adverseSelection.halfLifeMs",
            "marketMaking.inventoryTargetNotional", "marketMaking.maxInventoryNotional", "marketMaking.inventorySkewBps",
            "marketMaking.inventorySizeShrink", "marketMaking.refreshToleranceBps", "marketMaking.maxOrderAgeMs",
            "marketMaking.allowModify", "marketMaking.filledOrderDelayMs", "marketMaking.microLevels",
            "marketMaking.minBookLevels", "marketMaking.minDepthNotional", "marketMaking.staleBookMs",
            "marketMaking.priceBandBps", "marketMaking.keepaliveMs", "marketMaking.quoteLifetimeMs",
            "recall.enabled", "recall.deadlineMs", "recall.k", "recall.localCapacity",
            "recall.chroma.url", "recall.chroma.collection", "recall.chroma.managed", "recall.chroma.command",
            "recall.chroma.serve",
            "recall.breaker.failureRateThreshold", "recall.breaker.slowCallRateThreshold", "recall.breaker.slowCallMs",
            "recall.breaker.window", "recall.breaker.minimumCalls", "recall.breaker.halfOpenCalls",
            "recall.breaker.waitOpenMs", "recall.breaker.waitOpenMaxMs",
            // leverage and margin (MarginRules.read; executor and risk gate)
            "margin.defaultLeverage", "margin.leverage.*", "margin.mode", "margin.maxUsage",
            "margin.minLiquidationDistance", "margin.minLiquidationDistanceAtr", "margin.modes.*",
            // risk-gate
            "risk.portfolio.enabled", "risk.portfolio.maxValueAtRisk", "risk.portfolio.maxExpectedShortfall",
            "risk.portfolio.maxStressLoss", "risk.portfolio.confidence", "risk.portfolio.horizonBars",
            "risk.portfolio.stepBars", "risk.portfolio.historyWindow", "risk.portfolio.minimumScenarios",
            "risk.portfolio.fallbackLossFraction", "risk.portfolio.correlationThreshold",
            "risk.portfolio.correlationWindow", "risk.portfolio.minimumCorrelationSamples",
            "risk.portfolio.fallbackCorrelation", "risk.portfolio.countCorrelatedAsOne",
            "risk.portfolio.seedFromTrace", "risk.portfolio.historyFiles.*",
            "risk.regimeScaling.trendingUp", "risk.regimeScaling.trendingDown", "risk.regimeScaling.ranging",
            "risk.regimeScaling.highVolatility",
            "risk.maxOpenPositions", "risk.maxOrderNotional", "risk.maxSymbolNotional", "risk.maxGrossExposure",
            "risk.maxDirectionShare", "risk.dailyLossLimit", "risk.drawdownLock", "risk.reduceAtDrawdown",
            "risk.maxOrdersPerMinute", "risk.maxQuoteInventory", "risk.ackTimeoutMs", "risk.stateFile",
            "risk.protection.enabled", "risk.protection.stopSlippage", "risk.protection.minMove",
            "risk.protection.takeProfitOnExchange",
            "risk.exits.enabled", "risk.exits.hardStop", "risk.exits.maxHoldingMinutes",
            "risk.exits.trailing.activation", "risk.exits.trailing.atrMultiple", "risk.exits.trailing.minDistance",
            "risk.exits.trailing.maxDistance",
            "risk.exits.softStop.loss",
            "risk.exits.softStop.confirmations",
            "risk.exits.atrStop.multiple",
            "risk.exits.trailing.enabled",
            .list("risk.exits.takeProfits"),
            "risk.exits.signalExit.minProfit",
            "risk.exits.signalExit.confirmations",
            "risk.exits.signalExit.cooldownSeconds",
            .list("risk.exits.emergency.tiers"),
            "risk.exits.forceStopDistance",
            // executor
            "executor.ledger", "executor.marketSlippageBps", "executor.snapshotIntervalMs", "executor.deadManSeconds",
            "executor.batchMax", "executor.batchWindowMs", "executor.pollMs", "executor.joinGraceMs",
            "executor.reconcileSeconds", "executor.ledgerReserveMB",
            "executor.quotes.reserveFraction", "executor.quotes.minimumReserve", "executor.quotes.requestsPerSecond",
            "executor.quotes.burst", "executor.quotes.minRefreshMs", "executor.quotes.maxRefreshMs",
            "executor.quotes.budgetPollMs", "executor.quotes.sweepMs",
            // trace-recorder
            "traceRecorder.database", "traceRecorder.flushIntervalMs", "traceRecorder.maxBatch",
            "traceRecorder.retentionDays", "traceRecorder.maxBacklog", "traceRecorder.archiveDirectory",
            "traceRecorder.backfillSeconds",
            // breakwater (the supervisor)
            "supervisor.admin", "admin.token",
        ],
        otherVariables: [
            "BREAKWATER_DATA_DIR": "the recorded market data folder (RepositoryPaths), read by exchange-sim and recall-bench too",
            "BREAKWATER_BIN_DIR": "where the tests find the built executables",
            "BREAKWATER_SUPERVISOR_PID": "set by `breakwater up` for its children, which stop when it is gone",
        ],
        placeholders: ["<service>": ServiceName.allCases.map(\.configKey), "<principal>": BusKeys.configKeys],
        // Refused, not honoured: a key set under an old name would otherwise be silently missing.
        formerVariables: ["BREAKWATER_HL_PRIVATE_KEY": "exchange.privateKey"],
        formerKeys: [
            "feed.symbol": "replaced by `symbols`, the list every service trades",
            "feed.szDecimals": "instrument rules come from the exchange's `meta`",
            "signal.minOrderValue": "instrument rules come from the exchange's `meta`",
        ])
}

// MARK: - Matching

extension ConfigCatalog {
    func matches(_ segment: Substring, _ pattern: Substring) -> Bool {
        if pattern == "*" { return !segment.isEmpty }
        // Only a `<name>` segment can be a placeholder: a literal one is compared without making strings.
        guard pattern.first == "<" else { return segment == pattern }
        if let names = placeholders[String(pattern)] { return names.contains(String(segment)) }
        return segment == pattern
    }

    /// The entry a dotted key names, if any.
    public func entry(for key: String) -> Entry? {
        let segments = key.split(separator: ".", omittingEmptySubsequences: false)
        // In catalog order: the first entry that matches decides, as it would in a scan of them all.
        let candidates = entriesByFirstSegment[segments[0]] ?? entriesByAnyFirstSegment
        return candidates.lazy.map { entries[$0] }.first { entry in
            let pattern = entry.segments
            return pattern.count == segments.count && zip(segments, pattern).allSatisfy { matches($0, $1) }
        }
    }

    public func contains(_ key: String) -> Bool { plainKeys.contains(key) || entry(for: key) != nil }

    /// Whether the key is a section holding catalog keys (`risk`, `risk.exits`, `endpoints.executor`).
    func isSection(_ segments: [Substring]) -> Bool {
        entries.contains { entry in
            let pattern = entry.segments
            return pattern.count > segments.count && zip(segments, pattern).allSatisfy { matches($0, $1) }
        }
    }

    // MARK: File

    /// Problems with the shape of a config file: keys the catalog does not know (with the nearest
    /// valid name), and objects or arrays where the catalog says otherwise. `refused` are the keys
    /// whose type was already reported, so that the accessors do not report them again.
    func check(file object: [String: Any]) -> (problems: [String], refused: Set<String>) {
        var problems: [String] = []
        var refused: Set<String> = []
        func walk(_ object: [String: Any], _ prefix: [Substring], known: Bool) {
            for name in object.keys.sorted() {
                let value = object[name]!
                let path = prefix + [Substring(name)]
                let key = path.joined(separator: ".")
                let found = Settings.FoundKind(value)
                if known, let entry = entry(for: key) {
                    switch entry.shape {
                    case .value where found == .object || found == .array:
                        problems.append("\(key): expected a single value, found \(found.article) \(found.rawValue)")
                        refused.insert(key)
                    case .list where found == .object:
                        problems.append("\(key): expected an array, found an object")
                        refused.insert(key)
                    default: break
                    }
                } else if known, isSection(path) {
                    if let nested = value as? [String: Any] {
                        walk(nested, path, known: true)
                    } else {
                        problems.append("\(key): expected an object (a section), found \(found.article) \(found.rawValue)")
                        refused.insert(key)
                    }
                } else if let nested = value as? [String: Any], !nested.isEmpty {
                    // Report the leaves: `riks.maxOpenPositions` has a suggestion, `riks` has none.
                    walk(nested, path, known: false)
                } else if let replaced = formerKeys[key] {
                    problems.append("\(key): no longer a setting: \(replaced)")
                } else {
                    problems.append(
                        "\(key): unknown key" + (suggestion(forKey: key).map { "; did you mean \($0)?" } ?? ""))
                }
            }
        }
        walk(object, [], known: true)
        return (problems, refused)
    }

    /// The nearest catalog key, compared case-insensitively over the whole dotted key; nil unless close.
    public func suggestion(forKey key: String) -> String? {
        let segments = key.split(separator: ".", omittingEmptySubsequences: false)
        let candidates = suggestionCandidates.lazy.map { candidate -> (String, Spelling) in
            // A `*` takes the key's own segment there, so `strategies.ETH.perod` can meet `strategies.ETH.period`.
            guard candidate.hasWildcard, candidate.parts.count == segments.count else {
                return (candidate.key, candidate.spelling)
            }
            let spelt = zip(candidate.parts, segments).map { $0 == "*" ? $1 : $0 }.joined(separator: ".")
            return (spelt, Spelling(spelt))
        }
        return Self.nearest(to: Spelling(key), among: candidates)
    }

    // MARK: Environment

    /// Problems with `BREAKWATER_…` variables that map to no catalog key and are not one of
    /// `otherVariables`. Only names are printed, never values (some are secrets).
    func check(environment: [String: String]) -> [String] {
        var problems: [String] = []
        for name in environment.keys.sorted() where name.hasPrefix("BREAKWATER_") {
            guard otherVariables[name] == nil, configKey(forVariable: name) == nil else { continue }
            var problem = "\(name): unknown setting"
            if let (key, replaced) = formerKeys.first(where: { Settings.environmentName($0.key) == name }) {
                problem = "\(name) (\(key)): no longer a setting: \(replaced)"
            } else if let key = formerVariables[name] {
                problem += "; did you mean \(Settings.environmentName(key)) (\(key))?"
            } else if let near = suggestion(forVariable: name) {
                problem += "; did you mean \(near.variable)" + (near.key.map { " (\($0))" } ?? "") + "?"
            }
            problems.append(problem)
        }
        return problems
    }

    /// The catalog key (or pattern) a `BREAKWATER_…` variable overrides, if any.
    public func configKey(forVariable name: String) -> String? {
        for key in concreteKeys {
            if key.contains("*") {
                if Self.variable(name, matches: key) { return key }
            } else if Settings.environmentName(key) == name {
                return key
            }
        }
        return nil
    }

    /// Whether `name` is the variable of a key with `*` segments (each stands for one or more words).
    static func variable(_ name: String, matches key: String) -> Bool {
        let parts = key.split(separator: ".").map { segment -> String in
            segment == "*"
                ? "[A-Z0-9]+(?:_[A-Z0-9]+)*" : String(Settings.environmentName(String(segment)).dropFirst("BREAKWATER_".count))
        }
        // The names are letters, digits and underscores: nothing to escape.
        guard let regex = try? Regex("BREAKWATER_" + parts.joined(separator: "_")) else { return false }
        return name.wholeMatch(of: regex) != nil
    }

    public func suggestion(forVariable name: String) -> (variable: String, key: String?)? {
        var byVariable: [String: String?] = [:]
        for key in concreteKeys where !key.contains("*") { byVariable[Settings.environmentName(key)] = key }
        for other in otherVariables.keys { byVariable[other] = .some(nil) }
        guard let variable = Self.nearest(to: name, among: Array(byVariable.keys)) else { return nil }
        return (variable, byVariable[variable] ?? nil)
    }

    // MARK: Distance

    /// The candidate with the smallest case-insensitive edit distance (the first in sorted order on a tie),
    /// when it is at most a quarter of the key's length (and at least 2): a close misspelling, not any key
    /// at all.
    static func nearest(to key: String, among candidates: [String]) -> String? {
        nearest(to: Spelling(key), among: candidates.sorted().lazy.map { ($0, Spelling($0)) })
    }

    /// `candidates` in the order ties are settled, each with its spelling. Only distances under the best so
    /// far are computed to the end, and only for candidates whose length and letter counts do not already rule
    /// them out.
    private static func nearest(to wanted: Spelling, among candidates: some Sequence<(String, Spelling)>) -> String? {
        var best: String?
        var bound = max(2, wanted.scalars.count / 4)
        for (candidate, spelling) in candidates
        where abs(wanted.scalars.count - spelling.scalars.count) <= bound && wanted.leastDistance(to: spelling) <= bound {
            guard let distance = editDistance(wanted.scalars, spelling.scalars, atMost: bound) else { continue }
            best = candidate
            if distance == 0 { break }
            bound = distance - 1
        }
        return best
    }

    /// A key case-folded for comparing spellings, with how many of its characters fall in each of 32 classes.
    struct Spelling: Sendable {
        let scalars: [Unicode.Scalar]
        let classCounts: SIMD32<Int32>

        init(_ key: String) {
            scalars = Array(key.lowercased().unicodeScalars)
            var counts = SIMD32<Int32>()
            for scalar in scalars { counts[Int(scalar.value & 31)] &+= 1 }
            classCounts = counts
        }

        /// At most the edit distance, for a fraction of its cost: an insertion or a deletion changes one
        /// class's count by one and a substitution two counts, one up and one down, so each edit brings the
        /// larger of the surplus and the shortfall down by one at most.
        func leastDistance(to other: Spelling) -> Int {
            let difference = classCounts &- other.classCounts
            // |difference| lane by lane, without a branch: the sum is surplus + shortfall, and the lengths'
            // difference is surplus − shortfall.
            let sign = difference &>> 31
            let absoluteSum = Int(((difference ^ sign) &- sign).wrappedSum())
            return (absoluteSum + abs(scalars.count - other.scalars.count)) / 2
        }
    }

    /// The edit distance of `a` and `b`, or nil when it is over `limit`. Only the band of cells within
    /// `limit` of the diagonal is computed (a path through any other costs more than `limit`), in two
    /// rows on the stack: a file of unknown keys compares each with every catalog key.
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar], atMost limit: Int) -> Int? {
        guard abs(a.count - b.count) <= limit else { return nil }
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        // Stands for every distance over the limit.
        let over = limit + 1
        let width = b.count + 1
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * width) { rows -> Int? in
            var previous = UnsafeMutableBufferPointer(rebasing: rows[0..<width])
            var current = UnsafeMutableBufferPointer(rebasing: rows[width...])
            for j in 0..<width { previous[j] = min(j, over) }
            for i in 1...a.count {
                let low = max(1, i - limit)
                let high = min(b.count, i + limit)
                current[low - 1] = low == 1 ? min(i, over) : over
                var rowMinimum = current[low - 1]
                for j in low...high {
                    let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                    current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution, over)
                    rowMinimum = min(rowMinimum, current[j])
                }
                // The next row reads one cell past this row's band.
                if high < b.count { current[high + 1] = over }
                // A row's minimum never falls further down the table.
                if rowMinimum > limit { return nil }
                swap(&previous, &current)
            }
            return previous[b.count] <= limit ? previous[b.count] : nil
        }
    }
}
