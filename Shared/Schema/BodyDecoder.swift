import Foundation

/// Decodes message bodies from JSON bytes, several times faster than Foundation's
/// `JSONDecoder` (DESIGN.md, "Performance budget").
///
/// The bytes are parsed once into a flat tape of tokens (kind, byte range, and for
/// objects and arrays the index just past their last token); values are then decoded
/// from the tape, strings unescaped only when asked for. A real `Decoder`: keyed,
/// unkeyed and single-value containers, nested containers and super decoders.
///
/// Input is untrusted: anything malformed — truncated, not JSON, invalid UTF-8, invalid
/// escapes or lone surrogates, nesting deeper than 64 levels — throws
/// `DecodingError.dataCorrupted`; the work and memory are proportional to the input.
/// Decoding errors carry the coding path of the value at fault.
///
/// Behaviour:
/// - Unknown keys are ignored; with a repeated key the first one wins (as in Foundation).
/// - Integer types accept only integer literals (`1.0` and `1e3` are a type mismatch,
///   where Foundation accepts them); out-of-range integers are `dataCorrupted`.
/// - `Double` and `Float` accept any JSON number; a number beyond the type's range
///   (`1e400`) is `dataCorrupted`, and so is a number longer than 1,024 characters.
/// - `Decimal`, `Data` and `URL` are read the way `JSONDecoder`'s default strategies
///   read them (a number, a base64 string, a URL string).
public struct BodyDecoder: Sendable {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from bytes: ArraySlice<UInt8>) throws -> T {
        let document = try BodyDocument(bytes)
        let decoder = BodyTapeDecoder(document: document, codingPath: [], current: 0)
        do {
            return try decoder.decodeValue(T.self, at: 0) { try decoder.decodeComposite(T.self, at: 0) }
        } catch let problem as BodyValueProblem {
            throw problem.decodingError([])
        }
    }

    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try decode(type, from: bytes[...])
    }
}

// MARK: - The tape

struct BodyToken {
    enum Kind: UInt8 {
        case null, `false`, `true`, number, string, array, object

        var name: String {
            switch self {
            case .null: "null"
            case .false, .true: "a boolean"
            case .number: "a number"
            case .string: "a string"
            case .array: "an array"
            case .object: "an object"
            }
        }
    }

    /// A string with escapes.
    static let escaped: UInt8 = 1
    /// A number with a fraction or an exponent.
    static let fractional: UInt8 = 2
    /// A number with a minus sign.
    static let negative: UInt8 = 4

    var kind: Kind
    var flags: UInt8
    /// String: the first byte after the quote. Number: its first byte. Container: its bracket.
    var start: UInt32
    /// String: the closing quote. Number: the byte after it. Container: the index of the
    /// first token after the container.
    var end: UInt32
    /// Container: members or elements.
    var count: UInt32
}

/// The input bytes and their tape.
final class BodyDocument {
    static let maxDepth = 64
    static let padding = 8

    let bytes: UnsafeMutablePointer<UInt8>
    let byteCount: Int
    let tape: UnsafeMutablePointer<BodyToken>
    let tokenCount: Int
    /// A `null` token after the document, for super decoders of absent keys.
    let nullToken: Int

    init(_ input: ArraySlice<UInt8>) throws {
        let count = input.count
        guard count < Int(UInt32.max) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: [], debugDescription: "The given data was not valid JSON: larger than 4 GiB."))
        }
        // A copy with eight zero bytes after it, so the parser can read eight bytes at any
        // offset (a zero byte is never part of a valid token).
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: count + Self.padding)
        input.withUnsafeBufferPointer { source in
            if let address = source.baseAddress, count > 0 { buffer.initialize(from: address, count: count) }
        }
        (buffer + count).initialize(repeating: 0, count: Self.padding)
        var parser = BodyParser(bytes: buffer, count: count)
        do {
            try parser.parseDocument()
        } catch {
            buffer.deallocate()
            parser.tokens.deallocate()
            if let failure = error as? BodyParser.Failure {
                throw DecodingError.dataCorrupted(
                    DecodingError.Context(
                        codingPath: [], debugDescription: "The given data was not valid JSON: \(failure.message) at byte \(failure.offset)."))
            }
            throw error
        }
        nullToken = parser.append(BodyToken(kind: .null, flags: 0, start: UInt32(count), end: UInt32(count), count: 0))
        bytes = buffer
        byteCount = count
        tape = parser.tokens
        tokenCount = parser.tokenCount
    }

    deinit {
        bytes.deallocate()
        tape.deallocate()
    }
}

/// A strict RFC 8259 parser that records tokens and validates everything: structure,
/// number syntax, escapes, surrogate pairs and UTF-8. `bytes` must be followed by
/// `BodyDocument.padding` zero bytes.
struct BodyParser {
    struct Failure: Error {
        var message: String
        var offset: Int
    }

    let bytes: UnsafePointer<UInt8>
    let count: Int
    var position = 0
    /// The tape; the caller owns (and deallocates) it.
    private(set) var tokens: UnsafeMutablePointer<BodyToken>
    private(set) var tokenCount = 0
    private var tokenCapacity: Int

    init(bytes: UnsafePointer<UInt8>, count: Int) {
        self.bytes = bytes
        self.count = count
        tokenCapacity = min(count / 6 + 8, 4096)
        tokens = .allocate(capacity: tokenCapacity)
    }

    @inline(__always) @discardableResult
    mutating func append(_ token: BodyToken) -> Int {
        if tokenCount == tokenCapacity { growTape() }
        (tokens + tokenCount).initialize(to: token)
        tokenCount &+= 1
        return tokenCount &- 1
    }

    @inline(never) private mutating func growTape() {
        let newCapacity = tokenCapacity * 2
        let newTokens = UnsafeMutablePointer<BodyToken>.allocate(capacity: newCapacity)
        newTokens.initialize(from: tokens, count: tokenCount)
        tokens.deallocate()
        tokens = newTokens
        tokenCapacity = newCapacity
    }

    private func failure(_ message: String, at offset: Int? = nil) -> Failure {
        Failure(message: message, offset: offset ?? position)
    }

    mutating func parseDocument() throws {
        // A byte order mark may be ignored (RFC 8259, 8.1); Foundation ignores it too.
        if count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
        skipWhitespace()
        try parseValue(depth: 0)
        skipWhitespace()
        guard position == count else { throw failure("unexpected bytes after the value") }
    }

    @inline(__always) private mutating func skipWhitespace() {
        while position < count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position &+= 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws {
        guard position < count else { throw failure("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "\""): try parseString()
        case UInt8(ascii: "{"): try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): try parseArray(depth: depth + 1)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try parseNumber()
        case UInt8(ascii: "t"): try parseLiteral("true", .true)
        case UInt8(ascii: "f"): try parseLiteral("false", .false)
        case UInt8(ascii: "n"): try parseLiteral("null", .null)
        default: throw failure("unexpected byte 0x\(String(bytes[position], radix: 16))")
        }
    }

    private mutating func parseObject(depth: Int) throws {
        guard depth <= BodyDocument.maxDepth else { throw failure("nested more than \(BodyDocument.maxDepth) levels deep") }
        let index = append(BodyToken(kind: .object, flags: 0, start: UInt32(position), end: 0, count: 0))
        position &+= 1
        skipWhitespace()
        var members: UInt32 = 0
        if position < count, bytes[position] == UInt8(ascii: "}") {
            position &+= 1
        } else {
            while true {
                guard position < count, bytes[position] == UInt8(ascii: "\"") else { throw failure("expected a key") }
                try parseString()
                skipWhitespace()
                guard position < count, bytes[position] == UInt8(ascii: ":") else { throw failure("expected ':'") }
                position &+= 1
                skipWhitespace()
                try parseValue(depth: depth)
                members &+= 1
                skipWhitespace()
                guard position < count else { throw failure("unterminated object") }
                let byte = bytes[position]
                if byte == UInt8(ascii: ",") {
                    position &+= 1
                    skipWhitespace()
                } else if byte == UInt8(ascii: "}") {
                    position &+= 1
                    break
                } else {
                    throw failure("expected ',' or '}'")
                }
            }
        }
        tokens[index].end = UInt32(tokenCount)
        tokens[index].count = members
    }

    private mutating func parseArray(depth: Int) throws {
        guard depth <= BodyDocument.maxDepth else { throw failure("nested more than \(BodyDocument.maxDepth) levels deep") }
        let index = append(BodyToken(kind: .array, flags: 0, start: UInt32(position), end: 0, count: 0))
        position &+= 1
        skipWhitespace()
        var elements: UInt32 = 0
        if position < count, bytes[position] == UInt8(ascii: "]") {
            position &+= 1
        } else {
            while true {
                try parseValue(depth: depth)
                elements &+= 1
                skipWhitespace()
                guard position < count else { throw failure("unterminated array") }
                let byte = bytes[position]
                if byte == UInt8(ascii: ",") {
                    position &+= 1
                    skipWhitespace()
                } else if byte == UInt8(ascii: "]") {
                    position &+= 1
                    break
                } else {
                    throw failure("expected ',' or ']'")
                }
            }
        }
        tokens[index].end = UInt32(tokenCount)
        tokens[index].count = elements
    }

    private mutating func parseLiteral(_ literal: StaticString, _ kind: BodyToken.Kind) throws {
        let length = literal.utf8CodeUnitCount
        guard count - position >= length else { throw failure("invalid literal") }
        for offset in 0..<length where bytes[position + offset] != literal.utf8Start[offset] {
            throw failure("invalid literal")
        }
        append(BodyToken(kind: kind, flags: 0, start: UInt32(position), end: UInt32(position + length), count: 0))
        position &+= length
    }

    private mutating func parseNumber() throws {
        let start = position
        var flags: UInt8 = 0
        if bytes[position] == UInt8(ascii: "-") {
            flags |= BodyToken.negative
            position &+= 1
        }
        guard position < count else { throw failure("malformed number", at: start) }
        if bytes[position] == UInt8(ascii: "0") {
            position &+= 1
        } else if bytes[position] &- UInt8(ascii: "1") < 9 {
            skipDigits()
        } else {
            throw failure("malformed number", at: start)
        }
        if position < count, bytes[position] == UInt8(ascii: ".") {
            flags |= BodyToken.fractional
            position &+= 1
            guard position < count, bytes[position] &- UInt8(ascii: "0") < 10 else { throw failure("malformed number", at: start) }
            skipDigits()
        }
        if position < count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            flags |= BodyToken.fractional
            position &+= 1
            if position < count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position &+= 1
            }
            guard position < count, bytes[position] &- UInt8(ascii: "0") < 10 else { throw failure("malformed number", at: start) }
            skipDigits()
        }
        append(BodyToken(kind: .number, flags: flags, start: UInt32(start), end: UInt32(position), count: 0))
    }

    @inline(__always) private mutating func skipDigits() {
        while position < count, bytes[position] &- UInt8(ascii: "0") < 10 { position &+= 1 }
    }

    private mutating func parseString() throws {
        let open = position
        var index = position &+ 1
        let start = index
        var flags: UInt8 = 0
        while true {
            // Eight bytes at a time: skip plain ASCII, or jump to the first byte that is not.
            // The zero padding after the input stops this at the end.
            let special = Self.specialBytes(UnsafeRawPointer(bytes + index).loadUnaligned(as: UInt64.self))
            if special == 0 {
                index &+= 8
                continue
            }
            index &+= special.trailingZeroBitCount &>> 3
            guard index < count else { throw failure("unterminated string", at: open) }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") {
                flags |= BodyToken.escaped
                position = index
                try parseEscape()
                index = position
            } else if byte < 0x20 {
                throw failure("control character in a string", at: index)
            } else if byte >= 0x80 {
                position = index
                try parseMultiByte(byte)
                index = position
            } else {
                index &+= 1
            }
        }
        append(BodyToken(kind: .string, flags: flags, start: UInt32(start), end: UInt32(index), count: 0))
        position = index &+ 1
    }

    /// The high bit of each of eight bytes (little-endian) that is not plain ASCII: a quote,
    /// a backslash, a control character or a byte of a multi-byte sequence. Only the lowest
    /// flagged byte is certain (a borrow can flag the bytes above it), which is all that is
    /// used: zero, or where the first such byte is.
    @inline(__always) static func specialBytes(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        let control = (word &- 0x2020_2020_2020_2020) & ~word
        let quote = word ^ 0x2222_2222_2222_2222
        let backslash = word ^ 0x5C5C_5C5C_5C5C_5C5C
        return (word | control | ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)) & highBits
    }

    private mutating func parseEscape() throws {
        guard position + 1 < count else { throw failure("unterminated escape") }
        switch bytes[position + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            position &+= 2
        case UInt8(ascii: "u"):
            let unit = try hex4(at: position + 2)
            if unit & 0xFC00 == 0xD800 {
                guard position + 7 < count, bytes[position + 6] == UInt8(ascii: "\\"), bytes[position + 7] == UInt8(ascii: "u"),
                    try hex4(at: position + 8) & 0xFC00 == 0xDC00
                else { throw failure("unpaired surrogate in \\u escape") }
                position &+= 12
            } else if unit & 0xFC00 == 0xDC00 {
                throw failure("unpaired surrogate in \\u escape")
            } else {
                position &+= 6
            }
        default:
            throw failure("invalid escape")
        }
    }

    private func hex4(at offset: Int) throws -> UInt16 {
        guard offset + 4 <= count else { throw failure("truncated \\u escape") }
        var value: UInt16 = 0
        for index in offset..<(offset + 4) {
            guard let digit = BodyParser.hexValue(bytes[index]) else { throw failure("invalid \\u escape", at: index) }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A UTF-8 sequence: no overlong forms, no surrogates, nothing above U+10FFFF.
    private mutating func parseMultiByte(_ lead: UInt8) throws {
        let continuation: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: continuation = 1
        case 0xE0:
            continuation = 2
            low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: continuation = 2
        case 0xED:
            continuation = 2
            high = 0x9F
        case 0xF0:
            continuation = 3
            low = 0x90
        case 0xF1...0xF3: continuation = 3
        case 0xF4:
            continuation = 3
            high = 0x8F
        default: throw failure("invalid UTF-8")
        }
        guard position + continuation < count else { throw failure("invalid UTF-8") }
        let second = bytes[position + 1]
        guard second >= low, second <= high else { throw failure("invalid UTF-8") }
        for offset in stride(from: 2, through: continuation, by: 1) where bytes[position + offset] & 0xC0 != 0x80 {
            throw failure("invalid UTF-8")
        }
        position &+= continuation + 1
    }
}

// MARK: - The decoder

/// The `Decoder` of one decode. Child values are decoded by the same object: the token
/// being decoded (`current`) and the coding path are saved and restored around each child.
final class BodyTapeDecoder: Decoder {
    /// The mutable state, behind a pointer: stored properties of a class would cost a
    /// dynamic exclusivity check on every access.
    struct State {
        var path: [any CodingKey]
        var current: Int
    }

    let document: BodyDocument
    let tape: UnsafeMutablePointer<BodyToken>
    let bytes: UnsafePointer<UInt8>
    private let s: UnsafeMutablePointer<State>

    var path: [any CodingKey] { s.pointee.path }
    var codingPath: [any CodingKey] { s.pointee.path }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(document: BodyDocument, codingPath: [any CodingKey], current: Int) {
        self.document = document
        tape = document.tape
        bytes = UnsafePointer(document.bytes)
        s = .allocate(capacity: 1)
        s.initialize(to: State(path: codingPath, current: current))
    }

    deinit {
        s.deinitialize(count: 1)
        s.deallocate()
    }

    /// A decoder of its own, for nested containers and super decoders.
    func child(at index: Int, key: any CodingKey) -> BodyTapeDecoder {
        BodyTapeDecoder(document: document, codingPath: s.pointee.path + [key], current: index)
    }

    /// The token after the value at `index` (and after all its descendants).
    @inline(__always) func next(_ index: Int) -> Int {
        let token = tape[index]
        return token.kind.rawValue >= BodyToken.Kind.array.rawValue ? Int(token.end) : index + 1
    }

    // MARK: Errors

    /// The text of a scalar token, shortened for messages.
    func text(_ index: Int) -> String {
        let token = tape[index]
        let length = min(Int(token.end - token.start), 40)
        return String(decoding: UnsafeBufferPointer(start: bytes + Int(token.start), count: length), as: UTF8.self)
    }

    /// The value at `index` is not a `type`.
    func mismatch(_ type: Any.Type, _ index: Int) -> BodyValueProblem {
        let kind = tape[index].kind
        if kind == .null {
            return BodyValueProblem(kind: .valueNotFound, type: type, message: "Cannot get value of type \(type) -- found null value instead.")
        }
        return BodyValueProblem(kind: .typeMismatch, type: type, message: "Expected to decode \(type) but found \(kind.name) instead.")
    }

    func corrupted(_ message: String) -> BodyValueProblem {
        BodyValueProblem(kind: .dataCorrupted, type: Any.self, message: message)
    }

    // MARK: Decoder

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let current = s.pointee.current
        guard tape[current].kind == .object else {
            if tape[current].kind == .null {
                throw DecodingError.valueNotFound(
                    KeyedDecodingContainer<Key>.self,
                    DecodingError.Context(codingPath: path, debugDescription: "Cannot get keyed decoding container -- found null value instead."))
            }
            throw mismatch([String: Any].self, current).decodingError(path)
        }
        return KeyedDecodingContainer(BodyKeyedDecodingContainer<Key>(decoder: self, object: current))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let current = s.pointee.current
        guard tape[current].kind == .array else {
            if tape[current].kind == .null {
                throw DecodingError.valueNotFound(
                    (any UnkeyedDecodingContainer).self,
                    DecodingError.Context(codingPath: path, debugDescription: "Cannot get unkeyed decoding container -- found null value instead."))
            }
            throw mismatch([Any].self, current).decodingError(path)
        }
        return BodyUnkeyedDecodingContainer(decoder: self, array: current)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        BodySingleValueDecodingContainer(decoder: self, index: s.pointee.current)
    }

    // MARK: Values

    /// Decodes the value at token `index`: the types the decoder reads itself, or through
    /// `composite` (the type's own `init(from:)`).
    @inline(__always) func decodeValue<T: Decodable>(_ type: T.Type, at index: Int, composite: () throws -> T) throws -> T {
        if T.self == Amount.self {
            if let amount = decodeAmount(at: index) { return unsafeBitCast(amount, to: T.self) }
            return try composite()
        }
        if T.self == String.self { return unsafeBitCast(try decodeString(at: index), to: T.self) }
        if T.self == Int.self { return unsafeBitCast(try decodeInteger(Int.self, at: index), to: T.self) }
        if T.self == Int64.self { return unsafeBitCast(try decodeInteger(Int64.self, at: index), to: T.self) }
        if T.self == Double.self { return unsafeBitCast(try decodeDouble(at: index), to: T.self) }
        if T.self == Bool.self { return unsafeBitCast(try decodeBool(at: index), to: T.self) }
        if T.self == UInt64.self { return unsafeBitCast(try decodeInteger(UInt64.self, at: index), to: T.self) }
        // Generic and Foundation types: identities looked up once, not per call.
        let type = ObjectIdentifier(T.self)
        let known = BodyKnownTypes.shared
        if type == known.stringDoubleDictionary {
            return unsafeBitCast(try decodeDictionary(at: index) { try self.decodeDouble(at: $0) }, to: T.self)
        }
        if type == known.stringStringDictionary {
            return unsafeBitCast(try decodeDictionary(at: index) { try self.decodeString(at: $0) }, to: T.self)
        }
        if type == known.decimal { return unsafeBitCast(try decodeDecimal(at: index), to: T.self) }
        if type == known.data { return unsafeBitCast(try decodeData(at: index), to: T.self) }
        if type == known.url { return try decodeURL(at: index) as! T }
        return try composite()
    }

    /// A value that decodes itself, as the member or element `key` of the current value.
    func decodeComposite<T: Decodable, K: CodingKey>(_ type: T.Type, at index: Int, key: K) throws -> T {
        let saved = s.pointee.current
        s.pointee.current = index
        s.pointee.path.append(key)
        defer {
            s.pointee.current = saved
            s.pointee.path.removeLast()
        }
        return try T(from: self)
    }

    /// A value that decodes itself, in place of the current value (a single-value container).
    func decodeComposite<T: Decodable>(_ type: T.Type, at index: Int) throws -> T {
        let saved = s.pointee.current
        s.pointee.current = index
        defer { s.pointee.current = saved }
        return try T(from: self)
    }

    @inline(__always) private func utf8(of token: BodyToken) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: bytes + Int(token.start), count: Int(token.end &- token.start))
    }

    func decodeString(at index: Int) throws -> String {
        let token = tape[index]
        guard token.kind == .string else { throw mismatch(String.self, index) }
        if token.flags & BodyToken.escaped == 0 { return String(decoding: utf8(of: token), as: UTF8.self) }
        return Self.unescape(utf8(of: token))
    }

    /// The text of a validated string with escapes. Never longer than its escaped form.
    static func unescape(_ source: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: source.count) { out in
            var read = 0
            var written = 0
            let count = source.count
            func hex4(_ at: Int) -> UInt32? {
                guard at + 4 <= count else { return nil }
                var value: UInt32 = 0
                for index in at..<(at + 4) {
                    guard let digit = BodyParser.hexValue(source[index]) else { return nil }
                    value = value << 4 | UInt32(digit)
                }
                return value
            }
            func emit(_ scalar: Unicode.Scalar) {
                guard let encoded = UTF8.encode(scalar) else { return }
                for unit in encoded where written < out.count {
                    out[written] = unit
                    written += 1
                }
            }
            while read < count {
                let byte = source[read]
                guard byte == UInt8(ascii: "\\"), read + 1 < count else {
                    out[written] = byte
                    written += 1
                    read += 1
                    continue
                }
                let escape = source[read + 1]
                read += 2
                let short: UInt8?
                switch escape {
                case UInt8(ascii: "b"): short = 0x08
                case UInt8(ascii: "f"): short = 0x0C
                case UInt8(ascii: "n"): short = 0x0A
                case UInt8(ascii: "r"): short = 0x0D
                case UInt8(ascii: "t"): short = 0x09
                case UInt8(ascii: "u"): short = nil
                default: short = escape  // " \ /
                }
                if let short {
                    out[written] = short
                    written += 1
                    continue
                }
                guard let unit = hex4(read) else {
                    emit("\u{FFFD}")
                    continue
                }
                read += 4
                if unit & 0xFC00 == 0xD800, read + 1 < count, source[read] == UInt8(ascii: "\\"),
                    source[read + 1] == UInt8(ascii: "u"), let low = hex4(read + 2), low & 0xFC00 == 0xDC00
                {
                    read += 6
                    emit(Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)) ?? "\u{FFFD}")
                } else {
                    emit(Unicode.Scalar(unit) ?? "\u{FFFD}")
                }
            }
            return written
        }
    }

    /// Whether the key token at `index` spells `name`.
    @inline(__always) func keyEquals(_ index: Int, _ name: UnsafeBufferPointer<UInt8>) -> Bool {
        let token = tape[index]
        if token.flags & BodyToken.escaped == 0 {
            let length = Int(token.end &- token.start)
            guard length == name.count else { return false }
            let key = bytes + Int(token.start)
            for offset in 0..<length where key[offset] != name[offset] { return false }
            return true
        }
        var text = Self.unescape(utf8(of: token))
        return text.withUTF8 { $0.elementsEqual(name) }
    }

    /// The unescaped bytes of the key token at `index`.
    func withKeyBytes<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let token = tape[index]
        if token.flags & BodyToken.escaped == 0 { return body(utf8(of: token)) }
        var text = Self.unescape(utf8(of: token))
        return text.withUTF8(body)
    }

    func decodeBool(at index: Int) throws -> Bool {
        switch tape[index].kind {
        case .true: return true
        case .false: return false
        default: throw mismatch(Bool.self, index)
        }
    }

    /// An integer of type `I`. Generic code over `FixedWidthInteger` that the compiler does
    /// not specialize costs hundreds of instructions; the work is done on 64 bits.
    @inline(__always)
    func decodeInteger<I: FixedWidthInteger>(_ type: I.Type, at index: Int) throws -> I {
        if I.isSigned {
            return I(truncatingIfNeeded: try decodeSigned(at: index, I.self, min: Int64(I.min), max: Int64(I.max)))
        }
        return I(truncatingIfNeeded: try decodeUnsigned(at: index, I.self, max: UInt64(I.max)))
    }

    func decodeSigned(at index: Int, _ type: Any.Type, min: Int64, max: Int64) throws -> Int64 {
        let (negative, magnitude) = try integerMagnitude(at: index, type)
        if negative {
            guard magnitude <= UInt64(bitPattern: 0 &- min) || (min == .min && magnitude == 1 << 63) else {
                throw corrupted("Number \(text(index)) is not representable in \(type).")
            }
            return Int64(truncatingIfNeeded: 0 &- magnitude)
        }
        guard magnitude <= UInt64(max) else { throw corrupted("Number \(text(index)) is not representable in \(type).") }
        return Int64(magnitude)
    }

    func decodeUnsigned(at index: Int, _ type: Any.Type, max: UInt64) throws -> UInt64 {
        let (negative, magnitude) = try integerMagnitude(at: index, type)
        guard magnitude <= max, !negative || magnitude == 0 else {
            throw corrupted("Number \(text(index)) is not representable in \(type).")
        }
        return magnitude
    }

    /// The sign and magnitude of an integer literal.
    private func integerMagnitude(at index: Int, _ type: Any.Type) throws -> (Bool, UInt64) {
        let token = tape[index]
        guard token.kind == .number else { throw mismatch(type, index) }
        guard token.flags & BodyToken.fractional == 0 else {
            throw BodyValueProblem(
                kind: .typeMismatch, type: type, message: "Expected to decode \(type) but found the non-integer number \(text(index)).")
        }
        let negative = token.flags & BodyToken.negative != 0
        var position = Int(token.start) &+ (negative ? 1 : 0)
        let end = Int(token.end)
        var magnitude: UInt64 = 0
        if end &- position <= 19 {  // cannot overflow
            while position < end {
                magnitude = magnitude &* 10 &+ UInt64(bytes[position] &- UInt8(ascii: "0"))
                position &+= 1
            }
            return (negative, magnitude)
        }
        while position < end {
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(bytes[position] &- UInt8(ascii: "0")))
            if overflow1 || overflow2 { throw corrupted("Number \(text(index)) is not representable in \(type).") }
            magnitude = sum
            position &+= 1
        }
        return (negative, magnitude)
    }

    static let maxNumberLength = 1024

    func decodeDouble(at index: Int) throws -> Double {
        let token = tape[index]
        guard token.kind == .number else { throw mismatch(Double.self, index) }
        if let value = Self.exactDouble(utf8(of: token)) { return value }
        guard token.end - token.start <= Self.maxNumberLength else {
            throw corrupted("Number \(text(index))… is longer than \(Self.maxNumberLength) characters.")
        }
        guard let value = Double(String(decoding: utf8(of: token), as: UTF8.self)), value.isFinite else {
            throw corrupted("Number \(text(index)) is not representable in Double.")
        }
        return value
    }

    func decodeFloat(at index: Int) throws -> Float {
        let token = tape[index]
        guard token.kind == .number else { throw mismatch(Float.self, index) }
        guard token.end - token.start <= Self.maxNumberLength else {
            throw corrupted("Number \(text(index))… is longer than \(Self.maxNumberLength) characters.")
        }
        guard let value = Float(String(decoding: utf8(of: token), as: UTF8.self)), value.isFinite else {
            throw corrupted("Number \(text(index)) is not representable in Float.")
        }
        return value
    }

    private static let powersOf10: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// Clinger's fast path: a significand below 2^53 and a power of ten up to 22 are both
    /// exact doubles, so one multiplication or division rounds correctly. Nil otherwise.
    @inline(__always) static func exactDouble(_ text: UnsafeBufferPointer<UInt8>) -> Double? {
        var index = 0
        let count = text.count
        var negative = false
        if text[0] == UInt8(ascii: "-") {
            negative = true
            index = 1
        }
        var significand: UInt64 = 0
        var digits = 0
        var exponent = 0
        while index < count {
            let digit = text[index] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            if digits > 0 || digit != 0 {
                guard digits < 19 else { return nil }
                significand = significand &* 10 &+ UInt64(digit)
                digits += 1
            }
            index += 1
        }
        if index < count, text[index] == UInt8(ascii: ".") {
            index += 1
            while index < count {
                let digit = text[index] &- UInt8(ascii: "0")
                guard digit < 10 else { break }
                if digits > 0 || digit != 0 {
                    guard digits < 19 else { return nil }
                    significand = significand &* 10 &+ UInt64(digit)
                    digits += 1
                }
                exponent -= 1
                index += 1
            }
        }
        if index < count {  // an exponent
            index += 1
            var exponentNegative = false
            if text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
                exponentNegative = text[index] == UInt8(ascii: "-")
                index += 1
            }
            var value = 0
            while index < count {
                value = value * 10 + Int(text[index] &- UInt8(ascii: "0"))
                guard value < 100_000 else { return nil }
                index += 1
            }
            exponent += exponentNegative ? -value : value
        }
        let result: Double
        if significand == 0 {
            result = 0
        } else {
            guard significand <= 1 << 53, exponent >= -22, exponent <= 22 else { return nil }
            result = exponent >= 0 ? Double(significand) * powersOf10[exponent] : Double(significand) / powersOf10[-exponent]
        }
        return negative ? -result : result
    }

    /// An `Amount` read directly; nil when it must go through `Amount(from:)`: not a
    /// string, escapes, more than 19 digits, malformed, or no fast path on this platform.
    @inline(__always) func decodeAmount(at index: Int) -> Amount? {
        let token = tape[index]
        guard token.kind == .string, token.flags & BodyToken.escaped == 0 else { return nil }
        return BodyAmountCodec.parse(utf8(of: token))
    }

    func decodeDictionary<Value>(at index: Int, _ value: (Int) throws -> Value) throws -> [String: Value] {
        let token = tape[index]
        guard token.kind == .object else { throw mismatch([String: Value].self, index) }
        var result = [String: Value](minimumCapacity: Int(token.count))
        let small = token.count <= 16
        var seen: UInt64 = 0  // a one-word filter over the keys so far (length and two bytes)
        var escapedKeys = false  // the filter works on raw bytes: with escapes, always compare
        var member = index + 1
        let end = Int(token.end)
        while member < end {
            let name = try decodeString(at: member)
            // The first of repeated keys wins: small objects compare key bytes with the
            // earlier keys (only when the filter says they may match), large ones ask the
            // dictionary.
            var repeated = false
            if small {
                let key = tape[member]
                let length = Int(key.end &- key.start)
                let first = length > 0 ? bytes[Int(key.start)] : 0
                let last = length > 0 ? bytes[Int(key.end) - 1] : 0
                let bit: UInt64 = 1 &<< ((UInt64(length) &* 7 &+ UInt64(first) &* 3 &+ UInt64(last)) & 63)
                if key.flags & BodyToken.escaped != 0 { escapedKeys = true }
                if seen & bit != 0 || escapedKeys {
                    var earlier = index + 1
                    while earlier < member {
                        if sameKey(earlier, member) {
                            repeated = true
                            break
                        }
                        earlier = next(earlier + 1)
                    }
                }
                seen |= bit
            } else {
                repeated = result[name] != nil
            }
            if !repeated {
                do {
                    result[name] = try value(member + 1)
                } catch var problem as BodyValueProblem {
                    problem.member = name
                    throw problem
                }
            }
            member = next(member + 1)
        }
        return result
    }

    /// Whether two key tokens spell the same key.
    private func sameKey(_ a: Int, _ b: Int) -> Bool {
        let first = tape[a]
        let second = tape[b]
        if (first.flags | second.flags) & BodyToken.escaped == 0 {
            return first.end &- first.start == second.end &- second.start
                && memcmp(bytes + Int(first.start), bytes + Int(second.start), Int(first.end &- first.start)) == 0
        }
        return withKeyBytes(a) { keyEquals(b, $0) }
    }

    func decodeDecimal(at index: Int) throws -> Decimal {
        guard tape[index].kind == .number else { throw mismatch(Decimal.self, index) }
        let text = String(decoding: utf8(of: tape[index]), as: UTF8.self)
        guard let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else {
            throw corrupted("Number \(text.prefix(40)) is not representable in Decimal.")
        }
        return value
    }

    func decodeData(at index: Int) throws -> Data {
        let text = try decodeString(at: index)
        guard let data = Data(base64Encoded: text) else { throw corrupted("Encountered Data is not valid Base64.") }
        return data
    }

    func decodeURL(at index: Int) throws -> URL {
        let text = try decodeString(at: index)
        guard let url = URL(string: text) else { throw corrupted("Invalid URL string.") }
        return url
    }
}

// MARK: - Keyed

/// For objects with many members: an open-addressing table from key to member, seeded
/// per process (`Hasher`) so crafted keys cannot make lookups quadratic.
final class BodyKeyIndex {
    private var slots: [Int32]
    private let mask: Int

    init(decoder: BodyTapeDecoder, object: Int) {
        let members = Int(decoder.tape[object].count)
        var capacity = 64
        while capacity < members * 2 { capacity <<= 1 }
        slots = Array(repeating: -1, count: capacity)
        mask = capacity - 1
        var member = object + 1
        let end = Int(decoder.tape[object].end)
        while member < end {
            decoder.withKeyBytes(member) { name in
                var slot = Self.hash(name) & mask
                while slots[slot] >= 0 {
                    if decoder.keyEquals(Int(slots[slot]), name) { return }  // the first of repeated keys wins
                    slot = (slot + 1) & mask
                }
                slots[slot] = Int32(member)
            }
            member = decoder.next(member + 1)
        }
    }

    private static func hash(_ name: UnsafeBufferPointer<UInt8>) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(name))
        return hasher.finalize()
    }

    /// The key token of the member named `name`.
    func find(_ name: UnsafeBufferPointer<UInt8>, in decoder: BodyTapeDecoder) -> Int? {
        var slot = Self.hash(name) & mask
        while slots[slot] >= 0 {
            let member = Int(slots[slot])
            if decoder.keyEquals(member, name) { return member }
            slot = (slot + 1) & mask
        }
        return nil
    }
}

/// A leaf value that does not decode. The container that asked for it turns it into a
/// `DecodingError` with the full coding path, so that decoding never builds a key
/// (an existential) unless something is wrong.
struct BodyValueProblem: Error {
    enum Kind { case typeMismatch, valueNotFound, dataCorrupted }
    var kind: Kind
    var type: Any.Type
    var message: String
    /// A member inside the value (of a dictionary), appended to the path.
    var member: String?

    init(kind: Kind, type: Any.Type, message: String) {
        self.kind = kind
        self.type = type
        self.message = message
    }

    func decodingError(_ codingPath: [any CodingKey]) -> DecodingError {
        var path = codingPath
        if let member { path.append(BodyCodingKey(stringValue: member)) }
        let context = DecodingError.Context(codingPath: path, debugDescription: message)
        switch kind {
        case .typeMismatch: return .typeMismatch(type, context)
        case .valueNotFound: return .valueNotFound(type, context)
        case .dataCorrupted: return .dataCorrupted(context)
        }
    }
}

struct BodyKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: BodyTapeDecoder
    let object: Int
    /// Objects with more members than this are searched through a hash table.
    static var linearSearchLimit: Int { 16 }
    private let index: BodyKeyIndex?

    init(decoder: BodyTapeDecoder, object: Int) {
        self.decoder = decoder
        self.object = object
        index = decoder.tape[object].count > Self.linearSearchLimit ? BodyKeyIndex(decoder: decoder, object: object) : nil
    }

    var codingPath: [any CodingKey] { decoder.path }

    var allKeys: [Key] {
        var keys: [Key] = []
        var member = object + 1
        let end = Int(decoder.tape[object].end)
        while member < end {
            if let name = try? decoder.decodeString(at: member), let key = Key(stringValue: name) {
                keys.append(key)
            }
            member = decoder.next(member + 1)
        }
        return keys
    }

    /// The value token of the member named `name`; the first one if the key repeats.
    func find(_ name: String) -> Int? {
        var name = name
        return name.withUTF8 { utf8 -> Int? in
            if let index { return index.find(utf8, in: decoder).map { $0 + 1 } }
            var member = object + 1
            let end = Int(decoder.tape[object].end)
            while member < end {
                if decoder.keyEquals(member, utf8) { return member + 1 }
                member = decoder.next(member + 1)
            }
            return nil
        }
    }

    @inline(__always) private func require(_ key: Key) throws -> Int {
        guard let value = find(key.stringValue) else {
            throw DecodingError.keyNotFound(
                key, DecodingError.Context(codingPath: decoder.path, debugDescription: "No value associated with key \(key) (\"\(key.stringValue)\")."))
        }
        return value
    }

    /// The value token of `key` unless it is absent or null.
    @inline(__always) private func present(_ key: Key) -> Int? {
        guard let value = find(key.stringValue), decoder.tape[value].kind != .null else { return nil }
        return value
    }

    /// Runs a leaf decode, giving a failure the path of the member.
    @inline(__always) private func leaf<R>(_ key: Key, _ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let problem as BodyValueProblem {
            throw problem.decodingError(decoder.path + [key])
        }
    }

    func contains(_ key: Key) -> Bool { find(key.stringValue) != nil }

    func decodeNil(forKey key: Key) throws -> Bool { decoder.tape[try require(key)].kind == .null }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        let value = try require(key)
        return try leaf(key) { try decoder.decodeBool(at: value) }
    }

    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        let value = try require(key)
        return try leaf(key) { try decoder.decodeString(at: value) }
    }

    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        let value = try require(key)
        return try leaf(key) { try decoder.decodeDouble(at: value) }
    }

    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        let value = try require(key)
        return try leaf(key) { try decoder.decodeFloat(at: value) }
    }

    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(key) }

    @inline(__always) private func integer<I: FixedWidthInteger>(_ key: Key) throws -> I {
        let value = try require(key)
        return try leaf(key) { try decoder.decodeInteger(I.self, at: value) }
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let value = try require(key)
        return try leaf(key) { try decoder.decodeValue(T.self, at: value) { try decoder.decodeComposite(T.self, at: value, key: key) } }
    }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        guard let value = present(key) else { return nil }
        return try leaf(key) { try decoder.decodeBool(at: value) }
    }

    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        guard let value = present(key) else { return nil }
        return try leaf(key) { try decoder.decodeString(at: value) }
    }

    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        guard let value = present(key) else { return nil }
        return try leaf(key) { try decoder.decodeDouble(at: value) }
    }

    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? {
        guard let value = present(key) else { return nil }
        return try leaf(key) { try decoder.decodeFloat(at: value) }
    }

    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try integerIfPresent(key) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try integerIfPresent(key) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try integerIfPresent(key) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try integerIfPresent(key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try integerIfPresent(key) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try integerIfPresent(key) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try integerIfPresent(key) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try integerIfPresent(key) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try integerIfPresent(key) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try integerIfPresent(key) }

    @inline(__always) private func integerIfPresent<I: FixedWidthInteger>(_ key: Key) throws -> I? {
        guard let value = present(key) else { return nil }
        return try leaf(key) { try decoder.decodeInteger(I.self, at: value) }
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = present(key) else { return nil }
        return try leaf(key) { try decoder.decodeValue(T.self, at: value) { try decoder.decodeComposite(T.self, at: value, key: key) } }
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder.child(at: require(key), key: key).container(keyedBy: NestedKey.self)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder.child(at: require(key), key: key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let key = BodyCodingKey.superKey
        return decoder.child(at: find(key.stringValue) ?? decoder.document.nullToken, key: key)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        decoder.child(at: find(key.stringValue) ?? decoder.document.nullToken, key: key)
    }
}

// MARK: - Unkeyed

struct BodyUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let decoder: BodyTapeDecoder
    private var cursor: Int
    private let elementCount: Int
    private(set) var currentIndex = 0

    init(decoder: BodyTapeDecoder, array: Int) {
        self.decoder = decoder
        cursor = array + 1
        elementCount = Int(decoder.tape[array].count)
    }

    var codingPath: [any CodingKey] { decoder.path }
    var count: Int? { elementCount }
    var isAtEnd: Bool { currentIndex >= elementCount }

    private var key: BodyCodingKey { BodyCodingKey(index: currentIndex) }

    /// The token of the next element; throws at the end.
    private func element<T>(_ type: T.Type) throws -> Int {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                T.self, DecodingError.Context(codingPath: decoder.path + [key], debugDescription: "Unkeyed container is at end."))
        }
        return cursor
    }

    /// Decodes the next element with `body` and moves past it; a failure gets the element's path.
    @inline(__always) private mutating func next<R>(_ type: R.Type, _ body: (BodyTapeDecoder, Int) throws -> R) throws -> R {
        let index = try element(R.self)
        let decoder = self.decoder
        let value: R
        do {
            value = try body(decoder, index)
        } catch let problem as BodyValueProblem {
            throw problem.decodingError(decoder.path + [key])
        }
        cursor = decoder.next(cursor)
        currentIndex += 1
        return value
    }

    mutating func decodeNil() throws -> Bool {
        let index = try element(Any?.self)
        guard decoder.tape[index].kind == .null else { return false }
        cursor = decoder.next(cursor)
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(Bool.self) { try $0.decodeBool(at: $1) } }
    mutating func decode(_ type: String.Type) throws -> String { try next(String.self) { try $0.decodeString(at: $1) } }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(Double.self) { try $0.decodeDouble(at: $1) } }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(Float.self) { try $0.decodeFloat(at: $1) } }
    mutating func decode(_ type: Int.Type) throws -> Int { try integer() }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try integer() }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try integer() }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try integer() }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try integer() }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try integer() }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try integer() }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try integer() }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try integer() }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try integer() }

    @inline(__always) private mutating func integer<I: FixedWidthInteger>() throws -> I {
        try next(I.self) { try $0.decodeInteger(I.self, at: $1) }
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let key = self.key
        return try next(T.self) { decoder, index in
            try decoder.decodeValue(T.self, at: index) { try decoder.decodeComposite(T.self, at: index, key: key) }
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let container = try decoder.child(at: element(KeyedDecodingContainer<NestedKey>.self), key: key).container(keyedBy: NestedKey.self)
        cursor = decoder.next(cursor)
        currentIndex += 1
        return container
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let container = try decoder.child(at: element((any UnkeyedDecodingContainer).self), key: key).unkeyedContainer()
        cursor = decoder.next(cursor)
        currentIndex += 1
        return container
    }

    mutating func superDecoder() throws -> any Decoder {
        let superDecoder = decoder.child(at: try element((any Decoder).self), key: key)
        cursor = decoder.next(cursor)
        currentIndex += 1
        return superDecoder
    }
}

// MARK: - Single value

struct BodySingleValueDecodingContainer: SingleValueDecodingContainer {
    let decoder: BodyTapeDecoder
    let index: Int

    var codingPath: [any CodingKey] { decoder.path }

    /// Runs a leaf decode, giving a failure the path of this value.
    @inline(__always) private func leaf<R>(_ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let problem as BodyValueProblem {
            throw problem.decodingError(decoder.path)
        }
    }

    func decodeNil() -> Bool { decoder.tape[index].kind == .null }

    func decode(_ type: Bool.Type) throws -> Bool { try leaf { try decoder.decodeBool(at: index) } }
    func decode(_ type: String.Type) throws -> String { try leaf { try decoder.decodeString(at: index) } }
    func decode(_ type: Double.Type) throws -> Double { try leaf { try decoder.decodeDouble(at: index) } }
    func decode(_ type: Float.Type) throws -> Float { try leaf { try decoder.decodeFloat(at: index) } }
    func decode(_ type: Int.Type) throws -> Int { try leaf { try decoder.decodeInteger(Int.self, at: index) } }
    func decode(_ type: Int8.Type) throws -> Int8 { try leaf { try decoder.decodeInteger(Int8.self, at: index) } }
    func decode(_ type: Int16.Type) throws -> Int16 { try leaf { try decoder.decodeInteger(Int16.self, at: index) } }
    func decode(_ type: Int32.Type) throws -> Int32 { try leaf { try decoder.decodeInteger(Int32.self, at: index) } }
    func decode(_ type: Int64.Type) throws -> Int64 { try leaf { try decoder.decodeInteger(Int64.self, at: index) } }
    func decode(_ type: UInt.Type) throws -> UInt { try leaf { try decoder.decodeInteger(UInt.self, at: index) } }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try leaf { try decoder.decodeInteger(UInt8.self, at: index) } }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try leaf { try decoder.decodeInteger(UInt16.self, at: index) } }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try leaf { try decoder.decodeInteger(UInt32.self, at: index) } }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try leaf { try decoder.decodeInteger(UInt64.self, at: index) } }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try leaf { try decoder.decodeValue(T.self, at: index) { try decoder.decodeComposite(T.self, at: index) } }
    }
}
