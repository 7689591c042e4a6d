import Foundation
import Hyperliquid
import Schema
import Venue

/// A save of the venue state that failed: the change it held was neither answered nor published.
struct VenueStateFailure: Error, CustomStringConvertible {
    var description: String
}

/// Owns the venue core and the market players; turns core events into WebSocket messages. With a
/// state file, every change is saved before it is answered or published: an acknowledged order, and
/// a fill the market made that a subscriber may have seen, survive the process being killed.
actor VenueService {
    private var core: VenueCore
    private var players: [MarketPlayer]
    let hub: WebSocketHub
    let sourceDescription: String
    private var lastMids: String = ""
    private var marketSeen = false
    private let stateFile: VenueStateFile?
    /// Set once a save fails: the venue then refuses every change (memory is ahead of the file) and
    /// the process stops, so that a restart reads back what was saved.
    private(set) var stateFailure: VenueStateFailure?

    init(
        core: VenueCore, players: [MarketPlayer], hub: WebSocketHub, sourceDescription: String, stateFile: VenueStateFile? = nil
    ) {
        self.core = core
        self.players = players
        self.hub = hub
        self.sourceDescription = sourceDescription
        self.stateFile = stateFile
    }

    static func nowMs() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

    private var clock = VenueClock()

    /// The wall clock, never behind a time already stamped (a market event is stamped with its own).
    private func stampNow() -> UInt64 { clock.stamp(Self.nowMs()) }

    /// Saves what changed since the last save (without a state file, only forgets it).
    func save() throws(VenueStateFailure) {
        if let stateFailure { throw stateFailure }
        let changes = core.takeChanges()
        guard let stateFile else { return }
        do {
            try stateFile.save(changes)
        } catch {
            let failure = VenueStateFailure(description: "venue state could not be saved to \(stateFile.path): \(error)")
            stateFailure = failure
            throw failure
        }
    }

    // MARK: HTTP

    func exchange(_ body: [UInt8]) -> HTTPReply {
        if let stateFailure { return .text(stateFailure.description, status: 503) }
        let reply = core.handleExchange(body: body, now: stampNow())
        do { try save() } catch { return .text(error.description, status: 500) }
        publish()
        return reply
    }

    func info(_ body: [UInt8]) -> (HTTPReply, weight: Int) {
        core.handleInfo(body: body, now: stampNow())
    }

    func credit(_ address: Address, amount: Amount) throws(VenueStateFailure) {
        if let stateFailure { throw stateFailure }
        core.credit(address, amount: amount)
        try save()
    }

    var isReady: Bool { marketSeen }

    /// Pins the mark of `coin` (nil releases it) and fires the triggers it reaches; false: unknown coin.
    func setMark(coin: String, px: Amount?) throws(VenueStateFailure) -> Bool {
        if let stateFailure { throw stateFailure }
        guard let asset = core.assetIndex[coin] else { return false }
        core.setMark(asset: asset, px: px, now: stampNow())
        try save()
        publish()
        return true
    }

    /// Pays one funding period now (as at an hour boundary); returns how many payments were made.
    func payFundingNow() throws(VenueStateFailure) -> Int {
        if let stateFailure { throw stateFailure }
        let before = core.accounts.values.reduce(0) { $0 + $1.fundings.count }
        core.payFunding(now: stampNow())
        try save()
        return core.accounts.values.reduce(0) { $0 + $1.fundings.count } - before
    }

    func status(faults: [String: WireValue], ipLimitRefusals: Int) -> WireValue {
        var accounts: [WireValue] = []
        var open = 0
        for address in core.accounts.keys.sorted(by: { $0.lowercased < $1.lowercased }) {
            let account = core.accounts[address]!
            let count = core.liveOrders[address]?.count ?? 0
            open += count
            accounts.append(
                .object([
                    ("address", .string(address.lowercased)), ("usdc", .usd(account.usdc)),
                    ("accountValue", .usd(core.accountValue(account))), ("openOrders", .integer(count)),
                    ("positions", .integer(account.positions.count)), ("fills", .integer(account.fills.count)),
                ]))
        }
        return .object([
            ("accounts", .array(accounts)), ("openOrders", .integer(open)),
            ("faults", .object(faults.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })),
            ("faultsActive", .bool(!faults.isEmpty)), ("webSockets", .integer(hub.count)),
            (
                "rateLimitRefusals",
                .object([("ip", .integer(ipLimitRefusals)), ("address", .integer(core.addressLimitRefusals))])
            ),
            ("liquidations", .integer(core.liquidations)),
            ("market", .object([("source", .string(sourceDescription)), ("mids", core.allMids())])),
        ])
    }

    // MARK: Market

    /// Plays the market up to `now`, runs the clock-driven rules, saves what they changed (fills of
    /// resting orders, triggers, funding, liquidations), and publishes.
    func advance(now: UInt64) throws(VenueStateFailure) {
        if let stateFailure { throw stateFailure }
        if core.play(&players, upTo: now, clock: &clock) { marketSeen = true }
        core.tick(now: clock.stamp(now))
        try save()
        publish()
        let mids = core.allMids().jsonString()
        if mids != lastMids && hub.hasSubscribers("allMids") {
            hub.publish(key: "allMids", "{\"channel\":\"allMids\",\"data\":{\"mids\":\(mids)}}")
        }
        lastMids = mids
    }

    /// Sends the core's pending events to subscribers, grouped as Hyperliquid groups them.
    private func publish() {
        let events = core.drainEvents()
        guard !events.isEmpty else { return }
        var updates: [Address: [WireValue]] = [:]
        var fills: [Address: [WireValue]] = [:]
        var trades: [String: [WireValue]] = [:]
        var books: [String] = []
        for event in events {
            switch event {
            case .orderUpdate(let user, let v): updates[user, default: []].append(v)
            case .fill(let user, let v): fills[user, default: []].append(v)
            case .trade(let coin, let v): trades[coin, default: []].append(v)
            case .bookChanged(let coin): if !books.contains(coin) { books.append(coin) }
            }
        }
        for (user, list) in updates {
            let key = "orderUpdates:\(user.lowercased)"
            guard hub.hasSubscribers(key) else { continue }
            hub.publish(key: key, WireValue.object([("channel", .string("orderUpdates")), ("data", .array(list))]).jsonString())
        }
        for (user, list) in fills {
            let key = "userFills:\(user.lowercased)"
            guard hub.hasSubscribers(key) else { continue }
            let data: WireValue = .object([("user", .string(user.lowercased)), ("fills", .array(list))])
            hub.publish(key: key, WireValue.object([("channel", .string("userFills")), ("data", data)]).jsonString())
        }
        for (coin, list) in trades {
            let key = "trades:\(coin)"
            guard hub.hasSubscribers(key) else { continue }
            hub.publish(key: key, WireValue.object([("channel", .string("trades")), ("data", .array(list))]).jsonString())
        }
        for coin in books {
            let key = "l2Book:\(coin)"
            guard hub.hasSubscribers(key), let asset = core.assetIndex[coin] else { continue }
            let book = core.l2Book(asset: asset, nSigFigs: nil, now: stampNow())
            hub.publish(key: key, WireValue.object([("channel", .string("l2Book")), ("data", book)]).jsonString())
        }
    }

    // MARK: WebSocket requests

    /// Handles one text message from connection `id`.
    func handleWebSocket(_ id: UUID, _ text: String) {
        guard let message = try? WireValue(json: Array(text.utf8)), let method = message["method"]?.stringValue else {
            hub.send(id, errorMessage("Error parsing JSON into valid websocket request: \(text)"))
            return
        }
        switch method {
        case "ping":
            hub.send(id, "{\"channel\":\"pong\"}")
        case "subscribe", "unsubscribe":
            guard let subscription = message["subscription"], let key = subscriptionKey(subscription) else {
                hub.send(id, errorMessage("Invalid subscription \(message["subscription"]?.jsonString() ?? "null")"))
                return
            }
            let ack = WireValue.object([
                ("channel", .string("subscriptionResponse")),
                ("data", .object([("method", .string(method)), ("subscription", subscription)])),
            ])
            if method == "unsubscribe" {
                hub.unsubscribe(id, key: key)
                hub.send(id, ack.jsonString())
                return
            }
            hub.subscribe(id, key: key)
            hub.send(id, ack.jsonString())
            sendSnapshot(id, key: key, subscription: subscription)
        default:
            hub.send(id, errorMessage("Error parsing JSON into valid websocket request: \(text)"))
        }
    }

    private func errorMessage(_ text: String) -> String {
        WireValue.object([("channel", .string("error")), ("data", .string(text))]).jsonString()
    }

    /// "l2Book:BTC", "trades:BTC", "allMids", "orderUpdates:0x…", "userFills:0x…".
    private func subscriptionKey(_ s: WireValue) -> String? {
        guard let type = s["type"]?.stringValue else { return nil }
        switch type {
        case "l2Book", "trades":
            guard let coin = s["coin"]?.stringValue, core.assetIndex[coin] != nil else { return nil }
            return "\(type):\(coin)"
        case "allMids":
            return "allMids"
        case "orderUpdates", "userFills":
            guard let user = s["user"]?.stringValue.flatMap(parseAddress) else { return nil }
            return "\(type):\(user.lowercased)"
        default:
            return nil
        }
    }

    private func sendSnapshot(_ id: UUID, key: String, subscription: WireValue) {
        let now = stampNow()
        if key.hasPrefix("l2Book:"), let coin = subscription["coin"]?.stringValue, let asset = core.assetIndex[coin] {
            let figures = subscription["nSigFigs"]?.int64Value.map(Int.init)
            let book = core.l2Book(asset: asset, nSigFigs: figures, now: now)
            hub.send(id, WireValue.object([("channel", .string("l2Book")), ("data", book)]).jsonString())
        } else if key == "allMids" {
            hub.send(id, "{\"channel\":\"allMids\",\"data\":{\"mids\":\(core.allMids().jsonString())}}")
        } else if key.hasPrefix("userFills:"), let user = subscription["user"]?.stringValue.flatMap(parseAddress) {
            let fills = (core.accounts[user]?.fills ?? []).suffix(2000).map(\.wire)
            let data: WireValue = .object([("isSnapshot", .bool(true)), ("user", .string(user.lowercased)), ("fills", .array(fills))])
            hub.send(id, WireValue.object([("channel", .string("userFills")), ("data", data)]).jsonString())
        }
    }
}
