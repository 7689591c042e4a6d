import Foundation

/// A small tmpfs of its own for a test that needs a disk to fill up (a full trace database, a full
/// ledger). Mounting needs root (CI runs as root); `available` says whether this machine allows it.
/// `unmount()` must run whatever happens: use `SmallVolume.with`.
public final class SmallVolume: Sendable {
    public let path: String
    private var filler: String { path + "/filler" }

    /// Whether a tmpfs can be mounted here (root, and a kernel that lets this container mount).
    public static let available: Bool = {
        guard getuid() == 0, let path = try? mountSynchronously(megabytes: 1) else { return false }
        unmountSynchronously(path)
        return true
    }()

    private init(path: String) { self.path = path }

    /// A fresh tmpfs of `megabytes` under the temporary directory.
    public static func mount(megabytes: Int) async throws -> SmallVolume {
        // Off the cooperative pool: `mount` is a process to wait for.
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result(catching: { SmallVolume(path: try mountSynchronously(megabytes: megabytes)) }))
            }
        }
    }

    private static func mountSynchronously(megabytes: Int) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("volume-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let result = try runToEnd(
            URL(fileURLWithPath: "/bin/mount"), ["-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0755", "tmpfs", path],
            directory: nil, environment: nil, errorsIntoOutput: true)
        guard result.status == 0 else {
            try? FileManager.default.removeItem(atPath: path)
            throw TestFailure("cannot mount a tmpfs at \(path): \(result.outputText)")
        }
        return path
    }

    /// Runs `body` with a fresh volume and unmounts it after, pass or fail.
    public static func with<T>(megabytes: Int, _ body: (SmallVolume) async throws -> T) async throws -> T {
        let volume = try await mount(megabytes: megabytes)
        do {
            let result = try await body(volume)
            await volume.unmount()
            return result
        } catch {
            await volume.unmount()
            throw error
        }
    }

    /// Fills every free byte with one file; returns how many bytes it took.
    @discardableResult
    public func fill() -> Int {
        let descriptor = open(filler, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard descriptor >= 0 else { return 0 }
        defer { close(descriptor) }
        var total = 0
        let chunk = [UInt8](repeating: 0, count: 64 * 1024)
        // Whole chunks first, then byte by byte down to the last block the file system has.
        for size in [chunk.count, 4096, 1] {
            while true {
                let written = chunk.withUnsafeBytes { write(descriptor, $0.baseAddress, size) }
                if written <= 0 { break }
                total += written
            }
        }
        return total
    }

    /// Gives the space back.
    public func free() { unlink(filler) }

    /// Free bytes for an unprivileged writer.
    public var freeBytes: Int64 {
        var figures = statvfs()
        guard statvfs(path, &figures) == 0 else { return -1 }
        return Int64(figures.f_bavail) * Int64(figures.f_frsize)
    }

    /// Unmounts (lazily if something still holds a file open) and removes the mount point.
    public func unmount() async {
        let path = self.path
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                Self.unmountSynchronously(path)
                continuation.resume()
            }
        }
    }

    private static func unmountSynchronously(_ path: String) {
        let umount = URL(fileURLWithPath: "/bin/umount")
        if (try? runToEnd(umount, [path], directory: nil, environment: nil, errorsIntoOutput: true))?.status != 0 {
            _ = try? runToEnd(umount, ["-l", path], directory: nil, environment: nil, errorsIntoOutput: true)
        }
        try? FileManager.default.removeItem(atPath: path)
    }
}
