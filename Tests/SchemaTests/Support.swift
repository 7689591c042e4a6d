import Schema
import Foundation
import TestSupport
import Testing

@testable import Schema

/// The schema's files in the repository.
extension Repository {
    static let proto = root.appendingPathComponent("proto")
    static let examples = proto.appendingPathComponent("examples")
    static let validator = root.appendingPathComponent("Tests/SchemaTests/validate_proto.py")

    static func schemaURL(_ type: MessageType) -> URL { proto.appendingPathComponent("\(type.rawValue).schema.json") }
    static func exampleURL(_ type: MessageType) -> URL { examples.appendingPathComponent("\(type.rawValue).json") }

    static func bytes(_ url: URL) throws -> [UInt8] { Array(try Data(contentsOf: url)) }

    static func json(_ url: URL) throws -> JSONValue {
        try JSONValue.parse(try bytes(url))
    }

    static func files(in directory: URL, suffix: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(suffix) }.sorted()
    }
}

// MARK: - Decoding any message type

/// Decodes a body as the Swift type of `type`.
func decodeBody(_ type: MessageType, from bytes: ArraySlice<UInt8>) throws -> any BusMessage {
    func open<M: BusMessage>(_: M.Type) throws -> any BusMessage { try EnvelopeCodec.decodeBody(M.self, from: bytes) }
    return try open(type.bodyType)
}

/// Decodes through `RawEnvelope.decode`, the path a subscriber takes.
func decodeRaw(_ raw: RawEnvelope, as type: MessageType) throws -> any BusMessage {
    func open<M: BusMessage>(_: M.Type) throws -> any BusMessage { try raw.decode(M.self) }
    return try open(type.bodyType)
}

func encodeBody(_ message: any BusMessage) throws -> [UInt8] {
    func open<M: BusMessage>(_ message: M) throws -> [UInt8] { try EnvelopeCodec.encodeBody(message) }
    return try open(message)
}

func encodeEnvelope(header: EnvelopeHeader, body: any BusMessage) throws -> [UInt8] {
    func open<M: BusMessage>(_ body: M) throws -> [UInt8] { try EnvelopeCodec.encode(Envelope(header: header, body: body)) }
    return try open(body)
}

func sameMessage(_ lhs: any BusMessage, _ rhs: any BusMessage) -> Bool {
    func open<M: BusMessage>(_ lhs: M) -> Bool { (rhs as? M) == lhs }
    return open(lhs)
}

func topic(of message: any BusMessage) -> String {
    func open<M: BusMessage>(_ message: M) -> String { message.topic }
    return open(message)
}

func messageType(of message: any BusMessage) -> MessageType {
    func open<M: BusMessage>(_: M) -> MessageType { M.messageType }
    return open(message)
}

/// Whether the Swift reader takes these envelope bytes: header, known type, body.
func swiftAccepts(_ bytes: [UInt8]) -> Bool {
    guard let parsed = try? EnvelopeCodec.parseHeader(bytes), let type = parsed.header.messageType else { return false }
    return (try? decodeBody(type, from: bytes[parsed.bodyRange])) != nil
}

// MARK: - A small JSON model that keeps key order and number text

/// JSON as written: object members in order, numbers as their exact text. Lets the tests
/// mutate envelopes and compare JSON without going through Foundation's coders.
indirect enum JSONValue: Equatable, Sendable {
    struct Member: Equatable, Sendable {
        var key: String
        var value: JSONValue
    }

    case object([Member])
    case array([JSONValue])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    struct ParseError: Error, CustomStringConvertible {
        var message: String
        var offset: Int
        var description: String { "JSON: \(message) at byte \(offset)" }
    }

    subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.key == key }?.value
    }

    var members: [Member]? {
        if case .object(let members) = self { members } else { nil }
    }

    var keys: [String] { members?.map(\.key) ?? [] }

    var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }

    var arrayValue: [JSONValue]? {
        if case .array(let values) = self { values } else { nil }
    }

    var stringArray: [String]? { arrayValue?.compactMap(\.stringValue) }

    /// Sets (replacing, or appending) a member of an object.
    func setting(_ key: String, _ value: JSONValue) -> JSONValue {
        guard var members else { return self }
        if let index = members.firstIndex(where: { $0.key == key }) {
            members[index].value = value
        } else {
            members.append(Member(key: key, value: value))
        }
        return .object(members)
    }

    func removing(_ key: String) -> JSONValue {
        guard let members else { return self }
        return .object(members.filter { $0.key != key })
    }

    /// Equal as JSON values: object member order does not matter; numbers compare by text.
    func sameValue(as other: JSONValue) -> Bool {
        switch (self, other) {
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            return a.allSatisfy { member in b.contains { $0.key == member.key && $0.value.sameValue(as: member.value) } }
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.sameValue(as: $1) }
        default:
            return self == other
        }
    }

    // MARK: Writing

    /// Compact JSON, members in order; strings escaped as `EnvelopeCodec` escapes them.
    var compact: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .object(let members):
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                Self.writeString(member.key, to: &out)
                out += ":"
                member.value.write(to: &out)
            }
            out += "}"
        case .array(let values):
            out += "["
            for (index, value) in values.enumerated() {
                if index > 0 { out += "," }
                value.write(to: &out)
            }
            out += "]"
        case .string(let value): Self.writeString(value, to: &out)
        case .number(let text): out += text
        case .bool(let value): out += value ? "true" : "false"
        case .null: out += "null"
        }
    }

    private static func writeString(_ value: String, to out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    // MARK: Reading

    static func parse(_ text: String) throws -> JSONValue { try parse(Array(text.utf8)) }

    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        var parser = Parser(bytes: bytes)
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.fail("trailing bytes") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        func fail(_ message: String) -> ParseError { ParseError(message: message, offset: index) }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        mutating func expect(_ byte: UInt8) throws {
            skipWhitespace()
            guard current == byte else { throw fail("expected '\(Character(Unicode.Scalar(byte)))'") }
            index += 1
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            skipWhitespace()
            if current == byte {
                index += 1
                return true
            }
            return false
        }

        mutating func value(depth: Int) throws -> JSONValue {
            guard depth < 200 else { throw fail("nested too deeply") }
            skipWhitespace()
            guard let byte = current else { throw fail("unexpected end") }
            switch byte {
            case UInt8(ascii: "{"):
                index += 1
                var members: [Member] = []
                if consume(UInt8(ascii: "}")) { return .object(members) }
                repeat {
                    skipWhitespace()
                    let key = try string()
                    try expect(UInt8(ascii: ":"))
                    members.append(Member(key: key, value: try value(depth: depth + 1)))
                } while consume(UInt8(ascii: ","))
                try expect(UInt8(ascii: "}"))
                return .object(members)
            case UInt8(ascii: "["):
                index += 1
                var values: [JSONValue] = []
                if consume(UInt8(ascii: "]")) { return .array(values) }
                repeat { values.append(try value(depth: depth + 1)) } while consume(UInt8(ascii: ","))
                try expect(UInt8(ascii: "]"))
                return .array(values)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default: return .number(try number())
            }
        }

        mutating func literal(_ word: String) throws {
            guard bytes[index...].starts(with: word.utf8) else { throw fail("expected \(word)") }
            index += word.utf8.count
        }

        mutating func number() throws -> String {
            let start = index
            func digits() -> Int {
                let from = index
                while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
                return index - from
            }
            if current == UInt8(ascii: "-") { index += 1 }
            if current == UInt8(ascii: "0") {
                index += 1
            } else if digits() == 0 {
                throw fail("expected a value")
            }
            if current == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { throw fail("expected fraction digits") }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { throw fail("expected exponent digits") }
            }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        mutating func string() throws -> String {
            guard current == UInt8(ascii: "\"") else { throw fail("expected a string") }
            index += 1
            var utf8: [UInt8] = []
            while let byte = current {
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard let text = String(validating: utf8, as: UTF8.self) else { throw fail("invalid UTF-8") }
                    return text
                case UInt8(ascii: "\\"):
                    guard let escape = current else { throw fail("unterminated escape") }
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                    case UInt8(ascii: "b"): utf8.append(0x08)
                    case UInt8(ascii: "f"): utf8.append(0x0C)
                    case UInt8(ascii: "n"): utf8.append(0x0A)
                    case UInt8(ascii: "r"): utf8.append(0x0D)
                    case UInt8(ascii: "t"): utf8.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800..<0xDC00).contains(scalar) {
                            guard bytes[index...].starts(with: "\\u".utf8) else { throw fail("lone surrogate") }
                            index += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw fail("bad surrogate pair") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                        utf8.append(contentsOf: String(Character(unicode)).utf8)
                    default: throw fail("invalid escape")
                    }
                case 0..<0x20: throw fail("control character in string")
                default: utf8.append(byte)
                }
            }
            throw fail("unterminated string")
        }

        mutating func hex4() throws -> UInt32 {
            guard index + 4 <= bytes.count,
                let value = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16)
            else { throw fail("expected 4 hex digits") }
            index += 4
            return value
        }
    }
}

// MARK: - Deterministic randomness

/// SplitMix64: a seeded generator, so "random" test inputs are the same on every run.

// MARK: - The Python validator

struct ValidatorRun {
    var status: Int32
    var output: String
    /// Files named in `FAIL <file>: …` lines, by file name.
    var failedFiles: Set<String> {
        var files = Set<String>()
        for line in output.split(separator: "\n") where line.hasPrefix("FAIL ") {
            let rest = line.dropFirst(5)
            guard let colon = rest.range(of: ": ") else { continue }
            files.insert(URL(fileURLWithPath: String(rest[..<colon.lowerBound])).lastPathComponent)
        }
        return files
    }
    var summary: String { output.split(separator: "\n").last.map(String.init) ?? "" }
}

enum ProtoValidator {
    static let missingInterpreter = "\(Repository.python.path) is missing: run `make test` to create .venv"

    /// Runs `validate_proto.py <proto> <messages>`; records an issue and returns nil when
    /// the virtual environment does not exist.
    static func run(messages: URL, sourceLocation: SourceLocation = #_sourceLocation) throws -> ValidatorRun? {
        guard FileManager.default.isExecutableFile(atPath: Repository.python.path) else {
            Issue.record(Comment(rawValue: missingInterpreter), sourceLocation: sourceLocation)
            return nil
        }
        let process = Process()
        process.executableURL = Repository.python
        process.arguments = [Repository.validator.path, Repository.proto.path, messages.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ValidatorRun(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self))
    }
}

/// A fresh temporary directory, removed when `body` returns.
func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
        "breakwater-schema-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory)
}
