import FuzzSupport
import Schema

/// The envelope header reader (`EnvelopeCodec.parseHeader`, what busspy and the recorder run on every
/// message), then the body of the type the header names, as a subscriber decodes it. What decodes must
/// survive a round trip unchanged: encode, read the header again, decode the body again.
enum FuzzEnvelope {
    static func check(_ bytes: [UInt8]) {
        guard let raw = try? RawEnvelope(topic: "fuzz", bytes: bytes), let type = raw.messageType else { return }
        func roundTrip<M: BusMessage>(_: M.Type) {
            guard let body = try? raw.decode(M.self) else { return }
            let envelope = Envelope(header: raw.header, body: body)
            guard let again = try? RawEnvelope(topic: "fuzz", bytes: EnvelopeCodec.encode(envelope)) else {
                fatalError("a decoded \(M.messageType.rawValue) envelope does not encode and read back")
            }
            guard again.header == raw.header, (try? again.decode(M.self)) == body else {
                fatalError("a \(M.messageType.rawValue) envelope changed in a round trip")
            }
        }
        roundTrip(type.bodyType)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzEnvelope.check(FuzzMain.bytes(data, size))
    return 0
}

@main enum Main {
    static func main() { FuzzMain.run(targetFile: #filePath, FuzzEnvelope.check) }
}
