import Foundation

/// A forward-only JSON reader for the envelope header: enough to read strings and
/// integers and to skip any value, rejecting malformed input rather than guessing.
struct JSONScanner {
    struct Failure: Error, CustomStringConvertible {
        var message: String
        var offset: Int
        var description: String { "\(message) at byte \(offset)" }
    }

    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0
    private static let maxDepth = 64

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    private func fail(_ message: String) -> Failure { Failure(message: message, offset: index) }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func expect(_ byte: UInt8) throws {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else {
            throw fail("expected '\(Character(Unicode.Scalar(byte)))'")
        }
        index += 1
    }

    mutating func consumeIf(_ byte: UInt8) -> Bool {
        skipWhitespace()
        if index < bytes.count, bytes[index] == byte {
            index += 1
            return true
        }
        return false
    }

    mutating func expectEnd() throws {
        skipWhitespace()
        guard index == bytes.count else { throw fail("trailing bytes") }
    }

    mutating func readNullableString() throws -> String? {
        skipWhitespace()
        if bytes[index...].starts(with: "null".utf8) {
            index += 4
            return nil
        }
        return try readString()
    }

    mutating func readString() throws -> String {
        skipWhitespace()
        let start = index
        let range = try skipString()
        let content = bytes[(range.lowerBound + 1)..<(range.upperBound - 1)]
        if !content.contains(UInt8(ascii: "\\")) {
            guard let text = String(validating: content, as: UTF8.self) else {
                index = start
                throw fail("invalid UTF-8 in string")
            }
            return text
        }
        // Escapes are rare in headers; let Foundation unescape them.
        guard let text = try? JSONDecoder().decode(String.self, from: Data(bytes[range])) else {
            index = start
            throw fail("invalid string escape")
        }
        return text
    }

    mutating func readInteger() throws -> Int64 {
        skipWhitespace()
        let negative = index < bytes.count && bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        let magnitude = try readUnsignedInteger()
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw fail("integer out of range") }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw fail("integer out of range") }
        return Int64(magnitude)
    }

    /// Digits accumulated in place: no string is made for a number.
    mutating func readUnsignedInteger() throws -> UInt64 {
        skipWhitespace()
        let start = index
        var value: UInt64 = 0
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(bytes[index] - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { throw fail("integer out of range") }
            value = sum
            index += 1
        }
        guard index > start else { throw fail("expected an integer") }
        if index < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index]) {
            throw fail("expected an integer, found a fraction")
        }
        return value
    }

    /// Whether the next value is the string `key` (its bytes, no escapes); consumes it if so.
    /// Lets the header reader match its keys without making a string for each.
    mutating func consumeKey(_ key: StaticString) -> Bool {
        skipWhitespace()
        let count = key.utf8CodeUnitCount
        guard index + count + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\""),
            bytes[index + count + 1] == UInt8(ascii: "\"")
        else { return false }
        let matches = key.withUTF8Buffer { expected in
            for offset in 0..<count where bytes[index + 1 + offset] != expected[offset] { return false }
            return true
        }
        if matches { index += count + 2 }
        return matches
    }

    /// Skips one value and returns its byte range.
    mutating func skipValue() throws -> Range<Int> {
        skipWhitespace()
        guard index < bytes.count else { throw fail("unexpected end") }
        let start = index
        switch bytes[index] {
        case UInt8(ascii: "\""):
            _ = try skipString()
        case UInt8(ascii: "{"):
            try nest()
            index += 1
            if !consumeIf(UInt8(ascii: "}")) {
                repeat {
                    skipWhitespace()
                    _ = try skipString()
                    try expect(UInt8(ascii: ":"))
                    _ = try skipValue()
                } while consumeIf(UInt8(ascii: ","))
                try expect(UInt8(ascii: "}"))
            }
            depth -= 1
        case UInt8(ascii: "["):
            try nest()
            index += 1
            if !consumeIf(UInt8(ascii: "]")) {
                repeat { _ = try skipValue() } while consumeIf(UInt8(ascii: ","))
                try expect(UInt8(ascii: "]"))
            }
            depth -= 1
        case UInt8(ascii: "t"): try skipLiteral("true")
        case UInt8(ascii: "f"): try skipLiteral("false")
        case UInt8(ascii: "n"): try skipLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try skipNumber()
        default:
            throw fail("unexpected byte")
        }
        return start..<index
    }

    private mutating func nest() throws {
        depth += 1
        if depth > Self.maxDepth { throw fail("nested too deeply") }
    }

    private mutating func skipLiteral(_ literal: String) throws {
        guard bytes[index...].starts(with: literal.utf8) else { throw fail("expected \(literal)") }
        index += literal.utf8.count
    }

    private mutating func skipNumber() throws {
        let start = index
        let allowed: Set<UInt8> = Set("+-0123456789.eE".utf8)
        while index < bytes.count, allowed.contains(bytes[index]) { index += 1 }
        if Double(String(decoding: bytes[start..<index], as: UTF8.self)) == nil {
            index = start
            throw fail("malformed number")
        }
    }

    /// Skips a string starting at the current quote; returns its range including quotes.
    private mutating func skipString() throws -> Range<Int> {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a string") }
        let start = index
        index += 1
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return start..<index
            }
            if byte == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if byte < 0x20 { throw fail("control character in string") }
            index += 1
        }
        throw fail("unterminated string")
    }
}
