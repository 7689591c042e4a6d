import Foundation

/// The envelope's fields other than its body. Readers that only route, filter or store
/// (busspy, the trace recorder) stop here and never decode the body.
public struct EnvelopeHeader: Sendable, Equatable, Hashable {
    /// Schema major version; a reader drops messages of a major version it does not know.
    public var schemaVersion: Int
    /// The message type as sent; may be a type this reader does not know.
    public var type: String
    /// The publishing service.
    public var source: String
    /// Random per process start: a new one means the publisher restarted.
    public var instance: String
    /// Per publisher instance, from 1.
    public var sequence: UInt64
    public var publishTime: EpochNanos
    /// Links every message of one decision cycle, from market data to fill.
    public var traceId: String
    public var symbol: String?

    public init(
        schemaVersion: Int = SchemaVersion.major, type: String, source: String, instance: String, sequence: UInt64,
        publishTime: EpochNanos, traceId: String, symbol: String?
    ) {
        self.schemaVersion = schemaVersion
        self.type = type
        self.source = source
        self.instance = instance
        self.sequence = sequence
        self.publishTime = publishTime
        self.traceId = traceId
        self.symbol = symbol
    }

    public var messageType: MessageType? { MessageType(rawValue: type) }
}

/// The schema's major version; a module-level name other than `Schema`, so that
/// `Schema.X` always means the module.
public enum SchemaVersion {
    public static let major = 1
}

/// A typed envelope.
public struct Envelope<Body: BusMessage>: Sendable, Equatable {
    public var header: EnvelopeHeader
    public var body: Body
    public init(header: EnvelopeHeader, body: Body) {
        self.header = header
        self.body = body
    }
}

/// An envelope as received: the header parsed, the body still bytes.
public struct RawEnvelope: Sendable {
    public var topic: String
    public var header: EnvelopeHeader
    /// The whole envelope as it was on the wire (JSON).
    public var bytes: [UInt8]
    public var bodyRange: Range<Int>

    public init(topic: String, bytes: [UInt8]) throws(EnvelopeError) {
        let parsed = try EnvelopeCodec.parseHeader(bytes)
        self.topic = topic
        self.header = parsed.header
        self.bytes = bytes
        self.bodyRange = parsed.bodyRange
    }

    public var messageType: MessageType? { header.messageType }

    /// Decodes the body as `M`; throws if the type does not match or the body is malformed.
    public func decode<M: BusMessage>(_: M.Type = M.self) throws -> M {
        guard header.type == M.messageType.rawValue else {
            throw EnvelopeError.typeMismatch(expected: M.messageType.rawValue, found: header.type)
        }
        return try EnvelopeCodec.decodeBody(M.self, from: bytes[bodyRange])
    }

    public var json: String { String(decoding: bytes, as: UTF8.self) }
}

public enum EnvelopeError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case unsupportedVersion(Int)
    case typeMismatch(expected: String, found: String)
    case bodyUndecodable(String)

    public var description: String {
        switch self {
        case .malformed(let why): "malformed envelope: \(why)"
        case .unsupportedVersion(let v): "unsupported schema major version \(v) (this build reads \(SchemaVersion.major))"
        case .typeMismatch(let expected, let found): "expected \(expected), found \(found)"
        case .bodyUndecodable(let why): "body does not decode: \(why)"
        }
    }
}

/// The envelope's wire form:
/// `{"v":1,"type":…,"src":…,"inst":…,"seq":…,"ts":…,"trace":…,"sym":…,"body":{…}}`.
/// The header is written and read by hand, so readers that only route or store never
/// decode a body; the body goes through `Codable` with the bus's own JSON coders.
public enum EnvelopeCodec {
    /// The body through `BodyEncoder`: Codable, but several times faster than Foundation's
    /// JSON coders, and with keys in declaration order so equal messages are equal bytes.
    public static func encodeBody<M: BusMessage>(_ body: M) throws -> [UInt8] {
        try BodyEncoder().encode(body)
    }

    public static func decodeBody<M: Decodable>(_ type: M.Type, from bytes: ArraySlice<UInt8>) throws -> M {
        do {
            return try BodyDecoder().decode(M.self, from: bytes)
        } catch let error as DecodingError {
            throw EnvelopeError.bodyUndecodable(describe(error))
        }
    }

    public static func encode(header: EnvelopeHeader, body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count + 160)
        out.append(contentsOf: #"{"v":"#.utf8)
        appendInteger(header.schemaVersion, to: &out)
        out.append(contentsOf: #","type":"#.utf8)
        appendString(header.type, to: &out)
        out.append(contentsOf: #","src":"#.utf8)
        appendString(header.source, to: &out)
        out.append(contentsOf: #","inst":"#.utf8)
        appendString(header.instance, to: &out)
        out.append(contentsOf: #","seq":"#.utf8)
        appendInteger(header.sequence, to: &out)
        out.append(contentsOf: #","ts":"#.utf8)
        appendInteger(header.publishTime, to: &out)
        out.append(contentsOf: #","trace":"#.utf8)
        appendString(header.traceId, to: &out)
        if let symbol = header.symbol {
            out.append(contentsOf: #","sym":"#.utf8)
            appendString(symbol, to: &out)
        }
        out.append(contentsOf: #","body":"#.utf8)
        out.append(contentsOf: body)
        out.append(UInt8(ascii: "}"))
        return out
    }

    public static func encode<M: BusMessage>(_ envelope: Envelope<M>) throws -> [UInt8] {
        encode(header: envelope.header, body: try encodeBody(envelope.body))
    }

    /// Reads the header fields and locates the body, without decoding it.
    public static func parseHeader(_ bytes: [UInt8]) throws(EnvelopeError) -> (
        header: EnvelopeHeader, bodyRange: Range<Int>
    ) {
        var scanner = JSONScanner(bytes)
        var version: Int?, type: String?, source: String?, instance: String?, traceId: String?, symbol: String?
        var sequence: UInt64?, publishTime: Int64?
        var body: Range<Int>?
        do {
            try scanner.expect(UInt8(ascii: "{"))
            if !scanner.consumeIf(UInt8(ascii: "}")) {
                repeat {
                    // Known keys are matched as bytes; anything else is read, then ignored.
                    enum Key: String { case v, type, src, inst, seq, ts, trace, sym, body, other }
                    var key: Key =
                        if scanner.consumeKey("v") { .v } else if scanner.consumeKey("type") { .type }
                        else if scanner.consumeKey("src") { .src } else if scanner.consumeKey("inst") { .inst }
                        else if scanner.consumeKey("seq") { .seq } else if scanner.consumeKey("ts") { .ts }
                        else if scanner.consumeKey("trace") { .trace } else if scanner.consumeKey("sym") { .sym }
                        else if scanner.consumeKey("body") { .body } else { .other }
                    // A key written with escapes ("\u0076") is still that key.
                    if key == .other { key = Key(rawValue: try scanner.readString()) ?? .other }
                    try scanner.expect(UInt8(ascii: ":"))
                    switch key {
                    case .v: version = Int(exactly: try scanner.readInteger())
                    case .type: type = try scanner.readString()
                    case .src: source = try scanner.readString()
                    case .inst: instance = try scanner.readString()
                    case .seq: sequence = try scanner.readUnsignedInteger()
                    case .ts: publishTime = try scanner.readInteger()
                    case .trace: traceId = try scanner.readString()
                    case .sym: symbol = try scanner.readNullableString()
                    case .body: body = try scanner.skipValue()
                    case .other: _ = try scanner.skipValue()  // unknown fields are ignored
                    }
                } while scanner.consumeIf(UInt8(ascii: ","))
                try scanner.expect(UInt8(ascii: "}"))
            }
            try scanner.expectEnd()
        } catch let error as EnvelopeError {
            throw error
        } catch {
            throw .malformed("\(error)")
        }
        guard let version else { throw .malformed("missing v") }
        guard version == SchemaVersion.major else { throw .unsupportedVersion(version) }
        guard let type, let source, let instance, let traceId, let sequence, let publishTime, let body else {
            throw .malformed("missing one of type, src, inst, seq, ts, trace, body")
        }
        return (
            EnvelopeHeader(
                schemaVersion: version, type: type, source: source, instance: instance, sequence: sequence,
                publishTime: publishTime, traceId: traceId, symbol: symbol),
            body
        )
    }

    static func appendInteger<I: BinaryInteger>(_ value: I, to out: inout [UInt8]) {
        out.append(contentsOf: String(value).utf8)
    }

    static func appendString(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            "missing \(path(context.codingPath + [key]))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            "\(error)"
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "body" : keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}
