import FuzzSupport
import Schema

/// The body decoder (`BodyDecoder`, a hand-written tape parser over raw memory): the first byte picks the
/// message type (`a` the first of `MessageType.allCases`), the rest is read as its body. What decodes must
/// encode and decode back to itself. One type an input, not all of them: 22 times the inputs a second.
enum FuzzMessageBody {
    static func check(_ bytes: [UInt8]) {
        guard let selector = bytes.first else { return }
        let types = MessageType.allCases
        let type = types[Int(selector &- UInt8(ascii: "a")) % types.count].bodyType
        roundTrip(type, Array(bytes.dropFirst()))
    }

    static func roundTrip<M: BusMessage>(_: M.Type, _ bytes: [UInt8]) {
        guard let body = try? EnvelopeCodec.decodeBody(M.self, from: bytes[...]) else { return }
        guard let encoded = try? EnvelopeCodec.encodeBody(body) else {
            fatalError("a decoded \(M.messageType.rawValue) body does not encode")
        }
        guard (try? EnvelopeCodec.decodeBody(M.self, from: encoded[...])) == body else {
            fatalError("a \(M.messageType.rawValue) body changed in a round trip")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzMessageBody.check(FuzzMain.bytes(data, size))
    return 0
}

@main enum Main {
    static func main() { FuzzMain.run(targetFile: #filePath, FuzzMessageBody.check) }
}
