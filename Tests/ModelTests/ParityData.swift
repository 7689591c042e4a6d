import Foundation
import TestSupport
import Model
import Testing

/// Where the tests find the package, its Python environment and the models xgboost trained for them.
enum ParityData {
    /// `<root>/Tests/ModelTests/ParityData.swift` → `<root>`.
    static let packageRoot = Repository.root
    static let python = Repository.python
    static let script = packageRoot.appendingPathComponent("Tests/ModelTests/parity_models.py")
    static let breakwater = Repository.binaries.appendingPathComponent("breakwater")

    /// The shapes parity_models.py trains; the manifest must list exactly these.
    static let caseNames = [
        "binary_logistic", "multi_softprob", "multi_softmax", "binary_logitraw", "dart_binary", "dart_multi",
        "deep_trees", "trees_200", "no_feature_names", "parallel_trees", "base_score_binary", "base_score_multi",
        "five_classes",
    ]

    /// Whether .venv has the xgboost package (`make test` installs it from .ci/requirements-run.txt).
    static let hasXGBoost: Bool = {
        guard FileManager.default.isExecutableFile(atPath: python.path) else { return false }
        // A trait is evaluated synchronously, before any test runs: a blocking wait is harmless here.
        let process = Process()
        process.executableURL = python
        process.arguments = ["-c", "import xgboost"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()
    static let missingXGBoost =
        "No xgboost in \(python.path): run `make test` (it installs .ci/requirements-run.txt into .venv)"

    static let hasBreakwater = FileManager.default.isExecutableFile(atPath: breakwater.path)
    static let missingBreakwater = "No \(breakwater.path): build it with `swift build --product breakwater`"

    /// The models, inputs and xgboost's predictions, generated once per test run into a temporary directory.
    static let generated = Task<Result<URL, CommandFailure>, Never> {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("breakwater-model-parity-\(getpid())")
        try? FileManager.default.removeItem(at: directory)
        do {
            _ = try await run(python, [script.path, directory.path])
            return .success(directory)
        } catch let failure as CommandFailure {
            return .failure(failure)
        } catch {
            return .failure(CommandFailure(description: "\(error)"))
        }
    }

    static func directory() async throws -> URL { try await generated.value.get() }

    struct CommandFailure: Error, CustomStringConvertible {
        var description: String
    }

    struct Output {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    /// Runs a program to completion; `run` throws on a non-zero exit, `execute` reports it.
    @discardableResult
    static func run(_ executable: URL, _ arguments: [String]) async throws -> String {
        let output = try await execute(executable, arguments)
        guard output.status == 0 else {
            throw CommandFailure(
                description: "\(executable.path) \(arguments.joined(separator: " ")) exited with \(output.status): "
                    + output.standardError)
        }
        return output.standardOutput
    }

    static func execute(_ executable: URL, _ arguments: [String]) async throws -> Output {
        let result = try await runProcess(executable, arguments)
        return Output(status: result.status, standardOutput: result.outputText, standardError: result.errorText)
    }


    /// A CSV of numbers with a header: (header, rows).
    static func readCSV(_ url: URL) throws -> (header: [String], rows: [[Double]]) {
        let text = try String(contentsOf: url, encoding: .utf8)
        return try parseCSV(text)
    }

    static func parseCSV(_ text: String) throws -> (header: [String], rows: [[Double]]) {
        let lines = text.split(separator: "\n").filter { !$0.isEmpty }
        guard let first = lines.first else { throw CommandFailure(description: "empty CSV") }
        let header = first.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let rows = try lines.dropFirst().map { line in
            try line.split(separator: ",", omittingEmptySubsequences: false).map { cell in
                guard let value = Double(cell) else { throw CommandFailure(description: "not a number: \(cell)") }
                return value
            }
        }
        return (header, rows)
    }
}
