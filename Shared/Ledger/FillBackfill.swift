import Schema

/// Which of the ledger's fills the trace lacks, so that the recorder can write them.
///
/// A fill is written to the ledger before it is published, but a fill published while the trace
/// recorder is down (killed, restarting) reaches no subscriber: the bus does not keep messages for
/// a subscriber that is not connected. The recorder therefore reads the ledger's new fills each
/// pass and, one pass later (time for the bus copy to arrive first), writes those the trace still
/// lacks as envelopes of their own. The writer drops a fill it already has, whichever copy comes
/// second, so a late bus copy and a backfill never make two.
public struct FillBackfill: Sendable, Equatable {
    /// The instance name backfilled envelopes carry: not a process, the ledger.
    public static let instance = "ledger-backfill"

    /// The ledger's last recording sequence read.
    public private(set) var watermark: Int64 = 0
    /// Fills read in the last pass, checked in the next.
    public private(set) var waiting: [Fill] = []

    public init() {}

    /// One pass. `fresh`: the ledger's fills recorded after `watermark`, with their sequence.
    /// Returns the fills read in the previous pass that `traced` still does not know.
    public mutating func pass(fresh: [(seq: Int64, fill: Fill)], traced: (String) -> Bool) -> [Fill] {
        let missing = waiting.filter { !traced($0.fillId) }
        waiting = fresh.map(\.fill)
        watermark = max(watermark, fresh.map(\.seq).max() ?? watermark)
        return missing
    }

    /// A backfilled fill as an envelope: from the executor, at the fill's time, in the trace of the
    /// order it filled (when the ledger knows it), marked by its instance.
    public static func envelope(_ fill: Fill, traceId: String?) throws -> (topic: String, bytes: [UInt8]) {
        let header = EnvelopeHeader(
            type: Fill.messageType.rawValue, source: "executor", instance: instance, sequence: 0,
            publishTime: fill.time, traceId: traceId ?? "backfill-\(fill.fillId)", symbol: fill.symbol)
        return (fill.topic, try EnvelopeCodec.encode(Envelope(header: header, body: fill)))
    }
}
