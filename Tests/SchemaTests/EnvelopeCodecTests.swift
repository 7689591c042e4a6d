import Foundation
import Testing

@testable import Schema

@Suite("EnvelopeCodec")
struct EnvelopeCodecTests {
    static let ack = OrderAck(
        clientOrderId: "0xfdde4e87f2862db05b2f41d200b5e305", venueOrderId: "77738308", symbol: "BTC", action: .place)

    static func header(
        type: String = "exec.ack", source: String = "executor", instance: String = "5e0b8c3fa9d2471e86c3f0a1b4d7e29c",
        sequence: UInt64 = 905, publishTime: EpochNanos = 1_641_024_060_148_207_000,
        traceId: String = "7b2e9f4c1a8d3e6b5c0f9a2d4e7b1c38", symbol: String? = "BTC"
    ) -> EnvelopeHeader {
        EnvelopeHeader(
            type: type, source: source, instance: instance, sequence: sequence, publishTime: publishTime,
            traceId: traceId, symbol: symbol)
    }

    @Test("the header is written in a fixed order, compact, sym only when present")
    func exactBytes() throws {
        let body = Array(#"{"x":1}"#.utf8)
        #expect(
            String(decoding: EnvelopeCodec.encode(header: Self.header(), body: body), as: UTF8.self)
                == #"{"v":1,"type":"exec.ack","src":"executor","inst":"5e0b8c3fa9d2471e86c3f0a1b4d7e29c","seq":905,"ts":1641024060148207000,"trace":"7b2e9f4c1a8d3e6b5c0f9a2d4e7b1c38","sym":"BTC","body":{"x":1}}"#)
        #expect(
            String(decoding: EnvelopeCodec.encode(header: Self.header(symbol: nil), body: body), as: UTF8.self)
                == #"{"v":1,"type":"exec.ack","src":"executor","inst":"5e0b8c3fa9d2471e86c3f0a1b4d7e29c","seq":905,"ts":1641024060148207000,"trace":"7b2e9f4c1a8d3e6b5c0f9a2d4e7b1c38","body":{"x":1}}"#)
    }

    @Test("a typed envelope round-trips, and bodyRange is exactly the body")
    func typedRoundTrip() throws {
        let envelope = Envelope(header: Self.header(), body: Self.ack)
        let bytes = try EnvelopeCodec.encode(envelope)
        let raw = try RawEnvelope(topic: Self.ack.topic, bytes: bytes)
        #expect(raw.header == envelope.header)
        #expect(raw.messageType == .orderAck)
        #expect(try raw.decode(OrderAck.self) == Self.ack)
        let body = try JSONValue.parse(Array(raw.bytes[raw.bodyRange]))
        #expect(body.sameValue(as: try JSONValue.parse(try EnvelopeCodec.encodeBody(Self.ack))))
        #expect(raw.json == String(decoding: bytes, as: UTF8.self))
        #expect(raw.topic == "exec.ack.BTC")
    }

    static let awkward: [String] = [
        "", "plain", #"quote " inside"#, #"back\slash"#, #"\"#, #"\\"#, #"\""#, "\"\"\"",
        String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) }),  // every control character
        "tab\tnew\nline\rreturn\u{8}\u{C}", "nul\u{0}byte", "del\u{7F}", "slash/and\\/", "é", "日本語", "🚀 to the 🌕",
        "e\u{301}", "\u{2028}\u{2029}", "\u{FEFF}bom", "\u{FFFF}", "null", "{\"v\":2}", "\\u0041",
    ]

    @Test("header strings with quotes, backslashes, control characters and unicode round-trip", arguments: awkward)
    func escapedHeaderStrings(_ text: String) throws {
        let header = Self.header(type: "t" + text, source: text, instance: text, traceId: text, symbol: text)
        let bytes = EnvelopeCodec.encode(header: header, body: Array("{}".utf8))
        #expect(try EnvelopeCodec.parseHeader(bytes).header == header)
        // Valid JSON for an independent reader, with the same strings.
        // (Foundation's JSONDecoder; JSONSerialization drops a leading U+FEFF from strings.)
        struct Fields: Decodable { var src: String, inst: String, sym: String }
        let fields = try JSONDecoder().decode(Fields.self, from: Data(bytes))
        #expect(fields.src == text && fields.inst == text && fields.sym == text)
        let json = try JSONValue.parse(bytes)
        #expect(json["trace"] == .string(text))
        // Nothing below 0x20 is written raw.
        #expect(!bytes.contains(where: { $0 < 0x20 }))
    }

    @Test("body strings with escapes and unicode round-trip", arguments: awkward)
    func escapedBodyStrings(_ text: String) throws {
        let alert = Alert(severity: .warning, code: "c" + text, message: text, service: text, symbol: text)
        let envelope = Envelope(header: Self.header(type: "alert", symbol: alert.symbol), body: alert)
        let raw = try RawEnvelope(topic: alert.topic, bytes: try EnvelopeCodec.encode(envelope))
        #expect(raw.header == envelope.header)
        #expect(try raw.decode(Alert.self) == alert)
    }

    @Test(
        "integers at their limits round-trip",
        arguments: [
            (UInt64(1), EpochNanos(0)), (UInt64(Int64.max), EpochNanos.max), (UInt64(0), EpochNanos.min),
            (UInt64(905), EpochNanos(-1)),
        ])
    func integerLimits(_ sequence: UInt64, _ time: EpochNanos) throws {
        let header = Self.header(sequence: sequence, publishTime: time)
        #expect(try EnvelopeCodec.parseHeader(EnvelopeCodec.encode(header: header, body: Array("{}".utf8))).header == header)
    }

    @Test("a sequence above Int64.max, which EnvelopeHeader can hold, parses back")
    func hugeSequence() throws {
        let header = Self.header(sequence: UInt64(Int64.max) + 1)
        let bytes = EnvelopeCodec.encode(header: header, body: Array("{}".utf8))
        let parsed = try EnvelopeCodec.parseHeader(bytes)
        #expect(parsed.header == header)
    }

    @Test("fields in any order, whitespace anywhere, sym null or absent")
    func lenientReading() throws {
        let body = #"{"clientOrderId":"0xfdde4e87f2862db05b2f41d200b5e305","venueOrderId":"77738308","symbol":"BTC","action":"place"}"#
        let reordered = """
             {  "body" : \(body) , "sym":"BTC", "trace":"7b2e9f4c1a8d3e6b5c0f9a2d4e7b1c38",\r
            \t"ts": 1641024060148207000 ,"seq":905,"inst":"5e0b8c3fa9d2471e86c3f0a1b4d7e29c","src":"executor",
              "type":"exec.ack",   "v" : 1 }\n
            """
        let raw = try RawEnvelope(topic: "exec.ack.BTC", bytes: Array(reordered.utf8))
        #expect(raw.header == Self.header())
        #expect(try raw.decode(OrderAck.self) == Self.ack)
        #expect(String(decoding: raw.bytes[raw.bodyRange], as: UTF8.self) == body)

        let withNull = String(decoding: EnvelopeCodec.encode(header: Self.header(), body: Array("{}".utf8)), as: UTF8.self)
            .replacingOccurrences(of: #""sym":"BTC""#, with: #""sym" : null"#)
        #expect(try EnvelopeCodec.parseHeader(Array(withNull.utf8)).header.symbol == nil)
        let escapedKeys = #"{"\u0076":1,"typ\u0065":"exec.ack","src":"e","inst":"i","seq":1,"ts":2,"trace":"t","body":{}}"#
        #expect(try EnvelopeCodec.parseHeader(Array(escapedKeys.utf8)).header.type == "exec.ack")
    }

    @Test("errors describe themselves")
    func errorDescriptions() {
        #expect(EnvelopeError.unsupportedVersion(2).description.contains("2"))
        #expect(EnvelopeError.malformed("missing v").description.contains("missing v"))
        #expect(EnvelopeError.typeMismatch(expected: "md.bar", found: "md.book").description == "expected md.bar, found md.book")
        #expect(EnvelopeError.bodyUndecodable("missing fee").description.contains("missing fee"))
    }
}

@Suite("JSONScanner")
struct JSONScannerTests {
    private func make(_ text: String) -> JSONScanner { JSONScanner(Array(text.utf8)) }

    @Test(
        "integers",
        arguments: [
            ("0", Int64(0)), ("-0", Int64(0)), ("42", Int64(42)), ("  \n\t42", Int64(42)),
            ("9223372036854775807", Int64.max), ("-9223372036854775808", Int64.min), ("1641024060148207000", 1_641_024_060_148_207_000),
        ])
    func integers(_ text: String, _ expected: Int64) throws {
        var scanner = make(text)
        #expect(try scanner.readInteger() == expected)
        try scanner.expectEnd()
    }

    @Test(
        "not integers",
        arguments: [
            "", "-", "+1", "1.5", "1.", "1e3", "1E3", "9223372036854775808", "-9223372036854775809",
            "99999999999999999999", "abc", #""1""#, "null", "-a", " ",
        ])
    func notIntegers(_ text: String) {
        var scanner = make(text)
        #expect(throws: JSONScanner.Failure.self) { try scanner.readInteger() }
    }

    @Test(
        "strings",
        arguments: [
            (#""abc""#, "abc"), (#""""#, ""), (#"  "x""#, "x"), (#""a\"b\\c\/d""#, "a\"b\\c/d"),
            (#""\n\r\t\b\f""#, "\n\r\t\u{8}\u{C}"), (#""\u00e9\u0000""#, "é\u{0}"), (#""\ud83d\ude80""#, "🚀"),
            ("\"é日🚀\"", "é日🚀"), (#""null""#, "null"),
        ])
    func strings(_ text: String, _ expected: String) throws {
        var scanner = make(text)
        #expect(try scanner.readString() == expected)
        try scanner.expectEnd()
    }

    @Test(
        "not strings",
        arguments: [
            "", "abc", #""unterminated"#, #""ends in escape\"#, #""\x""#, #""\u12""#, #""\uzzzz""#, "\"a\nb\"",
            "\"tab\there\"", "'single'", "null", "1",
        ])
    func notStrings(_ text: String) {
        var scanner = make(text)
        #expect(throws: JSONScanner.Failure.self) { try scanner.readString() }
    }

    @Test("invalid UTF-8 in a string is refused, with or without escapes")
    func invalidUTF8() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0x5C, 0x6E, 0xFE, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22]] {
            var scanner = JSONScanner(bytes)
            #expect(throws: JSONScanner.Failure.self) { try scanner.readString() }
        }
    }

    @Test("nullable strings")
    func nullableStrings() throws {
        var null = make(" null")
        #expect(try null.readNullableString() == nil)
        var text = make(#""BTC""#)
        #expect(try text.readNullableString() == "BTC")
        for bad in ["", "nul", "5", "nil"] {
            var scanner = make(bad)
            #expect(throws: JSONScanner.Failure.self, "\(bad)") { try scanner.readNullableString() }
        }
    }

    @Test(
        "skipping values returns their exact range",
        arguments: [
            #""s""#, #""a\"b""#, "{}", "[]", #"{"a":1}"#, #"{"a":[1,{"b":null}],"c":"}"}"#, "[1,2.5,-3e+2,true,false,null]",
            "true", "false", "null", "0", "-1.5e-10", "1E9", #"[[[[[]]]]]"#, #"{ "a" : [ 1 , 2 ] }"#,
        ])
    func skipValue(_ value: String) throws {
        var scanner = make("  " + value + " ,")
        let range = try scanner.skipValue()
        #expect(range == 2..<(2 + value.utf8.count))
        let comma = scanner.consumeIf(UInt8(ascii: ","))
        #expect(comma)
        try scanner.expectEnd()
    }

    @Test(
        "malformed values are refused",
        arguments: [
            "", " ", "tru", "nul", "fals", "-", "1.2.3", "--1", "+", "[1 2]", "[1,]", "[,1]", "{1:2}", #"{"a" 1}"#,
            #"{"a":}"#, #"{"a":1,}"#, "[", "{", #"{"a":1"#, "]", "}", ":", "@", "'a'", "undefined", "NaN",
        ])
    func malformedValues(_ value: String) {
        var scanner = make(value)
        #expect(throws: JSONScanner.Failure.self) { try scanner.skipValue() }
    }

    @Test("nesting up to 64 levels is skipped; deeper is refused")
    func depthLimit() throws {
        for depth in [1, 63, 64] {
            var scanner = make(String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
            _ = try scanner.skipValue()
            try scanner.expectEnd()
            var objects = make(String(repeating: #"{"a":"#, count: depth) + "0" + String(repeating: "}", count: depth))
            _ = try objects.skipValue()
        }
        for depth in [65, 1_000, 1_000_000] {
            var scanner = make(String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
            let failure = #expect(throws: JSONScanner.Failure.self) { try scanner.skipValue() }
            #expect(failure?.description.contains("nested too deeply") == true)
            #expect(failure?.offset == 64)
        }
    }

    @Test("expect, consumeIf and expectEnd")
    func punctuation() throws {
        var scanner = make(" { } \n")
        let early = scanner.consumeIf(UInt8(ascii: "}"))
        #expect(!early)
        try scanner.expect(UInt8(ascii: "{"))
        #expect(throws: JSONScanner.Failure.self) { try scanner.expect(UInt8(ascii: ":")) }
        let closed = scanner.consumeIf(UInt8(ascii: "}"))
        #expect(closed)
        try scanner.expectEnd()
        #expect(throws: JSONScanner.Failure.self) { try scanner.expect(UInt8(ascii: "}")) }
        var trailing = make("1 x")
        _ = try trailing.skipValue()
        let failure = #expect(throws: JSONScanner.Failure.self) { try trailing.expectEnd() }
        #expect(failure?.offset == 2)
        #expect(failure?.description == "trailing bytes at byte 2")
    }
}
