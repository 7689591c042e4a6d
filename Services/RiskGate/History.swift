import Foundation
import Market
import Risk
import Schema
import ServiceKit
import Storage

/// Where the VaR and correlation history comes from at start, besides the bars heard live.
struct HistorySources: Sendable {
    /// The recorder's trace database; nil when `risk.portfolio.seedFromTrace` is false.
    var traceDatabase: String?
    /// `risk.portfolio.historyFiles.<SYMBOL>`: candle files in the shared file's format.
    var files: [String: String]

    static func read(_ settings: inout Settings, symbols: [String]) -> HistorySources {
        var files: [String: String] = [:]
        for symbol in symbols {
            if let path = settings.optionalString("risk.portfolio.historyFiles.\(symbol)") { files[symbol] = path }
        }
        let fromTrace = settings.bool("risk.portfolio.seedFromTrace", default: true)
        return HistorySources(traceDatabase: fromTrace ? settings.traceDatabasePath() : nil, files: files)
    }

    /// The bars to seed with: each file whole, and the latest `perSymbol` bars of every symbol the
    /// recorder kept. A file that cannot be read stops the start (it was asked for); a trace database
    /// not there yet is a first start.
    func load(symbols: [String], perSymbol: Int, now: EpochNanos) throws -> (bars: [Bar], notes: [String]) {
        var bars: [Bar] = []
        var notes: [String] = []
        for (symbol, path) in files.sorted(by: { $0.key < $1.key }) {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw HistoryError(detail: "risk.portfolio.historyFiles.\(symbol): cannot read \(path): \(error.localizedDescription)")
            }
            do {
                let read = try CandleFile.bars(text, symbol: symbol)
                bars += read.suffix(perSymbol)
                notes.append("\(symbol): \(min(read.count, perSymbol)) bars from \(path)")
            } catch { throw HistoryError(detail: "risk.portfolio.historyFiles.\(symbol): \(path) \(error)") }
        }
        if let traceDatabase {
            guard FileManager.default.fileExists(atPath: traceDatabase) else {
                notes.append("no trace database at \(traceDatabase) yet")
                return (bars, notes)
            }
            let trace = try TraceDatabase(path: traceDatabase)
            for symbol in symbols {
                let recorded = try trace.latest(Bar.self, symbol: symbol, atOrBefore: now, limit: perSymbol).map(\.body)
                bars += recorded
                notes.append("\(symbol): \(recorded.count) bars from the trace")
            }
        }
        return (bars, notes)
    }
}

struct HistoryError: Error, CustomStringConvertible {
    var detail: String
    var description: String { detail }
}
