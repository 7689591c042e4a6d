import Foundation

/// Encodes message bodies as compact JSON bytes, several times faster than Foundation's
/// `JSONEncoder` (DESIGN.md, "Performance budget").
///
/// A real `Encoder`: keyed, unkeyed and single-value containers, nested containers and
/// super encoders all work. Values are written straight into one byte buffer in the
/// order they are encoded; only nested containers and super encoders (which may be
/// filled in any order) are collected in a small tree and spliced in when the value
/// that created them is finished.
///
/// The output is what Foundation's `JSONEncoder` with `.withoutEscapingSlashes` writes,
/// with two deliberate differences: an object's keys appear in the order they were
/// encoded (declaration order for synthesized `Codable`; Foundation's order is
/// unspecified), and a dictionary's keys are sorted by their UTF-8 bytes, so the same
/// value always gives the same bytes.
///
/// - `Amount` is written by a fast path that gives exactly what `Amount.encode(to:)` writes
///   (and leaves a NaN to `Amount.encode(to:)`, which refuses it).
/// - Doubles and floats: the shortest text that round-trips (Swift's `description`)
///   without a trailing ".0" (`50.0` → `50`, `-0.0` → `-0`); non-finite values throw
///   `EncodingError.invalidValue`.
/// - `Decimal`, `Data` and `URL` are written the way `JSONEncoder`'s default strategies
///   write them (a number, a base64 string, the absolute string).
public struct BodyEncoder: Sendable {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = BodyStreamEncoder(codingPath: [])
        try encoder.encodeTopLevel(value)
        return encoder.takeBytes()
    }
}

// MARK: - Coding keys

/// A coding key for array indices, dictionary keys and `super`.
/// Three words, so it is stored inline in an `any CodingKey` without boxing.
struct BodyCodingKey: CodingKey {
    private let name: String
    private let int: Int
    private static let noInt = Int.min

    init(stringValue: String) {
        name = stringValue
        int = Self.noInt
    }

    init(intValue: Int) {
        name = String(intValue)
        int = intValue
    }

    /// An array position, shown as "Index n" like Foundation does.
    init(index: Int) {
        name = ""
        int = index
    }

    var stringValue: String {
        if int != Self.noInt, name.isEmpty { return "Index \(int)" }
        return name
    }

    var intValue: Int? { int == Self.noInt ? nil : int }

    static let superKey = BodyCodingKey(stringValue: "super")
}

// MARK: - The streaming encoder

/// The one `Encoder` of a streaming encode. Child values are encoded by the same object:
/// the state of the value in progress (`frame`) and the coding path are saved and restored
/// around each child, so that no encoder is allocated per value.
final class BodyStreamEncoder: Encoder {
    enum FrameKind: UInt8 { case none, keyed, unkeyed, single, singleDone, invalid }

    struct SortEntry {
        var key: String
        var start: Int
    }

    /// The value being encoded right now.
    struct Frame {
        var kind: FrameKind = .none
        /// Members or elements written so far.
        var count = 0
        /// Where this value's bytes begin.
        var start = 0
        /// Set for a dictionary's keyed container: where each entry starts, to sort them.
        var entries: [SortEntry]? = nil
    }

    /// Where to roll back to if encoding a member fails and the caller carries on.
    struct Mark {
        var offset: Int
        var count: Int
        var entries: Int
        var splices: Int
    }

    /// The mutable state, behind a pointer: stored properties of a class would cost a
    /// dynamic exclusivity check on every access.
    struct State {
        var base: UnsafeMutablePointer<UInt8>
        var length = 0
        var capacity: Int
        var frame = Frame()
        var path: [any CodingKey]
        var splices: [(offset: Int, node: BodyEncodingNode)] = []
        /// A misuse that cannot throw where it happens (asking for a keyed container after
        /// an unkeyed one); thrown at the end.
        var deferredError: (any Error)?
        var probedKeyType: ObjectIdentifier?
    }

    private let s: UnsafeMutablePointer<State>
    /// Set only while finding the key type that `Dictionary` uses.
    private let isProbe: Bool

    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var codingPath: [any CodingKey] { s.pointee.path }
    var path: [any CodingKey] { s.pointee.path }
    var frameCount: Int { s.pointee.frame.count }
    var deferredError: (any Error)? {
        get { s.pointee.deferredError }
        set { s.pointee.deferredError = newValue }
    }
    fileprivate var probedKeyType: ObjectIdentifier? { s.pointee.probedKeyType }

    init(codingPath: [any CodingKey], isProbe: Bool = false) {
        self.isProbe = isProbe
        s = .allocate(capacity: 1)
        let base = UnsafeMutablePointer<UInt8>.allocate(capacity: 256 + Self.slack)
        base.initialize(repeating: 0, count: 256 + Self.slack)
        s.initialize(to: State(base: base, capacity: 256, path: codingPath))
    }

    deinit {
        s.pointee.base.deallocate()
        s.deinitialize(count: 1)
        s.deallocate()
    }

    func setSingleValuePending() { s.pointee.frame.kind = .single }

    func takeBytes() -> [UInt8] {
        Array(UnsafeBufferPointer(start: s.pointee.base, count: s.pointee.length))
    }

    // MARK: Bytes

    @inline(__always) private func reserve(_ extra: Int) {
        if s.pointee.length &+ extra > s.pointee.capacity { grow(extra) }
    }

    /// Bytes allocated past `capacity`, all initialized, so that eight bytes can be read at
    /// any offset below `capacity`.
    static let slack = 8

    @inline(never) private func grow(_ extra: Int) {
        let newCapacity = max(s.pointee.capacity * 2, s.pointee.length + extra)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity + Self.slack)
        newBase.initialize(from: s.pointee.base, count: s.pointee.length)
        (newBase + s.pointee.length).initialize(repeating: 0, count: newCapacity + Self.slack - s.pointee.length)
        s.pointee.base.deallocate()
        s.pointee.base = newBase
        s.pointee.capacity = newCapacity
    }

    @inline(__always) func put(_ byte: UInt8) {
        reserve(1)
        s.pointee.base[s.pointee.length] = byte
        s.pointee.length &+= 1
    }

    @inline(__always) func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        (s.pointee.base + s.pointee.length).update(from: source, count: bytes.count)
        s.pointee.length &+= bytes.count
    }

    func put(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { put($0) }
    }

    /// ASCII text from the source code (literals such as "null").
    @inline(__always) func putASCII(_ text: StaticString) {
        put(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    func putString(_ value: String) {
        var value = value
        value.withUTF8 { putEscaped($0) }
    }

    /// A JSON string: quote, backslash and control characters escaped; everything else,
    /// including "/" and non-ASCII UTF-8, passed through.
    func putEscaped(_ text: UnsafeBufferPointer<UInt8>) {
        let count = text.count
        reserve(count &+ 2)
        let out = s.pointee.base + s.pointee.length
        out[0] = UInt8(ascii: "\"")
        guard let start = text.baseAddress, count > 0 else {
            out[1] = UInt8(ascii: "\"")
            s.pointee.length &+= 2
            return
        }
        // Copy the text as it is, then look for bytes to escape in the copy eight at a time
        // (the buffer's slack makes reading past the end safe; those bytes are masked off).
        (out + 1).update(from: start, count: count)
        var offset = 0
        while offset < count {
            var special = Self.escapedBytes(UnsafeRawPointer(out + 1 + offset).loadUnaligned(as: UInt64.self))
            let remaining = count &- offset
            if remaining < 8 { special &= (1 &<< (UInt64(remaining) &* 8)) &- 1 }
            if special != 0 {
                offset &+= special.trailingZeroBitCount &>> 3
                s.pointee.length &+= 1 &+ offset
                putEscapedTail(UnsafeBufferPointer(start: start + offset, count: count &- offset))
                return
            }
            offset &+= 8
        }
        out[1 + count] = UInt8(ascii: "\"")
        s.pointee.length &+= count &+ 2
    }

    /// The rest of a string from its first byte that needs escaping, and the closing quote.
    private func putEscapedTail(_ text: UnsafeBufferPointer<UInt8>) {
        var runStart = 0
        for index in 0..<text.count {
            let byte = text[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            put(UnsafeBufferPointer(rebasing: text[runStart..<index]))
            putEscape(byte)
            runStart = index + 1
        }
        put(UnsafeBufferPointer(rebasing: text[runStart...]))
        put(UInt8(ascii: "\""))
    }

    /// The high bit of each of eight bytes (little-endian) that must be escaped: a control
    /// character, a quote or a backslash. Only the lowest flagged byte is certain (a borrow
    /// can flag the bytes above it), which is all that is used.
    @inline(__always) static func escapedBytes(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        let control = (word &- 0x2020_2020_2020_2020) & ~word
        let quote = word ^ 0x2222_2222_2222_2222
        let backslash = word ^ 0x5C5C_5C5C_5C5C_5C5C
        return (control | ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)) & highBits
    }

    private func putEscape(_ byte: UInt8) {
        reserve(6)
        s.pointee.base[s.pointee.length] = UInt8(ascii: "\\")
        let short: UInt8
        switch byte {
        case UInt8(ascii: "\""): short = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): short = UInt8(ascii: "\\")
        case 0x08: short = UInt8(ascii: "b")
        case 0x0C: short = UInt8(ascii: "f")
        case 0x0A: short = UInt8(ascii: "n")
        case 0x0D: short = UInt8(ascii: "r")
        case 0x09: short = UInt8(ascii: "t")
        default:
            let hex: StaticString = "0123456789abcdef"
            s.pointee.base[s.pointee.length + 1] = UInt8(ascii: "u")
            s.pointee.base[s.pointee.length + 2] = UInt8(ascii: "0")
            s.pointee.base[s.pointee.length + 3] = UInt8(ascii: "0")
            s.pointee.base[s.pointee.length + 4] = hex.utf8Start[Int(byte >> 4)]
            s.pointee.base[s.pointee.length + 5] = hex.utf8Start[Int(byte & 0xF)]
            s.pointee.length &+= 6
            return
        }
        s.pointee.base[s.pointee.length + 1] = short
        s.pointee.length &+= 2
    }

    func putUnsigned(_ value: UInt64) {
        reserve(20)
        let digits = BodyAmountCodec.digitCount(value)
        BodyAmountCodec.writeDigits(value, count: digits, to: s.pointee.base + s.pointee.length)
        s.pointee.length &+= digits
    }

    func putSigned(_ value: Int64) {
        if value < 0 { put(UInt8(ascii: "-")) }
        putUnsigned(value.magnitude)
    }

    func putBool(_ value: Bool) {
        if value { putASCII("true") } else { putASCII("false") }
    }

    /// Writes the text of a finite double; non-finite values must have been rejected.
    func putDouble(_ value: Double) {
        if value.magnitude < 9_007_199_254_740_992, value == value.rounded(.towardZero) {
            // Integral below 2^53: `description` would print these digits and ".0".
            if value == 0 {
                if value.sign == .minus { putASCII("-0") } else { put(UInt8(ascii: "0")) }
            } else {
                putSigned(Int64(value))
            }
            return
        }
        putFloatText(value.description)
    }

    func putFloat(_ value: Float) {
        putFloatText(value.description)
    }

    /// `description` of a finite float, less a trailing ".0" (as Foundation writes it).
    private func putFloatText(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            var count = utf8.count
            if count > 2, utf8[count - 2] == UInt8(ascii: "."), utf8[count - 1] == UInt8(ascii: "0") {
                count -= 2
            }
            put(UnsafeBufferPointer(rebasing: utf8[0..<count]))
        }
    }

    /// Writes an amount as `Amount.encode(to:)` would; false, having written nothing, when
    /// it must go through `Amount.encode(to:)` after all (a NaN, or no fast path here).
    func putAmount(_ amount: Amount) -> Bool {
        reserve(BodyAmountCodec.maxTextLength + 2)
        guard let written = BodyAmountCodec.write(amount.wireValue.decimal, to: s.pointee.base + s.pointee.length + 1)
        else { return false }
        s.pointee.base[s.pointee.length] = UInt8(ascii: "\"")
        s.pointee.length &+= written &+ 1
        s.pointee.base[s.pointee.length] = UInt8(ascii: "\"")
        s.pointee.length &+= 1
        return true
    }

    // MARK: Structure

    func mark() -> Mark {
        Mark(offset: s.pointee.length, count: s.pointee.frame.count, entries: s.pointee.frame.entries?.count ?? 0, splices: s.pointee.splices.count)
    }

    /// Undoes a member or element whose value failed to encode, so that a caller that
    /// catches the error can go on and still get valid JSON.
    func rollBack(to mark: Mark) {
        s.pointee.length = mark.offset
        s.pointee.frame.count = mark.count
        if let count = s.pointee.frame.entries?.count, count > mark.entries {
            s.pointee.frame.entries!.removeLast(count - mark.entries)
        }
        if s.pointee.splices.count > mark.splices { s.pointee.splices.removeLast(s.pointee.splices.count - mark.splices) }
    }

    /// Starts a member of the current object: separator, key, colon.
    @inline(__always) func writeKey(_ key: String) {
        if s.pointee.frame.count > 0 { put(UInt8(ascii: ",")) }
        if s.pointee.frame.entries != nil { s.pointee.frame.entries!.append(SortEntry(key: key, start: s.pointee.length)) }
        s.pointee.frame.count &+= 1
        putString(key)
        put(UInt8(ascii: ":"))
    }

    /// Starts an element of the current array.
    @inline(__always) func writeSeparator() {
        if s.pointee.frame.count > 0 { put(UInt8(ascii: ",")) }
        s.pointee.frame.count &+= 1
    }

    func addSplice(_ node: BodyEncodingNode) {
        s.pointee.splices.append((s.pointee.length, node))
    }

    func invalidUse(_ message: String) {
        if deferredError == nil {
            deferredError = EncodingError.invalidValue(
                message, EncodingError.Context(codingPath: s.pointee.path, debugDescription: message))
        }
    }

    func checkSingleValueSlot() throws {
        switch s.pointee.frame.kind {
        case .single:
            s.pointee.frame.kind = .singleDone
        case .singleDone:
            throw EncodingError.invalidValue(
                "", EncodingError.Context(
                    codingPath: s.pointee.path,
                    debugDescription: "Attempt to encode value through single value container when previously value already encoded."))
        default:
            throw EncodingError.invalidValue(
                "", EncodingError.Context(
                    codingPath: s.pointee.path, debugDescription: "Attempt to encode a single value after a container was requested."))
        }
    }

    static func nonFinite<F: BinaryFloatingPoint>(_ value: F, _ codingPath: [any CodingKey]) -> EncodingError {
        EncodingError.invalidValue(
            value, EncodingError.Context(codingPath: codingPath, debugDescription: "Unable to encode \(F.self).\(value) directly in JSON."))
    }

    // MARK: Encoder

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        switch s.pointee.frame.kind {
        case .none:
            s.pointee.frame.kind = .keyed
            put(UInt8(ascii: "{"))
            if isProbe {
                s.pointee.probedKeyType = ObjectIdentifier(Key.self)
            } else if let dictionaryKey = BodyDictionaryKeyType.identifier, ObjectIdentifier(Key.self) == dictionaryKey {
                s.pointee.frame.entries = []
            }
        case .keyed:
            break
        default:
            invalidUse("Attempt to request a keyed container for a value that already has another kind of container.")
            return KeyedEncodingContainer(BodyNodeKeyedContainer<Key>(node: BodyEncodingNode(), codingPath: s.pointee.path, owner: self))
        }
        return KeyedEncodingContainer(BodyKeyedContainer<Key>(encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        switch s.pointee.frame.kind {
        case .none:
            s.pointee.frame.kind = .unkeyed
            put(UInt8(ascii: "["))
        case .unkeyed:
            break
        default:
            invalidUse("Attempt to request an unkeyed container for a value that already has another kind of container.")
            return BodyNodeUnkeyedContainer(node: BodyEncodingNode(), codingPath: s.pointee.path, owner: self)
        }
        return BodyUnkeyedContainer(encoder: self)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        switch s.pointee.frame.kind {
        case .none:
            s.pointee.frame.kind = .single
        case .single, .singleDone:
            break
        default:
            invalidUse("Attempt to request a single value container for a value that already has a container.")
            return BodyNodeSingleValueContainer(node: BodyEncodingNode(), codingPath: s.pointee.path, owner: self)
        }
        return BodySingleValueContainer(encoder: self)
    }

    // MARK: Values

    func encodeTopLevel<T: Encodable>(_ value: T) throws {
        try encodeValue(value, key: nil, topLevel: true)
        if let deferredError { throw deferredError }
    }

    /// Encodes one value at the current position. The caller has written the key or separator.
    @inline(__always) func encodeValue<T: Encodable>(_ value: T, key: (any CodingKey)?, topLevel: Bool = false) throws {
        // Types written directly: the common leaves, and the types JSONEncoder special-cases.
        if T.self == Amount.self {
            if !putAmount(unsafeBitCast(value, to: Amount.self)) { try encodeComposite(value, key: key, topLevel: topLevel) }
        } else if T.self == String.self {
            putString(unsafeBitCast(value, to: String.self))
        } else if T.self == Int.self {
            putSigned(Int64(unsafeBitCast(value, to: Int.self)))
        } else if T.self == Int64.self {
            putSigned(unsafeBitCast(value, to: Int64.self))
        } else if T.self == Double.self {
            let double = unsafeBitCast(value, to: Double.self)
            guard double.isFinite else { throw Self.nonFinite(double, key.map { s.pointee.path + [$0] } ?? s.pointee.path) }
            putDouble(double)
        } else if T.self == Bool.self {
            putBool(unsafeBitCast(value, to: Bool.self))
        } else if T.self == UInt64.self {
            putUnsigned(unsafeBitCast(value, to: UInt64.self))
        } else {
            // Generic and Foundation types: identities looked up once, not per call.
            let type = ObjectIdentifier(T.self)
            let known = BodyKnownTypes.shared
            if type == known.stringDoubleDictionary {
                try encodeSorted(unsafeBitCast(value, to: [String: Double].self), key: key)
            } else if type == known.stringStringDictionary {
                try encodeSorted(unsafeBitCast(value, to: [String: String].self), key: key)
            } else if type == known.decimal {
                let decimal = unsafeBitCast(value, to: Decimal.self)
                guard !decimal.isNaN else { throw Self.nonFiniteDecimal(key.map { s.pointee.path + [$0] } ?? s.pointee.path) }
                putASCIIString(decimal.description)
            } else if type == known.data {
                putString(unsafeBitCast(value, to: Data.self).base64EncodedString())
            } else if type == known.url {
                putString((value as! URL).absoluteString)
            } else {
                try encodeComposite(value, key: key, topLevel: topLevel)
            }
        }
    }

    static func nonFiniteDecimal(_ codingPath: [any CodingKey]) -> EncodingError {
        EncodingError.invalidValue(
            Decimal.nan, EncodingError.Context(codingPath: codingPath, debugDescription: "Unable to encode Decimal.nan directly in JSON."))
    }

    private func putASCIIString(_ text: String) {
        var text = text
        text.withUTF8 { put($0) }
    }

    /// A dictionary of the schema, written with its keys in order.
    private func encodeSorted<V: Encodable>(_ dictionary: [String: V], key: (any CodingKey)?) throws {
        let members = Array(dictionary)
        // Sort on the first eight bytes of each key, comparing whole keys only on a tie.
        var order = members.indices.map { (prefix: Self.sortPrefix(members[$0].key), index: $0) }
        order.sort { a, b in
            a.prefix != b.prefix ? a.prefix < b.prefix : Self.precedes(members[a.index].key, members[b.index].key)
        }
        let saved = s.pointee.frame
        s.pointee.frame = Frame(kind: .keyed, count: 0, start: s.pointee.length)
        if let key { s.pointee.path.append(key) }
        defer {
            if key != nil { s.pointee.path.removeLast() }
            s.pointee.frame = saved
        }
        put(UInt8(ascii: "{"))
        for (_, index) in order {
            let (name, value) = members[index]
            writeKey(name)
            try encodeValue(value, key: BodyCodingKey(stringValue: name))
        }
        put(UInt8(ascii: "}"))
    }

    /// The first eight UTF-8 bytes of a key, big-endian and zero-padded: comparing these
    /// orders keys as their bytes do, except on a tie.
    static func sortPrefix(_ key: String) -> UInt64 {
        var key = key
        return key.withUTF8 { utf8 in
            var prefix: UInt64 = 0
            for index in 0..<min(utf8.count, 8) { prefix |= UInt64(utf8[index]) &<< (56 &- 8 &* UInt64(index)) }
            return prefix
        }
    }

    /// The order of dictionary keys: by UTF-8 bytes (Unicode scalar order).
    static func precedes(_ a: String, _ b: String) -> Bool {
        var a = a
        var b = b
        return a.withUTF8 { a in
            b.withUTF8 { b in
                let common = min(a.count, b.count)
                if common > 0 {
                    let order = memcmp(a.baseAddress!, b.baseAddress!, common)
                    if order != 0 { return order < 0 }
                }
                return a.count < b.count
            }
        }
    }

    /// A value that encodes itself through containers.
    private func encodeComposite<T: Encodable>(_ value: T, key: (any CodingKey)?, topLevel: Bool) throws {
        let saved = s.pointee.frame
        let spliceMark = s.pointee.splices.count
        s.pointee.frame = Frame(kind: .none, count: 0, start: s.pointee.length)
        if let key { s.pointee.path.append(key) }
        defer {
            if key != nil { s.pointee.path.removeLast() }
            s.pointee.frame = saved
        }
        try value.encode(to: self)
        switch s.pointee.frame.kind {
        case .none, .single:
            if topLevel {
                throw EncodingError.invalidValue(
                    value, EncodingError.Context(codingPath: s.pointee.path, debugDescription: "Top-level \(T.self) did not encode any values."))
            }
            putASCII("{}")
        case .keyed:
            if s.pointee.frame.entries != nil, s.pointee.splices.count == spliceMark { sortEntries() }
            put(UInt8(ascii: "}"))
        case .unkeyed:
            put(UInt8(ascii: "]"))
        case .singleDone, .invalid:
            break
        }
        if s.pointee.splices.count > spliceMark { resolveSplices(from: spliceMark, start: s.pointee.frame.start) }
    }

    /// Puts the members of the dictionary being finished in key order.
    private func sortEntries() {
        guard let entries = s.pointee.frame.entries, entries.count > 1 else { return }
        let order = entries.indices.sorted { Self.precedes(entries[$0].key, entries[$1].key) }
        if order == Array(entries.indices) { return }
        let bodyStart = s.pointee.frame.start + 1  // after "{"
        let end = s.pointee.length
        let copy = Array(UnsafeBufferPointer(start: s.pointee.base + bodyStart, count: end - bodyStart))
        s.pointee.length = bodyStart
        copy.withUnsafeBufferPointer { copy in
            for (position, entryIndex) in order.enumerated() {
                let from = entries[entryIndex].start - bodyStart
                let to = entryIndex + 1 < entries.count ? entries[entryIndex + 1].start - 1 - bodyStart : end - bodyStart
                if position > 0 { put(UInt8(ascii: ",")) }
                put(UnsafeBufferPointer(rebasing: copy[from..<to]))
            }
        }
    }

    /// Writes the nested containers created since `mark` into their places.
    private func resolveSplices(from mark: Int, start: Int) {
        let pending = Array(s.pointee.splices[mark...])
        s.pointee.splices.removeLast(s.pointee.splices.count - mark)
        let tail = Array(UnsafeBufferPointer(start: s.pointee.base + start, count: s.pointee.length - start))
        s.pointee.length = start
        tail.withUnsafeBufferPointer { tail in
            var copied = 0
            for (offset, node) in pending {
                let relative = offset - start
                put(UnsafeBufferPointer(rebasing: tail[copied..<relative]))
                copied = relative
                node.write(to: self)
            }
            put(UnsafeBufferPointer(rebasing: tail[copied...]))
        }
    }

    /// The bytes of one value, encoded on its own (for values inside nested containers).
    static func fragment<T: Encodable>(_ value: T, codingPath: [any CodingKey], owner: BodyStreamEncoder) throws -> [UInt8] {
        let encoder = BodyStreamEncoder(codingPath: codingPath)
        try encoder.encodeValue(value, key: nil)
        if let error = encoder.deferredError, owner.deferredError == nil { owner.deferredError = error }
        return encoder.takeBytes()
    }
}

/// Identities of the types the codecs handle themselves, looked up once: comparing a
/// generic type's metadata otherwise costs a runtime cache lookup per value.
struct BodyTypeIdentities {
    let stringDoubleDictionary = ObjectIdentifier([String: Double].self)
    let stringStringDictionary = ObjectIdentifier([String: String].self)
    let decimal = ObjectIdentifier(Decimal.self)
    let data = ObjectIdentifier(Data.self)
    let url = ObjectIdentifier(URL.self)
}

enum BodyKnownTypes {
    static let shared = BodyTypeIdentities()
}

/// The `CodingKey` type the standard library's `Dictionary` encodes its keys with, found
/// once by encoding a dictionary; its keyed containers are written in sorted key order.
enum BodyDictionaryKeyType {
    static let identifier: ObjectIdentifier? = {
        let probe = BodyStreamEncoder(codingPath: [], isProbe: true)
        try? ["": 0].encode(to: probe)
        return probe.probedKeyType
    }()
}

// MARK: - Streaming containers

struct BodyKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: BodyStreamEncoder

    var codingPath: [any CodingKey] { encoder.path }

    mutating func encodeNil(forKey key: Key) throws {
        encoder.writeKey(key.stringValue)
        encoder.putASCII("null")
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        encoder.writeKey(key.stringValue)
        encoder.putBool(value)
    }

    mutating func encode(_ value: String, forKey key: Key) throws {
        encoder.writeKey(key.stringValue)
        encoder.putString(value)
    }

    mutating func encode(_ value: Double, forKey key: Key) throws {
        guard value.isFinite else { throw BodyStreamEncoder.nonFinite(value, codingPath + [key]) }
        encoder.writeKey(key.stringValue)
        encoder.putDouble(value)
    }

    mutating func encode(_ value: Float, forKey key: Key) throws {
        guard value.isFinite else { throw BodyStreamEncoder.nonFinite(value, codingPath + [key]) }
        encoder.writeKey(key.stringValue)
        encoder.putFloat(value)
    }

    mutating func encode(_ value: Int, forKey key: Key) throws { signed(Int64(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { signed(Int64(value), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { signed(Int64(value), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { signed(Int64(value), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { signed(value, key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { unsigned(UInt64(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { unsigned(UInt64(value), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { unsigned(UInt64(value), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { unsigned(UInt64(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { unsigned(value, key) }

    private func signed(_ value: Int64, _ key: Key) {
        encoder.writeKey(key.stringValue)
        encoder.putSigned(value)
    }

    private func unsigned(_ value: UInt64, _ key: Key) {
        encoder.writeKey(key.stringValue)
        encoder.putUnsigned(value)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        let mark = encoder.mark()
        encoder.writeKey(key.stringValue)
        do {
            try encoder.encodeValue(value, key: key)
        } catch {
            encoder.rollBack(to: mark)
            throw error
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let node = BodyEncodingNode(kind: .object)
        encoder.writeKey(key.stringValue)
        encoder.addSplice(node)
        return KeyedEncodingContainer(BodyNodeKeyedContainer<NestedKey>(node: node, codingPath: codingPath + [key], owner: encoder))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let node = BodyEncodingNode(kind: .array)
        encoder.writeKey(key.stringValue)
        encoder.addSplice(node)
        return BodyNodeUnkeyedContainer(node: node, codingPath: codingPath + [key], owner: encoder)
    }

    mutating func superEncoder() -> any Encoder {
        superEncoder(key: BodyCodingKey.superKey)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        superEncoder(key: key)
    }

    private func superEncoder(key: any CodingKey) -> any Encoder {
        let node = BodyEncodingNode(kind: .empty)
        encoder.writeKey(key.stringValue)
        encoder.addSplice(node)
        return BodyNodeEncoder(node: node, codingPath: codingPath + [key], owner: encoder)
    }
}

struct BodyUnkeyedContainer: UnkeyedEncodingContainer {
    let encoder: BodyStreamEncoder

    var codingPath: [any CodingKey] { encoder.path }
    var count: Int { encoder.frameCount }

    private var nextKey: BodyCodingKey { BodyCodingKey(index: encoder.frameCount) }

    mutating func encodeNil() throws {
        encoder.writeSeparator()
        encoder.putASCII("null")
    }

    mutating func encode(_ value: Bool) throws {
        encoder.writeSeparator()
        encoder.putBool(value)
    }

    mutating func encode(_ value: String) throws {
        encoder.writeSeparator()
        encoder.putString(value)
    }

    mutating func encode(_ value: Double) throws {
        guard value.isFinite else { throw BodyStreamEncoder.nonFinite(value, codingPath + [nextKey]) }
        encoder.writeSeparator()
        encoder.putDouble(value)
    }

    mutating func encode(_ value: Float) throws {
        guard value.isFinite else { throw BodyStreamEncoder.nonFinite(value, codingPath + [nextKey]) }
        encoder.writeSeparator()
        encoder.putFloat(value)
    }

    mutating func encode(_ value: Int) throws { signed(Int64(value)) }
    mutating func encode(_ value: Int8) throws { signed(Int64(value)) }
    mutating func encode(_ value: Int16) throws { signed(Int64(value)) }
    mutating func encode(_ value: Int32) throws { signed(Int64(value)) }
    mutating func encode(_ value: Int64) throws { signed(value) }
    mutating func encode(_ value: UInt) throws { unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt16) throws { unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { unsigned(value) }

    private func signed(_ value: Int64) {
        encoder.writeSeparator()
        encoder.putSigned(value)
    }

    private func unsigned(_ value: UInt64) {
        encoder.writeSeparator()
        encoder.putUnsigned(value)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let mark = encoder.mark()
        let key = nextKey
        encoder.writeSeparator()
        do {
            try encoder.encodeValue(value, key: key)
        } catch {
            encoder.rollBack(to: mark)
            throw error
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let key = nextKey
        let node = BodyEncodingNode(kind: .object)
        encoder.writeSeparator()
        encoder.addSplice(node)
        return KeyedEncodingContainer(BodyNodeKeyedContainer<NestedKey>(node: node, codingPath: codingPath + [key], owner: encoder))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let key = nextKey
        let node = BodyEncodingNode(kind: .array)
        encoder.writeSeparator()
        encoder.addSplice(node)
        return BodyNodeUnkeyedContainer(node: node, codingPath: codingPath + [key], owner: encoder)
    }

    mutating func superEncoder() -> any Encoder {
        let key = nextKey
        let node = BodyEncodingNode(kind: .empty)
        encoder.writeSeparator()
        encoder.addSplice(node)
        return BodyNodeEncoder(node: node, codingPath: codingPath + [key], owner: encoder)
    }
}

struct BodySingleValueContainer: SingleValueEncodingContainer {
    let encoder: BodyStreamEncoder

    var codingPath: [any CodingKey] { encoder.path }

    mutating func encodeNil() throws {
        try encoder.checkSingleValueSlot()
        encoder.putASCII("null")
    }

    mutating func encode(_ value: Bool) throws {
        try encoder.checkSingleValueSlot()
        encoder.putBool(value)
    }

    mutating func encode(_ value: String) throws {
        try encoder.checkSingleValueSlot()
        encoder.putString(value)
    }

    mutating func encode(_ value: Double) throws {
        guard value.isFinite else { throw BodyStreamEncoder.nonFinite(value, codingPath) }
        try encoder.checkSingleValueSlot()
        encoder.putDouble(value)
    }

    mutating func encode(_ value: Float) throws {
        guard value.isFinite else { throw BodyStreamEncoder.nonFinite(value, codingPath) }
        try encoder.checkSingleValueSlot()
        encoder.putFloat(value)
    }

    mutating func encode(_ value: Int) throws { try signed(Int64(value)) }
    mutating func encode(_ value: Int8) throws { try signed(Int64(value)) }
    mutating func encode(_ value: Int16) throws { try signed(Int64(value)) }
    mutating func encode(_ value: Int32) throws { try signed(Int64(value)) }
    mutating func encode(_ value: Int64) throws { try signed(value) }
    mutating func encode(_ value: UInt) throws { try unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { try unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt16) throws { try unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { try unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { try unsigned(value) }

    private func signed(_ value: Int64) throws {
        try encoder.checkSingleValueSlot()
        encoder.putSigned(value)
    }

    private func unsigned(_ value: UInt64) throws {
        try encoder.checkSingleValueSlot()
        encoder.putUnsigned(value)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try encoder.checkSingleValueSlot()
        let mark = encoder.mark()
        do {
            try encoder.encodeValue(value, key: nil)
        } catch {
            encoder.rollBack(to: mark)
            encoder.setSingleValuePending()
            throw error
        }
    }
}

// MARK: - Nested containers and super encoders

/// A nested container or super encoder's value, collected as a small tree because it
/// may be filled in any order; written out when the value that made it is finished.
final class BodyEncodingNode {
    enum Kind { case empty, object, array, raw }
    var kind: Kind
    var raw: [UInt8] = []
    var keys: [String] = []
    var children: [BodyEncodingNode] = []

    init(kind: Kind = .empty) { self.kind = kind }

    static func raw(_ bytes: [UInt8]) -> BodyEncodingNode {
        let node = BodyEncodingNode(kind: .raw)
        node.raw = bytes
        return node
    }

    /// A member of an object; a repeated key replaces the earlier value, as in Foundation.
    func set(_ key: String, _ child: BodyEncodingNode) {
        if let index = keys.firstIndex(of: key) {
            children[index] = child
        } else {
            keys.append(key)
            children.append(child)
        }
    }

    func write(to encoder: BodyStreamEncoder) {
        switch kind {
        case .empty:
            encoder.putASCII("{}")
        case .raw:
            encoder.put(raw)
        case .object:
            encoder.put(UInt8(ascii: "{"))
            for index in keys.indices {
                if index > 0 { encoder.put(UInt8(ascii: ",")) }
                encoder.putString(keys[index])
                encoder.put(UInt8(ascii: ":"))
                children[index].write(to: encoder)
            }
            encoder.put(UInt8(ascii: "}"))
        case .array:
            encoder.put(UInt8(ascii: "["))
            for index in children.indices {
                if index > 0 { encoder.put(UInt8(ascii: ",")) }
                children[index].write(to: encoder)
            }
            encoder.put(UInt8(ascii: "]"))
        }
    }
}

final class BodyNodeEncoder: Encoder {
    let node: BodyEncodingNode
    let codingPath: [any CodingKey]
    let owner: BodyStreamEncoder
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(node: BodyEncodingNode, codingPath: [any CodingKey], owner: BodyStreamEncoder) {
        self.node = node
        self.codingPath = codingPath
        self.owner = owner
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        switch node.kind {
        case .empty: node.kind = .object
        case .object: break
        default: owner.invalidUse("Attempt to request a keyed container for a value that already has another kind of container.")
        }
        let target = node.kind == .object ? node : BodyEncodingNode()
        return KeyedEncodingContainer(BodyNodeKeyedContainer<Key>(node: target, codingPath: codingPath, owner: owner))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        switch node.kind {
        case .empty: node.kind = .array
        case .array: break
        default: owner.invalidUse("Attempt to request an unkeyed container for a value that already has another kind of container.")
        }
        let target = node.kind == .array ? node : BodyEncodingNode()
        return BodyNodeUnkeyedContainer(node: target, codingPath: codingPath, owner: owner)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        BodyNodeSingleValueContainer(node: node, codingPath: codingPath, owner: owner)
    }
}

struct BodyNodeKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: BodyEncodingNode
    let codingPath: [any CodingKey]
    let owner: BodyStreamEncoder

    mutating func encodeNil(forKey key: Key) throws { node.set(key.stringValue, .raw(Array("null".utf8))) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        let bytes = try BodyStreamEncoder.fragment(value, codingPath: codingPath + [key], owner: owner)
        node.set(key.stringValue, .raw(bytes))
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws { try encodePrimitive(value, key) }
    mutating func encode(_ value: String, forKey key: Key) throws { try encodePrimitive(value, key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try encodePrimitive(value, key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try encodePrimitive(value, key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try encodePrimitive(value, key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try encodePrimitive(value, key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try encodePrimitive(value, key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try encodePrimitive(value, key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try encodePrimitive(value, key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try encodePrimitive(value, key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try encodePrimitive(value, key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try encodePrimitive(value, key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try encodePrimitive(value, key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try encodePrimitive(value, key) }

    /// Primitives go through the generic path (an optional that is never nil encodes its value).
    private func encodePrimitive<T: Encodable>(_ value: T, _ key: Key) throws {
        let bytes = try BodyStreamEncoder.fragment(value, codingPath: codingPath + [key], owner: owner)
        node.set(key.stringValue, .raw(bytes))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let child = BodyEncodingNode(kind: .object)
        node.set(key.stringValue, child)
        return KeyedEncodingContainer(BodyNodeKeyedContainer<NestedKey>(node: child, codingPath: codingPath + [key], owner: owner))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = BodyEncodingNode(kind: .array)
        node.set(key.stringValue, child)
        return BodyNodeUnkeyedContainer(node: child, codingPath: codingPath + [key], owner: owner)
    }

    mutating func superEncoder() -> any Encoder {
        let child = BodyEncodingNode()
        node.set(BodyCodingKey.superKey.stringValue, child)
        return BodyNodeEncoder(node: child, codingPath: codingPath + [BodyCodingKey.superKey], owner: owner)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let child = BodyEncodingNode()
        node.set(key.stringValue, child)
        return BodyNodeEncoder(node: child, codingPath: codingPath + [key], owner: owner)
    }
}

struct BodyNodeUnkeyedContainer: UnkeyedEncodingContainer {
    let node: BodyEncodingNode
    let codingPath: [any CodingKey]
    let owner: BodyStreamEncoder

    var count: Int { node.children.count }
    private var nextKey: BodyCodingKey { BodyCodingKey(index: node.children.count) }

    mutating func encodeNil() throws { node.children.append(.raw(Array("null".utf8))) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        node.children.append(.raw(try BodyStreamEncoder.fragment(value, codingPath: codingPath + [nextKey], owner: owner)))
    }

    mutating func encode(_ value: Bool) throws { try encodePrimitive(value) }
    mutating func encode(_ value: String) throws { try encodePrimitive(value) }
    mutating func encode(_ value: Double) throws { try encodePrimitive(value) }
    mutating func encode(_ value: Float) throws { try encodePrimitive(value) }
    mutating func encode(_ value: Int) throws { try encodePrimitive(value) }
    mutating func encode(_ value: Int8) throws { try encodePrimitive(value) }
    mutating func encode(_ value: Int16) throws { try encodePrimitive(value) }
    mutating func encode(_ value: Int32) throws { try encodePrimitive(value) }
    mutating func encode(_ value: Int64) throws { try encodePrimitive(value) }
    mutating func encode(_ value: UInt) throws { try encodePrimitive(value) }
    mutating func encode(_ value: UInt8) throws { try encodePrimitive(value) }
    mutating func encode(_ value: UInt16) throws { try encodePrimitive(value) }
    mutating func encode(_ value: UInt32) throws { try encodePrimitive(value) }
    mutating func encode(_ value: UInt64) throws { try encodePrimitive(value) }

    private mutating func encodePrimitive<T: Encodable>(_ value: T) throws {
        node.children.append(.raw(try BodyStreamEncoder.fragment(value, codingPath: codingPath + [nextKey], owner: owner)))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let key = nextKey
        let child = BodyEncodingNode(kind: .object)
        node.children.append(child)
        return KeyedEncodingContainer(BodyNodeKeyedContainer<NestedKey>(node: child, codingPath: codingPath + [key], owner: owner))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let key = nextKey
        let child = BodyEncodingNode(kind: .array)
        node.children.append(child)
        return BodyNodeUnkeyedContainer(node: child, codingPath: codingPath + [key], owner: owner)
    }

    mutating func superEncoder() -> any Encoder {
        let key = nextKey
        let child = BodyEncodingNode()
        node.children.append(child)
        return BodyNodeEncoder(node: child, codingPath: codingPath + [key], owner: owner)
    }
}

struct BodyNodeSingleValueContainer: SingleValueEncodingContainer {
    let node: BodyEncodingNode
    let codingPath: [any CodingKey]
    let owner: BodyStreamEncoder

    private func set(_ bytes: [UInt8]) throws {
        guard node.kind == .empty else {
            throw EncodingError.invalidValue(
                "", EncodingError.Context(
                    codingPath: codingPath,
                    debugDescription: "Attempt to encode value through single value container when previously value already encoded."))
        }
        node.kind = .raw
        node.raw = bytes
    }

    mutating func encodeNil() throws { try set(Array("null".utf8)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let bytes = try BodyStreamEncoder.fragment(value, codingPath: codingPath, owner: owner)
        try set(bytes)
    }

    mutating func encode(_ value: Bool) throws { try encodePrimitive(value) }
    mutating func encode(_ value: String) throws { try encodePrimitive(value) }
    mutating func encode(_ value: Double) throws { try encodePrimitive(value) }
    mutating func encode(_ value: Float) throws { try encodePrimitive(value) }
    mutating func encode(_ value: Int) throws { try encodePrimitive(value) }
    mutating func encode(_ value: Int8) throws { try encodePrimitive(value) }
    mutating func encode(_ value: Int16) throws { try encodePrimitive(value) }
    mutating func encode(_ value: Int32) throws { try encodePrimitive(value) }
    mutating func encode(_ value: Int64) throws { try encodePrimitive(value) }
    mutating func encode(_ value: UInt) throws { try encodePrimitive(value) }
    mutating func encode(_ value: UInt8) throws { try encodePrimitive(value) }
    mutating func encode(_ value: UInt16) throws { try encodePrimitive(value) }
    mutating func encode(_ value: UInt32) throws { try encodePrimitive(value) }
    mutating func encode(_ value: UInt64) throws { try encodePrimitive(value) }

    private mutating func encodePrimitive<T: Encodable>(_ value: T) throws {
        try encode(value)
    }
}

// MARK: - Amount

/// Reads and writes `Amount`'s `Decimal` directly, instead of through `Decimal.description`
/// and `Decimal(string:locale:)`, which cost about 2 µs each.
///
/// Only the common case is handled here: writing a finite amount, and reading a plain
/// decimal of at most 19 digits (`-?digits(.digits)?`). Everything else — a NaN, longer or
/// malformed text — goes through `Amount`'s own `Codable`, which decides and reports.
///
/// Relies on the memory layout of swift-foundation's `Decimal` (exponent byte; a byte of
/// length, sign and compact flags; 16 bits reserved; eight 16-bit mantissa words). The
/// layout and the text are checked once against `Decimal` itself; if the check fails the
/// codecs always use `Amount`'s own `Codable`.
enum BodyAmountCodec {
    /// Sign, 39 digits, a point and the zeros of an exponent of -128...127, with room to spare.
    static let maxTextLength = 1 + 39 + 1 + 130

    static let isSupported: Bool = {
        guard MemoryLayout<Decimal>.size == 20 else { return false }
        let samples = [
            "0", "0.000", "-0", "-0.00", "1", "-1", "-12.345", "105100", "1.50", "00012.5000", "0.5", "-0.0001",
            "18446744073709551615", "18446744073709551616", "123456789.123456789",
            "99999999999999999999999999999999999999", "-0.0000000000000000000000000000000000001",
        ]
        for sample in samples {
            guard let reference = Amount(Substring(sample)) else { return false }
            // Writing the text.
            var buffer = [UInt8](repeating: 0, count: maxTextLength)
            let written = buffer.withUnsafeMutableBufferPointer { write(reference.decimal, to: $0.baseAddress!, checked: false) }
            guard let written, String(decoding: buffer[..<written], as: UTF8.self) == reference.description else { return false }
            // Reading the text: the same Decimal, bit for bit, or left to Amount.
            let parsed = Array(sample.utf8).withUnsafeBufferPointer { parse($0, checked: false) }
            if let parsed {
                guard bytes(of: parsed.decimal) == bytes(of: reference.decimal) else { return false }
            } else {
                guard sample.utf8.count > 19 else { return false }
            }
        }
        // Values made by arithmetic (not compact, long mantissas).
        let third = Amount(1) / Amount(3)
        let product = Amount(Substring("1.5"))! * Amount(Substring("2.00"))!
        for value in [third, -third, product, Amount(Decimal(string: "1e20")!), Amount(Decimal.greatestFiniteMagnitude)] {
            var buffer = [UInt8](repeating: 0, count: maxTextLength)
            let written = buffer.withUnsafeMutableBufferPointer { write(value.decimal, to: $0.baseAddress!, checked: false) }
            guard let written, String(decoding: buffer[..<written], as: UTF8.self) == value.description else { return false }
        }
        return true
    }()

    private static func bytes(of decimal: Decimal) -> [UInt8] {
        withUnsafeBytes(of: decimal) { Array($0) }
    }

    /// Writes `Amount.description` of `decimal` (at most `maxTextLength` bytes); nil when
    /// the fast path is not available.
    static func write(_ decimal: Decimal, to out: UnsafeMutablePointer<UInt8>) -> Int? {
        write(decimal, to: out, checked: true)
    }

    private static func write(_ decimal: Decimal, to out: UnsafeMutablePointer<UInt8>, checked: Bool) -> Int? {
        if checked, !isSupported { return nil }
        var decimal = decimal
        return withUnsafeBytes(of: &decimal) { raw -> Int? in
            let exponent = Int(Int8(bitPattern: raw[0]))
            let flags = raw[1]
            let length = Int(flags >> 4)
            let negative = flags & 0x08 != 0
            if length == 0 {
                if negative { return nil }  // NaN: let Decimal describe it
                out[0] = UInt8(ascii: "0")
                return 1
            }
            guard length <= 8 else { return nil }
            var low: UInt64 = 0
            var high: UInt64 = 0
            for index in 0..<length {
                let word = UInt64(raw[4 + 2 * index]) | UInt64(raw[5 + 2 * index]) << 8
                if index < 4 { low |= word << (16 * index) } else { high |= word << (16 * (index - 4)) }
            }
            var position = 0
            if negative {
                out[0] = UInt8(ascii: "-")
                position = 1
            }
            if high == 0 {
                if low == 0 { return nil }
                let digits = digitCount(low)
                return position + layOut(digits: digits, exponent: exponent, at: out + position) { writeDigits(low, count: digits, to: $0) }
            }
            // More than 64 bits: rare enough to spend an array on.
            var mantissa = UInt128(high) << 64 | UInt128(low)
            var reversed: [UInt8] = []
            while mantissa != 0 {
                let (quotient, remainder) = mantissa.quotientAndRemainder(dividingBy: 10)
                reversed.append(UInt8(remainder) &+ UInt8(ascii: "0"))
                mantissa = quotient
            }
            let digits = reversed.count
            return position + layOut(digits: digits, exponent: exponent, at: out + position) { target in
                for index in 0..<digits { target[index] = reversed[digits - 1 - index] }
            }
        }
    }

    /// Writes the digits of a mantissa with the point placed as `Decimal.description` places
    /// it; returns the number of bytes.
    @inline(__always) private static func layOut(
        digits: Int, exponent: Int, at out: UnsafeMutablePointer<UInt8>, _ writeDigits: (UnsafeMutablePointer<UInt8>) -> Void
    ) -> Int {
        if exponent >= 0 {
            writeDigits(out)
            (out + digits).initialize(repeating: UInt8(ascii: "0"), count: exponent)
            return digits + exponent
        }
        let fractionDigits = -exponent
        if fractionDigits < digits {
            let integerDigits = digits - fractionDigits
            writeDigits(out)
            (out + integerDigits + 1).update(from: out + integerDigits, count: fractionDigits)
            out[integerDigits] = UInt8(ascii: ".")
            return digits + 1
        }
        out[0] = UInt8(ascii: "0")
        out[1] = UInt8(ascii: ".")
        let zeros = fractionDigits - digits
        (out + 2).initialize(repeating: UInt8(ascii: "0"), count: zeros)
        writeDigits(out + 2 + zeros)
        return 2 + fractionDigits
    }

    @inline(__always) static func digitCount(_ value: UInt64) -> Int {
        var digits = 1
        var threshold: UInt64 = 10
        while digits < 20, value >= threshold {
            digits &+= 1
            if digits < 20 { threshold &*= 10 }
        }
        return digits
    }

    /// Writes the `count` decimal digits of `value`, two at a time from the end.
    @inline(__always) static func writeDigits(_ value: UInt64, count: Int, to out: UnsafeMutablePointer<UInt8>) {
        var position = count
        var rest = value
        while rest >= 100 {
            let (quotient, remainder) = rest.quotientAndRemainder(dividingBy: 100)
            let pair = UInt8(truncatingIfNeeded: remainder)
            position &-= 2
            out[position] = pair / 10 &+ UInt8(ascii: "0")
            out[position &+ 1] = pair % 10 &+ UInt8(ascii: "0")
            rest = quotient
        }
        if rest >= 10 {
            let pair = UInt8(truncatingIfNeeded: rest)
            out[position &- 2] = pair / 10 &+ UInt8(ascii: "0")
            out[position &- 1] = pair % 10 &+ UInt8(ascii: "0")
        } else {
            out[position &- 1] = UInt8(truncatingIfNeeded: rest) &+ UInt8(ascii: "0")
        }
    }

    /// Parses the text of an `Amount` from UTF-8, giving exactly what `Amount(text)`
    /// (`Decimal(string:locale:)`) gives; nil when the text is not the plain form with at
    /// most 19 digits, or there is no fast path here: then `Amount` must judge it.
    static func parse(_ text: UnsafeBufferPointer<UInt8>) -> Amount? {
        parse(text, checked: true)
    }

    private static func parse(_ text: UnsafeBufferPointer<UInt8>, checked: Bool) -> Amount? {
        let count = text.count
        guard count > 0, count <= 21, let start = text.baseAddress else { return nil }
        let negative = start[0] == UInt8(ascii: "-")
        var index = negative ? 1 : 0
        var mantissa: UInt64 = 0
        var digits = 0
        var point = -1  // digits before the point, once seen
        while index < count {
            let byte = start[index]
            let digit = byte &- UInt8(ascii: "0")
            if digit < 10 {
                mantissa = mantissa &* 10 &+ UInt64(digit)
                digits &+= 1
            } else if byte == UInt8(ascii: "."), point < 0 {
                point = digits
            } else {
                return nil
            }
            index &+= 1
        }
        let digitsBefore = point < 0 ? digits : point
        let digitsAfter = digits - digitsBefore
        // Nineteen digits always fit in 64 bits.
        guard digitsBefore > 0, point < 0 || digitsAfter > 0, digits <= 19 else { return nil }
        if checked, !isSupported { return nil }
        var decimal = Decimal()
        if mantissa == 0 {
            // Decimal(string:) keeps the exponent of a positive zero; a negative zero is 0.
            if !negative {
                withUnsafeMutableBytes(of: &decimal) { $0[0] = UInt8(bitPattern: Int8(-digitsAfter)) }
            }
            return Amount(decimal)
        }
        var exponent = -digitsAfter
        while mantissa % 10 == 0 {
            mantissa /= 10
            exponent += 1
        }
        var length = 0
        var rest = mantissa
        while rest != 0 {
            length += 1
            rest >>= 16
        }
        withUnsafeMutableBytes(of: &decimal) { raw in
            raw[0] = UInt8(bitPattern: Int8(exponent))
            raw[1] = UInt8(length << 4) | (negative ? 0x08 : 0) | 0x04
            for word in 0..<length {
                let value = UInt16(truncatingIfNeeded: mantissa >> (16 * word))
                raw[4 + 2 * word] = UInt8(truncatingIfNeeded: value)
                raw[5 + 2 * word] = UInt8(truncatingIfNeeded: value >> 8)
            }
        }
        return Amount(decimal)
    }
}
