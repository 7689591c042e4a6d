import Schema

/// The fallback recall: exact nearest neighbours over the most recent set-ups, kept in memory.
///
/// A ring buffer of `capacity` records (the oldest is overwritten), fed with every set-up and outcome the
/// signal generator sees, so that it is warm whenever Chroma stops answering. Distances are those of the
/// Chroma collection (`DistanceSpace`), so both answers compare. Queries scan the window linearly: with
/// 5,000 records of 11 features that is some tens of microseconds (optimised build).
///
/// A pure value: no clock, no locks; the owner serialises access. Symbols and strategies are interned
/// (a handful each) so that a scan compares integers, not strings.
public struct LocalRecall: Sendable {
    public let capacity: Int
    public let dimension: Int
    public let space: DistanceSpace

    /// `capacity × dimension` features, slot after slot.
    private var features: [Double]
    private var ids: [String?]
    private var contexts: [SetupContext?]
    private var outcomes: [SetupOutcome?]
    private var slotByID: [String: Int] = [:]
    /// The slot the next new record takes.
    private var head = 0
    /// Per slot, what a filter looks at, as small integers so that a scan compares no strings:
    /// symbol and strategy as codes from `codes` (0 for an empty slot), direction, outcome known.
    private var symbolCodes: [Int32]
    private var strategyCodes: [Int32]
    private var directionCodes: [UInt8]
    private var hasOutcome: [Bool]
    /// Interned symbols and strategies (a handful each), from 1.
    private var codes: [String: Int32] = [:]

    public init(capacity: Int = 5_000, dimension: Int = SetupFeatures.dimension, space: DistanceSpace = .l2) {
        precondition(capacity > 0, "capacity must be positive")
        precondition(dimension > 0, "dimension must be positive")
        self.capacity = capacity
        self.dimension = dimension
        self.space = space
        features = Array(repeating: 0, count: capacity * dimension)
        ids = Array(repeating: nil, count: capacity)
        contexts = Array(repeating: nil, count: capacity)
        outcomes = Array(repeating: nil, count: capacity)
        symbolCodes = Array(repeating: 0, count: capacity)
        strategyCodes = Array(repeating: 0, count: capacity)
        directionCodes = Array(repeating: 0, count: capacity)
        hasOutcome = Array(repeating: false, count: capacity)
    }

    /// Records in the window.
    public var count: Int { slotByID.count }

    /// Records in the window whose outcome is known.
    public var countWithOutcome: Int { slotByID.values.reduce(0) { $0 + (outcomes[$1] == nil ? 0 : 1) } }

    /// Adds a set-up, evicting the oldest when full. A set-up already held is replaced in place and keeps
    /// its outcome unless the new record brings one. Returns false (and stores nothing) for a vector of
    /// the wrong length or with non-finite numbers.
    @discardableResult
    public mutating func remember(_ record: SetupRecord) -> Bool {
        guard SetupFeatures.isValid(record.features, dimension: dimension) else { return false }
        let slot: Int
        if let existing = slotByID[record.id] {
            slot = existing
            outcomes[slot] = record.outcome ?? outcomes[slot]
        } else {
            slot = head
            head = (head + 1) % capacity
            if let evicted = ids[slot] { slotByID[evicted] = nil }
            slotByID[record.id] = slot
            ids[slot] = record.id
            outcomes[slot] = record.outcome
        }
        contexts[slot] = record.context
        symbolCodes[slot] = code(record.context.symbol)
        strategyCodes[slot] = code(record.context.strategy)
        directionCodes[slot] = Self.code(record.context.direction)
        hasOutcome[slot] = outcomes[slot] != nil
        features.replaceSubrange(slot * dimension..<(slot + 1) * dimension, with: record.features)
        return true
    }

    /// Writes a closed trade's outcome; false when the set-up has left the window (or never was in it).
    @discardableResult
    public mutating func recordOutcome(setupId: String, outcome: SetupOutcome) -> Bool {
        guard let slot = slotByID[setupId] else { return false }
        outcomes[slot] = outcome
        hasOutcome[slot] = true
        return true
    }

    private mutating func code(_ name: String) -> Int32 {
        if let code = codes[name] { return code }
        let code = Int32(codes.count + 1)
        codes[name] = code
        return code
    }

    private static func code(_ direction: Direction) -> UInt8 {
        switch direction {
        case .long: 1
        case .short: 2
        case .flat: 3
        }
    }

    /// The set-up held under `id`, if any.
    public func record(id: String) -> SetupRecord? {
        guard let slot = slotByID[id], let context = contexts[slot] else { return nil }
        return SetupRecord(
            id: id, features: Array(features[slot * dimension..<(slot + 1) * dimension]), context: context,
            outcome: outcomes[slot])
    }

    /// The `k` nearest set-ups that pass `filter`, nearest first (ties: the one in the lower slot).
    /// Empty for `k <= 0` or a query vector of the wrong length.
    public func nearest(to query: [Double], k: Int, filter: RecallFilter = .none) -> [RecalledSetup] {
        guard k > 0, query.count == dimension else { return [] }
        // The filter as codes; a name never seen matches nothing. 0 means "any".
        var wantedSymbol: Int32 = 0
        var wantedStrategy: Int32 = 0
        if let symbol = filter.symbol {
            guard let code = codes[symbol] else { return [] }
            wantedSymbol = code
        }
        if let strategy = filter.strategy {
            guard let code = codes[strategy] else { return [] }
            wantedStrategy = code
        }
        let wantedDirection = filter.direction.map(Self.code) ?? 0
        let needOutcome = filter.onlyWithOutcome
        let dimension = dimension
        let space = space
        // Kept sorted by distance; k is small, so insertion into a short array beats a heap.
        var best: [(distance: Double, slot: Int)] = []
        best.reserveCapacity(k + 1)
        query.withUnsafeBufferPointer { q in
            features.withUnsafeBufferPointer { all in
                symbolCodes.withUnsafeBufferPointer { symbols in
                    strategyCodes.withUnsafeBufferPointer { strategies in
                        directionCodes.withUnsafeBufferPointer { directions in
                            hasOutcome.withUnsafeBufferPointer { outcomes in
                                for slot in 0..<symbols.count {
                                    let symbol = symbols[slot]
                                    guard symbol != 0,  // empty slot
                                        wantedSymbol == 0 || symbol == wantedSymbol,
                                        wantedStrategy == 0 || strategies[slot] == wantedStrategy,
                                        wantedDirection == 0 || directions[slot] == wantedDirection,
                                        !needOutcome || outcomes[slot]
                                    else { continue }
                                    let vector = UnsafeBufferPointer(
                                        rebasing: all[slot * dimension..<(slot + 1) * dimension])
                                    let distance = space.distance(q, vector)
                                    if best.count == k, distance >= best[k - 1].distance { continue }
                                    var index = best.count
                                    while index > 0 && best[index - 1].distance > distance { index -= 1 }
                                    best.insert((distance, slot), at: index)
                                    if best.count > k { best.removeLast() }
                                }
                            }
                        }
                    }
                }
            }
        }
        return best.compactMap { entry in
            guard let id = ids[entry.slot] else { return nil }
            return RecalledSetup(
                id: id, distance: entry.distance, context: contexts[entry.slot], outcome: outcomes[entry.slot])
        }
    }
}
