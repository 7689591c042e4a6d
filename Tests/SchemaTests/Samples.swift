import Schema

/// One envelope as a service would publish it.
struct Sample: Sendable, CustomStringConvertible {
    var header: EnvelopeHeader
    var body: any BusMessage
    var type: MessageType { messageType(of: body) }
    var description: String { "\(header.type) #\(header.sequence)" }
    func encoded() throws -> [UInt8] { try encodeEnvelope(header: header, body: body) }
}

/// Realistic messages of every type, built in Swift: every enum value appears somewhere,
/// and every optional field both present and absent.
enum Samples {
    static let all: [Sample] = build()

    static func of(_ type: MessageType) -> [Sample] { all.filter { $0.type == type } }

    private static func build() -> [Sample] {
        var random = SplitMix64(seed: 0x1641_0240_6000)
        func id() -> String { Identifier.random(using: &random) }
        let instances = [
            "feed-handler": id(), "signal-generator": id(), "risk-gate": id(), "executor": id(),
            "trace-recorder": id(),
        ]
        var sequences: [String: UInt64] = [:]
        var clock: EpochNanos = 1_641_024_060_000_000_000
        var samples: [Sample] = []
        var trace = id()

        func publish(_ body: any BusMessage, from source: String, newTrace: Bool = false) {
            if newTrace { trace = id() }
            clock += 137_219
            sequences[source, default: 0] += 1
            let header = EnvelopeHeader(
                type: messageType(of: body).rawValue, source: source, instance: instances[source]!,
                sequence: sequences[source]!, publishTime: clock, traceId: trace, symbol: body.symbol)
            samples.append(Sample(header: header, body: body))
        }

        let barOpen: EpochNanos = 1_641_024_000_000_000_000
        let strategy = "rsi_mean_reversion"

        // Market data
        publish(
            BookUpdate(
                symbol: "BTC",
                bids: [
                    BookLevel(price: "46377", size: "0.41872"), BookLevel(price: "46376", size: "1.20544"),
                    BookLevel(price: "46375", size: "0.03"),
                ],
                asks: [BookLevel(price: "46378", size: "0.25"), BookLevel(price: "46379", size: "2.1004")],
                exchangeTime: clock - 1_200_000), from: "feed-handler", newTrace: true)
        publish(
            BookUpdate(
                symbol: "ETH", bids: [BookLevel(price: "3682.4", size: "12.3456")],
                asks: [BookLevel(price: "3682.5", size: "0.0091")], exchangeTime: clock - 900_000),
            from: "feed-handler", newTrace: true)
        publish(
            BookUpdate(symbol: "BTC", bids: [BookLevel(price: "46301", size: "0.00012")], asks: [], exchangeTime: clock),
            from: "feed-handler", newTrace: true)
        publish(
            Trade(symbol: "BTC", price: "46377", size: "0.01078", side: .sell, tradeId: id(), exchangeTime: clock - 800_000),
            from: "feed-handler", newTrace: true)
        publish(
            Trade(symbol: "ETH", price: "3682.5", size: "1.5", side: .buy, tradeId: id(), exchangeTime: clock - 700_000),
            from: "feed-handler", newTrace: true)
        publish(
            Bar(
                symbol: "ETH", intervalSeconds: 3600, openTime: barOpen - 3_540_000_000_000, open: "3701.2",
                high: "3712.9", low: "3655.1", close: "3682.4", volume: "48213377.0912"),
            from: "feed-handler", newTrace: true)
        publish(FeedStatus(symbol: "BTC", state: .live, source: "hyperliquid-ws", lastUpdateAgeMs: 3), from: "feed-handler")
        publish(
            FeedStatus(
                symbol: "ETH", state: .stale, source: "hyperliquid-ws", lastUpdateAgeMs: 5_012,
                detail: "no book update for 5012 ms (limit 5000 ms)"), from: "feed-handler", newTrace: true)
        publish(
            FeedStatus(
                symbol: "BTC", state: .ended, source: "replay:btc-2022-01-01.jsonl", lastUpdateAgeMs: 0,
                detail: "replay file exhausted after 1440 bars"), from: "feed-handler", newTrace: true)

        // One decision cycle: bar → signal → intent → decision → command → ack → fill → snapshot
        publish(
            Bar(
                symbol: "BTC", intervalSeconds: 60, openTime: barOpen, open: "46521", high: "46538", low: "46309",
                close: "46377", volume: "2873405.61234"), from: "feed-handler", newTrace: true)
        let signalId = id()
        var recalled = Signal(
            signalId: signalId, symbol: "BTC", strategy: strategy, direction: .long, confidence: 0.25,
            referencePrice: "46377", barTime: barOpen, indicators: ["rsi": 22.5, "atr_14": 212.37],
            decision: .approved, reasons: [Reason(.approved, "RSI 22.5 < oversold 30.0")])
        recalled.recall = RecallNote(source: .chroma, latencyMicros: 3_412, neighbours: 10, adjustment: 1.12, fallbackReason: nil)
        publish(recalled, from: "signal-generator")
        let intentId = id()
        let clientOrderId = Identifier.clientOrderId(forIntent: intentId)
        let created = clock
        publish(
            OrderIntent(
                intentId: intentId, symbol: "BTC", side: .buy, size: "0.01078", orderType: .limit, price: "46378",
                purpose: .entry, reduceOnly: false, strategy: strategy, origin: signalId, createdAt: created,
                expiresAt: created + 5_000_000_000), from: "signal-generator")
        publish(
            RiskDecision(
                intentId: intentId, symbol: "BTC", outcome: .approved,
                reasons: [Reason(.withinLimits, "notional 499.95484 <= 5000; open positions 0 of 8")],
                requestedSize: "0.01078", approvedSize: "0.01078", clientOrderId: clientOrderId), from: "risk-gate")
        publish(
            OrderCommand(
                action: .place, clientOrderId: clientOrderId, intentId: intentId, symbol: "BTC", side: .buy,
                size: "0.01078", orderType: .limit, price: "46378", timeInForce: .ioc, reduceOnly: false,
                purpose: .entry, strategy: strategy, ackDeadline: clock + 2_000_000_000, grouping: .normalTpsl,
                protectiveOrders: [
                    ProtectiveOrder(
                        clientOrderId: Identifier.clientOrderId(forIntent: intentId + ":sl"), side: .sell, size: "0.01078",
                        price: "40600", trigger: OrderTrigger(kind: .stopLoss, triggerPrice: "45000", isMarket: true),
                        exitPath: "hard_stop"),
                    ProtectiveOrder(
                        clientOrderId: Identifier.clientOrderId(forIntent: intentId + ":tp"), side: .sell, size: "0.00539",
                        price: "47700", trigger: OrderTrigger(kind: .takeProfit, triggerPrice: "47770", isMarket: false),
                        exitPath: "take_profit"),
                ]), from: "risk-gate")
        publish(
            OrderAck(clientOrderId: clientOrderId, venueOrderId: "77738308", symbol: "BTC", action: .place),
            from: "executor")
        let price: Amount = "46378", size: Amount = "0.01078"
        let fee = (price * size * "0.00035").rounded(scale: 6)
        let fillId = id()
        publish(
            Fill(
                fillId: fillId, clientOrderId: clientOrderId, symbol: "BTC", side: .buy, price: price, size: size,
                fee: fee, liquidity: .taker, purpose: .entry, strategy: strategy, time: clock), from: "executor")
        let takeProfit = Identifier.clientOrderId(forIntent: id())
        let unrealized = (Amount("46377") - price) * size
        let realized: Amount = "182.41735", fees: Amount = "3.914822", funding: Amount = "-0.52114"
        publish(
            AccountSnapshot(
                asOf: clock, startingCapital: 10_000, realizedPnl: realized, fees: fees, funding: funding,
                unrealizedPnl: unrealized, equity: 10_000 + realized - fees + funding + unrealized,
                positions: [
                    Position(
                        symbol: "BTC", size: size, entryPrice: price, unrealizedPnl: unrealized,
                        lots: [
                            PositionLot(fillId: fillId, strategy: strategy, size: size, entryPrice: price, entryTime: clock)
                        ])
                ],
                openOrders: [
                    OpenOrder(clientOrderId: takeProfit, symbol: "BTC", side: .sell, size: size, price: "47305"),
                    OpenOrder(
                        clientOrderId: Identifier.clientOrderId(forIntent: intentId + ":sl"), symbol: "BTC", side: .sell,
                        size: size, price: "40600",
                        trigger: OrderTrigger(kind: .stopLoss, triggerPrice: "45000", isMarket: true), reduceOnly: true),
                ], lastFillId: fillId), from: "executor")

        // More signals and intents
        publish(
            Signal(
                signalId: id(), symbol: "ETH", strategy: strategy, direction: .short, confidence: 0.6166666666666667,
                referencePrice: "3682.4", barTime: barOpen, indicators: ["rsi": 88.5], decision: .approved,
                reasons: [Reason(.approved, "RSI 88.5 > overbought 70.0")]), from: "signal-generator", newTrace: true)
        publish(
            Signal(
                signalId: id(), symbol: "BTC", strategy: strategy, direction: .flat, confidence: 0,
                referencePrice: "46377", barTime: barOpen, indicators: [:], decision: .rejected,
                reasons: [Reason(.warmingUp, "RSI(14) needs 15 closes")]), from: "signal-generator", newTrace: true)
        var fallback = Signal(
            signalId: id(), symbol: "BTC", strategy: "breakout_v2", direction: .long, confidence: 0.91,
            referencePrice: "46377", barTime: barOpen, indicators: ["donchian_high_20": 46290.5, "volume_z": 2.4],
            decision: .rejected,
            reasons: [
                Reason(.alreadyPositioned, "already long 0.01078 BTC"), Reason(.cooldown),
                Reason("recall_fallback", "recall breaker open: local fallback answered"),
            ])
        fallback.recall = RecallNote(
            source: .local, latencyMicros: 48, neighbours: 3, adjustment: 1, fallbackReason: "breaker_open")
        publish(fallback, from: "signal-generator", newTrace: true)
        let exitIntent = id()
        publish(
            OrderIntent(
                intentId: exitIntent, symbol: "ETH", side: .sell, size: "1.5", orderType: .market, price: "3655.1",
                purpose: .exit, reduceOnly: true, strategy: strategy, origin: "exit:stop_loss", createdAt: clock,
                expiresAt: clock + 3_000_000_000), from: "signal-generator", newTrace: true)
        publish(
            OrderIntent(
                intentId: id(), symbol: "ETH", side: .sell, size: "1.5", orderType: .market, price: "3590",
                purpose: .exit, reduceOnly: true, strategy: "risk-gate", origin: "exit:trailing_stop", createdAt: clock,
                expiresAt: clock + 3_000_000_000, timeInForce: .gtc,
                trigger: OrderTrigger(kind: .stopLoss, triggerPrice: "3620.5", isMarket: true)),
            from: "signal-generator", newTrace: true)

        // Risk decisions and state
        publish(
            RiskDecision(
                intentId: id(), symbol: "BTC", outcome: .resized,
                reasons: [Reason(.maxOrderNotional, "notional 2318.85 > 1000; resized to 0.02156")],
                requestedSize: "0.05", approvedSize: "0.02156",
                clientOrderId: Identifier.clientOrderId(forIntent: "resized-intent")), from: "risk-gate", newTrace: true)
        publish(
            RiskDecision(
                intentId: id(), symbol: "ETH", outcome: .rejected,
                reasons: [Reason(.maxOpenPositions, "8 of 8 positions open"), Reason(.stateReducing)],
                requestedSize: "0.4", approvedSize: 0, clientOrderId: nil), from: "risk-gate", newTrace: true)
        publish(
            RiskStateChange(
                state: .active, previous: .syncing, reasons: [Reason("account_synced", "snapshot at seq 907")],
                openPositions: 0, grossExposure: 0, killSwitch: false), from: "risk-gate", newTrace: true)
        publish(
            RiskStateChange(
                state: .reducing, previous: .active, reasons: [Reason(.staleData, "exchange breaker open")],
                openPositions: 2, grossExposure: "6023.59406", killSwitch: false), from: "risk-gate", newTrace: true)
        publish(
            RiskStateChange(
                state: .halted, previous: .reducing, reasons: [Reason(.killSwitch, "kill switch engaged by operator")],
                openPositions: 1, grossExposure: "499.94406", killSwitch: true), from: "risk-gate", newTrace: true)
        publish(
            RiskStateChange(
                state: .halted, previous: .halted, reasons: [Reason("restated")], openPositions: 1,
                grossExposure: "499.94406", killSwitch: true), from: "risk-gate")

        publish(
            PortfolioRiskReport(
                valueAtRisk: "21", expectedShortfall: "26.37", confidence: 0.99, horizonBars: 1_440, barSeconds: 60,
                basis: .historical, scenarios: 250, requiredScenarios: 20, grossExposure: "499.94",
                exposures: [SymbolNotional(symbol: "BTC", notional: "499.94")], worstStress: "BTC -30%",
                worstStressLoss: "149.98", backtestDays: 250, backtestExceptions: 3, backtestZone: .green, time: clock),
            from: "risk-gate", newTrace: true)
        publish(
            PortfolioRiskReport(
                valueAtRisk: "3000", expectedShortfall: "3000", confidence: 0.99, horizonBars: 1_440, barSeconds: 60,
                basis: .insufficientHistory, scenarios: 12, requiredScenarios: 20, grossExposure: "10000",
                exposures: [
                    SymbolNotional(symbol: "BTC", notional: "6000"), SymbolNotional(symbol: "ETH", notional: "-4000"),
                ], worstStress: "BTC -30%", worstStressLoss: "1800", backtestDays: 260, backtestExceptions: 6,
                backtestZone: .yellow, time: clock), from: "risk-gate", newTrace: true)
        publish(
            PortfolioRiskReport(
                valueAtRisk: "0", expectedShortfall: "0", confidence: 0.975, horizonBars: 60, barSeconds: 60,
                basis: .historical, scenarios: 250, requiredScenarios: 20, grossExposure: "0", exposures: [],
                worstStress: nil, worstStressLoss: "0", backtestDays: 250, backtestExceptions: 12, backtestZone: .red,
                time: clock), from: "risk-gate", newTrace: true)

        // Commands, acks, rejects, fills, cancels
        let exitOrder = Identifier.clientOrderId(forIntent: exitIntent)
        publish(
            OrderCommand(
                action: .place, clientOrderId: exitOrder, intentId: exitIntent, symbol: "ETH", side: .sell, size: "1.5",
                orderType: .market, price: "3655.1", timeInForce: .ioc, reduceOnly: true, purpose: .exit,
                strategy: strategy, ackDeadline: clock + 2_000_000_000), from: "risk-gate", newTrace: true)
        publish(
            OrderCommand(
                action: .modify, clientOrderId: takeProfit, intentId: id(), symbol: "BTC", side: .sell, size: "0.01078",
                orderType: .limit, price: "47410", timeInForce: .alo, reduceOnly: true, purpose: .exit,
                strategy: strategy, ackDeadline: clock + 2_000_000_000), from: "risk-gate", newTrace: true)
        publish(
            OrderCommand(
                action: .modify, clientOrderId: exitOrder, intentId: id(), symbol: "ETH", side: .sell, size: "1.5",
                orderType: .market, price: "3584", timeInForce: .gtc, reduceOnly: true, purpose: .exit,
                strategy: "risk-gate", ackDeadline: clock + 2_000_000_000,
                trigger: OrderTrigger(kind: .stopLoss, triggerPrice: "3620.5", isMarket: true), grouping: .positionTpsl),
            from: "risk-gate", newTrace: true)
        publish(
            OrderCommand(
                action: .place, clientOrderId: Identifier.clientOrderId(forIntent: "plain-grouping"), intentId: id(),
                symbol: "SOL", side: .buy, size: "3", orderType: .limit, price: "181.2", timeInForce: .gtc,
                reduceOnly: false, purpose: .entry, strategy: strategy, ackDeadline: clock + 2_000_000_000,
                grouping: .na),
            from: "risk-gate", newTrace: true)
        publish(
            OrderCommand(
                action: .cancel, clientOrderId: takeProfit, intentId: id(), symbol: "BTC", side: .sell, size: "0.01078",
                orderType: .limit, price: "47410", timeInForce: .gtc, reduceOnly: true, purpose: .exit,
                strategy: strategy, ackDeadline: clock + 2_000_000_000), from: "risk-gate", newTrace: true)
        publish(
            OrderAck(clientOrderId: takeProfit, venueOrderId: "77738412", symbol: "BTC", action: .modify),
            from: "executor")
        publish(
            OrderAck(clientOrderId: takeProfit, venueOrderId: "77738412", symbol: "BTC", action: .cancel),
            from: "executor")
        publish(
            OrderReject(
                clientOrderId: Identifier.clientOrderId(forIntent: id()), symbol: "BTC",
                reason: Reason(.venueRejected, "Order must have minimum value of $10.")), from: "executor",
            newTrace: true)
        publish(
            OrderReject(
                clientOrderId: exitOrder, symbol: "ETH", reason: Reason(.duplicateIntent, "order \(exitOrder) exists")),
            from: "executor")
        publish(
            Fill(
                fillId: id(), clientOrderId: exitOrder, symbol: "ETH", side: .sell, price: "3655.1", size: "1.5",
                fee: "-0.001096", liquidity: .maker, purpose: .exit, strategy: strategy, time: clock),
            from: "executor")
        publish(
            OrderCanceled(
                clientOrderId: takeProfit, symbol: "BTC",
                reason: Reason("canceled_by_request", "risk gate canceled resting orders: kill switch engaged")),
            from: "executor")
        publish(
            OrderCanceled(clientOrderId: exitOrder, symbol: "ETH", reason: Reason(.intentExpired)), from: "executor",
            newTrace: true)
        publish(
            AccountSnapshot(
                asOf: clock, startingCapital: 10_000, realizedPnl: 0, fees: 0, funding: 0, unrealizedPnl: 0,
                equity: 10_000, positions: [], openOrders: [], lastFillId: nil), from: "executor", newTrace: true)

        // Service messages
        publish(
            Heartbeat(
                service: "executor", health: .ok, uptimeMs: 3_605_012,
                breakers: [
                    BreakerStatus(dependency: "exchange_rest", state: .closed),
                    BreakerStatus(dependency: "exchange_ws", state: .halfOpen),
                ], facts: ["mode": "paper", "venue": "exchange-sim"]), from: "executor", newTrace: true)
        publish(
            Heartbeat(service: "feed-handler", health: .starting, uptimeMs: 0, breakers: [], facts: [:]),
            from: "feed-handler", newTrace: true)
        publish(
            Heartbeat(
                service: "signal-generator", health: .degraded, uptimeMs: 86_400_123,
                breakers: [
                    BreakerStatus(dependency: "recall", state: .open),
                    BreakerStatus(dependency: "recall_fallback", state: .disabled),
                    BreakerStatus(dependency: "exchange_rest", state: .forcedOpen),
                ], facts: ["mode": "testnet", "strategy": strategy]), from: "signal-generator", newTrace: true)
        publish(
            Heartbeat(service: "risk-gate", health: .stopping, uptimeMs: 12_001, breakers: [], facts: ["state": "halted"]),
            from: "risk-gate", newTrace: true)
        let transitions: [(BreakerState, BreakerState, String, Double?, Double?)] = [
            (.closed, .open, "failure_rate_exceeded", 62.5, 12.5),
            (.open, .halfOpen, "wait_elapsed", nil, nil),
            (.halfOpen, .closed, "probe_succeeded", 0, 0),
            (.closed, .forcedOpen, "operator", 3.25, 0.5),
            (.forcedOpen, .disabled, "operator", 0, 0),
        ]
        for (from, to, reason, failureRate, slowCallRate) in transitions {
            publish(
                BreakerTransition(
                    service: "signal-generator", dependency: "recall", from: from, to: to, reason: reason,
                    failureRate: failureRate, slowCallRate: slowCallRate), from: "signal-generator", newTrace: true)
        }
        publish(
            Alert(
                severity: .critical, code: "trace_write_failed",
                message: "trace database refuses writes, holding envelopes in memory: database or disk is full",
                service: "trace-recorder"), from: "trace-recorder", newTrace: true)
        publish(
            Alert(
                severity: .warning, code: "sequence_gap",
                message: "gap from executor: 2 missing after seq 911, received 914", service: "trace-recorder",
                symbol: nil), from: "trace-recorder", newTrace: true)
        publish(
            Alert(
                severity: .info, code: "feed_recovered", message: "BTC feed live again after 7.2 s \"stale\"",
                service: "feed-handler", symbol: "BTC"), from: "feed-handler", newTrace: true)

        // Funding the exchange booked: paid on a long, received on a short.
        let fundingHour: EpochNanos = 1_641_027_600_000_000_000
        publish(
            FundingSettlement(
                fundingId: "hl-funding-BTC-1641027600000-0x" + String(repeating: "0", count: 64), symbol: "BTC",
                amount: "-0.006249", rate: "0.0000125", positionSize: size, time: fundingHour),
            from: "executor", newTrace: true)
        publish(
            FundingSettlement(
                fundingId: "hl-funding-ETH-1641027600000-0x8d2f", symbol: "ETH", amount: "0.069046", rate: "0.0000125",
                positionSize: "-1.5", time: fundingHour), from: "executor", newTrace: true)

        // Market making on BTC: target → approval (one tier clipped) → report → a quote filled;
        // then a withdrawal the risk gate decides alone, and the executor's passes after it.
        let maker = "market_maker"
        let refresh = QuoteRefresh(toleranceBps: 1.5, maxOrderAgeMs: 30_000, allowModify: true)
        let wanted = [
            QuoteLevel(side: .buy, tier: 0, price: "46372", size: "0.00356"),
            QuoteLevel(side: .buy, tier: 1, price: "46358", size: "0.00285"),
            QuoteLevel(side: .buy, tier: 2, price: "46344", size: "0.00228"),
            QuoteLevel(side: .sell, tier: 0, price: "46396", size: "0.004"),
            QuoteLevel(side: .sell, tier: 1, price: "46410", size: "0.0032"),
            QuoteLevel(side: .sell, tier: 2, price: "46424", size: "0.00256"),
        ]
        let targetId = id()
        let targetCreated = clock
        publish(
            QuoteTarget(
                targetId: targetId, symbol: "BTC", strategy: maker, sequence: 3217, quotes: wanted,
                referencePrice: "46392.7", reservationPrice: "46382.69773388", spreadBps: 4.5, bidHalfSpreadBps: 2.25,
                askHalfSpreadBps: 2.7, inventory: size, maxInventory: "0.05", refresh: refresh,
                reasons: [
                    Reason("book_imbalance", "ask widened ×1.2 on imbalance 0.4"),
                    Reason("inventory_limit", "bid sizes ×0.8922 for inventory"),
                ], createdAt: targetCreated, expiresAt: targetCreated + 3_000_000_000),
            from: "signal-generator", newTrace: true)
        var approved = wanted
        approved[2].size = "0.00081"
        publish(
            ApprovedQuotes(
                targetId: targetId, symbol: "BTC", strategy: maker, sequence: 3209, quotes: approved,
                clipped: [
                    QuoteClip(
                        quote: wanted[2], allowedSize: "0.00081",
                        reason: Reason(.maxInventory, "bids would take BTC to 0.01947, limit 0.018"))
                ], reasons: [], tradingState: .active, refresh: refresh, createdAt: clock,
                expiresAt: targetCreated + 3_000_000_000), from: "risk-gate")
        let placedAt = clock + 146_000_000
        let resting = approved.map { quote in
            RestingQuote(
                clientOrderId: Identifier.clientOrderId(forIntent: "\(targetId):\(quote.side.rawValue):\(quote.tier)"),
                side: quote.side, tier: quote.tier, price: quote.price, size: quote.size, placedAt: placedAt)
        }
        publish(
            QuoteReport(
                symbol: "BTC", targetId: targetId, sequence: 418, resting: resting, kept: 0, modified: 0, placed: 6,
                canceled: 0, aloRejected: 0, failed: 0, deferred: 0, requestsUsed: 2_214, requestsCap: 12_873,
                refreshIntervalMs: 1_000, reasons: [], time: placedAt + 562_000), from: "executor")
        let quoteFill: Amount = "46372", quoteSize: Amount = "0.00356"
        publish(
            Fill(
                fillId: id(), clientOrderId: resting[0].clientOrderId, symbol: "BTC", side: .buy, price: quoteFill,
                size: quoteSize, fee: (quoteFill * quoteSize * "0.0001").rounded(scale: 6), liquidity: .maker,
                purpose: .entry, strategy: maker, time: clock, quoteTier: 0), from: "executor")
        // A quote order as the executor's ledger keeps it (quotes travel as order.quotes on the bus).
        publish(
            OrderCommand(
                action: .place, clientOrderId: resting[1].clientOrderId, intentId: targetId, symbol: "BTC", side: .buy,
                size: resting[1].size, orderType: .limit, price: resting[1].price, timeInForce: .alo, reduceOnly: false,
                purpose: .entry, strategy: maker, ackDeadline: placedAt + 5_000_000_000, quoteTier: 1),
            from: "risk-gate")
        // The next pass after a re-quote: three kept, one modified, the old ask 0 canceled and its
        // replacement refused for crossing, the new bid 0 left for later; the budget is tight, so
        // refreshes slow down.
        var modifiedAsk = resting[5]
        modifiedAsk.price = "46431"
        publish(
            QuoteReport(
                symbol: "BTC", targetId: id(), sequence: 419, resting: [resting[1], resting[2], resting[4], modifiedAsk],
                kept: 3, modified: 1, placed: 0, canceled: 1, aloRejected: 1, failed: 0, deferred: 1,
                requestsUsed: 12_790, requestsCap: 12_873, refreshIntervalMs: 4_000,
                reasons: [
                    Reason(.aloRejected, "ask tier 0 at 46380 would cross best bid 46381"),
                    Reason(.requestBudget, "12790 of 12873 requests used: 1 place deferred"),
                    Reason(.refreshSlowed, "refresh interval 1000 → 4000 ms"),
                ], time: clock), from: "executor", newTrace: true)
        // The strategy withdraws: its book is unsound, so it has no reference price.
        publish(
            QuoteTarget(
                targetId: id(), symbol: "ETH", strategy: maker, sequence: 88, quotes: [], referencePrice: nil,
                reservationPrice: nil, spreadBps: 12, bidHalfSpreadBps: 6, askHalfSpreadBps: 6, inventory: 0,
                maxInventory: "0.8", refresh: QuoteRefresh(toleranceBps: 0, maxOrderAgeMs: 0, allowModify: false),
                reasons: [Reason(.bookUnsound, "ETH book 6.2 s old (limit 2 s)")], createdAt: clock,
                expiresAt: clock + 3_000_000_000), from: "signal-generator", newTrace: true)
        // A one-sided target at the inventory limit: only asks shrink the long. Skewed 10 bps down,
        // the asks are held above the best bid (46392), one tick apart.
        publish(
            QuoteTarget(
                targetId: id(), symbol: "BTC", strategy: maker, sequence: 3240,
                quotes: [
                    QuoteLevel(side: .sell, tier: 0, price: "46393", size: "0.004"),
                    QuoteLevel(side: .sell, tier: 1, price: "46394", size: "0.0032"),
                    QuoteLevel(side: .sell, tier: 2, price: "46395", size: "0.00256"),
                ], referencePrice: "46392.7", reservationPrice: "46346.3073", spreadBps: 4.5, bidHalfSpreadBps: 2.25,
                askHalfSpreadBps: 2.25, inventory: "0.05", maxInventory: "0.05", refresh: refresh,
                reasons: [
                    Reason("inventory_limit", "bid side stopped: inventory at its maximum 0.05"),
                    Reason(.filledOrderDelay, "bid waits 10 s after the fill at 46372"),
                ], createdAt: clock, expiresAt: clock + 3_000_000_000), from: "signal-generator", newTrace: true)
        // The kill switch: the risk gate withdraws every quote on its own, under a new id.
        let withdrawalId = id()
        publish(
            ApprovedQuotes(
                targetId: withdrawalId, symbol: "BTC", strategy: maker, sequence: 3241, quotes: [], clipped: [],
                reasons: [Reason(.stateHalted, "kill switch engaged by operator")], tradingState: .halted,
                refresh: refresh, createdAt: clock, expiresAt: clock + 3_000_000_000), from: "risk-gate", newTrace: true)
        // Nothing left to rest: the only quote lies outside the price band.
        publish(
            ApprovedQuotes(
                targetId: id(), symbol: "ETH", strategy: maker, sequence: 90, quotes: [],
                clipped: [
                    QuoteClip(
                        quote: QuoteLevel(side: .sell, tier: 0, price: "3690.1", size: "0.0271"), allowedSize: 0,
                        reason: Reason(.priceBand, "ask 3690.1 is 21 bps from reference 3682.4, band 20 bps"))
                ], reasons: [], tradingState: .active, refresh: refresh, createdAt: clock,
                expiresAt: clock + 3_000_000_000), from: "risk-gate", newTrace: true)
        // The strategy went quiet: its last target expired in REDUCING.
        publish(
            ApprovedQuotes(
                targetId: id(), symbol: "ETH", strategy: maker, sequence: 91, quotes: [], clipped: [],
                reasons: [Reason(.quotesExpired, "target 89 expired 412 ms ago"), Reason(.stateReducing)],
                tradingState: .reducing, refresh: refresh, createdAt: clock, expiresAt: clock),
            from: "risk-gate", newTrace: true)
        // No userRateLimit reading yet (nil budget); one cancel timed out, so that quote still
        // rests until the next pass.
        publish(
            QuoteReport(
                symbol: "BTC", targetId: withdrawalId, sequence: 1, resting: [modifiedAsk], kept: 0, modified: 0,
                placed: 0, canceled: 3, aloRejected: 0, failed: 1, deferred: 0, requestsUsed: nil, requestsCap: nil,
                refreshIntervalMs: 1_000,
                reasons: [Reason(.venueUnavailable, "cancel of 1 quote timed out: retried on the next pass")],
                time: clock), from: "executor")
        return samples
    }
}
