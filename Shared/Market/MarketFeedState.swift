import Schema

/// The feed's view of many symbols' markets: bars built from each symbol's trades, and whether each
/// symbol is live. A symbol is stale when its market has been silent for `staleAfterNanos` or the
/// exchange connection is down; it is live again at its next book or trade. Pure: the caller passes
/// the time in and publishes what comes back.
public struct MarketFeedState: Sendable {
    public struct StatusChange: Sendable, Equatable {
        public var symbol: String
        public var state: FeedStatus.State
        public var detail: String
        /// Nanoseconds since the symbol's last book or trade (or since the start, when none came yet).
        public var silentNanos: Int64
    }

    public struct SymbolView: Sendable {
        public var aggregator: BarAggregator
        public var lastUpdate: EpochNanos?
        public var state: FeedStatus.State?
        public var trades = 0
        public var bars = 0
    }

    public let staleAfterNanos: Int64
    public let barGraceNanos: Int64
    /// A symbol that never sent anything is stale once this long has passed since the start.
    public let startedAt: EpochNanos
    public private(set) var views: [String: SymbolView]

    public init(symbols: [String], barSeconds: Int, barGraceNanos: Int64, staleAfterNanos: Int64, now: EpochNanos) {
        self.staleAfterNanos = staleAfterNanos
        self.startedAt = now
        self.barGraceNanos = barGraceNanos
        var views: [String: SymbolView] = [:]
        for symbol in symbols {
            views[symbol] = SymbolView(aggregator: BarAggregator(symbol: symbol, intervalSeconds: barSeconds))
        }
        self.views = views
    }

    public var symbols: [String] { views.keys.sorted() }

    /// Symbols whose market is live.
    public var liveCount: Int { views.values.count { $0.state == .live } }

    /// A book arrived: the symbol is live. Nil for a symbol this feed does not carry.
    public mutating func book(_ symbol: String, now: EpochNanos) -> StatusChange? {
        guard views[symbol] != nil else { return nil }
        views[symbol]!.lastUpdate = now
        return setState(symbol, .live, detail: "books and trades flowing", now: now)
    }

    /// A trade arrived: it goes into the symbol's bar, and the bar it closed (if any) comes back.
    public mutating func trade(
        _ symbol: String, price: Amount, size: Amount, time: EpochNanos, now: EpochNanos
    ) -> (bar: TradeBar?, change: StatusChange?) {
        guard views[symbol] != nil else { return (nil, nil) }
        views[symbol]!.lastUpdate = now
        views[symbol]!.trades += 1
        let bar = views[symbol]!.aggregator.add(price: price, size: size, time: time)
        if bar != nil { views[symbol]!.bars += 1 }
        return (bar, setState(symbol, .live, detail: "books and trades flowing", now: now))
    }

    /// The clock moved: bars whose interval (plus the grace) has ended close even without a later
    /// trade, and symbols silent for too long go stale. Sorted by symbol.
    public mutating func tick(now: EpochNanos) -> (bars: [TradeBar], changes: [StatusChange]) {
        var bars: [TradeBar] = []
        var changes: [StatusChange] = []
        for symbol in symbols {
            if let bar = views[symbol]!.aggregator.close(upTo: now - barGraceNanos) {
                views[symbol]!.bars += 1
                bars.append(bar)
            }
            if now - (views[symbol]!.lastUpdate ?? startedAt) > staleAfterNanos,
                let change = setState(
                    symbol, .stale, detail: "no market data for \(staleAfterNanos / 1_000_000) ms", now: now)
            {
                changes.append(change)
            }
        }
        return (bars, changes)
    }

    /// The connection to the exchange dropped: every symbol is stale until its data flows again.
    public mutating func disconnected(reason: String, now: EpochNanos) -> [StatusChange] {
        symbols.compactMap { setState($0, .stale, detail: "exchange websocket down: \(reason)", now: now) }
    }

    private mutating func setState(
        _ symbol: String, _ state: FeedStatus.State, detail: String, now: EpochNanos
    ) -> StatusChange? {
        guard views[symbol]!.state != state else { return nil }
        views[symbol]!.state = state
        let silent = now - (views[symbol]!.lastUpdate ?? startedAt)
        return StatusChange(symbol: symbol, state: state, detail: detail, silentNanos: silent)
    }
}
