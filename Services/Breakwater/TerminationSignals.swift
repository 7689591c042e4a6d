import Foundation

/// SIGINT and SIGTERM for the supervisor, caught by a handler that writes to a pipe.
///
/// Not `SIG_IGN` with a dispatch source: an ignored signal stays ignored across exec, so
/// every child (ChromaDB, say) would ignore SIGTERM too. A caught signal is reset to its
/// default action in the child.
enum TerminationSignals {
    // Written once before the handler is installed; read by the handler only.
    nonisolated(unsafe) private static var writeEnd: Int32 = -1

    static func stream() -> AsyncStream<Int32> {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { return AsyncStream { $0.finish() } }
        writeEnd = ends[1]
        let handler: @convention(c) (Int32) -> Void = { number in
            var byte = UInt8(truncatingIfNeeded: number)
            _ = write(TerminationSignals.writeEnd, &byte, 1)
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        let readEnd = ends[0]
        return AsyncStream { continuation in
            let reader = Thread {
                // Threads of Swift's concurrency pool block signals; this one takes them.
                var set = sigset_t()
                sigemptyset(&set)
                sigaddset(&set, SIGINT)
                sigaddset(&set, SIGTERM)
                pthread_sigmask(SIG_UNBLOCK, &set, nil)
                var byte: UInt8 = 0
                while true {
                    let count = read(readEnd, &byte, 1)
                    if count == 1 {
                        continuation.yield(Int32(byte))
                    } else if count < 0 && errno == EINTR {
                        continue
                    } else {
                        break
                    }
                }
                continuation.finish()
            }
            reader.name = "signals"
            reader.start()
        }
    }
}
