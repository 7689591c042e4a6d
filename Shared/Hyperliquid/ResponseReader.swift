import Schema

/// Reads a parsed JSON response field by field; every deviation from the documented shape is a
/// `HyperliquidClientError.malformedResponse` naming the path, never a crash.
struct ResponseReader {
    let value: WireValue
    let path: String

    init(_ value: WireValue, path: String = "$") {
        self.value = value
        self.path = path
    }

    /// Parses a whole body.
    init(json bytes: some Collection<UInt8>, what: String) throws(HyperliquidClientError) {
        do {
            value = try WireValue(json: bytes)
        } catch {
            throw .malformedResponse("\(what): \(error); body: \(Self.excerpt(bytes))")
        }
        path = what
    }

    static func excerpt(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes.prefix(200), as: UTF8.self)
    }

    func fail(_ message: String) -> HyperliquidClientError { .malformedResponse("\(path): \(message)") }

    var isNull: Bool { value.isNull }

    /// The member `key`; missing or null throws.
    func field(_ key: String) throws(HyperliquidClientError) -> ResponseReader {
        guard case .map = value else { throw fail("expected an object") }
        guard let member = value[key], !member.isNull else { throw fail("missing \(key)") }
        return ResponseReader(member, path: "\(path).\(key)")
    }

    /// The member `key`, nil when missing or null.
    func optionalField(_ key: String) throws(HyperliquidClientError) -> ResponseReader? {
        guard case .map = value else { throw fail("expected an object") }
        guard let member = value[key], !member.isNull else { return nil }
        return ResponseReader(member, path: "\(path).\(key)")
    }

    func array() throws(HyperliquidClientError) -> [ResponseReader] {
        guard let items = value.arrayValue else { throw fail("expected an array") }
        return items.enumerated().map { ResponseReader($0.element, path: "\(path)[\($0.offset)]") }
    }

    /// Object members in their order.
    func members() throws(HyperliquidClientError) -> [(key: String, value: ResponseReader)] {
        guard case .map(let entries) = value else { throw fail("expected an object") }
        return entries.map { (key: $0.key, value: ResponseReader($0.value, path: "\(path).\($0.key)")) }
    }

    func string() throws(HyperliquidClientError) -> String {
        guard let text = value.stringValue else { throw fail("expected a string") }
        return text
    }

    func bool() throws(HyperliquidClientError) -> Bool {
        guard let flag = value.boolValue else { throw fail("expected a boolean") }
        return flag
    }

    func uint64() throws(HyperliquidClientError) -> UInt64 {
        guard let number = value.uint64Value else { throw fail("expected a non-negative integer") }
        return number
    }

    func int() throws(HyperliquidClientError) -> Int {
        guard let number = value.int64Value, let int = Int(exactly: number) else { throw fail("expected an integer") }
        return int
    }

    /// An exact decimal from a JSON string ("105055.5"); a JSON number is refused (precision).
    func amount() throws(HyperliquidClientError) -> Amount {
        guard let text = value.stringValue else { throw fail("expected a decimal string") }
        guard let amount = Amount(text) else { throw fail("not a plain decimal: \"\(text.prefix(40))\"") }
        return amount
    }

    func cloid() throws(HyperliquidClientError) -> Cloid {
        let text = try string()
        do { return try Cloid(hex: text) } catch { throw fail("invalid cloid \(text.prefix(40))") }
    }

    func address() throws(HyperliquidClientError) -> Address {
        let text = try string()
        do { return try Address(hex: text) } catch { throw fail("invalid address \(text.prefix(50))") }
    }

    /// "B" (bid, buy) or "A" (ask, sell).
    func side() throws(HyperliquidClientError) -> Side {
        switch try string() {
        case "B": return .buy
        case "A": return .sell
        case let other: throw fail("side \"\(other.prefix(10))\" is not B or A")
        }
    }

    // MARK: Members

    func string(_ key: String) throws(HyperliquidClientError) -> String { try field(key).string() }
    func bool(_ key: String) throws(HyperliquidClientError) -> Bool { try field(key).bool() }
    func uint64(_ key: String) throws(HyperliquidClientError) -> UInt64 { try field(key).uint64() }
    func int(_ key: String) throws(HyperliquidClientError) -> Int { try field(key).int() }
    func amount(_ key: String) throws(HyperliquidClientError) -> Amount { try field(key).amount() }
    func side(_ key: String) throws(HyperliquidClientError) -> Side { try field(key).side() }

    func optionalString(_ key: String) throws(HyperliquidClientError) -> String? { try optionalField(key)?.string() }
    func optionalBool(_ key: String) throws(HyperliquidClientError) -> Bool? { try optionalField(key)?.bool() }
    func optionalInt(_ key: String) throws(HyperliquidClientError) -> Int? { try optionalField(key)?.int() }
    func optionalAmount(_ key: String) throws(HyperliquidClientError) -> Amount? { try optionalField(key)?.amount() }
    func optionalCloid(_ key: String) throws(HyperliquidClientError) -> Cloid? { try optionalField(key)?.cloid() }
}
