/// Who holds which CURVE public key on the bus, and who may publish what (DESIGN.md, "Security").
///
/// Pure: no sockets, no files. The services fill it from config or `var/keys/bus`; publishers'
/// ZAP handlers admit only its keys; subscribers pin each publisher's key from it and check every
/// envelope against `verdict`.
public struct BusKeyring: Sendable, Equatable {
    /// Principal (a service's bus name, `busspy`, `breakwater`) → its Z85 public key.
    public private(set) var publicKeys: [String: String]
    /// Principals that may publish at all; the others (busspy, the supervisor) only listen.
    public let publishers: Set<String>
    /// Topics only some publishers may use, checked in order; the first rule whose prefix matches decides.
    public let topicRules: [TopicRule]
    private let holders: [String: String]

    /// A topic prefix and the only principals allowed to publish under it.
    public struct TopicRule: Sendable, Equatable {
        public var prefix: String
        public var publishers: Set<String>
        public init(prefix: String, publishers: Set<String>) {
            self.prefix = prefix
            self.publishers = publishers
        }
    }

    /// Order commands move money: only the risk gate sends them (DESIGN.md, "Security").
    public static let standardRules = [TopicRule(prefix: "order.", publishers: ["risk-gate"])]

    public init(
        publicKeys: [String: String], publishers: Set<String>, topicRules: [TopicRule] = BusKeyring.standardRules
    ) throws(KeyringError) {
        var holders: [String: String] = [:]
        for (principal, key) in publicKeys.sorted(by: { $0.key < $1.key }) {
            guard Z85.isKey(key) else { throw .malformedKey(principal: principal) }
            if let other = holders[key] { throw .sharedKey(other, principal) }
            holders[key] = principal
        }
        if let missing = publishers.sorted().first(where: { publicKeys[$0] == nil }) {
            throw .missingKey(principal: missing)
        }
        self.publicKeys = publicKeys
        self.publishers = publishers
        self.topicRules = topicRules
        self.holders = holders
    }

    public func publicKey(of principal: String) -> String? { publicKeys[principal] }

    /// The principal holding a public key, or nil for a key nobody was given.
    public func principal(holding key: String) -> String? { holders[key] }

    /// Whether an envelope that arrived from `sender` (the principal whose key the connection
    /// authenticated) may be delivered.
    public func verdict(topic: String, source: String, sender: String) -> Verdict {
        guard publishers.contains(sender) else { return .rejected(.notAPublisher) }
        guard source == sender else { return .rejected(.senderMismatch) }
        if let rule = topicRules.first(where: { topic.hasPrefix($0.prefix) }), !rule.publishers.contains(sender) {
            return .rejected(.topicNotAllowed)
        }
        return .accepted
    }

    public enum Verdict: Sendable, Equatable {
        case accepted
        case rejected(BusRejectionReason)
    }
}

/// Why the bus refused a peer or a message; the `reason` of `breakwater_bus_rejected_total`.
public enum BusRejectionReason: String, Sendable, CaseIterable, Codable {
    /// The envelope's `src` is not the principal whose key authenticated the connection.
    case senderMismatch = "sender_mismatch"
    /// A topic its sender may not publish (`order.*` from anyone but the risk gate).
    case topicNotAllowed = "topic_not_allowed"
    /// A principal that only listens (busspy) published.
    case notAPublisher = "not_a_publisher"
    /// A subscriber's handshake with a publisher failed: a server with the wrong key, a plain-text peer.
    case handshakeFailed = "handshake_failed"
    /// A publisher's ZAP handler refused a client key it does not know.
    case unknownKey = "unknown_key"
}

public enum KeyringError: Error, Equatable, CustomStringConvertible {
    case malformedKey(principal: String)
    case sharedKey(String, String)
    case missingKey(principal: String)
    /// A secret key that is not Z85 or does not belong to the public key beside it.
    case mismatchedSecret

    public var description: String {
        switch self {
        case .malformedKey(let principal): "the bus public key of \(principal) is not 40 characters of Z85"
        case .sharedKey(let first, let second): "\(first) and \(second) have the same bus key; each needs its own"
        case .missingKey(let principal): "no bus public key for \(principal)"
        case .mismatchedSecret: "the bus secret key is not 40 characters of Z85 or does not match its public key"
        }
    }
}

/// ZeroMQ's Z85 text form of a CURVE key: 40 characters for 32 bytes.
public enum Z85 {
    static let alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")

    public static func isKey(_ text: String) -> Bool {
        text.count == 40 && text.allSatisfy(alphabet.contains)
    }
}

/// Logs the first few of each kind and then one in `every`, so that a peer retrying a failed
/// handshake ten times a second cannot flood the log; alerts at most once per `interval` per reason.
public struct RejectionThrottle: Sendable {
    public let interval: Int64
    private var lastAlert: [BusRejectionReason: Int64] = [:]

    /// `interval` in the clock's unit (nanoseconds for the services).
    public init(interval: Int64) { self.interval = interval }

    /// Whether a rejection of `reason` at `now` should raise an alert.
    public mutating func shouldAlert(_ reason: BusRejectionReason, now: Int64) -> Bool {
        if let last = lastAlert[reason], now - last < interval { return false }
        lastAlert[reason] = now
        return true
    }

    /// Whether the `count`-th rejection (from 1) of a kind should be logged.
    public static func shouldLog(count: UInt64, every: UInt64 = 1_000) -> Bool {
        count <= 10 || count % every == 0
    }
}
