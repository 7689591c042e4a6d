/// Every error text the simulated venue answers with, in one place.
///
/// Provenance of each string (as of this writing):
/// - confirmed: Hyperliquid's "Error responses" docs page, or real responses quoted in public
///   SDK issues / test fixtures (the exact text, including the trailing period and `asset=` suffix).
/// - guessed: not found verbatim in public material; shaped like the confirmed ones.
enum VenueError {
    // MARK: Order statuses ({"error": …} inside statuses)

    /// confirmed (docs, MinTradeNtl).
    static let minimumValue = "Order must have minimum value of $10."
    /// confirmed (docs list, SDK issues: "Order has invalid price.").
    static let invalidPrice = "Order has invalid price."
    /// confirmed text (docs, Tick); the ` asset=N` suffix is guessed by analogy with the others.
    static func tick(asset: Int) -> String { "Price must be divisible by tick size. asset=\(asset)" }
    /// confirmed ("Order has invalid size." quoted in public bots).
    static let invalidSize = "Order has invalid size."
    /// guessed.
    static let zeroSize = "Order has zero size."
    /// confirmed (docs PerpMargin + brief's `asset=` form).
    static func insufficientMargin(asset: Int) -> String { "Insufficient margin to place order. asset=\(asset)" }
    /// confirmed (docs ReduceOnly + `asset=` form).
    static func reduceOnly(asset: Int) -> String { "Reduce only order would increase position. asset=\(asset)" }
    /// confirmed (docs BadAloPx: "Post only order would have immediately matched, bbo was {bbo}."); the real
    /// exchange renders {bbo} as `bid@ask` and appends ` asset=N` (as its other per-order errors do).
    static func badAloPx(bid: String, ask: String, asset: Int) -> String {
        "Post only order would have immediately matched, bbo was \(bid)@\(ask). asset=\(asset)"
    }
    /// confirmed (docs IocCancel + SDK issues with `asset=`).
    static func iocCancel(asset: Int) -> String {
        "Order could not immediately match against any resting orders. asset=\(asset)"
    }
    /// confirmed (docs BadTriggerPx).
    static let badTriggerPx = "Invalid TP/SL price."
    /// guessed: the docs say a non-reduce-only TP/SL is refused before placement but do not quote the text.
    static let tpslNotReduceOnly = "TP/SL order must be reduce only."
    /// confirmed (docs MarketOrderNoLiquidity).
    static let noLiquidity = "No liquidity available for market order."
    /// guessed.
    static func unknownAsset(_ asset: Int) -> String { "Invalid asset \(asset)." }

    // MARK: Cancel / modify statuses

    /// confirmed (real cancelByCloid response quoted in a public test fixture).
    static func missingOrder(asset: Int) -> String {
        "Order was never placed, already canceled, or filled. asset=\(asset)"
    }
    /// confirmed (quoted from a live bot's log in public material).
    static let cannotModify = "Cannot modify canceled or filled order."

    // MARK: Whole-request errors ({"status":"err","response": …})

    /// confirmed ("User or API Wallet 0x… does not exist." with the recovered address, lowercase hex).
    static func unknownSigner(_ lowercaseAddress: String) -> String {
        "User or API Wallet \(lowercaseAddress) does not exist."
    }
    /// confirmed (SDK issue: "Invalid nonce: duplicate nonce 1741107452532").
    static func duplicateNonce(_ nonce: UInt64) -> String { "Invalid nonce: duplicate nonce \(nonce)" }
    /// confirmed shape ("Invalid nonce: nonce too low <nonce> < <minimum>", quoted from production logs in
    /// public code); the minimum printed here is this simulator's window edge.
    static func nonceTooLow(_ nonce: UInt64, minimum: UInt64) -> String {
        "Invalid nonce: nonce too low \(nonce) < \(minimum)"
    }
    /// seen in public code as "Invalid nonce: nonce too high <nonce> > <maximum>"; not confirmed by a capture.
    static func nonceTooHigh(_ nonce: UInt64, maximum: UInt64) -> String {
        "Invalid nonce: nonce too high \(nonce) > \(maximum)"
    }
    /// guessed (public code matches the lowercase "action already expired").
    static let actionExpired = "Action already expired."
    /// confirmed ("Too many cumulative requests sent (14295 > 14294) for cumulative volume traded $4295.52.
    /// Place taker orders to free up 1 request per USDC traded.").
    static func cumulativeRequests(used: Int, cap: Int, volume: String) -> String {
        "Too many cumulative requests sent (\(used) > \(cap)) for cumulative volume traded $\(volume). "
            + "Place taker orders to free up 1 request per USDC traded."
    }
    /// confirmed (quoted by public test suites run against the real API).
    static let scheduleCancelTooEarly = "Scheduled cancel time too early, must be at least 5 seconds from now."
    /// confirmed text up to the amount ("Cannot set scheduled cancel time until enough volume traded.
    /// Required: $1000000."); the amount is the configured one.
    static func scheduleCancelVolume(required: String) -> String {
        "Cannot set scheduled cancel time until enough volume traded. Required: $\(required)."
    }
    /// guessed.
    static let scheduleCancelTooMany = "Too many scheduled cancel triggers today."
    /// confirmed ("Invalid leverage value", quoted in a public trading guide).
    static let invalidLeverage = "Invalid leverage value"
    /// confirmed (string table of the node binary, quoted in public notes).
    static let crossNotAllowed = "Cross margin is not allowed for this asset."
    /// confirmed (observed on testnet flipping cross → isolated with a position open; SDK comments).
    static let switchWithOpenPosition = "Cannot switch leverage type with open position."
    /// confirmed (node binary's string table): lowering leverage below what a cross position's margin carries.
    static let crossDecreaseLeverage = "Cross position does not have sufficient margin available to decrease leverage."
    /// confirmed (node binary's string table; observed 3× → 1× refused on an isolated position).
    static let isolatedDecreaseLeverage =
        "Isolated position does not have sufficient margin available to decrease leverage."
    /// confirmed (observed: updateIsolatedMargin on a cross position).
    static let notIsolated = "Position does not use isolated margin."
    /// guessed: updateIsolatedMargin with no position on the asset.
    static let noIsolatedPosition = "No position to update isolated margin."
    /// guessed: adding more isolated margin than the cross balance has free.
    static let insufficientMarginToAdd = "Insufficient margin to add to isolated position."
    /// guessed: removing so much that the position would fall below max(initial margin, 10 % of notional).
    static let insufficientMarginToRemove = "Insufficient isolated margin to remove."
    /// guessed.
    static func vaultNotRegistered(_ lowercaseAddress: String) -> String { "Vault not registered: \(lowercaseAddress)" }
    /// guessed (the real exchange supports many more action types).
    static func unsupportedAction(_ type: String) -> String { "Unsupported action for exchange-sim: \(type)" }
    /// The body the real /info and /exchange give a body they cannot parse (HTTP 422), confirmed prefix.
    static func deserialize(_ detail: String) -> String {
        "Failed to deserialize the JSON body into the target type: \(detail)"
    }
}
