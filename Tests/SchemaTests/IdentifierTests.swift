import Schema
import Testing

@testable import Schema

@Suite("Identifier")
struct IdentifierTests {
    @Test("a client order id is \"0x\" and 32 lowercase hex digits, derived deterministically")
    func clientOrderIdShape() {
        var random = SplitMix64(seed: 1)
        for _ in 0..<1_000 {
            let intent = Identifier.random(using: &random)
            let id = Identifier.clientOrderId(forIntent: intent)
            #expect(id.wholeMatch(of: /0x[0-9a-f]{32}/) != nil, "\(id)")
            #expect(Identifier.clientOrderId(forIntent: intent) == id, "same intent, same id")
        }
        for odd in ["", "é✓", "a\u{0}b", String(repeating: "x", count: 10_000)] {
            #expect(Identifier.clientOrderId(forIntent: odd).wholeMatch(of: /0x[0-9a-f]{32}/) != nil)
        }
    }

    /// FNV-1a 128 reference values, computed independently (Python big integers) and, for
    /// "" and "a", the published test vectors.
    @Test(
        "the id is FNV-1a 128 of the intent id's UTF-8",
        arguments: [
            ("", "0x6c62272e07bb014262b821756295c58d"),
            ("a", "0xd228cb696f1a8caf78912b704e4a8964"),
            ("foobar", "0x343e1662793c64bf6f0d3597ba446f18"),
            ("9a3f6c1e8b2d4a7f0e5c3b9d1a6f4e28", "0xfdde4e87f2862db05b2f41d200b5e305"),
            ("0d7e2a9c4f1b6e83a5c2d9f0b7e4a1c6", "0xa43f5f726ef225e2b20f47f9d20c15b2"),
            ("b5e8f1a3c6d9204e7b1a4c8f2d5e9a37", "0x0adce7cda3f753c0f33171e67ec1f257"),
            ("é✓", "0x1d61aeff0b83d94f707f8636bd007d44"),
        ])
    func knownValues(_ intent: String, _ expected: String) {
        #expect(Identifier.clientOrderId(forIntent: intent) == expected)
    }

    @Test("a time-ordered id is 32 lowercase hex digits; a later time sorts later, ids of one time differ")
    func timeOrdered() {
        var random = SplitMix64(seed: 3)
        var previous = ""
        var seen = Set<String>()
        for step in 0..<2_000 {
            // Times across the byte boundaries of the hex text, from 1970 to 2262.
            let time = EpochNanos(step / 2) * 4_611_686_018_427_387 + 1
            let id = Identifier.timeOrdered(at: time, using: &random)
            #expect(id.wholeMatch(of: /[0-9a-f]{32}/) != nil, "\(id)")
            if step % 2 == 1 { #expect(id != previous, "same time, same id") } else { #expect(id > previous, "\(id) after \(previous)") }
            seen.insert(id)
            previous = id
        }
        #expect(seen.count == 2_000)
    }

    @Test("different intents give different client order ids")
    func distinct() {
        var random = SplitMix64(seed: 99)
        var seen = Set<String>()
        var intents = (0..<10_000).map { "intent-\($0)" }
        intents += (0..<10_000).map { _ in Identifier.random(using: &random) }
        let base = "9a3f6c1e8b2d4a7f0e5c3b9d1a6f4e28"
        for index in base.indices {  // every one-character change of one id
            for digit in "0123456789abcdef" where base[index] != digit {
                var changed = base
                changed.replaceSubrange(index...index, with: String(digit))
                intents.append(changed)
            }
        }
        intents += [base.uppercased(), base + " ", " " + base, String(base.dropLast())]
        for intent in intents { seen.insert(Identifier.clientOrderId(forIntent: intent)) }
        #expect(seen.count == Set(intents).count)
    }

    @Test("random ids: 32 lowercase hex digits, zero-padded, reproducible from the generator")
    func randomIds() {
        var a = SplitMix64(seed: 5), b = SplitMix64(seed: 5)
        var ids = Set<String>()
        for _ in 0..<1_000 {
            let id = Identifier.random(using: &a)
            #expect(id == Identifier.random(using: &b))
            #expect(id.wholeMatch(of: /[0-9a-f]{32}/) != nil, "\(id)")
            ids.insert(id)
        }
        #expect(ids.count == 1_000)

        struct Counting: RandomNumberGenerator {
            var value: UInt64 = 0
            mutating func next() -> UInt64 {
                value += 1
                return value
            }
        }
        var small = Counting()
        #expect(Identifier.random(using: &small) == "00000000000000010000000000000002")
        #expect(Identifier.hex(0) == "0000000000000000")
        #expect(Identifier.hex(.max) == "ffffffffffffffff")
        #expect(Identifier.hex(0xAB) == "00000000000000ab")
    }
}
