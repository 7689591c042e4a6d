import FuzzSupport
import Hyperliquid

/// The Hyperliquid WebSocket (`/ws`) message decoder: market channels through the Market library's
/// decoder, account channels through the response reader. Any text is a message or an error.
enum FuzzHyperliquidStream {
    static func check(_ bytes: [UInt8]) {
        _ = try? StreamDecoding.decode(String(decoding: bytes, as: UTF8.self))
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzHyperliquidStream.check(FuzzMain.bytes(data, size))
    return 0
}

@main enum Main {
    static func main() { FuzzMain.run(targetFile: #filePath, FuzzHyperliquidStream.check) }
}
