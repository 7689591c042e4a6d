import Foundation

/// What a finished process left: its exit status and everything it printed.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var output: Data
    public var errors: Data
    public var outputText: String { String(decoding: output, as: UTF8.self) }
    public var errorText: String { String(decoding: errors, as: UTF8.self) }
}

/// Runs `executable` to its end and returns what it left. The wait happens on a thread of its own,
/// never on Swift's cooperative threads: on a 2-core machine a blocking wait there starves every
/// other test of the run (bus probes time out while a Python script runs). Output goes to files,
/// so a chatty stderr cannot stall the child on a full pipe.
public func runProcess(
    _ executable: URL, _ arguments: [String], directory: URL? = nil, environment: [String: String]? = nil,
    errorsIntoOutput: Bool = false
) async throws -> ProcessResult {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            do {
                continuation.resume(
                    returning: try runToEnd(
                        executable, arguments, directory: directory, environment: environment,
                        errorsIntoOutput: errorsIntoOutput))
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
}

func runToEnd(
    _ executable: URL, _ arguments: [String], directory: URL?, environment: [String: String]?,
    errorsIntoOutput: Bool
) throws -> ProcessResult {
    let scratch = try TemporaryDirectory()
    defer { scratch.remove() }
    let outputPath = scratch.path("stdout")
    let errorPath = scratch.path("stderr")
    _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
    let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
    let errors = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
    defer {
        try? output.close()
        try? errors.close()
    }
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    if let environment { process.environment = environment }
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = output
    process.standardError = errorsIntoOutput ? output : errors
    try process.run()
    process.waitUntilExit()
    return ProcessResult(
        status: process.terminationStatus,
        output: FileManager.default.contents(atPath: outputPath) ?? Data(),
        errors: FileManager.default.contents(atPath: errorPath) ?? Data())
}

/// SIGSTOP, returning once every thread of the process is stopped (state `T` in
/// `/proc/<pid>/task/*/stat`), at most after 5 s: the signal is delivered asynchronously, and on a
/// busy machine a thread still running could answer one more request after `kill` returned.
public func suspendProcess(_ pid: pid_t) {
    kill(pid, SIGSTOP)
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .seconds(5))
    while !allThreadsStopped(pid) && clock.now < deadline { usleep(1_000) }
}

private func allThreadsStopped(_ pid: pid_t) -> Bool {
    let tasks = "/proc/\(pid)/task"
    guard let threads = try? FileManager.default.contentsOfDirectory(atPath: tasks), !threads.isEmpty else {
        return false
    }
    return threads.allSatisfy { thread in
        guard let stat = try? String(contentsOfFile: "\(tasks)/\(thread)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }  // a thread that has exited
        return stat[close...].dropFirst(2).first == "T"
    }
}
