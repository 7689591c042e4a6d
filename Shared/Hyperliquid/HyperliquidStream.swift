import HummingbirdWSClient
import Logging
import Market
import Resilience
import Schema
import Synchronization

/// Where a stream takes its snapshots after (re)connecting; `HyperliquidClient` is one.
public protocol StreamSnapshotSource: Sendable {
    /// REST `l2Book`.
    func snapshotBook(coin: String) async throws -> HyperliquidBook
    /// REST `openOrders` (the websocket sends no snapshot of `orderUpdates`).
    func snapshotOpenOrders(user: Address) async throws -> [OpenOrderInfo]
}

extension HyperliquidClient: StreamSnapshotSource {
    public func snapshotBook(coin: String) async throws -> HyperliquidBook { try await l2Book(coin: coin) }
    public func snapshotOpenOrders(user: Address) async throws -> [OpenOrderInfo] { try await openOrders(user: user) }
}

/// State a consumer must replace wholesale: the book, the fills history, the open orders.
public enum StreamSnapshot: Sendable, Equatable {
    case l2Book(HyperliquidBook)
    case userFills(user: Address, fills: [UserFill])
    case openOrders(user: Address, orders: [OpenOrderInfo])
}

/// What the stream tells its consumer, in order.
///
/// After `.connected` / `.reconnected` everything the consumer derived from earlier events is stale:
/// for each subscription it gets a `.snapshot` (l2Book: REST `l2Book` when a snapshot source is given,
/// otherwise the first book on the socket; userFills: the `isSnapshot` message; orderUpdates: REST
/// `openOrders` when a source is given) before any delta of that subscription.
public enum StreamEvent: Sendable, Equatable {
    /// The first connection is up; its subscriptions are sent next.
    case connected(connection: Int)
    /// A later connection is up; every subscription is sent again. Rebuild state from the snapshots that
    /// follow.
    case reconnected(connection: Int)
    /// Connection attempt `connection` ended (refused, server close, transport error, pong timeout,
    /// consumer overflow); a reconnect follows after the backoff.
    case disconnected(connection: Int, reason: String)
    /// The server acknowledged a subscription.
    case subscribed(StreamSubscription)
    case snapshot(StreamSnapshot)
    /// A full book of the top levels (every `l2Book` message is whole, never a diff).
    case book(HyperliquidBook)
    case trades([HyperliquidTrade])
    case mids([String: Amount])
    case orderUpdates([OrderUpdate])
    /// New fills (never the snapshot's).
    case fills(user: Address, fills: [UserFill])
    /// The server's `error` channel.
    case serverError(String)
    /// A message that could not be read; dropped.
    case malformed(String)
}

/// Hyperliquid's `/ws`: subscriptions, heartbeats and reconnects, as one `AsyncStream` of typed events.
///
/// - Heartbeat: `{"method":"ping"}` every `pingInterval`; no `pong` within `pongTimeout` closes the
///   connection and reconnects (so a silent, half-open socket is noticed within their sum).
/// - Reconnect: backoff with jitter (injected random), growing while connections keep failing and reset
///   once one stayed up for `stableAfter`; every subscription is sent again.
/// - Snapshots: see `StreamEvent`. Deltas that arrive before their subscription's snapshot are dropped
///   (the snapshot supersedes them) and counted; a book older than its REST snapshot is dropped too.
/// - A consumer too slow for `bufferSize` events makes the stream reconnect, so that it gets fresh
///   snapshots instead of a silent gap.
public final class HyperliquidStream: Sendable {
    public struct Configuration: Sendable {
        /// "wss://api.hyperliquid.xyz/ws", or `HyperliquidEndpoint.webSocketURL`.
        public var url: String
        public var subscriptions: [StreamSubscription]
        public var pingInterval: Duration
        public var pongTimeout: Duration
        /// Time allowed for TCP connect and the upgrade handshake.
        public var connectTimeout: Duration
        public var reconnectBackoff: Backoff
        /// A connection that lasted this long resets the backoff.
        public var stableAfter: Duration
        /// How long a closing handshake may take before the socket is dropped.
        public var closeTimeout: Duration
        public var maxMessageBytes: Int
        /// Events held for a slow consumer before the stream resynchronises.
        public var bufferSize: Int
        /// What the heartbeat sends; the server must answer `{"channel":"pong"}`.
        public var heartbeatMessage: String

        public init(
            url: String,
            subscriptions: [StreamSubscription],
            pingInterval: Duration = .seconds(20),
            pongTimeout: Duration = .seconds(10),
            connectTimeout: Duration = .seconds(10),
            reconnectBackoff: Backoff = .fullJitter(base: .milliseconds(250), cap: .seconds(30)),
            stableAfter: Duration = .seconds(60),
            closeTimeout: Duration = .seconds(2),
            maxMessageBytes: Int = 8 << 20,
            bufferSize: Int = 10_000,
            heartbeatMessage: String = #"{"method":"ping"}"#
        ) {
            precondition(pingInterval > .zero && pongTimeout > .zero, "heartbeat periods must be positive")
            self.url = url
            self.subscriptions = subscriptions
            self.pingInterval = pingInterval
            self.pongTimeout = pongTimeout
            self.connectTimeout = connectTimeout
            self.reconnectBackoff = reconnectBackoff
            self.stableAfter = stableAfter
            self.closeTimeout = closeTimeout
            self.maxMessageBytes = maxMessageBytes
            self.bufferSize = max(bufferSize, 16)
            self.heartbeatMessage = heartbeatMessage
        }
    }

    /// Counters for `/status` and tests.
    public struct Statistics: Sendable, Equatable {
        public var connections = 0
        public var reconnects = 0
        public var pingsSent = 0
        public var pongsReceived = 0
        public var pongTimeouts = 0
        public var malformedMessages = 0
        public var deltasBeforeSnapshot = 0
        public var staleBooksDropped = 0
        public var consumerOverflows = 0
        public var snapshotFailures = 0
    }

    public let configuration: Configuration
    /// The events; one consumer. Finishes when the stream stops.
    public let events: AsyncStream<StreamEvent>
    private let continuation: AsyncStream<StreamEvent>.Continuation
    private let snapshots: (any StreamSnapshotSource)?
    private let random: SharedRandom
    private let sleep: @Sendable (Duration) async throws -> Void
    private let now: @Sendable () -> ContinuousClock.Instant
    private let logger: Logger
    private let stats = Mutex(Statistics())
    private let runner = Mutex<Task<Void, Never>?>(nil)

    /// - Parameters:
    ///   - snapshots: REST source of book and open-order snapshots after each (re)connect; nil uses the
    ///     socket's own (the first book), and sends no open-orders snapshot.
    ///   - random: reconnect jitter.
    ///   - sleep: the waits between reconnects and of the heartbeat (injected for tests).
    public init(
        configuration: Configuration,
        snapshots: (any StreamSnapshotSource)? = nil,
        random: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator(),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        logger: Logger = Logger(label: "hyperliquid.stream")
    ) {
        self.configuration = configuration
        self.snapshots = snapshots
        self.random = SharedRandom(random)
        self.sleep = sleep
        self.now = { ContinuousClock.now }
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(
            of: StreamEvent.self, bufferingPolicy: .bufferingOldest(configuration.bufferSize))
    }

    public var statistics: Statistics { stats.withLock { $0 } }

    /// Runs the stream in a task of its own until `stop()`. Calling it twice does nothing.
    public func start() {
        runner.withLock { task in
            guard task == nil else { return }
            task = Task { await self.run() }
        }
    }

    /// Stops the stream started with `start()` and finishes `events` (a `run()` ends with its task).
    public func stop() {
        let task = runner.withLock { $0 }
        task?.cancel()
        continuation.finish()
    }

    /// Connects, reads and reconnects until the calling task is cancelled; finishes `events` on return.
    public func run() async {
        defer { continuation.finish() }
        var delays = configuration.reconnectBackoff.delays()
        var connection = 0
        while !Task.isCancelled {
            connection += 1
            let started = now()
            let reason = await connectOnce(connection: connection)
            if Task.isCancelled { break }
            emit(.disconnected(connection: connection, reason: reason))
            logger.warning(
                "hyperliquid stream disconnected", metadata: ["connection": "\(connection)", "reason": "\(reason)"])
            if started.duration(to: now()) >= configuration.stableAfter {
                delays = configuration.reconnectBackoff.delays()
            }
            var random = self.random
            let delay = delays.next(using: &random)
            do { try await sleep(delay) } catch { break }
        }
    }

    // MARK: One connection

    private struct StreamFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Per-connection state shared by the reader and the heartbeat.
    private final class Session: Sendable {
        struct State {
            var handlerStarted = false
            var abandoned = false
            var pongOutstanding = false
            /// Subscriptions whose snapshot has been delivered; l2Book with its REST snapshot's time.
            var syncedBooks: [String: EpochNanos?] = [:]
            var syncedFills: Set<Address> = []
        }
        let state = Mutex(State())
    }

    /// One connection from connect to close; returns why it ended.
    private func connectOnce(connection: Int) async -> String {
        let session = Session()
        var wsConfiguration = WebSocketClientConfiguration(
            maxFrameSize: min(configuration.maxMessageBytes, 1 << 24), closeTimeout: configuration.closeTimeout)
        wsConfiguration.validateUTF8 = false
        let client = WebSocketClient(url: configuration.url, configuration: wsConfiguration, logger: logger) {
            inbound, outbound, _ in
            try await self.handle(inbound: inbound, outbound: outbound, session: session, connection: connection)
        }
        // The connection runs in its own task so that a connect or upgrade that hangs (and ignores
        // cancellation) is abandoned at the connect timeout instead of blocking the reconnect loop.
        let race = ConnectionRace()
        let work = Task {
            do {
                let close = try await client.run()
                race.finish(close.map { "closed by server (\($0.closeCode))" } ?? "closed")
            } catch {
                race.finish(Task.isCancelled ? "stopped" : "\(error)")
            }
        }
        let watchdog = Task {
            // Real time, not the injected sleep: this is a safety net, not a policy under test.
            guard (try? await Task.sleep(for: configuration.connectTimeout)) != nil else { return }
            let stuck = session.state.withLock { state in
                if !state.handlerStarted { state.abandoned = true }
                return state.abandoned
            }
            if stuck {
                work.cancel()
                race.finish("connect timeout after \(configuration.connectTimeout)")
            }
        }
        let reason = await withTaskCancellationHandler {
            await race.wait()
        } onCancel: {
            work.cancel()
            race.finish("stopped")
        }
        watchdog.cancel()
        if Task.isCancelled { work.cancel() }
        return reason
    }

    private func handle(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, session: Session, connection: Int
    ) async throws {
        let abandoned = session.state.withLock { state in
            state.handlerStarted = true
            return state.abandoned
        }
        if abandoned { return }
        stats.withLock { s in
            s.connections += 1
            if connection > 1 { s.reconnects += 1 }
        }
        try emitOrFail(connection == 1 ? .connected(connection: connection) : .reconnected(connection: connection))
        for subscription in configuration.subscriptions {
            try await outbound.write(.text(subscription.subscribeMessage))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.heartbeat(outbound: outbound, session: session) }
            group.addTask { try await self.read(inbound: inbound, session: session) }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Ping, then expect the pong within `pongTimeout`.
    private func heartbeat(outbound: WebSocketOutboundWriter, session: Session) async throws {
        while true {
            try await sleep(configuration.pingInterval)
            session.state.withLock { $0.pongOutstanding = true }
            try await outbound.write(.text(configuration.heartbeatMessage))
            stats.withLock { $0.pingsSent += 1 }
            try await sleep(configuration.pongTimeout)
            if session.state.withLock({ $0.pongOutstanding }) {
                stats.withLock { $0.pongTimeouts += 1 }
                throw StreamFailure(description: "no pong within \(configuration.pongTimeout)")
            }
        }
    }

    private func read(inbound: WebSocketInboundStream, session: Session) async throws {
        try await restSnapshots(session: session)
        for try await message in inbound.messages(maxSize: configuration.maxMessageBytes) {
            guard case .text(let text) = message else { continue }
            let parsed: StreamMessage
            do {
                parsed = try StreamDecoding.decode(text)
            } catch {
                stats.withLock { $0.malformedMessages += 1 }
                try emitOrFail(.malformed("\(error)"))
                continue
            }
            try deliver(parsed, session: session)
        }
    }

    /// REST snapshots for the subscriptions the socket sends none of (or an unordered one).
    private func restSnapshots(session: Session) async throws {
        guard let snapshots else { return }
        for subscription in configuration.subscriptions {
            switch subscription {
            case .l2Book(let coin):
                do {
                    let book = try await snapshots.snapshotBook(coin: coin)
                    session.state.withLock { $0.syncedBooks[coin] = .some(book.time) }
                    try emitOrFail(.snapshot(.l2Book(book)))
                } catch let error as StreamFailure {
                    throw error
                } catch {
                    // The first book on the socket becomes the snapshot instead.
                    stats.withLock { $0.snapshotFailures += 1 }
                    logger.warning("l2Book snapshot failed", metadata: ["coin": "\(coin)", "error": "\(error)"])
                }
            case .orderUpdates(let user):
                do {
                    let orders = try await snapshots.snapshotOpenOrders(user: user)
                    try emitOrFail(.snapshot(.openOrders(user: user, orders: orders)))
                } catch let error as StreamFailure {
                    throw error
                } catch {
                    stats.withLock { $0.snapshotFailures += 1 }
                    throw StreamFailure(description: "openOrders snapshot failed: \(error)")
                }
            default:
                continue
            }
        }
    }

    private func deliver(_ message: StreamMessage, session: Session) throws {
        switch message {
        case .connectionEstablished, .other:
            return
        case .pong:
            session.state.withLock { $0.pongOutstanding = false }
            stats.withLock { $0.pongsReceived += 1 }
        case .subscriptionResponse(let method, let subscription):
            if method == "subscribe", let subscription { try emitOrFail(.subscribed(subscription)) }
        case .book(let book):
            enum Verdict { case snapshot, delta, stale }
            let verdict: Verdict = session.state.withLock { state in
                guard let synced = state.syncedBooks[book.coin] else {
                    state.syncedBooks[book.coin] = .some(nil)
                    return .snapshot
                }
                if let restTime = synced, book.time < restTime { return .stale }
                return .delta
            }
            switch verdict {
            case .snapshot: try emitOrFail(.snapshot(.l2Book(book)))
            case .delta: try emitOrFail(.book(book))
            case .stale: stats.withLock { $0.staleBooksDropped += 1 }
            }
        case .trades(let trades):
            try emitOrFail(.trades(trades))
        case .mids(let mids):
            try emitOrFail(.mids(mids))
        case .orderUpdates(let updates):
            try emitOrFail(.orderUpdates(updates))
        case .userFills(let user, let isSnapshot, let fills):
            if isSnapshot {
                session.state.withLock { _ = $0.syncedFills.insert(user) }
                try emitOrFail(.snapshot(.userFills(user: user, fills: fills)))
            } else if session.state.withLock({ $0.syncedFills.contains(user) }) {
                try emitOrFail(.fills(user: user, fills: fills))
            } else {
                stats.withLock { $0.deltasBeforeSnapshot += 1 }
            }
        case .error(let text):
            try emitOrFail(.serverError(text))
        }
    }

    /// Yields an event; a full buffer ends the connection so the consumer resynchronises from snapshots.
    private func emitOrFail(_ event: StreamEvent) throws {
        if case .dropped = continuation.yield(event) {
            stats.withLock { $0.consumerOverflows += 1 }
            throw StreamFailure(description: "consumer too slow: \(configuration.bufferSize) events buffered")
        }
    }

    private func emit(_ event: StreamEvent) {
        if case .dropped = continuation.yield(event) { stats.withLock { $0.consumerOverflows += 1 } }
    }
}

/// The first of "connection ended", "connect timed out" and "stopped" wins.
private final class ConnectionRace: Sendable {
    private struct State {
        var reason: String?
        var waiter: CheckedContinuation<String, Never>?
    }
    private let state = Mutex(State())

    func wait() async -> String {
        await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            let ready: String? = state.withLock { state in
                if let reason = state.reason { return reason }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    func finish(_ reason: String) {
        let waiter: CheckedContinuation<String, Never>? = state.withLock { state in
            guard state.reason == nil else { return nil }
            state.reason = reason
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: reason)
    }
}
