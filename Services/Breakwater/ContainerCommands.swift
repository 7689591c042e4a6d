import ArgumentParser
import Foundation
import Hyperliquid
import ServiceKit
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

// What a container runs where `breakwater up` would run a child or probe one: compose
// (compose/docker-compose.yml) runs one process per container, so the paper key, exchange-sim's
// command line, ChromaDB's and the health probes come from here, read from the same config as `up`
// reads them, never written twice.

struct PaperKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paper-key",
        abstract: "Make the paper account's key when missing (exchange.keyFile, default <var-dir>/paper.key) and print its address.",
        discussion: "Outside paper mode there is no paper key: it says so and exits 0. The key itself is never printed.")

    @OptionGroup var common: Common

    func run() async throws {
        var (_, _, settings) = try await common.load()
        let exchange = ExchangeSettings.read(&settings, needsKey: false)
        guard exchange.mode == .paper else {
            print("mode \(exchange.mode.rawValue): no paper key needed")
            return
        }
        let path = ExchangeSettings.paperKeyFile(&settings)
        do {
            let (wallet, created) = try PaperExchange.paperWallet(at: path)
            print("paper account \(wallet.address.checksummed): \(created ? "new key in" : "key in") \(path)")
        } catch {
            printError("breakwater: \(error)")
            throw ExitCode(2)
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Become one of the processes `up` runs beside the services, with the arguments `up` gives it.",
        discussion: """
            exchange-sim: paper mode's venue, funding the paper account (its key is made when missing). \
            chromadb: the recall server (recall.chroma.command), its data under <var-dir>/chroma. \
            The process replaces this one (exec), so a container's stop signal reaches it.
            """)

    enum Dependency: String, ExpressibleByArgument, CaseIterable {
        case exchangeSim = "exchange-sim"
        case chromadb
    }

    @OptionGroup var common: Common

    @Argument(help: "What to run: \(Dependency.allCases.map(\.rawValue).joined(separator: ", ")).")
    var dependency: Dependency

    func run() async throws {
        var (_, _, settings) = try await common.load()
        let directory = URL(fileURLWithPath: CommandLine.executablePath).deletingLastPathComponent().path
        var spec: ChildSpec?
        do {
            switch dependency {
            case .exchangeSim:
                let exchange = ExchangeSettings.read(&settings, needsKey: false)
                guard exchange.mode == .paper else {
                    printError("breakwater: mode \(exchange.mode.rawValue) trades on Hyperliquid; exchange-sim serves paper mode only")
                    throw ExitCode(2)
                }
                let varDir = settings.string("varDir", default: "var")
                spec = try PaperExchange.simulator(&settings, exchange: exchange, varDir: varDir, executables: directory)?.spec
                if spec == nil, settings.problems.isEmpty {
                    settings.problem("exchangeSim.managed is false: exchange-sim is not Breakwater's to run")
                }
            case .chromadb:
                spec = try Up.chromaSpec(&settings, varDir: common.varDir)
                if spec == nil, settings.problems.isEmpty {
                    settings.problem("recall.enabled and recall.chroma.managed must be true, and recall.chroma.command installed")
                }
            }
        } catch let error as UpError {
            printError("breakwater: \(error)")
            throw ExitCode(2)
        }
        guard let spec, settings.problems.isEmpty else {
            for problem in settings.problems { printError("config problem: \(problem)") }
            throw ExitCode(2)
        }
        print("[breakwater] \(spec.name): \(([spec.executable] + spec.arguments).joined(separator: " "))")
        fflush(nil)
        try Self.exec(spec)
    }

    /// Replaces this process with `spec`'s, with no signal blocked or ignored: Swift's threads block
    /// signals, and an exec'd program keeps the mask, so it would never see the container's SIGTERM.
    static func exec(_ spec: ChildSpec) throws -> Never {
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in spec.environment { environment[key] = value }
        var empty = sigset_t()
        sigemptyset(&empty)
        pthread_sigmask(SIG_SETMASK, &empty, nil)
        for number in [SIGINT, SIGTERM, SIGPIPE, SIGHUP] { signal(number, SIG_DFL) }
        let argv = ([spec.executable] + spec.arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        execve(spec.executable, argv, envp)
        let reason = String(cString: strerror(errno))
        printError("breakwater: cannot run \(spec.executable): \(reason)")
        throw ExitCode(1)
    }
}

struct Probe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Exit 0 when a service, exchange-sim or chromadb answers its readiness probe (a container's health check).",
        discussion: "The address comes from the config: a service's admin port, exchange.url, recall.chroma.url.")

    @OptionGroup var common: Common

    @Argument(help: "A service name, exchange-sim or chromadb.")
    var name: String

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Double = 2

    func run() async throws {
        var (topology, _, settings) = try await common.load()
        let url: String
        if let service = ServiceName(rawValue: name) {
            url = topology.admin(service).baseURL + "/health/ready"
        } else if name == "exchange-sim" {
            url = ExchangeSettings.read(&settings, needsKey: false).paperURL + "/health/ready"
        } else if name == "chromadb" {
            let chroma = settings.string("recall.chroma.url", default: "http://127.0.0.1:8000")
            let serve = settings.optionalString("recall.chroma.serve").flatMap(HostPort.init)?.baseURL ?? chroma
            url = serve + "/api/v2/heartbeat"
        } else {
            printError(
                "breakwater probe: unknown \(name); one of \((ServiceName.allCases.map(\.rawValue) + ["exchange-sim", "chromadb"]).joined(separator: ", "))")
            throw ExitCode(2)
        }
        guard let address = URL(string: url) else {
            printError("breakwater probe: \(url) is not a URL")
            throw ExitCode(2)
        }
        var request = URLRequest(url: address)
        request.timeoutInterval = timeout
        do {
            let (_, response) = try await URLSession.shared.data(for: request)
            let code = (response as? HTTPURLResponse)?.statusCode ?? 0
            guard (200..<300).contains(code) else {
                print("\(name) not ready: HTTP \(code) from \(url)")
                throw ExitCode(1)
            }
            print("\(name) ready (\(url))")
        } catch let exit as ExitCode {
            throw exit
        } catch {
            print("\(name) not answering at \(url): \(error.localizedDescription)")
            throw ExitCode(1)
        }
    }
}
