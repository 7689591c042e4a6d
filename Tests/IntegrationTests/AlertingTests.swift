import Foundation
import Testing
import TestSupport

/// The alert rules, checked and unit-tested by Debian's promtool.
@Suite("Alert rules")
struct AlertRuleTests {
    static let promtool = "/usr/bin/promtool"

    @Test(
        "promtool checks the rules and runs their tests: each fires, is pending, stays quiet",
        .enabled(if: FileManager.default.isExecutableFile(atPath: promtool), "needs promtool: `make test` installs prometheus"))
    func promtoolRuleTests() async throws {
        let folder = Repository.root.appendingPathComponent("compose/prometheus")
        for arguments in [["check", "rules", "alerts.yml"], ["test", "rules", "alerts.test.yml"]] {
            let result = try await runProcess(
                URL(fileURLWithPath: Self.promtool), arguments, directory: folder, errorsIntoOutput: true)
            let output = result.outputText
            #expect(result.status == 0, "promtool \(arguments.joined(separator: " ")):\n\(output)")
        }
    }

    /// Every rule pages with a severity and a runbook that exists, and has cases in the test file.
    @Test func everyRuleHasASeverityARunbookAndTests() throws {
        let folder = Repository.root.appendingPathComponent("compose/prometheus")
        let rules = try String(contentsOf: folder.appendingPathComponent("alerts.yml"), encoding: .utf8)
        let tests = try String(contentsOf: folder.appendingPathComponent("alerts.test.yml"), encoding: .utf8)
        // One block per `- alert:` line, up to the next.
        let blocks = rules.components(separatedBy: "- alert: ").dropFirst()
        #expect(blocks.count >= 24)
        for block in blocks {
            let name = String(block.prefix { !$0.isNewline })
            #expect(block.contains("labels: { severity: "), "\(name): no severity")
            #expect(block.contains("for: "), "\(name): no `for:`, so nothing to be pending")
            #expect(tests.contains("alertname: \(name)\n"), "\(name): no promtool case in alerts.test.yml")
            let runbook = block.components(separatedBy: "\n").first { $0.contains("runbook_url: ") }
                .map { $0.components(separatedBy: "runbook_url: ")[1].trimmingCharacters(in: .whitespaces) }
            #expect(runbook != nil, "\(name): no runbook_url")
            if let runbook {
                let path = Repository.root.appendingPathComponent(runbook).path
                #expect(FileManager.default.fileExists(atPath: path), "\(name): \(runbook) does not exist")
            }
        }
    }
}

/// The Alertmanager config (compose/alertmanager), checked by Debian's amtool and run by its alertmanager.
@Suite("Alert routing")
struct AlertRoutingTests {
    static let amtool = "/usr/bin/amtool"
    static let alertmanager = "/usr/bin/prometheus-alertmanager"
    static let config = Repository.root.appendingPathComponent("compose/alertmanager/alertmanager.yml")
    static var installed: Bool {
        FileManager.default.isExecutableFile(atPath: amtool) && FileManager.default.isExecutableFile(atPath: alertmanager)
    }

    func amtool(_ arguments: [String]) async throws -> ProcessResult {
        try await runProcess(URL(fileURLWithPath: Self.amtool), arguments, errorsIntoOutput: true)
    }

    @Test(
        "amtool accepts the config; critical alerts go to the page receiver, the rest to notify",
        .enabled(if: installed, "needs Alertmanager: `make test` installs prometheus-alertmanager"))
    func routes() async throws {
        let check = try await amtool(["check-config", Self.config.path])
        #expect(check.status == 0, "\(check.outputText)")
        for (labels, receiver) in [
            (["severity=critical", "alertname=DailyLossNearLimit"], "page"),
            (["severity=warning", "alertname=FeedStale"], "notify"),
            (["alertname=Unlabelled"], "notify"),
        ] {
            let route = try await amtool(["config", "routes", "test", "--config.file=\(Self.config.path)"] + labels)
            let answer = route.outputText.split(separator: "\n").first { !$0.hasPrefix("Warning") } ?? ""
            #expect(answer == receiver, "\(labels) went to \(route.outputText)")
        }
    }

    @Test(
        "a real Alertmanager with the config delivers a critical alert to its webhook with the runbook",
        .enabled(if: installed, "needs Alertmanager: `make test` installs prometheus-alertmanager"))
    func deliversToWebhook() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let ports = freePorts(3)
        let (api, cluster, webhook) = (ports[0], ports[1], ports[2])
        // The shipped config with its webhook moved to this test's listener.
        let shipped = try String(contentsOf: Self.config, encoding: .utf8)
        #expect(shipped.contains("http://127.0.0.1:9095/"))
        let config = try folder.write("alertmanager.yml", shipped.replacingOccurrences(of: "127.0.0.1:9095", with: "127.0.0.1:\(webhook)"))
        let received = folder.path("received")
        let listener = Process()
        listener.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        listener.arguments = ["-c", Self.webhookListener, String(webhook), received]
        listener.standardOutput = FileHandle.nullDevice
        listener.standardError = FileHandle.nullDevice
        try listener.run()
        let manager = Process()
        manager.executableURL = URL(fileURLWithPath: Self.alertmanager)
        manager.arguments = [
            "--config.file=\(config)", "--storage.path=\(folder.path("data"))",
            "--web.listen-address=127.0.0.1:\(api)", "--cluster.listen-address=127.0.0.1:\(cluster)",
        ]
        manager.standardOutput = FileHandle.nullDevice
        manager.standardError = FileHandle.nullDevice
        try manager.run()
        defer {
            manager.terminate()
            // Python's default SIGTERM handling does not reach serve_forever from a Foundation child.
            kill(listener.processIdentifier, SIGKILL)
            manager.waitUntilExit()
            listener.waitUntilExit()
        }
        // As Prometheus would send it, through Alertmanager's own client.
        let alert = [
            "alert", "add", "--alertmanager.url=http://127.0.0.1:\(api)", "alertname=DailyLossNearLimit", "severity=critical",
            "instance=risk-gate", "--annotation=summary=daily loss at 80 % of its limit",
            "--annotation=runbook_url=runbooks/daily-loss.md",
        ]
        let deadline = ContinuousClock.now + .seconds(30)
        var posted = try await amtool(alert)
        while posted.status != 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            posted = try await amtool(alert)
        }
        try #require(posted.status == 0, "Alertmanager did not take the alert on port \(api): \(posted.outputText)")
        // The critical route waits 5 s to group, then posts.
        var delivered = ""
        while delivered.isEmpty && ContinuousClock.now < deadline + .seconds(15) {
            delivered = (try? String(contentsOfFile: received, encoding: .utf8)) ?? ""
            if delivered.isEmpty { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(delivered.hasPrefix("/breakwater/page "), "\(delivered.prefix(300))")
        #expect(delivered.contains("\"receiver\":\"page\"") && delivered.contains("DailyLossNearLimit"))
        #expect(delivered.contains("runbooks/daily-loss.md"))
    }

    /// Writes `<path> <body>` of every POST so far to the file given (whole, by rename), then answers 200.
    static let webhookListener = """
        import http.server, os, sys
        port, out = int(sys.argv[1]), sys.argv[2]
        seen = []
        class Hook(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                seen.append(self.path + " " + self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
                with open(out + ".part", "w") as f:
                    f.write("\\n".join(seen) + "\\n")
                os.replace(out + ".part", out)
                self.send_response(200)
                self.end_headers()
            def log_message(self, *args):
                pass
        http.server.HTTPServer(("127.0.0.1", port), Hook).serve_forever()
        """
}
