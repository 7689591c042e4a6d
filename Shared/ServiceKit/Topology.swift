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
        public var bus: String
        public var admin: HostPort
    }

    public var entries: [ServiceName: Entry]

    public func bus(_ service: ServiceName) -> String { entries[service]!.bus }
    public func admin(_ service: ServiceName) -> HostPort { entries[service]!.admin }

    /// `endpoints.<service>.bus` and `endpoints.<service>.admin`; defaults on loopback
    /// at 7101… (bus) and 7201… (admin).
    public static func read(_ settings: inout Settings) -> Topology {
        var entries: [ServiceName: Entry] = [:]
        for service in ServiceName.allCases {
            let base = "endpoints.\(service.configKey)"
            entries[service] = Entry(
                bus: settings.endpoint("\(base).bus", default: "tcp://127.0.0.1:\(7100 + service.defaultOffset)"),
                admin: settings.hostPort(
                    "\(base).admin", default: HostPort(host: "127.0.0.1", port: 7200 + service.defaultOffset)))
        }
        let topology = Topology(entries: entries)
        var seen: [String: ServiceName] = [:]
        for service in ServiceName.allCases {
            for address in [topology.bus(service), "tcp://" + topology.admin(service).description] {
                if let other = seen[address] {
                    settings.problem("endpoints: \(service.rawValue) and \(other.rawValue) both use \(address)")
                }
                seen[address] = service
            }
        }
        return topology
    }
}
