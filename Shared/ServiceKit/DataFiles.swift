import Foundation

/// Market data files as text: plain, or gzip through `gzip -dc` (Foundation on Linux cannot inflate gzip).
public enum DataFiles {
    public struct ReadError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func text(_ path: String) throws(ReadError) -> String {
        guard FileManager.default.isReadableFile(atPath: path) else { throw ReadError(description: "cannot read \(path)") }
        guard path.hasSuffix(".gz") else {
            guard let data = FileManager.default.contents(atPath: path) else { throw ReadError(description: "cannot read \(path)") }
            return String(decoding: data, as: UTF8.self)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-dc", path]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do { try process.run() } catch { throw ReadError(description: "cannot run gzip to read \(path): \(error)") }
        // Read before waiting: a full pipe would block gzip forever.
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ReadError(description: "gzip -dc \(path) failed: \(String(decoding: message, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
