import Foundation
import Schema
import Storage

/// An envelope as the trace recorder receives it: encoded by the codec, then parsed back.
func received<M: BusMessage>(
    _ body: M, source: String = "feed-handler", instance: String = "instance-1", sequence: UInt64 = 1,
    at publishTime: EpochNanos, trace: String
) throws -> RawEnvelope {
    let header = EnvelopeHeader(
        type: M.messageType.rawValue, source: source, instance: instance, sequence: sequence,
        publishTime: publishTime, traceId: trace, symbol: body.symbol)
    let bytes = try EnvelopeCodec.encode(Envelope(header: header, body: body))
    return try RawEnvelope(topic: body.topic, bytes: bytes)
}

func batch(_ envelopes: [RawEnvelope], receivedAt: EpochNanos = 0) -> TraceBatch {
    var batch = TraceBatch()
    for envelope in envelopes {
        batch.envelopes.append(
            TraceBatch.Item(
                envelope: envelope, receivedAt: receivedAt == 0 ? envelope.header.publishTime + 7 : receivedAt))
    }
    return batch
}

// MARK: - Messages

let barOpenTime: EpochNanos = 1_700_000_040_000_000_000

func bar(_ symbol: String = "BTC", close: Amount = "105055.5", openTime: EpochNanos = barOpenTime) -> Bar {
    Bar(
        symbol: symbol, intervalSeconds: 60, openTime: openTime, open: "105000", high: "105100.25", low: "104990",
        close: close, volume: "12.5")
}

func signal(_ symbol: String = "BTC", decision: Signal.Decision = .approved) -> Signal {
    Signal(
        signalId: "sig-1", symbol: symbol, strategy: "rsi", direction: .long, confidence: 0.75,
        referencePrice: "105055.5", barTime: barOpenTime, indicators: ["rsi": 24.5], decision: decision,
        reasons: [Reason(.approved, "rsi 24.5 < 30")])
}

func intent(_ id: String, symbol: String = "BTC") -> OrderIntent {
    OrderIntent(
        intentId: id, symbol: symbol, side: .buy, size: "0.01", orderType: .limit, price: "105055.5",
        purpose: .entry, reduceOnly: false, strategy: "rsi", origin: "signal-generator", createdAt: 1,
        expiresAt: 2)
}

func decision(_ intentId: String, clientOrderId: String, outcome: RiskDecision.Outcome = .approved) -> RiskDecision {
    RiskDecision(
        intentId: intentId, symbol: "BTC", outcome: outcome, reasons: [Reason(.withinLimits)],
        requestedSize: "0.01", approvedSize: "0.01", clientOrderId: clientOrderId)
}

func command(
    _ clientOrderId: String, size: Amount = "0.5", symbol: String = "BTC", side: Side = .buy
) -> OrderCommand {
    OrderCommand(
        action: .place, clientOrderId: clientOrderId, intentId: "intent-\(clientOrderId)", symbol: symbol,
        side: side, size: size, orderType: .limit, price: "105055.5", timeInForce: .gtc, reduceOnly: false,
        purpose: .entry, strategy: "rsi", ackDeadline: 1_700_000_000_500_000_000)
}

func fill(
    _ fillId: String, order clientOrderId: String, size: Amount, price: Amount = "105055.5",
    fee: Amount = "0.0021", side: Side = .buy, time: EpochNanos = 1_700_000_000_000_000_000
) -> Fill {
    Fill(
        fillId: fillId, clientOrderId: clientOrderId, symbol: "BTC", side: side, price: price, size: size, fee: fee,
        liquidity: .maker, purpose: .entry, strategy: "rsi", time: time)
}
