import Foundation
import Testing

@testable import Schema

/// What the Swift encoder writes validates against proto/, checked by an independent
/// validator (Python `jsonschema`, `Tests/SchemaTests/validate_proto.py`).
@Suite("Swift-encoded envelopes against proto/ (jsonschema)")
struct ProtoValidationTests {
    static func padded(_ number: Int, _ width: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    static func write(_ samples: [Sample], to directory: URL) throws {
        for (index, sample) in samples.enumerated() {
            let name = "\(Self.padded(index, 3))-\(sample.header.type).json"
            try Data(try sample.encoded()).write(to: directory.appendingPathComponent(name))
        }
    }

    @Test("the samples cover every message type and every enum value")
    func samplesCoverEverything() throws {
        #expect(Set(Samples.all.map(\.type)) == Set(MessageType.allCases))
        var strings = Set<String>()
        func collect(_ value: JSONValue) {
            switch value {
            case .string(let text): strings.insert(text)
            case .array(let values): values.forEach(collect)
            case .object(let members): members.forEach { collect($0.value) }
            default: break
            }
        }
        for sample in Samples.all { collect(try JSONValue.parse(try sample.encoded())) }
        for (name, values) in ProtoContractTests.swiftEnums() {
            for value in values { #expect(strings.contains(value), "no sample has \(name) \(value)") }
        }
    }

    @Test("every message Swift encodes validates against proto/<type>.schema.json")
    func swiftEncodedMessagesValidate() throws {
        try withTemporaryDirectory { directory in
            try Self.write(Samples.all, to: directory)
            guard let run = try ProtoValidator.run(messages: directory) else { return }
            #expect(run.status == 0, "validate_proto.py failed:\n\(run.output)")
            #expect(run.summary.contains("\(Samples.all.count) messages"), "\(run.summary)")
            #expect(run.summary.contains("\(MessageType.allCases.count) examples"), "\(run.summary)")
        }
    }

    @Test("the validator fails on a broken message and names it")
    func validatorReportsBrokenMessages() throws {
        try withTemporaryDirectory { directory in
            let fill = try #require(Samples.of(.fill).first)
            let good = try JSONValue.parse(try fill.encoded())
            let body = try #require(good["body"])
            let broken: [String: JSONValue] = [
                "good.json": good,
                "price-as-number.json": good.setting("body", body.setting("price", .number("46378"))),
                "no-fee.json": good.setting("body", body.removing("fee")),
                "bad-side.json": good.setting("body", body.setting("side", .string("long"))),
                "v2.json": good.setting("v", .number("2")),
                "unknown-type.json": good.setting("type", .string("md.unknown")),
            ]
            for (name, value) in broken {
                try Data(value.compact.utf8).write(to: directory.appendingPathComponent(name))
            }
            try Data("{not json".utf8).write(to: directory.appendingPathComponent("garbage.json"))
            guard let run = try ProtoValidator.run(messages: directory) else { return }
            #expect(run.status == 1, "\(run.output)")
            #expect(run.failedFiles == Set(broken.keys).subtracting(["good.json"]).union(["garbage.json"]), "\(run.output)")
            #expect(run.output.contains("$.body.price"), "\(run.output)")
            #expect(run.summary.contains("7 messages; 6 invalid files"), "\(run.summary)")
        }
    }

    /// A changed envelope, and whether the comparison with Swift counts only when Swift
    /// rejects it (a free-form string may be stricter in the schema, e.g. a client order id).
    struct Mutation {
        var label: String
        var envelope: JSONValue
        var onlyIfSwiftRejects = false
    }

    static func mutations(of envelope: JSONValue) -> [Mutation] {
        var result: [Mutation] = []
        func leafMutations(_ leaf: JSONValue, _ label: String, _ rebuild: (JSONValue) -> JSONValue) {
            switch leaf {
            case .string:
                result.append(Mutation(label: "\(label) as a number", envelope: rebuild(.number("12345"))))
                result.append(Mutation(label: "\(label) = 1e5", envelope: rebuild(.string("1e5")), onlyIfSwiftRejects: true))
                result.append(Mutation(label: "\(label) = bogus", envelope: rebuild(.string("bogus")), onlyIfSwiftRejects: true))
            case .number, .bool:
                result.append(Mutation(label: "\(label) as a string", envelope: rebuild(.string("x"))))
            case .null, .object, .array:
                break
            }
        }
        func walk(_ value: JSONValue, _ label: String, _ rebuild: @escaping (JSONValue) -> JSONValue) {
            switch value {
            case .object(let members):
                for member in members {
                    result.append(Mutation(label: "without \(label).\(member.key)", envelope: rebuild(value.removing(member.key))))
                    walk(member.value, "\(label).\(member.key)") { rebuild(value.setting(member.key, $0)) }
                }
                result.append(
                    Mutation(label: "\(label) with an unknown field", envelope: rebuild(value.setting("zzFuture", .array([.number("1"), .null])))))
            case .array(let values):
                for index in values.indices {
                    walk(values[index], "\(label)[\(index)]") { replacement in
                        var changed = values
                        changed[index] = replacement
                        return rebuild(.array(changed))
                    }
                }
            default:
                leafMutations(value, label, rebuild)
            }
        }
        for member in envelope.members ?? [] where member.key != "body" {
            result.append(Mutation(label: "without \(member.key)", envelope: envelope.removing(member.key)))
            leafMutations(member.value, member.key) { envelope.setting(member.key, $0) }
        }
        result.append(Mutation(label: "v = 2", envelope: envelope.setting("v", .number("2"))))
        result.append(Mutation(label: "with an unknown header field", envelope: envelope.setting("region", .string("eu"))))
        result.append(Mutation(label: "without body", envelope: envelope.removing("body")))
        result.append(Mutation(label: "body as a string", envelope: envelope.setting("body", .string("x"))))
        if let body = envelope["body"] { walk(body, "body") { envelope.setting("body", $0) } }
        return result
    }

    @Test("for hundreds of changed envelopes, the validator accepts exactly what the Swift reader accepts")
    func validatorAgreesWithSwiftDecoder() throws {
        // One sample for each distinct set of body fields of each type.
        var seen = Set<String>()
        let samples = try Samples.all.filter { sample in
            let keys = try JSONValue.parse(try encodeBody(sample.body)).keys.sorted()
            return seen.insert(sample.header.type + ":" + keys.joined(separator: ",")).inserted
        }
        try withTemporaryDirectory { directory in
            var expectedInvalid = Set<String>(), labels: [String: String] = [:]
            var accepted = 0, rejected = 0
            for (sampleIndex, sample) in samples.enumerated() {
                let envelope = try JSONValue.parse(try sample.encoded())
                for (index, mutation) in Self.mutations(of: envelope).enumerated() {
                    let bytes = Array(mutation.envelope.compact.utf8)
                    let swiftOK = swiftAccepts(bytes)
                    if mutation.onlyIfSwiftRejects, swiftOK { continue }
                    let name = "\(Self.padded(sampleIndex, 3))-\(Self.padded(index, 4)).json"
                    labels[name] = "\(sample) \(mutation.label)"
                    if swiftOK { accepted += 1 } else { rejected += 1; expectedInvalid.insert(name) }
                    try Data(bytes).write(to: directory.appendingPathComponent(name))
                }
            }
            #expect(accepted > 50 && rejected > 500, "accepted \(accepted), rejected \(rejected)")
            guard let run = try ProtoValidator.run(messages: directory) else { return }
            let schemaInvalid = run.failedFiles
            for name in schemaInvalid.subtracting(expectedInvalid).sorted() {
                Issue.record("Swift accepts but the schema rejects: \(labels[name] ?? name)")
            }
            for name in expectedInvalid.subtracting(schemaInvalid).sorted() {
                Issue.record("Swift rejects but the schema accepts: \(labels[name] ?? name)")
            }
            #expect(run.status == (expectedInvalid.isEmpty ? 0 : 1))
            #expect(run.summary.contains("\(accepted + rejected) messages; \(expectedInvalid.count) invalid files"), "\(run.summary)")
        }
    }
}
