import Hyperliquid
import Schema

/// Something the WebSocket side must tell subscribers.
public enum VenueEvent: Sendable {
    /// One `orderUpdates` entry: {"order": {…}, "status": …, "statusTimestamp": …}.
    case orderUpdate(user: Address, WireValue)
    /// One `userFills` fill.
    case fill(user: Address, WireValue)
    /// One `trades` entry.
    case trade(coin: String, WireValue)
    /// The merged book of `coin` changed.
    case bookChanged(coin: String)
}

/// The simulated venue: accounts, orders, matching against the external market, margin, funding,
/// the dead man's switch and request authentication. Pure and synchronous: no sockets, files or
/// clocks; every call that needs the time takes `now` in Unix milliseconds.
public struct VenueCore: Sendable {
    public let config: VenueConfig
    public let assets: [AssetSpec]
    public let assetIndex: [String: Int]

    // What the venue keeps across a restart lives in tracked tables (see VenueState.swift), so that
    // saving after a request writes what the request changed.
    public internal(set) var accounts = TrackedTable<Address, SimAccount>()
    var agentOwner = TrackedTable<Address, Address>()
    var signerNonces = TrackedTable<Address, NonceBook>()
    var markets: [Int: ExternalBook] = [:]
    /// Marks set by the operator (admin route); they replace the external mark until cleared.
    var markOverrides: [Int: Amount] = [:]
    var orders = TrackedTable<UInt64, SimOrder>()
    /// Resting limit orders per asset, best price first, then time.
    var restingBids: [Int: [UInt64]] = [:]
    var restingAsks: [Int: [UInt64]] = [:]
    /// Trigger orders waiting for the mark, per asset (armed ones, and normalTpsl children waiting for
    /// their parent, which are skipped until armed).
    var triggers: [Int: [UInt64]] = [:]
    var cloids = CloidBook()
    var nextOid: UInt64 = 1_000_000_000
    var nextTid: UInt64 = 1
    var nextSequence: UInt64 = 1
    var lastFundingHour: UInt64?
    var candles = CandleHistory()
    /// Live orders (resting limits and waiting triggers) per user.
    public internal(set) var liveOrders: [Address: Set<UInt64>] = [:]
    /// Actions refused for the address-based request budget (shown by `/admin/status`).
    public internal(set) var addressLimitRefusals = 0
    /// Liquidation steps taken: a pool liquidated, or one part of a partial liquidation (shown by `/admin/status`).
    public internal(set) var liquidations = 0

    private(set) var events: [VenueEvent] = []
    /// What the last save wrote (or the restore read): the base `takeChanges()` compares with.
    var saved = SaveMarks()

    /// A fresh venue: the configured accounts funded.
    public init(config: VenueConfig) {
        self.init(listing: config)
        openConfiguredAccounts(fresh: true)
    }

    /// The listing alone: no account yet.
    init(listing config: VenueConfig) {
        self.config = config
        self.assets = config.assets
        var index: [String: Int] = [:]
        for (i, a) in config.assets.enumerated() { index[a.name] = i }
        self.assetIndex = index
    }

    /// Funds the configured accounts and approves their agents and leaders. A fresh venue credits
    /// every entry; a restored one only accounts it does not have yet (added to the configuration
    /// since): an account the venue kept keeps its balance, the start's funding is not paid twice.
    mutating func openConfiguredAccounts(fresh: Bool) {
        for spec in config.accounts {
            guard let address = parseAddress(spec.address) else { continue }
            if fresh || accounts[address] == nil { credit(address, amount: spec.usdc) }
            for agentText in spec.agents {
                if let agent = parseAddress(agentText), agentOwner[agent] != address { approveAgent(agent, for: address) }
            }
            if let leaderText = spec.leader, let leader = parseAddress(leaderText), accounts[address]?.leader != leader {
                accounts[address]?.leader = leader
            }
        }
    }

    // MARK: Accounts

    /// Credits paper USDC; creates the account if needed.
    public mutating func credit(_ address: Address, amount: Amount) {
        if accounts[address] == nil { accounts[address] = SimAccount(address: address, usdc: 0) }
        accounts[address]!.usdc += amount
    }

    mutating func approveAgent(_ agent: Address, for owner: Address) {
        agentOwner[agent] = owner
        accounts[owner]?.agents.insert(agent)
    }

    public mutating func drainEvents() -> [VenueEvent] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    mutating func emit(_ event: VenueEvent) { events.append(event) }

    func spec(_ asset: Int) -> AssetSpec? { assets.indices.contains(asset) ? assets[asset] : nil }

    func mark(_ asset: Int) -> Amount? { markOverrides[asset] ?? markets[asset]?.mark }

    /// Pins (or with nil, releases) the mark of `asset`, then fires the triggers it reaches.
    public mutating func setMark(asset: Int, px: Amount?, now: UInt64) {
        markOverrides[asset] = px
        checkTriggers(asset: asset, now: now)
        liquidateUnderwater(asset: asset, now: now)
    }

    func leverage(_ user: Address, _ asset: Int) -> LeverageSetting {
        if let account = accounts[user] { return setting(account, asset) }
        let spec = assets[asset]
        return LeverageSetting(isCross: !spec.onlyIsolated, leverage: min(config.defaultLeverage, spec.maxLeverage))
    }

    // MARK: /exchange

    /// Answers one POST /exchange body.
    public mutating func handleExchange(body: [UInt8], now: UInt64) -> HTTPReply {
        let request: ExchangeRequest
        do {
            request = try ExchangeRequest(json: body)
        } catch {
            return .text(VenueError.deserialize("\(error)"), status: 422)
        }
        let type = request.action["type"]?.stringValue ?? ""

        // The nonce window is checked before the signature is read (as the exchange does).
        let low = now > NonceManager.exchangeWindowPastMs ? now - NonceManager.exchangeWindowPastMs : 0
        let high = now + NonceManager.exchangeWindowFutureMs
        if request.nonce <= low { return .err(VenueError.nonceTooLow(request.nonce, minimum: low)) }
        if request.nonce >= high { return .err(VenueError.nonceTooHigh(request.nonce, maximum: high)) }
        if let expires = request.expiresAfter, expires < now { return .err(VenueError.actionExpired) }

        if type == "approveAgent" { return handleApproveAgent(request, now: now) }

        let action: Action
        do {
            action = try Action(wire: request.action)
        } catch {
            return .err(VenueError.unsupportedAction(type))
        }

        // Hash the action re-encoded in canonical wire order, as the exchange does after deserialising.
        let canonical = action.wireValue
        var recovered: [Address] = []
        for network in networks {
            if let signer = try? L1Signing.recoverSigner(
                action: canonical, nonce: request.nonce, vaultAddress: request.vaultAddress,
                expiresAfter: request.expiresAfter, network: network, signature: request.signature)
            {
                recovered.append(signer)
            }
        }
        guard let signer = recovered.first(where: isKnownSigner) else {
            let shown = recovered.first.map(\.lowercased) ?? Address.zero.lowercased
            return .err(VenueError.unknownSigner(shown))
        }
        var user = agentOwner[signer] ?? signer
        if let vault = request.vaultAddress {
            guard accounts[vault]?.leader == user else { return .err(VenueError.vaultNotRegistered(vault.lowercased)) }
            user = vault
        }

        var book = signerNonces[signer] ?? NonceBook()
        if book.contains(request.nonce) { return .err(VenueError.duplicateNonce(request.nonce)) }
        if let floor = book.floor, request.nonce <= floor {
            return .err(VenueError.nonceTooLow(request.nonce, minimum: floor))
        }
        book.insert(request.nonce)
        signerNonces[signer] = book

        return apply(action, user: user, now: now)
    }

    /// One authenticated action of `user`: charged against the address budget, then done. The
    /// backtest's orders come in here, past the signature the HTTP side checks.
    public mutating func apply(_ action: Action, user: Address, now: UInt64) -> HTTPReply {
        if let refusal = chargeRequests(user: user, action: action, now: now) { return .err(refusal) }

        switch action {
        case .order(let wires, let grouping, _):
            let statuses = placeOrders(wires, grouping: grouping, user: user, now: now)
            return .ok(type: "order", data: .object([("statuses", .array(statuses))]))
        case .cancel(let cancels):
            let statuses = cancels.map { cancel(user: user, asset: $0.asset, oid: $0.oid, now: now) }
            return .ok(type: "cancel", data: .object([("statuses", .array(statuses))]))
        case .cancelByCloid(let cancels):
            let statuses = cancels.map { cancel(user: user, asset: $0.asset, cloid: $0.cloid, now: now) }
            return .ok(type: "cancel", data: .object([("statuses", .array(statuses))]))
        case .modify(let modify):
            let status = self.modify(modify, user: user, now: now)
            if case .map = status, let error = status["error"]?.stringValue { return .err(error) }
            return .ok(type: "default")
        case .batchModify(let modifies):
            let statuses = modifies.map { self.modify($0, user: user, now: now) }
            return .ok(type: "order", data: .object([("statuses", .array(statuses))]))
        case .scheduleCancel(let time):
            if let error = scheduleCancel(user: user, time: time, now: now) { return .err(error) }
            return .ok(type: "default")
        case .updateLeverage(let asset, let isCross, let leverage):
            if let error = updateLeverage(user: user, asset: asset, isCross: isCross, leverage: leverage) {
                return .err(error)
            }
            return .ok(type: "default")
        case .updateIsolatedMargin(let asset, _, let ntli):
            if let error = updateIsolatedMargin(user: user, asset: asset, ntli: ntli) { return .err(error) }
            return .ok(type: "default")
        }
    }

    private var networks: [Network] {
        switch config.network {
        case .any: [.testnet, .mainnet]
        case .testnet: [.testnet]
        case .mainnet: [.mainnet]
        }
    }

    /// A funded paper account or an approved agent.
    func isKnownSigner(_ address: Address) -> Bool {
        agentOwner[address] != nil || accounts[address] != nil
    }

    /// The address-based budget (Hyperliquid's "address-based limits"): `initialRequestBudget` plus one
    /// request per USDC traded; each order, cancel or modify in a batch counts one. Cancels may go
    /// past it up to min(cap + 100,000, 2 × cap). Past the cap an address is still allowed one
    /// request every 10 s, counted from the first refusal (a batch of more than one request is
    /// refused there).
    private mutating func chargeRequests(user: Address, action: Action, now: UInt64) -> String? {
        guard var account = accounts[user] else { return nil }
        let count: Int
        var isCancel = false
        switch action {
        case .order(let orders, _, _): count = max(orders.count, 1)
        case .batchModify(let modifies): count = max(modifies.count, 1)
        case .cancel(let cancels):
            count = max(cancels.count, 1)
            isCancel = true
        case .cancelByCloid(let cancels):
            count = max(cancels.count, 1)
            isCancel = true
        default: count = 1
        }
        let cap = requestCap(account)
        let limit = isCancel ? min(cap + 100_000, cap * 2) : cap
        let used = account.requestsUsed + count
        if used > limit {
            // The 10 s clock starts when the address first meets its cap.
            let throttleOpen = account.lastThrottledRequest.map { now >= $0 + Self.throttledRequestEveryMs } ?? false
            guard count == 1, throttleOpen else {
                addressLimitRefusals += 1
                if account.lastThrottledRequest == nil {
                    account.lastThrottledRequest = now
                    accounts[user] = account
                }
                return VenueError.cumulativeRequests(
                    used: used, cap: limit, volume: Wire.plain(account.cumVolume.rounded(scale: 2, .plain)))
            }
            account.lastThrottledRequest = now
        } else if used <= cap {
            account.lastThrottledRequest = nil  // volume traded has lifted the cap again
        }
        account.requestsUsed = used
        accounts[user] = account
        return nil
    }

    /// How often an address past its request cap may still send one request.
    static let throttledRequestEveryMs: UInt64 = 10_000

    /// Requests an address may have sent: the initial budget plus one per whole USDC traded.
    func requestCap(_ account: SimAccount?) -> Int {
        let volume = (account?.cumVolume ?? 0).rounded(scale: 0, .down)
        return config.initialRequestBudget + Int(volume.doubleValue)
    }

    /// approveAgent is user-signed (EIP-712 `HyperliquidTransaction:ApproveAgent`), not an L1 action.
    private mutating func handleApproveAgent(_ request: ExchangeRequest, now: UInt64) -> HTTPReply {
        let a = request.action
        guard let agentText = a["agentAddress"]?.stringValue, let agent = parseAddress(agentText),
            let nonce = a["nonce"]?.uint64Value
        else { return .text(VenueError.deserialize("approveAgent"), status: 422) }
        let chain = a["hyperliquidChain"]?.stringValue ?? "Testnet"
        var chainId = EIP712.userSignedChainId
        if let text = a["signatureChainId"]?.stringValue {
            chainId = UInt64(text.hasPrefix("0x") ? String(text.dropFirst(2)) : text, radix: 16) ?? chainId
        }
        let fields = [
            EIP712.Field("hyperliquidChain", .string(chain)), EIP712.Field("agentAddress", .address(agent)),
            EIP712.Field("agentName", .string(a["agentName"]?.stringValue ?? "")), EIP712.Field("nonce", .uint64(nonce)),
        ]
        let digest = EIP712.digest(
            domain: EIP712.userSignedDomain(chainId: chainId), primaryType: "HyperliquidTransaction:ApproveAgent",
            fields: fields)
        guard let signer = try? request.signature.recoverAddress(digest: digest) else {
            return .err(VenueError.unknownSigner(Address.zero.lowercased))
        }
        guard accounts[signer] != nil else { return .err(VenueError.unknownSigner(signer.lowercased)) }
        var book = signerNonces[signer] ?? NonceBook()
        if book.contains(request.nonce) { return .err(VenueError.duplicateNonce(request.nonce)) }
        book.insert(request.nonce)
        signerNonces[signer] = book
        approveAgent(agent, for: signer)
        return .ok(type: "default")
    }

    // MARK: Leverage and the dead man's switch

    /// Sets an asset's leverage and margin mode. The mode cannot change while a position is open. Lowering
    /// the leverage of an open position needs more initial margin: a cross one must still leave the
    /// cross balance non-negative; an isolated one is topped up from the cross balance to notional ÷ new
    /// leverage, and refused when the cross balance cannot pay it.
    mutating func updateLeverage(user: Address, asset: Int, isCross: Bool, leverage: Int) -> String? {
        guard let spec = spec(asset) else { return VenueError.unknownAsset(asset) }
        guard leverage >= 1, leverage <= spec.maxLeverage else { return VenueError.invalidLeverage }
        if isCross && spec.onlyIsolated { return VenueError.crossNotAllowed }
        let old = self.leverage(user, asset)
        let position = accounts[user]?.positions[asset].flatMap { $0.szi.isZero ? nil : $0 }
        if position != nil && old.isCross != isCross { return VenueError.switchWithOpenPosition }
        accounts[user]?.leverage[asset] = LeverageSetting(isCross: isCross, leverage: leverage)
        guard leverage < old.leverage, let account = accounts[user] else { return nil }
        if !isCross, let position {
            let notional = position.szi.magnitude * (mark(asset) ?? position.entryPx)
            let shortfall = notional / Amount(leverage) - isolatedEquity(position, asset: asset)
            guard shortfall.isPositive else { return nil }
            guard availableMargin(account) >= shortfall else {
                accounts[user]?.leverage[asset] = old
                return VenueError.isolatedDecreaseLeverage
            }
            accounts[user]?.positions[asset]?.isolatedMargin += shortfall
        } else if availableMargin(account) < 0 {
            accounts[user]?.leverage[asset] = old
            return VenueError.crossDecreaseLeverage
        }
        return nil
    }

    mutating func scheduleCancel(user: Address, time: UInt64?, now: UInt64) -> String? {
        guard var account = accounts[user] else { return nil }
        guard let time else {
            account.scheduledCancel = nil
            accounts[user] = account
            return nil
        }
        if account.cumVolume < config.scheduleCancelMinVolume {
            return VenueError.scheduleCancelVolume(required: Wire.plain(config.scheduleCancelMinVolume))
        }
        if time < now + 5_000 { return VenueError.scheduleCancelTooEarly }
        let day = now / 86_400_000
        if account.scheduledCancelDay == day && account.scheduledCancelFired >= 10 {
            return VenueError.scheduleCancelTooMany
        }
        account.scheduledCancel = time
        accounts[user] = account
        return nil
    }
}
