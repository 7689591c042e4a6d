import ArgumentParser
import Foundation
import Model

/// `breakwater model …`: the operator's view of XGBoost models.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Train, inspect and evaluate the XGBoost models the model strategy serves.",
        subcommands: [Train.self, Show.self, Predict.self])
}

extension ModelCommand {
    /// Class probabilities for every row of a CSV, as the signal generator would compute them.
    struct Predict: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print class probabilities for each row of a CSV of features.",
            discussion: """
                The CSV's header names the features; columns are matched to the model's features by name, extra \
                columns are ignored. An empty cell, nan or NaN is a missing value. Prints one CSV row of class \
                probabilities per input row, header = the class names (from metadata.json; 0, 1, … for a bare \
                model file).
                """)

        @Option(help: "A model directory (model.json + metadata.json) or an XGBoost JSON model file.")
        var model: String

        @Option(help: "CSV file of features, one row per prediction.")
        var input: String

        func run() throws {
            let bundle: ModelBundle
            let table: FeatureTable
            do {
                bundle = try ModelBundle.load(path: model)
                let text: String
                do {
                    text = try String(contentsOfFile: input, encoding: .utf8)
                } catch {
                    throw ModelError.unreadable(path: input, reason: "\((error as NSError).localizedDescription)")
                }
                table = try FeatureTable(csv: text, features: bundle.featureNames, source: input)
            } catch let error as ModelError {
                printError("breakwater model predict: \(error)")
                throw ExitCode.failure
            }
            var output = bundle.classNames.joined(separator: ",") + "\n"
            var probabilities = [Double](repeating: 0, count: bundle.model.classCount)
            for row in table.rows {
                try bundle.model.probabilities(row, into: &probabilities)
                // Shortest round-trip digits: the exact value the model computed.
                output += probabilities.map { "\($0)" }.joined(separator: ",") + "\n"
            }
            FileHandle.standardOutput.write(Data(output.utf8))
        }
    }
}
