import Schema
import Foundation
import Testing

@testable import Schema
import TestSupport

/// proto/ (the published contract) and the Swift types say the same thing.
@Suite("proto/ contract")
struct ProtoContractTests {
    static let sharedSchemas: Set<String> = ["common", "envelope"]

    // MARK: Every type has proto, and proto has nothing else

    @Test("every message type has a schema and a golden example", arguments: MessageType.allCases)
    func everyTypeHasSchemaAndExample(_ type: MessageType) throws {
        let schemaURL = Repository.schemaURL(type), exampleURL = Repository.exampleURL(type)
        #expect(FileManager.default.fileExists(atPath: schemaURL.path), "missing proto/\(type.rawValue).schema.json")
        #expect(FileManager.default.fileExists(atPath: exampleURL.path), "missing proto/examples/\(type.rawValue).json")
        let schema = try Repository.json(schemaURL)
        #expect(schema["$schema"]?.stringValue == "https://json-schema.org/draft/2020-12/schema")
        #expect(schema["$id"]?.stringValue?.hasSuffix("/\(type.rawValue).schema.json") == true)
        #expect(schema["$ref"]?.stringValue == "envelope.schema.json")
        #expect(schema["properties"]?["type"]?["const"] == .string(type.rawValue))
        #expect(schema["x-swift-type"]?.stringValue == String(describing: type.bodyType))
        #expect(schema["properties"]?["body"]?["additionalProperties"] == nil, "bodies must allow unknown fields")
    }

    @Test("proto/ holds no schema or example for a type Swift does not know")
    func noStrayProtoFiles() throws {
        let known = Set(MessageType.allCases.map(\.rawValue))
        let schemas = try Repository.files(in: Repository.proto, suffix: ".schema.json")
            .map { String($0.dropLast(".schema.json".count)) }
        #expect(Set(schemas) == known.union(Self.sharedSchemas))
        let examples = try Repository.files(in: Repository.examples, suffix: ".json").map { String($0.dropLast(5)) }
        #expect(Set(examples) == known)
    }

    @Test("common.schema.json lists every message type, and the README's table names each")
    func messageTypeListsAgree() throws {
        let common = try Repository.json(Repository.proto.appendingPathComponent("common.schema.json"))
        #expect(common["$defs"]?["messageType"]?["enum"]?.stringArray == MessageType.allCases.map(\.rawValue))
        let readme = try String(contentsOf: Repository.proto.appendingPathComponent("README.md"), encoding: .utf8)
        for type in MessageType.allCases {
            #expect(readme.contains("| `\(type.rawValue)` |"), "README.md's table lacks \(type.rawValue)")
        }
    }

    // MARK: The golden examples

    @Test("a golden example decodes, re-encodes to the same JSON and round-trips", arguments: MessageType.allCases)
    func goldenExampleRoundTrips(_ type: MessageType) throws {
        let bytes = try Repository.bytes(Repository.exampleURL(type))
        let (header, bodyRange) = try EnvelopeCodec.parseHeader(bytes)
        #expect(header.schemaVersion == SchemaVersion.major)
        #expect(header.type == type.rawValue)
        #expect(header.messageType == type)

        let body = try decodeBody(type, from: bytes[bodyRange])
        let raw = try RawEnvelope(topic: topic(of: body), bytes: bytes)
        #expect(sameMessage(try decodeRaw(raw, as: type), body))
        #expect(header.symbol == body.symbol, "the header's sym is the body's symbol")

        // Encode and decode again: the same value.
        let reencoded = try encodeBody(body)
        let again = try decodeBody(type, from: reencoded[...])
        #expect(sameMessage(again, body), "\(type.rawValue) does not survive encode → decode")

        // The example's body is what Swift writes (member order aside): no field Swift
        // would not write, none missing, numbers and decimals in Swift's canonical form.
        let example = try JSONValue.parse(bytes)
        let exampleBody = try #require(example["body"])
        let swiftBody = try JSONValue.parse(reencoded)
        #expect(
            exampleBody.sameValue(as: swiftBody),
            "proto/examples/\(type.rawValue).json body differs from Swift's encoding:\n\(exampleBody.compact)\n\(swiftBody.compact)")

        // The header is byte for byte what EnvelopeCodec writes, in its field order.
        let envelope = EnvelopeCodec.encode(header: header, body: Array(exampleBody.compact.utf8))
        #expect(String(decoding: envelope, as: UTF8.self) == example.compact)
        let reparsed = try EnvelopeCodec.parseHeader(envelope)
        #expect(reparsed.header == header)
    }

    @Test("the golden examples tell one consistent story")
    func goldenExamplesAreConsistent() throws {
        func body(_ type: MessageType) throws -> JSONValue { try #require(try Repository.json(Repository.exampleURL(type))["body"]) }
        func decoded<M: BusMessage>(_: M.Type) throws -> M {
            let bytes = try Repository.bytes(Repository.exampleURL(M.messageType))
            return try RawEnvelope(topic: "", bytes: bytes).decode(M.self)
        }
        let signal = try decoded(Signal.self), intent = try decoded(OrderIntent.self)
        let decision = try decoded(RiskDecision.self), command = try decoded(OrderCommand.self)
        let ack = try decoded(OrderAck.self), fill = try decoded(Fill.self)
        let snapshot = try decoded(AccountSnapshot.self), bar = try decoded(Bar.self)

        #expect(intent.origin == signal.signalId)
        #expect(signal.referencePrice == bar.close && signal.barTime == bar.openTime)
        #expect(decision.intentId == intent.intentId && command.intentId == intent.intentId)
        #expect(decision.clientOrderId == Identifier.clientOrderId(forIntent: intent.intentId))
        #expect(command.clientOrderId == Identifier.clientOrderId(forIntent: intent.intentId))
        #expect(ack.clientOrderId == command.clientOrderId && fill.clientOrderId == command.clientOrderId)
        #expect(fill.size == decision.approvedSize && command.size == decision.approvedSize)
        #expect(fill.fee == (fill.price * fill.size * "0.00035").rounded(scale: 6), "taker fee 3.5 bp")
        #expect(snapshot.lastFillId == fill.fillId)
        #expect(
            snapshot.equity
                == snapshot.startingCapital + snapshot.realizedPnl - snapshot.fees + snapshot.funding
                + snapshot.unrealizedPnl)
        #expect(snapshot.unrealizedPnl == snapshot.positions.map(\.unrealizedPnl).sum())

        // Prices and sizes obey Hyperliquid's BTC rules (szDecimals 5).
        let btc = Instrument(symbol: "BTC", szDecimals: 5)
        for price in [intent.price, command.price, fill.price, bar.open, bar.high, bar.low, bar.close] {
            #expect(btc.isValidPrice(price), "\(price) is not a valid BTC price")
        }
        for size in [intent.size, command.size, fill.size] { #expect(btc.isValidSize(size)) }
        #expect(fill.price * fill.size >= btc.minOrderValue)

        // The market maker's story: the approval answers the target, the report rests exactly
        // what was approved, and the ladder is sound on BTC's rules.
        let target = try decoded(QuoteTarget.self), approval = try decoded(ApprovedQuotes.self)
        let report = try decoded(QuoteReport.self)
        #expect(approval.targetId == target.targetId && report.targetId == target.targetId)
        #expect(approval.strategy == target.strategy && approval.symbol == target.symbol && report.symbol == target.symbol)
        #expect(approval.expiresAt == target.expiresAt && approval.refresh == target.refresh)
        #expect(target.createdAt < approval.createdAt && approval.createdAt < report.time && report.time < target.expiresAt)
        #expect(approval.tradingState == .active && !approval.clipped.isEmpty)
        #expect(target.inventory == snapshot.positions.first?.size, "quotes built for the position the account holds")
        var clippedTarget = target.quotes
        for clip in approval.clipped {
            let index = try #require(clippedTarget.firstIndex(of: clip.quote), "a clip names a quote the target wanted")
            #expect(clip.allowedSize < clip.quote.size)
            clippedTarget[index].size = clip.allowedSize
        }
        #expect(approval.quotes == clippedTarget.filter(\.size.isPositive))
        let rested = report.resting.map { QuoteLevel(side: $0.side, tier: $0.tier, price: $0.price, size: $0.size) }
        #expect(rested == approval.quotes)
        #expect(report.placed == report.resting.count && report.kept + report.modified + report.canceled == 0)
        #expect(Set(report.resting.map(\.clientOrderId)).count == report.resting.count)
        let bids = approval.quotes.filter { $0.side == .buy }, asks = approval.quotes.filter { $0.side == .sell }
        #expect(bids.map(\.tier) == Array(bids.indices) && asks.map(\.tier) == Array(asks.indices))
        #expect(zip(bids, bids.dropFirst()).allSatisfy { $0.price > $1.price }, "bids best first")
        #expect(zip(asks, asks.dropFirst()).allSatisfy { $0.price < $1.price }, "asks best first")
        let bestBid = try #require(bids.first).price, bestAsk = try #require(asks.first).price
        let reservation = try #require(target.reservationPrice), reference = try #require(target.referencePrice)
        #expect(bestBid < reservation && reservation < bestAsk)
        #expect(reservation < reference, "a long skews the quotes down")
        for quote in target.quotes + approval.quotes {
            #expect(btc.isValidPrice(quote.price) && btc.isValidSize(quote.size), "\(quote)")
            #expect(quote.notional >= btc.minOrderValue, "\(quote)")
        }

        // Ids look as the README says.
        for type in MessageType.allCases {
            let example = try Repository.json(Repository.exampleURL(type))
            for key in ["inst", "trace"] {
                #expect(example[key]?.stringValue?.wholeMatch(of: /[0-9a-f]{32}/) != nil, "\(type.rawValue): \(key)")
            }
            #expect(try body(type)["clientOrderId"].map { $0.stringValue?.wholeMatch(of: /0x[0-9a-f]{32}/) != nil } ?? true)
        }
    }

    // MARK: Schema and Swift agree on fields, enums and topics

    @Test("a body field is required in the schema exactly when Swift cannot decode without it", arguments: MessageType.allCases)
    func requiredFieldsMatchSwift(_ type: MessageType) throws {
        let schema = try Repository.json(Repository.schemaURL(type))
        let bodySchema = try #require(schema["properties"]?["body"])
        let required = Set(try #require(bodySchema["required"]?.stringArray))
        let properties = Set(bodySchema["properties"]?.keys ?? [])
        #expect(required.isSubset(of: properties))

        let samples = Samples.of(type)
        try #require(!samples.isEmpty)
        var written = Set<String>()
        for sample in samples {
            let envelope = try JSONValue.parse(try sample.encoded())
            let body = try #require(envelope["body"])
            written.formUnion(body.keys)
            for key in body.keys {
                let without = Array(body.removing(key).compact.utf8)
                let decodes = (try? decodeBody(type, from: without[...])) != nil
                #expect(
                    decodes != required.contains(key),
                    "\(type.rawValue).\(key): Swift \(decodes ? "decodes" : "fails") without it, schema says \(required.contains(key) ? "required" : "optional")")
            }
        }
        #expect(properties == written, "schema properties vs the fields Swift writes for \(type.rawValue)")
    }

    /// Every enum in common.schema.json, with the Swift type's raw values. The switches
    /// stop compiling when Swift gains a case, so this table cannot fall behind silently.
    static func swiftEnums() -> [String: [String]] {
        func all<E: RawRepresentable<String>>(_ cases: [E], _ exhaustive: (E) -> Void) -> [String] { cases.map(\.rawValue) }
        return [
            "side": all(Side.allCases) { switch $0 { case .buy, .sell: () } },
            "orderPurpose": all([OrderPurpose.entry, .exit]) { switch $0 { case .entry, .exit: () } },
            "orderType": all([OrderType.market, .limit]) { switch $0 { case .market, .limit: () } },
            "timeInForce": all([TimeInForce.gtc, .ioc, .alo]) { switch $0 { case .gtc, .ioc, .alo: () } },
            "orderAction": all([OrderCommand.Action.place, .cancel, .modify]) { switch $0 { case .place, .cancel, .modify: () } },
            "orderTriggerKind": all(OrderTrigger.Kind.allCases) { switch $0 { case .takeProfit, .stopLoss: () } },
            "orderGrouping": all(OrderGrouping.allCases) { switch $0 { case .na, .normalTpsl, .positionTpsl: () } },
            "liquidity": all([Liquidity.maker, .taker]) { switch $0 { case .maker, .taker: () } },
            "direction": all([Direction.long, .short, .flat]) { switch $0 { case .long, .short, .flat: () } },
            "signalDecision": all([Signal.Decision.approved, .rejected]) { switch $0 { case .approved, .rejected: () } },
            "riskOutcome": all([RiskDecision.Outcome.approved, .resized, .rejected]) {
                switch $0 { case .approved, .resized, .rejected: () }
            },
            "tradingState": all([TradingState.syncing, .active, .reducing, .halted]) {
                switch $0 { case .syncing, .active, .reducing, .halted: () }
            },
            "varBasis": all(VaRBasis.allCases) { switch $0 { case .historical, .insufficientHistory: () } },
            "varZone": all(VaRZone.allCases) { switch $0 { case .green, .yellow, .red: () } },
            "feedState": all([FeedStatus.State.live, .stale, .ended]) { switch $0 { case .live, .stale, .ended: () } },
            "breakerState": all([BreakerState.closed, .open, .halfOpen, .forcedOpen, .disabled]) {
                switch $0 { case .closed, .open, .halfOpen, .forcedOpen, .disabled: () }
            },
            "serviceHealth": all([ServiceHealth.starting, .ok, .degraded, .stopping]) {
                switch $0 { case .starting, .ok, .degraded, .stopping: () }
            },
            "alertSeverity": all([Alert.Severity.info, .warning, .critical]) { switch $0 { case .info, .warning, .critical: () } },
            "messageType": MessageType.allCases.map(\.rawValue),
        ]
    }

    @Test("every enum in common.schema.json has exactly the Swift type's values")
    func enumsMatchSwift() throws {
        let defs = try #require(try Repository.json(Repository.proto.appendingPathComponent("common.schema.json"))["$defs"])
        let swift = Self.swiftEnums()
        var schemaEnums: [String: [String]] = [:]
        for member in defs.members ?? [] {
            if let values = member.value["enum"]?.stringArray { schemaEnums[member.key] = values }
        }
        #expect(Set(schemaEnums.keys) == Set(swift.keys))
        for (name, values) in swift {
            #expect(schemaEnums[name] == values, "common.schema.json $defs.\(name)")
        }
        // ReasonCode is an open set: a string, not an enum.
        #expect(defs["reasonCode"]?["enum"] == nil)
        #expect(defs["reasonCode"]?["type"] == .string("string"))
        #expect(defs["amount"]?["pattern"] == .string(#"^-?[0-9]+(\.[0-9]+)?$"#))
    }

    @Test("each schema's x-topic is the topic Swift gives the message")
    func topicsMatchSwift() throws {
        for sample in Samples.all {
            let pattern = try #require(try Repository.json(Repository.schemaURL(sample.type))["x-topic"]?.stringValue)
            let body = try JSONValue.parse(try encodeBody(sample.body))
            var expected = pattern
            for key in ["symbol", "service", "code"] {
                if let value = body[key]?.stringValue { expected = expected.replacingOccurrences(of: "{\(key)}", with: value) }
            }
            #expect(topic(of: sample.body) == expected, "\(sample)")
        }
    }

    // MARK: Versions and unknown fields

    @Test("an unknown major version is rejected with unsupportedVersion", arguments: [0, 2, 3, 99, -1, 1_000_000])
    func unknownMajorVersionIsRejected(_ version: Int) throws {
        for type in MessageType.allCases {
            let example = try Repository.json(Repository.exampleURL(type))
            let bytes = Array(example.setting("v", .number(String(version))).compact.utf8)
            #expect(throws: EnvelopeError.unsupportedVersion(version)) { try EnvelopeCodec.parseHeader(bytes) }
            #expect(throws: EnvelopeError.unsupportedVersion(version)) { try RawEnvelope(topic: "x", bytes: bytes) }
        }
        // A future major may change everything but "v": still unsupportedVersion, not malformed.
        let future = Array(#"{"kind":"md.bar","v":\#(version),"payload":[1,{"a":null}],"body":"opaque"}"#.utf8)
        #expect(throws: EnvelopeError.unsupportedVersion(version)) { try EnvelopeCodec.parseHeader(future) }
    }

    @Test("unknown fields in the envelope and in the body are ignored", arguments: MessageType.allCases)
    func unknownFieldsAreIgnored(_ type: MessageType) throws {
        let bytes = try Repository.bytes(Repository.exampleURL(type))
        let (header, bodyRange) = try EnvelopeCodec.parseHeader(bytes)
        let original = try decodeBody(type, from: bytes[bodyRange])

        let example = try JSONValue.parse(bytes)
        let unknown = try JSONValue.parse(#"{"nested":[1,-2.5e-3,true,null,"x\"y",{"deep":[[[]]]}],"n":null}"#)
        var body = try #require(example["body"]).setting("addedInV1_7", unknown).setting("flag", .bool(true))
        if var members = body.members {
            members.insert(.init(key: "first", value: .number("12")), at: 0)
            body = .object(members)
        }
        var envelope = example.setting("body", body).setting("zzz", unknown).setting("region", .string("eu-west"))
        if var members = envelope.members {
            members.insert(.init(key: "prefix", value: .array([.null])), at: 0)
            members.insert(.init(key: "mid", value: .object([])), at: 3)
            envelope = .object(members)
        }
        let extended = Array(envelope.compact.utf8)
        let parsed = try EnvelopeCodec.parseHeader(extended)
        #expect(parsed.header == header)
        #expect(sameMessage(try decodeBody(type, from: extended[parsed.bodyRange]), original))
    }

    // MARK: Malformed envelopes throw, never crash

    static let valid = #"{"v":1,"type":"exec.ack","src":"executor","inst":"5e0b8c3fa9d2471e86c3f0a1b4d7e29c","seq":905,"ts":1641024060148207000,"trace":"7b2e9f4c1a8d3e6b5c0f9a2d4e7b1c38","sym":"BTC","body":{"clientOrderId":"0xfdde4e87f2862db05b2f41d200b5e305","venueOrderId":"77738308","symbol":"BTC","action":"place"}}"#

    static let malformed: [String] = [
        "", " ", "{", "}", "[]", "null", "1", #""v""#, "{}", "{\"v\":1}",
        // wrong types
        valid.replacingOccurrences(of: #""v":1"#, with: #""v":"1""#),
        valid.replacingOccurrences(of: #""v":1"#, with: #""v":1.0"#),
        valid.replacingOccurrences(of: #""v":1"#, with: #""v":true"#),
        valid.replacingOccurrences(of: #""v":1"#, with: #""v":null"#),
        valid.replacingOccurrences(of: #""seq":905"#, with: #""seq":"905""#),
        valid.replacingOccurrences(of: #""seq":905"#, with: #""seq":-905"#),
        valid.replacingOccurrences(of: #""seq":905"#, with: #""seq":9.05e2"#),
        valid.replacingOccurrences(of: #""ts":1641024060148207000"#, with: #""ts":1.641024060148207e18"#),
        valid.replacingOccurrences(of: #""ts":1641024060148207000"#, with: #""ts":99999999999999999999"#),
        valid.replacingOccurrences(of: #""ts":1641024060148207000"#, with: #""ts":9223372036854775808"#),
        valid.replacingOccurrences(of: #""type":"exec.ack""#, with: #""type":5"#),
        valid.replacingOccurrences(of: #""type":"exec.ack""#, with: #""type":["exec.ack"]"#),
        valid.replacingOccurrences(of: #""src":"executor""#, with: #""src":{}"#),
        valid.replacingOccurrences(of: #""sym":"BTC""#, with: #""sym":42"#),
        valid.replacingOccurrences(of: #""sym":"BTC""#, with: #""sym":nul"#),
        valid.replacingOccurrences(of: #""trace":"7b"#, with: #""trace":7b"#),
        // missing fields
        valid.replacingOccurrences(of: #""v":1,"#, with: ""),
        valid.replacingOccurrences(of: #""type":"exec.ack","#, with: ""),
        valid.replacingOccurrences(of: #""src":"executor","#, with: ""),
        valid.replacingOccurrences(of: #""inst":"5e0b8c3fa9d2471e86c3f0a1b4d7e29c","#, with: ""),
        valid.replacingOccurrences(of: #""seq":905,"#, with: ""),
        valid.replacingOccurrences(of: #""ts":1641024060148207000,"#, with: ""),
        valid.replacingOccurrences(of: #""trace":"7b2e9f4c1a8d3e6b5c0f9a2d4e7b1c38","#, with: ""),
        String(valid[..<valid.range(of: #","body""#)!.lowerBound]) + "}",
        // broken syntax
        valid + "}", valid + " x", valid + valid, "\u{FEFF}" + valid,
        valid.replacingOccurrences(of: #","src""#, with: #",,"src""#),
        valid.replacingOccurrences(of: #""src":"#, with: #""src"="#),
        valid.replacingOccurrences(of: #""v":1,"#, with: #"v:1,"#),
        valid.replacingOccurrences(of: #""v":1,"#, with: #"'v':1,"#),
        valid.replacingOccurrences(of: "executor", with: "exec\nutor"),
        valid.replacingOccurrences(of: "executor", with: #"exec\qutor"#),
        valid.replacingOccurrences(of: "executor", with: #"exec\u12"#),
        valid.replacingOccurrences(of: #"}}"#, with: "}"),
        valid.replacingOccurrences(of: #""body":{"#, with: #""body":{"x":tru,"#),
        valid.replacingOccurrences(of: #""body":{"#, with: #""body":{"x":--1,"#),
        valid.replacingOccurrences(of: #""body":{"#, with: #""body":{"x":[1,],"#),
        valid.replacingOccurrences(of: #""body":{"#, with: #""body":{"x":"#),
    ]

    @Test("malformed envelopes throw EnvelopeError.malformed")
    func malformedEnvelopesThrow() throws {
        for (index, text) in Self.malformed.enumerated() {
            #expect(text != Self.valid, "case \(index) changed nothing")
            let error = #expect(throws: EnvelopeError.self, "case \(index): \(text)") {
                try EnvelopeCodec.parseHeader(Array(text.utf8))
            }
            if case .malformed = error {} else { Issue.record("case \(index): \(String(describing: error)) instead of malformed") }
        }
        // The valid one parses, so the cases above fail for the reason they were built for.
        #expect(try EnvelopeCodec.parseHeader(Array(Self.valid.utf8)).header.sequence == 905)
        // Invalid UTF-8 inside a header string.
        var bytes = Array(Self.valid.utf8)
        bytes[bytes.firstIndex(of: UInt8(ascii: "x"))!] = 0xFF  // in "exec.ack"
        #expect(throws: EnvelopeError.self) { try EnvelopeCodec.parseHeader(bytes) }
    }

    @Test("every truncation of every golden example throws")
    func truncatedEnvelopesThrow() throws {
        for type in MessageType.allCases {
            for bytes in [try Repository.bytes(Repository.exampleURL(type)), Array(try Repository.json(Repository.exampleURL(type)).compact.utf8)] {
                var end = bytes.count - 1
                while end > 0, bytes[end] != UInt8(ascii: "}") { end -= 1 }  // the closing brace
                for length in 0..<end {
                    #expect(throws: EnvelopeError.self, "\(type.rawValue) cut at \(length)") {
                        try EnvelopeCodec.parseHeader(Array(bytes[..<length]))
                    }
                }
            }
        }
    }

    @Test("deep nesting is refused without exhausting the stack")
    func deepNestingThrows() throws {
        for depth in [65, 100, 10_000, 200_000] {
            for (open, close) in [("[", "]"), (#"{"a":"#, "}")] {
                let nested = String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth)
                for text in [
                    Self.valid.replacingOccurrences(of: #""body":{"#, with: #""body":{"x":\#(nested),"#),
                    Self.valid.replacingOccurrences(of: #""v":1,"#, with: #""v":1,"unknown":\#(nested),"#),
                    Self.valid.replacingOccurrences(of: #""v":1,"#, with: #""v":1,"unknown":\#(String(repeating: open, count: depth))"#),
                ] {
                    #expect(throws: EnvelopeError.self, "depth \(depth)") { try EnvelopeCodec.parseHeader(Array(text.utf8)) }
                }
            }
        }
        // Within the limit, nesting in an unknown field is skipped like any other value.
        let fine = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        let text = Self.valid.replacingOccurrences(of: #""v":1,"#, with: #""v":1,"unknown":\#(fine),"#)
        #expect(try EnvelopeCodec.parseHeader(Array(text.utf8)).header.type == "exec.ack")
    }

    @Test("random garbage and mutated envelopes throw or parse consistently, never crash")
    func garbageNeverCrashes() throws {
        var random = SplitMix64(seed: 42)
        for length in 0..<2_000 {
            let bytes = (0..<(length % 300)).map { _ in UInt8.random(in: 0...255, using: &random) }
            #expect(throws: EnvelopeError.self) { try EnvelopeCodec.parseHeader(bytes) }
        }
        let alphabet = Array(#"{}[]":,\ 01-9.eEtrufalsn"#.utf8) + [0x00, 0x0A, 0x80, 0xFF]
        let seeds = MessageType.allCases.compactMap { try? Array(JSONValue.parse(Repository.bytes(Repository.exampleURL($0))).compact.utf8) }
        #expect(seeds.count == MessageType.allCases.count)
        var parsed = 0
        for round in 0..<20_000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0...(round % 4) {
                let position = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[position] = alphabet.randomElement(using: &random)!
                case 1: bytes.remove(at: position)
                default: bytes.insert(alphabet.randomElement(using: &random)!, at: position)
                }
            }
            guard let result = try? EnvelopeCodec.parseHeader(bytes) else { continue }
            parsed += 1
            // What parses must round-trip, and its body must decode or throw EnvelopeError.
            let again = try EnvelopeCodec.parseHeader(EnvelopeCodec.encode(header: result.header, body: Array(bytes[result.bodyRange])))
            #expect(again.header == result.header)
            if let kind = result.header.messageType {
                do { _ = try decodeBody(kind, from: bytes[result.bodyRange]) } catch let error as EnvelopeError {
                    if case .bodyUndecodable = error {} else { Issue.record("unexpected \(error)") }
                } catch { Issue.record("body decoding threw \(type(of: error)), not EnvelopeError: \(error)") }
            }
        }
        #expect(parsed > 0, "no mutation survived: the fuzzer tests nothing")
    }

    @Test("a body that does not match its type throws bodyUndecodable or typeMismatch")
    func badBodiesThrow() throws {
        let bytes = try Repository.bytes(Repository.exampleURL(.fill))
        let raw = try RawEnvelope(topic: "exec.fill.BTC", bytes: bytes)
        #expect(throws: EnvelopeError.typeMismatch(expected: "md.bar", found: "exec.fill")) { try raw.decode(Bar.self) }

        let example = try JSONValue.parse(bytes)
        let body = try #require(example["body"])
        let cases: [(JSONValue, String)] = [
            (body.setting("price", .number("46378")), "price"),
            (body.setting("price", .string("4.6378e4")), "price"),
            (body.setting("price", .string(" 46378")), "price"),
            (body.setting("side", .string("long")), "side"),
            (body.removing("fee"), "fee"),
            (body.setting("time", .string("1641024060151000000")), "time"),
            (body.setting("time", .number("1.5")), ""),  // Foundation names no field for a fraction in an Int64
            (.array([body]), "body"),
            (.string("x"), "body"),
            (.null, "body"),
        ]
        for (badBody, field) in cases {
            let envelope = Array(example.setting("body", badBody).compact.utf8)
            let raw = try RawEnvelope(topic: "exec.fill.BTC", bytes: envelope)
            let error = #expect(throws: EnvelopeError.self) { try raw.decode(Fill.self) }
            guard case .bodyUndecodable(let why) = error else {
                Issue.record("\(String(describing: error)) for \(badBody.compact)")
                continue
            }
            #expect(field.isEmpty || why.contains(field), "\(why) should name \(field)")
        }
    }
}
