import BenchKit
import Foundation
import L2Replay
import ServiceKit

enum Helper {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs a child to its end, stdout and stderr into `log`; its wait status.
    static func runChild(_ executable: String, _ arguments: [String], log: String) throws -> Int32 {
        try? FileManager.default.removeItem(atPath: log)
        let status = Locked<Int32>(0)
        let done = DispatchSemaphore(value: 0)
        _ = try ChildProcess.spawn(
            executable: executable, arguments: arguments, environment: ProcessInfo.processInfo.environment, log: log
        ) { exit in
            status.withLock { $0 = exit }
            done.signal()
        }
        done.wait()
        return status.withLock { $0 }
    }

    /// One untimed run, then `runs` timed ones.
    static func time(_ workload: BenchWorkload, runs: Int) -> (Percentiles, WorkloadResult) {
        var result = workload.run()
        var nanos: [Int64] = []
        for _ in 0..<runs {
            let start = monotonicNanos()
            let run = workload.run()
            nanos.append(monotonicNanos() - start)
            guard run.checksum == result.checksum else {
                fatalError("\(workload.name): a replay of the same events gave another result")
            }
            result = run
        }
        return (Percentiles(runNanos: nanos), result)
    }

    static func describe(_ report: L2LoadReport) -> String {
        let counts = report.faults.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key.rawValue)" }.joined(separator: ", ")
        let first = report.firstFaults.prefix(3).map(\.description).joined(separator: "; ")
        return "\(counts) (left out: --skip-faults); first: \(first); \(report.diffsWhileUnsynced) diffs out of sync"
    }

    static func perSecond(_ events: Int, micros: Double) -> Double { Double(events) / (micros / 1e6) }

    static func millions(_ value: Double) -> String { String(format: "%.2f M", value / 1e6) }

    static func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return left ? fill + text : text + fill
    }

    static func row(_ name: String, events: Int, p50Micros: Double, p99Micros: Double, ratio: String) -> String {
        pad(name, 50) + pad("\(events)", 9, left: true) + pad(String(format: "%.1f", p50Micros / 1000), 9, left: true)
            + pad(millions(perSecond(events, micros: p50Micros)), 11, left: true)
            + pad(millions(perSecond(events, micros: p99Micros)), 11, left: true) + pad(ratio, 14, left: true)
    }

    static func printTable(_ measured: [(BenchWorkload, Percentiles, WorkloadResult)], baseline: HftbacktestReport?, runs: Int) {
        print(
            "\n\(runs) timed runs per workload after one warm-up, on one core of \(ProcessInfo.processInfo.activeProcessorCount); "
                + "p99 by nearest rank (of \(runs) runs, the slowest)")
        print(
            pad("workload", 50) + pad("events", 9, left: true) + pad("p50 ms", 9, left: true) + pad("p50 ev/s", 11, left: true)
                + pad("p99 ev/s", 11, left: true) + pad("×hftbacktest", 14, left: true))
        for (workload, percentiles, result) in measured {
            var ratio = "—"
            var theirs: HftbacktestReport.Workload?
            if let key = workload.baseline, let found = baseline?.workloads[key] {
                theirs = found
                // Time over the same capture: the event counts of the two differ (see below).
                ratio = String(format: "%.2f× faster", found.p50Seconds * 1e6 / percentiles.p50)
            }
            print(row(workload.name, events: workload.events, p50Micros: percentiles.p50, p99Micros: percentiles.p99, ratio: ratio))
            print("    " + result.summary)
            if let theirs, let baseline {
                print(
                    row(
                        "  hftbacktest \(baseline.hftbacktest), same capture", events: baseline.rows,
                        p50Micros: theirs.p50Seconds * 1e6, p99Micros: theirs.p99Seconds * 1e6, ratio: "1.00×"))
                print("    " + theirs.summary)
            }
        }
    }

    /// The figures as one line of JSON, as every bench ends.
    static func printJSON(_ measured: [(BenchWorkload, Percentiles, WorkloadResult)], baseline: HftbacktestReport?) throws {
        var workloads: [String: Any] = [:]
        for (workload, percentiles, _) in measured {
            var entry: [String: Any] = [
                "events": workload.events, "p50Ms": percentiles.p50 / 1000,
                "p50EventsPerSecond": perSecond(workload.events, micros: percentiles.p50),
                "p99EventsPerSecond": perSecond(workload.events, micros: percentiles.p99),
            ]
            if let key = workload.baseline, let baseline, let theirs = baseline.workloads[key] {
                entry["hftbacktest"] = [
                    "rows": baseline.rows, "p50Ms": theirs.p50Seconds * 1000,
                    "p50EventsPerSecond": Double(baseline.rows) / theirs.p50Seconds,
                    "p99EventsPerSecond": Double(baseline.rows) / theirs.p99Seconds,
                ]
                entry["speedupP50"] = theirs.p50Seconds * 1e6 / percentiles.p50
            }
            workloads[workload.name] = entry
        }
        var summary: [String: Any] = ["workloads": workloads]
        if let baseline { summary["hftbacktestVersion"] = baseline.hftbacktest }
        let json = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }

    static func printVerdict(_ measured: [(BenchWorkload, Percentiles, WorkloadResult)], baseline: HftbacktestReport?, capture: L2Capture) {
        if let (workload, percentiles, _) = measured.first(where: { $0.0.baseline == "book" }) {
            let rate = perSecond(workload.events, micros: percentiles.p50)
            print("\ngoal ≥ 3 M L2 events/s with book maintenance on one core: \(millions(rate)) at p50, " + (rate >= 3e6 ? "met" : "NOT met"))
        }
        if let baseline {
            print("hftbacktest converted the capture in " + String(format: "%.1f s", baseline.convertSeconds) + " to \(baseline.rows) rows")
        }
        let latency = baseline.map { String(format: "%.1f ms later at the median here", $0.feedLatencyMsP50) } ?? "by its feed latency"
        print(
            """
            What differs between the workloads (the ratio is hftbacktest's p50 time over ours, the same capture for both):
              - events: ours are the levels of every diff applied after the snapshot, the snapshot's levels, one clear and the
                MARKET trades (\(capture.events.count)); hftbacktest's rows are one per level of every diff (the \(capture.report.staleDiffs)
                stale ones before the snapshot too), the snapshot's levels, two clears and the trades, and its converter's event
                order correction writes a row twice (exchange-only and local-only) wherever exchange and receive order differ.
                Neither replays bookTicker lines (its converter drops them without opt 't').
              - hftbacktest keeps two books (its local one at receive time and its exchange one at exchange time) and models
                feed latency and order latency (set to zero here) with order responses; ours keeps one book at receive time.
              - hftbacktest prices and sizes in f64 in a hash map book; ours integer ticks and lots in a dense array.
              - the market maker: the same quoting rule (mid ± half spread, floor and ceiling, post-only, requoted when the mid
                moves, position limit), evaluated after every diff and every trade; both fill by the risk-averse queue model
                without partial fills, maker fee 0.02 %. hftbacktest's strategy is numba-compiled Python calling Rust through its
                C ABI at each of those wake-ups; ours is inlined Swift. Fills differ, most likely because its converter moves
                receive times after the exchange's (correct_local_timestamp; \(latency)):
                its quotes answer a book its exchange has already moved past, and post-only ones that would cross are
                rejected. Ours rest from the event that placed them, with no latency at all.
              - the product's market maker (no hftbacktest counterpart) is `breakwater backtest --market binance-l2`'s path:
                the venue plays the book every 100 ms of capture time and each print (its events), and every order goes
                through the signal generator's maker, the risk gate, the executor's quote keeping and the FIFO ledger in
                Decimal — the services' own code, not a quoting rule written for the bench.
            """)
    }
}
