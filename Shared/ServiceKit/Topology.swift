/// The five services of the pipeline, by the names they carry on the bus.
public enum ServiceName: String, CaseIterable, Sendable, Codable {
    case feedHandler = "feed-handler"
    case signalGenerator = "signal-generator"
    case riskGate = "risk-gate"
    case executor = "executor"
    case traceRecorder = "trace-recorder"

    /// The key of this service's section in the config file.
    public var configKey: String {
        switch self {
        case .feedHandler: "feedHandler"
        case .signalGenerator: "signalGenerator"
        case .riskGate: "riskGate"
        case .executor: "executor"
        case .traceRecorder: "traceRecorder"
        }
    }

    var defaultOffset: Int { ServiceName.allCases.firstIndex(of: self)! + 1 }
}

/// Where each service publishes and serves its admin port: the endpoint table.
public struct Topology: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// Where subscribers connect.
        public var bus: String
        /// Where the publisher binds; differs from `bus` in containers (tcp://0.0.0.0:…).
        public var bind: String
        public var admin: HostPort
    }

    public var entries: [ServiceName: Entry]

    public func bus(_ service: ServiceName) -> String { entries[service]!.bus }
    public func bind(_ service: ServiceName) -> String { entries[service]!.bind }
    public func admin(_ service: ServiceName) -> HostPort { entries[service]!.admin }

    /// `endpoints.<service>.bus`, `.bind` (default: the bus address) and `.admin`; defaults on loopback
    /// at 7101… (bus) and 7201… (admin).
    public static func read(_ settings: inout Settings) -> Topology {
        var entries: [ServiceName: Entry] = [:]
        for service in ServiceName.allCases {
            let base = "endpoints.\(service.configKey)"
            let bus = settings.endpoint("\(base).bus", default: "tcp://127.0.0.1:\(7100 + service.defaultOffset)")
            entries[service] = Entry(
                bus: bus,
                bind: settings.endpoint("\(base).bind", default: bus),
                admin: settings.hostPort(
                    "\(base).admin", default: HostPort(host: "127.0.0.1", port: 7200 + service.defaultOffset)))
        }
        let topology = Topology(entries: entries)
        var seen: [(address: HostPort, service: ServiceName)] = []
        for service in ServiceName.allCases {
            let bus = HostPort(String(topology.bind(service).dropFirst(6)))
            for address in [bus, topology.admin(service)].compactMap({ $0 }) {
                if let other = seen.first(where: { $0.address.collides(with: address) }) {
                    settings.problem(
                        "endpoints: \(service.rawValue) and \(other.service.rawValue) both use port \(address.port) (\(address))")
                }
                seen.append((address, service))
            }
        }
        return topology
    }
}
