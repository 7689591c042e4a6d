import Foundation
import Hummingbird
import Logging
import ServiceKit
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The supervisor's loopback HTTP port: how `status`, `restart` and `down` reach a running `up`, and
/// the report page (`/`) an operator opens in a browser. `restart` and `down` want the operator token.
enum SupervisorAdmin {
    static func make(
        address: HostPort, supervisor: Supervisor, token: String?, reportPage: ReportPageServer, logger: Logger,
        down: @escaping @Sendable () -> Void
    ) -> some ApplicationProtocol {
        let router = Router(context: AdminRequestContext.self)
        let guardian = OperatorGuard(token: token, metrics: supervisor.metrics, logger: logger)
        // Read-only, so no token: the page is built off the request threads and at most every few seconds.
        router.get("/") { _, _ in
            let (status, html) = await reportPage.page()
            return Response(
                status: .init(code: status), headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: html)))
        }
        router.get("/status") { _, _ in
            AdminServer.json(supervisor.statusDocument())
        }
        router.get("/metrics") { _, _ in
            AdminServer.text(supervisor.metricsText(), status: .ok)
        }
        router.post("/restart/{service}") { request, context in
            if let refusal = guardian.refusal(request, caller: context.caller) { return refusal }
            let service = try context.parameters.require("service")
            guard supervisor.restart(service) else {
                let known = supervisor.specs.map(\.name).joined(separator: ", ")
                return AdminServer.json(
                    ["message": "unknown service \(service); known: \(known)"], status: .notFound)
            }
            supervisor.say("restart of \(service) requested")
            return AdminServer.json(["message": "restarting \(service)"])
        }
        router.post("/down") { request, context in
            if let refusal = guardian.refusal(request, caller: context.caller) { return refusal }
            down()
            return AdminServer.json(["message": "stopping"])
        }
        return Application(
            router: router, configuration: .init(address: .hostname(address.host, port: address.port)),
            logger: logger)
    }
}

/// Talks to a running supervisor.
struct SupervisorClient {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let admin: HostPort
    var token: String?

    func get(_ path: String) async throws -> [String: Any] {
        try await send("GET", path)
    }

    func post(_ path: String) async throws -> [String: Any] {
        try await send("POST", path)
    }

    private func send(_ method: String, _ path: String) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: admin.baseURL + path)!)
        request.httpMethod = method
        request.timeoutInterval = 3
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let document = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
            throw Failure(description: document["message"] as? String ?? "HTTP \(http.statusCode)")
        }
        return document
    }
}
