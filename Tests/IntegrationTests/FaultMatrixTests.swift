import Foundation
import Schema
import Storage
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
import TestSupport
#endif

/// The fault matrix (FaultMatrix.swift): one fault per service under `make test`, every service ×
/// every fault under `make faults` (`FAULT_MATRIX=full`).
@Suite(.serialized) struct FaultMatrixTests {
    @Test(
        "fault matrix: SIGKILL / SIGSTOP each service while trading; nothing sent twice, every fill recorded, positions protected",
        .enabled(if: Chroma.installed, "needs ChromaDB in .venv: run `make test`"))
    func faultMatrix() async throws {
        let started = ContinuousClock.now
        let chromaURL = "http://127.0.0.1:\(freePorts(1)[0])"
        var cells: [FaultCell] = []
        let system = try await withSystem(FaultMatrix.overrides(chromaURL: chromaURL)) { system in
            var matrix = FaultMatrix(system: system)
            try await matrix.settle()
            for (service, fault) in FaultMatrix.selected {
                let cell = await matrix.run(service, fault)
                cells.append(cell)
                print("[fault matrix] \(service) \(fault.rawValue): \(cell.passed ? "pass" : "FAIL \(cell.violations)")")
            }
        }
        let ledger = try LedgerStore(path: system.ledgerDatabase)
        let trading = "trading over the run: \(try ledger.orders().count) orders, \(try ledger.fills().count) fills"
        print("\nFault matrix\n" + FaultMatrix.table(cells, took: ContinuousClock.now - started, trading: trading))
        for cell in cells where !cell.passed {
            let text = "\(cell.service) \(cell.fault.rawValue): \(cell.violations.joined(separator: "; "))"
            Issue.record(Comment(rawValue: text))
        }
        #expect(cells.count == FaultMatrix.selected.count)
    }
}
