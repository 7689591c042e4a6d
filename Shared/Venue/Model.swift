import Hyperliquid
import Schema

public func parseAddress(_ text: String) -> Address? { try? Address(hex: text) }

/// Status names as Hyperliquid reports them (orderStatus, orderUpdates).
enum SimOrderStatus: String, Sendable, Codable {
    case open, filled, canceled, triggered, rejected, marginCanceled, reduceOnlyCanceled, selfTradeCanceled
    case scheduledCancel, siblingFilledCanceled, liquidatedCanceled
    // Orders refused at placement are kept with the reason, as orderStatus and historicalOrders show them.
    case tickRejected, minTradeNtlRejected, perpMarginRejected, reduceOnlyRejected, badAloPxRejected
    case iocCancelRejected, badTriggerPxRejected, marketOrderNoLiquidityRejected
    var isLive: Bool { self == .open || self == .triggered }
}

enum SimOrderKind: Sendable, Equatable, Codable {
    case limit(Tif)
    case trigger(isMarket: Bool, triggerPx: Amount, tpsl: Tpsl)

    var isTrigger: Bool { if case .trigger = self { true } else { false } }
}

/// An order of a paper account. `sz` is what remains; `origSz` what was asked.
public struct SimOrder: Sendable, Equatable, Codable {
    public let oid: UInt64
    public let user: Address
    let asset: Int
    let coin: String
    let isBuy: Bool
    var limitPx: Amount
    var origSz: Amount
    var sz: Amount
    let reduceOnly: Bool
    var kind: SimOrderKind
    let cloid: Cloid?
    let timestamp: UInt64
    var status: SimOrderStatus = .open
    var statusTimestamp: UInt64
    var isPositionTpsl = false
    /// normalTpsl children wait for this parent to fill before their trigger is armed.
    var parentOid: UInt64?
    /// TP/SL children of one parent: when one triggers, the others are canceled.
    var ocoGroup: UInt64?
    /// Time priority among resting orders (placement, or re-placement after a modify).
    var sequence: UInt64
    /// External size ahead of this resting order at its price: what the external book displayed on
    /// its side at its price when it came to rest. Prints at its price consume it before the order
    /// fills; a later snapshot showing less size there lowers it.
    var queueAhead: Amount = 0

    var side: String { isBuy ? "B" : "A" }

    var tif: String? { if case .limit(let tif) = kind { tif.rawValue } else { nil } }

    var orderTypeName: String {
        switch kind {
        case .limit: "Limit"
        case .trigger(let isMarket, _, let tpsl):
            (tpsl == .tp ? "Take Profit " : "Stop ") + (isMarket ? "Market" : "Limit")
        }
    }

    var triggerPx: Amount? { if case .trigger(_, let px, _) = kind { px } else { nil } }

    /// "Price above 105000" / "Price below …" / "N/A", as the frontend shows it.
    var triggerCondition: String {
        guard case .trigger(_, let px, let tpsl) = kind else { return "N/A" }
        return (triggersAbove(tpsl: tpsl) ? "Price above " : "Price below ") + Wire.plain(px)
    }

    /// A take-profit sell (closing a long) and a stop buy (closing a short) trigger when the mark rises
    /// to the trigger price; the other two when it falls to it.
    func triggersAbove(tpsl: Tpsl) -> Bool { (tpsl == .tp) != isBuy }
}

/// A signed position of one asset.
public struct SimPosition: Sendable, Equatable, Codable {
    public internal(set) var szi: Amount = 0
    public internal(set) var entryPx: Amount = 0
    var cumFundingAllTime: Amount = 0
    var cumFundingSinceOpen: Amount = 0
    var cumFundingSinceChange: Amount = 0
    /// An isolated position's own margin: what was moved out of the cross balance to open it (notional
    /// ÷ leverage at each increase) plus what `updateIsolatedMargin` added or removed; released in
    /// proportion as it shrinks. 0 for cross positions.
    var isolatedMargin: Amount = 0
}

struct LeverageSetting: Sendable, Equatable, Codable {
    var isCross: Bool
    var leverage: Int
}

/// One fill of a paper account, as userFills reports it.
public struct SimFill: Sendable, Equatable, Codable {
    public internal(set) var coin: String
    public internal(set) var px: Amount
    public internal(set) var sz: Amount
    public internal(set) var isBuy: Bool
    public internal(set) var time: UInt64
    public internal(set) var startPosition: Amount
    public internal(set) var dir: String
    public internal(set) var closedPnl: Amount
    var hash: String
    public internal(set) var oid: UInt64
    public internal(set) var crossed: Bool
    public internal(set) var fee: Amount
    public internal(set) var tid: UInt64
    public internal(set) var cloid: Cloid?
    var liquidation: SimLiquidation? = nil

    public var wire: WireValue {
        var entries: [(String, WireValue)] = [
            ("coin", .string(coin)), ("px", .decimal(px)), ("sz", .decimal(sz)), ("side", .string(isBuy ? "B" : "A")),
            ("time", .ms(time)), ("startPosition", .decimal(startPosition)), ("dir", .string(dir)),
            ("closedPnl", .usd(closedPnl)), ("hash", .string(hash)), ("oid", .integer(oid)), ("crossed", .bool(crossed)),
            ("fee", .usd(fee)), ("tid", .integer(tid)), ("feeToken", .string("USDC")),
        ]
        if let cloid { entries.append(("cloid", .string(cloid.rawValue))) }
        if let liquidation { entries.append(("liquidation", liquidation.wire)) }
        return .object(entries)
    }
}

public struct FundingRecord: Sendable, Equatable, Codable {
    public internal(set) var time: UInt64
    public internal(set) var coin: String
    public internal(set) var usdc: Amount
    public internal(set) var szi: Amount
    public internal(set) var fundingRate: Amount
    var hash: String

    var wire: WireValue {
        .object([
            ("time", .ms(time)), ("hash", .string(hash)),
            (
                "delta",
                .object([
                    ("type", .string("funding")), ("coin", .string(coin)), ("usdc", .usd(usdc)), ("szi", .decimal(szi)),
                    ("fundingRate", .decimal(fundingRate)), ("nSamples", .null),
                ])
            ),
        ])
    }
}

/// A paper account: cash, positions, settings and history. Its `Codable` form leaves out the
/// history (fills, fundings), which is saved row by row as it grows.
public struct SimAccount: Sendable, Equatable, Codable {
    public let address: Address
    /// Deposits + realised P&L − fees + funding.
    public internal(set) var usdc: Amount
    public internal(set) var positions: [Int: SimPosition] = [:]
    var leverage: [Int: LeverageSetting] = [:]
    public var fills: [SimFill] = []
    public var fundings: [FundingRecord] = []
    var scheduledCancel: UInt64?
    var scheduledCancelDay: UInt64 = 0
    var scheduledCancelFired = 0
    var requestsUsed = 0
    /// When the address, past its request cap, last had its one request per 10 s admitted.
    var lastThrottledRequest: UInt64?
    var cumVolume: Amount = 0
    var agents: Set<Address> = []
    var leader: Address?
    /// When a market liquidation last sent only part of a position (the 30 s cooldown starts here).
    var lastPartialLiquidation: UInt64?

    init(address: Address, usdc: Amount) {
        self.address = address
        self.usdc = usdc
    }

    enum CodingKeys: String, CodingKey {
        case address, usdc, positions, leverage, scheduledCancel, scheduledCancelDay, scheduledCancelFired, requestsUsed
        case lastThrottledRequest, cumVolume, agents, leader, lastPartialLiquidation
    }
}

/// The last 100 nonces of one signer: a new one must be above the smallest of them and unused.
public struct NonceBook: Sendable, Equatable, Codable {
    static let keep = 100
    private(set) var nonces: [UInt64] = []  // ascending

    func contains(_ n: UInt64) -> Bool { nonces.contains(n) }

    /// The smallest nonce still accepted is above this (when 100 are kept).
    var floor: UInt64? { nonces.count >= Self.keep ? nonces.first : nil }

    mutating func insert(_ n: UInt64) {
        let index = nonces.firstIndex(where: { $0 > n }) ?? nonces.count
        nonces.insert(n, at: index)
        if nonces.count > Self.keep { nonces.removeFirst() }
    }

    init() {}

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let saved = try container.decode([UInt64].self, forKey: .nonces)
        guard saved.count <= Self.keep, zip(saved, saved.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw DecodingError.dataCorruptedError(
                forKey: .nonces, in: container, debugDescription: "at most \(Self.keep) nonces, ascending and distinct")
        }
        nonces = saved
    }
}

/// Which order a client order id names, per account: the order placed with it last (a refused
/// order takes the name only from an order that is no longer live).
struct CloidBook: Sendable {
    struct Key: Hashable, Sendable {
        var user: Address
        var cloid: Cloid
    }

    var table = TrackedTable<Key, UInt64>()

    subscript(user: Address, cloid: Cloid) -> UInt64? {
        get { table[Key(user: user, cloid: cloid)] }
        set { table[Key(user: user, cloid: cloid)] = newValue }
    }
}
