import Foundation
import Ledger
import Schema
import ServiceKit
import Storage
import Synchronization

/// Where the report page's data lives, read once from the config: the trace database, the executor's
/// ledger, the starting capital, and which of the two the P&L comes from. `breakwater report --html`
/// and the supervisor's `/` build the same page from it.
struct ReportPageSource: Sendable {
    var tracePath: String
    var ledgerPath: String
    var startingCapital: Amount
    var pnlSource: Report.Source

    init(settings: inout Settings, pnlSource: Report.Source) {
        tracePath = settings.traceDatabasePath()
        ledgerPath = settings.dataPath("executor.ledger", file: "ledger.db")
        startingCapital = settings.amount("account.startingCapital", default: 10_000, minimum: 1)
        self.pnlSource = pnlSource
    }

    /// The page over the window from these open databases; a missing one leaves its sections empty and
    /// the page says why in `notices`.
    func page(
        trace: TraceDatabase?, ledger: LedgerStore?, since: EpochNanos?, until: EpochNanos?, now: EpochNanos,
        refreshSeconds: Int? = nil, notices: [String] = []
    ) throws -> ReportPage {
        var pipeline = PipelineReport(PipelineReport.Inputs(since: since, until: until))
        var errors: [ErrorEvent] = []
        var span: ClosedRange<EpochNanos>?
        // The window's fills are booked once for the P&L, the equity curve and (from the trace's fills)
        // the pipeline's closed trades.
        var replayed: ReplayedLedger?
        if pnlSource == .ledger {
            let (fills, funding) = try Report.pnlRecords(source: .ledger, trace: nil, ledger: ledger, since: since, until: until)
            replayed = try ReplayedLedger(fills: fills, funding: funding, startingCapital: startingCapital)
        }
        if let trace {
            let report = try trace.reportInputs(since: since, until: until, startingCapital: startingCapital)
            pipeline = PipelineReport(report.inputs)
            replayed = replayed ?? report.replayed
            errors = ErrorEvent.events(
                rejects: try trace.messages(OrderReject.self, since: since, until: until).map { ($0.header.publishTime, $0.body) },
                breakers: try trace.messages(BreakerTransition.self, since: since, until: until).map {
                    ($0.header.publishTime, $0.body)
                },
                alerts: try trace.messages(Alert.self, since: since, until: until).map { ($0.header.publishTime, $0.body) })
            span = try Self.publishSpan(trace, since: since, until: until)
        }
        let booked = try replayed ?? ReplayedLedger(fills: [], funding: [], startingCapital: startingCapital)
        return ReportPage(
            generatedAt: now, since: since, until: until, pnlSource: pnlSource.rawValue,
            performance: PerformanceReport(booked), equity: booked.equity,
            pipeline: pipeline, errors: errors, traceSpan: span, refreshSeconds: refreshSeconds, notices: notices)
    }

    /// The first and last publish time in the window, through the time index; nil when nothing was traced.
    static func publishSpan(_ trace: TraceDatabase, since: EpochNanos?, until: EpochNanos?) throws -> ClosedRange<EpochNanos>? {
        // Integers only, so written into the statement.
        let condition =
            "WHERE 1 = 1" + (since.map { " AND publish_time >= \($0)" } ?? "") + (until.map { " AND publish_time < \($0)" } ?? "")
        guard try trace.scalar("SELECT EXISTS (SELECT 1 FROM envelope \(condition))") == 1 else { return nil }
        let first = try trace.scalar("SELECT MIN(publish_time) FROM envelope \(condition)")
        let last = try trace.scalar("SELECT MAX(publish_time) FROM envelope \(condition)")
        return EpochNanos(first)...EpochNanos(max(first, last))
    }
}

/// The supervisor's `/`: the report page over the whole run, built from the run's databases on a queue
/// of its own (the reads block, and the cooperative pool has a thread per core), at most once per
/// `maxAge`; requests meanwhile get the page just built. Read-only: it changes nothing.
final class ReportPageServer: Sendable {
    let source: ReportPageSource
    let refreshSeconds: Int
    let maxAge: Duration
    private let queue = DispatchQueue(label: "breakwater.report-page")
    private struct State {
        var page: (status: Int, html: String, at: ContinuousClock.Instant)?
        var trace: TraceDatabase?
        var ledger: LedgerStore?
    }
    private let state = Mutex(State())

    let clock: WallClock

    init(source: ReportPageSource, refreshSeconds: Int = 10, maxAge: Duration = .seconds(5), clock: WallClock = .system) {
        self.source = source
        self.clock = clock
        self.refreshSeconds = refreshSeconds
        self.maxAge = maxAge
    }

    /// The page and its HTTP status: 200, or 500 with a page that says what failed (and still refreshes).
    func page() async -> (status: Int, html: String) {
        if let fresh = cached() { return fresh }
        return await withCheckedContinuation { continuation in
            queue.async {
                // Another request may have built it while this one waited for the queue.
                if let fresh = self.cached() { return continuation.resume(returning: fresh) }
                let built = self.build()
                self.state.withLock { $0.page = (built.status, built.html, .now) }
                continuation.resume(returning: built)
            }
        }
    }

    private func cached() -> (status: Int, html: String)? {
        state.withLock { state in
            guard let page = state.page, ContinuousClock.now - page.at < maxAge else { return nil }
            return (page.status, page.html)
        }
    }

    /// On the queue only.
    private func build() -> (status: Int, html: String) {
        var notices: [String] = []
        let trace = open(source.tracePath, \.trace, "trace database", "the trace recorder", &notices, TraceDatabase.init(path:))
        let ledger = open(source.ledgerPath, \.ledger, "ledger", "the executor", &notices, LedgerStore.init(path:))
        do {
            let page = try source.page(
                trace: trace, ledger: ledger, since: nil, until: nil, now: clock.now(), refreshSeconds: refreshSeconds,
                notices: notices)
            return (200, page.html())
        } catch {
            return (500, Self.failure("\(error)", refreshSeconds: refreshSeconds))
        }
    }

    /// The database at `path`, opened once and kept; nil, with a notice, while the file is not there or
    /// will not open.
    private func open<Store: Sendable>(
        _ path: String, _ slot: WritableKeyPath<State, Store?>, _ what: String, _ maker: String,
        _ notices: inout [String], _ make: (String) throws -> Store
    ) -> Store? {
        if let open = state.withLock({ $0[keyPath: slot] }) { return open }
        guard FileManager.default.fileExists(atPath: path) else {
            notices.append("No \(what) yet at \(path): \(maker) makes it when it starts.")
            return nil
        }
        do {
            let store = try make(path)
            state.withLock { $0[keyPath: slot] = store }
            return store
        } catch {
            notices.append("The \(what) at \(path) does not open: \(error)")
            return nil
        }
    }

    static func failure(_ message: String, refreshSeconds: Int) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="\(refreshSeconds)">
        <title>Breakwater report</title></head>
        <body><h1>Breakwater report</h1><p>The report could not be built: \(ReportPage.esc(message))</p></body></html>

        """
    }
}
