import Foundation
import Hummingbird
import Logging
import Prometheus

/// The admin HTTP port: `/health/live`, `/health/ready`, `/metrics`, `/status`, plus
/// whatever operator routes a service adds.
public enum AdminServer {
    public typealias Routes = @Sendable (Router<AdminRequestContext>) -> Void

    public static func make(
        address: HostPort, status: ServiceStatus, registry: PrometheusCollectorRegistry, clock: WallClock,
        logger: Logger, routes: Routes = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router(context: AdminRequestContext.self)
        router.get("/health/live") { _, _ in
            text("live\n")
        }
        router.get("/health/ready") { _, _ in
            if status.isReady {
                return json(["ready": true, "health": status.health.rawValue, "degraded": status.degradedReasons])
            }
            return json(["ready": false, "health": status.health.rawValue], status: .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("/status") { _, _ in
            json(status.statusDocument(now: clock.now()))
        }
        routes(router)
        return Application(
            router: router,
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: status.service),
            logger: logger)
    }

    public static func text(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    public static func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The admin port's request context: the basic one plus the caller's address, which operator
/// routes record.
public struct AdminRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// "127.0.0.1:53312", or "unknown".
    public let caller: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        let address = source.channel.remoteAddress
        if let ip = address?.ipAddress, let port = address?.port {
            caller = "\(ip):\(port)"
        } else {
            caller = address.map { "\($0)" } ?? "unknown"
        }
    }
}
