import Foundation
import Hummingbird
import Logging
import Metrics

/// The operator token every state-changing admin route asks for: `admin.token`
/// (`BREAKWATER_ADMIN_TOKEN`), or, for a system `breakwater up` runs, one made on its first start
/// and kept owner-only in `var/keys/admin-token`, which the supervisor hands to its children and the
/// CLI reads.
public enum OperatorToken {
    public static let variable = "BREAKWATER_ADMIN_TOKEN"

    /// The configured token; shorter than 16 characters is a config problem.
    public static func read(_ settings: inout Settings) -> String? {
        let token = settings.optionalString("admin.token")
        if let token, token.count < 16 {
            settings.problem("admin.token (\(variable)) must be at least 16 characters")
        }
        return token
    }

    public static func file(varDir: String) -> String { "\(varDir)/keys/admin-token" }

    /// The token kept under `varDir`, if one was made.
    public static func stored(varDir: String) -> String? {
        guard let data = FileManager.default.contents(atPath: file(varDir: varDir)) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.count >= 16 ? text : nil
    }

    /// The kept token, or a new random one written owner-only when there is none.
    public static func ensureStored(varDir: String) throws -> (token: String, created: Bool) {
        if let token = stored(varDir: varDir) { return (token, false) }
        var generator = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let path = file(varDir: varDir)
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        guard FileManager.default.createFile(atPath: path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
        else { throw OperatorTokenError(description: "cannot write the operator token to \(path)") }
        return (token, true)
    }

    /// Constant-time comparison of a bearer token; an unset expected token refuses all.
    public static func matches(_ request: Request, token expected: String?) -> Bool {
        guard let expected, !expected.isEmpty,
            let header = request.headers[.authorization], header.hasPrefix("Bearer ")
        else { return false }
        let given = Array(header.dropFirst(7).utf8)
        let wanted = Array(expected.utf8)
        guard given.count == wanted.count else { return false }
        return zip(given, wanted).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

public struct OperatorTokenError: Error, CustomStringConvertible {
    public var description: String
}

/// Guards the operator routes of one admin port: a call without the token gets 401, is logged with
/// the caller's address and counted (`breakwater_admin_refused_total`).
public struct OperatorGuard: Sendable {
    public let token: String?
    private let refusals: Counter
    private let logger: Logger

    public init(token: String?, metrics: MetricsFactory, logger: Logger) {
        self.token = token
        self.logger = logger
        refusals = Counter(label: "breakwater_admin_refused_total", factory: metrics)
    }

    /// nil when the call carries the token; the 401 answer otherwise.
    public func refusal(_ request: Request, caller: String) -> Response? {
        guard !OperatorToken.matches(request, token: token) else { return nil }
        refusals.increment()
        logger.warning(
            "operator call refused: bearer token missing or wrong",
            metadata: ["path": "\(request.uri.path)", "caller": "\(caller)"])
        return AdminServer.json(["error": "bearer token missing or wrong"], status: .unauthorized)
    }
}
