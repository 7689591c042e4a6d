import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the recorded market data lives, found the same way by every executable and never from
/// the working directory: `--data-dir` or config, else `$BREAKWATER_DATA_DIR`, else
/// `<repository root>/../shared/data`, the repository being the one that holds the executable
/// (binaries live in `<root>/.build/<triple>/<config>/`).
public enum RepositoryPaths {
    public static let dataDirectoryVariable = "BREAKWATER_DATA_DIR"

    /// This executable's real path: `/proc/self/exe` (Linux), else `argv[0]`, symlinks resolved.
    public static var executablePath: String {
        let raw = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments.first ?? ""
        return realPath(raw) ?? raw
    }

    /// The path with every symlink resolved; nil when it does not exist.
    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The nearest folder at or above the executable's folder (symlinks resolved first) that holds
    /// `Package.swift`; nil for an installed binary outside any checkout.
    public static func repositoryRoot(executable: String = executablePath) -> String? {
        guard let real = realPath(executable) else { return nil }
        var folder = (real as NSString).deletingLastPathComponent
        while !folder.isEmpty {
            if FileManager.default.fileExists(atPath: folder + "/Package.swift") { return folder }
            let parent = (folder as NSString).deletingLastPathComponent
            if parent == folder { break }
            folder = parent
        }
        return nil
    }

    /// The recorded-data folder by the rule above; nil when nothing names one and the executable is
    /// not in a checkout. Whether the folder exists is the caller's question.
    public static func sharedDataDirectory(
        configured: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        executable: String = executablePath
    ) -> String? {
        if let configured, !configured.isEmpty { return configured }
        if let variable = environment[dataDirectoryVariable], !variable.isEmpty { return variable }
        guard let root = repositoryRoot(executable: executable) else { return nil }
        return ((root as NSString).deletingLastPathComponent as NSString).appendingPathComponent("shared/data")
    }

    /// Says what to set when no folder could be found.
    public static let missingDataDirectory =
        "no data folder: the executable is not inside a checkout; set \(dataDirectoryVariable) or --data-dir"
}
