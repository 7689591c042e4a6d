import Foundation
import Schema
import Testing

// MARK: - Helpers

/// SplitMix64 (Steele, Lea and Flood): a small, fast, seeded generator, so the property
/// tests see the same inputs on every run.
private struct BodyCodecSplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private func foundationEncoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    return encoder
}

private func bodyEncoded<M: BusMessage>(_ value: M) throws -> [UInt8] { try BodyEncoder().encode(value) }

private func checkRoundTripSendable<M: BusMessage>(_ value: M, _ task: Int) throws {
    let bytes = try BodyEncoder().encode(value)
    #expect(try BodyDecoder().decode(M.self, from: bytes) == value, "task \(task)")
}

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Both documents parsed by JSONSerialization and written back with sorted keys: equal when
/// the documents are equal up to key order.
private func canonical(_ bytes: [UInt8]) throws -> String {
    let object = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self)
}

private func pathText(_ path: [any CodingKey]) -> [String] {
    path.map { key in key.intValue.map { "#\($0)" } ?? key.stringValue }
}

private enum DecodeFailure: Equatable {
    case keyNotFound(key: String, path: [String])
    case typeMismatch(path: [String])
    case valueNotFound(path: [String])
    case dataCorrupted(path: [String])
}

/// The kind and coding path of a decoding error; nil for any other error.
private func failure(_ error: any Error) -> DecodeFailure? {
    guard let error = error as? DecodingError else { return nil }
    switch error {
    case .keyNotFound(let key, let context): return .keyNotFound(key: key.stringValue, path: pathText(context.codingPath))
    case .typeMismatch(_, let context): return .typeMismatch(path: pathText(context.codingPath))
    case .valueNotFound(_, let context): return .valueNotFound(path: pathText(context.codingPath))
    case .dataCorrupted(let context): return .dataCorrupted(path: pathText(context.codingPath))
    @unknown default: return nil
    }
}

private func decodeFailure<T: Decodable>(_ type: T.Type, _ json: String) -> DecodeFailure? {
    do {
        _ = try BodyDecoder().decode(T.self, from: Array(json.utf8))
        return nil
    } catch {
        return failure(error)
    }
}

// MARK: - Realistic messages

private let awkward = "BTC \"quoted\" \\ back/slash\n\t\r\u{0}\u{1}\u{1F}\u{7F} é 中文 😀 \u{2028}\u{FFFF}\u{10FFFF}"

private func samples(of type: MessageType) -> [any BusMessage] {
    switch type {
    case .book:
        var noSymbol = BookUpdate(symbol: "ETH", bids: [], asks: [], exchangeTime: 0)
        noSymbol.symbol = nil
        return [
            BookUpdate(
                symbol: "BTC",
                bids: [BookLevel(price: "105055.5", size: "0.25"), BookLevel(price: "105055", size: "12.00001")],
                asks: [BookLevel(price: "105056", size: "3")], exchangeTime: 1_732_000_000_123_456_789),
            noSymbol,
        ]
    case .trade:
        return [
            Trade(symbol: "ETH", price: "3120.45", size: "0.5", side: .buy, tradeId: "t-1", exchangeTime: 1_732_000_000_000_000_000),
            Trade(symbol: awkward, price: "0.00000001", size: "99999999999999999999999999999999999999", side: .sell, tradeId: "", exchangeTime: -1),
        ]
    case .bar:
        var noSymbol = sampleBar
        noSymbol.symbol = nil
        return [
            sampleBar, noSymbol,
            Bar(symbol: "kPEPE", intervalSeconds: 1, openTime: Int64.max, open: "-0.5", high: "0", low: "-105055.25", close: "1", volume: "0.000"),
        ]
    case .feedStatus:
        return [
            FeedStatus(symbol: "BTC", state: .live, source: "hyperliquid-ws", lastUpdateAgeMs: 12),
            FeedStatus(symbol: "ETH", state: .stale, source: "replay", lastUpdateAgeMs: Int64.min, detail: awkward),
        ]
    case .signal:
        var noSymbol = sampleSignal
        noSymbol.symbol = nil
        noSymbol.indicators = [:]
        noSymbol.reasons = []
        var withRecall = sampleSignal
        withRecall.recall = RecallNote(source: .chroma, latencyMicros: 850, neighbours: 12, adjustment: 1.125, fallbackReason: nil)
        var withFallback = noSymbol
        withFallback.recall = RecallNote(source: .local, latencyMicros: 250_000, neighbours: 0, adjustment: 1, fallbackReason: "breaker_open")
        return [sampleSignal, noSymbol, withRecall, withFallback]
    case .orderIntent:
        return [
            OrderIntent(
                intentId: "0123456789abcdef0123456789abcdef", symbol: "BTC", side: .buy, size: "0.01", orderType: .limit,
                price: "105000", purpose: .entry, reduceOnly: false, strategy: "breakout", origin: "sig-1",
                createdAt: 1_732_000_000_000_000_000, expiresAt: 1_732_000_005_000_000_000),
            OrderIntent(
                intentId: "i2", symbol: "ETH", side: .sell, size: "-1.5", orderType: .market, price: "0", purpose: .exit,
                reduceOnly: true, strategy: awkward, origin: "exit:stop_loss", createdAt: 0, expiresAt: 0),
        ]
    case .quoteTarget:
        var noSymbol = QuoteTarget(
            targetId: "t2", symbol: "ETH", strategy: awkward, sequence: .max, quotes: [], referencePrice: nil,
            reservationPrice: nil, spreadBps: 0, bidHalfSpreadBps: .leastNonzeroMagnitude, askHalfSpreadBps: 1.0 / 3.0,
            inventory: "-0.00001", maxInventory: "0", refresh: QuoteRefresh(toleranceBps: 0, maxOrderAgeMs: 0, allowModify: false),
            reasons: [Reason(.bookUnsound, awkward)], createdAt: Int64.min, expiresAt: Int64.max)
        noSymbol.symbol = nil
        return [
            QuoteTarget(
                targetId: "0123456789abcdef0123456789abcdef", symbol: "BTC", strategy: "market_maker", sequence: 1,
                quotes: [
                    QuoteLevel(side: .buy, tier: 0, price: "105050", size: "0.00095"),
                    QuoteLevel(side: .buy, tier: 11, price: "104900.5", size: "0.00031"),
                    QuoteLevel(side: .sell, tier: 0, price: "105061", size: "0.001"),
                ], referencePrice: "105055.75", reservationPrice: "105054.1234", spreadBps: 4.5, bidHalfSpreadBps: 2.25,
                askHalfSpreadBps: 2.7, inventory: "0.0123", maxInventory: "0.05",
                refresh: QuoteRefresh(toleranceBps: 1.5, maxOrderAgeMs: 30_000, allowModify: true),
                reasons: [Reason("inventory_limit", "bid sizes ×0.88")], createdAt: 1_732_000_000_000_000_000,
                expiresAt: 1_732_000_003_000_000_000),
            noSymbol,
        ]
    case .approvedQuotes:
        let level = QuoteLevel(side: .buy, tier: 2, price: "105020", size: "0.0008")
        var noSymbol = ApprovedQuotes(
            targetId: "", symbol: "", strategy: "", sequence: 0, quotes: [], clipped: [], reasons: [], tradingState: .syncing,
            refresh: QuoteRefresh(toleranceBps: 1e-9, maxOrderAgeMs: Int.max, allowModify: false), createdAt: 0, expiresAt: -1)
        noSymbol.symbol = nil
        return [
            ApprovedQuotes(
                targetId: "0123456789abcdef0123456789abcdef", symbol: "BTC", strategy: "market_maker", sequence: 7,
                quotes: [QuoteLevel(side: .sell, tier: 0, price: "105061", size: "0.001"), level],
                clipped: [
                    QuoteClip(quote: level, allowedSize: "0", reason: Reason(.maxInventory, "long 0.05 of 0.05")),
                    QuoteClip(quote: level, allowedSize: "0.0004", reason: Reason("not_a_known_code", awkward)),
                ], reasons: [Reason(.stateReducing)], tradingState: .reducing,
                refresh: QuoteRefresh(toleranceBps: 1.5, maxOrderAgeMs: 30_000, allowModify: true),
                createdAt: 1_732_000_000_000_000_000, expiresAt: 1_732_000_003_000_000_000),
            noSymbol,
        ]
    case .quoteReport:
        var noSymbol = QuoteReport(
            symbol: "ETH", targetId: awkward, sequence: .max, resting: [], kept: 0, modified: 0, placed: 0, canceled: 0,
            aloRejected: 0, failed: 0, deferred: 0, requestsUsed: nil, requestsCap: nil, refreshIntervalMs: 0, reasons: [],
            time: Int64.min)
        noSymbol.symbol = nil
        return [
            QuoteReport(
                symbol: "BTC", targetId: "0123456789abcdef0123456789abcdef", sequence: 3,
                resting: [
                    RestingQuote(
                        clientOrderId: "0x0123456789abcdef0123456789abcdef", side: .buy, tier: 0, price: "105050",
                        size: "0.00095", placedAt: 1_732_000_000_100_000_000),
                    RestingQuote(clientOrderId: "0xabc", side: .sell, tier: 3, price: "105100.5", size: "0.0004", placedAt: 0),
                ], kept: 1, modified: 1, placed: 2, canceled: 3, aloRejected: 4, failed: 5, deferred: 6, requestsUsed: 12_345,
                requestsCap: 10_000, refreshIntervalMs: 2_500,
                reasons: [Reason(.aloRejected, "1 ask crossed"), Reason(.refreshSlowed)], time: 1_732_000_000_200_000_000),
            QuoteReport(
                symbol: "SOL", targetId: "t", sequence: 0, resting: [], kept: 0, modified: 0, placed: 0, canceled: 0,
                aloRejected: 0, failed: 0, deferred: 0, requestsUsed: 0, requestsCap: nil, refreshIntervalMs: 1_000,
                reasons: [], time: 0),
            noSymbol,
        ]
    case .riskDecision:
        return [
            RiskDecision(
                intentId: "i1", symbol: "BTC", outcome: .approved, reasons: [Reason(.withinLimits)], requestedSize: "0.02",
                approvedSize: "0.02", clientOrderId: "0x0123456789abcdef0123456789abcdef"),
            RiskDecision(
                intentId: "i2", symbol: "ETH", outcome: .rejected,
                reasons: [Reason(.maxOpenPositions, "9 open, limit 8"), Reason("not_a_known_code", awkward)],
                requestedSize: "1", approvedSize: "0", clientOrderId: nil),
        ]
    case .riskState:
        return [
            RiskStateChange(state: .active, previous: .syncing, reasons: [], openPositions: 0, grossExposure: "0", killSwitch: false),
            RiskStateChange(
                state: .halted, previous: .reducing, reasons: [Reason(.killSwitch, "operator"), Reason(.stateHalted)], openPositions: 3,
                grossExposure: "-12345.678", killSwitch: true),
        ]
    case .portfolioRisk:
        return [
            PortfolioRiskReport(
                valueAtRisk: "1234.56", expectedShortfall: "1500.01", confidence: 0.99, horizonBars: 1_440, barSeconds: 60,
                basis: .historical, scenarios: 250, requiredScenarios: 20, grossExposure: "25000.5",
                exposures: [
                    SymbolNotional(symbol: "BTC", notional: "15000.25"), SymbolNotional(symbol: "ETH", notional: "-10000.25"),
                ], worstStress: "all -30%", worstStressLoss: "1500", backtestDays: 250, backtestExceptions: 11,
                backtestZone: .red, time: 1_732_000_000_000_000_000),
            PortfolioRiskReport(
                valueAtRisk: "0", expectedShortfall: "0", confidence: 0.5000001, horizonBars: 1, barSeconds: 0,
                basis: .insufficientHistory, scenarios: 0, requiredScenarios: Int.max, grossExposure: "0", exposures: [],
                worstStress: nil, worstStressLoss: "0", backtestDays: 0, backtestExceptions: 0, backtestZone: nil,
                time: Int64.min),
            PortfolioRiskReport(
                valueAtRisk: "-0.01", expectedShortfall: "12345678901234.99", confidence: 1.0 / 3.0, horizonBars: .max,
                barSeconds: 86_400, basis: .historical, scenarios: 1, requiredScenarios: 1, grossExposure: "0.01",
                exposures: [SymbolNotional(symbol: awkward, notional: "0.01")], worstStress: awkward,
                worstStressLoss: "0.01", backtestDays: 250, backtestExceptions: 5, backtestZone: .yellow, time: 0),
        ]
    case .orderCommand:
        return [
            OrderCommand(
                action: .place, clientOrderId: "0xabc", intentId: "i1", symbol: "BTC", side: .buy, size: "0.01", orderType: .limit,
                price: "105000.5", timeInForce: .alo, reduceOnly: false, purpose: .entry, strategy: "breakout",
                ackDeadline: 1_732_000_001_000_000_000),
            OrderCommand(
                action: .cancel, clientOrderId: "0xdef", intentId: "", symbol: awkward, side: .sell, size: "0", orderType: .market,
                price: "0", timeInForce: .ioc, reduceOnly: true, purpose: .exit, strategy: "", ackDeadline: -5),
        ]
    case .orderAck:
        return [OrderAck(clientOrderId: "0xabc", venueOrderId: "123456789", symbol: "BTC", action: .modify)]
    case .orderReject:
        return [
            OrderReject(clientOrderId: "0xabc", symbol: "BTC", reason: Reason(.venueRejected, "Order has invalid price.")),
            OrderReject(clientOrderId: "0x0", symbol: "", reason: Reason("", "")),
        ]
    case .fill:
        return [
            Fill(
                fillId: "f-1", clientOrderId: "0xabc", symbol: "BTC", side: .buy, price: "105055.5", size: "0.01", fee: "0.0472",
                liquidity: .taker, purpose: .entry, strategy: "breakout", time: 1_732_000_000_500_000_000),
            Fill(
                fillId: awkward, clientOrderId: "0xdef", symbol: "ETH", side: .sell, price: "3000", size: "2", fee: "-0.15",
                liquidity: .maker, purpose: .exit, strategy: "mean-revert", time: 0),
            Fill(
                fillId: "f-3", clientOrderId: "0x0123456789abcdef0123456789abcdef", symbol: "BTC", side: .sell,
                price: "105061", size: "0.001", fee: "0.010506", liquidity: .maker, purpose: .entry, strategy: "market_maker",
                time: 1_732_000_001_000_000_000, quoteTier: 3),
        ]
    case .orderCanceled:
        return [OrderCanceled(clientOrderId: "0xabc", symbol: "BTC", reason: Reason(.intentExpired, "ack deadline passed"))]
    case .accountSnapshot:
        return [
            AccountSnapshot(
                asOf: 1_732_000_000_000_000_000, startingCapital: "10000", realizedPnl: "-123.45", fees: "12.5", funding: "-0.75",
                unrealizedPnl: "55.5", equity: "9919.3",
                positions: [
                    Position(symbol: "BTC", size: "0.01", entryPrice: "105000", unrealizedPnl: "0.5"),
                    Position(symbol: "ETH", size: "-2", entryPrice: "3000.25", unrealizedPnl: "-10"),
                ],
                openOrders: [OpenOrder(clientOrderId: "0xabc", symbol: "SOL", side: .buy, size: "10", price: "150.125")],
                lastFillId: "f-9"),
            AccountSnapshot(
                asOf: 0, startingCapital: "0", realizedPnl: "0", fees: "0", funding: "0", unrealizedPnl: "0", equity: "0",
                positions: [], openOrders: [], lastFillId: nil),
        ]
    case .funding:
        var noSymbol = FundingSettlement(
            fundingId: "f-2", symbol: "ETH", amount: "0", rate: "-0.0001", positionSize: "0", time: 0)
        noSymbol.symbol = nil
        return [
            FundingSettlement(
                fundingId: "hl-funding-BTC-1732000000000-0xabc", symbol: "BTC", amount: "-0.013127", rate: "0.0000125",
                positionSize: "0.01", time: 1_732_000_000_000_000_000),
            FundingSettlement(
                fundingId: awkward, symbol: awkward, amount: "12345.678901", rate: "-0.5", positionSize: "-99999999.12345",
                time: Int64.max),
            noSymbol,
        ]
    case .heartbeat:
        return [
            Heartbeat(
                service: "risk-gate", health: .ok, uptimeMs: 123_456,
                breakers: [BreakerStatus(dependency: "exchange-rest", state: .closed), BreakerStatus(dependency: "recall", state: .halfOpen)],
                facts: ["mode": "paper", "state": "active", "zeta": awkward, "Alpha": "1", "émoji😀": "", "": "empty key"]),
            Heartbeat(service: "executor", health: .starting, uptimeMs: 0, breakers: [], facts: [:]),
        ]
    case .breakerTransition:
        return [
            BreakerTransition(
                service: "signal-generator", dependency: "recall", from: .closed, to: .open, reason: "failure rate 60% over 20 calls",
                failureRate: 0.6, slowCallRate: 0),
            BreakerTransition(
                service: "x", dependency: "y", from: .forcedOpen, to: .disabled, reason: awkward, failureRate: 1.0 / 3.0,
                slowCallRate: .leastNonzeroMagnitude),
            BreakerTransition(
                service: "executor", dependency: "exchange-ws", from: .halfOpen, to: .closed, reason: "probe succeeded",
                failureRate: nil, slowCallRate: nil),
        ]
    case .alert:
        return [
            Alert(severity: .critical, code: "drawdown_lock", message: "drawdown 8.2% past the 8% lock", service: "risk-gate", symbol: "BTC"),
            Alert(severity: .info, code: "restart", message: awkward, service: "executor"),
        ]
    }
}

private let sampleBar = Bar(
    symbol: "BTC", intervalSeconds: 60, openTime: 1_732_000_000_000_000_000, open: "105055.5", high: "105100", low: "104990.25",
    close: "105080.75", volume: "1234567.89")

private let sampleSignal = Signal(
    signalId: "5f2b9c1e8a7d4e3f9b1c2d3e4f5a6b7c", symbol: "BTC", strategy: "breakout", direction: .long, confidence: 0.8125,
    referencePrice: "105080.75", barTime: 1_732_000_000_000_000_000,
    indicators: [
        "ema_fast": 105012.33984375, "ema_slow": 104876.1, "rsi": 61.25, "atr": 142.5, "adx": 27.3, "zscore": -1.75,
        "volume_ratio": 1.8, "tiny": 1e-300, "huge": 1.7976931348623157e308, "negzero": -0.0, "whole": 50,
    ],
    decision: .approved, reasons: [Reason(.approved, "confidence 0.81 ≥ 0.6"), Reason(.withinLimits)])

private let allSamples: [(MessageType, any BusMessage)] = MessageType.allCases.flatMap { type in samples(of: type).map { (type, $0) } }

// MARK: - Tests

@Suite("BodyEncoder and BodyDecoder")
struct BodyCodecTests {
    @Test("samples cover every message type, with the right Swift type")
    func samplesCoverEveryType() {
        for type in MessageType.allCases {
            let values = samples(of: type)
            #expect(!values.isEmpty)
            for value in values { #expect(Swift.type(of: value).messageType == type) }
        }
    }

    @Test("BodyEncoder output decodes with Foundation's JSONDecoder to an equal value", arguments: MessageType.allCases)
    func encoderAgainstFoundation(type: MessageType) throws {
        for value in samples(of: type) { try checkEncoderAgainstFoundation(value) }
    }

    private func checkEncoderAgainstFoundation<M: BusMessage>(_ value: M) throws {
        let bytes = try BodyEncoder().encode(value)
        let decoded = try JSONDecoder().decode(M.self, from: Data(bytes))
        #expect(decoded == value, "\(text(bytes))")
        // The same document as Foundation's, up to key order.
        let foundation = Array(try foundationEncoder().encode(value))
        #expect(try canonical(bytes) == canonical(foundation))
        // Deterministic.
        #expect(try BodyEncoder().encode(value) == bytes)
    }

    @Test("Foundation's JSONEncoder output decodes with BodyDecoder to an equal value", arguments: MessageType.allCases)
    func decoderAgainstFoundation(type: MessageType) throws {
        for value in samples(of: type) { try checkDecoderAgainstFoundation(value) }
    }

    private func checkDecoderAgainstFoundation<M: BusMessage>(_ value: M) throws {
        for formatting in [JSONEncoder.OutputFormatting.withoutEscapingSlashes, [.prettyPrinted, .sortedKeys]] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = formatting
            let bytes = Array(try encoder.encode(value))
            #expect(try BodyDecoder().decode(M.self, from: bytes[...]) == value, "\(text(bytes))")
        }
    }

    @Test("BodyEncoder → BodyDecoder round trip", arguments: MessageType.allCases)
    func roundTrip(type: MessageType) throws {
        for value in samples(of: type) { try checkRoundTrip(value) }
    }

    private func checkRoundTrip<M: BusMessage>(_ value: M) throws {
        let bytes = try BodyEncoder().encode(value)
        #expect(try BodyDecoder().decode(M.self, from: bytes[...]) == value, "\(text(bytes))")
        // From a slice that does not start at index 0.
        let padded = [UInt8(ascii: "x")] + bytes + [UInt8(ascii: "y")]
        #expect(try BodyDecoder().decode(M.self, from: padded[1..<(padded.count - 1)]) == value)
    }

    @Test("a Bar is written exactly as expected: declaration order, amounts as strings")
    func barBytes() throws {
        let bytes = try BodyEncoder().encode(sampleBar)
        #expect(
            text(bytes)
                == #"{"symbol":"BTC","intervalSeconds":60,"openTime":1732000000000000000,"open":"105055.5","high":"105100","low":"104990.25","close":"105080.75","volume":"1234567.89"}"#
        )
    }

    @Test("dictionary keys are written sorted by their UTF-8 bytes")
    func sortedDictionaryKeys() throws {
        let facts = ["b": "2", "a": "1", "é": "4", "B": "3", "": "0", "aa": "5"]
        #expect(text(try BodyEncoder().encode(facts)) == #"{"":"0","B":"3","a":"1","aa":"5","b":"2","é":"4"}"#)
        // Dictionaries the encoder has no fast path for go through Dictionary's own Codable.
        let generic: [String: [Int]] = ["z": [1], "m": [], "a": [2, 3]]
        #expect(text(try BodyEncoder().encode(generic)) == #"{"a":[2,3],"m":[],"z":[1]}"#)
        let intKeys: [Int: String] = [10: "ten", 2: "two", -1: "minus one"]
        #expect(text(try BodyEncoder().encode(intKeys)) == #"{"-1":"minus one","10":"ten","2":"two"}"#)
        let signal = text(try BodyEncoder().encode(sampleSignal))
        #expect(signal.contains(#""indicators":{"adx":27.3,"atr":142.5,"ema_fast":105012.33984375,"ema_slow":104876.1,"huge":1.7976931348623157e+308,"negzero":-0,"rsi":61.25,"tiny":1e-300,"volume_ratio":1.8,"whole":50,"zscore":-1.75}"#))
    }

    @Test("strings are escaped as Foundation escapes them")
    func stringEscaping() throws {
        let values = [awkward, "", "plain", "\u{8}\u{C}\u{B}\u{1B}", "a/b", "\"\\\"", String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self)]
        #expect(try BodyEncoder().encode(values) == Array(foundationEncoder().encode(values)))
        #expect(text(try BodyEncoder().encode("\u{0}\n\u{1F}é")) == #""\u0000\n\u001fé""#)
    }

    @Test("a byte to escape at every position of strings up to 40 bytes long")
    func escapePositions() throws {
        let encoder = foundationEncoder()
        for special in ["\"", "\\", "\n", "\u{1}", "\u{1F}", "é", "😀", "/"] {
            for length in 0...40 {
                let strings = (0..<max(length, 1)).map { position in
                    String(repeating: "a", count: position) + special + String(repeating: "b", count: max(0, length - position - 1))
                }
                let bytes = try BodyEncoder().encode(strings)
                #expect(bytes == Array(try encoder.encode(strings)), "\(special.debugDescription) \(length)")
                #expect(try BodyDecoder().decode([String].self, from: bytes) == strings)
            }
        }
    }

    @Test("large values: buffers grow, long strings and many members")
    func largeValues() throws {
        let long = String(repeating: "0123456789abcdef\"\\é", count: 2000)
        var facts: [String: String] = [:]
        for index in 0..<2000 { facts["fact-\(index)"] = index % 7 == 0 ? long : "value \(index)\n" }
        let heartbeat = Heartbeat(
            service: long, health: .degraded, uptimeMs: .max,
            breakers: (0..<500).map { BreakerStatus(dependency: "dep\($0)", state: .open) }, facts: facts)
        let bytes = try BodyEncoder().encode(heartbeat)
        #expect(bytes.count > 1_000_000)
        #expect(try BodyDecoder().decode(Heartbeat.self, from: bytes) == heartbeat)
        #expect(try JSONDecoder().decode(Heartbeat.self, from: Data(bytes)) == heartbeat)
        #expect(try BodyDecoder().decode(Heartbeat.self, from: Array(foundationEncoder().encode(heartbeat))) == heartbeat)
    }

    @Test("repeated keys in the dictionaries read directly, with escapes and near-collisions")
    func repeatedDictionaryKeys() throws {
        let json = #"{"a":1,"\u0061":2,"ab":3,"cb":4,"ab":5,"a\u0062":6,"ba":7,"zz":8,"zz":9}"#
        let expected = try JSONDecoder().decode([String: Double].self, from: Data(json.utf8))
        #expect(try BodyDecoder().decode([String: Double].self, from: Array(json.utf8)) == expected)
        #expect(expected == ["a": 1, "ab": 3, "cb": 4, "ba": 7, "zz": 8])
        let strings = json.replacingOccurrences(of: #":(\d)"#, with: #":"$1""#, options: .regularExpression)
        #expect(try BodyDecoder().decode([String: String].self, from: Array(strings.utf8)) == expected.mapValues { String(Int($0)) })
        // A repeated key whose second value is malformed is skipped, as in Foundation.
        let skipped = #"{"k":1,"k":"not a number"}"#
        #expect(try BodyDecoder().decode([String: Double].self, from: Array(skipped.utf8)) == ["k": 1])
        #expect(try JSONDecoder().decode([String: Double].self, from: Data(skipped.utf8)) == ["k": 1])
    }

    @Test("doubles: shortest round-trip text, integral values without .0, non-finite values throw")
    func doubles() throws {
        let values: [Double] = [
            50, -50, 0, -0.0, 0.1, 1e15, 1e16, 9_007_199_254_740_992, 9_007_199_254_740_994, 123_456_789_012_345, 1e-5, .leastNonzeroMagnitude,
            .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1e21, 1e22, 0.000123, 1.0 / 3.0,
        ]
        #expect(try BodyEncoder().encode(values) == Array(foundationEncoder().encode(values)))
        #expect(text(try BodyEncoder().encode([50.0, -0.0, 1e16])) == "[50,-0,1e+16]")
        for bad in [Double.nan, .infinity, -.infinity] {
            #expect(throws: EncodingError.self) { try BodyEncoder().encode(bad) }
            #expect(throws: EncodingError.self) { try BodyEncoder().encode([0, bad]) }
            var transition = samples(of: .breakerTransition)[0] as! BreakerTransition
            transition.failureRate = bad
            do {
                _ = try BodyEncoder().encode(transition)
                Issue.record("a non-finite double encoded")
            } catch EncodingError.invalidValue(_, let context) {
                #expect(pathText(context.codingPath) == ["failureRate"])
            }
        }
        let floats: [Float] = [0.1, 50, -0.0, 3.4028235e38, .leastNonzeroMagnitude]
        #expect(try BodyEncoder().encode(floats) == Array(foundationEncoder().encode(floats)))
        #expect(throws: EncodingError.self) { try BodyEncoder().encode([Float.nan]) }
    }

    @Test("integers, booleans, nil and optionals")
    func scalars() throws {
        struct Scalars: Codable, Equatable {
            var int8: Int8 = .min, int16: Int16 = .max, int32: Int32 = .min, int64: Int64 = .min, int = Int.max
            var uint8: UInt8 = .max, uint16: UInt16 = 0, uint32: UInt32 = .max, uint64: UInt64 = .max, uint = UInt.max
            var yes = true, no = false
            var absent: String? = nil
            var present: Int? = 7
            var list: [Int?] = [1, nil, 3]
            var nested: [[String]] = [[], ["a"], []]
        }
        let value = Scalars()
        let bytes = try BodyEncoder().encode(value)
        #expect(!text(bytes).contains("absent"))
        #expect(text(bytes).contains(#""list":[1,null,3]"#))
        #expect(try canonical(bytes) == canonical(Array(foundationEncoder().encode(value))))
        #expect(try BodyDecoder().decode(Scalars.self, from: bytes) == value)
        #expect(try JSONDecoder().decode(Scalars.self, from: Data(bytes)) == value)
        // Explicit null for an optional, and top-level scalars.
        #expect(try BodyDecoder().decode(Scalars.self, from: Array(text(bytes).replacingOccurrences(of: #""present":7"#, with: #""present":null,"absent":null"#).utf8)).present == nil)
        #expect(try BodyDecoder().decode(Int?.self, from: Array("null".utf8)) == nil)
        #expect(try BodyDecoder().decode(Bool.self, from: Array(" true ".utf8)))
        #expect(try BodyDecoder().decode(String.self, from: Array(#""x""#.utf8)) == "x")
        #expect(try BodyDecoder().decode(Int.self, from: [0xEF, 0xBB, 0xBF] + Array("7".utf8)) == 7)  // a leading BOM is ignored
        #expect(text(try BodyEncoder().encode(Int?.none)) == "null")
        #expect(text(try BodyEncoder().encode(UInt64.max)) == "18446744073709551615")
    }

    @Test("Decimal, Data and URL are written and read as JSONEncoder and JSONDecoder do")
    func foundationSpecialCases() throws {
        struct Special: Codable, Equatable {
            var decimal: Decimal
            var data: Data
            var url: URL
            var date: Date
        }
        let value = Special(
            decimal: Decimal(string: "-123.4500")!, data: Data([0, 1, 2, 255]), url: URL(string: "https://example.com/a?b=c")!,
            date: Date(timeIntervalSinceReferenceDate: 12345.5))
        let bytes = try BodyEncoder().encode(value)
        #expect(try canonical(bytes) == canonical(Array(foundationEncoder().encode(value))))
        #expect(try JSONDecoder().decode(Special.self, from: Data(bytes)) == value)
        #expect(try BodyDecoder().decode(Special.self, from: Array(foundationEncoder().encode(value))) == value)
        #expect(try BodyDecoder().decode(Special.self, from: bytes) == value)
    }

    // MARK: Containers

    /// Uses every container kind, nested containers and super encoders/decoders.
    struct Exotic: Codable, Equatable {
        var name: String
        var point: (x: Double, y: Double)
        var tags: [String]
        var matrix: [[Int]]
        var parent: String
        var extra: Int

        enum Keys: String, CodingKey { case name, point, tags, matrix, base, extra, x, y }

        init(name: String, point: (x: Double, y: Double), tags: [String], matrix: [[Int]], parent: String, extra: Int) {
            self.name = name
            self.point = point
            self.tags = tags
            self.matrix = matrix
            self.parent = parent
            self.extra = extra
        }

        static func == (a: Exotic, b: Exotic) -> Bool {
            a.name == b.name && a.point == b.point && a.tags == b.tags && a.matrix == b.matrix && a.parent == b.parent && a.extra == b.extra
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            var point = container.nestedContainer(keyedBy: Keys.self, forKey: .point)
            try container.encode(name, forKey: .name)  // interleaved with the nested container
            try point.encode(self.point.x, forKey: .x)
            var tags = container.nestedUnkeyedContainer(forKey: .tags)
            try point.encode(self.point.y, forKey: .y)
            for tag in self.tags { try tags.encode(tag) }
            var matrix = container.nestedUnkeyedContainer(forKey: .matrix)
            for row in self.matrix {
                var nestedRow = matrix.nestedUnkeyedContainer()
                for cell in row { try nestedRow.encode(cell) }
            }
            var parentContainer = container.superEncoder().singleValueContainer()
            try parentContainer.encode(parent)
            var base = container.superEncoder(forKey: .base).container(keyedBy: Keys.self)
            try base.encode(extra, forKey: .extra)
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            name = try container.decode(String.self, forKey: .name)
            let point = try container.nestedContainer(keyedBy: Keys.self, forKey: .point)
            self.point = (try point.decode(Double.self, forKey: .x), try point.decode(Double.self, forKey: .y))
            var tags = try container.nestedUnkeyedContainer(forKey: .tags)
            var tagValues: [String] = []
            while !tags.isAtEnd { tagValues.append(try tags.decode(String.self)) }
            self.tags = tagValues
            var matrix = try container.nestedUnkeyedContainer(forKey: .matrix)
            var rows: [[Int]] = []
            while !matrix.isAtEnd {
                var row = try matrix.nestedUnkeyedContainer()
                var cells: [Int] = []
                while !row.isAtEnd { cells.append(try row.decode(Int.self)) }
                rows.append(cells)
            }
            self.matrix = rows
            parent = try container.superDecoder().singleValueContainer().decode(String.self)
            extra = try container.superDecoder(forKey: .base).container(keyedBy: Keys.self).decode(Int.self, forKey: .extra)
        }
    }

    @Test("nested containers and super encoders, interleaved, in keyed and unkeyed containers")
    func nestedContainers() throws {
        let value = Exotic(name: "n\"1", point: (1.5, -2), tags: ["a", "b"], matrix: [[1, 2], [], [3]], parent: "p", extra: 42)
        let bytes = try BodyEncoder().encode(value)
        #expect(
            text(bytes) == #"{"point":{"x":1.5,"y":-2},"name":"n\"1","tags":["a","b"],"matrix":[[1,2],[],[3]],"super":"p","base":{"extra":42}}"#)
        #expect(try canonical(bytes) == canonical(Array(foundationEncoder().encode(value))))
        #expect(try BodyDecoder().decode(Exotic.self, from: bytes) == value)
        #expect(try JSONDecoder().decode(Exotic.self, from: Data(bytes)) == value)
        // Inside arrays and dictionaries, where the splice happens in a child value.
        let list = [value, value]
        #expect(try BodyDecoder().decode([Exotic].self, from: BodyEncoder().encode(list)) == list)
        let map = ["k2": value, "k1": value]
        let mapBytes = try BodyEncoder().encode(map)
        #expect(text(mapBytes).hasPrefix(#"{"k1":{"point""#))
        #expect(try BodyDecoder().decode([String: Exotic].self, from: mapBytes) == map)
        #expect(try canonical(mapBytes) == canonical(Array(foundationEncoder().encode(map))))
    }

    @Test("unkeyed nested keyed containers and super encoders")
    func unkeyedNesting() throws {
        struct Pairs: Encodable {
            func encode(to encoder: any Encoder) throws {
                var list = encoder.unkeyedContainer()
                var first = list.nestedContainer(keyedBy: BodyTestKey.self)
                try list.encode(2)
                try first.encode("one", forKey: BodyTestKey("v"))
                var sup = list.superEncoder().unkeyedContainer()
                try sup.encode(true)
                try sup.encodeNil()
                _ = list.superEncoder()  // never used: {}
            }
        }
        let bytes = try BodyEncoder().encode(Pairs())
        #expect(text(bytes) == #"[{"v":"one"},2,[true,null],{}]"#)
        #expect(try canonical(bytes) == canonical(Array(foundationEncoder().encode(Pairs()))))
    }

    @Test("values that encode nothing, and misuse")
    func emptyValues() throws {
        struct Nothing: Encodable { func encode(to encoder: any Encoder) throws {} }
        struct RequestsOnly: Encodable { func encode(to encoder: any Encoder) throws { _ = encoder.singleValueContainer() } }
        struct Twice: Encodable {
            func encode(to encoder: any Encoder) throws {
                var container = encoder.singleValueContainer()
                try container.encode(1)
                try container.encode(2)
            }
        }
        struct Mixed: Encodable {
            func encode(to encoder: any Encoder) throws {
                var keyed = encoder.container(keyedBy: BodyTestKey.self)
                try keyed.encode(1, forKey: BodyTestKey("a"))
                var unkeyed = encoder.unkeyedContainer()
                try unkeyed.encode(2)
            }
        }
        #expect(throws: EncodingError.self) { try BodyEncoder().encode(Nothing()) }
        #expect(throws: EncodingError.self) { try BodyEncoder().encode(RequestsOnly()) }
        #expect(text(try BodyEncoder().encode([Nothing()])) == "[{}]")
        #expect(text(try BodyEncoder().encode(["k": RequestsOnly()])) == #"{"k":{}}"#)
        #expect(throws: EncodingError.self) { try BodyEncoder().encode([Twice()]) }
        #expect(throws: EncodingError.self) { try BodyEncoder().encode(Mixed()) }
    }

    @Test("a member whose value fails can be skipped by the caller, leaving valid JSON")
    func recoveryAfterFailure() throws {
        struct Lenient: Encodable {
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: BodyTestKey.self)
                try container.encode(1, forKey: BodyTestKey("a"))
                try? container.encode([1.0, .nan], forKey: BodyTestKey("bad"))
                try? container.encode(["x": Double.infinity], forKey: BodyTestKey("bad2"))
                try container.encode(2, forKey: BodyTestKey("b"))
                var list = container.nestedUnkeyedContainer(forKey: BodyTestKey("c"))
                try? list.encode(Double.nan)
                try list.encode(3)
            }
        }
        #expect(text(try BodyEncoder().encode(Lenient())) == #"{"a":1,"b":2,"c":[3]}"#)
    }

    // MARK: Property tests

    @Test("random strings and doubles round-trip exactly and match Foundation's bytes")
    func randomStringsAndDoubles() throws {
        struct Payload: Codable, Equatable {
            var text: String
            var number: Double
            var texts: [String]
            var numbers: [Double]
            var map: [String: Double]

            static func == (a: Payload, b: Payload) -> Bool {
                a.text == b.text && a.texts == b.texts && a.number.bitPattern == b.number.bitPattern
                    && a.numbers.map(\.bitPattern) == b.numbers.map(\.bitPattern) && a.map.keys.sorted() == b.map.keys.sorted()
                    && a.map.allSatisfy { $0.value.bitPattern == b.map[$0.key]?.bitPattern }
            }
        }
        var random = BodyCodecSplitMix64(seed: 0xB4EA_C0DE)
        let encoder = foundationEncoder()
        for _ in 0..<1500 {
            let payload = Payload(
                text: randomString(&random), number: randomDouble(&random),
                texts: (0..<Int.random(in: 0...3, using: &random)).map { _ in randomString(&random) },
                numbers: (0..<Int.random(in: 0...4, using: &random)).map { _ in randomDouble(&random) },
                map: Dictionary(
                    (0..<Int.random(in: 0...3, using: &random)).map { _ in (randomString(&random), randomDouble(&random)) },
                    uniquingKeysWith: { first, _ in first }))
            let bytes = try BodyEncoder().encode(payload)
            #expect(try BodyDecoder().decode(Payload.self, from: bytes) == payload, "\(text(bytes))")
            #expect(try JSONDecoder().decode(Payload.self, from: Data(bytes)) == payload, "\(text(bytes))")
            #expect(try BodyDecoder().decode(Payload.self, from: Array(encoder.encode(payload))) == payload)
            // Arrays have no key order: the bytes must be Foundation's exactly.
            #expect(try BodyEncoder().encode(payload.texts) == Array(encoder.encode(payload.texts)))
            #expect(try BodyEncoder().encode(payload.numbers) == Array(encoder.encode(payload.numbers)))
        }
    }

    @Test("random amounts: written as Amount writes them, read as Amount(text) reads them, bit for bit")
    func randomAmounts() throws {
        var random = BodyCodecSplitMix64(seed: 42)
        var amounts: [Amount] = []
        for round in 0..<4000 {
            // Mostly up to 38 digits; sometimes up to 90, with runs of zeros, valid or not.
            let long = round % 4 == 0
            let integerDigits = Int.random(in: 1...(long ? 45 : 20), using: &random)
            let fractionDigits = Int.random(in: 0...(long ? 45 : min(18, 38 - integerDigits)), using: &random)
            var literal = Bool.random(using: &random) ? "-" : ""
            let zeroHeavy = long || Bool.random(using: &random)
            func digit() -> Character {
                zeroHeavy && Int.random(in: 0..<4, using: &random) != 0
                    ? "0" : Character(String(Int.random(in: 0...9, using: &random)))
            }
            literal += String((0..<integerDigits).map { _ in digit() })
            if fractionDigits > 0 { literal += "." + String((0..<fractionDigits).map { _ in digit() }) }
            let json = Array("\"\(literal)\"".utf8)
            guard let reference = Amount(Substring(literal)) else {
                #expect(failure(try #require(decodeError(Amount.self, "\"\(literal)\""))) == .dataCorrupted(path: []), "\(literal)")
                #expect(throws: DecodingError.self) { try JSONDecoder().decode(Amount.self, from: Data(json)) }
                continue
            }
            amounts.append(reference)
            // The same Decimal, byte for byte, as Amount's own decoding.
            let decoded = try BodyDecoder().decode(Amount.self, from: json)
            #expect(withUnsafeBytes(of: decoded.decimal) { Array($0) } == withUnsafeBytes(of: reference.decimal) { Array($0) }, "\(literal)")
            #expect(decoded.description == reference.description)
        }
        // Values made by arithmetic, as the ledger makes them.
        for index in 0..<(amounts.count - 1) {
            let a = amounts[index], b = amounts[index + 1]
            amounts.append(a + b)
            amounts.append(a * b)
            if !b.isZero { amounts.append(a / b) }
            amounts.append(a.rounded(scale: 2))
        }
        let encoder = foundationEncoder()
        for amount in amounts where !amount.isNaN {
            let bytes = try BodyEncoder().encode(amount)
            #expect(bytes == Array(try encoder.encode(amount)))
            // Arithmetic can give 39 significant digits: the wire carries 38, which every reader reads back.
            #expect(text(bytes) == "\"\(amount.wireValue.description)\"")
            let reparsed = try #require(Amount(Substring(amount.wireValue.description)), "\(amount)")
            #expect(try BodyDecoder().decode(Amount.self, from: bytes) == reparsed)
            #expect(try JSONDecoder().decode(Amount.self, from: Data(bytes)) == reparsed)
            if Amount(Substring(amount.description)) != nil { #expect(amount.wireValue == amount) }
        }
    }

    @Test("an amount that is not a number is refused, as Amount refuses it")
    func notANumber() throws {
        var bar = sampleBar
        bar.high = Amount(1) / Amount(0)
        #expect(bar.high.isNaN)
        do {
            _ = try BodyEncoder().encode(bar)
            Issue.record("a NaN amount encoded")
        } catch EncodingError.invalidValue(_, let context) {
            #expect(pathText(context.codingPath) == ["high"])
        }
        #expect(throws: EncodingError.self) { try foundationEncoder().encode(bar) }
        // Nothing is left half-written when a caller skips the failing member.
        struct Skipping: Encodable {
            var amounts: [Amount]
            func encode(to encoder: any Encoder) throws {
                var container = encoder.unkeyedContainer()
                for amount in amounts { try? container.encode(amount) }
            }
        }
        #expect(text(try BodyEncoder().encode(Skipping(amounts: ["1", bar.high, "-2.5"]))) == #"["1","-2.5"]"#)
    }

    // MARK: Malformed input

    @Test("malformed bodies throw DecodingError.dataCorrupted, never crash")
    func malformedInputs() throws {
        let bar = text(try BodyEncoder().encode(sampleBar))
        var cases: [[UInt8]] = [
            "", " ", "{", "}", "[", "]", "{]", "[}", "{\"symbol\":", "{\"symbol\"}", "{\"symbol\" \"BTC\"}", "{,}", "[1,]", "[,1]",
            "{\"a\":1,}", "nul", "tru", "fals", "nulll", "01", "-", "-0.", "1.", ".5", "1e", "1e+", "+1", "0x10", "NaN", "Infinity",
            "-Infinity", "1 2", "\"abc", "\"\\", "\"\\x\"", "\"\\u12\"", "\"\\uZZZZ\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
            "\"\\ud800\\ud800\"", "\"tab\there\"", "\u{0}", "{\"symbol\":\"BTC\"}x", "[1]]", "{\"a\" : [1, {\"b\": nul}]}",
            "'single'", "{\"a\":1}{", "\u{FEFF}", "{}\u{FEFF}", " \u{FEFF}{}",
        ].map { Array($0.utf8) }
        // Invalid UTF-8 inside and outside strings.
        for bad: [UInt8] in [[0xFF], [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xC3], [0xE2, 0x82], [0x80]] {
            cases.append([UInt8(ascii: "\"")] + bad + [UInt8(ascii: "\"")])
            cases.append(Array("{\"symbol\":\"".utf8) + bad + Array("\"}".utf8))
            cases.append(bad)
        }
        // Every prefix of a valid body.
        let barBytes = Array(bar.utf8)
        for length in 0..<barBytes.count { cases.append(Array(barBytes[..<length])) }
        // Nesting past 64 levels.
        cases.append(Array(String(repeating: "[", count: 65).utf8) + Array(String(repeating: "]", count: 65).utf8))
        cases.append(Array(String(repeating: "{\"a\":", count: 65).utf8) + [UInt8(ascii: "1")] + Array(String(repeating: "}", count: 65).utf8))
        cases.append(Array(String(repeating: "[", count: 100_000).utf8))

        for bytes in cases {
            for decode in decoders {
                do {
                    try decode(bytes)
                    Issue.record("decoded malformed input \(text(bytes).prefix(80).debugDescription)")
                } catch {
                    #expect(failure(error) == .dataCorrupted(path: []), "\(text(bytes).prefix(80).debugDescription): \(error)")
                }
            }
        }
    }

    /// Decodes as every message type, ignoring the result.
    private var decoders: [([UInt8]) throws -> Void] {
        MessageType.allCases.map { type in
            { bytes in _ = try BodyDecoder().decode(type.bodyType, from: bytes[...]) }
        }
    }

    @Test("nesting up to 64 levels is accepted")
    func nestingLimit() throws {
        #expect(try BodyDecoder().decode(Tree.self, from: Array((String(repeating: "[", count: 64) + "1" + String(repeating: "]", count: 64)).utf8)).depth == 64)
        #expect(failure(try #require(decodeError(Tree.self, String(repeating: "[", count: 65) + "1" + String(repeating: "]", count: 65)))) == .dataCorrupted(path: []))
    }

    private func decodeError<T: Decodable>(_ type: T.Type, _ json: String) -> (any Error)? {
        do {
            _ = try BodyDecoder().decode(T.self, from: Array(json.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test("random mutations of valid bodies decode or throw DecodingError; when Foundation decodes too, they agree")
    func randomMutations() throws {
        var random = BodyCodecSplitMix64(seed: 0x5EED)
        var bodies: [(any BusMessage.Type, [UInt8])] = []
        for (_, value) in allSamples { bodies.append((Swift.type(of: value), try bodyEncoded(value))) }
        let specials: [UInt8] = Array("\"\\{}[],:-.e0123456789 tfn".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xED, 0xF4, 0xFF]
        var decodedCount = 0
        for round in 0..<4000 {
            let (type, original) = bodies[round % bodies.count]
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                guard !bytes.isEmpty else { break }
                let position = Int.random(in: 0..<bytes.count, using: &random)
                let byte = Bool.random(using: &random) ? specials.randomElement(using: &random)! : UInt8.random(in: 0...255, using: &random)
                switch Int.random(in: 0..<6, using: &random) {
                case 0: bytes[position] = byte
                case 1: bytes.insert(byte, at: position)
                case 2: bytes.remove(at: position)
                case 3: bytes.removeLast(Int.random(in: 0...(bytes.count - position), using: &random))
                case 4:
                    let end = min(bytes.count, position + Int.random(in: 1...20, using: &random))
                    bytes.insert(contentsOf: bytes[position..<end], at: Int.random(in: 0...bytes.count, using: &random))
                default: bytes[position] ^= 1 << UInt8.random(in: 0...7, using: &random)
                }
            }
            decodedCount += try checkMutation(type, bytes) ? 1 : 0
        }
        #expect(decodedCount > 0)
    }

    /// True when the bytes decoded.
    private func checkMutation<M: BusMessage>(_ type: M.Type, _ bytes: [UInt8]) throws -> Bool {
        let ours: M
        do {
            ours = try BodyDecoder().decode(M.self, from: bytes[...])
        } catch {
            #expect(error is DecodingError, "\(error)")
            return false
        }
        if let theirs = try? JSONDecoder().decode(M.self, from: Data(bytes)) {
            #expect(ours == theirs, "\(text(bytes))")
        }
        return true
    }

    // MARK: Decoding rules

    @Test("unknown keys are ignored, whatever their values")
    func unknownKeys() throws {
        var bar = text(try BodyEncoder().encode(sampleBar))
        bar.removeLast()
        bar += #","extra":{"nested":[1,2.5e10,{"x":null,"y":[true,false]}],"s":"\u00e9\n"},"zzz":[],"":-0}"#
        #expect(try BodyDecoder().decode(Bar.self, from: Array(bar.utf8)) == sampleBar)
        let front = #"{"first":[[[[]]]],"#
            + text(try BodyEncoder().encode(sampleSignal)).dropFirst()
        #expect(try BodyDecoder().decode(Signal.self, from: Array(front.utf8)) == sampleSignal)
    }

    @Test("a repeated key: the first one wins, as in Foundation")
    func repeatedKeys() throws {
        struct One: Codable, Equatable { var a: Int }
        let json = #"{"a":1,"a":2}"#
        #expect(try BodyDecoder().decode(One.self, from: Array(json.utf8)) == JSONDecoder().decode(One.self, from: Data(json.utf8)))
        #expect(try BodyDecoder().decode([String: Int].self, from: Array(json.utf8)) == ["a": 1])
        #expect(try BodyDecoder().decode([String: Int8].self, from: Array(json.utf8)) == ["a": 1])
        // A large object (hash table lookup) with repeats.
        let members = (0..<1000).map { #""k\#($0 % 700)":\#($0)"# }.joined(separator: ",")
        let large = Array("{\(members),\"a\":5}".utf8)
        #expect(try BodyDecoder().decode(One.self, from: large) == One(a: 5))
        let foundation = try JSONDecoder().decode([String: Int].self, from: Data(large))
        #expect(try BodyDecoder().decode([String: Int].self, from: large) == foundation)
        #expect(try BodyDecoder().decode([String: Int16].self, from: large).count == 701)
    }

    @Test("large objects: an escaped key and a plain repeat of it, the first wins")
    func largeObjectEscapedKeys() throws {
        struct One: Codable, Equatable { var a: Int }
        let filler = (0..<40).map { #""f\#($0)":\#($0)"# }.joined(separator: ",")
        let json = #"{"# + filler + #","\u0061":1,"a":2}"#
        #expect(try BodyDecoder().decode(One.self, from: Array(json.utf8)) == One(a: 1))
        #expect(try JSONDecoder().decode(One.self, from: Data(json.utf8)) == One(a: 1))
        #expect(try BodyDecoder().decode([String: Int].self, from: Array(json.utf8))["a"] == 1)
    }

    @Test("encoders and decoders used from many tasks at once")
    func concurrentUse() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for (_, value) in allSamples {
                        try checkRoundTripSendable(value, task)
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    @Test("many unknown members and a large dictionary decode quickly")
    func largeObjects() throws {
        let members = (0..<50_000).map { #""key\#($0)":\#($0)"# }.joined(separator: ",")
        var bar = text(try BodyEncoder().encode(sampleBar))
        bar.removeLast()
        bar += ",\(members)}"
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            #expect((try? BodyDecoder().decode(Bar.self, from: Array(bar.utf8))) == sampleBar)
            #expect((try? BodyDecoder().decode([String: Int].self, from: Array("{\(members)}".utf8)))?.count == 50_000)
            #expect((try? BodyDecoder().decode([String: Int32?].self, from: Array("{\(members)}".utf8)))?.count == 50_000)
        }
        #expect(elapsed < .seconds(5))
    }

    @Test("a missing required key is keyNotFound with the key's name and path")
    func missingKeys() throws {
        var bar = text(try BodyEncoder().encode(sampleBar))
        bar = bar.replacingOccurrences(of: #","close":"105080.75""#, with: "")
        #expect(decodeFailure(Bar.self, bar) == .keyNotFound(key: "close", path: []))
        let signal = text(try BodyEncoder().encode(sampleSignal)).replacingOccurrences(of: #""code":"within_limits","#, with: "")
        #expect(decodeFailure(Signal.self, signal) == .keyNotFound(key: "code", path: ["reasons", "#1"]))
        #expect(decodeFailure(Bar.self, "{}") == .keyNotFound(key: "intervalSeconds", path: []))
    }

    @Test("wrong types, nulls and out-of-range numbers give the right error and coding path")
    func typeErrors() throws {
        let bar = text(try BodyEncoder().encode(sampleBar))
        func barWith(_ field: String, _ value: String) -> String {
            let pattern = try! NSRegularExpression(pattern: "\"\(field)\":(\"[^\"]*\"|[^,}]*)")
            return pattern.stringByReplacingMatches(
                in: bar, range: NSRange(bar.startIndex..., in: bar), withTemplate: NSRegularExpression.escapedTemplate(for: "\"\(field)\":\(value)"))
        }
        #expect(decodeFailure(Bar.self, barWith("intervalSeconds", "1.5")) == .typeMismatch(path: ["intervalSeconds"]))
        #expect(decodeFailure(Bar.self, barWith("intervalSeconds", "1.0")) == .typeMismatch(path: ["intervalSeconds"]))
        #expect(decodeFailure(Bar.self, barWith("intervalSeconds", "1e3")) == .typeMismatch(path: ["intervalSeconds"]))
        #expect(decodeFailure(Bar.self, barWith("intervalSeconds", "\"60\"")) == .typeMismatch(path: ["intervalSeconds"]))
        #expect(decodeFailure(Bar.self, barWith("intervalSeconds", "null")) == .valueNotFound(path: ["intervalSeconds"]))
        #expect(decodeFailure(Bar.self, barWith("intervalSeconds", "99999999999999999999")) == .dataCorrupted(path: ["intervalSeconds"]))
        #expect(decodeFailure(Bar.self, barWith("openTime", "9223372036854775808")) == .dataCorrupted(path: ["openTime"]))
        #expect(decodeFailure(Bar.self, barWith("openTime", "-9223372036854775809")) == .dataCorrupted(path: ["openTime"]))
        #expect(try BodyDecoder().decode(Bar.self, from: Array(barWith("openTime", "-9223372036854775808").utf8)).openTime == .min)
        #expect(try BodyDecoder().decode(Bar.self, from: Array(barWith("intervalSeconds", "-0").utf8)).intervalSeconds == 0)
        #expect(decodeFailure(Bar.self, barWith("open", "105055.5")) == .typeMismatch(path: ["open"]))
        #expect(decodeFailure(Bar.self, barWith("open", "\"1e5\"")) == .dataCorrupted(path: ["open"]))
        #expect(decodeFailure(Bar.self, barWith("open", "\" 1\"")) == .dataCorrupted(path: ["open"]))
        #expect(decodeFailure(Bar.self, barWith("open", "\"\"")) == .dataCorrupted(path: ["open"]))
        #expect(decodeFailure(Bar.self, barWith("open", "\"\\u0031x\"")) == .dataCorrupted(path: ["open"]))
        #expect(try BodyDecoder().decode(Bar.self, from: Array(barWith("open", "\"\\u0031.5\"").utf8)).open == "1.5")
        #expect(decodeFailure(Bar.self, barWith("open", "null")) == .valueNotFound(path: ["open"]))
        #expect(decodeFailure(Bar.self, barWith("symbol", "5")) == .typeMismatch(path: ["symbol"]))
        #expect(try BodyDecoder().decode(Bar.self, from: Array(barWith("symbol", "null").utf8)).symbol == nil)
        #expect(decodeFailure(Bar.self, "[]") == .typeMismatch(path: []))
        #expect(decodeFailure(Bar.self, "null") == .valueNotFound(path: []))
        #expect(decodeFailure(Bar.self, "\"bar\"") == .typeMismatch(path: []))

        let signal = text(try BodyEncoder().encode(sampleSignal))
        #expect(decodeFailure(Signal.self, signal.replacingOccurrences(of: #""rsi":61.25"#, with: #""rsi":"x""#)) == .typeMismatch(path: ["indicators", "rsi"]))
        #expect(decodeFailure(Signal.self, signal.replacingOccurrences(of: #""rsi":61.25"#, with: #""rsi":1e999"#)) == .dataCorrupted(path: ["indicators", "rsi"]))
        #expect(decodeFailure(Signal.self, signal.replacingOccurrences(of: #""code":"within_limits""#, with: #""code":7"#)) == .typeMismatch(path: ["reasons", "#1", "code"]))
        #expect(decodeFailure(Signal.self, signal.replacingOccurrences(of: #""direction":"long""#, with: #""direction":"sideways""#)) == .dataCorrupted(path: ["direction"]))
        #expect(decodeFailure(Signal.self, signal.replacingOccurrences(of: #""confidence":0.8125"#, with: #""confidence":true"#)) == .typeMismatch(path: ["confidence"]))
        #expect(try BodyDecoder().decode(Signal.self, from: Array(signal.replacingOccurrences(of: #""confidence":0.8125"#, with: #""confidence":1"#).utf8)).confidence == 1)
        #expect(decodeFailure(Signal.self, signal.replacingOccurrences(of: #""reasons":["#, with: #""reasons":[null,"#)) == .valueNotFound(path: ["reasons", "#0"]))
        // Narrow integer types.
        #expect(decodeFailure([Int8].self, "[127,128]") == .dataCorrupted(path: ["#1"]))
        #expect(decodeFailure([UInt8].self, "[-1]") == .dataCorrupted(path: ["#0"]))
        #expect(try BodyDecoder().decode([Int8].self, from: Array("[-128,-0,0,127]".utf8)) == [-128, 0, 0, 127])
        #expect(try BodyDecoder().decode([UInt64].self, from: Array("[18446744073709551615,-0]".utf8)) == [.max, 0])
        #expect(decodeFailure([UInt64].self, "[18446744073709551616]") == .dataCorrupted(path: ["#0"]))
        #expect(decodeFailure([Double].self, "[1," + String(repeating: "1", count: 2000) + "]") == .dataCorrupted(path: ["#1"]))
        #expect(decodeFailure([Float].self, "[1e39]") == .dataCorrupted(path: ["#0"]))
        #expect(try BodyDecoder().decode([Float].self, from: Array("[0.1,-0,1e-50]".utf8)).map(\.bitPattern) == [Float(0.1), -0.0, 0].map(\.bitPattern))
        #expect(decodeFailure([Int].self, "[1,2") == .dataCorrupted(path: []))
    }

    @Test("numbers: every JSON form gives the correctly rounded double")
    func numberParsing() throws {
        let texts = [
            "0", "-0", "1", "-1", "0.1", "1e-7", "1E+2", "123456789012345678", "1234567890123456789012", "0.30000000000000004",
            "2.2250738585072014e-308", "4.9e-324", "2e-324", "1.7976931348623157e308", "9007199254740993", "1e22", "1e23",
            "8.98846567431158e307", "0.000001", "100000000000000000000000000000000000000000001e-40", "1e-400", "0.0000000000000000000000001",
        ]
        let values = try BodyDecoder().decode([Double].self, from: Array("[\(texts.joined(separator: ","))]".utf8))
        for (text, value) in zip(texts, values) { #expect(value.bitPattern == Double(text)!.bitPattern, "\(text)") }
    }

    @Test("strings: escapes, surrogate pairs and UTF-8 are decoded like Foundation")
    func stringDecoding() throws {
        let json = #"["\"\\\/\b\f\n\r\t", "\u0000\u001f\u00e9\u4e2d\uD83D\uDE00", "é中😀", "\ud83d\ude00x\u0041", ""]"#
        let ours = try BodyDecoder().decode([String].self, from: Array(json.utf8))
        #expect(ours == (try JSONDecoder().decode([String].self, from: Data(json.utf8))))
        #expect(ours[1] == "\u{0}\u{1F}é中😀")
        // Keys with escapes match too.
        #expect(try BodyDecoder().decode([String: Int].self, from: Array(#"{"\u0061":1,"b\n":2}"#.utf8)) == ["a": 1, "b\n": 2])
        struct One: Codable, Equatable { var a: Int }
        #expect(try BodyDecoder().decode(One.self, from: Array(#"{"\u0061":1}"#.utf8)) == One(a: 1))
    }
}

/// Arrays nested to any depth around one integer.
private indirect enum Tree: Decodable {
    case leaf(Int)
    case list([Tree])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) {
            self = .leaf(value)
        } else {
            self = .list(try container.decode([Tree].self))
        }
    }

    var depth: Int {
        switch self {
        case .leaf: 0
        case .list(let children): 1 + (children.map(\.depth).max() ?? 0)
        }
    }
}

private struct BodyTestKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

private func randomString(_ random: inout BodyCodecSplitMix64) -> String {
    let pieces: [String] = [
        "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{0}", "\u{1}", "\u{8}", "\u{C}", "\u{1B}", "\u{1F}", "\u{7F}", "é",
        "ß", "中", "😀", "👩‍👩‍👧", "\u{301}", "\u{2028}", "\u{2029}", "\u{FEFF}", "\u{FFFD}", "\u{FFFF}", "\u{10FFFF}", "BTC", "key",
    ]
    var result = ""
    for _ in 0..<Int.random(in: 0...12, using: &random) {
        if Int.random(in: 0..<4, using: &random) == 0 {
            result.unicodeScalars.append(Unicode.Scalar(UInt8.random(in: 0...0x7F, using: &random)))
        } else if Int.random(in: 0..<6, using: &random) == 0 {
            var scalar: Unicode.Scalar?
            while scalar == nil { scalar = Unicode.Scalar(UInt32.random(in: 0x80...0x10FFFF, using: &random)) }
            result.unicodeScalars.append(scalar!)
        } else {
            result += pieces.randomElement(using: &random)!
        }
    }
    return result
}

private func randomDouble(_ random: inout BodyCodecSplitMix64) -> Double {
    switch Int.random(in: 0..<10, using: &random) {
    case 0:  // any finite bit pattern
        var value = Double(bitPattern: random.next())
        while !value.isFinite { value = Double(bitPattern: random.next()) }
        return value
    case 1: return Double(bitPattern: random.next() & 0x000F_FFFF_FFFF_FFFF) * (Bool.random(using: &random) ? 1 : -1)  // subnormal
    case 2: return [0.0, -0.0, .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .ulpOfOne].randomElement(using: &random)!
    case 3: return Double(Int64.random(in: -(1 << 53)...(1 << 53), using: &random))  // integral
    case 4: return Double(Int64.random(in: .min ... .max, using: &random))  // integral, large
    case 5: return Double.random(in: -1...1, using: &random) * pow(10, Double(Int.random(in: -320...300, using: &random)))
    case 6: return Double(Int.random(in: -100_000...100_000, using: &random)) / 100  // prices
    case 7: return Double.random(in: 0...1, using: &random)
    case 8: return Double(sign: .plus, exponent: Int.random(in: -1074...1023, using: &random), significand: 1)
    default: return Double(Int.random(in: 0...1000, using: &random)) * 1e15
    }
}
