import Foundation
import Testing

/// Where the tests find the package, the real market data and the Python reference.
enum Fixtures {
    /// `<root>/Tests/MarketTests/Fixtures.swift` → `<root>`.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let dataDirectory = packageRoot.deletingLastPathComponent()
        .appendingPathComponent("shared").appendingPathComponent("data")

    static let candlesFile = dataDirectory.appendingPathComponent("btc-perp-1m-ftx-2022-01.csv")
    static let binanceCapture = dataDirectory.appendingPathComponent("btcusdt-l2-binance-usdm-2024-08-08.ndjson.gz")
    static let hyperliquidCapture = dataDirectory.appendingPathComponent("btc-hyperliquid-ws-2025-01-26.ndjson")
    static let binanceTradesFile = dataDirectory.appendingPathComponent(
        "btcusdt-trades-binance-futures-2020-02-22.csv")

    static let python = packageRoot.appendingPathComponent(".venv/bin/python3")
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
    static func run(_ executable: URL, _ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read before waiting, so a full pipe cannot stall the child.
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandFailure(
                description: "\(executable.path) \(arguments.joined(separator: " ")) exited with "
                    + "\(process.terminationStatus): \(String(decoding: errorData, as: UTF8.self))")
        }
        return outputData
    }

    /// The decompressed bytes of a gzip file, by `gzip -dc`.
    static func gunzip(_ file: URL) throws -> Data {
        try run(URL(fileURLWithPath: "/usr/bin/env"), ["gzip", "-dc", file.path])
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
