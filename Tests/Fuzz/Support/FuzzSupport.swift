import CLibFuzzer
import Foundation

/// What every fuzz target shares. A target defines `LLVMFuzzerTestOneInput` (with `@_cdecl`, calling its
/// check) and a `@main` that calls `FuzzMain.run` with the same check.
///
/// Built with `make fuzz` (`-sanitize=fuzzer,address -DFUZZING`), `run` hands over to libFuzzer's driver
/// (`LLVMFuzzerRunDriver`), which takes libFuzzer's flags. In an ordinary build it runs the check over the
/// seed corpus (or the files named on the command line), so the targets always compile and their seeds
/// always decode without a trap.
public enum FuzzMain {
    /// `targetFile` is the target's `#filePath`: its corpus is the `corpus` folder beside it.
    public static func run(targetFile: String, _ check: ([UInt8]) -> Void) -> Never {
        #if FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput))
        #else
        replay(targetFile: targetFile, check)
        #endif
    }

    static func replay(targetFile: String, _ check: ([UInt8]) -> Void) -> Never {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let paths: [String]
        if arguments.isEmpty {
            let corpus = URL(fileURLWithPath: targetFile).deletingLastPathComponent().appendingPathComponent("corpus")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? []
            paths = names.sorted().map { corpus.appendingPathComponent($0).path }
        } else {
            paths = arguments
        }
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
                exit(2)
            }
            check(Array(data))
        }
        print("replayed \(paths.count) inputs without a trap")
        exit(0)
    }

    /// The fuzzer's bytes as an array (libFuzzer passes a null pointer for the empty input).
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }
}
