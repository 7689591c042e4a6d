import Foundation
import Schema
import Testing
import TestSupport

/// The commands of `runbooks/`, as an operator would paste them: every read-only one runs against a
/// running system (ports, paths and binaries moved to the test system's) and must succeed.
enum Runbooks {
    /// A command found in a runbook, with where.
    struct Command: CustomStringConvertible {
        var file: String
        var text: String
        var description: String { "\(file): \(text)" }

        /// What changes state is left out: the runbooks' steps that restart, halt, resume, inject faults
        /// or move files (each is covered by a system test of its own).
        var isReadOnly: Bool {
            let words = text.split(separator: " ").map(String.init)
            if let index = words.firstIndex(where: { $0.hasSuffix("breakwater") }), index + 1 < words.count {
                let command = words[index + 1]
                if ["restart", "down"].contains(command) || (command == "up" && !text.contains("--check-config")) { return false }
            }
            return !["-X POST", "-X DELETE", "/admin/", "model train", "rm ", "mv ", "kill "].contains { text.contains($0) }
        }
    }

    static let programs = [".build/release/", "curl ", "sqlite3 ", "breakwater ", "busspy", "df ", "ss "]

    /// Commands of fenced `sh` blocks (continuation lines joined) and inline code that starts with a program.
    static func commands() throws -> [Command] {
        let folder = Repository.root.appendingPathComponent("runbooks")
        var found: [Command] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() where file.hasSuffix(".md") {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            var inBlock = false
            var pending = ""
            for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
                let line = rawLine.trimmingCharacters(in: .whitespaces)
                if line.hasPrefix("```") {
                    inBlock = line == "```sh" && !inBlock
                    continue
                }
                if inBlock {
                    guard !line.isEmpty || !pending.isEmpty, !line.hasPrefix("#") || !pending.isEmpty else { continue }
                    if line.hasSuffix("\\") {
                        pending += String(line.dropLast()) + " "
                        continue
                    }
                    // A quoted script over several lines (python3 -c '…') is one command.
                    if (pending + line).count(where: { $0 == "'" }) % 2 == 1 {
                        pending += String(rawLine) + "\n"
                        continue
                    }
                    found.append(Command(file: file, text: pending.isEmpty ? line : pending + String(rawLine)))
                    pending = ""
                    continue
                }
                for (index, piece) in line.components(separatedBy: "`").enumerated() where index % 2 == 1 {
                    if programs.contains(where: { piece.hasPrefix($0) }), piece.contains(" ") {
                        found.append(Command(file: file, text: piece))
                    }
                }
            }
        }
        return found
    }
}

extension SystemTests {
    @Test(
        "every read-only command of the runbooks works against a running system",
        .enabled(if: Chroma.installed, "needs ChromaDB in .venv: run `make test`"))
    func runbookCommandsWork() async throws {
        let chromaPort = freePorts(1)[0]
        try await withSystem([
            "signal": RunningSystem.merge(busySignals, ["tradeNotional": "100"]),
            "risk": looseRisk,
            "recall": ["chroma": ["url": "http://127.0.0.1:\(chromaPort)", "managed": true, "command": Chroma.command]],
        ]) { system in
            try await system.waitHealthy()
            try await system.waitUntil("a fill traced", timeout: .seconds(120)) {
                try system.trace().count(type: .fill) > 0
            }
            // The runbooks name the default ports (`make run`); this system has its own.
            var ports: [String: String] = [
                "127.0.0.1:7200": "127.0.0.1:\(system.supervisorPort)", "127.0.0.1:3001": "127.0.0.1:\(system.exchangePort)",
                "127.0.0.1:8000": "127.0.0.1:\(chromaPort)",
            ]
            for (index, service) in RunningSystem.services.enumerated() {
                let admin = try #require(await system.entry(service)?["admin"] as? String)
                ports["127.0.0.1:\(7201 + index)"] = admin.replacingOccurrences(of: "http://", with: "")
            }
            let traceId = try #require(try system.trace().messages(Schema.Fill.self).first?.header.traceId)
            let binaries = Repository.binaries.path + "/"
            let config = "--config \(system.configPath)"

            let commands = try Runbooks.commands()
            // Placeholders (`<pid>`, `<the token>`) are the operator's to fill.
            let readOnly = commands.filter { $0.isReadOnly && $0.text.range(of: #"<[a-z ]+>"#, options: .regularExpression) == nil }
            #expect(commands.count >= 60 && readOnly.count >= 40, "\(commands.count) commands, \(readOnly.count) read-only")
            // Four at a time: read-only, and half of them are busspy listening for its two seconds.
            var scripts: [(command: Runbooks.Command, text: String, script: String)] = []
            for command in readOnly {
                var text = command.text
                for (from, to) in ports { text = text.replacingOccurrences(of: from, with: to) }
                text = text.replacingOccurrences(of: "TRACE_ID", with: traceId)
                    .replacingOccurrences(of: ".build/release/", with: binaries)
                    .replacingOccurrences(of: #"(^|\| *|; *)(breakwater|busspy) "#, with: "$1\(binaries)$2 ", options: .regularExpression)
                // Each program of this build with this system's config, after its subcommands.
                text = text.replacingOccurrences(
                    of: #"(/(?:breakwater(?: [a-z][a-z-]*)*|busspy|feed-handler|signal-generator|risk-gate|executor|trace-recorder))(?= |$)"#,
                    with: "$1 \(config)", options: .regularExpression)
                // busspy follows the bus until stopped: two seconds of it, then SIGINT as Ctrl-C would.
                let bounded = text.contains("busspy") && !text.contains("--count") && !text.contains("--seconds")
                let script = bounded
                    ? "timeout -s INT 2 \(text)\nstatus=${PIPESTATUS[0]}; [ $status -eq 124 ] && exit 0; exit $status"
                    : "\(text)\nexit ${PIPESTATUS[0]}"
                scripts.append((command, text, script))
            }
            let environment = ProcessInfo.processInfo.environment.merging(
                ["BREAKWATER_ADMIN_TOKEN": RunningSystem.adminToken]) { $1 }
            let directory = system.directory
            try await withThrowingTaskGroup(of: (Int, ProcessResult).self) { group in
                var next = 0
                func start() {
                    guard next < scripts.count else { return }
                    let index = next, script = scripts[index].script
                    next += 1
                    group.addTask {
                        (index, try await runProcess(
                            URL(fileURLWithPath: "/bin/bash"), ["-c", script], directory: directory, environment: environment))
                    }
                }
                for _ in 0..<4 { start() }
                while let (index, result) = try await group.next() {
                    let (command, text, _) = scripts[index]
                    #expect(
                        result.status == 0,
                        "\(command)\n  ran: \(text)\n  exit \(result.status): \(result.errorText.suffix(400))\(result.outputText.suffix(400))")
                    start()
                }
            }
        }
    }
}
