import Foundation
import ServiceKit
import Testing
import TestSupport

private let checkout = Repository.root
private let sharedData = Repository.data

@Suite("RepositoryPaths")
struct RepositoryPathsTests {
    /// A fake checkout: Package.swift, a binary in .build/x86_64-unknown-linux-gnu/debug, and the
    /// .build/debug symlink SwiftPM makes.
    func fakeCheckout(_ directory: TemporaryDirectory) throws -> (root: String, binary: String, linked: String) {
        let root = directory.url.appendingPathComponent("repo")
        let bin = root.appendingPathComponent(".build/x86_64-unknown-linux-gnu/debug")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try Data("// swift-tools-version:6.0\n".utf8).write(to: root.appendingPathComponent("Package.swift"))
        // A package of a dependency must not be taken for the root.
        let checkouts = root.appendingPathComponent(".build/checkouts/dep")
        try FileManager.default.createDirectory(at: checkouts, withIntermediateDirectories: true)
        try Data().write(to: bin.appendingPathComponent("exchange-sim"))
        try FileManager.default.createSymbolicLink(
            atPath: root.appendingPathComponent(".build/debug").path, withDestinationPath: "x86_64-unknown-linux-gnu/debug")
        let real = RepositoryPaths.realPath(root.path)!
        return (real, bin.appendingPathComponent("exchange-sim").path, root.appendingPathComponent(".build/debug/exchange-sim").path)
    }

    @Test("the repository root is found from a binary in .build/<triple>/<config>/ and through the .build/debug symlink")
    func root() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let fake = try fakeCheckout(directory)
        #expect(RepositoryPaths.repositoryRoot(executable: fake.binary) == fake.root)
        #expect(RepositoryPaths.repositoryRoot(executable: fake.linked) == fake.root)
        // A symlink to the binary from elsewhere (an installed command) leads back to the checkout.
        let elsewhere = directory.path("exchange-sim")
        try FileManager.default.createSymbolicLink(atPath: elsewhere, withDestinationPath: fake.linked)
        #expect(RepositoryPaths.repositoryRoot(executable: elsewhere) == fake.root)
    }

    @Test("outside a checkout, or for a path that does not exist, there is no root")
    func noRoot() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let loose = try directory.write("tool", "")
        #expect(RepositoryPaths.repositoryRoot(executable: loose) == nil)
        #expect(RepositoryPaths.repositoryRoot(executable: directory.path("absent")) == nil)
        #expect(RepositoryPaths.sharedDataDirectory(configured: nil, environment: [:], executable: loose) == nil)
    }

    @Test("the data folder: configured, else $BREAKWATER_DATA_DIR, else ../shared/data beside the repository")
    func dataFolderRule() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let fake = try fakeCheckout(directory)
        let beside = (fake.root as NSString).deletingLastPathComponent + "/shared/data"
        let environment = ["BREAKWATER_DATA_DIR": "/from/environment"]
        #expect(RepositoryPaths.sharedDataDirectory(configured: "/configured", environment: environment, executable: fake.linked) == "/configured")
        #expect(RepositoryPaths.sharedDataDirectory(configured: nil, environment: environment, executable: fake.linked) == "/from/environment")
        #expect(RepositoryPaths.sharedDataDirectory(configured: nil, environment: [:], executable: fake.linked) == beside)
    }

    @Test("Settings.sharedDataFile follows the rule, with the environment it was loaded from")
    func settingsDataFile() async {
        let settings = await Settings.load(file: nil, environment: ["BREAKWATER_DATA_DIR": "/data"])
        #expect(settings.sharedDataFile("x.csv") == "/data/x.csv")
        #expect(settings.problems == [])
    }

    // MARK: exchange-sim from a foreign working directory

    static var exchangeSim: URL { Repository.binaries.appendingPathComponent("exchange-sim") }

    /// Runs exchange-sim `--check-config` with `--market ftx-candles` from an empty temporary directory.
    func runSimulator(environment: [String: String]) throws -> (status: Int32, output: String) {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let process = Process()
        process.executableURL = Self.exchangeSim
        // A few candles: the whole month takes a minute to script in a debug build.
        process.arguments = ["--market", "ftx-candles", "--candles", "10", "--check-config"]
        process.currentDirectoryURL = directory.url
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    static var canRunSimulator: Bool {
        FileManager.default.isExecutableFile(atPath: exchangeSim.path)
            && FileManager.default.fileExists(atPath: sharedData.appendingPathComponent("btc-perp-1m-ftx-2022-01.csv").path)
    }

    @Test(
        "exchange-sim started from a temporary working directory finds the recorded data beside its repository",
        .enabled(if: canRunSimulator, "needs a built exchange-sim and ../shared/data beside the repository"))
    func simulatorFromElsewhere() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["BREAKWATER_DATA_DIR"] = nil
        let run = try runSimulator(environment: environment)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("configuration OK"), "\(run.output)")
        #expect(run.output.contains("ftx-candles"), "\(run.output)")
    }

    @Test(
        "$BREAKWATER_DATA_DIR wins over the repository's folder: an empty one is refused with a clear message",
        .enabled(if: canRunSimulator, "needs a built exchange-sim and ../shared/data beside the repository"))
    func simulatorVariable() throws {
        let empty = try TemporaryDirectory()
        defer { empty.remove() }
        var environment = ProcessInfo.processInfo.environment
        environment["BREAKWATER_DATA_DIR"] = empty.url.path
        let run = try runSimulator(environment: environment)
        #expect(run.status != 0)
        #expect(run.output.contains("cannot read \(empty.url.path)/btc-perp-1m-ftx-2022-01.csv"), "\(run.output)")
    }
}
