import Schema

/// Why the ledger refused an input. A refused input leaves the ledger exactly as it was:
/// every check runs before the first change.
public enum LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingFillId(clientOrderId: String)
    case missingSymbol(fillId: String)
    case nonPositiveSize(fillId: String, size: Amount)
    case nonPositivePrice(fillId: String, price: Amount)
    /// The fee is not a number. A negative fee is a maker rebate and is accepted.
    case invalidFee(fillId: String, fee: Amount)
    case invalidFunding(symbol: String, amount: Amount)
    case missingMark(symbol: String)
    case nonPositiveMark(symbol: String, mark: Amount)
    /// A lot given to seed the ledger cannot be booked.
    case invalidLot(symbol: String, detail: String)

    public var description: String {
        switch self {
        case .missingFillId(let clientOrderId):
            "fill of order \(clientOrderId) has an empty fill id; it cannot be deduplicated"
        case .missingSymbol(let fillId):
            "fill \(fillId) has no symbol"
        case .nonPositiveSize(let fillId, let size):
            "fill \(fillId) has size \(size); a fill size must be positive (the side carries the sign)"
        case .nonPositivePrice(let fillId, let price):
            "fill \(fillId) has price \(price); a price must be positive"
        case .invalidFee(let fillId, let fee):
            "fill \(fillId) has fee \(fee), which is not a number"
        case .invalidFunding(let symbol, let amount):
            symbol.isEmpty
                ? "funding payment of \(amount) has no symbol"
                : "funding payment on \(symbol) of \(amount) is not a number"
        case .missingMark(let symbol):
            "no mark price for open position in \(symbol)"
        case .nonPositiveMark(let symbol, let mark):
            "mark price \(mark) for \(symbol); a mark must be positive"
        case .invalidLot(let symbol, let detail):
            "cannot seed open lot in \(symbol.isEmpty ? "(no symbol)" : symbol): \(detail)"
        }
    }
}
