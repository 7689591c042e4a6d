import Foundation
import Ledger
import Schema
import Testing

/// An independent, minimal FIFO book: signed lots in a queue, plus the cash-flow view.
struct ReferenceBook {
    var lots: [(price: Amount, signedSize: Amount)] = []
    var realizedPnl = Amount.zero
    /// Σ −side·price·size: the quote currency that went out and came in.
    var cashFlow = Amount.zero
    /// Σ side·size.
    var position = Amount.zero

    mutating func apply(_ side: Side, size: Amount, price: Amount) {
        let sign = Amount(side.sign)
        cashFlow -= sign * price * size
        position += sign * size
        var remaining = size
        while remaining.isPositive, let oldest = lots.first, oldest.signedSize.signum == -side.sign {
            let matched = min(remaining, oldest.signedSize.magnitude)
            realizedPnl += (price - oldest.price) * matched * Amount(oldest.signedSize.signum)
            remaining -= matched
            lots[0].signedSize += sign * matched
            if lots[0].signedSize.isZero { lots.removeFirst() }
        }
        if remaining.isPositive { lots.append((price, sign * remaining)) }
    }
}

@Suite("FifoLedger, properties over random fill sequences")
struct LedgerPropertyTests {
    static let symbols = ["BTC", "ETH", "SOL"]
    static let strategies = ["trend", "revert", "breakout"]

    @Test("P&L, positions, trades and performance stay consistent", arguments: 0..<200 as Range<UInt64>)
    func randomSequence(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let startingCapital = [50, 10_000, 1_000_000].randomElement(using: &random).map { Amount($0) }!
        var ledger = FifoLedger(startingCapital: startingCapital)
        var reference: [String: ReferenceBook] = [:]
        var applied: [Fill] = []
        var totalFees = Amount.zero, totalFunding = Amount.zero
        var time: EpochNanos = 0

        for step in 0..<Int.random(in: 1...80, using: &random) {
            time += Int64.random(in: 1...1_000, using: &random)
            let symbol = Self.symbols.randomElement(using: &random)!
            let roll = Double.random(in: 0..<1, using: &random)

            if roll < 0.08 {
                let amount = random.amount(-5_000...5_000, decimals: 2)
                try ledger.applyFunding(symbol: symbol, amount: amount, time: time)
                totalFunding += amount
            } else if roll < 0.13, let earlier = applied.randomElement(using: &random) {
                let before = ledger
                #expect(try ledger.apply(earlier).isDuplicate, "seed \(seed) step \(step)")
                #expect(ledger == before, "seed \(seed) step \(step): a duplicate changed the ledger")
            } else if roll < 0.18 {
                let before = ledger
                let bad = random.chance(0.5)
                    ? fill("bad-\(step)", .buy, random.amount(-100...0, decimals: 5), at: 100, symbol: symbol)
                    : fill("bad-\(step)", .sell, 1, at: random.amount(-100...0, decimals: 1), symbol: symbol)
                #expect(throws: LedgerError.self) { try ledger.apply(bad) }
                #expect(ledger == before, "seed \(seed) step \(step): a refused fill changed the ledger")
            } else {
                let open = reference[symbol]?.position ?? .zero
                let side: Side, size: Amount
                if !open.isZero && random.chance(0.25) {
                    // Close exactly, so round trips end and trades are made.
                    side = open.isPositive ? .sell : .buy
                    size = open.magnitude
                } else {
                    side = Side.allCases.randomElement(using: &random)!
                    size = random.amount(1...1_000_000, decimals: 5)
                }
                let price = random.amount(1...200_000, decimals: 1)
                let fee = random.amount(-100...5_000, decimals: 4)
                let next = fill(
                    "f\(step)", side, size, at: price, fee: fee, symbol: symbol,
                    strategy: Self.strategies.randomElement(using: &random)!, time: time)
                try book(next, into: &ledger)
                reference[symbol, default: ReferenceBook()].apply(side, size: size, price: price)
                applied.append(next)
                totalFees += fee
            }

            let marks = Dictionary(
                uniqueKeysWithValues: Self.symbols.map { ($0, random.amount(1...200_000, decimals: 1)) })
            try checkBooks(ledger, reference, marks: marks, seed: seed, step: step)
            #expect(ledger.fees == totalFees)
            #expect(ledger.funding == totalFunding)
        }

        // Flatten every position at a mark: every fill now belongs to a closed round trip.
        for position in ledger.positions {
            time += 1
            let price = random.amount(1...200_000, decimals: 1)
            let side: Side = position.size.isPositive ? .sell : .buy
            let fee = random.amount(0...5_000, decimals: 4)
            try book(
                fill("flat-\(position.symbol)", side, position.size.magnitude, at: price, fee: fee,
                     symbol: position.symbol, time: time), into: &ledger)
            reference[position.symbol]!.apply(side, size: position.size.magnitude, price: price)
            totalFees += fee
        }
        #expect(ledger.positions.isEmpty)
        try checkBooks(ledger, reference, marks: [:], seed: seed, step: -1)
        try checkTrades(ledger, totalFees: totalFees, totalFunding: totalFunding, seed: seed)
    }

    /// Invariants that hold after every step.
    func checkBooks(
        _ ledger: FifoLedger, _ reference: [String: ReferenceBook], marks: [String: Amount], seed: UInt64, step: Int
    ) throws {
        let context: Comment = "seed \(seed) step \(step)"
        var realized = Amount.zero
        for (symbol, expected) in reference {
            // Position = Σ signed fill sizes.
            #expect(ledger.positionSize(symbol) == expected.position, context)
            // Realised P&L is FIFO, as the independent book computes it.
            #expect(ledger.totals(symbol).realizedPnl == expected.realizedPnl, context)
            realized += expected.realizedPnl
            // FIFO realised + unrealised = cash-flow P&L, exactly.
            let mark = marks[symbol] ?? 1
            let unrealized = try ledger.unrealizedPnl(symbol, mark: mark)
            #expect(
                expected.realizedPnl + unrealized == expected.cashFlow + expected.position * mark,
                "\(context) \(symbol)")
        }
        #expect(ledger.realizedPnl == realized, context)
        if !marks.isEmpty {
            let account = try ledger.account(marks: marks)
            let unrealized = try ledger.unrealizedPnl(marks: marks)
            #expect(
                account.equity
                    == ledger.startingCapital + ledger.realizedPnl - ledger.fees + ledger.funding + unrealized,
                context)
        }
    }

    /// Invariants over closed trades and performance, once everything is flat.
    func checkTrades(_ ledger: FifoLedger, totalFees: Amount, totalFunding: Amount, seed: UInt64) throws {
        let context: Comment = "seed \(seed)"
        let trades = ledger.closedTrades
        // Every match belongs to a closed trade; every fee and funding share lands exactly once.
        #expect(trades.map(\.realizedPnl).sum() == ledger.realizedPnl, context)
        #expect(trades.map(\.fees).sum() == totalFees, context)
        #expect(trades.map(\.funding).sum() + ledger.unattributedFunding == totalFunding, context)
        #expect(
            trades.map(\.netPnl).sum() + ledger.unattributedFunding
                == ledger.account.realizedEquity - ledger.startingCapital, context)

        for trade in trades {
            #expect(trade.size.isPositive, context)
            #expect(trade.entryTime <= trade.exitTime, context)
            // Averages are rounded at 38 digits, so compare the realised P&L they imply to 1e-8.
            let implied = (trade.exitPrice - trade.entryPrice) * trade.size * Amount(trade.direction.sign)
            #expect(implied.rounded(scale: 8) == trade.realizedPnl.rounded(scale: 8), context)
        }

        let performance = ledger.performance()
        let overall = performance.overall
        #expect(overall.tradeCount == trades.count, context)
        #expect((0...1).contains(overall.winRate), context)
        #expect(!overall.winRate.isNaN, context)
        #expect(overall.wins + overall.losses + overall.breakevens == overall.tradeCount, context)
        #expect((0...1).contains(performance.maxDrawdown), context)
        #expect(overall.totalNetPnl == trades.map(\.netPnl).sum(), context)
        #expect(overall.grossProfit + overall.grossLoss == overall.totalNetPnl, context)
        if let profitFactor = overall.profitFactor { #expect(profitFactor >= 0 && profitFactor.isFinite, context) }
        #expect(performance.equityCurve.finalEquity == ledger.startingCapital + overall.totalNetPnl, context)
        if performance.equityCurve.points.contains(where: { !$0.equity.isPositive }) {
            #expect(performance.maxDrawdown == 1, context)
        }

        // Per strategy: the parts add up to the whole.
        let parts = performance.byStrategy.values
        #expect(parts.map(\.totalNetPnl).sum() == overall.totalNetPnl, context)
        #expect(parts.map(\.tradeCount).reduce(0, +) == overall.tradeCount, context)
        #expect(parts.map(\.wins).reduce(0, +) == overall.wins, context)
        for part in parts { #expect((0...1).contains(part.winRate), context) }
    }
}
