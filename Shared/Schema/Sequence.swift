/// Messages lost between two sequence numbers of one publisher instance.
public struct SequenceGap: Sendable, Equatable, Codable, CustomStringConvertible {
    public var source: String
    public var instance: String
    public var after: UInt64
    public var received: UInt64
    public var missing: UInt64 { received - after - 1 }
    public init(source: String, instance: String, after: UInt64, received: UInt64) {
        self.source = source
        self.instance = instance
        self.after = after
        self.received = received
    }
    public var description: String {
        "gap from \(source)/\(instance.prefix(8)): \(missing) missing after seq \(after), received \(received)"
    }
}

/// A publisher came back with a new instance id.
public struct PublisherRestart: Sendable, Equatable, Codable, CustomStringConvertible {
    public var source: String
    public var previousInstance: String
    public var instance: String
    public var lastSequence: UInt64
    public var firstSequence: UInt64
    public init(source: String, previousInstance: String, instance: String, lastSequence: UInt64, firstSequence: UInt64) {
        self.source = source
        self.previousInstance = previousInstance
        self.instance = instance
        self.lastSequence = lastSequence
        self.firstSequence = firstSequence
    }
    public var description: String {
        "restart of \(source): instance \(previousInstance.prefix(8)) → \(instance.prefix(8)) (last seq \(lastSequence), now \(firstSequence))"
    }
}
