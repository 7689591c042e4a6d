import AsyncHTTPClient
import Foundation
import NIOCore
import Resilience
import Schema
import Testing

@testable import Recall

/// The Chroma client's parsing and error mapping, without a server.
@Suite struct ChromaWireTests {
    func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test func parsesAQueryResponse() throws {
        let body = """
            {"ids":[["a","b"]],"embeddings":null,"documents":null,"uris":null,
             "metadatas":[[{"symbol":"BTC","strategy":"rsi","direction":"long","time":1700000000000000000,
                            "has_outcome":true,"pnl":-0.02,"holding_bars":12,"win":false,"extra":[1,2,{"x":null}]},
                           {"symbol":"BTC","direction":"long","has_outcome":true,"pnl":0,"holding_bars":3}]],
             "distances":[[0.0012,0.0018]],"include":["distances","metadatas"],"unknown_field":{"a":1}}
            """
        let neighbours = try ChromaRecallStore.parseQuery(buffer(body))
        #expect(neighbours.map(\.id) == ["a", "b"])
        #expect(neighbours[0].distance == 0.0012)
        #expect(
            neighbours[0].context
                == SetupContext(symbol: "BTC", strategy: "rsi", direction: .long, time: 1_700_000_000_000_000_000))
        #expect(neighbours[0].outcome == SetupOutcome(pnlFraction: -0.02, holdingBars: 12, isWin: false))
        // Missing strategy: no context; a P&L written as the integer 0 is still a number; no "win": from the P&L.
        #expect(neighbours[1].context == nil)
        #expect(neighbours[1].outcome == SetupOutcome(pnlFraction: 0, holdingBars: 3, isWin: false))
    }

    @Test func emptyResultIsNoNeighbours() throws {
        let body = #"{"ids":[[]],"metadatas":[[]],"distances":[[]],"include":["distances","metadatas"]}"#
        #expect(try ChromaRecallStore.parseQuery(buffer(body)).isEmpty)
    }

    @Test(arguments: [
        "",
        "not json",
        "<html><body>502 Bad Gateway</body></html>",
        "{}",
        #"{"ids":"a"}"#,
        #"{"ids":[["a"]]}"#,
        #"{"ids":[["a"]],"distances":[[0.1,0.2]]}"#,
        #"{"ids":[["a"],["b"]],"distances":[[0.1],[0.2]]}"#,
        #"{"ids":[["a"]],"distances":[[null]]}"#,
        #"{"ids":[["a"]],"distances":[["near"]]}"#,
        #"{"ids":[["a"]],"distances":[[0.1]],"metadatas":[[]]}"#,
        "[1,2,3]",
    ])
    func malformedQueryResponsesAreErrorsNotCrashes(body: String) {
        #expect {
            _ = try ChromaRecallStore.parseQuery(ByteBuffer(string: body))
        } throws: { error in
            guard case .malformedResponse = error as? RecallError else { return false }
            return RecallError.isDependencyFailure(error)
        }
    }

    @Test func httpStatusesMapToClassifiedErrors() {
        func error(_ status: Int, _ body: String) -> RecallError {
            ChromaRecallStore.error(status: status, body: ByteBuffer(string: body), request: "POST /x")
        }
        let badWhere = error(400, #"{"error":"InvalidArgumentError","message":"Invalid where clause"}"#)
        #expect(
            badWhere
                == .rejectedRequest(
                    status: 400, error: "InvalidArgumentError", message: "POST /x: Invalid where clause"))
        #expect(!badWhere.isDependencyFailure && !badWhere.isRetryable)
        #expect(error(404, #"{"error":"NotFoundError","message":"gone"}"#) == .notFound("POST /x: gone"))
        #expect(!error(401, "").isDependencyFailure)
        #expect(!error(409, #"{"error":"ChromaError","message":"exists"}"#).isDependencyFailure)
        let overloaded = error(429, "slow down")
        #expect(overloaded.isDependencyFailure && !overloaded.isRetryable)
        let html = error(502, "<html>Bad Gateway</html>")
        #expect(html == .serverError(status: 502, error: nil, message: "POST /x: <html>Bad Gateway</html>"))
        #expect(html.isDependencyFailure && html.isRetryable)
        #expect(error(500, #"{"error":"Internal","message":"boom"}"#).isDependencyFailure)
    }

    @Test func breakerClassificationOfOtherErrors() {
        struct Unknown: Error {}
        #expect(RecallError.isDependencyFailure(Unknown()))
        #expect(!RecallError.isDependencyFailure(CancellationError()))
        #expect(RecallError.isDependencyFailure(RecallError.transport("refused")))
        #expect(!RecallError.isDependencyFailure(RecallError.invalidVector("x")))
        #expect(RecallError.isRetryable(RecallError.transport("refused")))
        #expect(!RecallError.isRetryable(Unknown()))
    }

    @Test func whereClauses() throws {
        func json(_ filter: RecallFilter) throws -> String? {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return try filter.chromaWhere.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        }
        #expect(try json(.none) == nil)
        #expect(try json(RecallFilter(symbol: "BTC")) == #"{"symbol":{"$eq":"BTC"}}"#)
        #expect(
            try json(RecallFilter(symbol: "BTC", direction: .short, strategy: "rsi", onlyWithOutcome: true))
                == #"{"$and":[{"symbol":{"$eq":"BTC"}},{"direction":{"$eq":"short"}},{"strategy":{"$eq":"rsi"}},{"has_outcome":{"$eq":true}}]}"#
        )
    }

    @Test func metadataRoundTrips() {
        let context = SetupContext(symbol: "ETH", strategy: "rsi", direction: .short, time: -5)
        let outcome = SetupOutcome(pnlFraction: 0.031, holdingBars: 9)
        let metadata = SetupMetadata.encode(context: context, outcome: outcome)
        #expect(SetupMetadata.context(from: metadata) == context)
        #expect(SetupMetadata.outcome(from: metadata) == outcome)
        let open = SetupMetadata.encode(context: context, outcome: nil)
        #expect(open["has_outcome"] == .bool(false))
        #expect(SetupMetadata.outcome(from: open) == nil)
        #expect(SetupMetadata.context(from: ["symbol": .string("ETH"), "direction": .string("sideways")]) == nil)
    }

    @Test func unreachableServerIsATransportError() async throws {
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: ChromaRecallStore.makeHTTPClientConfiguration())
        let port = try freeLoopbackPort()
        let store = ChromaRecallStore(
            client: client, configuration: .init(baseURL: "http://127.0.0.1:\(port)"), logger: testLogger)
        await #expect {
            _ = try await store.heartbeat()
        } throws: { error in
            guard case .transport = error as? RecallError else { return false }
            return true
        }
        await #expect(throws: RecallError.self) {
            _ = try await store.nearest(to: vector(0), k: 3, filter: .none)
        }
        // Invalid vectors are refused before anything is sent.
        await #expect(throws: RecallError.invalidVector("query: 2 features, expected \(SetupFeatures.dimension)")) {
            _ = try await store.nearest(to: [1, 2], k: 3, filter: .none)
        }
        try await client.shutdown()
    }
}
