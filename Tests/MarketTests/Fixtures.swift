import Foundation
import TestSupport
import Testing

/// Where the tests find the package, the real market data and the Python reference.
enum Fixtures {
    static let packageRoot = Repository.root
    static let dataDirectory = Repository.data
    static let candlesFile = Repository.candles
    static let binanceCapture = Repository.binanceCapture
    static let hyperliquidCapture = Repository.hyperliquidCapture
    static let binanceTradesFile = Repository.trades
    static let python = Repository.python
    static let missingPythonMessage =
        "No Python reference environment at \(python.path): run `make test`, which creates .venv with ta, pandas and TA-Lib"
    static let referenceDirectory = packageRoot.appendingPathComponent("Tests/MarketTests/reference")

    static func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    static var hasData: Bool { exists(dataDirectory) }

    /// The lines of a capture file: `<local receive ns> <json>`.
    static func captureLines(_ data: Data) -> [(receivedAt: Int64, json: Data)] {
        var lines: [(Int64, Data)] = []
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            guard let space = line.firstIndex(of: UInt8(ascii: " ")),
                let receivedAt = Int64(String(decoding: line[line.startIndex..<space], as: UTF8.self))
            else { continue }
            lines.append((receivedAt, Data(line[(space + 1)...])))
        }
        return lines
    }

    struct CommandFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs a program to completion and returns its standard output.
    static func run(_ executable: URL, _ arguments: [String]) async throws -> Data {
        let result = try await runProcess(executable, arguments)
        guard result.status == 0 else {
            throw CommandFailure(
                description: "\(executable.path) \(arguments.joined(separator: " ")) exited with "
                    + "\(result.status): \(result.errorText)")
        }
        return result.output
    }

    /// The decompressed bytes of a gzip file, by `gzip -dc`.
    static func gunzip(_ file: URL) async throws -> Data {
        try await run(URL(fileURLWithPath: "/usr/bin/env"), ["gzip", "-dc", file.path])
    }

    /// A CSV with a header line, as rows of fields (no quoting: the files here have none).
    static func readCSV(_ url: URL) throws -> (header: [String], rows: [[Substring]]) {
        let text = try String(contentsOf: url, encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline)
        guard !lines.isEmpty else { return ([], []) }
        let header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let rows = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        return (header, rows)
    }
}

/// Equal to 1e-9 relative, or 1e-9 × `scale` absolute near zero, where `scale` is the
/// magnitude the quantity normally has (an RSI is ~50, a ROC in percent ~1).
func isClose(_ actual: Double, _ expected: Double, relative: Double = 1e-9, scale: Double = 1) -> Bool {
    if actual == expected { return true }
    let tolerance = relative * max(abs(actual), abs(expected), scale)
    return abs(actual - expected) <= tolerance
}
