import CoreMetrics
import Logging
import Schema

/// The one source of instrument rules: the exchange's `meta` (size decimals; prices follow from them),
/// read at start by every service that rounds or checks orders.
extension AssetDirectory {
    /// The rules of every symbol, or an error naming each symbol the exchange does not list.
    public func instruments(for symbols: [String]) throws(InstrumentError) -> [String: Instrument] {
        let missing = symbols.filter { instrument($0) == nil }
        guard missing.isEmpty else { throw InstrumentError.notListed(missing, listed: coins.count) }
        var rules: [String: Instrument] = [:]
        for symbol in symbols { rules[symbol] = instrument(symbol) }
        return rules
    }
}

public enum InstrumentError: Error, CustomStringConvertible, Equatable {
    case notListed([String], listed: Int)

    public var description: String {
        switch self {
        case .notListed(let symbols, let listed):
            "the exchange does not list \(symbols.joined(separator: ", ")) (it lists \(listed) perpetuals)"
        }
    }
}

extension HyperliquidClient {
    /// Reads `meta` until the exchange answers (every second; `onRetry` hears why not), then the
    /// rules of `symbols`. A symbol the exchange does not list is a configuration error: thrown, not retried.
    public func waitForInstruments(
        _ symbols: [String], onRetry: @Sendable (HyperliquidClientError) -> Void
    ) async throws -> [String: Instrument] {
        while true {
            try Task.checkCancellation()
            do {
                return try await assets(refresh: true).instruments(for: symbols)
            } catch let error as HyperliquidClientError {
                onRetry(error)
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}

extension HyperliquidClient where C == ContinuousClock {
    /// The rules of `symbols` for a service that needs no exchange client afterwards: a client of its
    /// own for `meta`, shut down whatever happens.
    public static func instruments(
        _ symbols: [String], endpoint: HyperliquidEndpoint, metricsFactory: any MetricsFactory, logger: Logger,
        onRetry: @Sendable (HyperliquidClientError) -> Void
    ) async throws -> [String: Instrument] {
        let client = HyperliquidClient(
            configuration: .init(endpoint: endpoint), metricsFactory: metricsFactory, logger: logger)
        do {
            let instruments = try await client.waitForInstruments(symbols, onRetry: onRetry)
            try? await client.shutdown()
            return instruments
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
