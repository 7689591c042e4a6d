import Foundation
import Logging

/// One JSON object per line on standard error, so that logs can be grepped and parsed.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let write: @Sendable (String) -> Void
    private let clock: WallClock

    public init(
        label: String, level: Logger.Level = .info, clock: WallClock = .system,
        write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError
    ) {
        self.label = label
        self.logLevel = level
        self.clock = clock
        self.write = write
    }

    public static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data(line.utf8))
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: Any] = [
            "ts": Self.timestamp(clock.now()),
            "level": event.level.rawValue,
            "logger": label,
            "msg": event.message.description,
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        // Metadata never replaces ts, level, logger or msg; an error's location goes under "loc".
        for (key, value) in merged where fields[key] == nil {
            fields[key] = Self.plain(value)
        }
        if event.level >= .error && fields["loc"] == nil {
            fields["loc"] = "\(event.file):\(event.line)"
        }
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return }
        write(String(decoding: data, as: UTF8.self) + "\n")
    }

    static func plain(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let value): value.description
        case .array(let values): values.map(plain)
        case .dictionary(let values): values.mapValues(plain)
        }
    }

    /// UTC with milliseconds, truncated from the integer nanoseconds (a Double would round).
    static func timestamp(_ nanos: Int64) -> String {
        let seconds = nanos >= 0 ? nanos / 1_000_000_000 : (nanos - 999_999_999) / 1_000_000_000
        let millis = (nanos - seconds * 1_000_000_000) / 1_000_000
        let date = Date(timeIntervalSince1970: Double(seconds))
        let whole = date.formatted(
            .iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false)
                .timeSeparator(.colon))
        let padded = String(millis + 1000).dropFirst()
        return "\(whole).\(padded)Z"
    }
}
