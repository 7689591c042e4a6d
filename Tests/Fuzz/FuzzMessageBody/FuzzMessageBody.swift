import FuzzSupport
import Schema

/// The body decoder (`BodyDecoder`, a hand-written tape parser over raw memory) with the bytes read as
/// the body of every message type in turn. What decodes must encode and decode back to itself.
enum FuzzMessageBody {
    static func check(_ bytes: [UInt8]) {
        for type in MessageType.allCases {
            roundTrip(type.bodyType, bytes)
        }
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
