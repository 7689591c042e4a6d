import Foundation
import L2Replay
import ServiceKit

/// What `hftbacktest_bench.py` measured: hftbacktest on the same capture, in this run.
struct HftbacktestReport: Decodable {
    struct Workload: Decodable {
        var p50Seconds: Double
        var p99Seconds: Double
        var account: [String: Double]

        var summary: String {
            let value = { (key: String) in self.account[key].map { String(format: "%g", $0) } ?? "?" }
            return "\(value("fills")) fills, position \(value("position")), fees \(value("fee")), balance \(value("balance")) USDT"
        }
    }

    var hftbacktest: String
    var rows: Int
    var convertSeconds: Double
    /// Receive minus exchange time after its converter's correction: the feed latency its strategy sees.
    var feedLatencyMsP50: Double
    var workloads: [String: Workload]

    static func run(
        python: String, script: String, capture: String, workDirectory: String, runs: Int, quoting: QuotingParameters
    ) throws -> HftbacktestReport {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw Helper.Failure(description: "no Python with hftbacktest at \(python): run `.ci/deps.sh bench` (or pass --python)")
        }
        let out = workDirectory + "/hftbacktest.json"
        let log = workDirectory + "/hftbacktest.log"
        try? FileManager.default.removeItem(atPath: out)
        let status = try Helper.runChild(
            python,
            [
                script, "--capture", capture, "--work-dir", workDirectory, "--out", out, "--runs", "\(runs)",
                "--half-spread", "\(quoting.halfSpreadTicks)", "--order-lots", "\(quoting.orderLots)",
                "--max-position-lots", "\(quoting.maxPositionLots)",
            ], log: log)
        guard status == 0, let json = FileManager.default.contents(atPath: out) else {
            let tail = (try? String(contentsOfFile: log, encoding: .utf8))?.suffix(600) ?? ""
            throw Helper.Failure(description: "\(script) failed (\(ChildProcess.describe(status))), see \(log): \(tail)")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(HftbacktestReport.self, from: json)
        } catch {
            throw Helper.Failure(description: "\(out) is not the expected report: \(error)")
        }
    }
}
