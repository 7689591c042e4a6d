import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension SystemTests {
    @Test("state-changing admin routes want the operator token: refused calls get 401, are logged with the caller and counted; the CLI sends the token")
    func operatorToken() async throws {
        try await withSystem([:]) { system in
            try await system.waitHealthy()
            let supervisor = "http://127.0.0.1:\(system.supervisorPort)"
            func post(_ url: String, token: String?) async throws -> Int {
                var request = URLRequest(url: URL(string: url)!)
                request.httpMethod = "POST"
                request.httpBody = Data("{}".utf8)
                if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
                let (_, response) = try await URLSession.shared.data(for: request)
                return (response as? HTTPURLResponse)?.statusCode ?? 0
            }
            let executor = try #require(await system.entry("executor")?["pid"] as? Int)

            #expect(try await post("\(supervisor)/restart/executor", token: nil) == 401)
            #expect(try await post("\(supervisor)/down", token: "not-the-operator-token-at-all") == 401)
            let (metrics, _) = try await URLSession.shared.data(from: URL(string: "\(supervisor)/metrics")!)
            #expect(String(decoding: metrics, as: UTF8.self).contains("breakwater_admin_refused_total 2"))
            #expect(await system.entry("executor")?["pid"] as? Int == executor, "nothing restarted")

            let (status, _) = try await system.adminPost(
                "risk-gate", "/kill-switch", body: #"{"engaged": true}"#, token: "not-the-operator-token-at-all")
            #expect(status == 401)
            #expect(try await system.adminGet("risk-gate", "/metrics").contains("breakwater_admin_refused_total 1"))
            let refusal = system.serviceLog("risk-gate").split(separator: "\n").first { $0.contains("operator call refused") }
            #expect(refusal?.contains("127.0.0.1:") == true, "\(refusal ?? "no refusal logged")")

            // `breakwater restart` reads the token from the same config and is obeyed.
            let (code, output) = try await system.command(["restart", "executor"])
            #expect(code == 0, "\(output)")
            try await system.waitUntil("the executor restarted", timeout: .seconds(45)) {
                guard let entry = await system.entry("executor") else { return false }
                return entry["pid"] as? Int != executor && entry["health"] as? String == "ok"
            }
            #expect(system.supervisorLog.contains("operator call refused"))
        }
    }
}
