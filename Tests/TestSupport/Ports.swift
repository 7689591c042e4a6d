import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Ports this test process has handed out: two calls (a proxy's port, then a system's) must never
/// share one.
private let handedOutPorts = Mutex<Set<Int>>([])

/// The kernel's ephemeral range (`ip_local_port_range`): an outgoing connection of any process may take
/// a port from it at any moment, so a port chosen there and bound a little later can be gone by then.
private let ephemeralPorts: ClosedRange<Int> = {
    let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
    let bounds = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
    return bounds.count == 2 && bounds[0] <= bounds[1] ? bounds[0]...bounds[1] : 32_768...60_999
}()

/// Free loopback ports below the ephemeral range: free when checked (bound, then released), and never
/// one handed out before in this process.
public func freePorts(_ count: Int) -> [Int] {
    let low = 10_000
    let high = max(low + 1_000, ephemeralPorts.lowerBound - 1)
    var ports: [Int] = []
    var generator = SystemRandomNumberGenerator()
    while ports.count < count {
        let port = Int.random(in: low...high, using: &generator)
        guard !ephemeralPorts.contains(port), isFree(port),
            handedOutPorts.withLock({ $0.insert(port).inserted })
        else { continue }
        ports.append(port)
    }
    return ports
}

/// Whether a TCP socket can bind 127.0.0.1:`port` now.
private func isFree(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
}

/// A loopback TCP endpoint on a free port, for a bus socket.
public func freeEndpoint() -> String { "tcp://127.0.0.1:\(freePorts(1)[0])" }
