import Foundation

/// Paths of the checkout every test finds from this file's own place
/// (`<root>/Tests/TestSupport/Repository.swift`), never from the working directory.
public enum Repository {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// The built executables: `.build/debug`, or `$BREAKWATER_BIN_DIR`.
    public static var binaries: URL {
        if let custom = ProcessInfo.processInfo.environment["BREAKWATER_BIN_DIR"] {
            return URL(fileURLWithPath: custom)
        }
        return root.appendingPathComponent(".build/debug")
    }
    public static let python = root.appendingPathComponent(".venv/bin/python3")
    /// `shared/data` beside the checkout, as CI has it.
    public static let data = root.deletingLastPathComponent().appendingPathComponent("shared/data").standardized
    public static let candles = data.appendingPathComponent("btc-perp-1m-ftx-2022-01.csv")
    public static let binanceCapture = data.appendingPathComponent("btcusdt-l2-binance-usdm-2024-08-08.ndjson.gz")
    public static let hyperliquidCapture = data.appendingPathComponent("btc-hyperliquid-ws-2025-01-26.ndjson")
    public static let trades = data.appendingPathComponent("btcusdt-trades-binance-futures-2020-02-22.csv")
    public static var hasData: Bool { FileManager.default.fileExists(atPath: candles.path) }
}
