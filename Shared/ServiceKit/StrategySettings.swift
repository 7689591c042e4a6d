import Foundation
import Market
import Model
import Schema
import Strategy

/// The signal generator's strategies as configured (`signal.*`, `model.*`, `marketMaking.*`): read
/// here once, for the signal generator and the backtester.
public struct StrategySettings: Sendable {
    /// Every traded symbol; the market maker's are quoted, the rest traded by the strategies.
    public var symbols: [String]
    public var presets: [StrategyPreset]
    /// Replaces the RSI presets' parameters when any `signal.rsi.*` key is set.
    public var rsi: RsiMeanReversion.Parameters?
    public var tradeNotional: Amount
    public var intentLifetimeMs: Int
    public var cooldownBars: Int
    public var regimeSelection: Bool
    public var minConfidence: Double
    /// `model` in `signal.strategies`: each directional symbol runs a `ModelStrategy`.
    public var usesModel: Bool
    public var model: ModelConfig
    public var marketMaking: MarketMakingConfig

    public static let modelStrategy = "model"

    public static func read(_ settings: inout Settings, symbols: [String]) -> StrategySettings {
        var presets: [StrategyPreset] = []
        var usesModel = false
        for name in settings.string("signal.strategies", default: "rsi_standard,sma_fast").split(separator: ",") {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            if let preset = StrategyPreset(rawValue: trimmed) {
                presets.append(preset)
            } else if trimmed == Self.modelStrategy {
                usesModel = true
            } else {
                let known = (StrategyPreset.allCases.map(\.rawValue) + [Self.modelStrategy]).joined(separator: ", ")
                settings.problem("signal.strategies: unknown strategy \"\(trimmed)\" (known: \(known))")
            }
        }
        if presets.isEmpty && !usesModel { settings.problem("signal.strategies: name at least one strategy") }
        var rsi: RsiMeanReversion.Parameters?
        let standard = RsiMeanReversion.Parameters.standard
        let period = settings.int("signal.rsi.period", default: standard.period, in: 2...500)
        let oversold = settings.double("signal.rsi.oversold", default: standard.oversold, in: 0...100)
        let overbought = settings.double("signal.rsi.overbought", default: standard.overbought, in: 0...100)
        if (period, oversold, overbought) != (standard.period, standard.oversold, standard.overbought) {
            if oversold >= overbought { settings.problem("signal.rsi.oversold must be below signal.rsi.overbought") }
            rsi = .init(period: period, oversold: oversold, overbought: overbought)
        }
        return StrategySettings(
            symbols: symbols,
            presets: presets, rsi: rsi,
            tradeNotional: settings.amount("signal.tradeNotional", default: 1_000, minimum: 1),
            intentLifetimeMs: settings.int("signal.intentLifetimeMs", default: 5_000, in: 100...600_000),
            cooldownBars: settings.int("signal.cooldownBars", default: 0, in: 0...10_000),
            regimeSelection: settings.bool("signal.regimeSelection", default: false),
            minConfidence: settings.double("signal.minConfidence", default: 0, in: 0...1),
            usesModel: usesModel, model: ModelConfig.read(&settings),
            marketMaking: MarketMakingConfig.read(&settings, symbols: symbols))
    }

    /// Symbols the directional strategies trade: every symbol the market maker does not quote.
    public var directionalSymbols: [String] { symbols.filter { !marketMaking.symbols.contains($0) } }

    /// One desk per symbol, each with its own strategies' state. An intent's order has filled or
    /// ended well within twice its lifetime; until then a snapshot cannot contradict the desk.
    public func makePortfolio(_ instruments: [String: Instrument]) -> StrategyPortfolio {
        StrategyPortfolio(
            desks: directionalSymbols.map { makeDesk(instruments[$0]!) }, settleNanos: 2 * Int64(intentLifetimeMs) * 1_000_000)
    }

    public func makeDesk(_ instrument: Instrument) -> StrategyDesk {
        var strategies: [any BarStrategy] = presets.map { preset in
            if let rsi, preset.style == .meanReversion {
                return RsiMeanReversion(name: "\(preset.rawValue)_custom", parameters: rsi)
            }
            return preset.makeStrategy()
        }
        if usesModel {
            strategies.append(
                ModelStrategy(
                    name: Self.modelStrategy,
                    settings: .init(
                        maxAgeNanos: Int64(model.maxAgeHours * 3.6e12), minProbability: model.minProbability,
                        sharesWindow: model.sharesWindow)))
        }
        return StrategyDesk(
            strategies: strategies,
            settings: .init(
                instrument: instrument, tradeNotional: tradeNotional,
                intentLifetimeNanos: Int64(intentLifetimeMs) * 1_000_000, cooldownBars: cooldownBars,
                regimeSelection: regimeSelection ? .standard(classifier: RegimeConfig()) : nil,
                minConfidence: minConfidence))
    }
}

/// The market maker's settings (`marketMaking.*`): which symbols it quotes and how.
public struct MarketMakingConfig: Sendable {
    /// Symbols quoted by the market maker instead of the directional strategies.
    public var symbols: [String]
    public var settings: MarketMakingSettings

    public static func read(_ settings: inout Settings, symbols traded: [String]) -> MarketMakingConfig {
        let quoted = settings.stringList("marketMaking.symbols", default: [])
        for symbol in quoted where !traded.contains(symbol) {
            settings.problem("marketMaking.symbols: \(symbol) is not among symbols (\(traded.joined(separator: ", ")))")
        }
        if Set(quoted).count != quoted.count { settings.problem("marketMaking.symbols: a symbol is named twice") }
        let d = MarketMakingSettings(baseNotional: 100, maxInventoryNotional: 1_000)
        let a = d.adverseSelection
        func ms(_ key: String, _ value: Int, _ range: ClosedRange<Int> = 0...604_800_000) -> Int {
            settings.int("marketMaking.\(key)", default: value, in: range)
        }
        func bps(_ key: String, _ value: Double) -> Double {
            settings.double("marketMaking.\(key)", default: value, in: 0...10_000)
        }
        let mm = MarketMakingSettings(
            tiers: settings.int("marketMaking.tiers", default: d.tiers, in: 1...100),
            baseNotional: settings.amount("marketMaking.baseNotional", default: d.baseNotional, minimum: 1),
            sizeDecay: settings.amount("marketMaking.sizeDecay", default: d.sizeDecay, minimum: "0.01"),
            tierSpacingBps: bps("tierSpacingBps", d.tierSpacingBps),
            minimumLot: settings.amount("marketMaking.minimumLot", default: d.minimumLot),
            minSpreadBps: bps("minSpreadBps", d.minSpreadBps), maxSpreadBps: bps("maxSpreadBps", d.maxSpreadBps),
            volatilityLow: settings.double("marketMaking.volatilityLow", default: d.volatilityLow, in: 0...1),
            volatilityHigh: settings.double("marketMaking.volatilityHigh", default: d.volatilityHigh, in: 0...1),
            volatilityBars: settings.int("marketMaking.volatilityBars", default: d.volatilityBars, in: 2...10_000),
            imbalanceWidening: settings.double("marketMaking.imbalanceWidening", default: d.imbalanceWidening, in: 0...100),
            maxSideWidening: settings.double("marketMaking.maxSideWidening", default: d.maxSideWidening, in: 1...100),
            adverseSelection: AdverseSelectionSettings(
                windowNanos: Int64(ms("adverseSelection.windowMs", Int(a.windowNanos / 1_000_000), 1...86_400_000))
                    * 1_000_000,
                thresholdBps: bps("adverseSelection.thresholdBps", a.thresholdBps),
                wideningFactor: settings.double(
                    "marketMaking.adverseSelection.wideningFactor", default: a.wideningFactor, in: 1...100),
                halfLifeNanos: Int64(ms("adverseSelection.halfLifeMs", Int(a.halfLifeNanos / 1_000_000), 1...86_400_000))
                    * 1_000_000),
            inventoryTargetNotional: settings.amount(
                "marketMaking.inventoryTargetNotional", default: d.inventoryTargetNotional, minimum: -1_000_000_000),
            maxInventoryNotional: settings.amount(
                "marketMaking.maxInventoryNotional", default: d.maxInventoryNotional, minimum: 1),
            inventorySkewBps: bps("inventorySkewBps", d.inventorySkewBps),
            inventorySizeShrink: settings.double("marketMaking.inventorySizeShrink", default: d.inventorySizeShrink, in: 0...1),
            refreshToleranceBps: bps("refreshToleranceBps", d.refreshToleranceBps),
            maxOrderAgeMs: ms("maxOrderAgeMs", d.maxOrderAgeMs),
            allowModify: settings.bool("marketMaking.allowModify", default: d.allowModify),
            filledOrderDelayMs: ms("filledOrderDelayMs", d.filledOrderDelayMs),
            microLevels: settings.int("marketMaking.microLevels", default: d.microLevels, in: 1...100),
            minBookLevels: settings.int("marketMaking.minBookLevels", default: d.minBookLevels, in: 1...100),
            minDepthNotional: settings.amount("marketMaking.minDepthNotional", default: d.minDepthNotional),
            staleBookMs: ms("staleBookMs", d.staleBookMs, 1...604_800_000),
            priceBandBps: bps("priceBandBps", d.priceBandBps),
            keepaliveMs: ms("keepaliveMs", d.keepaliveMs, 1...604_800_000),
            quoteLifetimeMs: ms("quoteLifetimeMs", d.quoteLifetimeMs, 1...604_800_000))
        do { try mm.validate() } catch { for problem in error.problems { settings.problem("marketMaking: \(problem)") } }
        return MarketMakingConfig(symbols: quoted, settings: mm)
    }
}

