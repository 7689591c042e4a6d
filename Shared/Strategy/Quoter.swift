import Foundation
import Market
import Schema

/// What the quoter sees at one moment.
public struct QuoteInput: Sendable, Equatable {
    /// The price quotes are centred on before the inventory skew: the mid or a microprice.
    public var referencePrice: Amount
    /// The book's touch; quotes never cross it. nil: that side of the book is empty.
    public var bestBid: Amount?
    public var bestAsk: Amount?
    /// In the unit of `QuoterSettings.volatilityLow/High`. Not finite: the widest spread.
    public var volatility: Double
    /// (bid − ask) / (bid + ask) size near the touch, in [−1, 1]; positive: more bid.
    public var imbalance: Double
    /// Signed position in the base asset.
    public var inventory: Amount
    public var now: EpochNanos

    public init(
        referencePrice: Amount, bestBid: Amount?, bestAsk: Amount?, volatility: Double, imbalance: Double,
        inventory: Amount, now: EpochNanos
    ) {
        self.referencePrice = referencePrice
        self.bestBid = bestBid
        self.bestAsk = bestAsk
        self.volatility = volatility
        self.imbalance = imbalance
        self.inventory = inventory
        self.now = now
    }

    /// From a book: the mid as reference, its touch, and its imbalance over the best
    /// `imbalanceLevels` levels. nil when the book has no mid.
    public init?(book: OrderBook, imbalanceLevels: Int = 5, volatility: Double, inventory: Amount, now: EpochNanos) {
        guard let mid = book.mid else { return nil }
        self.init(
            referencePrice: mid, bestBid: book.bestBid?.price, bestAsk: book.bestAsk?.price, volatility: volatility,
            imbalance: book.imbalance(levels: imbalanceLevels) ?? 0, inventory: inventory, now: now)
    }
}

/// One wanted order: always a post-only (ALO) limit order.
public struct Quote: Sendable, Hashable {
    public var side: Side
    /// 0 is the tier nearest the mid.
    public var tier: Int
    public var price: Amount
    public var size: Amount
    public var orderType: OrderType { .limit }
    public var timeInForce: TimeInForce { .alo }

    public init(side: Side, tier: Int, price: Amount, size: Amount) {
        self.side = side
        self.tier = tier
        self.price = price
        self.size = size
    }
}

/// The quotes wanted now, and the numbers behind them.
public struct QuotePlan: Sendable, Equatable {
    public var referencePrice: Amount
    /// The reference shifted against the inventory: the quotes' centre.
    public var reservationPrice: Amount
    /// Bid-to-ask spread from volatility alone, in [minSpreadBps, maxSpreadBps].
    public var spreadBps: Double
    /// Each side's distance of tier 0 from the reservation price, after widening.
    public var bidHalfSpreadBps: Double
    public var askHalfSpreadBps: Double
    /// Each side's combined widening factor, in [1, maxSideWidening].
    public var bidWidening: Double
    public var askWidening: Double
    /// Best first: bids by falling price, asks by rising price.
    public var bids: [Quote]
    public var asks: [Quote]
    /// Why a side is widened, shrunk, stopped or empty.
    public var reasons: [Reason]

    public var quotes: [Quote] { bids + asks }
}

/// A market maker's quotes on one instrument. Pure: time, book, volatility and
/// inventory come in; the only state is the adverse-selection memory of past fills.
///
/// - Ladder: tier i has size baseSize × sizeDecay^i on the instrument's size grid
///   (`tierSizeRounding`, default nearest with halves up, so 0.435 × 0.9^11 =
///   0.13650… is 0.137 at 3 decimals); a tier below `minimumLot`, or below the
///   instrument's minimum order value at its price, is dropped.
/// - Spread: min · (max/min)^t with t = clamp((vol − volLow)/(volHigh − volLow), 0, 1),
///   split evenly around the reservation price.
/// - Widening: each side's half-spread × min(maxSideWidening, imbalance factor ×
///   adverse-selection factor); tier i sits i × tierSpacingBps further out.
/// - Inventory q of max Q, r = clamp(q/Q, −1, 1): the reservation price is
///   reference × (1 − r × inventorySkewBps / 10⁴); the side that would add to |q|
///   has its sizes × (1 − inventorySizeShrink × |r|) rounded down; each side rests at
///   most what takes inventory to ± Q (so at |q| ≥ Q the increasing side is empty).
/// - Prices: bids rounded down, asks up, by the instrument's rules; a bid stays below
///   the best ask and an ask above the best bid; tiers are strictly ordered.
public struct Quoter: Sendable {
    public let instrument: Instrument
    public let settings: QuoterSettings
    public private(set) var adverseSelection: AdverseSelectionMonitor
    /// The ladder before inventory: `tiersPerSide` sizes, each on the size grid.
    public let tierSizes: [Amount]

    /// The settings must be valid (see `QuoterSettings.validate()`).
    public init(instrument: Instrument, settings: QuoterSettings) {
        do { try settings.validate() } catch { preconditionFailure("\(error)") }
        self.instrument = instrument
        self.settings = settings
        self.adverseSelection = AdverseSelectionMonitor(settings: settings.adverseSelection)
        self.tierSizes = Self.ladder(settings: settings, instrument: instrument)
    }

    /// base × decay^i for i in 0..<N, in exact decimals, put on the size grid.
    public static func ladder(settings: QuoterSettings, instrument: Instrument) -> [Amount] {
        var raw = settings.baseSize
        var sizes: [Amount] = []
        sizes.reserveCapacity(settings.tiersPerSide)
        for _ in 0..<settings.tiersPerSide {
            sizes.append(instrument.roundSize(raw, settings.tierSizeRounding.mode))
            raw = raw * settings.sizeDecay
        }
        return sizes
    }

    /// The ladder's tiers at or above the minimum lot (before inventory and notional).
    public var quotableTierSizes: [Amount] {
        tierSizes.filter { $0.isPositive && $0 >= settings.minimumLot }
    }

    /// min · (max/min)^t, t = clamp((vol − volLow) / (volHigh − volLow), 0, 1); a
    /// volatility that is not a number gives the maximum.
    public static func spreadBps(volatility: Double, settings: QuoterSettings) -> Double {
        let t: Double
        if volatility.isNaN {
            t = 1
        } else {
            let position = (volatility - settings.volatilityLow) / (settings.volatilityHigh - settings.volatilityLow)
            t = min(1, max(0, position))
        }
        let spread = settings.minSpreadBps * pow(settings.maxSpreadBps / settings.minSpreadBps, t)
        return min(settings.maxSpreadBps, max(settings.minSpreadBps, spread))
    }

    /// One of our fills, for adverse-selection detection.
    public mutating func onFill(side: Side, price: Amount, time: EpochNanos) {
        adverseSelection.recordFill(side: side, price: price, time: time)
    }

    public mutating func onFill(_ fill: Fill) {
        onFill(side: fill.side, price: fill.price, time: fill.time)
    }

    /// The quotes wanted now. Also shows the reference price to the adverse-selection
    /// monitor, which is why it is mutating.
    public mutating func quote(_ input: QuoteInput) -> QuotePlan {
        adverseSelection.observe(mid: input.referencePrice, now: input.now)
        return plan(input)
    }

    // MARK: Planning

    /// The plan for `input` without observing it (no change to the adverse-selection state).
    public func plan(_ input: QuoteInput) -> QuotePlan {
        let spread = Self.spreadBps(volatility: input.volatility, settings: settings)
        let imbalance = input.imbalance.isFinite ? min(1, max(-1, input.imbalance)) : 0
        var reasons: [Reason] = []

        func widening(_ side: Side) -> Double {
            let pressure = side == .sell ? imbalance : -imbalance
            let fromBook = 1 + settings.imbalanceWidening * max(0, pressure)
            let fromFills = adverseSelection.wideningFactor(for: side, now: input.now)
            let combined = min(settings.maxSideWidening, fromBook * fromFills)
            let sideName = side == .buy ? "bid" : "ask"
            if fromBook > 1 {
                reasons.append(
                    Reason(
                        .bookImbalance,
                        "\(sideName) widened ×\(formatted(fromBook)) on imbalance \(formatted(imbalance))"))
            }
            if fromFills > 1 {
                reasons.append(
                    Reason(.adverseSelection, "\(sideName) widened ×\(formatted(fromFills)) after adverse fills"))
            }
            return combined
        }
        let bidWidening = widening(.buy)
        let askWidening = widening(.sell)
        let bidHalf = spread / 2 * bidWidening
        let askHalf = spread / 2 * askWidening
        let reference = input.referencePrice

        var plan = QuotePlan(
            referencePrice: reference, reservationPrice: reference, spreadBps: spread,
            bidHalfSpreadBps: bidHalf, askHalfSpreadBps: askHalf, bidWidening: bidWidening, askWidening: askWidening,
            bids: [], asks: [], reasons: reasons)
        guard reference.isPositive else {
            plan.reasons.append(Reason(.noReferencePrice, "reference price \(input.referencePrice)"))
            return plan
        }
        if let bid = input.bestBid, let ask = input.bestAsk, bid >= ask {
            plan.reasons.append(Reason(.crossedBook, "best bid \(bid) ≥ best ask \(ask)"))
            return plan
        }

        let maximum = settings.maxInventory
        let ratio = min(1, max(-1, (input.inventory / maximum).doubleValue))
        // In exact decimals from here on, so that 3000 − 2 bps is 2999.4, not 2999.3999….
        // To a hundredth of the finest price step: finer digits cannot move a quote, only slow the arithmetic.
        let reservation = (reference - (reference * Amount(ratio * settings.inventorySkewBps)).scaled(byPowerOfTen: -4))
            .rounded(scale: instrument.maxPriceDecimals + 2)
        plan.reservationPrice = reservation
        let shrink = max(0, 1 - settings.inventorySizeShrink * abs(ratio))

        // Buying adds to a long (or shrinks a short); selling the reverse.
        let bidRoom = maximum - input.inventory
        let askRoom = maximum + input.inventory
        plan.bids = side(
            .buy, reservation: reservation, halfSpreadBps: bidHalf, sizeFactor: ratio > 0 ? shrink : 1, room: bidRoom,
            touch: input.bestAsk, reasons: &plan.reasons)
        plan.asks = side(
            .sell, reservation: reservation, halfSpreadBps: askHalf, sizeFactor: ratio < 0 ? shrink : 1,
            room: askRoom, touch: input.bestBid, reasons: &plan.reasons)
        return plan
    }

    private func side(
        _ side: Side, reservation: Amount, halfSpreadBps: Double, sizeFactor: Double, room: Amount, touch: Amount?,
        reasons: inout [Reason]
    ) -> [Quote] {
        let sideName = side == .buy ? "bid" : "ask"
        guard room.isPositive else {
            reasons.append(
                Reason(.inventoryLimit, "\(sideName) side stopped: inventory at its maximum \(settings.maxInventory)"))
            return []
        }
        if sizeFactor < 1 {
            reasons.append(Reason(.inventoryLimit, "\(sideName) sizes ×\(formatted(sizeFactor)) for inventory"))
        }
        let factor = Amount(sizeFactor)
        var quotes: [Quote] = []
        var used = Amount.zero
        var previous: Amount?
        var capped = false
        // The first price that does not cross the touch: the same for every tier.
        let beforeTouch = touch.map { side == .buy ? instrument.nextPrice(below: $0) : instrument.nextPrice(above: $0) }
        for (tier, tierSize) in tierSizes.enumerated() {
            var size = tierSize
            if sizeFactor < 1 { size = instrument.roundSize(size * factor, .down) }
            let left = room - used
            if size > left {
                size = instrument.roundSize(left, .down)
                capped = true
            }
            guard size.isPositive, size >= settings.minimumLot else { continue }

            let offsetBps = halfSpreadBps + Double(tier) * settings.tierSpacingBps
            let distance = (reservation * Amount(offsetBps)).scaled(byPowerOfTen: -4)
            let raw = side == .buy ? reservation - distance : reservation + distance
            guard raw.isPositive else { continue }
            var price: Amount
            switch side {
            case .buy:
                price = instrument.roundPrice(raw, .down)
                if let beforeTouch { price = min(price, beforeTouch) }
                if let previous { price = min(price, instrument.nextPrice(below: previous)) }
            case .sell:
                price = instrument.roundPrice(raw, .up)
                if let beforeTouch { price = max(price, beforeTouch) }
                if let previous { price = max(price, instrument.nextPrice(above: previous)) }
            }
            guard price.isPositive, size * price >= instrument.minOrderValue else { continue }
            quotes.append(Quote(side: side, tier: tier, price: price, size: size))
            used += size
            previous = price
        }
        if capped {
            reasons.append(
                Reason(
                    .inventoryLimit,
                    "\(sideName) side capped at \(room) to keep inventory within ±\(settings.maxInventory)"))
        }
        return quotes
    }
}

extension Instrument {
    /// The finest price step any price of this instrument can have.
    var finestPriceStep: Amount {
        Amount(Decimal(sign: .plus, exponent: -max(maxPriceDecimals, 0), significand: 1))
    }

    /// The highest valid price strictly below `price` (zero when there is none).
    public func nextPrice(below price: Amount) -> Amount {
        max(.zero, roundPrice(price - finestPriceStep, .down))
    }

    /// The lowest valid price strictly above `price`.
    public func nextPrice(above price: Amount) -> Amount {
        roundPrice(price + finestPriceStep, .up)
    }
}
