import Schema

/// The trading state machine (DESIGN.md, "Trading state"):
///
///     SYNCING ──fresh snapshot──▶ ACTIVE ⇄ REDUCING ──▶ HALTED ──resume (no cause left)──▶ …
///
/// - REDUCING while drawdown ≥ `reduceAtDrawdown` or the venue is unavailable; it returns to
///   ACTIVE by itself once every cause has cleared.
/// - HALTED on the kill switch, drawdown ≥ `drawdownLock`, a daily loss ≥ `dailyLossLimit`, or
///   the venue unavailable past `venueOutageGraceNanos`, from any state. HALTED is latched:
///   only `resume(now:)` leaves it, and only once no cause persists.
///
/// Equity = starting capital + realised − fees + funding + unrealised, with realised, fees and
/// funding from the latest snapshot (plus the fills since) and unrealised at the latest marks.
extension RiskBook {
    /// Current equity.
    public var equity: Amount { startingCapital + netRealizedPnl + unrealizedPnl }

    /// Realised P&L net of fees and funding: equity less the starting capital and the unrealised.
    public var netRealizedPnl: Amount { realizedPnl - fees + funding }

    /// Unrealised P&L at the latest marks (the snapshot's figure for a position without a mark).
    public var unrealizedPnl: Amount {
        positions.reduce(Amount.zero) { sum, entry in
            let (symbol, position) = entry
            if let mark = marks[symbol] { return sum + position.size * (mark - position.entryPrice) }
            return sum + (position.snapshotUnrealized ?? .zero)
        }
    }

    /// Fraction of peak equity lost, 0…1.
    public var drawdown: Double { drawdownFraction.doubleValue }

    /// Loss since the start of the UTC day (zero when up, or before the first snapshot).
    public var dailyLoss: Amount {
        guard let dayStartEquity else { return .zero }
        return Swift.max(dayStartEquity - equity, .zero)
    }

    var drawdownFraction: Amount { drawdownFraction(equity: equity) }

    /// HALTED by the drawdown lock: it latched the halt, or the drawdown is past the lock now (a
    /// halt for another cause that `resume` would also refuse for the drawdown). What `/metrics` pages on.
    public var drawdownLockEngaged: Bool {
        guard state == .halted else { return false }
        return haltReasons.contains { $0.code == .drawdownLock }
            || (synced && drawdownFraction >= Amount(limits.drawdownLock))
    }

    func drawdownFraction(equity: Amount) -> Amount {
        let peak = Swift.max(peakEquity, equity)
        guard peak.isPositive else { return equity < peak ? 1 : 0 }
        return Swift.min(Swift.max((peak - equity) / peak, .zero), 1)
    }

    // MARK: Inputs that move the state

    /// A new mark price: revalues the position (and so equity and drawdown).
    public mutating func updateMark(symbol: String, price: Amount, now: EpochNanos) -> [RiskStateChange] {
        advanceClock(now)
        guard price.isPositive else { return [] }
        marks[symbol] = price
        refreshExposure(symbol)
        forecastVaRIfDue(now: now)
        return settleState(now: now)
    }

    /// Engaging halts at once. Releasing does not resume: an operator must `resume`.
    public mutating func setKillSwitch(
        _ engaged: Bool, reason: String, by: String = "operator", from caller: String = "", now: EpochNanos
    ) -> [RiskStateChange] {
        advanceClock(now)
        killSwitchEngaged = engaged
        killSwitchReason = reason
        killSwitchBy = by
        killSwitchFrom = caller
        killSwitchSince = engaged ? now : nil
        return settleState(now: now)
    }

    /// The gate could not save its memory (`detail`), or could again (nil). Failing halts: nothing
    /// may trade on state a restart would forget. Saving again clears the cause; HALTED stays latched.
    public mutating func setStateWriteFailed(_ detail: String?, now: EpochNanos) -> [RiskStateChange] {
        advanceClock(now)
        stateWriteFault = detail
        return settleState(now: now)
    }

    /// The saved memory could not be read: the book stays in SYNCING whatever snapshots say, so
    /// it never trades without the halt or kill switch it may have had. Only a restart with a
    /// readable (or removed) state file lifts this.
    public mutating func holdSyncing(unreadableState detail: String, now: EpochNanos) -> [RiskStateChange] {
        advanceClock(now)
        unreadableState = detail
        return settleState(now: now)
    }

    /// Why the book is held in SYNCING, if it is.
    public var unreadableStateDetail: String? { unreadableState }

    /// The exchange went down (REDUCING; HALTED if still down after the grace) or came back.
    public mutating func setVenueAvailable(_ available: Bool, reason: String, now: EpochNanos) -> [RiskStateChange] {
        advanceClock(now)
        if available {
            venueDownSince = nil
        } else if venueAvailable {
            venueDownSince = now
        }
        venueAvailable = available
        venueReason = reason
        return settleState(now: now)
    }

    /// Re-evaluates time-driven causes (the venue grace, the UTC day). Call it on a timer.
    public mutating func tick(now: EpochNanos) -> [RiskStateChange] {
        advanceClock(now)
        return settleState(now: now)
    }

    /// The operator's command to leave HALTED; refused while any cause of a halt persists.
    public mutating func resume(now: EpochNanos) -> ResumeOutcome {
        advanceClock(now)
        guard state == .halted else { return .notHalted(state) }
        refreshEquityBaselines(now: now)
        let causes = haltCauses(now: now)
        guard causes.isEmpty else { return .refused(causes) }
        let canTrade = synced && unreadableState == nil
        let reducing = canTrade ? reducingCauses(now: now) : []
        let target: TradingState = !canTrade ? .syncing : (reducing.isEmpty ? .active : .reducing)
        let resumed = Reason(.resumed, "operator resume; no halt cause persists")
        return .resumed(transition(to: target, reasons: [resumed] + reducing))
    }

    /// The operator's acknowledgement of a drawdown: the peak restarts at current equity, so
    /// a drawdown lock can be resumed from. Does not leave HALTED by itself.
    public mutating func rebaseEquityPeak(now: EpochNanos) {
        advanceClock(now)
        peakEquity = equity
    }

    /// Whether a fresh account snapshot was applied since start: equity means something only then.
    public var accountSynced: Bool { synced }

    // MARK: Causes and transitions

    func haltCauses(now: EpochNanos) -> [Reason] {
        var causes: [Reason] = []
        if killSwitchEngaged { causes.append(Reason(.killSwitch, "engaged: \(killSwitchReason)")) }
        if let stateWriteFault { causes.append(Reason(.riskStateWriteFailed, stateWriteFault)) }
        if synced {
            let equity = self.equity
            let drawdown = drawdownFraction(equity: equity)
            if drawdown >= Amount(limits.drawdownLock) {
                causes.append(
                    Reason(
                        .drawdownLock,
                        "drawdown \(Format.percent(drawdown)) (equity \(Format.money(equity)), peak \(Format.money(peakEquity))) ≥ lock \(Format.percent(limits.drawdownLock))"
                    ))
            }
            if let dayStartEquity, dayStartEquity - equity >= limits.dailyLossLimit {
                causes.append(
                    Reason(
                        .dailyLossLimit,
                        "loss \(Format.money(dayStartEquity - equity)) since the day's start equity \(Format.money(dayStartEquity)) ≥ limit \(Format.money(limits.dailyLossLimit))"
                    ))
            }
        }
        if let since = venueDownSince, now - since >= limits.venueOutageGraceNanos {
            causes.append(
                Reason(
                    .venueOutage,
                    "venue unavailable for \(Format.seconds(now - since)) ≥ grace \(Format.seconds(limits.venueOutageGraceNanos)): \(venueReason)"
                ))
        }
        return causes
    }

    func reducingCauses(now: EpochNanos) -> [Reason] {
        var causes: [Reason] = []
        let equity = self.equity
        let drawdown = drawdownFraction(equity: equity)
        if drawdown >= Amount(limits.reduceAtDrawdown) {
            causes.append(
                Reason(
                    .drawdownReduce,
                    "drawdown \(Format.percent(drawdown)) (equity \(Format.money(equity)), peak \(Format.money(peakEquity))) ≥ \(Format.percent(limits.reduceAtDrawdown))"
                ))
        }
        if let since = venueDownSince {
            causes.append(Reason(.venueUnavailable, "down for \(Format.seconds(now - since)): \(venueReason)"))
        }
        return causes
    }

    /// Moves to the state the causes call for and reports the transition, if any.
    mutating func settleState(now: EpochNanos, because extra: [Reason] = []) -> [RiskStateChange] {
        refreshEquityBaselines(now: now)
        guard state != .halted else { return [] }  // latched: only `resume` leaves HALTED
        let halts = haltCauses(now: now)
        let target: TradingState
        var reasons: [Reason]
        if !halts.isEmpty {
            (target, reasons) = (.halted, halts)
        } else if !synced {
            (target, reasons) = (.syncing, [])
        } else if let unreadableState {
            (target, reasons) = (.syncing, [Reason(.riskStateUnreadable, unreadableState)])
        } else {
            reasons = reducingCauses(now: now)
            target = reasons.isEmpty ? .active : .reducing
        }
        guard target != state else { return [] }
        if target == .active && state == .reducing {
            reasons.append(
                Reason(
                    .recovered,
                    "drawdown \(Format.percent(drawdownFraction)) < \(Format.percent(limits.reduceAtDrawdown)) and the venue is available"
                ))
        }
        return [transition(to: target, reasons: extra + reasons)]
    }

    mutating func transition(to target: TradingState, reasons: [Reason]) -> RiskStateChange {
        let previous = state
        state = target
        haltReasons = target == .halted ? reasons : []
        return RiskStateChange(
            state: target, previous: previous, reasons: reasons, openPositions: openPositionCount,
            grossExposure: grossExposure, killSwitch: killSwitchEngaged)
    }

    /// Tracks the equity peak, and sets the day's start equity at the first synced moment.
    private mutating func refreshEquityBaselines(now: EpochNanos) {
        guard synced else { return }
        let current = equity
        if current > peakEquity { peakEquity = current }
        if dayStartEquity == nil {
            dayStartEquity = current
            currentDay = Self.utcDay(now)
        }
    }

    /// At the first step of a new UTC day, the equity before that step becomes the day's start.
    mutating func rollDay(now: EpochNanos) {
        guard synced, let currentDay else { return }
        let day = Self.utcDay(now)
        guard day > currentDay else { return }
        closeVaRBacktestDay(currentDay, next: day)
        dayStartEquity = equity
        self.currentDay = day
    }

    static func utcDay(_ time: EpochNanos) -> Int64 {
        time >= 0 ? time / Nanos.day : (time + 1) / Nanos.day - 1
    }
}
