import Market
import Risk
import Schema

/// The risk gate's rules as configured (`risk.*`, `account.startingCapital`, `margin.*`): read here
/// once, for the risk gate and the backtester.
public struct RiskSettings: Sendable {
    public var limits: RiskLimits
    /// nil when `risk.exits.enabled` is false.
    public var exits: ExitPolicy?
    public var startingCapital: Amount
    /// nil when `risk.protection.enabled` is false: no stop rests on the exchange.
    public var protection: PositionProtection.Settings?
    public var takeProfitOnExchange = false
    /// The leverage the executor sets on the exchange, and the margin limits entries face.
    public var margin: MarginRules
    /// VaR, expected shortfall and stress limits; nil unless `risk.portfolio.enabled`.
    public var portfolio: PortfolioRiskLimits?
    /// Entry limits per market regime; every factor 1 unless configured.
    public var regimeScaling: RegimeLimitScaling

    public static func read(_ settings: inout Settings, symbols: [String]) -> RiskSettings {
        let defaults = RiskLimits()
        var limits = RiskLimits(
            maxOpenPositions: settings.int("risk.maxOpenPositions", default: defaults.maxOpenPositions, in: 0...1_000),
            maxOrderNotional: settings.amount("risk.maxOrderNotional", default: defaults.maxOrderNotional),
            maxSymbolNotional: settings.amount("risk.maxSymbolNotional", default: defaults.maxSymbolNotional),
            maxGrossExposure: settings.amount("risk.maxGrossExposure", default: defaults.maxGrossExposure),
            maxDirectionShare: settings.double("risk.maxDirectionShare", default: defaults.maxDirectionShare, in: 0.5...1),
            dailyLossLimit: settings.amount("risk.dailyLossLimit", default: defaults.dailyLossLimit),
            drawdownLock: settings.double("risk.drawdownLock", default: defaults.drawdownLock, in: 0.001...1),
            reduceAtDrawdown: settings.double("risk.reduceAtDrawdown", default: defaults.reduceAtDrawdown, in: 0.001...1),
            maxOrdersPerMinute: settings.int("risk.maxOrdersPerMinute", default: defaults.maxOrdersPerMinute, in: 1...100_000),
            maxQuoteInventory: settings.amount("risk.maxQuoteInventory", default: defaults.maxQuoteInventory))
        limits.ackTimeoutNanos = Int64(settings.int("risk.ackTimeoutMs", default: 5_000, in: 100...600_000)) * 1_000_000
        for problem in limits.validationErrors() { settings.problem("risk: \(problem)") }
        var exits: ExitPolicy?
        if settings.bool("risk.exits.enabled", default: true) {
            // Every default is ExitPolicy.standard's; 0 (or "off" for a list) switches a path off.
            let standard = ExitPolicy.standard
            func fraction(_ key: String, _ value: Double?) -> Double? {
                let found = settings.double(key, default: value ?? 0, in: 0...0.99)
                return found == 0 ? nil : found
            }
            func levels<T>(_ key: String, _ value: [T], text: [String], parse: ([String]) throws(ExitPolicy.ConfigError) -> [T]) -> [T] {
                do {
                    return try parse(settings.stringList(key, default: text))
                } catch {
                    settings.problem("\(key): \(error)")
                    return value
                }
            }
            let softStop = standard.softStop ?? .standard
            let softLoss = fraction("risk.exits.softStop.loss", standard.softStop?.loss)
            let softConfirmations = settings.int(
                "risk.exits.softStop.confirmations", default: softStop.confirmations, in: 1...10_000)
            let atrMultiple = settings.double(
                "risk.exits.atrStop.multiple", default: standard.atrStop?.multiple ?? 0, in: 0...100)
            let trailing = standard.trailingStop ?? .standard
            let trailingOn = settings.bool("risk.exits.trailing.enabled", default: standard.trailingStop != nil)
            let trailingStop = ExitPolicy.TrailingStop(
                activationProfit: settings.double("risk.exits.trailing.activation", default: trailing.activationProfit, in: 0...10),
                atrMultiple: settings.double("risk.exits.trailing.atrMultiple", default: trailing.atrMultiple, in: 0.1...100),
                minDistance: settings.double("risk.exits.trailing.minDistance", default: trailing.minDistance, in: 0...1),
                maxDistance: settings.double("risk.exits.trailing.maxDistance", default: trailing.maxDistance, in: 0...1))
            let signal = standard.signalExit ?? .standard
            let signalConfirmations = settings.int(
                "risk.exits.signalExit.confirmations", default: standard.signalExit?.confirmations ?? 0, in: 0...10_000)
            let signalExit = ExitPolicy.SignalExit(
                minProfit: settings.double("risk.exits.signalExit.minProfit", default: signal.minProfit, in: 0...10),
                confirmations: signalConfirmations,
                cooldownNanos: Int64(settings.int(
                    "risk.exits.signalExit.cooldownSeconds", default: Int(signal.cooldownNanos / Nanos.second),
                    in: 0...604_800)) * Nanos.second)
            let holdingMinutes = settings.int(
                "risk.exits.maxHoldingMinutes", default: Int((standard.maxHoldingNanos ?? 0) / Nanos.minute),
                in: 0...1_000_000)
            let policy = ExitPolicy(
                emergencyTiers: levels(
                    "risk.exits.emergency.tiers", standard.emergencyTiers,
                    text: ExitPolicy.configText(standard.emergencyTiers), parse: ExitPolicy.emergencyTiers(parsing:)),
                hardStop: fraction("risk.exits.hardStop", standard.hardStop),
                softStop: softLoss.map { ExitPolicy.SoftStop(loss: $0, confirmations: softConfirmations) },
                atrStop: atrMultiple == 0 ? nil : .init(multiple: atrMultiple),
                trailingStop: trailingOn ? trailingStop : nil,
                takeProfits: levels(
                    "risk.exits.takeProfits", standard.takeProfits,
                    text: ExitPolicy.configText(standard.takeProfits), parse: ExitPolicy.takeProfits(parsing:)),
                signalExit: signalConfirmations == 0 ? nil : signalExit,
                maxHoldingNanos: holdingMinutes == 0 ? nil : Int64(holdingMinutes) * Nanos.minute,
                forceStopDistance: fraction("risk.exits.forceStopDistance", standard.forceStopDistance),
                intentTimeToLiveNanos: standard.intentTimeToLiveNanos, orderType: standard.orderType)
            for problem in policy.validationErrors() { settings.problem("risk.exits: \(problem)") }
            exits = policy
        }
        var protection: PositionProtection.Settings?
        // Without the exit engine there is no stop level to rest on the exchange.
        if settings.bool("risk.protection.enabled", default: true), exits != nil {
            let standard = PositionProtection.Settings.standard
            protection = PositionProtection.Settings(
                stopSlippage: settings.double("risk.protection.stopSlippage", default: standard.stopSlippage, in: 0.001...0.5),
                minMove: settings.double("risk.protection.minMove", default: standard.minMove, in: 0...0.1))
        }
        let takeProfitOnExchange = settings.bool("risk.protection.takeProfitOnExchange", default: false)
        return RiskSettings(
            limits: limits, exits: exits,
            startingCapital: settings.amount("account.startingCapital", default: 10_000, minimum: 1),
            protection: protection, takeProfitOnExchange: takeProfitOnExchange,
            margin: MarginRules.read(&settings, symbols: symbols), portfolio: Self.readPortfolio(&settings),
            regimeScaling: Self.readRegimeScaling(&settings))
    }

    /// `risk.regimeScaling.<regime>`: the factor the entered symbol's regime applies to the order,
    /// symbol and gross limits and to the VaR, ES and stress limits.
    public static func readRegimeScaling(_ settings: inout Settings) -> RegimeLimitScaling {
        var factors: [Regime: Double] = [:]
        for regime in Regime.allCases {
            let factor = settings.double("risk.regimeScaling.\(regime.rawValue)", default: 1, in: 0.01...10)
            if factor != 1 { factors[regime] = factor }
        }
        return RegimeLimitScaling(factors: factors)
    }

    public static func readPortfolio(_ settings: inout Settings) -> PortfolioRiskLimits? {
        guard settings.bool("risk.portfolio.enabled", default: false) else { return nil }
        let d = PortfolioRiskLimits()
        let limits = PortfolioRiskLimits(
            maxValueAtRisk: settings.amount("risk.portfolio.maxValueAtRisk", default: d.maxValueAtRisk, minimum: 0),
            maxExpectedShortfall: settings.amount(
                "risk.portfolio.maxExpectedShortfall", default: d.maxExpectedShortfall, minimum: 0),
            maxStressLoss: settings.amount("risk.portfolio.maxStressLoss", default: d.maxStressLoss, minimum: 0),
            confidence: settings.double("risk.portfolio.confidence", default: d.confidence, in: 0.5...0.9999),
            horizonBars: settings.int("risk.portfolio.horizonBars", default: d.horizonBars, in: 1...1_000_000),
            stepBars: settings.int("risk.portfolio.stepBars", default: d.stepBars, in: 1...1_000_000),
            historyWindow: settings.int("risk.portfolio.historyWindow", default: d.historyWindow, in: 1...100_000),
            minimumScenarios: settings.int("risk.portfolio.minimumScenarios", default: d.minimumScenarios, in: 1...100_000),
            fallbackLossFraction: settings.double(
                "risk.portfolio.fallbackLossFraction", default: d.fallbackLossFraction, in: 0...1),
            correlationThreshold: settings.double(
                "risk.portfolio.correlationThreshold", default: d.correlationThreshold, in: 0...1),
            correlationWindow: settings.int("risk.portfolio.correlationWindow", default: d.correlationWindow, in: 2...100_000),
            minimumCorrelationSamples: settings.int(
                "risk.portfolio.minimumCorrelationSamples", default: d.minimumCorrelationSamples, in: 2...100_000),
            fallbackCorrelation: settings.double(
                "risk.portfolio.fallbackCorrelation", default: d.fallbackCorrelation, in: -1...1),
            countCorrelatedAsOne: settings.bool("risk.portfolio.countCorrelatedAsOne", default: d.countCorrelatedAsOne))
        for problem in limits.validationErrors() { settings.problem("risk.portfolio: \(problem)") }
        return limits
    }

    /// A fresh gate on these rules: the book at the starting capital, the exit engine and the stops' book.
    public func makeCore(instruments: [String: Instrument], now: EpochNanos) -> RiskGateCore {
        var book = RiskBook(limits: limits, instruments: instruments, startingCapital: startingCapital, now: now)
        book.portfolioLimits = portfolio
        book.regimeScaling = regimeScaling
        book.margin = margin
        let exitDesk = exits.map {
            ExitDesk(
                engine: ExitEngine(policy: $0), instruments: instruments,
                takeProfitOnExchange: takeProfitOnExchange && protection != nil)
        }
        return RiskGateCore(
            book: book, exits: exitDesk, protection: protection.map { PositionProtection(settings: $0, instruments: instruments) })
    }
}
