import ArgumentParser
import Bus
import Foundation
import Hummingbird
import Logging
import Market
import Metrics
import Ledger
import Schema
import ServiceKit
import Storage
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The operator's command: runs the system and talks to it while it runs.
@main
struct Breakwater: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "breakwater",
        abstract: "Run and operate Breakwater.",
        subcommands: [
            Up.self, Status.self, Restart.self, Logs.self, Down.self, Report.self, ModelCommand.self, Keys.self,
            PaperKey.self, Serve.self, Probe.self, BacktestCommand.self,
        ])
}

/// Options every subcommand shares: where the config and the run data are.
struct Common: ParsableArguments {
    @Option(help: "The JSON config file (BREAKWATER_… environment variables override it).")
    var config: String?

    @Option(help: "Directory for logs and run data.")
    var varDir: String = "var"

    /// The supervisor's admin address, from `supervisor.admin` (default 127.0.0.1:7200).
    func load() async throws -> (Topology, HostPort, Settings) {
        var environment = ProcessInfo.processInfo.environment
        environment["BREAKWATER_VAR_DIR"] = varDir
        var settings = await Settings.load(file: config, environment: environment)
        let topology = Topology.read(&settings)
        let admin = settings.hostPort("supervisor.admin", default: HostPort(host: "127.0.0.1", port: 7200))
        if !settings.problems.isEmpty {
            for problem in settings.problems { printError("config problem: \(problem)") }
            throw ExitCode(2)
        }
        return (topology, admin, settings)
    }

    /// The client of a running supervisor, with the operator token: the configured one, else the
    /// one `up` keeps under the var directory.
    func supervisor() async throws -> SupervisorClient {
        var (_, admin, settings) = try await load()
        let token = OperatorToken.read(&settings) ?? OperatorToken.stored(varDir: varDir)
        return SupervisorClient(admin: admin, token: token)
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run every service as its own process, in the foreground; Ctrl-C stops them all.")

    @OptionGroup var common: Common

    @Flag(help: "Check the config as the supervisor and every service read it, print the problems, and exit (non-zero on any).")
    var checkConfig = false

    func run() async throws {
        var (topology, adminAddress, settings) = try await common.load()
        if checkConfig { return try await check(&settings) }
        try FileManager.default.createDirectory(atPath: common.varDir, withIntermediateDirectories: true)
        let directory = URL(fileURLWithPath: CommandLine.executablePath).deletingLastPathComponent().path
        let logs = "\(common.varDir)/logs"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        var arguments: [String] = []
        if let config = common.config { arguments = ["--config", config] }
        // The recorder first, so it sees everything; the feed last, so nobody misses a bar.
        let order: [ServiceName] = [.traceRecorder, .executor, .riskGate, .signalGenerator, .feedHandler]
        var specs = order.map { service in
            ChildSpec(
                name: service.rawValue, executable: "\(directory)/\(service.rawValue)", arguments: arguments,
                environment: ["BREAKWATER_VAR_DIR": common.varDir],
                bus: topology.bus(service), admin: topology.admin(service).baseURL)
        }
        for spec in specs where !FileManager.default.isExecutableFile(atPath: spec.executable) {
            printError("missing executable \(spec.executable); build with `swift build` first")
            throw ExitCode(1)
        }
        // Every state-changing admin route wants the operator token: configured, or made once and kept.
        var operatorToken = OperatorToken.read(&settings)
        if operatorToken == nil {
            do {
                let (token, created) = try OperatorToken.ensureStored(varDir: common.varDir)
                operatorToken = token
                if created { print("[breakwater] new operator token in \(OperatorToken.file(varDir: common.varDir))") }
            } catch {
                printError("breakwater: \(error)")
                throw ExitCode(2)
            }
        }
        for index in specs.indices { specs[index].environment[OperatorToken.variable] = operatorToken }
        // The exchange: exchange-sim in paper mode; testnet and mainnet need the key before anything starts.
        var exchange = ExchangeSettings.read(&settings, needsKey: false)
        do {
            if let paper = try PaperExchange.prepare(
                &settings, exchange: exchange, varDir: common.varDir, executables: directory)
            {
                specs.insert(paper.spec, at: 0)
                print("[breakwater] paper mode: exchange-sim at \(paper.spec.admin!), account \(paper.address.checksummed)"
                    + (paper.keyCreated ? " (new paper key in \(common.varDir))" : ""))
                if let archived = paper.archived { print("[breakwater] previous paper session moved to \(archived)") }
            } else if settings.problems.isEmpty {
                exchange.readKey(&settings)
            }
        } catch {
            printError("breakwater: \(error)")
            throw ExitCode(2)
        }
        // `/` on the admin port: the report page over the run, P&L from the executor's ledger.
        let pageSource = ReportPageSource(settings: &settings, pnlSource: .ledger)
        if !settings.problems.isEmpty {
            for problem in settings.problems { printError("config problem: \(problem)") }
            throw ExitCode(2)
        }
        // The bus's keys: one keypair per process, made once under the var directory (or given in config).
        do {
            let made = try BusKeys.ensureStored(&settings)
            if !made.isEmpty { print("[breakwater] new bus keys for \(made.joined(separator: ", ")) in \(BusKeys.directory(&settings))") }
        } catch {
            printError("breakwater: \(error)")
            throw ExitCode(2)
        }
        let authentication = BusKeys.read(&settings, principal: BusKeys.supervisor)
        if !settings.problems.isEmpty {
            for problem in settings.problems { printError("config problem: \(problem)") }
            throw ExitCode(2)
        }
        if let chroma = try Self.chromaSpec(&settings, varDir: common.varDir) { specs.insert(chroma, at: 0) }
        let logger = Logger(label: "breakwater") { JSONLogHandler(label: $0, level: .warning) }
        let supervisor = Supervisor(specs: specs, logDirectory: logs, logger: logger)
        if let warning = authentication.warning { print("[breakwater] warning: \(warning)") }

        let context = BusContext()
        let subscriber = try Subscriber(
            context: context, peers: BusAuthentication.peers(order, in: topology),
            security: authentication.security(rejections: BusRejections(factory: supervisor.metrics, logger: logger)),
            topics: ["svc.hb"], counters: BusCounters(factory: NOOPMetricsHandler.instance, role: "supervisor"),
            logger: logger
        ) { event in
            guard case .envelope(let raw) = event, let beat = try? raw.decode(Heartbeat.self) else { return }
            supervisor.heartbeat(beat, instance: raw.header.instance)
        }

        let (shutdown, trigger) = AsyncStream<String>.makeStream()
        let reportPage = ReportPageServer(source: pageSource)
        let admin = SupervisorAdmin.make(
            address: adminAddress, supervisor: supervisor, token: operatorToken, reportPage: reportPage, logger: logger
        ) {
            trigger.yield("down requested")
        }
        // run(), not runService(): a service group would take SIGTERM from the supervisor.
        _ = Task { try await admin.run() }
        let signals = Task {
            for await signal in TerminationSignals.stream() { trigger.yield("signal \(signal)") }
        }
        supervisor.say("starting \(specs.count) processes; admin on \(adminAddress)")
        let probes = Task { await supervisor.probeDependencies() }
        defer { probes.cancel() }
        try? "\(getpid())\n".write(toFile: "\(common.varDir)/breakwater.pid", atomically: true, encoding: .utf8)
        let starting = Task { await supervisor.startAll(waitingFor: ["exchange-sim"]) }
        defer { starting.cancel() }

        var iterator = shutdown.makeAsyncIterator()
        let why = await iterator.next() ?? "stream ended"
        supervisor.say("stopping (\(why))")
        await supervisor.stopAll()
        signals.cancel()
        subscriber.close()
        context.terminate()
        try? FileManager.default.removeItem(atPath: "\(common.varDir)/breakwater.pid")
        supervisor.say("stopped")
    }
}

extension Up {
    /// `--check-config`: the supervisor's own keys, then each service's `--check-config` with the same
    /// config and environment, so that one command lists every problem of every process.
    func check(_ settings: inout Settings) async throws {
        _ = OperatorToken.read(&settings)
        // `up` makes the bus keys at its first start; the check makes them too, so that it checks what `up` runs.
        do { _ = try BusKeys.ensureStored(&settings) } catch { settings.problem("bus keys: \(error)") }
        _ = BusKeys.read(&settings, principal: BusKeys.supervisor)
        var exchange = ExchangeSettings.read(&settings, needsKey: false)
        let simulator = PaperExchange.simulatorArguments(&settings, exchange: exchange)
        if simulator == nil, settings.problems.isEmpty { exchange.readKey(&settings) }
        var failed = !settings.problems.isEmpty
        for problem in settings.problems { printError("config problem: \(problem)") }
        let verdict = failed ? "\(settings.problems.count) config problem(s)" : "config OK"
        FileHandle.standardOutput.write(Data("breakwater: \(verdict) (\(settings.sourceDescription))\n".utf8))
        let directory = URL(fileURLWithPath: CommandLine.executablePath).deletingLastPathComponent().path
        var environment = ProcessInfo.processInfo.environment
        environment["BREAKWATER_VAR_DIR"] = common.varDir
        if simulator != nil, !FileManager.default.fileExists(atPath: ExchangeSettings.paperKeyFile(&settings)),
            environment[ExchangeSettings.privateKeyVariable] == nil
        {
            // `up` makes the paper key at its first start; the check must not fail for want of it.
            environment[ExchangeSettings.privateKeyVariable] = PaperExchange.throwawayKey()
        }
        for service in ServiceName.allCases {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "\(directory)/\(service.rawValue)")
            process.arguments = (common.config.map { ["--config", $0] } ?? []) + ["--check-config"]
            process.environment = environment
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            do { try process.run() } catch {
                printError("\(service.rawValue): cannot run \(process.executableURL!.path): \(error)")
                failed = true
                continue
            }
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            if process.terminationStatus != 0 { failed = true }
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        if failed { throw ExitCode(2) }
    }

    /// ChromaDB as a child process when recall uses a local one (`recall.chroma.managed`,
    /// default true) and it is installed (`make run` puts it in `.venv`); data under the var dir.
    static func chromaSpec(_ settings: inout Settings, varDir: String) throws -> ChildSpec? {
        guard settings.bool("recall.enabled", default: true), settings.bool("recall.chroma.managed", default: true)
        else { return nil }
        let url = settings.string("recall.chroma.url", default: "http://127.0.0.1:8000")
        let command = settings.string("recall.chroma.command", default: ".venv/bin/chroma")
        guard let address = URL(string: url), let urlHost = address.host, let urlPort = address.port else {
            printError("recall.chroma.url \(url) has no host:port")
            throw ExitCode(2)
        }
        // Where the server listens: the URL's address unless something (a proxy) stands between.
        let serve = settings.hostPort("recall.chroma.serve", default: HostPort(host: urlHost, port: urlPort))
        let (host, port) = (serve.host, serve.port)
        guard FileManager.default.isExecutableFile(atPath: command) else {
            print("[breakwater] ChromaDB is not installed (\(command)); recall answers from its local fallback")
            return nil
        }
        let data = "\(varDir)/chroma"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        return ChildSpec(
            name: "chromadb", executable: command,
            arguments: ["run", "--path", data, "--host", host, "--port", "\(port)"],
            environment: ["ANONYMIZED_TELEMETRY": "False"], bus: nil, admin: serve.baseURL,
            healthPath: "/api/v2/heartbeat", publishesHeartbeats: false)
    }
}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make the bus's CURVE keys (a keypair per process, owner-only, under bus.keyDir) where they are missing; "
            + "`up` does this itself, compose runs it once before the services.")

    @OptionGroup var common: Common

    func run() async throws {
        var (_, _, settings) = try await common.load()
        let made = try BusKeys.ensureStored(&settings)
        let directory = BusKeys.directory(&settings)
        print(made.isEmpty ? "bus keys present in \(directory)" : "made bus keys for \(made.joined(separator: ", ")) in \(directory)")
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every process: pid, instance, health and heartbeat age.")

    @OptionGroup var common: Common

    @Flag(help: "Print the status as JSON (a stable interface for scripts).")
    var json = false

    func run() async throws {
        let (topology, admin, _) = try await common.load()
        let document: [String: Any]
        var running = true
        if let fetched = try? await SupervisorClient(admin: admin).get("/status") {
            document = fetched
        } else {
            running = false
            document = [
                "services": ServiceName.allCases.map { service -> [String: Any] in
                    [
                        "name": service.rawValue, "pid": NSNull(), "instance": NSNull(),
                        "bus": topology.bus(service), "admin": topology.admin(service).baseURL, "health": "down",
                        "heartbeatAgeMs": NSNull(),
                    ]
                }
            ]
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            if !running { print("breakwater is not running (no supervisor at \(admin))") }
            print(StatusTable.render(document))
        }
        let services = document["services"] as? [[String: Any]] ?? []
        if !running || services.contains(where: { ($0["health"] as? String) == "down" }) {
            throw ExitCode(3)
        }
    }
}

enum StatusTable {
    static func render(_ document: [String: Any]) -> String {
        let services = document["services"] as? [[String: Any]] ?? []
        func cell(_ value: Any?, _ width: Int) -> String {
            let text: String
            switch value {
            case let string as String: text = string
            case let number as Int: text = "\(number)"
            case let number as NSNumber: text = number.stringValue
            default: text = "-"
            }
            return text.count >= width ? String(text.prefix(width - 1)) + " " : text.padding(toLength: width, withPad: " ", startingAt: 0)
        }
        var lines = [
            cell("SERVICE", 18) + cell("HEALTH", 10) + cell("PID", 9) + cell("INSTANCE", 10) + cell("HB AGE", 9)
                + cell("RESTARTS", 10) + cell("BUS", 24) + "ADMIN"
        ]
        for service in services {
            let age = (service["heartbeatAgeMs"] as? Int).map { "\($0)ms" }
            let instance = (service["instance"] as? String).map { String($0.prefix(8)) }
            lines.append(
                cell(service["name"], 18) + cell(service["health"], 10) + cell(service["pid"], 9) + cell(instance, 10)
                    + cell(age, 9) + cell(service["restarts"], 10) + cell(service["bus"], 24)
                    + ((service["admin"] as? String) ?? "-"))
        }
        return lines.joined(separator: "\n")
    }
}

struct Restart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Restart one service, and only that one.")

    @OptionGroup var common: Common

    @Argument(help: "The service to restart.")
    var service: String

    func run() async throws {
        let client = try await common.supervisor()
        do {
            let answer = try await client.post("/restart/\(service)")
            print(answer["message"] as? String ?? "restarting \(service)")
        } catch let error as SupervisorClient.Failure {
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}

struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a service's log.")

    @OptionGroup var common: Common

    @Argument(help: "The service whose log to print.")
    var service: String

    @Option(help: "How many of the last lines.")
    var lines: Int = 100

    @Flag(help: "Keep printing as the log grows.")
    var follow = false

    func run() async throws {
        let path = "\(common.varDir)/logs/\(service).log"
        guard let handle = FileHandle(forReadingAtPath: path) else {
            printError("no log at \(path)")
            throw ExitCode(1)
        }
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines + 1)
        where !line.isEmpty {
            print(line)
        }
        while follow {
            let more = handle.readDataToEndOfFile()
            if !more.isEmpty { FileHandle.standardOutput.write(more) }
            try await Task.sleep(for: .milliseconds(250))
        }
    }
}

struct Down: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop every service and the supervisor.")

    @OptionGroup var common: Common

    func run() async throws {
        let client = try await common.supervisor()
        do { _ = try await client.post("/down") } catch let error as SupervisorClient.Failure {
            printError("\(error)")
            throw ExitCode(1)
        } catch {
            print("breakwater is not running")
            return
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if (try? await client.get("/status")) == nil {
                print("stopped")
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        printError("the supervisor is still answering after 30 s")
        throw ExitCode(1)
    }
}

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Print the trading statistics per strategy, per symbol and overall: win rate, reward to risk, expectancy, "
            + "profit factor, holding time, exposure, max drawdown, Sharpe, Sortino, fees, funding; or, with --html, the "
            + "whole report as one page with charts.")

    enum Source: String, ExpressibleByArgument, CaseIterable {
        /// The fills and funding payments the trace recorder saw on the bus.
        case trace
        /// The fills and funding payments in the executor's ledger.
        case ledger
    }

    @OptionGroup var common: Common

    @Option(help: "Where the fills and funding come from: \(Source.allCases.map(\.rawValue).joined(separator: ", ")).")
    var source: Source = .trace

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Flag(help: "Print how long each stage of the ordering cycles took (from the trace), not P&L.")
    var latency = false

    @Flag(help: "Print what the market maker did per symbol (from the trace): quotes, uptime, fills, spread, inventory, P&L.")
    var quotes = false

    @Flag(help: "Print the pipeline (from the trace): latency percentiles per stage, the funnel from signals to winners with the rejections ranked, strategy usage, errors by dependency, and the report's alerts.")
    var pipeline = false

    @Option(
        help: ArgumentHelp(
            "Write the whole report as one self-contained HTML page with charts (no network needed to open it) to this file.",
            valueName: "file"))
    var html: String?

    @Option(help: "Only what was published at or after this UTC time (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS).")
    var since: String?

    @Option(help: "Only what was published before this UTC time (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS).")
    var until: String?

    /// `--since` and `--until` as times; a text that is not a time is an error.
    func window() throws -> (since: EpochNanos?, until: EpochNanos?) {
        func time(_ text: String?, _ flag: String) throws -> EpochNanos? {
            guard let text else { return nil }
            let full = text.count == 10 ? text + " 00:00:00" : text
            guard let time = CandleFile.parseTimestamp(full) else {
                printError("\(flag) \(text) is not YYYY-MM-DD or YYYY-MM-DD HH:MM:SS (UTC)")
                throw ExitCode(2)
            }
            return time
        }
        let window = (try time(since, "--since"), try time(until, "--until"))
        if let from = window.0, let to = window.1, from >= to {
            printError("--since \(since ?? "") is not before --until \(until ?? "")")
            throw ExitCode(2)
        }
        return window
    }

    func run() async throws {
        var (_, _, settings) = try await common.load()
        if let html { return try writePage(&settings, to: html) }
        if pipeline { return try printPipeline(&settings) }
        if latency { return try printLatency(&settings) }
        if quotes { return try printQuotes(&settings) }
        let capital = settings.amount("account.startingCapital", default: 10_000, minimum: 1)
        let (since, until) = try window()
        let (fills, funding) =
            switch source {
            case .trace: try Self.pnlRecords(source: source, trace: try openTrace(&settings), ledger: nil, since: since, until: until)
            case .ledger: try Self.pnlRecords(source: source, trace: nil, ledger: try openLedger(&settings), since: since, until: until)
            }
        let report = try PerformanceReport(fills: fills, funding: funding, startingCapital: capital)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.table())
        }
    }
}

extension Report {
    /// The recorder's trace database, or exit 1 saying where it was looked for.
    func openTrace(_ settings: inout Settings) throws -> TraceDatabase {
        let path = settings.traceDatabasePath()
        guard FileManager.default.fileExists(atPath: path) else {
            printError("no trace database at \(path)")
            throw ExitCode(1)
        }
        return try TraceDatabase(path: path)
    }

    /// The executor's ledger, or exit 1 saying where it was looked for.
    func openLedger(_ settings: inout Settings) throws -> LedgerStore {
        let path = settings.dataPath("executor.ledger", file: "ledger.db")
        guard FileManager.default.fileExists(atPath: path) else {
            printError("no ledger at \(path)")
            throw ExitCode(1)
        }
        return try LedgerStore(path: path)
    }

    /// The fills and funding payments the P&L is booked from: those the trace recorder saw published in
    /// the window, or those the ledger holds with an exchange time in the window. Nothing from a store not given.
    static func pnlRecords(
        source: Source, trace: TraceDatabase?, ledger: LedgerStore?, since: EpochNanos?, until: EpochNanos?
    ) throws -> (fills: [Fill], funding: [FundingSettlement]) {
        switch source {
        case .trace:
            guard let trace else { return ([], []) }
            return (
                try trace.messages(Fill.self, since: since, until: until).map(\.body),
                try trace.messages(FundingSettlement.self, since: since, until: until).map(\.body)
            )
        case .ledger:
            guard let ledger else { return ([], []) }
            func inside(_ time: EpochNanos) -> Bool { (since.map { time >= $0 } ?? true) && (until.map { time < $0 } ?? true) }
            return (try ledger.fills().filter { inside($0.time) }, try ledger.fundingPayments().filter { inside($0.time) })
        }
    }

    /// The pipeline over the window, from the trace; closed trades by the FIFO ledger's rules over the
    /// window's fills.
    static func pipelineReport(trace: TraceDatabase, since: EpochNanos?, until: EpochNanos?, capital: Amount) throws
        -> PipelineReport
    {
        PipelineReport(try trace.pipelineInputs(since: since, until: until, startingCapital: capital))
    }

    func printPipeline(_ settings: inout Settings) throws {
        let capital = settings.amount("account.startingCapital", default: 10_000, minimum: 1)
        let (since, until) = try window()
        let report = try Self.pipelineReport(trace: try openTrace(&settings), since: since, until: until, capital: capital)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text())
        }
    }

    /// `--html FILE`: the page over the window, written whole or not at all (a temporary file renamed).
    func writePage(_ settings: inout Settings, to file: String) throws {
        if json || pipeline || latency || quotes {
            printError("--html writes the whole report; it does not combine with --json, --pipeline, --latency or --quotes")
            throw ExitCode(2)
        }
        let (since, until) = try window()
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            printError("cannot write \(file): no directory \(directory)")
            throw ExitCode(1)
        }
        let source = ReportPageSource(settings: &settings, pnlSource: self.source)
        let trace = try openTrace(&settings)
        let ledger = self.source == .ledger ? try openLedger(&settings) : nil
        let page = try source.page(trace: trace, ledger: ledger, since: since, until: until, now: WallClock.system.now())
        let data = Data(page.html().utf8)
        do {
            try data.write(to: URL(fileURLWithPath: file), options: .atomic)
        } catch {
            printError("cannot write \(file): \(error.localizedDescription)")
            throw ExitCode(1)
        }
        print("wrote \(file) (\(data.count / 1024) KiB)" + (page.isEmpty ? ": nothing was traced or booked in this window" : ""))
    }

    /// p50 / p99 / max per stage, and each stage's p50 against tick to order's.
    func printLatency(_ settings: inout Settings) throws {
        // Nearest-rank percentiles as the pipeline report computes them; an empty stage prints zeros.
        let stages = try openTrace(&settings).stageLatencies().map {
            ($0.stage, $0.nanos.count, PipelineReport.Latency(stage: $0.stage, nanos: $0.nanos))
        }
        let baseline = stages.first { $0.0.hasPrefix("bar → order") }?.2?.p50 ?? 0
        print("stage                           cycles        p50 µs        p99 µs        max µs   p50 / tick-to-order")
        for (stage, count, latency) in stages {
            let p50 = latency?.p50 ?? 0
            print(
                stage.padding(toLength: 30, withPad: " ", startingAt: 0)
                    + String(format: " %8d %13.1f %13.1f %13.1f %12.2f", count, p50, latency?.p99 ?? 0,
                        latency?.max ?? 0, baseline > 0 ? p50 / baseline : 0))
        }
    }
}

extension Report {
    /// The market maker's figures per symbol, replayed from the trace through `MarketMakingStats`: every quote
    /// report, fill, funding payment and strategy target, in publish order. Books are not all read: for each quote
    /// fill the few books published just before it (the mid it met), and the last book of each symbol (for
    /// unrealised P&L), each found through the symbol index.
    func printQuotes(_ settings: inout Settings) throws {
        let capital = settings.amount("account.startingCapital", default: 10_000, minimum: 1)
        let configured = settings.stringList("symbols", default: Symbols.defaults)
        let trace = try openTrace(&settings)
        let reports = try trace.messages(QuoteReport.self)
        let fills = try trace.messages(Fill.self)
        let funding = try trace.messages(FundingSettlement.self)

        // Symbols the market maker touched: quoted, or filled on a quote.
        var active = Set(reports.compactMap(\.body.symbol))
        active.formUnion(fills.filter { $0.body.isQuote }.compactMap(\.body.symbol))
        active.remove("")
        let end = max(
            EpochNanos(try trace.scalar("SELECT COALESCE(MAX(publish_time), 0) FROM envelope")),
            reports.map(\.body.time).max() ?? 0, fills.map(\.body.time).max() ?? 0)

        enum Event {
            case report(QuoteReport), fill(Fill), funding(FundingSettlement), target(QuoteTarget), book(BookUpdate)
        }
        var events: [(time: EpochNanos, event: Event)] = []
        events += reports.map { ($0.header.publishTime, .report($0.body)) }
        events += fills.map { ($0.header.publishTime, .fill($0.body)) }
        events += funding.map { ($0.header.publishTime, .funding($0.body)) }
        // Books: a few before each quote fill, and each symbol's last; each book once.
        var seenBooks = Set<String>()
        func addBooks(_ books: [Envelope<BookUpdate>]) {
            for book in books where seenBooks.insert("\(book.header.instance)/\(book.header.sequence)").inserted {
                events.append((book.header.publishTime, .book(book.body)))
            }
        }
        for fill in fills where fill.body.isQuote {
            guard let symbol = fill.body.symbol, !symbol.isEmpty else { continue }
            addBooks(try trace.latest(BookUpdate.self, symbol: symbol, atOrBefore: fill.header.publishTime, limit: 4))
        }
        for symbol in active.sorted() {
            addBooks(try trace.latest(BookUpdate.self, symbol: symbol, atOrBefore: end))
            events += try trace.latest(QuoteTarget.self, symbol: symbol, atOrBefore: end).map {
                ($0.header.publishTime, .target($0.body))
            }
        }
        // Publish order; ties keep the order read (fills stay in the order the venue reported them).
        let ordered = events.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }

        var stats = MarketMakingStats(startingCapital: capital, symbols: configured.filter(active.contains))
        for (_, (_, event)) in ordered {
            do {
                switch event {
                case .report(let report): stats.apply(report)
                case .fill(let fill): try stats.apply(fill)
                case .funding(let payment): try stats.apply(payment)
                case .target(let target): stats.apply(target)
                case .book(let book): stats.observe(book)
                }
            } catch {
                // The ledger refuses it, so P&L from this trace would be wrong: say which, and stop.
                printError("the trace holds a record the ledger refuses: \(error)")
                throw ExitCode(1)
            }
        }
        let snapshot = stats.snapshot(now: end)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(snapshot), as: UTF8.self))
        } else if snapshot.symbols.isEmpty && fills.isEmpty {
            print("no quote reports or fills in \(trace.path)")
        } else {
            print(snapshot.table())
        }
    }
}

extension CommandLine {
    /// This executable's path, from /proc so that it works whatever the working directory.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? arguments[0]
    }
}
