/// Rows of model input read from CSV text whose header names the features. Columns are matched to the
/// model's features by name, in any order; extra columns are ignored. An empty cell, `nan` or `NaN` is a
/// missing value (NaN). Plain CSV: no quoted commas.
public struct FeatureTable: Sendable, Equatable {
    /// One row per data line, in the model's feature order.
    public var rows: [[Double]]

    public init(rows: [[Double]]) { self.rows = rows }

    /// `source` names the input in errors (a path).
    public init(csv text: String, features: [String], source: String = "input") throws(ModelError) {
        var lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
            .map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
            .enumerated().filter { !$0.element.allSatisfy(\.isWhitespace) }
            .makeIterator()
        guard let (_, headerLine) = lines.next() else { throw .emptyInput(source: source) }
        let header = Self.cells(headerLine)
        var columnOf: [String: Int] = [:]
        for (column, name) in header.enumerated() where columnOf[name] == nil { columnOf[name] = column }
        let missing = features.filter { columnOf[$0] == nil }
        guard missing.isEmpty else { throw .missingFeatures(source: source, names: missing) }
        let columns = features.map { columnOf[$0]! }

        rows = []
        while let (offset, line) = lines.next() {
            let cells = Self.cells(line)
            guard cells.count == header.count else {
                throw .badRow(
                    source: source, line: offset + 1, reason: "\(cells.count) cells, the header has \(header.count)")
            }
            var row: [Double] = []
            row.reserveCapacity(columns.count)
            for (feature, column) in zip(features, columns) {
                let cell = cells[column]
                if cell.isEmpty || cell.lowercased() == "nan" {
                    row.append(.nan)
                } else if let value = Double(cell) {
                    row.append(value)
                } else {
                    throw .badCell(source: source, line: offset + 1, column: feature, value: cell)
                }
            }
            rows.append(row)
        }
    }

    static func cells(_ line: Substring) -> [String] {
        line.split(separator: ",", omittingEmptySubsequences: false).map { raw in
            var cell = raw.trimmingWhitespace()
            if cell.count >= 2, cell.hasPrefix("\""), cell.hasSuffix("\"") { cell = cell.dropFirst().dropLast() }
            return String(cell)
        }
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var text = self
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}
