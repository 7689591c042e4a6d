import Schema

/// Per-publisher sequence bookkeeping (DESIGN.md, "Gaps"): a jump within one instance
/// is a gap; a new instance of a known source is a restart, not a gap.
public struct SequenceTracker: Sendable {
    public enum Observation: Sendable, Equatable {
        case inOrder
        /// The first message seen from this source.
        case firstContact
        case gap(SequenceGap)
        case restart(PublisherRestart)
        /// A sequence at or below the last one of the same instance: a duplicate.
        case stale(last: UInt64, received: UInt64)
    }

    private var last: [String: (instance: String, sequence: UInt64)] = [:]

    public init() {}

    public mutating func observe(_ header: EnvelopeHeaderKey) -> Observation {
        guard let previous = last[header.source] else {
            last[header.source] = (header.instance, header.sequence)
            return .firstContact
        }
        if previous.instance != header.instance {
            last[header.source] = (header.instance, header.sequence)
            return .restart(
                PublisherRestart(
                    source: header.source, previousInstance: previous.instance, instance: header.instance,
                    lastSequence: previous.sequence, firstSequence: header.sequence))
        }
        if header.sequence <= previous.sequence {
            return .stale(last: previous.sequence, received: header.sequence)
        }
        last[header.source] = (header.instance, header.sequence)
        if header.sequence == previous.sequence + 1 { return .inOrder }
        return .gap(
            SequenceGap(
                source: header.source, instance: header.instance, after: previous.sequence,
                received: header.sequence))
    }
}

/// The part of a header the tracker needs.
public struct EnvelopeHeaderKey: Sendable, Equatable {
    public var source: String
    public var instance: String
    public var sequence: UInt64
    public init(source: String, instance: String, sequence: UInt64) {
        self.source = source
        self.instance = instance
        self.sequence = sequence
    }
}

