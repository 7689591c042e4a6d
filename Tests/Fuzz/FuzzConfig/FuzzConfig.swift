import Dispatch
import Foundation
import FuzzSupport
import Risk
import ServiceKit

/// The config loader: the bytes as the config file, loaded the way every service loads it (`Settings.load`
/// with the catalog check, no environment), then read through the shared readers (symbols, endpoints,
/// exchange, margin, model). Any file is settings with problems listed, never a trap.
enum FuzzConfig {
    /// One file per process, rewritten for each input and removed at exit; in memory where the machine has
    /// /dev/shm.
    static let path: String = {
        atexit { unlink(FuzzConfig.path) }
        let directory = FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm/" : NSTemporaryDirectory()
        return directory + "breakwater-fuzz-config-\(ProcessInfo.processInfo.processIdentifier).json"
    }()

    final class Loaded: @unchecked Sendable {
        var settings: Settings?
    }

    static func check(_ bytes: [UInt8]) {
        // Not `createFile`: its atomic write syncs the disk on every input.
        do { try Data(bytes).write(to: URL(fileURLWithPath: path)) } catch { fatalError("cannot write \(path): \(error)") }
        let loaded = Loaded()
        let done = DispatchSemaphore(value: 0)
        let file = path
        Task {
            loaded.settings = await Settings.load(file: file, environment: [:])
            done.signal()
        }
        done.wait()
        guard var settings = loaded.settings else { return }
        let symbols = Symbols.read(&settings)
        _ = Topology.read(&settings)
        _ = ExchangeSettings.read(&settings, needsKey: false)
        _ = MarginRules.read(&settings, symbols: Array(symbols.prefix(20)))
        _ = ModelConfig.read(&settings)
        _ = settings.problems.joined(separator: "\n")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzConfig.check(FuzzMain.bytes(data, size))
    return 0
}

@main enum Main {
    static func main() { FuzzMain.run(targetFile: #filePath, FuzzConfig.check) }
}
