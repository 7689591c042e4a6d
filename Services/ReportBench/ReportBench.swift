import ArgumentParser
import BenchKit
import Foundation
import Ledger
import Schema
import Storage

/// The operator's report over a big trace: generates a trace database of `--cycles` decision cycles
/// through the recorder's own write path (printing its envelopes per second), then times the whole
/// pipeline report and the P&L report over it, run after run, against a baseline measured in the
/// same run: the same funnel and strategy counts taken by decoding every signal, intent, decision
/// and order of the window, as the report did before its counts moved into indexed columns.
@main
struct ReportBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report-bench", abstract: "Time `breakwater report --pipeline` over a generated trace database.")

    @Option(help: "Decision cycles generated (one bar and one signal each; a share goes on to an order).")
    var cycles = 1_000_000

    @Option(help: "Share of the cycles whose signal is approved and becomes an entry intent.")
    var approvedShare = 0.05

    @Option(help: "Timed report runs.")
    var runs = 7

    @Option(help: "Trace database to write and keep, or to reuse if it has cycles; default: a temporary file, removed at the end.")
    var database: String?

    @Flag(help: "Also time the report's parts once: cycle count, stage latencies, fills, alerts, the counts.")
    var parts = false

    @Flag(help: "Skip the baseline (decoding every message), which takes tens of seconds at a million cycles.")
    var noBaseline = false

    func run() throws {
        let path = database ?? FileManager.default.temporaryDirectory.appendingPathComponent(
            "report-bench-\(UUID().uuidString).db").path
        defer {
            if database == nil {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            }
        }
        let trace = try TraceDatabase(path: path)
        let start: EpochNanos = 1_767_225_600_000_000_000  // 2026-01-01
        let existing = try trace.cycleCount()
        if existing > 0 {
            print("reusing \(path): \(existing) cycles")
        } else {
            let (envelopes, seconds) = try generate(into: trace, from: start)
            print(
                "generated \(cycles) cycles, \(envelopes) envelopes through the recorder's write path in "
                    + String(format: "%.1f s: %.0f envelopes/s", seconds, Double(envelopes) / seconds))
        }

        if parts {
            func part(_ name: String, _ body: () throws -> Void) rethrows {
                let (began, cpu) = (monotonicNanos(), cpuSeconds())
                try body()
                print(
                    "  " + name
                        + String(format: ": %.0f ms, CPU %.0f ms", Double(monotonicNanos() - began) / 1e6, (cpuSeconds() - cpu) * 1e3))
            }
            try part("cycleCount") { _ = try trace.cycleCount() }
            try part("stageLatencies") { _ = try trace.stageLatencies() }
            try part("fills") { _ = try trace.messages(Fill.self) }
            try part("replay") { _ = try trace.replay(startingCapital: 10_000) }
            try part("alerts") { _ = try trace.messages(Alert.self) }
            try part("pipelineInputs") { _ = try trace.pipelineInputs(startingCapital: 10_000) }
        }
        var timings: [Double] = []
        var report: PipelineReport?
        let cpuBefore = cpuSeconds()
        for _ in 0..<runs {
            let began = monotonicNanos()
            // As `breakwater report --html` builds it: the window's fills booked once for both reports.
            let (inputs, replayed) = try trace.reportInputs(startingCapital: 10_000)
            report = PipelineReport(inputs)
            _ = PerformanceReport(replayed)
            timings.append(Double(monotonicNanos() - began) / 1e6)
        }
        let cpuPerRun = (cpuSeconds() - cpuBefore) / Double(max(runs, 1)) * 1e3
        guard let report else { return }
        let sorted = timings.sorted()
        let median = sorted[sorted.count / 2]
        let p99 = sorted[min(sorted.count - 1, Int((0.99 * Double(sorted.count)).rounded(.up)) - 1)]
        print(
            "whole report (pipeline + P&L) over \(report.cycles) cycles, \(runs) runs: "
                + String(format: "median %.0f ms, p99 %.0f ms (CPU %.0f ms a run, all threads)", median, p99, cpuPerRun))
        print(
            "  funnel: \(report.funnel.signals) signals → \(report.funnel.approved) approved → "
                + "\(report.funnel.riskApproved) risk-approved → \(report.funnel.sent) sent → \(report.funnel.filled) filled "
                + "→ \(report.funnel.closed) closed → \(report.funnel.winners) winners")
        guard !noBaseline else { return }
        let began = monotonicNanos()
        let baseline = try decodedFunnel(trace)
        let baselineMs = Double(monotonicNanos() - began) / 1e6
        let same = baseline == [report.funnel.signals, report.funnel.approved, report.funnel.riskApproved, report.funnel.sent]
        print(
            String(format: "baseline (decode every message of the window): %.0f ms, ratio %.1f× (same counts: %@)",
                baselineMs, baselineMs / median, same ? "yes" : "NO"))
        if !same { throw ExitCode(1) }
    }

    /// Cycles as the services publish them: a bar, a signal (most rejected, with one of a few reasons),
    /// and for the approved share an entry intent, a decision (a fifth refused), an order, an ack and a
    /// fill; every tenth filled position closed by the next one's opposite fill.
    func generate(into trace: TraceDatabase, from start: EpochNanos) throws -> (Int, Double) {
        let reasons: [(ReasonCode, String)] = [
            ("rsi_neutral", "rsi 48.2 inside 30…70"), ("warming_up", "RSI(14) needs 15 closes"),
            ("no_crossover", "sma 10 still below sma 30"),
        ]
        var sequence: [String: UInt64] = [:]
        func envelope<M: BusMessage>(_ body: M, _ source: String, _ at: EpochNanos, _ trace: String) throws -> TraceBatch.Item {
            sequence[source, default: 0] += 1
            let header = EnvelopeHeader(
                type: M.messageType.rawValue, source: source, instance: "bench", sequence: sequence[source]!,
                publishTime: at, traceId: trace, symbol: body.symbol)
            let bytes = try EnvelopeCodec.encode(Envelope(header: header, body: body))
            return TraceBatch.Item(envelope: try RawEnvelope(topic: body.topic, bytes: bytes), receivedAt: at + 20_000)
        }
        let approvedEvery = max(1, Int((1 / approvedShare).rounded()))
        var batch = TraceBatch()
        var written = 0
        var writeNanos: Int64 = 0
        var open = false
        func flush() throws {
            let began = monotonicNanos()
            try trace.write(batch)
            writeNanos += monotonicNanos() - began
            written += batch.envelopes.count
            batch = TraceBatch()
        }
        for index in 0..<cycles {
            let at = start + Int64(index) * 1_000_000_000
            let id = String(index)
            let approved = index % approvedEvery == 0
            // Entries on one symbol, so that each fill closes the position the one before opened.
            let symbol = approved ? "BTC" : ["ETH", "SOL", "XRP"][index % 3]
            let strategy = index % 3 == 0 ? "sma_fast" : "rsi_standard"
            let price = Amount(10_000 + (index % 500))
            batch.envelopes.append(
                try envelope(
                    Bar(symbol: symbol, intervalSeconds: 60, openTime: at, open: price, high: price, low: price, close: price, volume: 1),
                    "feed-handler", at, id))
            let reason = reasons[index % reasons.count]
            batch.envelopes.append(
                try envelope(
                    Signal(
                        signalId: "s\(id)", symbol: symbol, strategy: strategy, direction: .long, confidence: 0.6,
                        referencePrice: price, barTime: at, indicators: ["rsi": 28.5], decision: approved ? .approved : .rejected,
                        reasons: [approved ? Reason(.approved, "rsi 28.5 < 30") : Reason(reason.0, reason.1)]),
                    "signal-generator", at + 150_000, id))
            if approved {
                let intent = OrderIntent(
                    intentId: "i\(id)", symbol: symbol, side: open ? .sell : .buy, size: 1, orderType: .market, price: price,
                    purpose: .entry, reduceOnly: false, strategy: strategy, origin: "s\(id)", createdAt: at, expiresAt: at + 5_000_000_000)
                batch.envelopes.append(try envelope(intent, "signal-generator", at + 200_000, id))
                let refused = (index / approvedEvery) % 5 == 4
                batch.envelopes.append(
                    try envelope(
                        RiskDecision(
                            intentId: "i\(id)", symbol: symbol, outcome: refused ? .rejected : .approved,
                            reasons: [refused ? Reason(.maxOpenPositions, "8 of 8") : Reason(.withinLimits, "slots 1 of 8")],
                            requestedSize: 1, approvedSize: refused ? 0 : 1, clientOrderId: refused ? nil : "c\(id)"),
                        "risk-gate", at + 300_000, id))
                if !refused {
                    batch.envelopes.append(
                        try envelope(
                            OrderCommand(
                                action: .place, clientOrderId: "c\(id)", intentId: "i\(id)", symbol: symbol, side: intent.side,
                                size: 1, orderType: .market, price: price, timeInForce: .ioc, reduceOnly: false, purpose: .entry,
                                strategy: strategy, ackDeadline: at + 5_000_000_000),
                            "risk-gate", at + 350_000, id))
                    batch.envelopes.append(
                        try envelope(
                            OrderAck(clientOrderId: "c\(id)", venueOrderId: "\(index)", symbol: symbol, action: .place),
                            "executor", at + 2_000_000, id))
                    batch.envelopes.append(
                        try envelope(
                            Fill(
                                fillId: "f\(id)", clientOrderId: "c\(id)", symbol: symbol, side: intent.side, price: price, size: 1,
                                fee: "0.5", liquidity: .taker, purpose: .entry, strategy: strategy, time: at + 2_100_000),
                            "executor", at + 2_100_000, id))
                    open.toggle()
                }
            }
            if batch.envelopes.count >= 20_000 { try flush() }
        }
        try flush()
        return (written, Double(writeNanos) / 1e9)
    }

    /// User and system CPU time of this process so far: on a loaded machine, what a run costs.
    func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// Signals, approved signals, risk-approved entries and entry orders counted by decoding each message.
    func decodedFunnel(_ trace: TraceDatabase) throws -> [Int] {
        let signals = try trace.messages(Signal.self).map(\.body)
        let entries = Set(try trace.messages(OrderIntent.self).map(\.body).filter { $0.purpose == .entry }.map(\.intentId))
        let decisions = try trace.messages(RiskDecision.self).map(\.body)
        let commands = try trace.messages(OrderCommand.self).map(\.body)
        return [
            signals.count, signals.count { $0.decision == .approved },
            decisions.count { $0.outcome != .rejected && entries.contains($0.intentId) },
            commands.count { $0.action == .place && $0.purpose == .entry },
        ]
    }
}
