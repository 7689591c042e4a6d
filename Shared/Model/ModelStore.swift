import Foundation
import Market
import Schema

/// Model versions on disk: `<directory>/<SYMBOL>/<version>/{model.json, metadata.json}`. A version's
/// name is its training time (`20261206T093000123Z`), so names sort in time order; a directory whose
/// name starts with a dot is a training run still being written and is never served.
public struct ModelStore: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public func directory(for symbol: String) -> String { "\(directory)/\(symbol)" }

    /// The symbol's versions, oldest first; none when the folder does not exist yet.
    public func versions(of symbol: String) throws -> [String] {
        try Self.versions(in: directory(for: symbol))
    }

    static func versions(in symbolDirectory: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: symbolDirectory, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { throw ModelStoreError("\(symbolDirectory) is not a directory") }
        return try FileManager.default.contentsOfDirectory(atPath: symbolDirectory)
            .filter { !$0.hasPrefix(".") }
            .filter { name in
                var folder: ObjCBool = false
                return FileManager.default.fileExists(atPath: "\(symbolDirectory)/\(name)", isDirectory: &folder)
                    && folder.boolValue
            }
            .sorted()
    }

    /// The newest version that loads, and every newer one that did not with why: a broken newest
    /// version never hides the one before it.
    public func newestServable(symbol: String) throws -> (model: ServedModel?, refused: [(version: String, reason: String)]) {
        var refused: [(String, String)] = []
        for version in try versions(of: symbol).reversed() {
            do {
                return (try ServedModel.load(directory: "\(directory(for: symbol))/\(version)", version: version), refused)
            } catch {
                refused.append((version, "\(error)"))
            }
        }
        return (nil, refused)
    }

    /// Deletes all but the newest `keep` versions; returns the deleted names.
    public static func prune(symbolDirectory: String, keep: Int) throws -> [String] {
        let all = try versions(in: symbolDirectory)
        let old = all.dropLast(max(keep, 1))
        for version in old { try FileManager.default.removeItem(atPath: "\(symbolDirectory)/\(version)") }
        return Array(old)
    }

    public static func versionName(for date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = millis / 1000
        let (year, month, day) = civil(days: Int(seconds.floorDivided(by: 86_400)))
        let second = Int(seconds - seconds.floorDivided(by: 86_400) * 86_400)
        return String(
            format: "%04d%02d%02dT%02d%02d%02d%03dZ", year, month, day, second / 3600, second / 60 % 60, second % 60,
            Int(millis % 1000))
    }

    /// ISO 8601 in UTC, whole seconds: what `metadata.json` carries.
    public static func timestamp(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let (year, month, day) = civil(days: Int(seconds.floorDivided(by: 86_400)))
        let second = Int(seconds - seconds.floorDivided(by: 86_400) * 86_400)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02dZ", year, month, day, second / 3600, second / 60 % 60, second % 60)
    }

    /// The civil date of a day count since 1970-01-01 (H. Hinnant's algorithm).
    static func civil(days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}

public struct ModelStoreError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A model version the signal generator may serve: its trees, its metadata, and proof that both
/// speak of the feature set this build computes.
public struct ServedModel: Sendable {
    public let version: String
    public let directory: String
    public let model: XGBoostModel
    public let metadata: ModelMetadata
    public let trainedAt: EpochNanos

    /// Refuses a directory without metadata, a model for other features or another feature-set
    /// version, or classes other than sell/hold/buy.
    public static func load(directory: String, version: String) throws -> ServedModel {
        let bundle = try ModelBundle.load(path: directory)
        guard let metadata = bundle.metadata else { throw ModelStoreError("\(directory): metadata.json missing") }
        guard metadata.features == BarFeatures.names else {
            throw ModelStoreError(
                "\(directory): trained on features \(metadata.features.joined(separator: ",")); this build computes \(BarFeatures.names.joined(separator: ","))")
        }
        guard metadata.featureSetVersion == BarFeatures.version else {
            throw ModelStoreError(
                "\(directory): feature set version \(metadata.featureSetVersion); this build computes version \(BarFeatures.version)")
        }
        guard metadata.classes == TradeClass.names else {
            throw ModelStoreError(
                "\(directory): classes \(metadata.classes.joined(separator: ",")); a trading model predicts \(TradeClass.names.joined(separator: ","))")
        }
        return ServedModel(
            version: version, directory: directory, model: bundle.model, metadata: metadata,
            trainedAt: Int64(metadata.trainedAt.timeIntervalSince1970 * 1e9))
    }

    /// How old the model is at `now`.
    public func ageNanos(at now: EpochNanos) -> Int64 { now - trainedAt }
}
