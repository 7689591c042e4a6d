/// What the recall service needs from a pattern store. `ChromaRecallStore` is the real one; tests use a
/// scripted double to drive the fallback logic without a server.
public protocol RecallStore: Sendable {
    /// Makes the store usable (for Chroma: database and collection); cheap once done, safe to repeat.
    func prepare() async throws
    /// The `k` nearest stored set-ups to `features` that pass `filter`, nearest first.
    func nearest(to features: [Double], k: Int, filter: RecallFilter) async throws -> [RecalledSetup]
    /// Inserts or replaces records by id. Idempotent: repeating it leaves the same state.
    func upsert(_ records: [SetupRecord]) async throws
    /// Writes a closed trade's outcome into its set-up's record. Idempotent.
    func recordOutcome(setupId: String, outcome: SetupOutcome) async throws
}
