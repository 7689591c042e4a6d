import Foundation
import Model
import Testing

/// Where the tests find the package, its Python environment and the models xgboost trained for them.
enum ParityData {
    /// `<root>/Tests/ModelTests/ParityData.swift` → `<root>`.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let python = packageRoot.appendingPathComponent(".venv/bin/python3")
    static let script = packageRoot.appendingPathComponent("Tests/ModelTests/parity_models.py")
    static let breakwater = packageRoot.appendingPathComponent(".build/debug/breakwater")

    /// The shapes parity_models.py trains; the manifest must list exactly these.
    static let caseNames = [
        "binary_logistic", "multi_softprob", "multi_softmax", "binary_logitraw", "dart_binary", "dart_multi",
        "deep_trees", "trees_200", "no_feature_names", "parallel_trees", "base_score_binary", "base_score_multi",
        "five_classes",
    ]

    /// Whether .venv has the xgboost package (`make test` installs it from .ci/requirements-run.txt).
    static let hasXGBoost: Bool = {
        guard FileManager.default.isExecutableFile(atPath: python.path) else { return false }
        return (try? run(python, ["-c", "import xgboost"])) != nil
    }()
    static let missingXGBoost =
        "No xgboost in \(python.path): run `make test` (it installs .ci/requirements-run.txt into .venv)"

    static let hasBreakwater = FileManager.default.isExecutableFile(atPath: breakwater.path)
    static let missingBreakwater = "No \(breakwater.path): build it with `swift build --product breakwater`"

    /// The models, inputs and xgboost's predictions, generated once per test run into a temporary directory.
    static let generated: Result<URL, CommandFailure> = {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("breakwater-model-parity-\(getpid())")
        try? FileManager.default.removeItem(at: directory)
        do {
            _ = try run(python, [script.path, directory.path])
            return .success(directory)
        } catch let failure as CommandFailure {
            return .failure(failure)
        } catch {
            return .failure(CommandFailure(description: "\(error)"))
        }
    }()

    static func directory() throws -> URL { try generated.get() }

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
    static func run(_ executable: URL, _ arguments: [String]) throws -> String {
        let output = try execute(executable, arguments)
        guard output.status == 0 else {
            throw CommandFailure(
                description: "\(executable.path) \(arguments.joined(separator: " ")) exited with \(output.status): "
                    + output.standardError)
        }
        return output.standardOutput
    }

    static func execute(_ executable: URL, _ arguments: [String]) throws -> Output {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Drain standard error on another thread so that neither pipe can fill and stall the child.
        let errorBox = DataBox()
        let drained = DispatchSemaphore(value: 0)
        let errorHandle = errors.fileHandleForReading
        DispatchQueue.global().async {
            errorBox.data = errorHandle.readDataToEndOfFile()
            drained.signal()
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        drained.wait()
        return Output(
            status: process.terminationStatus, standardOutput: String(decoding: outputData, as: UTF8.self),
            standardError: String(decoding: errorBox.data, as: UTF8.self))
    }

    final class DataBox: @unchecked Sendable {
        private let lock = NSLock()
        private var value = Data()
        var data: Data {
            get { lock.withLock { value } }
            set { lock.withLock { value = newValue } }
        }
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
